//! The right-hand side of a profile's `flows.hires.fields`: where an HRIS field's value comes
//! from. Kept apart from the mapping so the profile schema can name it without a circle.

use serde::{Deserialize, Serialize};

/// Where an HRIS field's value comes from (the right-hand side of `flows.hires.fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HireSource {
    #[serde(rename = "candidate.first_name")]
    FirstName,
    #[serde(rename = "candidate.middle_name")]
    MiddleName,
    #[serde(rename = "candidate.last_name")]
    LastName,
    #[serde(rename = "candidate.name")]
    FullName,
    #[serde(rename = "candidate.email")]
    Email,
    #[serde(rename = "candidate.phone")]
    Phone,
    #[serde(rename = "posting.id")]
    PostingId,
    #[serde(rename = "posting.title")]
    PostingTitle,
    #[serde(rename = "posting.department")]
    Department,
    #[serde(rename = "posting.team")]
    Team,
    #[serde(rename = "posting.location")]
    Location,
    /// Lever's "work type".
    #[serde(rename = "posting.commitment")]
    Commitment,
    #[serde(rename = "hiring_manager.name")]
    HiringManagerName,
    #[serde(rename = "hiring_manager.email")]
    HiringManagerEmail,
    /// The offer field `anticipated_start_date`, as `YYYY-MM-DD`.
    #[serde(rename = "offer.anticipated_start_date")]
    StartDate,
    #[serde(rename = "opportunity.id")]
    OpportunityId,
    #[serde(rename = "contact.id")]
    ContactId,
    /// When the candidate was archived as hired, RFC 3339 UTC.
    #[serde(rename = "hired_at")]
    HiredAt,
}
