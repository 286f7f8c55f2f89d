//! Errors of the partner API as RFC 9457 problem details.
//!
//! Each kind of problem has a stable `type` URI (relative, resolved against the API's base URL;
//! listed in `docs/openapi.yaml`) that partners can branch on; `title` is fixed per type and
//! `detail` explains this occurrence. Caller mistakes are 4xx; only our own faults are 5xx.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemType {
    Unauthorized,
    NotFound,
    InvalidRequest,
    Conflict,
    MethodNotAllowed,
    UnknownProfile,
    ReturnUrlNotAllowed,
    ConnectionNotActive,
    LeverRejected,
    LeverUnavailable,
    RateLimited,
    Internal,
}

impl ProblemType {
    fn parts(self) -> (&'static str, &'static str, StatusCode) {
        use ProblemType::*;
        match self {
            Unauthorized => ("unauthorized", "Missing or invalid API key", StatusCode::UNAUTHORIZED),
            NotFound => ("not-found", "No such resource", StatusCode::NOT_FOUND),
            InvalidRequest => ("invalid-request", "The request is not valid", StatusCode::UNPROCESSABLE_ENTITY),
            Conflict => ("conflict", "The resource changed or already exists", StatusCode::CONFLICT),
            MethodNotAllowed => ("method-not-allowed", "The route does not take this method", StatusCode::METHOD_NOT_ALLOWED),
            UnknownProfile => ("unknown-profile", "No such partner profile", StatusCode::UNPROCESSABLE_ENTITY),
            ReturnUrlNotAllowed => {
                ("return-url-not-allowed", "The return URL is not registered for the partner", StatusCode::UNPROCESSABLE_ENTITY)
            }
            ConnectionNotActive => {
                ("connection-not-active", "The connection is not active in Lever", StatusCode::CONFLICT)
            }
            LeverRejected => ("lever-rejected", "Lever refused the request", StatusCode::UNPROCESSABLE_ENTITY),
            LeverUnavailable => ("lever-unavailable", "Lever did not answer; try again later", StatusCode::SERVICE_UNAVAILABLE),
            RateLimited => ("rate-limited", "Too many requests", StatusCode::TOO_MANY_REQUESTS),
            Internal => ("internal", "Internal error", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    pub fn uri(self) -> String {
        format!("/problems/{}", self.parts().0)
    }

    pub fn status(self) -> StatusCode {
        self.parts().2
    }
}

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
    #[serde(skip)]
    kind: Option<ProblemType>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        let (_, title, status) = kind.parts();
        Self {
            type_uri: kind.uri(),
            title,
            status: status.as_u16(),
            detail: Some(detail.into()).filter(|d: &String| !d.is_empty()),
            errors: vec![],
            retry_after_secs: None,
            kind: Some(kind),
        }
    }

    pub fn kind(&self) -> Option<ProblemType> {
        self.kind
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ProblemType::NotFound, format!("{what} not found"))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(ProblemType::InvalidRequest, format!("{field}: {message}"))
            .with_errors(vec![FieldError { field: field.to_owned(), message }])
    }

    /// Our own fault: logged in full, shown to the caller without internals.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(ProblemType::Internal, "")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("problem serializes");
        let mut response = (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::ConditionFailed => {
                Problem::new(ProblemType::Conflict, "the resource was changed concurrently; read it again")
            }
            crate::store::StoreError::BadCursor => Problem::invalid("cursor", "not a cursor this API returned"),
            other => Problem::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_mistakes_are_4xx_with_stable_types() {
        for kind in [ProblemType::Unauthorized, ProblemType::NotFound, ProblemType::InvalidRequest, ProblemType::ReturnUrlNotAllowed] {
            assert!(kind.status().is_client_error(), "{kind:?}");
            assert!(kind.uri().starts_with("/problems/"));
        }
        let json = serde_json::to_value(Problem::invalid("return_url", "must be https")).unwrap();
        assert_eq!(json["type"], "/problems/invalid-request");
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][0]["field"], "return_url");
    }

    #[test]
    fn internal_problems_hide_details() {
        let p = Problem::internal(&"database password is hunter2");
        assert_eq!(p.detail, None);
        assert_eq!(p.status, 500);
    }
}
