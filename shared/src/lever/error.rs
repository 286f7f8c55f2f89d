//! Typed errors of the Lever client. Messages carry status codes, Lever's error `code`/`message`
//! and paths — never tokens, secrets or request bodies.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LeverError {
    /// 401 from the Data API: the access token is missing, expired or no longer valid.
    /// Refresh once; if the refresh answers [`LeverError::Revoked`], the customer must reconnect.
    #[error("unauthorized by Lever (401): {message}")]
    Unauthorized { message: String },

    /// The token endpoint answered `invalid_grant`: refresh token (or code) revoked, expired or
    /// already used. The connection needs a new OAuth consent.
    #[error("grant revoked or invalid (invalid_grant): {description}")]
    Revoked { description: String },

    /// The token endpoint rejected the app's own credentials (`invalid_client`,
    /// `unauthorized_client`): a configuration problem, not the customer's.
    #[error("OAuth client rejected ({code}): {description}")]
    InvalidClient { code: String, description: String },

    /// 429 that outlived the retry budget (or a write we do not retry).
    #[error("rate limited by Lever (429), retry after {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },

    #[error("not found (404): {message}")]
    NotFound { message: String },

    /// 400 or 422: the request was understood and refused; retrying the same request won't help.
    #[error("invalid request ({status}, {code}): {message}")]
    Invalid { status: u16, code: String, message: String },

    /// 403 on the Data API: the account settings, scopes or the perform_as user don't permit it.
    #[error("forbidden by Lever (403, {code}): {message}")]
    Forbidden { code: String, message: String },

    /// 5xx (and other unexpected statuses). On a create this means "outcome unknown": look the
    /// record up (e.g. by email) before trying again.
    #[error("Lever server error ({status})")]
    Server { status: u16 },

    /// Connect failure, timeout, broken body. `sent` is false when the request surely never
    /// reached Lever (connect/DNS failure), so even a create may be retried.
    #[error("transport error (request possibly sent: {sent}): {message}")]
    Transport { message: String, sent: bool },

    /// A response body that did not match the expected shape.
    #[error("cannot decode Lever response at {path}: {message}")]
    Decode { path: String, message: String },

    /// A listing returned an offset token it had already returned: stop instead of looping.
    #[error("pagination loop: offset token repeated after {pages} page(s)")]
    PaginationLoop { pages: u32 },

    /// Lever answered with a redirect to a place that is not one of Lever's hosts (or to no
    /// readable place): not followed, so neither the token nor the body went there. `target` is
    /// the origin only (paths and queries may hold personal data).
    #[error("Lever redirected the request to {target}, which is not one of Lever's hosts; the hub did not follow it")]
    RedirectRefused { target: String },

    /// Lever kept redirecting past the hub's bound.
    #[error("Lever redirected the request more than {hops} times; the hub stopped following")]
    TooManyRedirects { hops: u32 },

    /// A request we could not even build (bad base URL, bad id).
    #[error("invalid client configuration or argument: {0}")]
    Config(String),
}

impl LeverError {
    /// The connection can no longer be used without a new consent (or at least a refresh, for 401).
    pub fn needs_reauth(&self) -> bool {
        matches!(self, LeverError::Unauthorized { .. } | LeverError::Revoked { .. })
    }

    /// The connection must be reconnected by a Super Admin.
    pub fn is_revoked(&self) -> bool {
        matches!(self, LeverError::Revoked { .. })
    }

    /// Worth retrying later (queue it): rate limits, server errors, transport failures.
    pub fn is_transient(&self) -> bool {
        matches!(self, LeverError::RateLimited { .. } | LeverError::Server { .. } | LeverError::Transport { .. })
    }

    /// The Retry-After hint, if Lever gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LeverError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

pub type LeverResult<T> = Result<T, LeverError>;
