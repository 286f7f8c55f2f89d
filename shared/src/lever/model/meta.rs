//! Per-account vocabularies: stages, archive reasons, tags, sources.

use serde::{Deserialize, Serialize};

use super::string_enum;
use crate::lever::wire::{HasId, null_default};

/// A pipeline stage. Built-in ids are slugs (`lead-new`, `applicant-new`, `offer`), custom ones UUIDs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
}

impl HasId for Stage {
    fn id(&self) -> &str {
        &self.id
    }
}

string_enum!(
    /// `type` of an archive reason: archiving with a `hired` reason is how Lever marks a hire.
    ArchiveReasonType { Hired = "hired", NonHired = "non-hired" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveReason {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
    /// `active` or `inactive`.
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ArchiveReasonType>,
}

impl ArchiveReason {
    pub fn is_hired(&self) -> bool {
        self.kind == Some(ArchiveReasonType::Hired)
    }
}

/// An entry of `GET /tags` or `GET /sources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCount {
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
    pub count: Option<u64>,
}
