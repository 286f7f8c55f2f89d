//! The consent page (`ConsentMode::Page`, the binary's default) and PKCE.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TIMEOUT, post_form};
use lever_sandbox::client::{self, ClientResponse};
use lever_sandbox::{ConsentMode, Sandbox, SandboxConfig};
use sha2::Digest;

const REDIRECT: &str = "http://127.0.0.1:4567/oauth/callback";
const SCOPE: &str = "offline_access opportunities:read:admin notes:write:admin";

fn page_mode() -> SandboxConfig {
    SandboxConfig { consent: ConsentMode::Page, app_name: "Referral <Rocket>".into(), account_name: "Acme & Co".into(), ..SandboxConfig::default() }
}

async fn authorize(base: &str, extra: &[(&str, &str)]) -> ClientResponse {
    let mut pairs = vec![
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st-1"),
        ("audience", "https://api.lever.co/v1/"),
        ("scope", SCOPE),
    ];
    pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    pairs.extend_from_slice(extra);
    let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    client::send("GET", &format!("{base}/authorize?{q}"), &[], vec![], TIMEOUT).await.unwrap()
}

fn html(r: &ClientResponse) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The hidden `consent_request` value of a rendered page.
fn request_id(page: &str) -> String {
    let at = page.find("name=\"consent_request\" value=\"").expect("hidden consent_request field") + "name=\"consent_request\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

async fn decide(base: &str, id: &str, decision: &str, origin: Option<&str>) -> ClientResponse {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs([("consent_request", id), ("decision", decision)]).finish();
    let host = base.trim_start_matches("http://").to_string();
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded"), ("host", host.as_str())];
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    client::send("POST", &format!("{base}/authorize/consent"), &headers, body.into_bytes(), TIMEOUT).await.unwrap()
}

fn location(r: &ClientResponse) -> Vec<(String, String)> {
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    url::Url::parse(r.header("location").unwrap()).unwrap().query_pairs().into_owned().collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

async fn exchange(base: &str, code: &str, verifier: Option<&str>) -> ClientResponse {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    post_form(&format!("{base}/oauth/token"), &form).await
}

#[tokio::test]
async fn the_page_shows_app_account_and_one_line_per_scope() {
    let sb = Sandbox::start(page_mode()).await.unwrap();
    let base = sb.base_url();
    let r = authorize(&base, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "not frameable (clickjacking)");
    let page = html(&r);
    assert!(page.contains(r#"<span id="app-name">Referral &lt;Rocket&gt;</span>"#), "app name, escaped");
    assert!(page.contains(r#"<strong id="account-name">Acme &amp; Co</strong>"#));
    assert!(page.contains("sandbox-account"));
    assert!(page.contains("Sam Superadmin"), "the consenting Super Admin");
    for (scope, words) in [
        ("offline_access", "Stay connected"),
        ("opportunities:read:admin", "View candidates and their opportunities"),
        ("notes:write:admin", "View, create and change notes on candidates"),
    ] {
        assert!(page.contains(&format!(r#"<li data-scope="{scope}">{words}"#)), "{scope} in plain words");
    }
    assert_eq!(page.matches("<li data-scope=").count(), 3);
    for hook in [
        r#"<form id="consent-form" method="post" action="/authorize/consent">"#,
        r#"id="accept" name="decision" value="accept""#,
        r#"id="deny" name="decision" value="deny""#,
    ] {
        assert!(page.contains(hook), "{hook}");
    }
    // Nothing issued until the user decides.
    assert_eq!(sb.admin().counters().code_exchanges, 0);
}

#[tokio::test]
async fn accept_redirects_with_a_working_code_and_deny_with_access_denied() {
    let sb = Sandbox::start(page_mode()).await.unwrap();
    let base = sb.base_url();
    let id = request_id(&html(&authorize(&base, &[]).await));
    let origin = base.clone();
    let p = location(&decide(&base, &id, "accept", Some(&origin)).await);
    assert_eq!(param(&p, "state"), Some("st-1"));
    let t = exchange(&base, param(&p, "code").unwrap(), None).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.json()["scope"], SCOPE);

    // The hidden value is single-use: a replayed form is refused and issues nothing.
    let again = decide(&base, &id, "accept", Some(&origin)).await;
    assert_eq!(again.status, 400);
    assert!(again.header("location").is_none());

    let id = request_id(&html(&authorize(&base, &[("state", "st-2")]).await));
    let p = location(&decide(&base, &id, "deny", None).await);
    assert_eq!(param(&p, "error"), Some("access_denied"));
    assert_eq!(param(&p, "state"), Some("st-2"));
    assert!(param(&p, "code").is_none());
}

#[tokio::test]
async fn forged_or_cross_site_decisions_are_refused() {
    let sb = Sandbox::start(page_mode()).await.unwrap();
    let base = sb.base_url();
    let id = request_id(&html(&authorize(&base, &[]).await));
    // Another site's page posting the form: Origin does not match our host.
    let r = decide(&base, &id, "accept", Some("https://evil.example")).await;
    assert_eq!(r.status, 403);
    assert!(r.header("location").is_none());
    // A made-up request id.
    assert_eq!(decide(&base, "00ff00ff", "accept", None).await.status, 400);
    // A bad decision value keeps the request answerable.
    assert_eq!(decide(&base, &id, "maybe", None).await.status, 400);
    assert_eq!(decide(&base, &id, "accept", None).await.status, 302);
    // Invalid requests never reach the page: same redirects as before.
    let bad = authorize(&base, &[("scope", "candidates:read:admin")]).await;
    assert_eq!(param(&location(&bad), "error"), Some("invalid_scope"));
}

#[tokio::test]
async fn admin_can_switch_modes_and_deny_skips_the_page() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    assert_eq!(authorize(&base, &[]).await.status, 302, "in-process default: instant approval");
    sb.admin().set_consent(ConsentMode::Page);
    assert_eq!(authorize(&base, &[]).await.status, 200);
    sb.admin().set_consent(ConsentMode::Deny);
    assert_eq!(param(&location(&authorize(&base, &[]).await), "error"), Some("access_denied"));
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox-test";

#[tokio::test]
async fn pkce_s256_is_checked_at_the_token_endpoint() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let base = sb.base_url();
    let ch = challenge(VERIFIER);
    let with = [("code_challenge", ch.as_str()), ("code_challenge_method", "S256")];

    let code = |r: ClientResponse| param(&location(&r), "code").unwrap().to_string();
    let ok = exchange(&base, &code(authorize(&base, &with).await), Some(VERIFIER)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json());

    let wrong = exchange(&base, &code(authorize(&base, &with).await), Some(&format!("{VERIFIER}x"))).await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (403, Some("invalid_grant")));
    let missing = exchange(&base, &code(authorize(&base, &with).await), None).await;
    assert_eq!((missing.status, missing.json()["error"].as_str()), (403, Some("invalid_grant")));
    // A failed verification burns the code (no second guess).
    let c = code(authorize(&base, &with).await);
    assert_eq!(exchange(&base, &c, Some("short")).await.status, 403);
    assert_eq!(exchange(&base, &c, Some(VERIFIER)).await.status, 403);
    // A verifier for a code issued without a challenge means the client lost track of its flow.
    let plain_code = code(authorize(&base, &[]).await);
    assert_eq!(exchange(&base, &plain_code, Some(VERIFIER)).await.status, 403);
    // Without PKCE on either side the flow is unchanged.
    assert_eq!(exchange(&base, &code(authorize(&base, &[]).await), None).await.status, 200);

    // plain and unknown methods are refused at /authorize with Auth0-style errors.
    for extra in [
        vec![("code_challenge", VERIFIER), ("code_challenge_method", "plain")],
        vec![("code_challenge", VERIFIER)],
        vec![("code_challenge", ch.as_str()), ("code_challenge_method", "S512")],
        vec![("code_challenge_method", "S256")],
        vec![("code_challenge", "too-short"), ("code_challenge_method", "S256")],
    ] {
        let p = location(&authorize(&base, &extra).await);
        assert_eq!(param(&p, "error"), Some("invalid_request"), "{extra:?}");
        assert!(param(&p, "error_description").is_some_and(|d| !d.is_empty()));
        assert_eq!(param(&p, "state"), Some("st-1"));
    }
}

#[tokio::test]
async fn require_pkce_makes_a_challenge_mandatory_and_survives_the_consent_page() {
    let sb = Sandbox::start(SandboxConfig { require_pkce: true, consent: ConsentMode::Page, ..SandboxConfig::default() }).await.unwrap();
    let base = sb.base_url();
    let p = location(&authorize(&base, &[]).await);
    assert_eq!(param(&p, "error"), Some("invalid_request"));
    assert!(param(&p, "error_description").unwrap().contains("code_challenge"));
    let ch = challenge(VERIFIER);
    let page = html(&authorize(&base, &[("code_challenge", ch.as_str()), ("code_challenge_method", "S256")]).await);
    let p = location(&decide(&base, &request_id(&page), "accept", None).await);
    let code = param(&p, "code").unwrap().to_string();
    assert_eq!(exchange(&base, &code, Some(VERIFIER)).await.status, 200, "the challenge rides through the page");
}
