//! Lever-style error responses: `{"code": "<Code>", "message": "<text>"}` with
//! the restify-flavoured code strings Lever uses (`ResourceNotFound`, ...).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::respond;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
    pub fn missing(param: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MissingParameter", format!("{param} is required"))
    }
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", format!("{kind} {id} was not found"))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        respond::json(self.status, &json!({"code": self.code, "message": self.message}))
    }
}

pub type ApiResult<T = Response> = Result<T, ApiError>;
