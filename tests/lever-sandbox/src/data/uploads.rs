//! `POST /v1/uploads`: temporary file storage whose `uri` can be used as the
//! resume in `POST /postings/:id/apply` for 24 hours.

use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::json;

use super::multipart;
use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::respond;
use crate::state::Upload;

pub async fn create(State(shared): State<Shared>, req: Request) -> ApiResult<Response> {
    if !multipart::is_multipart(&req) {
        return Err(ApiError::bad_request("Uploads must be multipart/form-data with a `file` field"));
    }
    let now = shared.lock().now_ms();
    let form = multipart::read(req, now).await?;
    let (_, f) = form.files.into_iter().find(|(n, _)| n == "file").ok_or_else(|| ApiError::missing("file"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let u = Upload {
        uri: format!("{}/v1/uploads/{id}-{}", shared.base_url, f.name.replace(' ', "_")),
        id,
        filename: f.name.clone(),
        size: f.size,
        expires_at: now + 86_400_000,
    };
    let v = json!({"expiresAt": u.expires_at, "filename": u.filename, "id": u.id, "uri": u.uri, "size": u.size});
    shared.lock().uploads.insert(u.id.clone(), u);
    Ok(respond::created(v))
}
