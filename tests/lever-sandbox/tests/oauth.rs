//! OAuth: authorize/consent redirects, single-use codes, refresh rotation,
//! strict single-use refresh, revocation, expiry.

mod common;

use std::time::Duration;

use common::{TIMEOUT, post_form};
use lever_sandbox::client::{self, ClientResponse};
use lever_sandbox::{ConsentMode, Sandbox, SandboxConfig};

const REDIRECT: &str = "http://127.0.0.1:4567/oauth/callback";
const SCOPE: &str = "offline_access opportunities:read:admin postings:read:admin stages:read:admin";

async fn authorize(base: &str, state: &str, scope: &str, redirect: &str) -> ClientResponse {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", "sandbox-client"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", state),
            ("audience", "https://api.lever.co/v1/"),
            ("scope", scope),
            ("prompt", "consent"),
        ])
        .finish();
    client::send("GET", &format!("{base}/authorize?{q}"), &[], vec![], TIMEOUT).await.unwrap()
}

fn location_params(r: &ClientResponse) -> Vec<(String, String)> {
    assert_eq!(r.status, 302, "authorize redirects: {:?}", String::from_utf8_lossy(&r.body));
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert!(loc.as_str().starts_with(REDIRECT));
    loc.query_pairs().into_owned().collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

async fn code(base: &str) -> String {
    let p = location_params(&authorize(base, "st4te", SCOPE, REDIRECT).await);
    assert_eq!(param(&p, "state"), Some("st4te"));
    param(&p, "code").unwrap().to_string()
}

async fn exchange(base: &str, code: &str) -> ClientResponse {
    post_form(
        &format!("{base}/oauth/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

async fn refresh(base: &str, rt: &str) -> ClientResponse {
    post_form(
        &format!("{base}/oauth/token"),
        &[("grant_type", "refresh_token"), ("client_id", "sandbox-client"), ("client_secret", "sandbox-secret"), ("refresh_token", rt)],
    )
    .await
}

async fn data_api(base: &str, token: &str) -> ClientResponse {
    let auth = format!("Bearer {token}");
    client::send("GET", &format!("{base}/v1/stages"), &[("authorization", &auth)], vec![], TIMEOUT).await.unwrap()
}

#[tokio::test]
async fn code_flow_issues_tokens_and_codes_are_single_use() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let c = code(&base).await;
    let r = exchange(&base, &c).await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], SCOPE);
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(at.split('.').count(), 3, "JWT-shaped access token");
    assert!(t["refresh_token"].is_string());
    assert_eq!(data_api(&base, at).await.status, 200);

    let again = exchange(&base, &c).await;
    assert_eq!(again.status, 403);
    assert_eq!(again.json()["error"], "invalid_grant");

    let c2 = code(&base).await;
    let bad = post_form(
        &format!("{base}/oauth/token"),
        &[("grant_type", "authorization_code"), ("client_id", "sandbox-client"), ("client_secret", "nope"), ("code", &c2)],
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");

    let counters = sb.admin().counters();
    assert_eq!(counters.token_requests.get("authorization_code"), Some(&3));
    assert_eq!(counters.code_exchanges, 1);
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let p = location_params(&authorize(&base, "s", "opportunities:read:admin", REDIRECT).await);
    let r = exchange(&base, param(&p, "code").unwrap()).await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("refresh_token").is_none());
}

#[tokio::test]
async fn refresh_rotates_and_strict_mode_rejects_reuse() {
    let sb = Sandbox::start(SandboxConfig { strict_refresh: true, ..SandboxConfig::default() }).await.unwrap();
    let base = sb.base_url();
    let t = exchange(&base, &code(&base).await).await.json();
    let rt1 = t["refresh_token"].as_str().unwrap().to_string();
    let r = refresh(&base, &rt1).await;
    assert_eq!(r.status, 200);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "a new refresh token on every refresh");
    assert_eq!(data_api(&base, r.json()["access_token"].as_str().unwrap()).await.status, 200);

    let reuse = refresh(&base, &rt1).await;
    assert_eq!(reuse.status, 403);
    assert_eq!(reuse.json()["error"], "invalid_grant");
    assert_eq!(refresh(&base, &rt2).await.status, 200);

    let c = sb.admin().counters();
    assert_eq!((c.refresh_successes, c.refresh_failures), (2, 1));
}

#[tokio::test]
async fn lenient_mode_lets_an_old_refresh_token_work_again() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let t = exchange(&base, &code(&base).await).await.json();
    let rt1 = t["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&base, rt1).await.status, 200);
    assert_eq!(refresh(&base, rt1).await.status, 200);
}

#[tokio::test]
async fn revoke_gives_403_on_refresh_and_401_on_the_data_api() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let t = exchange(&base, &code(&base).await).await.json();
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(data_api(&base, at).await.status, 200);
    assert_eq!(sb.admin().revoke_all(), 1);
    let r = refresh(&base, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "invalid_grant");
    let d = data_api(&base, at).await;
    assert_eq!(d.status, 401);
    assert_eq!(d.json()["code"], "Unauthorized");
    assert!(d.json()["message"].is_string());
}

