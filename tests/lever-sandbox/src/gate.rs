//! Everything that happens before a Data API handler runs: request counting,
//! scripted faults, bearer-token checks and the per-token rate limit.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderValue, StatusCode};

use crate::Shared;
use crate::error::ApiError;
use crate::faults;
use crate::server::ConnKill;

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
    if decision.drop
        && let Some(k) = req.extensions().get::<ConnKill>()
    {
        shared.lock().counters.faults_served += 1;
        k.0.notify_one();
        // The connection task drops this future along with the connection.
        std::future::pending::<()>().await;
    }
    if let Some((status, location)) = decision.redirect {
        shared.lock().counters.faults_served += 1;
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
        return match HeaderValue::from_str(&location) {
            Ok(v) => (code, [(http::header::LOCATION, v)]).into_response(),
            Err(_) => (code, "scripted redirect without a usable Location").into_response(),
        };
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
        if let Some(s) = retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        return r;
    }
    let kill = req.extensions().get::<ConnKill>().cloned();
    let response = next.run(req).await;
    if let Some(d) = decision.response_delay {
        tokio::time::sleep(d).await;
    }
    if decision.lose_response
        && let Some(k) = kill
    {
        shared.lock().counters.faults_served += 1;
        k.0.notify_one();
        std::future::pending::<()>().await;
    }
    if let Some(status) = decision.error_after_commit {
        shared.lock().counters.faults_served += 1;
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return ApiError::new(code, faults::code_for(status), format!("Scripted fault after commit: {status}")).into_response();
    }
    response
}

/// Counts every Data API request that arrives (faulted and rejected ones too,
/// so a client's retries are visible), keyed by method and route template.
pub async fn count_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| req.uri().path().to_string());
    let key = format!("{} {}", req.method(), route);
    *shared.lock().counters.data_requests.entry(key).or_default() += 1;
    next.run(req).await
}

/// The credential a Data API request carries.
enum Credential {
    Bearer(String),
    /// HTTP Basic with the API key as user name (the password is ignored; Lever's is empty).
    ApiKey(String),
}

fn credential(req: &Request) -> Option<Credential> {
    let h = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = h.trim().split_once(' ')?;
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credential::Bearer(rest.to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let key = text.split_once(':').map(|(k, _)| k).unwrap_or(&text);
        return (!key.is_empty()).then(|| Credential::ApiKey(key.to_string()));
    }
    None
}

/// Authenticates (OAuth bearer token or API key), checks the token's scopes,
/// rate-limits per credential, and records every write with its `perform_as`.
pub async fn data_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let needed = crate::scopes::required(req.method().as_str(), &route);
    let Some(cred) = credential(&req) else {
        return ApiError::unauthorized("No API key or OAuth token provided").into_response();
    };
    let auth = {
        let mut st = shared.lock();
        let bucket_key = match &cred {
            Credential::Bearer(token) => {
                let Some(at) = st.access_tokens.get(token).cloned() else {
                    return ApiError::unauthorized("Invalid OAuth token").into_response();
                };
                if st.token_now() >= at.expires {
                    return ApiError::unauthorized("OAuth token has expired").into_response();
                }
                let Some(grant) = st.grants.get(&at.grant).cloned() else {
                    return ApiError::unauthorized("Invalid OAuth token").into_response();
                };
                if grant.revoked {
                    return ApiError::unauthorized("The application's access has been revoked").into_response();
                }
                if let Some(scope) = needed.filter(|_| shared.config.enforce_scopes)
                    && !crate::scopes::satisfied(&grant.scope, scope)
                {
                    return ApiError::forbidden(format!("This token is not authorized for this operation: missing scope {scope}")).into_response();
                }
                token.clone()
            }
            // A customer key reaches the whole account: no scopes to check.
            Credential::ApiKey(key) => {
                if !st.api_keys.contains_key(key) {
                    return ApiError::unauthorized("Invalid API key").into_response();
                }
                format!("key:{key}")
            }
        };
        if let Some(limit) = shared.config.rate_limit {
            let now = Instant::now();
            let bucket = st.buckets.entry(bucket_key.clone()).or_insert_with(|| crate::ratelimit::fresh(limit, now));
            if crate::ratelimit::take(bucket, limit, now).is_err() {
                st.counters.rate_limited += 1;
                return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Rate limit exceeded").into_response();
            }
        }
        if matches!(cred, Credential::ApiKey(_)) { "api_key" } else { "oauth" }
    };
    let method = req.method().clone();
    if method == http::Method::GET || method == http::Method::HEAD {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let perform_as = crate::respond::Query::parse(req.uri().query()).get("perform_as").map(str::to_string);
    let response = next.run(req).await;
    let mut st = shared.lock();
    let at = st.now_ms();
    st.record_write(crate::state::WriteRecord {
        at,
        method: method.to_string(),
        route: format!("{method} {route}"),
        path,
        perform_as,
        auth: auth.to_string(),
        status: response.status().as_u16(),
    });
    response
}

/// After anything that may have changed the account, write the state file.
pub async fn persist_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    // Admin calls write the file themselves.
    let path = req.uri().path();
    let changes = !path.starts_with("/_admin") && (req.method() != http::Method::GET && req.method() != http::Method::HEAD || path == "/authorize");
    let response = next.run(req).await;
    if changes && shared.config.state_file.is_some() {
        let s = shared.clone();
        // File I/O off the async workers; the response waits so that an answered write is on disk.
        let _ = tokio::task::spawn_blocking(move || s.persist()).await;
    }
    response
}
