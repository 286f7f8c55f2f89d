//! `POST /v1/connections/{id}/uploads`: a file of up to Lever's 30 MB, which no API Gateway +
//! Lambda request can carry (6 MB). The hub records the upload and hands back a URL that
//! accepts exactly one PUT of the declared size and type straight into the file store (an S3
//! pre-signed PUT in AWS; the hub's own `/uploads/{token}` locally). A submission then names it
//! by `upload_id`, and the hub checks the stored object's size and type before using it.

use serde::Deserialize;

use super::records::UploadRecord;
use super::{CandidateError, Candidates, ms};
use crate::core::connection::ConnectionStatus;
use crate::core::field_error::FieldError;
use crate::core::submission::ALLOWED_CONTENT_TYPES;
use crate::files::{PresignedPut, UPLOAD_RETENTION_DAYS, upload_key};

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

impl Candidates {
    pub async fn create_upload(&self, partner_id: &str, connection_id: &str, req: NewUpload) -> Result<UploadTicket, CandidateError> {
        let connection = self.owned_connection(partner_id, connection_id).await?;
        if connection.status == ConnectionStatus::Disconnected {
            return Err(CandidateError::NotActive("disconnected"));
        }
        let flow = self.catalog.get(partner_id).and_then(|p| p.candidates().cloned()).ok_or(CandidateError::NoCandidatesFlow)?;
        let mut problems = Vec::new();
        if flow.files.accept.is_empty() {
            problems.push(FieldError::new("name", "this partner's profile sends no files"));
        }
        let name = req.name.trim();
        if name.is_empty() || name.contains('/') || name.contains('\\') || name.chars().count() > 255 || name.chars().any(char::is_control) {
            problems.push(FieldError::new("name", format!("{:?} is not a file name", req.name)));
        }
        let content_type = req.content_type.trim().to_ascii_lowercase();
        let content_type = content_type.split(';').next().unwrap_or("").trim().to_owned();
        if !ALLOWED_CONTENT_TYPES.contains(&content_type.as_str()) {
            problems
                .push(FieldError::new("content_type", format!("{:?} is not a type Lever takes (pdf, doc, docx, txt, jpg, png)", req.content_type)));
        }
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
        };
        self.records.create(&upload).await?;
        Ok(UploadTicket { upload, put, url_expires_at_ms: now + ms(self.policy.upload_url_valid) })
    }
}
