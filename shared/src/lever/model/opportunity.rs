//! Opportunities (candidacies), their applications, notes and files, and the create/update bodies.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Contact, Stage, User, string_enum};
use crate::lever::wire::{Expandable, HasId, Millis, lenient_u64, null_default};

string_enum!(
    /// How the candidate entered the pipeline.
    Origin {
        Agency = "agency",
        Applied = "applied",
        Internal = "internal",
        Referred = "referred",
        Sourced = "sourced",
        University = "university",
    }
);

/// An archived opportunity's state: `reason` is an archive-reason id (a `hired`-type reason = hired).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Archived {
    pub archived_at: Option<Millis>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageChange {
    pub to_stage_id: Option<String>,
    pub to_stage_index: Option<i64>,
    pub user_id: Option<String>,
    pub updated_at: Option<Millis>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpportunityUrls {
    pub list: Option<String>,
    pub show: Option<String>,
}

/// One candidacy. `contact` is the person key, `id` the candidacy key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    pub headline: Option<String>,
    pub contact: Option<Expandable<Contact>>,
    #[serde(default, deserialize_with = "null_default")]
    pub emails: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub phones: Vec<Phone>,
    #[serde(default, deserialize_with = "null_default")]
    pub links: Vec<String>,
    /// A plain string on opportunities (an object only on `/contacts`).
    pub location: Option<String>,
    pub stage: Option<Expandable<Stage>>,
    #[serde(default, deserialize_with = "null_default")]
    pub stage_changes: Vec<StageChange>,
    pub confidentiality: Option<String>,
    /// Read from `archived: {archivedAt, reason}` (the wire) or from top-level
    /// `archivedAt` / `archiveReason` (Lever's docs examples); written as `archived`.
    #[serde(flatten, deserialize_with = "archived_any_shape", serialize_with = "archived_as_object")]
    pub archived: Option<Archived>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub sources: Vec<String>,
    pub origin: Option<Origin>,
    pub sourced_by: Option<Expandable<User>>,
    pub owner: Option<Expandable<User>>,
    #[serde(default, deserialize_with = "null_default")]
    pub followers: Vec<Expandable<User>>,
    #[serde(default, deserialize_with = "null_default")]
    pub applications: Vec<Expandable<Application>>,
    pub created_at: Option<Millis>,
    pub updated_at: Option<Millis>,
    pub last_interaction_at: Option<Millis>,
    pub last_advanced_at: Option<Millis>,
    pub snoozed_until: Option<Millis>,
    pub urls: Option<OpportunityUrls>,
    pub data_protection: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub is_anonymized: bool,
    pub opportunity_location: Option<String>,
    /// Only on deleted-opportunity listings.
    pub deleted_at: Option<Millis>,
    pub deleted_by: Option<String>,
}

impl Opportunity {
    pub fn stage_id(&self) -> Option<&str> {
        self.stage.as_ref().map(Expandable::id)
    }

    pub fn contact_id(&self) -> Option<&str> {
        self.contact.as_ref().map(Expandable::id)
    }

    pub fn is_archived(&self) -> bool {
        self.archived.is_some()
    }
}

impl HasId for Opportunity {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchivedShapes {
    #[serde(default)]
    archived: Option<Archived>,
    #[serde(default)]
    archived_at: Option<Millis>,
    #[serde(default)]
    archive_reason: Option<String>,
}

fn archived_any_shape<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Archived>, D::Error> {
    let s = ArchivedShapes::deserialize(d)?;
    Ok(match s.archived {
        Some(a) => Some(a),
        None if s.archived_at.is_some() || s.archive_reason.is_some() => Some(Archived { archived_at: s.archived_at, reason: s.archive_reason }),
        None => None,
    })
}

fn archived_as_object<S: Serializer>(a: &Option<Archived>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry("archived", a)?;
    m.end()
}

/// An application (`expand=applications`, or `/opportunities/:id/applications/:id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub opportunity_id: Option<String>,
    pub candidate_id: Option<String>,
    /// Posting id.
    pub posting: Option<String>,
    pub posting_owner: Option<String>,
    pub posting_hiring_manager: Option<String>,
    pub user: Option<String>,
    pub created_at: Option<Millis>,
    pub archived: Option<Archived>,
}

impl HasId for Application {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A note as returned by `POST`/`GET /opportunities/:id/notes`. The create answer is the full note
/// plus `noteId` (the docs show only `noteId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(default)]
    pub id: Option<String>,
    pub note_id: Option<String>,
    pub text: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<NoteField>,
    pub user: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub secret: bool,
    pub created_at: Option<Millis>,
    pub completed_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
}

