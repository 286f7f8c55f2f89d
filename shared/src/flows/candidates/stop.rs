//! Why a run of the candidate flow (the writer, the status reporter) stopped early, and how the
//! errors of the ports below it sort into "try again later" and "will not succeed".

use std::time::Duration;

use crate::core::candidate::error_codes;
use crate::flows::context::ContextError;
use crate::lever::error::LeverError;
use crate::store::StoreError;

/// Why a run stopped before the submission was written.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Try again later (Lever down, rate limiting, slow; the store unavailable).
    Transient { retry_after: Option<Duration>, message: String },
    /// Will not succeed as it is; `code` is one of `error_codes`.
    Failed { code: &'static str, message: String },
}

impl Stop {
    pub(super) fn failed(code: &'static str, message: impl Into<String>) -> Self {
        Stop::Failed { code, message: message.into() }
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Transient { retry_after: None, message: format!("the hub's store: {e}") }
    }
}

impl From<crate::files::FileError> for Stop {
    fn from(e: crate::files::FileError) -> Self {
        Stop::Transient { retry_after: None, message: format!("the hub's file store: {e}") }
    }
}

pub(crate) fn lever_stop(e: LeverError) -> Stop {
    match e {
        LeverError::RateLimited { retry_after } => Stop::Transient { retry_after, message: "Lever is rate limiting".into() },
        e @ (LeverError::Server { .. } | LeverError::Transport { .. } | LeverError::Decode { .. } | LeverError::PaginationLoop { .. }) => {
            Stop::Transient { retry_after: None, message: format!("Lever: {e}") }
        }
        LeverError::Unauthorized { .. } | LeverError::Revoked { .. } => {
            Stop::failed(error_codes::CONNECTION_NOT_ACTIVE, "Lever no longer accepts this connection; the customer must reconnect")
        }
        LeverError::Invalid { message, .. } | LeverError::Forbidden { message, .. } | LeverError::NotFound { message } => {
            Stop::failed(error_codes::LEVER_REJECTED, if message.is_empty() { "Lever refused the request".to_owned() } else { message })
        }
        // Kept for a later retry, never failed: the write did not reach Lever (the redirect was
        // refused before the body went anywhere), and the fix is the hub's, not the partner's.
        e @ (LeverError::InvalidClient { .. } | LeverError::Config(_) | LeverError::RedirectRefused { .. } | LeverError::TooManyRedirects { .. }) => {
            Stop::Transient { retry_after: None, message: format!("the hub's Lever client: {e}") }
        }
    }
}

impl From<ContextError> for Stop {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::UnknownConnection(_) => Stop::failed(error_codes::CONNECTION_NOT_ACTIVE, "the connection no longer exists"),
            ContextError::NotActive(status) => {
                Stop::failed(error_codes::CONNECTION_NOT_ACTIVE, format!("the connection is {status}; the customer must reconnect, then retry"))
            }
            ContextError::NoProfile(_) => Stop::Transient { retry_after: None, message: "no profile is loaded for this partner".into() },
            ContextError::Lever(e) => lever_stop(e),
            ContextError::Store(e) => e.into(),
            e @ ContextError::Unreadable(_) => Stop::Transient { retry_after: None, message: e.to_string() },
        }
    }
}
