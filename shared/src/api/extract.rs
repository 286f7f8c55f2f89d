//! Extractors whose rejections are problem documents naming what is wrong, instead of axum's
//! plain-text ones: the query string, a path segment, the body (with its size limit).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::{Problem, ProblemType};

/// The largest request body the partner API reads. Settings, the largest body, are limited to
/// far less (`core::settings::limits`); DynamoDB's item limit is 400 KB.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The query string as `T`; a query string that does not decode is a 400 `bad-request`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| Problem::new(ProblemType::BadRequest, format!("the query string cannot be read: {e}")))
    }
}

/// The `{id}` of a route. An id that is not percent-encoded UTF-8 is a 400 `bad-request`; one
/// longer than any id the hub issues is a 404 without a store read (DynamoDB refuses keys over
/// 1 KB with an error that would otherwise be a 500).
pub struct Id(pub String);

pub use crate::core::ids::MAX_ID_CHARS;

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) if id.len() > MAX_ID_CHARS => {
                Err(Problem::new(ProblemType::NotFound, format!("no such resource: ids are at most {MAX_ID_CHARS} characters")))
            }
            Ok(axum::extract::Path(id)) => Ok(Id(id)),
            Err(e) => Err(Problem::new(ProblemType::BadRequest, format!("the path cannot be read: {}", e.body_text()))),
        }
    }
}

/// The two `{id}`s of a nested route (`/v1/connections/{id}/candidates/{candidate_id}`), with
/// the same rules as [`Id`].
pub struct IdPair(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path((a, b))) if a.len() > MAX_ID_CHARS || b.len() > MAX_ID_CHARS => {
                Err(Problem::new(ProblemType::NotFound, format!("no such resource: ids are at most {MAX_ID_CHARS} characters")))
            }
            Ok(axum::extract::Path((a, b))) => Ok(IdPair(a, b)),
            Err(e) => Err(Problem::new(ProblemType::BadRequest, format!("the path cannot be read: {}", e.body_text()))),
        }
    }
}

/// The raw body, at most [`MAX_BODY_BYTES`]; more is a 413 `payload-too-large`.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Problem::new(ProblemType::PayloadTooLarge, format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024)))
            }
            Err(e) => Err(Problem::new(ProblemType::BadRequest, format!("the body cannot be read: {}", e.body_text()))),
        }
    }
}
