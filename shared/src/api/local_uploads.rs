//! `PUT /uploads/{token}`: what S3's pre-signed URL does in AWS, served by the hub for local
//! runs over a [`DirFileStore`], whose refusals are told to the caller as problems.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;

use super::problem::{Problem, ProblemType};
use crate::core::profile::LEVER_MAX_FILE_BYTES;
use crate::files::DirFileStore;
use crate::files::local::UploadRefused;

pub fn local_upload_routes(store: Arc<DirFileStore>) -> Router {
    Router::new()
        .route("/uploads/{token}", put(receive))
        .method_not_allowed_fallback(|| async { Problem::new(ProblemType::MethodNotAllowed, "an upload URL takes one PUT of the file's bytes") })
        // Lever's limit, and a little room for a body that is too large to be refused as such.
        .layer(DefaultBodyLimit::max(LEVER_MAX_FILE_BYTES as usize + 1))
        // A body over the limit is refused by axum as text: told as a problem like every 4xx.
        .layer(axum::middleware::map_response(super::problem::ensure_problem))
        .with_state(store)
}

async fn receive(State(store): State<Arc<DirFileStore>>, Path(token): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match store.receive_upload(&token, content_type, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => problem(e).into_response(),
    }
}

fn problem(e: UploadRefused) -> Problem {
    match e {
        UploadRefused::InvalidUrl => Problem::new(ProblemType::UploadUrlInvalid, e.to_string()),
        UploadRefused::AlreadyUploaded => Problem::new(ProblemType::UploadUsed, e.to_string()),
        UploadRefused::ContentType { .. } => Problem::invalid("content-type", e.to_string()),
        UploadRefused::Size { .. } => Problem::invalid("content-length", e.to_string()),
        UploadRefused::Store(e) => Problem::internal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_uploads_are_told_as_the_caller_mistake_they_are() {
        let status = |e: UploadRefused| problem(e).status;
        assert_eq!(status(UploadRefused::ContentType { expected: "application/pdf".into(), sent: "text/plain".into() }), 422);
        assert_eq!(status(UploadRefused::Size { expected: 3, sent: 4 }), 422);
        assert_eq!(status(UploadRefused::InvalidUrl), 403, "forged or expired");
        assert_eq!(status(UploadRefused::AlreadyUploaded), 409);
    }
}
