//! A submission as partners see it: the answer of `POST`/`GET …/candidates` and the `data` of
//! `candidate.created`, `candidate.updated` and `submission.failed` (schema `Candidate` in
//! `docs/openapi.yaml`).

use serde_json::{Value, json};

use super::records::SubmissionRecord;
use crate::core::settings::ConnectionSettings;

pub(super) use crate::core::timestamp::rfc3339;

/// A stage as events and answers carry it: Lever's id and name, and the customer's label for
/// it when they mapped one (`settings.stage_labels`).
pub(super) fn stage_view(id: &str, name: Option<&str>, settings: Option<&ConnectionSettings>) -> Value {
    json!({"id": id, "name": name, "label": settings.and_then(|s| s.stage_label(id))})
}

pub fn submission_view(r: &SubmissionRecord, settings: Option<&ConnectionSettings>) -> Value {
    let s = &r.submission;
    json!({
        "id": r.id,
        "connection_id": r.connection_id,
        "kind": s.kind.as_str(),
        "state": r.state.as_str(),
        "posting_id": s.posting_id,
        "candidate": {"name": s.name, "emails": s.emails},
        "lever": {"opportunity_id": r.opportunity_id, "contact_id": r.contact_id},
        "stage": r.stage.as_ref().map(|st| stage_view(&st.id, st.name.as_deref(), settings)),
        "files": s.files.iter().map(|f| json!({
            "name": f.name, "role": f.role.as_str(), "content_type": f.content_type, "size_bytes": f.size_bytes,
        })).collect::<Vec<_>>(),
        "error": r.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
        "attempts": r.attempts,
        "next_attempt_at": r.next_attempt_at_ms.map(rfc3339),
        "pending_until": r.pending_until_ms.map(rfc3339),
        "created_at": rfc3339(r.created_at_ms),
        "updated_at": rfc3339(r.updated_at_ms),
    })
}
