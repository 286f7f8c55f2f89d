//! Postings (jobs).

use serde::{Deserialize, Serialize};

use super::{User, string_enum};
use crate::lever::wire::{Expandable, HasId, Millis, null_default};

string_enum!(
    /// `state` of a posting. `internal` is shown as "unlisted" in Lever's UI.
    PostingState {
        Published = "published",
        Internal = "internal",
        Closed = "closed",
        Draft = "draft",
        Pending = "pending",
        Rejected = "rejected",
    }
);

string_enum!(
    /// One of a published posting's `distributionChannels`.
    DistributionChannel { Public = "public", Internal = "internal" }
);

string_enum!(
    /// `workplaceType`; the public postings API spells on-site with a hyphen, accepted too.
    WorkplaceType { Unspecified = "unspecified", Onsite = "onsite" | "on-site", Remote = "remote", Hybrid = "hybrid" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
    pub state: Option<PostingState>,
    /// `null` on the wire for internal/draft postings: reads as empty.
    #[serde(default, deserialize_with = "null_default")]
    pub distribution_channels: Vec<DistributionChannel>,
    pub confidentiality: Option<String>,
    pub user: Option<Expandable<User>>,
    pub owner: Option<Expandable<User>>,
    pub hiring_manager: Option<Expandable<User>>,
    #[serde(default, deserialize_with = "null_default")]
    pub categories: PostingCategories,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub content: PostingContent,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub followers: Vec<Expandable<User>>,
    pub req_code: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub requisition_codes: Vec<String>,
    pub salary_description: Option<String>,
    pub salary_description_html: Option<String>,
    pub salary_range: Option<SalaryRange>,
    /// `null` for drafts.
    pub urls: Option<PostingUrls>,
    pub workplace_type: Option<WorkplaceType>,
    pub created_at: Option<Millis>,
    pub updated_at: Option<Millis>,
}

impl HasId for Posting {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostingCategories {
    pub team: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub commitment: Option<String>,
    pub level: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub all_locations: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostingContent {
    pub description: Option<String>,
    pub description_html: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub lists: Vec<PostingList>,
    pub closing: Option<String>,
    pub closing_html: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingList {
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
    /// `<li>` HTML.
    #[serde(default, deserialize_with = "null_default")]
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalaryRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: Option<String>,
    pub interval: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingUrls {
    pub list: Option<String>,
    pub show: Option<String>,
    pub apply: Option<String>,
}

/// An entry of `GET /postings/deleted` (the recordings only show empty lists; shape tolerant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedPosting {
    pub id: String,
    pub deleted_at: Option<Millis>,
}

/// `expand=` values of `GET /postings/:id`: user references inlined as user objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostingExpand {
    User,
    Owner,
    HiringManager,
    Followers,
}

impl PostingExpand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Owner => "owner",
            Self::HiringManager => "hiringManager",
            Self::Followers => "followers",
        }
    }
}

/// Filters of `GET /postings`. Repeated values are sent as repeated parameters (a union).
/// Lever only lets `updated_at_*` combine with `confidentiality`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostingsQuery {
    pub states: Vec<PostingState>,
    pub distribution_channels: Vec<DistributionChannel>,
    /// `confidential`, `non-confidential` (Lever's default) or `all`.
    pub confidentiality: Option<String>,
    pub teams: Vec<String>,
    pub departments: Vec<String>,
    pub locations: Vec<String>,
    pub commitments: Vec<String>,
    pub tags: Vec<String>,
    pub updated_at_start: Option<i64>,
    pub updated_at_end: Option<i64>,
    /// `expand=hiringManager`: the hiring manager as a user object instead of an id.
    pub expand_hiring_manager: bool,
}

impl PostingsQuery {
    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        q.extend(self.states.iter().map(|s| ("state", s.to_string())));
        q.extend(self.distribution_channels.iter().map(|s| ("distributionChannel", s.to_string())));
        if let Some(c) = &self.confidentiality {
            q.push(("confidentiality", c.clone()));
        }
        q.extend(self.teams.iter().map(|s| ("team", s.clone())));
        q.extend(self.departments.iter().map(|s| ("department", s.clone())));
        q.extend(self.locations.iter().map(|s| ("location", s.clone())));
        q.extend(self.commitments.iter().map(|s| ("commitment", s.clone())));
        q.extend(self.tags.iter().map(|s| ("tag", s.clone())));
        if let Some(v) = self.updated_at_start {
            q.push(("updated_at_start", v.to_string()));
        }
        if let Some(v) = self.updated_at_end {
            q.push(("updated_at_end", v.to_string()));
        }
        if self.expand_hiring_manager {
            q.push(("expand", "hiringManager".to_owned()));
        }
        q
    }
}