impl Note {
    /// The note's id whichever key carried it.
    pub fn any_id(&self) -> Option<&str> {
        self.id.as_deref().or(self.note_id.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteField {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub value: Option<serde_json::Value>,
    pub user: Option<String>,
    pub stage: Option<String>,
    pub score: Option<serde_json::Value>,
    pub created_at: Option<Millis>,
}

/// A file on an opportunity (`POST /opportunities/:id/files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeverFile {
    pub id: String,
    pub download_url: Option<String>,
    pub ext: Option<String>,
    pub name: Option<String>,
    pub uploaded_at: Option<Millis>,
    /// `processing`, `processed`, `unsupported`, `error` or null.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub size: Option<u64>,
}

/// Body of `POST /opportunities`. Only set fields are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOpportunity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<String>,
    /// At most one posting id per create (Lever rejects more).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<Archived>,
    /// An existing contact id to attach the opportunity to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity_location: Option<String>,
}

impl NewOpportunity {
    /// Multipart text parts for the same body: arrays as repeated `name[]`, nested objects with
    /// bracket syntax, as Lever documents for `multipart/form-data` creates.
    pub(crate) fn to_form_fields(&self) -> Vec<(String, String)> {
        let mut f = Vec::new();
        let mut one = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k.to_owned(), v.clone()));
            }
        };
        one("name", &self.name);
        one("headline", &self.headline);
        one("stage", &self.stage);
        one("location", &self.location);
        one("owner", &self.owner);
        one("contact", &self.contact);
        one("opportunityLocation", &self.opportunity_location);
        if let Some(o) = &self.origin {
            f.push(("origin".into(), o.to_string()));
        }
        if let Some(c) = self.created_at {
            f.push(("createdAt".into(), c.to_string()));
        }
        for (i, p) in self.phones.iter().enumerate() {
            if let Some(t) = &p.kind {
                f.push((format!("phones[{i}][type]"), t.clone()));
            }
            f.push((format!("phones[{i}][value]"), p.value.clone()));
        }
        for (key, list) in [
            ("emails[]", &self.emails),
            ("links[]", &self.links),
            ("tags[]", &self.tags),
            ("sources[]", &self.sources),
            ("followers[]", &self.followers),
            ("postings[]", &self.postings),
        ] {
            f.extend(list.iter().map(|v| (key.to_owned(), v.clone())));
        }
        if let Some(a) = &self.archived {
            if let Some(r) = &a.reason {
                f.push(("archived[reason]".into(), r.clone()));
            }
            if let Some(at) = a.archived_at {
                f.push(("archived[archivedAt]".into(), at.0.to_string()));
            }
        }
        f
    }
}

/// A file to send: bytes plus the name and content type Lever should record.
#[derive(Clone, PartialEq)]
pub struct FileUpload {
    pub file_name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Candidate documents are personal data: never dump their bytes.
        f.debug_struct("FileUpload")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Body of `POST /opportunities/:id/notes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNote {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    /// 1–4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_followers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

/// Body of `PUT /opportunities/:id/archived`: `reason: None` unarchives.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveRequest {
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean_interviews: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requisition_id: Option<String>,
}

/// `expand=` values of `GET /opportunities[/:id]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpportunityExpand {
    Applications,
    Stage,
    Owner,
    Followers,
    SourcedBy,
    Contact,
}

impl OpportunityExpand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applications => "applications",
            Self::Stage => "stage",
            Self::Owner => "owner",
            Self::Followers => "followers",
            Self::SourcedBy => "sourcedBy",
            Self::Contact => "contact",
        }
    }
}

/// Filters of `GET /opportunities` (times in ms, inclusive). Repeated values are a union.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunitiesQuery {
    pub emails: Vec<String>,
    pub posting_ids: Vec<String>,
    pub stage_ids: Vec<String>,
    pub tags: Vec<String>,
    pub contact_ids: Vec<String>,
    pub origins: Vec<Origin>,
    pub sources: Vec<String>,
    pub updated_at_start: Option<i64>,
    pub updated_at_end: Option<i64>,
    pub created_at_start: Option<i64>,
    pub created_at_end: Option<i64>,
    pub archived_at_start: Option<i64>,
    pub archived_at_end: Option<i64>,
    /// `Some(true)` only archived, `Some(false)` only active, `None` both.
    pub archived: Option<bool>,
    pub archive_reason_ids: Vec<String>,
    pub expand: Vec<OpportunityExpand>,
}

impl OpportunitiesQuery {
    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        let many = |q: &mut Vec<(&'static str, String)>, k: &'static str, v: &[String]| {
            q.extend(v.iter().map(|s| (k, s.clone())));
        };
        many(&mut q, "email", &self.emails);
        many(&mut q, "posting_id", &self.posting_ids);
        many(&mut q, "stage_id", &self.stage_ids);
        many(&mut q, "tag", &self.tags);
        many(&mut q, "contact_id", &self.contact_ids);
        many(&mut q, "source", &self.sources);
        many(&mut q, "archive_reason_id", &self.archive_reason_ids);
        q.extend(self.origins.iter().map(|o| ("origin", o.to_string())));
        for (k, v) in [
            ("updated_at_start", self.updated_at_start),
            ("updated_at_end", self.updated_at_end),
            ("created_at_start", self.created_at_start),
            ("created_at_end", self.created_at_end),
            ("archived_at_start", self.archived_at_start),
            ("archived_at_end", self.archived_at_end),
        ] {
            if let Some(v) = v {
                q.push((k, v.to_string()));
            }
        }
        if let Some(a) = self.archived {
            q.push(("archived", a.to_string()));
        }
        q.extend(self.expand.iter().map(|e| ("expand", e.as_str().to_owned())));
        q
    }
}

/// An entry of `GET /opportunities/deleted`: the id and when (Lever adds `deletedBy` and the
/// opportunity as it was; the hub needs only the id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedOpportunity {
    pub id: String,
    #[serde(default)]
    pub deleted_at: Option<Millis>,
}
