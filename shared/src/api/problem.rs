//! Errors of the partner API as RFC 9457 problem details.
//!
//! Each kind of problem has a stable `type` URI (relative, resolved against the API's base URL;
//! listed in `docs/openapi.yaml`) that partners can branch on; `title` is fixed per type and
//! `detail` explains this occurrence. Caller mistakes are 4xx; only our own faults are 5xx.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::lever::error::LeverError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemType {
    /// The request cannot be read at all: JSON syntax, a body that is not an object, a query
    /// string or path that does not decode.
    BadRequest,
    /// A `cursor` that this list did not return, that was changed, or that expired.
    InvalidCursor,
    Unauthorized,
    NotFound,
    InvalidRequest,
    Conflict,
    /// The partner's only API key: revoking it would lock the partner out.
    LastApiKey,
    MethodNotAllowed,
    PayloadTooLarge,
    UnknownProfile,
    ReturnUrlNotAllowed,
    ConnectionNotActive,
    /// The flow asked for is not switched on for the connection (its profile has none, or the
    /// customer turned that trigger off in the settings).
    FlowNotEnabled,
    LeverRejected,
    LeverUnavailable,
    RateLimited,
    /// An `Idempotency-Key` already used for a different request.
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still being handled.
    IdempotencyKeyInUse,
    /// A delivery to the Lever webhook route that the hub cannot verify, whatever the reason
    /// (one answer for all, so the route does not tell which connections exist).
    WebhookNotVerified,
    /// The hub could not take the request now (its store or queue did not answer).
    Unavailable,
    Internal,
    /// An upload URL whose signature does not check out or whose time is up (local uploads;
    /// S3 answers its own error for its pre-signed URLs).
    UploadUrlInvalid,
    /// An upload that was used already: its URL took its one PUT, or a submission took it.
    UploadUsed,
}

impl ProblemType {
    fn parts(self) -> (&'static str, &'static str, StatusCode) {
        use ProblemType::*;
        match self {
            BadRequest => ("bad-request", "The request cannot be read", StatusCode::BAD_REQUEST),
            InvalidCursor => ("invalid-cursor", "The cursor is not valid for this list", StatusCode::BAD_REQUEST),
            Unauthorized => ("unauthorized", "Missing or invalid API key", StatusCode::UNAUTHORIZED),
            NotFound => ("not-found", "No such resource", StatusCode::NOT_FOUND),
            InvalidRequest => ("invalid-request", "The request is not valid", StatusCode::UNPROCESSABLE_ENTITY),
            Conflict => ("conflict", "The resource changed or already exists", StatusCode::CONFLICT),
            LastApiKey => ("last-api-key", "The partner's last API key cannot be revoked", StatusCode::CONFLICT),
            MethodNotAllowed => ("method-not-allowed", "The route does not take this method", StatusCode::METHOD_NOT_ALLOWED),
            PayloadTooLarge => ("payload-too-large", "The request body is too large", StatusCode::PAYLOAD_TOO_LARGE),
            UnknownProfile => ("unknown-profile", "No such partner profile", StatusCode::UNPROCESSABLE_ENTITY),
            ReturnUrlNotAllowed => ("return-url-not-allowed", "The return URL is not registered for the partner", StatusCode::UNPROCESSABLE_ENTITY),
            ConnectionNotActive => ("connection-not-active", "The connection is not active in Lever", StatusCode::CONFLICT),
            FlowNotEnabled => ("flow-not-enabled", "The flow is not switched on for this connection", StatusCode::CONFLICT),
            LeverRejected => ("lever-rejected", "Lever refused the request", StatusCode::UNPROCESSABLE_ENTITY),
            LeverUnavailable => ("lever-unavailable", "Lever did not answer; try again later", StatusCode::SERVICE_UNAVAILABLE),
            RateLimited => ("rate-limited", "Too many requests", StatusCode::TOO_MANY_REQUESTS),
            IdempotencyKeyReused => ("idempotency-key-reused", "The Idempotency-Key was used for another request", StatusCode::UNPROCESSABLE_ENTITY),
            IdempotencyKeyInUse => ("idempotency-key-in-use", "A request with this Idempotency-Key is in progress", StatusCode::CONFLICT),
            WebhookNotVerified => ("webhook-not-verified", "The webhook delivery cannot be verified", StatusCode::UNAUTHORIZED),
            Unavailable => ("unavailable", "The hub cannot take the request now; retry", StatusCode::SERVICE_UNAVAILABLE),
            Internal => ("internal", "Internal error", StatusCode::INTERNAL_SERVER_ERROR),
            UploadUrlInvalid => ("upload-url-invalid", "The upload URL is not valid or has expired", StatusCode::FORBIDDEN),
            UploadUsed => ("upload-used", "The upload was used already", StatusCode::CONFLICT),
        }
    }

