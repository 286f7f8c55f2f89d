//! Everything that happens before a Data API handler runs: request counting,
//! scripted faults, bearer-token checks and the per-token rate limit.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use crate::Shared;
use crate::error::ApiError;
use crate::faults;
use crate::server::ConnKill;

/// The authenticated caller, available to handlers as an extension.
/// Handlers may read it; Lever itself never uses it to default `perform_as`.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Caller {
    pub token: String,
    pub account_id: String,
    pub user_id: String,
}

/// Applies fault rules for any sandbox route (OAuth and Data API alike).
pub async fn faults_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let decision = {
        let mut st = shared.lock();
        faults::decide(&mut st.faults, &path)
    };
    if let Some(d) = decision.delay {
        tokio::time::sleep(d).await;
    }
    if decision.drop {
        if let Some(k) = req.extensions().get::<ConnKill>() {
            shared.lock().counters.faults_served += 1;
            k.0.notify_one();
            // The connection task drops this future along with the connection.
            std::future::pending::<()>().await;
        }
    }
    if let Some((status, retry_after)) = decision.respond {
        let mut st = shared.lock();
        st.counters.faults_served += 1;
        if status == 429 {
            st.counters.rate_limited += 1;
        }
        drop(st);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = ApiError::new(code, faults::code_for(status), format!("Scripted fault: {status}")).into_response();
        if let Some(s) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        return r;
    }
    next.run(req).await
}

/// Counts every Data API request that arrives (faulted and rejected ones too,
/// so a client's retries are visible), keyed by method and route template.
pub async fn count_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let key = format!("{} {}", req.method(), route);
    *shared.lock().counters.data_requests.entry(key).or_default() += 1;
    next.run(req).await
}

/// Authenticates and rate-limits a Data API request.
pub async fn data_layer(State(shared): State<Shared>, mut req: Request, next: Next) -> Response {
    let token = match bearer(&req) {
        Some(t) => t,
        None => return ApiError::unauthorized("No API key or OAuth token provided").into_response(),
    };
    let caller = {
        let mut st = shared.lock();
        let Some(at) = st.access_tokens.get(&token).cloned() else {
            return ApiError::unauthorized("Invalid OAuth token").into_response();
        };
        if Instant::now() >= at.expires {
            return ApiError::unauthorized("OAuth token has expired").into_response();
        }
        let Some(grant) = st.grants.get(&at.grant).cloned() else {
            return ApiError::unauthorized("Invalid OAuth token").into_response();
        };
        if grant.revoked {
            return ApiError::unauthorized("The application's access has been revoked").into_response();
        }
        if let Some(limit) = shared.config.rate_limit {
            let now = Instant::now();
            let bucket = st.buckets.entry(token.clone()).or_insert_with(|| crate::ratelimit::fresh(limit, now));
            if crate::ratelimit::take(bucket, limit, now).is_err() {
                st.counters.rate_limited += 1;
                return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Rate limit exceeded").into_response();
            }
        }
        Caller { token, account_id: grant.account_id, user_id: grant.user_id }
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = h.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
        Some(rest.trim().to_string())
    } else {
        None
    }
}
