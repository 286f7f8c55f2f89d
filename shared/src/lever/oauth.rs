//! Lever OAuth (authorization-code flow with refresh-token rotation).
//!
//! - [`authorize_url`] is pure: the caller makes and checks `state`.
//! - Code exchange and refresh return a [`TokenSet`]. Every refresh returns a **new** refresh token
//!   and the old one may stop working at once (strict single-use): persist the new one atomically
//!   before using the access token. Neither call is retried after it may have reached Lever.
//! - `invalid_grant` (revoked, expired, already used) → [`LeverError::Revoked`]: reconnect;
//!   `invalid_client` / `unauthorized_client` → [`LeverError::InvalidClient`]: our configuration;
//!   429 / 5xx / transport → transient.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::error::LeverError;
use super::secret::{AccessToken, RefreshToken};

/// Always requested: without it Lever issues no refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// `GET {auth_base}/authorize?...` for a Super Admin's consent. `offline_access` is added to
/// `scopes` if missing; `prompt=consent` is sent as Lever partners do.
pub fn authorize_url(auth_base: &Url, client_id: &str, audience: &str, redirect_uri: &str, state: &str, scopes: &[String]) -> Url {
    let mut url = auth_base.clone();
    url.path_segments_mut().expect("http(s) base url").pop_if_empty().push("authorize");
    let mut all: Vec<&str> = scopes.iter().map(String::as_str).collect();
    if !all.contains(&OFFLINE_ACCESS) {
        all.insert(0, OFFLINE_ACCESS);
    }
    url.query_pairs_mut()
        .clear()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("state", state)
        .append_pair("audience", audience)
        .append_pair("scope", &all.join(" "))
        .append_pair("prompt", "consent");
    url
}

/// The token endpoint's answer (both grants).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenSet {
    pub access_token: AccessToken,
    /// Present when `offline_access` was granted; a new value on every refresh.
    pub refresh_token: Option<RefreshToken>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// Seconds (Lever: 3600).
    #[serde(default = "default_expires_in")]
    pub expires_in: u64,
}

fn default_expires_in() -> u64 {
    3600
}

impl TokenSet {
    pub fn expires_in(&self) -> Duration {
        Duration::from_secs(self.expires_in)
    }

    /// Absolute expiry in ms given the time the response arrived.
    pub fn expires_at_ms(&self, received_at_ms: i64) -> i64 {
        received_at_ms + (self.expires_in as i64) * 1000
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_whitespace()
    }
}

/// `{"error": "...", "error_description": "..."}` (Auth0 style).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenErrorBody {
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Map a non-2xx token-endpoint answer to a typed error (never echoing the request).
pub(crate) fn token_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> LeverError {
    let parsed: Option<TokenErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|b| b.error.clone()).unwrap_or_default();
    let description = parsed.and_then(|b| b.error_description).unwrap_or_default();
    match (status, code.as_str()) {
        (_, "invalid_grant") => LeverError::Revoked { description },
        (_, "invalid_client" | "unauthorized_client") => LeverError::InvalidClient { code, description },
        (429, _) => LeverError::RateLimited { retry_after },
        (s, _) if s >= 500 => LeverError::Server { status: s },
        (401, _) => LeverError::InvalidClient { code, description },
        (s, _) => LeverError::Invalid { status: s, code, message: description },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_has_every_parameter() {
        let base = Url::parse("https://auth.lever.co").unwrap();
        let url = authorize_url(
            &base,
            "cid",
            "https://api.lever.co/v1/",
            "https://hub.example/callback?x=1",
            "st&ate",
            &["opportunities:write:admin".into(), "postings:read:admin".into()],
        );
        assert_eq!(url.path(), "/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["redirect_uri"], "https://hub.example/callback?x=1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["state"], "st&ate");
        assert_eq!(q["audience"], "https://api.lever.co/v1/");
        assert_eq!(q["scope"], "offline_access opportunities:write:admin postings:read:admin");
        assert_eq!(q["prompt"], "consent");
    }

    #[test]
    fn token_errors_are_typed() {
        let revoked = token_error(403, br#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#, None);
        assert!(matches!(revoked, LeverError::Revoked { .. }) && revoked.is_revoked());
        let client = token_error(401, br#"{"error":"invalid_client"}"#, None);
        assert!(matches!(client, LeverError::InvalidClient { .. }));
        assert!(token_error(503, b"", None).is_transient());
        assert!(matches!(token_error(429, b"", Some(Duration::from_secs(1))), LeverError::RateLimited { .. }));
    }

    #[test]
    fn token_set_debug_hides_tokens() {
        let t: TokenSet = serde_json::from_str(
            r#"{"access_token":"eyJhbGciOi.secret-access","refresh_token":"v1.secret-refresh","token_type":"Bearer","scope":"offline_access a:b","expires_in":3600}"#,
        )
        .unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("secret-access") && !dbg.contains("secret-refresh"), "{dbg}");
        assert_eq!(t.expires_at_ms(1_000), 3_601_000);
        assert_eq!(t.scopes().collect::<Vec<_>>(), ["offline_access", "a:b"]);
    }
}
