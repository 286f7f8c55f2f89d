//! `POST /v1/connections/{id}/uploads`: a file of up to Lever's 30 MB, which no API Gateway +
//! Lambda request can carry (6 MB). The hub records the upload and hands back a URL that
//! accepts exactly one PUT of the declared size and type straight into the file store (an S3
//! pre-signed PUT in AWS; the hub's own `/uploads/{token}` locally). A submission then names it
//! by `upload_id`, and the hub checks the stored object's size and type before using it.

use std::sync::Arc;

use serde::Deserialize;

use super::records::UploadRecord;
use super::{CandidateError, CandidatePolicy, ms, owned_connection};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::connection::ConnectionStatus;
use crate::core::field_error::FieldError;
use crate::core::profile::CandidatesFlow;
use crate::core::submission::FileKind;
use crate::core::submission::file_checks::SNIFF_BYTES;
use crate::core::submission::file_checks::check_file_name;
use crate::files::{FileStore, PresignedPut, UPLOAD_RETENTION_DAYS, upload_key};
use crate::store::{Record as _, Records, keys};

/// What the partner asks for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    pub name: String,
    pub content_type: String,
    pub size_bytes: u64,
}

/// The upload and where to PUT its bytes.
#[derive(Clone, Debug)]
pub struct UploadTicket {
    pub upload: UploadRecord,
    pub put: PresignedPut,
    pub url_expires_at_ms: i64,
}

/// Uploads: recorded, handed a URL for their bytes, checked and taken by a submission.
#[derive(Clone)]
pub struct Uploads {
    pub(super) records: Records,
    pub(super) catalog: Arc<ProfileCatalog>,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) policy: CandidatePolicy,
}

impl Uploads {
    pub async fn create_upload(&self, partner_id: &str, connection_id: &str, req: NewUpload) -> Result<UploadTicket, CandidateError> {
        let connection = owned_connection(&self.records, partner_id, connection_id).await?;
        if connection.status == ConnectionStatus::Disconnected {
            return Err(CandidateError::NotActive("disconnected"));
        }
        let flow = self.catalog.get(partner_id).and_then(|p| p.candidates().cloned()).ok_or(CandidateError::NoCandidatesFlow)?;
        let mut problems = Vec::new();
        if flow.files.accept.is_empty() {
            problems.push(FieldError::new("name", "this partner's profile sends no files"));
        }
        let name = req.name.trim();
        if let Err(e) = check_file_name(&req.name) {
            problems.push(FieldError::new("name", e));
        }
        let kind = FileKind::from_content_type(&req.content_type);
        if kind.is_none() {
            problems
                .push(FieldError::new("content_type", format!("{:?} is not a type Lever takes (pdf, doc, docx, txt, jpg, png)", req.content_type)));
        }
        let content_type = kind.map(FileKind::content_type).unwrap_or_default().to_owned();
        if req.size_bytes == 0 || req.size_bytes > flow.files.max_bytes {
            problems.push(FieldError::new("size_bytes", format!("{} bytes; must be between 1 and {}", req.size_bytes, flow.files.max_bytes)));
        }
        if !problems.is_empty() {
            return Err(CandidateError::Invalid(problems));
        }
        let now = self.records.clock().now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let object_key = upload_key(connection_id, &id);
        let put = self.files.presign_put(&object_key, &content_type, req.size_bytes, self.policy.upload_url_valid).await?;
        let upload = UploadRecord {
            id,
            connection_id: connection_id.to_owned(),
            partner_id: partner_id.to_owned(),
            name: name.to_owned(),
            content_type,
            size_bytes: req.size_bytes,
            object_key,
            created_at_ms: now,
            expires_at_ms: now + UPLOAD_RETENTION_DAYS * 24 * 3600 * 1000,
            used_by: None,
        };
        self.records.create(&upload).await?;
        Ok(UploadTicket { upload, put, url_expires_at_ms: now + ms(self.policy.upload_url_valid) })
    }