    /// Every type, for the problem pages the hub serves at [`ProblemType::uri`].
    pub const ALL: [ProblemType; 23] = {
        use ProblemType::*;
        [
            BadRequest,
            InvalidCursor,
            Unauthorized,
            NotFound,
            InvalidRequest,
            Conflict,
            LastApiKey,
            MethodNotAllowed,
            PayloadTooLarge,
            UnknownProfile,
            ReturnUrlNotAllowed,
            ConnectionNotActive,
            FlowNotEnabled,
            LeverRejected,
            LeverUnavailable,
            RateLimited,
            IdempotencyKeyReused,
            IdempotencyKeyInUse,
            WebhookNotVerified,
            Unavailable,
            Internal,
            UploadUrlInvalid,
            UploadUsed,
        ]
    };

    /// The stable part of the type URI, e.g. `invalid-cursor`.
    pub fn name(self) -> &'static str {
        self.parts().0
    }

    pub fn title(self) -> &'static str {
        self.parts().1
    }

    /// Relative to the API's base URL; the hub serves a page there (`GET /problems/{name}`).
    pub fn uri(self) -> String {
        format!("/problems/{}", self.parts().0)
    }

    pub fn status(self) -> StatusCode {
        self.parts().2
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The type for an error status that no route chose a type for (the safety net).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ProblemType::Unauthorized,
            StatusCode::NOT_FOUND => ProblemType::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ProblemType::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ProblemType::PayloadTooLarge,
            StatusCode::CONFLICT => ProblemType::Conflict,
            StatusCode::UNPROCESSABLE_ENTITY => ProblemType::InvalidRequest,
            StatusCode::TOO_MANY_REQUESTS => ProblemType::RateLimited,
            s if s.is_client_error() => ProblemType::BadRequest,
            StatusCode::SERVICE_UNAVAILABLE => ProblemType::LeverUnavailable,
            _ => ProblemType::Internal,
        }
    }

    /// What a partner should do about it: the text of the type's page.
    pub fn explanation(self) -> &'static str {
        use ProblemType::*;
        match self {
            BadRequest => {
                "The request could not be read: the body is not JSON (the detail names the line and column), is not a JSON object, or the path or query string does not decode. The same type, with the status 414 or 431, answers a path or headers too long to read, and with 400 a request line or header that is not HTTP/1.1. Fix the request; retrying it unchanged fails again."
            }
            InvalidCursor => {
                "The `cursor` was not returned by this list for this API key, was changed, or is more than 24 hours old. Start again from the first page (no `cursor`)."
            }
            Unauthorized => {
                "Send a live API key as `Authorization: Bearer <key>`. Keys are issued by the hub's operators and rotated with `POST /v1/api-keys`."
            }
            NotFound => {
                "There is no such resource for this API key (another partner's resources are answered the same way), or no such route: the routes are listed at `/docs` and in `/openapi.json`."
            }
            InvalidRequest => "The request is readable but not valid: `errors[]` names each field (`field`) and what is wrong with it (`message`).",
            Conflict => "The resource changed while the request was handled, or already exists. Read it again and retry.",
            LastApiKey => "A partner always keeps at least one API key. Issue a new key with `POST /v1/api-keys` first, then revoke the old one.",
            MethodNotAllowed => "The route exists but does not take this method; `/docs` lists the methods of each route.",
            PayloadTooLarge => {
                "The request body is over the route's limit: 128 KiB for most of the partner API (settings are far smaller; send only what changes), 5,800,000 bytes for `POST …/candidates` (larger files go as uploads), and Lever's 30 MB for a PUT to an upload URL."
            }
            UnknownProfile => "No partner profile is loaded for this partner; the hub's operators must register it.",
            ReturnUrlNotAllowed => {
                "`return_url` must lie under one of the partner's registered return URLs (same scheme, host, port and path prefix)."
            }
            ConnectionNotActive => {
                "The connection cannot reach Lever: it is pending, needs a reconnect (the customer revoked the app or it was idle too long) or was disconnected. Start a reconnect with `POST /v1/connections/{id}/reconnect`."
            }
            FlowNotEnabled => {
                "The partner's profile does not have this flow, or the customer switched the trigger off (for hires: `settings.hire_triggers`). Change the connection's settings with `PATCH /v1/connections/{id}` to switch it on."
            }
            LeverRejected => "Lever refused the request the hub made for you; the detail carries Lever's message.",
            LeverUnavailable => "Lever did not answer in time or answered with an error. Retry after the `Retry-After` seconds.",
            RateLimited => "Lever is rate limiting this account. Retry after the `Retry-After` seconds.",
            IdempotencyKeyReused => {
                "This `Idempotency-Key` was first used with another body or for another connection (keys are kept 48 hours). Send a new key for a new submission; resend the same body (the same JSON: key order and whitespace do not matter) to get the first answer again."
            }
            IdempotencyKeyInUse => {
                "The first request with this `Idempotency-Key` is still being handled. Retry after the `Retry-After` seconds with the same key and body: you get its answer."
            }
            WebhookNotVerified => {
                "`POST /lever/webhooks/{connection_id}` takes Lever's deliveries for the webhooks the hub registered. A delivery it cannot verify (no such connection or webhook, no or a bad signature, `triggeredAt` outside the accepted window) gets this one answer, whatever the reason, and is not processed."
            }
            Unavailable => "The hub could not store or queue the request. Nothing was processed; retry (Lever retries its deliveries by itself).",
            Internal => "The hub failed. Nothing about the cause is shown; the operators have it in the logs. Retrying may help.",
            UploadUrlInvalid => {
                "The upload URL's signature does not check out, or its 15 minutes are over. Create a new upload with `POST /v1/connections/{id}/uploads` and PUT the bytes to its URL."
            }
            UploadUsed => {
                "An upload takes one PUT of its bytes and serves one submission. A second PUT to its URL, or a second submission naming its `upload_id`, is refused (`errors[]` names the file). Create a new upload for another file or submission; retrying the first submission with its `Idempotency-Key` still gets its answer."
            }
        }
    }
}

