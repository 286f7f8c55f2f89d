//! Headless Chromium for the tests of the hub's pages: Debian's `chromium` and `chromium-driver`
//! (installed by `scripts/test`), driven over WebDriver with a fresh profile. Besides clicking
//! and reading, it reports what the page's console said (a Content-Security-Policy refusal is
//! logged there) and what axe-core finds for accessibility.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    pub client: Client,
    driver: std::process::Child,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A session whose screenshots go under `shots_root/name`.
    pub async fn start(shots_root: &std::path::Path, name: &str) -> Browser {
        let driver_bin = shared::testing::service_endpoint("HUB_TEST_CHROMEDRIVER", "chromedriver (Debian chromium-driver)")
            .expect("chromedriver (scripts/test installs chromium and chromium-driver)");
        let chromium = std::env::var("HUB_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        let driver = std::process::Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:loggingPrefs": { "browser": "ALL" },
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
        .expect("capabilities are an object");
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
        let shots = shots_root.join(name);
        std::fs::create_dir_all(&shots).expect("the screenshots directory");
        Browser { client: client.expect("a Chromium session through chromedriver"), driver, shots, _profile: profile }
    }

    pub async fn shot(&self, step: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{step}.png")), png).expect("the screenshot is written");
    }

    /// Waits up to `secs` for `css`; on timeout the failure names the page and what it shows.
    pub async fn element_within(&self, css: &str, secs: u64) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(secs)).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let source = self.client.source().await.unwrap_or_default();
                panic!("no {css} on {url} ({e}): {}", source.chars().take(2000).collect::<String>());
            }
        }
    }

    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.element_within(css, 10).await
    }

    /// The element's text once the page holding it has settled (a navigation can replace it
    /// between finding and reading it).
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            if let Ok(text) = self.element(css).await.text().await {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never settled");
    }

    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.expect("chromedriver answers");
    }

    /// Clicks `css` and waits for the page it is on to be replaced (a form post that ends on a
    /// page the hub or Lever renders, which has nothing to wait for by name).
    pub async fn click_and_leave(&self, css: &str) {
        let element = self.element(css).await;
        element.clone().click().await.expect("chromedriver answers");
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

    /// Presses and releases `key` wherever the focus is, as a keyboard does.
    pub async fn press(&self, key: Key) {
        let value: char = key.into();
        let keys = KeyActions::new("keyboard".into()).then(KeyAction::Down { value }).then(KeyAction::Up { value });
        self.client.perform_actions(keys).await.expect("chromedriver answers");
    }

    /// The `id` of the focused element.
    pub async fn focused(&self) -> String {
        self.client.active_element().await.expect("chromedriver answers").attr("id").await.expect("chromedriver answers").unwrap_or_default()
    }

    /// What the page's console received since the last call, at level SEVERE or WARNING: script
    /// errors, refused resources and Content-Security-Policy refusals.
    pub async fn console_problems(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.expect("chromedriver returns the browser's log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| matches!(e["level"].as_str(), Some("SEVERE" | "WARNING")))
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .collect()
    }

    /// Runs axe-core (the copy `scripts/test` installs from web/package.json, named by
    /// HUB_TEST_AXE_JS) on the page and answers its violations rated serious or critical, each
    /// as "rule: nodes".
    pub async fn serious_accessibility_violations(&self) -> Vec<String> {
        let axe = shared::testing::service_endpoint("HUB_TEST_AXE_JS", "axe-core (scripts/test installs web/package.json)")
            .expect("axe-core's axe.min.js (scripts/test installs it)");
        let source = std::fs::read_to_string(&axe).expect("axe.min.js is readable");
        // WebDriver's script runs outside the page's Content-Security-Policy, as an extension would.
        self.client.execute(&source, vec![]).await.expect("axe-core loads");
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,\
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })))).catch(e => done([{ id: 'axe-error', impact: 'critical', nodes: [String(e)] }]));";
        let found = self.client.execute_async(script, vec![]).await.expect("axe-core runs");
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| format!("{}: {}", v["id"].as_str().unwrap_or("?"), v["nodes"]))
            .collect()
    }

    pub async fn close(mut self) -> PathBuf {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        self.shots.clone()
    }
}

/// chromedriver's log endpoint (not in the W3C protocol, which has no console access).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}
