//! A customer's connect in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/test`) driven over WebDriver walks the partner's page
//! → the hub's connect link → the Lever sandbox's consent page → Accept → the hub's callback →
//! back on the partner's page, connected; and the Deny and expired-consent paths. Screenshots of
//! every step are saved under the test target directory (printed at the end).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use e2e::TestHub;
use fantoccini::{Client, ClientBuilder, Locator};
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
<p>Lever: <span id="status">{}</span> (<span id="health">{}</span>)</p><p id="error">{}</p></body></html>"#,
        c["status"].as_str().unwrap_or("unknown"),
        c["health"].as_str().unwrap_or(""),
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

/// chromedriver on a free port and a headless Chromium session with a fresh profile.
struct Browser {
    client: Client,
    driver: std::process::Child,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(name: &str) -> Browser {
        let driver_bin = shared::testing::service_endpoint("HUB_TEST_CHROMEDRIVER", "chromedriver (Debian chromium-driver)")
            .expect("chromedriver (scripts/test installs chromium and chromium-driver)");
        let chromium = std::env::var("HUB_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1000,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }))
        .unwrap();
        let mut client = None;
        for _ in 0..100 {
            match ClientBuilder::rustls().expect("TLS roots").capabilities(caps.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser").join(name);
        std::fs::create_dir_all(&shots).unwrap();
        Browser { client: client.expect("a Chromium session through chromedriver"), driver, shots, _profile: profile }
    }

    async fn shot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{step}.png")), png).unwrap();
    }

    /// Waits for `css`; on timeout the failure names the page the browser is on, and what it shows.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let source = self.client.source().await.unwrap_or_default();
                panic!("no {css} on {url} ({e}): {}", source.chars().take(2000).collect::<String>());
            }
        }
    }

    /// The element's text once the page holding it has settled (a navigation can replace it
    /// between finding and reading it).
    async fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            if let Ok(text) = self.element(css).await.text().await {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never settled");
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    /// Clicks `css` and waits for the page it is on to be replaced (a form post that ends on a
    /// page the hub or Lever renders, which has nothing to wait for by name).
    async fn click_and_leave(&self, css: &str) {
        let element = self.element(css).await;
        element.clone().click().await.unwrap();
        for _ in 0..100 {
            // A stale element (or no element at all) means the browser is on the next page.
            if element.is_displayed().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        panic!("still on {url} 10 s after clicking {css}");
    }

    async fn close(mut self) -> PathBuf {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        self.shots.clone()
    }
}

fn page_sandbox() -> SandboxConfig {
    SandboxConfig { consent: ConsentMode::Page, ..SandboxConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_connects_in_a_real_browser_through_lever_consent() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let b = Browser::start("accept").await;

    b.client.goto(&format!("{}/app", app.base)).await.unwrap();
    assert!(b.text("h1").await.contains("Outhire"));
    b.shot("01-partner-settings").await;

    // Connect → the hub's connect link → Lever's consent page.
    b.click("#connect").await;
    b.element("#consent-form").await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&t.sandbox.base_url()), "on Lever's consent page: {url}");
    let scopes = b.client.find_all(Locator::Css("#scopes li[data-scope]")).await.unwrap();
    assert!(scopes.len() >= 5, "one plain-words line per requested scope");
    b.shot("02-lever-consent").await;

    // Accept → callback → back on the partner's page, connected; yellow until the customer picks
    // the Lever user candidates are attributed to (the seed's last set-up step).
    b.click("#accept").await;
    assert_eq!(b.text("#status").await, "active");
    assert_eq!(b.text("#health").await, "yellow");
    let back = b.client.current_url().await.unwrap();
    assert!(back.as_str().starts_with(&format!("{}/done", app.base)), "{back}");
    b.shot("03-back-connected").await;
    assert_eq!(t.sandbox.admin().counters().code_exchanges, 1);
    let shots = b.close().await;
    println!("screenshots: {}", shots.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deny_and_an_expired_consent_end_back_at_the_partner_not_connected() {
    let t = TestHub::start(page_sandbox()).await;
    let app = partner_app(&t).await;
    let b = Browser::start("deny-expired").await;

    // Deny.
    b.client.goto(&format!("{}/start", app.base)).await.unwrap();
    b.click("#deny").await;
    assert_eq!(b.text("#status").await, "pending");
    assert_eq!(b.text("#error").await, "access_denied");
    b.shot("01-denied-back-at-partner").await;

    // Expired: the customer leaves the consent page open for 11 minutes, then accepts.
    b.client.goto(&format!("{}/start", app.base)).await.unwrap();
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
