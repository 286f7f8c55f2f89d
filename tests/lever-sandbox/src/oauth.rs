//! Lever's OAuth server (Auth0-based): `GET /authorize` with auto-consent and
//! `POST /oauth/token` for the `authorization_code` and `refresh_token` grants.
//! Error bodies follow Auth0: `{"error": "...", "error_description": "..."}`.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use http::{HeaderMap, StatusCode, header};
use serde_json::json;
use sha2::Sha512;

use crate::Shared;
use crate::respond::Query;
use crate::state::{AccessToken, AuthCode, ConsentMode, Grant, RefreshToken, now_ms};
use crate::webhooks::random_hex;

/// Every scope Lever's docs list; anything else is rejected at `/authorize`.
pub const SCOPES: &[&str] = &[
    "offline_access", "applications:read:admin", "archive_reasons:read:admin", "audit_events:read:admin",
    "confidential:access:admin", "contact:read:admin", "contact:write:admin", "diversity_surveys:read:admin",
    "eeo_responses:read:admin", "eeo_responses_pii:read:admin", "feedback:read:admin", "feedback:write:admin",
    "feedback_templates:read:admin", "feedback_templates:write:admin", "files:read:admin", "files:write:admin",
    "forms:read:admin", "forms:write:admin", "form_templates:read:admin", "form_templates:write:admin",
    "groups:read:admin", "groups:write:admin", "interviews:read:admin", "interviews:write:admin",
    "notes:read:admin", "notes:write:admin", "offers:read:admin", "opportunities:read:admin",
    "opportunities:write:admin", "panels:read:admin", "panels:write:admin", "permissions:read:admin",
    "permissions:write:admin", "postings:read:admin", "postings:write:admin", "referrals:read:admin",
    "requisitions:read:admin", "requisitions:write:admin", "requisition_fields:read:admin",
    "requisition_fields:write:admin", "resumes:read:admin", "roles:read:admin", "roles:write:admin",
    "sources:read:admin", "stages:read:admin", "tags:read:admin", "tasks:read:admin", "uploads:write:admin",
    "users:read:admin", "users:write:admin", "webhooks:read:admin", "webhooks:write:admin",
];

pub fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), crate::gate::faults_layer))
        .with_state(shared)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    r
}

fn redirect(to: String) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = to.parse() {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(base).expect("redirect_uri validated before");
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

fn redirect_allowed(shared: &Shared, uri: &str) -> bool {
    if !shared.config.redirect_uris.is_empty() {
        return shared.config.redirect_uris.iter().any(|r| r == uri);
    }
    match url::Url::parse(uri) {
        Ok(u) => u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1") | Some("localhost")),
        Err(_) => false,
    }
}

async fn authorize(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let client_id = q.get("client_id").unwrap_or("");
    if client_id != shared.config.client_id {
        // Auth0 shows an error page rather than redirecting to an unverified client.
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Unknown client");
    }
    let redirect_uri = q.get("redirect_uri").unwrap_or("");
    if !redirect_allowed(&shared, redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("The redirect_uri {redirect_uri} is not registered for this client"),
        );
    }
    let state = q.get("state").unwrap_or("").to_string();
    let fail = |error: &str, desc: &str| {
        redirect(with_params(redirect_uri, &[("error", error), ("error_description", desc), ("state", &state)]))
    };
    if q.get("response_type") != Some("code") {
        return fail("unsupported_response_type", "Unsupported response type: only code is allowed");
    }
    if state.is_empty() {
        return fail("invalid_request", "Missing required parameter: state");
    }
    let audience = q.get("audience").unwrap_or("");
    if !shared.config.audiences.iter().any(|a| a == audience) {
        return fail("access_denied", &format!("Service not found: {audience}"));
    }
    let scope = q.get("scope").unwrap_or("").trim().to_string();
    if scope.is_empty() {
        return fail("invalid_scope", "Missing required parameter: scope");
    }
    if let Some(bad) = scope.split_whitespace().find(|s| !SCOPES.contains(s)) {
        return fail("invalid_scope", &format!("Unknown scope: {bad}"));
    }
    let mut st = shared.lock();
    if st.consent == Some(ConsentMode::Deny) {
        drop(st);
        return fail("access_denied", "user_did_not_authorize_the_request");
    }
    let code = random_hex(32);
    let account_id = st.consent_account.clone().unwrap_or_else(|| shared.config.account_id.clone());
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope,
            account_id,
            user_id: shared.seed_ids.super_admin.clone(),
            expires: Instant::now() + shared.config.code_ttl,
            used: false,
        },
    );
    drop(st);
    redirect(with_params(redirect_uri, &[("code", &code), ("state", &state)]))
}

/// Form (Lever's documented encoding) or JSON (Auth0 also accepts it).
fn parse_token_body(headers: &HeaderMap, body: &[u8]) -> Query {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let pairs = v
            .as_object()
            .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
            .unwrap_or_default();
        Query(pairs)
    } else {
        Query::parse(std::str::from_utf8(body).ok())
    }
}

