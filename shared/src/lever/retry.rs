//! When the client retries, and how long it waits.
//!
//! # The rule
//!
//! - **Reads** (`GET`) and **idempotent writes** (set a stage, archive, add tags/sources/links —
//!   sending them twice leaves the same state; delete a webhook) are retried on 429, 500, 502, 503,
//!   504 and transport failures.
//! - **Creates** (opportunity, note, file upload, webhook, token exchange/refresh) are retried
//!   **only** when Lever surely did not process them: a 429 (rate-limited requests are rejected
//!   before processing) or a connection that never opened. A timeout, a broken connection or a 5xx
//!   on a create means "outcome unknown": the client returns the typed error
//!   ([`LeverError::Server`] / [`LeverError::Transport`] with `sent: true`) and the caller must look
//!   the record up (an opportunity by email, a webhook by url) before creating it again. Refresh
//!   tokens rotate and may be single-use, so a blind refresh retry could burn the connection.
//!
//! Waits: `Retry-After` (seconds or an HTTP date) when Lever sends one — capped by
//! [`RetryPolicy::max_retry_after`]; beyond the cap we give up and hand the hint to the caller
//! (queue and retry later) rather than hold a Lambda. Otherwise exponential backoff with jitter.
//! Attempts are bounded by [`RetryPolicy::max_retries`].

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};

use super::error::LeverError;

/// How a request may be retried; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    Read,
    IdempotentWrite,
    Create,
}

impl RetryClass {
    pub fn may_retry(self, err: &LeverError) -> bool {
        match (self, err) {
            (_, LeverError::RateLimited { .. }) => true,
            (_, LeverError::Transport { sent: false, .. }) => true,
            (RetryClass::Create, _) => false,
            (_, LeverError::Server { status }) => matches!(status, 500 | 502 | 503 | 504),
            (_, LeverError::Transport { .. }) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` we sleep through in-process.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 4, min_delay: Duration::from_millis(250), max_delay: Duration::from_secs(8), max_retry_after: Duration::from_secs(20) }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    pub(crate) fn backoff(&self) -> backon::ExponentialBackoff {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }

    /// The wait before the next attempt: Lever's hint if any (None = give up when it is longer
    /// than we are willing to wait), else the backoff's; `None` from the backoff = attempts spent.
    pub(crate) fn next_wait(&self, err: &LeverError, backoff_next: Option<Duration>) -> Option<Duration> {
        let backoff_next = backoff_next?;
        match err.retry_after() {
            Some(hint) if hint > self.max_retry_after => None,
            Some(hint) => Some(hint),
            None => Some(backoff_next),
        }
    }
}

/// Parse `Retry-After`: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        // Lever's headers are input: a value no `Duration` can hold is no hint (never a panic).
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:42 GMT", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now), Some(Duration::ZERO), "past date");
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn creates_are_only_retried_when_surely_unprocessed() {
        let rl = LeverError::RateLimited { retry_after: None };
        let s500 = LeverError::Server { status: 500 };
        let s503 = LeverError::Server { status: 503 };
        let timeout = LeverError::Transport { message: "timeout".into(), sent: true };
        let refused = LeverError::Transport { message: "refused".into(), sent: false };
        let bad = LeverError::Invalid { status: 400, code: "x".into(), message: "y".into() };
        for e in [&rl, &refused] {
            assert!(RetryClass::Create.may_retry(e), "{e:?}");
        }
        for e in [&s500, &s503, &timeout, &bad] {
            assert!(!RetryClass::Create.may_retry(e), "{e:?}");
        }
        for e in [&rl, &s500, &s503, &timeout, &refused] {
            assert!(RetryClass::Read.may_retry(e), "{e:?}");
            assert!(RetryClass::IdempotentWrite.may_retry(e), "{e:?}");
        }
        assert!(!RetryClass::Read.may_retry(&bad));
        assert!(!RetryClass::Read.may_retry(&LeverError::Unauthorized { message: String::new() }));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        let hint = |s| LeverError::RateLimited { retry_after: Some(Duration::from_secs(s)) };
        let b = Some(Duration::from_millis(300));
        assert_eq!(p.next_wait(&hint(2), b), Some(Duration::from_secs(2)));
        assert_eq!(p.next_wait(&hint(600), b), None, "too long: give up, caller queues");
        assert_eq!(p.next_wait(&LeverError::Server { status: 503 }, b), b);
        assert_eq!(p.next_wait(&hint(1), None), None, "attempts spent");
    }
}
