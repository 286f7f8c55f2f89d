//! A hired candidate → the partner's HRIS record, through the profile's field mapping. Pure.
//!
//! - [`map_hire`]: the profile's `flows.hires.fields` applied to what the hub read from Lever
//!   ([`HireFacts`]); a field Lever does not have stays null and is listed in
//!   [`HireMapping::missing`], never guessed.
//! - [`name`]: Lever's one name field split into first, middle and last name.
//! - [`offer`]: which offer gives the start date (the latest signed one, else the latest sent).
//! - [`record`]: the hub's record of one hire, and when it is (re)sent to the partner.
//! - [`source`]: the names a profile maps HRIS fields from (a leaf, so profiles can use it).
//! - [`window`]: from when an import lists hires (the watermark, with an overlap).

pub mod name;
pub mod offer;
pub mod record;
pub mod source;
pub mod window;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use name::{NameParts, split_name};
pub use source::HireSource;

use super::profile::HiresFlow;
use super::schedule::{TzName, local_date};

/// What the hub read from Lever about one hire (opportunity, contact, posting, offer, users).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HireFacts {
    pub opportunity_id: String,
    pub contact_id: Option<String>,
    /// The full name as Lever holds it (Lever keeps one name field).
    pub name: Option<String>,
    /// Name parts when known from elsewhere; used before splitting `name`.
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub posting_id: Option<String>,
    pub posting_title: Option<String>,
    pub department: Option<String>,
    pub team: Option<String>,
    pub location: Option<String>,
    pub commitment: Option<String>,
    pub hiring_manager_name: Option<String>,
    pub hiring_manager_email: Option<String>,
    pub hiring_manager_id: Option<String>,
    /// The offer the start date comes from ([`offer::start_offer`]).
    pub offer_id: Option<String>,
    /// That offer's status: `signed`, or without a signed offer the status that let it count.
    pub offer_status: Option<offer::StartOfferStatus>,
    /// Offer `anticipated_start_date` (ms since the epoch).
    pub anticipated_start_date_ms: Option<i64>,
    /// The `hired`-type archive reason the opportunity was archived with.
    pub archive_reason_id: Option<String>,
    pub hired_at_ms: Option<i64>,
}

/// The record handed to the HRIS: field name → value (`None` = null).
pub type HrisRecord = BTreeMap<String, Option<String>>;

/// A mapped hire: every field of the profile, and the names of those Lever had no value for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HireMapping {
    pub fields: HrisRecord,
    /// HRIS field names whose value is null, in the order of `fields`.
    pub missing: Vec<String>,
}

