//! Small identifier rules shared by the core: Lever UUIDs and stage ids.

use serde::{Deserialize, Serialize};

/// Longer than every id the hub issues (UUIDs, 12-hex key ids): the API answers a longer route
/// id with a 404 without a store read, and logs leave longer ids out of their fields.
pub const MAX_ID_CHARS: usize = 128;

/// True for a canonical hyphenated UUID (any case).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// A hyphenated UUID in lower case, or `None` when `s` is not one.
pub fn normalize_uuid(s: &str) -> Option<String> {
    if is_uuid(s) { Some(s.to_ascii_lowercase()) } else { None }
}

/// A built-in stage slug such as `lead-new` or `applicant-new`.
pub fn is_stage_slug(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A Lever stage id: a built-in slug (`applicant-new`, `lead-new`, …) or a custom stage's UUID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StageId(String);

impl StageId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Some(u) = normalize_uuid(t) {
            return Ok(StageId(u));
        }
        if is_stage_slug(t) {
            return Ok(StageId(t.to_string()));
        }
        Err(format!("stage {s:?} is neither a stage slug (like \"applicant-new\" or \"lead-new\") nor a stage UUID"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StageId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        StageId::parse(&s)
    }
}

impl From<StageId> for String {
    fn from(s: StageId) -> String {
        s.0
    }
}

impl std::fmt::Display for StageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e"));
        assert_eq!(normalize_uuid("3C0E5B8A-1F2D-4E6A-9B7C-2D4F6A8B0C1E").as_deref(), Some("3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e"));
        // simple (unhyphenated) and braced forms are not what Lever prints
        assert!(!is_uuid("3c0e5b8a1f2d4e6a9b7c2d4f6a8b0c1e"));
        assert!(!is_uuid("{3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e}"));
        assert!(!is_uuid("not-a-uuid"));
    }

    #[test]
    fn stage_ids() {
        assert_eq!(StageId::parse("applicant-new").unwrap().as_str(), "applicant-new");
        assert_eq!(StageId::parse("lead-new").unwrap().as_str(), "lead-new");
        assert_eq!(StageId::parse("A80BBBE0-1F2D-4E6A-9B7C-2D4F6A8B0C1E").unwrap().as_str(), "a80bbbe0-1f2d-4e6a-9b7c-2d4f6a8b0c1e");
        for bad in ["New applicant", "", "applicant_new", "-lead", "lead-", "Lead-New"] {
            let err = StageId::parse(bad).unwrap_err();
            assert!(err.contains("neither a stage slug"), "{bad}: {err}");
        }
    }
}