    /// The upload a submission's file names, checked: this connection's, of the file's type,
    /// uploaded with the announced size, and its bytes of that type. `Ok(Err((field, why)))`
    /// for the partner's mistakes.
    pub(super) async fn check_upload(
        &self,
        connection: &Connection,
        flow: &CandidatesFlow,
        upload_id: &str,
        content_type: &str,
    ) -> Result<Result<UploadRecord, (&'static str, String)>, CandidateError> {
        let Some(upload) = self.records.get::<UploadRecord>(&keys::upload(&connection.id, upload_id)).await?.map(|v| v.record) else {
            return Ok(Err(("upload_id", format!("{upload_id} is not an upload of this connection (uploads are kept 3 days)"))));
        };
        let Some(kind) = FileKind::from_content_type(content_type).filter(|k| k.content_type() == upload.content_type) else {
            return Ok(Err(("content_type", format!("the upload was made for {}", upload.content_type))));
        };
        if upload.size_bytes > flow.files.max_bytes {
            return Ok(Err(("upload_id", format!("{} bytes; this partner sends at most {}", upload.size_bytes, flow.files.max_bytes))));
        }
        let Some(object) = self.files.head(&upload.object_key).await? else {
            return Ok(Err(("upload_id", "nothing was uploaded yet: PUT the bytes to the upload's upload_url first".to_owned())));
        };
        if object.size != upload.size_bytes {
            return Ok(Err(("upload_id", format!("the uploaded file has {} bytes; the upload was made for {}", object.size, upload.size_bytes))));
        }
        if object.content_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case(&upload.content_type)) {
            return Ok(Err((
                "upload_id",
                format!("the uploaded file is {:?}; the upload was made for {}", object.content_type, upload.content_type),
            )));
        }
        // Text is checked whole; the other kinds by their signature at the start.
        let read = if kind.needs_all_bytes() { upload.size_bytes } else { SNIFF_BYTES as u64 };
        let Some(head) = self.files.read_prefix(&upload.object_key, read).await? else {
            return Ok(Err(("upload_id", "nothing was uploaded yet: PUT the bytes to the upload's upload_url first".to_owned())));
        };
        if let Err(why) = kind.check_content(&head) {
            return Ok(Err(("upload_id", why)));
        }
        Ok(Ok(upload))
    }

    /// Takes each upload for the submission (a conditional write per upload); one that another
    /// submission took is refused (409), and those taken here are let go again.
    pub(super) async fn take_uploads(&self, submission_id: &str, uploads: &[(usize, UploadRecord)]) -> Result<(), CandidateError> {
        let mut taken = Vec::new();
        let mut refused = Vec::new();
        for (i, upload) in uploads {
            let claimed = self
                .records
                .update::<UploadRecord>(&upload.key(), |u| {
                    if u.used_by.is_some() {
                        return false;
                    }
                    u.used_by = Some(submission_id.to_owned());
                    true
                })
                .await;
            let ours = match claimed {
                Ok(current) => current.is_some_and(|v| v.record.used_by.as_deref() == Some(submission_id)),
                Err(e) => {
                    self.release_uploads(submission_id, &taken).await;
                    return Err(e.into());
                }
            };
            if ours {
                taken.push((*i, upload.clone()));
            } else {
                refused.push(FieldError::new(
                    format!("files[{i}].upload_id"),
                    format!("upload {} was used by another submission; an upload serves one submission: create a new one", upload.id),
                ));
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        self.release_uploads(submission_id, &taken).await;
        Err(CandidateError::UploadUsed(refused))
    }

    /// Lets go of uploads a submission took but was not accepted with (best effort: a lost
    /// release leaves the upload taken, and the partner makes a new one).
    pub(super) async fn release_uploads(&self, submission_id: &str, uploads: &[(usize, UploadRecord)]) {
        for (_, upload) in uploads {
            let released = self
                .records
                .update::<UploadRecord>(&upload.key(), |u| {
                    if u.used_by.as_deref() != Some(submission_id) {
                        return false;
                    }
                    u.used_by = None;
                    true
                })
                .await;
            if let Err(e) = released {
                tracing::warn!(upload_id = upload.id, error = %e, "upload not released");
            }
        }
    }
}
