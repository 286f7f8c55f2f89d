//! What a partner sends: the submission as it arrives, its parts, and the small normalising
//! rules (emails, screening statuses) that the profile's own checks use too. Knows nothing of
//! profiles, so a profile can name these types without a circle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::text::{is_hidden_or_control, nfkc};

pub use crate::core::custom::CustomValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    Referral,
    Application,
    Screening,
}

impl SubmissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Referral => "referral",
            Self::Application => "application",
            Self::Screening => "screening",
        }
    }
}

/// Lever opportunity origins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Agency,
    Applied,
    Internal,
    Referred,
    Sourced,
    University,
}

impl Origin {
    /// Lever's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Applied => "applied",
            Self::Internal => "internal",
            Self::Referred => "referred",
            Self::Sourced => "sourced",
            Self::University => "university",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    Resume,
    CoverLetter,
    Transcript,
    Other,
}

impl FileRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resume => "resume",
            Self::CoverLetter => "cover_letter",
            Self::Transcript => "transcript",
            Self::Other => "other",
        }
    }
}

/// Inline file contents (`content_base64`) may total this much per request (decoded): the body
/// stays inside Lambda's 6 MB request limit. Larger files go through an upload (`upload_id`).
pub const MAX_INLINE_BYTES: u64 = 4 * 1024 * 1024;

/// What a partner POSTs. Unknown fields are refused so typos do not silently drop data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub kind: SubmissionKind,
    pub candidate: CandidateInput,
    /// Exactly one: a posting id or its Lever-hosted job URL.
    #[serde(default)]
    pub postings: Vec<String>,
    #[serde(default)]
    pub referrer: Option<ReferrerInput>,
    #[serde(default)]
    pub endorsement: Option<String>,
    #[serde(default)]
    pub screening: Option<ScreeningInput>,
    #[serde(default)]
    pub files: Vec<FileInput>,
    /// Fields of the partner's own, as its profile declares them (`core::custom`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// A file as the partner sends it: its bytes inline, or the id of an upload made before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    pub name: String,
    pub content_type: String,
    pub role: FileRole,
    /// The bytes, base64 (standard alphabet); all inline files together at most [`MAX_INLINE_BYTES`].
    #[serde(default)]
    pub content_base64: Option<String>,
    /// An upload of this connection (`POST /v1/connections/{id}/uploads`), for larger files.
    #[serde(default)]
    pub upload_id: Option<String>,
}

/// Where a validated file's bytes are: decoded from the request, or in an upload.
#[derive(Clone, PartialEq, Eq)]
pub enum FileContent {
    Inline(Vec<u8>),
    Upload(String),
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Candidate documents are personal data: never dump their bytes.
        match self {
            FileContent::Inline(b) => write!(f, "Inline({} bytes)", b.len()),
            FileContent::Upload(id) => write!(f, "Upload({id})"),
        }
    }
}

/// A submission that passed validation, and where the bytes of each of its files are
/// (`contents[i]` belongs to `submission.files[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub submission: ValidSubmission,
    pub contents: Vec<FileContent>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    pub name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub headline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferrerInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningInput {
    /// E.g. `PASSED`, `FAILED` (case-insensitive; stored upper case).
    pub status: String,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// A file of a validated submission (its bytes are kept apart, see [`FileContent`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMeta {
    pub name: String,
    pub content_type: String,
    pub role: FileRole,
    #[serde(default)]
    pub size_bytes: Option<u64>,
}

pub use crate::core::field_error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid submission: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct SubmissionError(pub Vec<FieldError>);

/// A submission that passed [`Submission::validate`]: posting resolved, emails normalised.
/// Kept with the submission record, so a queued submission is planned again from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidSubmission {
    pub kind: SubmissionKind,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub links: Vec<String>,
    pub location: Option<String>,
    pub headline: Option<String>,
    pub posting_id: String,
    pub referrer: Option<ReferrerInput>,
    pub endorsement: Option<String>,
    pub screening: Option<ScreeningInput>,
    pub files: Vec<FileMeta>,
    /// Absent from submissions stored before custom fields (and from those without any).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, CustomValue>,
}

/// A screening status in canonical form: trimmed, upper case, letters/digits/space/`_`/`-`.
pub fn normalize_status(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_uppercase();
    if t.is_empty() || t.len() > 40 || !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-')) {
        return Err(format!("{s:?} is not a result status: use 1-40 letters, digits, spaces, '_' or '-' (like PASSED)"));
    }
    Ok(t)
}

/// In NFKC form, trimmed, with a lower-case domain; `None` when not a plausible address — which
/// includes any space, control or invisible character inside it (a zero-width space would make
/// a second candidate of the same person).
pub fn normalize_email(s: &str) -> Option<String> {
    let normal = nfkc(s);
    let t = normal.trim();
    if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || is_hidden_or_control(c)) {
        return None;
    }
    let (local, domain) = t.split_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.contains('@') || local.starts_with('.') || local.ends_with('.') {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok =
        |l: &&str| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}

pub(super) fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}