#[tokio::test]
async fn revoking_one_account_leaves_others_connected() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let admin = sb.admin();
    admin.set_consent_account(Some("acct-a".into()));
    let a = exchange(&base, &code(&base).await).await.json();
    admin.set_consent_account(Some("acct-b".into()));
    let b = exchange(&base, &code(&base).await).await.json();
    assert_eq!(admin.revoke_account("acct-a"), 1);
    assert_eq!(data_api(&base, a["access_token"].as_str().unwrap()).await.status, 401);
    assert_eq!(data_api(&base, b["access_token"].as_str().unwrap()).await.status, 200);
}

#[tokio::test]
async fn expired_access_tokens_get_401_and_refresh_recovers() {
    let sb = Sandbox::start(SandboxConfig { access_token_ttl: Duration::from_millis(1000), ..SandboxConfig::default() }).await.unwrap();
    let base = sb.base_url();
    let t = exchange(&base, &code(&base).await).await.json();
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(data_api(&base, at).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = data_api(&base, at).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "Unauthorized");
    let fresh = refresh(&base, t["refresh_token"].as_str().unwrap()).await.json();
    assert_eq!(data_api(&base, fresh["access_token"].as_str().unwrap()).await.status, 200);
    // No token at all is a 401 too.
    let none = client::send("GET", &format!("{base}/v1/stages"), &[], vec![], TIMEOUT).await.unwrap();
    assert_eq!(none.status, 401);
}

#[tokio::test]
async fn deny_and_bad_requests_redirect_with_errors() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    sb.admin().set_consent(ConsentMode::Deny);
    let p = location_params(&authorize(&base, "keep-me", SCOPE, REDIRECT).await);
    assert_eq!(param(&p, "error"), Some("access_denied"));
    assert!(param(&p, "error_description").is_some());
    assert_eq!(param(&p, "state"), Some("keep-me"));
    assert!(param(&p, "code").is_none());

    sb.admin().set_consent(ConsentMode::Approve);
    let p = location_params(&authorize(&base, "s", "candidates:read:admin", REDIRECT).await);
    assert_eq!(param(&p, "error"), Some("invalid_scope"));

    // Unregistered redirect URIs are never redirected to.
    let r = authorize(&base, "s", SCOPE, "https://evil.example/cb").await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
}

#[tokio::test]
async fn registered_redirect_uris_are_enforced_exactly() {
    let cfg = SandboxConfig { redirect_uris: vec![REDIRECT.into()], ..SandboxConfig::default() };
    let sb = Sandbox::start(cfg).await.unwrap();
    let base = sb.base_url();
    assert_eq!(authorize(&base, "s", SCOPE, REDIRECT).await.status, 302);
    assert_eq!(authorize(&base, "s", SCOPE, "http://127.0.0.1:4567/other").await.status, 400);
}

#[tokio::test]
async fn tokens_only_reach_what_their_scopes_allow() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let t = sb.admin().issue_tokens("offline_access opportunities:write:admin");
    let at = t["access_token"].as_str().unwrap();
    let auth = format!("Bearer {at}");
    let get = |path: String| {
        let auth = auth.clone();
        async move { client::send("GET", &path, &[("authorization", &auth)], vec![], TIMEOUT).await.unwrap() }
    };
    assert_eq!(get(format!("{base}/v1/opportunities?limit=1")).await.status, 200, "write scope covers reads");
    let denied = get(format!("{base}/v1/stages")).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["code"], "Forbidden");

    let lax = Sandbox::start(SandboxConfig { enforce_scopes: false, ..SandboxConfig::default() }).await.unwrap();
    let at = lax.admin().issue_tokens("opportunities:read:admin")["access_token"].as_str().unwrap().to_string();
    let r =
        client::send("GET", &format!("{}/v1/stages", lax.base_url()), &[("authorization", &format!("Bearer {at}"))], vec![], TIMEOUT).await.unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn refresh_tokens_die_after_90_idle_days_and_a_year_in_total() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let admin = sb.admin();
    let t = exchange(&base, &code(&base).await).await.json();
    let mut rt = t["refresh_token"].as_str().unwrap().to_string();
    // Refreshing every 80 days keeps the connection alive...
    for _ in 0..4 {
        admin.advance_time(Duration::from_secs(80 * 86_400));
        let r = refresh(&base, &rt).await;
        assert_eq!(r.status, 200);
        rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    }
    // ...until the grant is a year old (4 × 80 + 50 > 365 days).
    admin.advance_time(Duration::from_secs(50 * 86_400));
    assert_eq!(refresh(&base, &rt).await.status, 403);

    let t = exchange(&base, &code(&base).await).await.json();
    admin.advance_time(Duration::from_secs(91 * 86_400));
    let r = refresh(&base, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status, 403, "idle for 91 days");
    assert_eq!(r.json()["error"], "invalid_grant");
    // The access token from that exchange expired long ago too.
    assert_eq!(data_api(&base, t["access_token"].as_str().unwrap()).await.status, 401);
}