impl HireMapping {
    pub fn of(flow: &HiresFlow, connection_tz: Option<&TzName>, facts: &HireFacts) -> Self {
        let fields = map_hire(flow, connection_tz, facts);
        let missing = fields.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.clone()).collect();
        Self { fields, missing }
    }
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Maps a hire with the profile's field mapping. The start date is the offer's timestamp read as a
/// calendar date in `start_date_tz` — the connection's time zone when the customer set one,
/// else the profile's `flows.hires.start_date_timezone` (UTC unless the profile says otherwise).
/// Missing values stay null.
pub fn map_hire(flow: &HiresFlow, connection_tz: Option<&TzName>, facts: &HireFacts) -> HrisRecord {
    let tz = connection_tz.unwrap_or(&flow.start_date_timezone);
    let known_parts = facts.first_name.is_some() || facts.last_name.is_some();
    let parts = if known_parts {
        NameParts { first: clean(&facts.first_name), middle: clean(&facts.middle_name), last: clean(&facts.last_name) }
    } else {
        split_name(facts.name.as_deref().unwrap_or(""))
    };
    let full = clean(&facts.name).or_else(|| {
        let joined = [&parts.first, &parts.middle, &parts.last].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    let value = |src: HireSource| -> Option<String> {
        match src {
            HireSource::FirstName => parts.first.clone(),
            HireSource::MiddleName => parts.middle.clone(),
            HireSource::LastName => parts.last.clone(),
            HireSource::FullName => full.clone(),
            HireSource::Email => facts.emails.iter().map(|e| e.trim()).find(|e| !e.is_empty()).map(str::to_string),
            HireSource::Phone => facts.phones.iter().map(|e| e.trim()).find(|e| !e.is_empty()).map(str::to_string),
            HireSource::PostingId => clean(&facts.posting_id),
            HireSource::PostingTitle => clean(&facts.posting_title),
            HireSource::Department => clean(&facts.department),
            HireSource::Team => clean(&facts.team),
            HireSource::Location => clean(&facts.location),
            HireSource::Commitment => clean(&facts.commitment),
            HireSource::HiringManagerName => clean(&facts.hiring_manager_name),
            HireSource::HiringManagerEmail => clean(&facts.hiring_manager_email),
            HireSource::StartDate => facts.anticipated_start_date_ms.and_then(|ms| local_date(ms, tz)),
            HireSource::OpportunityId => clean(&Some(facts.opportunity_id.clone())),
            HireSource::ContactId => clean(&facts.contact_id),
            HireSource::HiredAt => {
                facts.hired_at_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            }
        }
    };
    flow.fields.iter().map(|(target, src)| (target.clone(), value(*src))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(tz: &str) -> HiresFlow {
        let mut fields = BTreeMap::new();
        for (k, v) in [
            ("First Name", HireSource::FirstName),
            ("Middle Name", HireSource::MiddleName),
            ("Last Name", HireSource::LastName),
            ("Email", HireSource::Email),
            ("Position", HireSource::PostingTitle),
            ("Department", HireSource::Department),
            ("Location", HireSource::Location),
            ("Employment Type", HireSource::Commitment),
            ("Manager", HireSource::HiringManagerName),
            ("Start Date", HireSource::StartDate),
            ("Employee Number", HireSource::OpportunityId),
        ] {
            fields.insert(k.to_string(), v);
        }
        HiresFlow {
            triggers: vec![super::super::profile::HireTrigger::OnDemand],
            daily_at: None,
            timezone: None,
            start_date_timezone: TzName::parse(tz).unwrap(),
            fields,
        }
    }

    fn facts() -> HireFacts {
        HireFacts {
            opportunity_id: "5a1f7c2e-8b3d-4f6a-9c0e-1d2b3c4d5e6f".into(),
            name: Some("Ada  Maria King Lovelace".into()),
            emails: vec!["ada@example.com".into(), "ada2@example.com".into()],
            posting_title: Some("Senior Backend Engineer".into()),
            department: Some("Engineering".into()),
            location: Some("Berlin".into()),
            commitment: Some("Full-time".into()),
            hiring_manager_name: Some("Grace Hopper".into()),
            // 2026-03-02T03:00:00Z: still March 1st in Los Angeles.
            anticipated_start_date_ms: Some(1_772_420_400_000),
            ..Default::default()
        }
    }

    #[test]
    fn maps_the_eleven_fields() {
        let r = map_hire(&flow("UTC"), None, &facts());
        let get = |k: &str| r.get(k).cloned().flatten();
        assert_eq!(r.len(), 11);
        assert_eq!(get("First Name").as_deref(), Some("Ada"));
        assert_eq!(get("Middle Name").as_deref(), Some("Maria King"));
        assert_eq!(get("Last Name").as_deref(), Some("Lovelace"));
        assert_eq!(get("Email").as_deref(), Some("ada@example.com"));
        assert_eq!(get("Position").as_deref(), Some("Senior Backend Engineer"));
        assert_eq!(get("Employment Type").as_deref(), Some("Full-time"));
        assert_eq!(get("Manager").as_deref(), Some("Grace Hopper"));
        assert_eq!(get("Start Date").as_deref(), Some("2026-03-02"));
        assert_eq!(get("Employee Number").as_deref(), Some("5a1f7c2e-8b3d-4f6a-9c0e-1d2b3c4d5e6f"));
    }

    #[test]
    fn start_date_follows_the_connection_time_zone() {
        let la = TzName::parse("America/Los_Angeles").unwrap();
        let r = map_hire(&flow("UTC"), Some(&la), &facts());
        assert_eq!(r["Start Date"].as_deref(), Some("2026-03-01"));
        let r = map_hire(&flow("America/Los_Angeles"), None, &facts());
        assert_eq!(r["Start Date"].as_deref(), Some("2026-03-01"));
    }

    #[test]
    fn missing_optional_fields_stay_null() {
        let f = HireFacts { opportunity_id: "opp".into(), name: Some("Cher".into()), ..Default::default() };
        let m = HireMapping::of(&flow("UTC"), None, &f);
        assert_eq!(
            m.missing,
            ["Department", "Email", "Employment Type", "Last Name", "Location", "Manager", "Middle Name", "Position", "Start Date"],
            "listed, in field order"
        );
        let r = m.fields;
        assert_eq!(r.len(), 11, "every mapped field is present, null when unknown");
        assert_eq!(r["First Name"].as_deref(), Some("Cher"));
        assert_eq!(r["Last Name"], None);
        assert_eq!(r["Middle Name"], None);
        assert_eq!(r["Start Date"], None);
        assert_eq!(r["Manager"], None);
        assert_eq!(r["Email"], None);
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["Start Date"].is_null());
    }

    #[test]
    fn known_name_parts_win_over_splitting() {
        let mut f = facts();
        f.first_name = Some("Ada".into());
        f.last_name = Some("King-Lovelace".into());
        let r = map_hire(&flow("UTC"), None, &f);
        assert_eq!(r["Last Name"].as_deref(), Some("King-Lovelace"));
        assert_eq!(r["Middle Name"], None);
    }

    #[test]
    fn hired_at_is_utc_rfc3339() {
        let mut fl = flow("UTC");
        fl.fields.insert("Hired".into(), HireSource::HiredAt);
        let mut f = facts();
        f.hired_at_ms = Some(1_772_420_400_123);
        assert_eq!(map_hire(&fl, None, &f)["Hired"].as_deref(), Some("2026-03-02T03:00:00Z"));
    }
}
