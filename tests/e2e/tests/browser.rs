//! A customer's connect in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/test`) driven over WebDriver walks the partner's page
//! → the hub's connect page → Continue → the Lever sandbox's consent page → Accept → the hub's
//! callback → back on the partner's page, connected; the Deny and expired-consent paths; and a
//! magic link opened later (after a link scanner), with the keyboard alone, choosing Lever's
//! sandbox, plus Cancel, an expired link and a second browser. Screenshots of every step are
//! saved under the test target directory (printed at the end).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use e2e::TestHub;
use e2e::browser::Browser;
use fantoccini::Locator;
use fantoccini::key::Key;
use lever_sandbox::{ConsentMode, SandboxConfig};
use serde_json::{Value, json};

/// The partner's own little web app: a settings page with a Connect button, the server side
/// that asks the hub for a connect link, and the page the customer comes back to.
#[derive(Clone)]
struct PartnerApp {
    hub: String,
    key: String,
    base: String,
    http: reqwest::Client,
}

async fn settings_page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Outhire settings</title></head>
<body><h1>Outhire - Integrations</h1><p>Lever: not connected</p>
<a id="connect" href="/start">Connect Lever</a></body></html>"#,
    )
}

async fn start(State(app): State<Arc<PartnerApp>>) -> Response {
    let created: Value = app
        .http
        .post(format!("{}/v1/connections", app.hub))
        .bearer_auth(&app.key)
        .json(&json!({"return_url": format!("{}/done", app.base)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Redirect::to(created["authorize_url"].as_str().unwrap()).into_response()
}

async fn done(State(app): State<Arc<PartnerApp>>, Query(q): Query<std::collections::HashMap<String, String>>) -> Html<String> {
    let id = q.get("connection_id").cloned().unwrap_or_default();
    let c: Value = app.http.get(format!("{}/v1/connections/{id}", app.hub)).bearer_auth(&app.key).send().await.unwrap().json().await.unwrap();
    Html(format!(
        r#"<!doctype html><html><body><h1>Outhire - Integrations</h1>
<p>Lever: <span id="status">{}</span> (<span id="health">{}</span>), <span id="environment">{}</span></p><p id="error">{}</p></body></html>"#,
        c["status"].as_str().unwrap_or("unknown"),
        c["health"].as_str().unwrap_or(""),
        c["lever"]["environment"].as_str().unwrap_or(""),
        q.get("error").cloned().unwrap_or_default()
    ))
}

async fn partner_app(t: &TestHub) -> Arc<PartnerApp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    t.hub.partners.register("outhire", vec![format!("{base}/")]).await.unwrap();
    let key = t.hub.partners.issue_key("outhire", Some("browser".into())).await.unwrap().secret.expose().to_owned();
    let app = Arc::new(PartnerApp { hub: t.base.clone(), key, base, http: reqwest::Client::new() });
    let router = axum::Router::new().route("/app", get(settings_page)).route("/start", get(start)).route("/done", get(done)).with_state(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    app
}

fn shots_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

fn page_sandbox() -> SandboxConfig {
    SandboxConfig { consent: ConsentMode::Page, ..SandboxConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_connects_in_a_real_browser_through_lever_consent() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let b = Browser::start(&shots_root(), "accept").await;

    b.client.goto(&format!("{}/app", app.base)).await.unwrap();
    assert!(b.text("h1").await.contains("Outhire"));
    b.shot("01-partner-settings").await;

    // Connect → the hub's connect page → Continue → Lever's consent page.
    b.click("#connect").await;
    b.element("#connect-form").await;
    b.shot("02-hub-connect-page").await;
    b.click("#continue").await;
    b.element("#consent-form").await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&t.sandbox.base_url()), "on Lever's consent page: {url}");
    let scopes = b.client.find_all(Locator::Css("#scopes li[data-scope]")).await.unwrap();
    assert!(scopes.len() >= 5, "one plain-words line per requested scope");
    b.shot("03-lever-consent").await;

    // Accept → callback → back on the partner's page, connected; yellow until the customer picks
    // the Lever user candidates are attributed to (the seed's last set-up step).
    b.click("#accept").await;
    assert_eq!(b.text("#status").await, "active");
    assert_eq!(b.text("#health").await, "yellow");
    let back = b.client.current_url().await.unwrap();
    assert!(back.as_str().starts_with(&format!("{}/done", app.base)), "{back}");
    b.shot("04-back-connected").await;
    assert_eq!(t.sandbox.admin().counters().code_exchanges, 1);
    let shots = b.close().await;
    println!("screenshots: {}", shots.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deny_and_an_expired_consent_end_back_at_the_partner_not_connected() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let b = Browser::start(&shots_root(), "deny-expired").await;

    // Deny.
    b.client.goto(&format!("{}/start", app.base)).await.unwrap();
    b.click("#continue").await;
    b.click("#deny").await;
    assert_eq!(b.text("#status").await, "pending");
    assert_eq!(b.text("#error").await, "access_denied");
    b.shot("01-denied-back-at-partner").await;

    // Expired: the customer leaves the consent page open for 11 minutes, then accepts.
    b.client.goto(&format!("{}/start", app.base)).await.unwrap();
    b.click("#continue").await;
    b.element("#consent-form").await;
    t.clock.advance_ms(11 * 60 * 1000);
    b.click_and_leave("#accept").await;
    let message = b.text("body").await;
    assert!(message.contains("expired"), "{message}");
    b.shot("02-expired-refused").await;
    let back = b.client.find(Locator::Css("a")).await.unwrap().attr("href").await.unwrap().unwrap_or_default();
    assert!(back.starts_with(&format!("{}/done", app.base)), "the page links back to the partner: {back}");
    assert_eq!(t.sandbox.admin().counters().code_exchanges, 0, "no code exchanged for a denied or expired consent");
    let shots = b.close().await;
    println!("screenshots: {}", shots.display());
}

/// A magic link the partner created (as Upwage's Customer Success team sends one), fetched by a
/// link scanner first, then opened by the customer, who uses the keyboard alone: reads what the
/// integration does and its permissions, chooses Lever's sandbox, Continue, Accept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_magic_link_connects_a_lever_sandbox_account_with_the_keyboard_alone() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let link = magic_link(&app, json!({})).await;

    // 1. The mail system's link scanner gets there first: a page, nothing bound.
    let scanned = reqwest::Client::new().get(&link).send().await.unwrap();
    assert_eq!(scanned.status(), 200);
    assert!(scanned.headers().get(reqwest::header::SET_COOKIE).is_none());

    // 2. The page: who, what it does, which permissions, which Lever account.
    let b = Browser::start(&shots_root(), "magic-link").await;
    b.client.goto(&link).await.unwrap();
    assert_eq!(b.text("#partner").await, "Outhire");
    assert!(!b.client.find_all(Locator::Css("#does li")).await.unwrap().is_empty());
    let permissions = b.text("#permissions").await;
    assert!(permissions.contains("Create and change opportunities"), "{permissions}");
    assert_eq!(b.text("#accounts legend").await, "Which Lever account should Outhire connect to?");
    b.shot("01-connect-page").await;
    let findings = b.serious_accessibility_violations().await;
    assert!(findings.is_empty(), "axe-core on the connect page, serious or critical: {findings:#?}");
    let refused = b.console_problems().await;
    assert!(refused.is_empty(), "the connect page's console: {refused:#?}");

    // 3. Keyboard only: Tab to the account choice, ArrowDown to Sandbox, Tab to Continue, Enter.
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "env-production", "the first stop is the account choice");
    b.press(Key::Down).await;
    assert_eq!(b.focused().await, "env-sandbox");
    assert!(b.element("#env-sandbox").await.is_selected().await.unwrap(), "arrow keys choose the account");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, "continue");
    b.shot("02-sandbox-chosen").await;
    b.press(Key::Enter).await;

    // 4. Lever's consent page, then Accept (still by keyboard: focus it and press Enter).
    b.element("#consent-form").await;
    assert!(b.client.current_url().await.unwrap().as_str().starts_with(&t.sandbox.base_url()));
    b.shot("03-lever-consent").await;
    b.element("#accept").await.send_keys(&Key::Enter.to_string()).await.unwrap();

    // 5. Back at the partner: active, on Lever's sandbox.
    assert_eq!(b.text("#status").await, "active");
    assert_eq!(b.text("#environment").await, "sandbox");
    b.shot("04-back-connected-sandbox").await;

    // The link now says it is connected, with no form.
    b.client.goto(&link).await.unwrap();
    assert!(b.text("#message").await.contains("is connected"));
    assert!(b.client.find_all(Locator::Css("form")).await.unwrap().is_empty());
    b.shot("05-link-after-connect").await;
    let findings = b.serious_accessibility_violations().await;
    assert!(findings.is_empty(), "axe-core on the connected page, serious or critical: {findings:#?}");
    let shots = b.close().await;
    println!("screenshots: {}", shots.display());
}

