//! The API reference at `/docs`, in headless Chromium: Redoc, served by the hub itself, draws
//! every operation of docs/openapi.yaml and every problem type, under the page's
//! Content-Security-Policy (the console stays free of refusals and errors) and with no serious
//! or critical axe-core finding. Its scripts are cached as the hub says.

use std::path::PathBuf;

use e2e::TestHub;
use e2e::browser::Browser;
use lever_sandbox::SandboxConfig;
use serde_json::Value;
use shared::api::problem::ProblemType;

fn shots_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

/// Every operation's `operationId` in the document the hub serves.
fn operation_ids() -> Vec<String> {
    let doc: Value = serde_json::from_str(shared::api::docs::OPENAPI_JSON).expect("the embedded document is JSON");
    let paths = doc["paths"].as_object().expect("the document has paths");
    let ids: Vec<String> = paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.len() > 20, "the document names its operations: {ids:?}");
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_draws_every_operation_and_problem_type_under_its_policy() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let browser = Browser::start(&shots_root(), "api-reference").await;
    browser.client.goto(&format!("{}/docs", t.base)).await.expect("the browser opens /docs");
    browser.element_within("[data-section-id*='operation/']", 30).await;
    browser.shot("1-reference").await;

    let source = browser.client.source().await.expect("the page's DOM");
    let missing: Vec<String> = operation_ids().into_iter().filter(|id| !source.contains(&format!("operation/{id}\""))).collect();
    assert!(missing.is_empty(), "operations Redoc did not draw: {missing:?}");
    let text = browser.element("body").await.text().await.expect("the page's text");
    let unnamed: Vec<String> = ProblemType::ALL.iter().map(|t| t.uri()).filter(|uri| !text.contains(uri.as_str())).collect();
    assert!(unnamed.is_empty(), "problem types the reference does not name: {unnamed:?}");

    // Redoc styles itself at run time: with a nonce it may; without, the console says so.
    let refused = browser.console_problems().await;
    let refused: Vec<&String> = refused.iter().filter(|m| !m.contains("cdn.redoc.ly/redoc/logo-mini.svg")).collect();
    assert!(refused.is_empty(), "the console reports problems: {refused:#?}");
    let findings = browser.serious_accessibility_violations().await;
    assert!(findings.is_empty(), "axe-core, serious or critical: {findings:#?}");

    // Keyboard: the first Tab reaches a control of the reference.
    browser.client.active_element().await.expect("a focused element").send_keys("\u{e004}").await.expect("Tab is pressed");
    let focused = browser.client.execute("return document.activeElement && document.activeElement.tagName", vec![]).await.unwrap();
    assert!(matches!(focused.as_str(), Some("A" | "INPUT" | "BUTTON" | "LABEL" | "LI" | "SPAN" | "DIV")), "Tab focuses a control: {focused}");
    println!("screenshots: {}", browser.close().await.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_allows_styles_by_a_fresh_nonce_and_caches_redoc_for_good() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let policy = |r: &reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let first = t.http.get(format!("{}/docs", t.base)).send().await.unwrap();
    let second = t.http.get(format!("{}/docs", t.base)).send().await.unwrap();
    let (p1, p2) = (policy(&first), policy(&second));
    assert!(p1.starts_with("default-src 'none'; script-src 'self'; style-src 'nonce-"), "{p1}");
    assert_ne!(p1, p2, "each answer has its own nonce");
    let nonce = p1.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap().to_owned();
    let page = first.text().await.unwrap();
    assert!(page.contains(&format!("content=\"{nonce}\"")), "the page carries the nonce its policy names");
    assert!(!page.contains("<script>") && !page.contains("<style>"), "no inline code on the page");

    let script = |src: &str| page.split(&format!("src=\"{src}")).nth(1).and_then(|r| r.split('"').next()).map(|rest| format!("{src}{rest}"));
    let redoc = script("docs/assets/redoc-").expect("the page loads Redoc's versioned bundle");
    let bundle = t.http.get(format!("{}/{redoc}", t.base)).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(bundle.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(bundle.headers()["content-encoding"], "gzip");
    assert_eq!(bundle.headers()["vary"], "accept-encoding");
    let gzipped = bundle.bytes().await.unwrap();
    assert!(gzipped.starts_with(&[0x1f, 0x8b]) && gzipped.len() < 500_000, "gzip on the wire: {} bytes", gzipped.len());
    // A client that takes no gzip gets the same script, unpacked.
    let plain = t.http.get(format!("{}/{redoc}", t.base)).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1_000_000 && plain.starts_with(b"/*! For license information"), "the whole bundle: {} bytes", plain.len());
    let start = script("docs/assets/docs").expect("the page loads its start-up script");
    let start = t.http.get(format!("{}/{start}", t.base)).send().await.unwrap();
    assert_eq!(start.status(), 200);
    assert_ne!(start.headers()["cache-control"], "public, max-age=31536000, immutable", "the start-up script may change");

    let unknown = t.http.get(format!("{}/docs/assets/redoc-0.0.0.js", t.base)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["content-type"], "application/problem+json");
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["type"], "/problems/not-found");
}
