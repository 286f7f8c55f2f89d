//! Lever's OAuth server (Auth0-based): `GET /authorize` (instant approval, an HTML
//! consent page, or refusal; PKCE S256) and
//! `POST /oauth/token` for the `authorization_code` and `refresh_token` grants.
//! Error bodies follow Auth0: `{"error": "...", "error_description": "..."}`.

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
    "offline_access",
    "applications:read:admin",
    "archive_reasons:read:admin",
    "audit_events:read:admin",
    "confidential:access:admin",
    "contact:read:admin",
    "contact:write:admin",
    "diversity_surveys:read:admin",
    "eeo_responses:read:admin",
    "eeo_responses_pii:read:admin",
    "feedback:read:admin",
    "feedback:write:admin",
    "feedback_templates:read:admin",
    "feedback_templates:write:admin",
    "files:read:admin",
    "files:write:admin",
    "forms:read:admin",
    "forms:write:admin",
    "form_templates:read:admin",
    "form_templates:write:admin",
    "groups:read:admin",
    "groups:write:admin",
    "interviews:read:admin",
    "interviews:write:admin",
    "notes:read:admin",
    "notes:write:admin",
    "offers:read:admin",
    "opportunities:read:admin",
    "opportunities:write:admin",
    "panels:read:admin",
    "panels:write:admin",
    "permissions:read:admin",
    "permissions:write:admin",
    "postings:read:admin",
    "postings:write:admin",
    "referrals:read:admin",
    "requisitions:read:admin",
    "requisitions:write:admin",
    "requisition_fields:read:admin",
    "requisition_fields:write:admin",
    "resumes:read:admin",
    "roles:read:admin",
    "roles:write:admin",
    "sources:read:admin",
    "stages:read:admin",
    "tags:read:admin",
    "tasks:read:admin",
    "uploads:write:admin",
    "users:read:admin",
    "users:write:admin",
    "webhooks:read:admin",
    "webhooks:write:admin",
];

pub fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/authorize/consent", post(crate::consent::decide))
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

pub(crate) fn redirect(to: String) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = to.parse() {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    // Registered URIs come from config and may be odd; never panic on them.
    let Ok(mut u) = url::Url::parse(base) else {
        return base.to_string();
    };
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

/// A validated `/authorize` request, ready for a consent decision.
pub(crate) struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    /// The Lever account the grant will belong to.
    pub account_id: String,
}

/// The PKCE `code_challenge` of an authorize request: S256 only (RFC 7636's
/// `plain` is refused, as is anything that is not a 43-character base64url value).
fn pkce_challenge(q: &Query, required: bool) -> Result<Option<String>, (&'static str, String)> {
    let challenge = q.get("code_challenge").filter(|c| !c.is_empty());
    let method = q.get("code_challenge_method").filter(|m| !m.is_empty());
    match (challenge, method) {
        (None, None) if required => Err(("invalid_request", "Missing required parameter: code_challenge (this application requires PKCE)".into())),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(("invalid_request", "Missing required parameter: code_challenge".into())),
        (Some(_), None) | (Some(_), Some("plain")) => Err(("invalid_request", "Unsupported code_challenge_method: plain. Use S256".into())),
        (Some(c), Some("S256")) => {
            let ok = c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(Some(c.to_string()))
            } else {
                Err(("invalid_request", "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)".into()))
            }
        }
        (Some(_), Some(other)) => Err(("invalid_request", format!("Unsupported code_challenge_method: {other}"))),
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
    let fail = |error: &str, desc: &str| refuse(redirect_uri, &state, error, desc);
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
    let code_challenge = match pkce_challenge(&q, shared.config.require_pkce) {
        Ok(c) => c,
        Err((error, desc)) => return fail(error, &desc),
    };
    let (mode, account_id) = {
        let st = shared.lock();
        (st.consent.unwrap_or(shared.config.consent), st.consent_account.clone().unwrap_or_else(|| shared.config.account_id.clone()))
    };
    let req = AuthorizeRequest {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        scope,
        code_challenge,
        account_id,
    };
    match mode {
        ConsentMode::Deny => fail("access_denied", "user_did_not_authorize_the_request"),
        ConsentMode::Approve => approve(&shared, req),
        ConsentMode::Page => crate::consent::page(&shared, req),
    }
}

/// Redirects back to the client with an error (the request was valid enough to trust `redirect_uri`).
pub(crate) fn refuse(redirect_uri: &str, state: &str, error: &str, desc: &str) -> Response {
    redirect(with_params(redirect_uri, &[("error", error), ("error_description", desc), ("state", state)]))
}

/// Consent given: issues a single-use code and redirects back with it.
pub(crate) fn approve(shared: &Shared, req: AuthorizeRequest) -> Response {
    let mut st = shared.lock();
    let code = random_hex(32);
    let scope = match &st.granted_scopes {
        Some(allowed) => req.scope.split_whitespace().filter(|s| allowed.iter().any(|a| a == s)).collect::<Vec<_>>().join(" "),
        None => req.scope,
    };
    let code_expires = st.token_now() + shared.config.code_ttl.as_millis() as i64;
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: req.client_id,
            redirect_uri: req.redirect_uri.clone(),
            scope,
            account_id: req.account_id,
            user_id: shared.seed_ids.super_admin.clone(),
            expires: code_expires,
            used: false,
            code_challenge: req.code_challenge,
        },
    );
    drop(st);
    redirect(with_params(&req.redirect_uri, &[("code", &code), ("state", &req.state)]))
}