/// Client credentials from the body, or HTTP Basic (client_secret_basic).
fn client_credentials(headers: &HeaderMap, form: &Query) -> (String, String) {
    if let (Some(id), Some(secret)) = (form.get("client_id"), form.get("client_secret")) {
        return (id.to_string(), secret.to_string());
    }
    if let Some(h) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some(b64) = h.strip_prefix("Basic ") {
            if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                if let Some((id, secret)) = String::from_utf8_lossy(&raw).split_once(':') {
                    return (id.to_string(), secret.to_string());
                }
            }
        }
    }
    (form.get("client_id").unwrap_or("").to_string(), String::new())
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let form = parse_token_body(&headers, &body);
    let grant_type = form.get("grant_type").unwrap_or("<missing>").to_string();
    let mut st = shared.lock();
    *st.counters.token_requests.entry(grant_type.clone()).or_default() += 1;
    let (id, secret) = client_credentials(&headers, &form);
    if id != shared.config.client_id || secret != shared.config.client_secret {
        if grant_type == "refresh_token" {
            st.counters.refresh_failures += 1;
        }
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = form.get("code") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: code");
            };
            let Some(c) = st.codes.get_mut(code) else {
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
            };
            if c.used || Instant::now() >= c.expires || c.client_id != id {
                c.used = true;
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
            }
            if let Some(r) = form.get("redirect_uri") {
                if r != c.redirect_uri {
                    let msg = format!("Redirect URI is wrong. You sent {r}, and we expected {}", c.redirect_uri);
                    return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", &msg);
                }
            }
            c.used = true;
            let c = c.clone();
            st.counters.code_exchanges += 1;
            let grant_id = uuid::Uuid::new_v4().to_string();
            st.grants.insert(
                grant_id.clone(),
                Grant { account_id: c.account_id, user_id: c.user_id, scope: c.scope, revoked: false },
            );
            issue(&shared, &mut st, &grant_id)
        }
        "refresh_token" => {
            let Some(rt) = form.get("refresh_token") else {
                st.counters.refresh_failures += 1;
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: refresh_token");
            };
            let usable = st.refresh_tokens.get(rt).and_then(|r| {
                let g = st.grants.get(&r.grant)?;
                let reused = r.used && shared.config.strict_refresh;
                (!g.revoked && !reused).then(|| r.grant.clone())
            });
            let Some(grant_id) = usable else {
                st.counters.refresh_failures += 1;
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Unknown or invalid refresh token.");
            };
            if let Some(r) = st.refresh_tokens.get_mut(rt) {
                r.used = true;
            }
            st.counters.refresh_successes += 1;
            issue(&shared, &mut st, &grant_id)
        }
        other => oauth_error(
            StatusCode::FORBIDDEN,
            "unsupported_grant_type",
            &format!("Unsupported grant type: {other}"),
        ),
    }
}

/// Creates a grant directly (no consent round-trip) and returns the token
/// response body; used by `Admin::issue_tokens` to shortcut tests.
pub(crate) fn grant_and_mint(shared: &Shared, st: &mut crate::state::State, account_id: &str, scope: &str) -> serde_json::Value {
    let grant_id = uuid::Uuid::new_v4().to_string();
    st.grants.insert(
        grant_id.clone(),
        Grant { account_id: account_id.into(), user_id: shared.seed_ids.super_admin.clone(), scope: scope.into(), revoked: false },
    );
    mint(shared, st, &grant_id).unwrap_or_default()
}

fn mint(shared: &Shared, st: &mut crate::state::State, grant_id: &str) -> Option<serde_json::Value> {
    let g = st.grants.get(grant_id).cloned()?;
    let ttl = shared.config.access_token_ttl;
    let access = jwt(shared, &g, ttl.as_secs());
    st.access_tokens.insert(access.clone(), AccessToken { grant: grant_id.to_string(), expires: Instant::now() + ttl });
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "scope": g.scope,
        "expires_in": ttl.as_secs(),
    });
    if g.scope.split_whitespace().any(|s| s == "offline_access") {
        let rt = format!("v1.{}", random_hex(40));
        st.refresh_tokens.insert(rt.clone(), RefreshToken { grant: grant_id.to_string(), used: false });
        body["refresh_token"] = json!(rt);
    }
    Some(body)
}

/// Mints an access token (and a fresh refresh token when `offline_access` was granted).
fn issue(shared: &Shared, st: &mut crate::state::State, grant_id: &str) -> Response {
    let Some(body) = mint(shared, st, grant_id) else {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Unknown grant");
    };
    let mut r = (StatusCode::OK, axum::Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    r
}

/// A JWT-shaped token with Lever's documented claims, HMAC-signed so it looks
/// and parses like the real thing. The sandbox itself validates by lookup.
fn jwt(shared: &Shared, g: &Grant, ttl_secs: u64) -> String {
    let iat = now_ms() / 1000;
    let header = json!({"alg": "HS512", "typ": "JWT", "v": "2.0", "kid": "sandbox"});
    let claims = json!({
        "https://oauth.lever.co/userId": g.user_id,
        "https://oauth.lever.co/accountId": g.account_id,
        "https://oauth.lever.co/clientId": shared.config.client_id,
        "iss": "https://auth.lever.co/",
        "sub": format!("{}@clients", shared.config.client_id),
        "aud": "https://api.lever.co/v1/",
        "iat": iat,
        "exp": iat + ttl_secs as i64,
        "azp": shared.config.client_id,
        "scope": g.scope,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha512>::new_from_slice(&shared.jwt_key).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}