/// Cancel goes back to the partner; a link past its `expires_at` says so (410); a second
/// browser pressing Continue while the first one's consent is open is told to wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_magic_link_cancelled_expired_and_opened_in_a_second_browser() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let first = Browser::start(&shots_root(), "magic-link-first").await;

    // Cancel.
    let link = magic_link(&app, json!({})).await;
    first.client.goto(&link).await.unwrap();
    first.click("#cancel").await;
    assert_eq!(first.text("#error").await, "access_denied");
    assert_eq!(first.text("#status").await, "pending");
    first.shot("01-cancelled-back-at-partner").await;

    // A second browser while the first one's consent is open.
    first.client.goto(&link).await.unwrap();
    first.click("#continue").await;
    first.element("#consent-form").await;
    let second = Browser::start(&shots_root(), "magic-link-second").await;
    second.client.goto(&link).await.unwrap();
    second.click("#continue").await;
    assert!(second.text("#message").await.contains("being set up in another browser"));
    second.element("#start-over").await;
    second.shot("01-being-set-up-elsewhere").await;
    // The first browser is unaffected: it accepts and connects.
    first.click("#accept").await;
    assert_eq!(first.text("#status").await, "active");
    first.shot("02-first-browser-connected").await;

    // An expired link.
    let short = magic_link(&app, json!({"expires_in": 600})).await;
    t.clock.advance_ms(601_000);
    second.client.goto(&short).await.unwrap();
    assert!(second.text("h1").await.contains("expired"));
    assert!(second.text("#message").await.contains("Ask Outhire for a new link"));
    second.shot("02-expired-link").await;
    let shots = (first.close().await, second.close().await);
    println!("screenshots: {} {}", shots.0.display(), shots.1.display());
}

/// The partner's server creates a connection and takes its `connect_url` (sent by e-mail).
async fn magic_link(app: &PartnerApp, extra: Value) -> String {
    let mut body = json!({"return_url": format!("{}/done", app.base)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let created: Value =
        app.http.post(format!("{}/v1/connections", app.hub)).bearer_auth(&app.key).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(created["connect_url"], created["authorize_url"]);
    created["connect_url"].as_str().unwrap().to_owned()
}