/// RFC 7636 S256: `BASE64URL(SHA256(code_verifier)) == code_challenge`, compared in constant time.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    use sha2::Digest;
    use subtle::ConstantTimeEq;
    let well_formed =
        (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    well_formed && computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// Form (Lever's documented encoding) or JSON (Auth0 also accepts it).
fn parse_token_body(headers: &HeaderMap, body: &[u8]) -> Query {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let pairs = v.as_object().map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()).unwrap_or_default();
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
    if let Some(h) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(b64) = h.strip_prefix("Basic ")
        && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim())
        && let Some((id, secret)) = String::from_utf8_lossy(&raw).split_once(':')
    {
        return (id.to_string(), secret.to_string());
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
            let now = st.token_now();
            let Some(c) = st.codes.get_mut(code) else {
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
            };
            if c.used || now >= c.expires || c.client_id != id {
                c.used = true;
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
            }
            if let Some(r) = form.get("redirect_uri")
                && r != c.redirect_uri
            {
                let msg = format!("Redirect URI is wrong. You sent {r}, and we expected {}", c.redirect_uri);
                return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", &msg);
            }
            // PKCE: a code issued for a challenge needs its verifier; a verifier for a code
            // issued without one means the client lost track of its flow.
            match (&c.code_challenge, form.get("code_verifier")) {
                (Some(ch), Some(v)) if verifier_matches(v, ch) => {}
                (Some(_), Some(_)) => {
                    c.used = true;
                    return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Failed to verify code verifier");
                }
                (Some(_), None) => {
                    c.used = true;
                    return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Missing required parameter: code_verifier");
                }
                (None, Some(_)) => {
                    c.used = true;
                    return oauth_error(
                        StatusCode::FORBIDDEN,
                        "invalid_grant",
                        "code_verifier was sent but the authorization request had no code_challenge",
                    );
                }
                (None, None) => {}
            }
            c.used = true;
            let c = c.clone();
            st.counters.code_exchanges += 1;
            let grant_id = uuid::Uuid::new_v4().to_string();
            st.grants.insert(grant_id.clone(), Grant { created: now, account_id: c.account_id, user_id: c.user_id, scope: c.scope, revoked: false });
            issue(&shared, &mut st, &grant_id)
        }
        "refresh_token" => {
            let Some(rt) = form.get("refresh_token") else {
                st.counters.refresh_failures += 1;
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: refresh_token");
            };
            // Lever: refresh tokens die after 90 days without use or one year in total.
            let now = st.token_now();
            let cfg = &shared.config;
            let usable = st.refresh_tokens.get(rt).and_then(|r| {
                let g = st.grants.get(&r.grant)?;
                let reused = r.used && cfg.strict_refresh;
                let idle = now - r.issued > cfg.refresh_token_idle_ttl.as_millis() as i64;
                let old = now - g.created > cfg.refresh_token_max_ttl.as_millis() as i64;
                (!g.revoked && !reused && !idle && !old).then(|| r.grant.clone())
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
        other => oauth_error(StatusCode::FORBIDDEN, "unsupported_grant_type", &format!("Unsupported grant type: {other}")),
    }
}

/// Creates a grant directly (no consent round-trip) and returns the token
/// response body; used by `Admin::issue_tokens` to shortcut tests.
pub(crate) fn grant_and_mint(shared: &Shared, st: &mut crate::state::State, account_id: &str, scope: &str) -> serde_json::Value {
    let grant_id = uuid::Uuid::new_v4().to_string();
    st.grants.insert(
        grant_id.clone(),
        Grant {
            created: st.token_now(),
            account_id: account_id.into(),
            user_id: shared.seed_ids.super_admin.clone(),
            scope: scope.into(),
            revoked: false,
        },
    );
    mint(shared, st, &grant_id).unwrap_or_default()
}

fn mint(shared: &Shared, st: &mut crate::state::State, grant_id: &str) -> Option<serde_json::Value> {
    let g = st.grants.get(grant_id).cloned()?;
    let ttl = shared.config.access_token_ttl;
    let access = jwt(shared, &g, ttl.as_secs());
    let now = st.token_now();
    st.access_tokens.insert(access.clone(), AccessToken { grant: grant_id.to_string(), expires: now + ttl.as_millis() as i64 });
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "scope": g.scope,
        "expires_in": ttl.as_secs(),
    });
    if g.scope.split_whitespace().any(|s| s == "offline_access") {
        let rt = format!("v1.{}", random_hex(40));
        st.refresh_tokens.insert(rt.clone(), RefreshToken { grant: grant_id.to_string(), used: false, issued: now });
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
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = Hmac::<Sha512>::new_from_slice(&shared.jwt_key).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}