pub use crate::core::field_error::FieldError;

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
    /// A 401 for a presented key that is not valid: `error="invalid_token"` in the challenge.
    #[serde(skip)]
    invalid_token: bool,
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
            invalid_token: false,
        }
    }

    /// A 401 for a key that was presented but is not valid (RFC 6750 `invalid_token`).
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self { invalid_token: true, ..Self::new(ProblemType::Unauthorized, detail) }
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
        Self::new(ProblemType::InvalidRequest, format!("{field}: {message}")).with_errors(vec![FieldError { field: field.to_owned(), message }])
    }

    /// Our own fault: logged in full, shown to the caller without internals.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(ProblemType::Internal, "")
    }
}

/// What a partner is told when Lever refused or failed a call made for its request.
pub(crate) fn lever_problem(e: LeverError) -> Problem {
    match e {
        LeverError::RateLimited { retry_after } => {
            Problem::new(ProblemType::RateLimited, "Lever is rate limiting this account").retry_after(retry_after.map_or(5, |d| d.as_secs().max(1)))
        }
        LeverError::Unauthorized { .. } | LeverError::Revoked { .. } => {
            Problem::new(ProblemType::ConnectionNotActive, "Lever no longer accepts this connection; the customer must reconnect")
        }
        LeverError::Invalid { message, .. } | LeverError::Forbidden { message, .. } | LeverError::NotFound { message } => {
            Problem::new(ProblemType::LeverRejected, message)
        }
        other @ (LeverError::Server { .. } | LeverError::Transport { .. }) => {
            tracing::warn!(error = %other, "Lever unavailable");
            Problem::new(ProblemType::LeverUnavailable, "Lever did not answer").retry_after(5)
        }
        // The account's data centre could not be reached through Lever's own hosts: the detail
        // says why (the refused target is an origin only, never a path or query).
        other @ (LeverError::RedirectRefused { .. } | LeverError::TooManyRedirects { .. }) => {
            tracing::warn!(error = %other, "Lever redirect not followed");
            Problem::new(ProblemType::LeverUnavailable, other.to_string()).retry_after(60)
        }
        other => Problem::internal(&other),
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Strings and numbers only: serializing cannot fail, and an empty body would still be an error status.
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        if self.kind == Some(ProblemType::Unauthorized) {
            // RFC 6750: the scheme, and why a presented key was refused.
            let challenge = if self.invalid_token { r#"Bearer realm="partner-api", error="invalid_token""# } else { r#"Bearer realm="partner-api""# };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
        }
        response
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::ConditionFailed => Problem::new(ProblemType::Conflict, "the resource was changed concurrently; read it again"),
            crate::store::StoreError::BadCursor => Problem::new(ProblemType::InvalidCursor, "the cursor does not belong to this list"),
            other => Problem::internal(&other),
        }
    }
}

/// The safety net under every route: an error status that reached the client without a problem
/// document (a rejection of axum's, a 405 of a router without a fallback) gets one of the
/// matching type. Routes choose their own types; this only catches what they could not.
/// Deliberate HTML pages (the OAuth callback, for browsers that ask for HTML) pass.
pub async fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with(PROBLEM_JSON) || content_type.starts_with("text/html") {
        return response;
    }
    let kind = ProblemType::for_status(status);
    let mut problem = Problem::new(kind, status.canonical_reason().unwrap_or_default());
    problem.status = status.as_u16();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let mut rewritten = problem.into_response();
    if let Some(v) = retry_after {
        rewritten.headers_mut().insert(header::RETRY_AFTER, v);
    }
    rewritten
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
