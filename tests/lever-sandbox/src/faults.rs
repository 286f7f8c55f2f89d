//! Scripted failures, injected in front of the OAuth and Data API routes so a
//! client's retry, backoff and reconnect logic can be exercised on demand.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (Lever-style error body); `retry_after` adds a `Retry-After` header.
    Status { status: u16, retry_after: Option<u64> },
    /// Answer with `status` (a 5xx) for this fraction of matching requests.
    ErrorRate { rate: f64, status: u16 },
    /// Delay matching requests, then serve them normally.
    Latency { millis: u64 },
    /// Close the connection without any response.
    Drop,
    /// Run the request to completion (writes happen), then close the
    /// connection instead of answering: "processed, but the response was lost".
    LoseResponse,
    /// Run the request first, then hold the response back for `millis`; a client
    /// that times out meanwhile has still had its write applied.
    ResponseLatency { millis: u64 },
    /// Run the request to completion (writes happen), then answer `status`
    /// (a 5xx) instead of the real response: the "ambiguous create".
    ErrorAfterCommit { status: u16 },
    /// Answer `status` (301, 302, 307, 308) with this `Location`, as Lever does for an account
    /// in another data centre; any target, so a client's refusal of foreign hosts can be tested.
    Redirect { status: u16, location: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    /// Flattened so the JSON form is `{"kind": "status", "status": 429, ...}`.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only requests whose path starts with this prefix (e.g. `/v1/opportunities`).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// How many more requests this rule applies to; `None` = until cleared.
    #[serde(default)]
    pub remaining: Option<u32>,
}

impl FaultRule {
    pub fn status(times: u32, status: u16, retry_after: Option<u64>) -> Self {
        FaultRule { kind: FaultKind::Status { status, retry_after }, path_prefix: None, remaining: Some(times) }
    }
    pub fn error_rate(rate: f64, status: u16) -> Self {
        FaultRule { kind: FaultKind::ErrorRate { rate, status }, path_prefix: None, remaining: None }
    }
    pub fn latency(d: Duration) -> Self {
        FaultRule { kind: FaultKind::Latency { millis: d.as_millis() as u64 }, path_prefix: None, remaining: None }
    }
    pub fn drop_connections(times: u32) -> Self {
        FaultRule { kind: FaultKind::Drop, path_prefix: None, remaining: Some(times) }
    }
    pub fn lose_responses(times: u32) -> Self {
        FaultRule { kind: FaultKind::LoseResponse, path_prefix: None, remaining: Some(times) }
    }
    /// The next `times` matching requests are applied, then answered with `status`.
    pub fn error_after_commit(times: u32, status: u16) -> Self {
        FaultRule { kind: FaultKind::ErrorAfterCommit { status }, path_prefix: None, remaining: Some(times) }
    }
    pub fn response_latency(d: Duration) -> Self {
        FaultRule { kind: FaultKind::ResponseLatency { millis: d.as_millis() as u64 }, path_prefix: None, remaining: None }
    }
    /// The next `times` matching requests answer `status` with `Location: location`.
    pub fn redirect(times: u32, status: u16, location: impl Into<String>) -> Self {
        FaultRule { kind: FaultKind::Redirect { status, location: location.into() }, path_prefix: None, remaining: Some(times) }
    }
    /// Restrict the rule to paths starting with `prefix`.
    pub fn on_path(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }
}

/// What the gate should do with one request.
#[derive(Debug, Default)]
pub struct Decision {
    pub delay: Option<Duration>,
    pub respond: Option<(u16, Option<u64>)>,
    pub drop: bool,
    /// Applied after the handler ran.
    pub response_delay: Option<Duration>,
    pub lose_response: bool,
    /// Applied after the handler ran: replace its answer with this status.
    pub error_after_commit: Option<u16>,
    /// Answer this redirect (status, `Location`) instead of running the handler.
    pub redirect: Option<(u16, String)>,
}

/// Consumes matching rules for one request. Latencies stack with the other
/// kinds; the first status/drop/lose-response rule that fires wins.
pub fn decide(rules: &mut Vec<FaultRule>, path: &str) -> Decision {
    let mut d = Decision::default();
    let mut rng = rand::rng();
    for r in rules.iter_mut() {
        if r.remaining == Some(0) {
            continue;
        }
        if let Some(p) = &r.path_prefix
            && !path.starts_with(p.as_str())
        {
            continue;
        }
        let fired = match &r.kind {
            FaultKind::Latency { millis } => {
                d.delay = Some(d.delay.unwrap_or_default() + Duration::from_millis(*millis));
                true
            }
            FaultKind::ResponseLatency { millis } => {
                d.response_delay = Some(d.response_delay.unwrap_or_default() + Duration::from_millis(*millis));
                true
            }
            _ if d.respond.is_some() || d.drop || d.lose_response || d.error_after_commit.is_some() || d.redirect.is_some() => false,
            FaultKind::Redirect { status, location } => {
                d.redirect = Some((*status, location.clone()));
                true
            }
            FaultKind::LoseResponse => {
                d.lose_response = true;
                true
            }
            FaultKind::ErrorAfterCommit { status } => {
                d.error_after_commit = Some(*status);
                true
            }
            FaultKind::Status { status, retry_after } => {
                d.respond = Some((*status, *retry_after));
                true
            }
            FaultKind::ErrorRate { rate, status } => {
                if rng.random_bool(rate.clamp(0.0, 1.0)) {
                    d.respond = Some((*status, None));
                    true
                } else {
                    false
                }
            }
            FaultKind::Drop => {
                d.drop = true;
                true
            }
        };
        if fired && let Some(n) = r.remaining.as_mut() {
            *n -= 1;
        }
    }
    rules.retain(|r| r.remaining != Some(0));
    d
}

/// Lever-ish error code for a scripted status.
pub fn code_for(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "ResourceNotFound",
        408 => "RequestTimeout",
        422 => "UnprocessableEntity",
        429 => "TooManyRequests",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InternalServer",
    }
}
