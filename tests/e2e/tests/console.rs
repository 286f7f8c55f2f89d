//! The partner console at `/console`, in headless Chromium against a hub on DynamoDB Local, SQS on
//! moto and the Lever sandbox: a partner's support person signs in with an API key, sees the
//! connections with their health, opens one and reads its activity, retries a failed submission,
//! replays a dead delivery, creates a connect link, rotates a webhook secret and signs out, and
//! the key is gone from the tab. Every page passes axe-core with no serious or critical finding
//! and the browser's console stays free of policy refusals and errors. Screenshots of each step
//! are kept under CARGO_TARGET_TMPDIR/browser/console.

use std::path::PathBuf;
use std::time::Duration;

use e2e::browser::Browser;
use e2e::candidates::{b64, pdf};
use e2e::{TestHub, TestOptions, TestPartner};
use fantoccini::Locator;
use fantoccini::elements::Element;
use lever_sandbox::SandboxConfig;
use lever_sandbox::faults::FaultRule;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::flows::candidates::CandidatePolicy;

fn shots_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

fn sandbox() -> SandboxConfig {
    SandboxConfig { webhooks_enabled_by_default: true, webhook_retry_base: Duration::from_millis(20), ..SandboxConfig::default() }
}

/// The button or link whose visible text is `text`, within `secs`.
async fn by_text(b: &Browser, tag: &str, text: &str, secs: u64) -> Element {
    let xpath = format!("//{tag}[normalize-space()='{text}']");
    match b.client.wait().at_most(Duration::from_secs(secs)).for_element(Locator::XPath(&xpath)).await {
        Ok(e) => e,
        Err(e) => {
            let source = b.client.source().await.unwrap_or_default();
            panic!("no {tag} '{text}' ({e}): {}", source.chars().take(3000).collect::<String>());
        }
    }
}

/// Waits until the page's text contains `needle`; answers the text.
async fn text_with(b: &Browser, needle: &str, secs: u64) -> String {
    let mut text = String::new();
    for _ in 0..secs * 10 {
        text = b.element("body").await.text().await.unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {needle:?}; it says: {text}");
}

/// axe-core and the browser's console, on the page as it is now.
async fn clean(b: &Browser, page: &str) {
    let findings = b.serious_accessibility_violations().await;
    assert!(findings.is_empty(), "{page}: axe-core, serious or critical: {findings:#?}");
    let problems = b.console_problems().await;
    assert!(problems.is_empty(), "{page}: the console reports problems: {problems:#?}");
}

/// A submission whose every attempt fails: failed, with its error, waiting for a retry.
async fn failed_submission(t: &TestHub, p: &TestPartner, id: &str) -> String {
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();
    admin.inject(FaultRule::error_rate(1.0, 500).on_path("/v1/opportunities"));
    let body = json!({"kind": "referral", "candidate": {"name": "Grace Hopper", "emails": ["grace@candidates.example"]}, "postings": [posting],
        "referrer": {"name": "Ada"}, "files": [{"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&pdf("grace", 100))}]});
    let answer = t.submit(p, id, "console-1", &body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let sub = answer.body["id"].as_str().unwrap().to_owned();
    t.wait_candidate(p, id, &sub, "failed", Duration::from_secs(20)).await;
    admin.clear_faults();
    sub
}

/// An event whose every delivery attempt is refused (the receiver holds the wrong secret): dead.
async fn dead_delivery(t: &TestHub, p: &TestPartner) -> String {
    t.receiver.set_secret(&p.id, "not-the-secret");
    let (status, created) = t.call(p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    t.consent(created["authorize_url"].as_str().unwrap()).await;
    for _ in 0..600 {
        let (_, dead) = t.call(p, Method::GET, "/v1/deliveries?status=dead", None).await;
        if let Some(event) = dead["data"].as_array().and_then(|d| d.first()) {
            return event["event_id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery died within a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_support_person_answers_where_is_my_referral_with_the_console() {
    // Two attempts, quickly retried: a submission fails within seconds.
    let policy = CandidatePolicy { max_attempts: 2, ..TestOptions::default().candidates };
    let t = TestHub::start_with(sandbox(), TestOptions { candidates: policy, ..TestOptions::default() }).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let sub = failed_submission(&t, &p, &id).await;
    let hook_id = {
        let (_, hooks) = t.call(&p, Method::GET, "/v1/webhooks", None).await;
        hooks["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let dead_event = dead_delivery(&t, &p).await;

    let b = Browser::start(&shots_root(), "console").await;
    // 1. Sign in.
    b.client.goto(&format!("{}/console", t.base)).await.unwrap();
    let label = b.element("label[for='api-key']").await.text().await.unwrap();
    assert_eq!(label, "API key");
    clean(&b, "sign in").await;
    // By keyboard: Tab reaches the key's field, Enter signs in.
    by_text(&b, "button", "Sign in", 5).await;
    b.client.active_element().await.unwrap().send_keys("\u{e004}").await.unwrap();
    let focused = b.client.execute("return document.activeElement.id", vec![]).await.unwrap();
    assert_eq!(focused, "api-key", "Tab goes to the API key");
    b.client.active_element().await.unwrap().send_keys(&p.key).await.unwrap();
    b.shot("1-sign-in").await;
    b.client.active_element().await.unwrap().send_keys("\u{e007}").await.unwrap();

    // 2. The connections, with health and why.
    let (_, api) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let words = match api["health"].as_str().unwrap() {
        "green" => "Healthy",
        "yellow" => "Needs attention",
        _ => "Not working",
    };
    let row = b.element_within(&format!("a[href='#/connections/{id}']"), 15).await;
    let text = text_with(&b, words, 10).await;
    assert!(text.contains("Lever account") && text.contains("Environment") && text.contains("Health"), "{text}");
    // Searching narrows the page to the matching connection.
    b.element("#f-text").await.send_keys(&id[..13]).await.unwrap();
    text_with(&b, "1 of 2 connections on this page", 5).await;
    b.shot("2-connections").await;
    clean(&b, "connections").await;

    // 3. Open one and read its activity.
    row.click().await.unwrap();
    b.element_within("ol.activity li", 15).await;
    let (_, activity) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/activity"), None).await;
    let latest = activity["data"][0]["message"].as_str().unwrap().to_owned();
    text_with(&b, &latest, 10).await;
    b.element("svg.timeline[role='img']").await;
    b.shot("3-connection").await;
    clean(&b, "a connection").await;

    // 4. Retry the failed submission: the hub writes it to Lever.
    let retry = b.element_within(&format!("button[aria-label='Retry submission {sub}']"), 15).await;
    text_with(&b, "lever_unavailable", 5).await;
    b.client.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&retry).unwrap()]).await.unwrap();
    b.shot("4-failed-submission").await;
    retry.click().await.unwrap();
    t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(20)).await;
    assert_eq!(t.sandbox.admin().opportunities_by_email("grace@candidates.example").len(), 1);
    for _ in 0..100 {
        if b.client.find(Locator::Css(&format!("button[aria-label='Retry submission {sub}']"))).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.client.find(Locator::Css(&format!("button[aria-label='Retry submission {sub}']"))).await.is_err(), "no retry once queued");
    b.shot("4-retried").await;
    clean(&b, "after a retry").await;

    // The settings editor: the default stage from Lever's stages, saved through the API.
    b.element_within("#set-default-stage option:nth-child(2)", 15).await;
    let options = b.client.find_all(Locator::Css("#set-default-stage option")).await.unwrap();
    let stage = options.last().unwrap().attr("value").await.unwrap().unwrap_or_default();
    assert!(!stage.is_empty(), "Lever's stages fill the picker");
    b.element("#set-default-stage").await.select_by_value(&stage).await.unwrap();
    by_text(&b, "button", "Save settings", 5).await.click().await.unwrap();
    text_with(&b, "Saved.", 10).await;
    let (_, saved) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(saved["settings"]["default_stage"], stage.as_str(), "{saved}");

    // Disconnect asks first; the question has the focus (Cancel, the safe answer), and one
    // Shift+Tab and Enter confirm it.
    by_text(&b, "button", "Disconnect", 5).await.click().await.unwrap();
    text_with(&b, "forgets its Lever tokens", 5).await;
    let focused = b.client.execute("return document.activeElement.textContent", vec![]).await.unwrap();
    assert_eq!(focused, "Cancel", "the question takes the focus");
    b.client.active_element().await.unwrap().send_keys("\u{e008}\u{e004}").await.unwrap();
    let focused = b.client.execute("return document.activeElement.textContent", vec![]).await.unwrap();
    assert_eq!(focused, "Yes, disconnect");
    b.client.active_element().await.unwrap().send_keys("\u{e007}").await.unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await.1["status"].clone();
        if status == "disconnected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "disconnected");

    // 6. Back (the back button works: the routes are the URL's hash) and a new connect link.
    b.client.back().await.unwrap();
    let return_url = b.element_within("#new-return-url", 10).await;
    return_url.send_keys(&p.return_url).await.unwrap();
    b.element("#new-reference").await.send_keys("acme-corp-42").await.unwrap();
    by_text(&b, "button", "Create connect link", 5).await.click().await.unwrap();
    let link = b.element_within("#once-connect-link", 15).await.prop("value").await.unwrap().unwrap_or_default();
    assert!(link.starts_with("http"), "{link}");
    let (_, page) = t.call(&p, Method::GET, "/v1/connections?limit=100", None).await;
    assert!(
        page["data"].as_array().unwrap().iter().any(|c| c["status"] == "pending" && c["reference"] == "acme-corp-42"),
        "the link's connection is pending, under the partner's reference: {page}"
    );
    text_with(&b, "acme-corp-42", 10).await;
    b.shot("6-connect-link").await;
    clean(&b, "a connect link").await;

    // 5. Replay the dead delivery, to an endpoint that now accepts it.
    let (_, hooks) = t.call(&p, Method::POST, &format!("/v1/webhooks/{hook_id}/rotate-secret"), Some(json!({"previous_secret_expires_in": 0}))).await;
    t.receiver.set_secret(&p.id, hooks["secret"].as_str().unwrap());
    by_text(&b, "a", "Deliveries", 5).await.click().await.unwrap();
    b.element_within(&format!("button[aria-label='Replay event {dead_event}']"), 15).await.click().await.unwrap();
    text_with(&b, "replayed", 10).await;
    let mut arrived = false;
    for _ in 0..100 {
        arrived = t.receiver.arrivals().iter().any(|a| serde_json::from_slice::<Value>(&a.body).is_ok_and(|e| e["id"] == dead_event.as_str()));
        if arrived {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(arrived, "the replayed event reached the endpoint");
    b.element("figure.rate svg[role='img']").await;
    b.shot("5-replayed").await;
    clean(&b, "deliveries").await;

    // 7. Rotate the webhook secret: shown once; the partner's endpoint verifies with it.
    by_text(&b, "a", "Webhooks and keys", 5).await.click().await.unwrap();
    let before = hooks["secret"].as_str().unwrap().to_owned();
    b.element_within("button[aria-label^='Rotate secret of']", 15).await.click().await.unwrap();
    let shown = b.element_within("input[id^='once-signing-secret']", 15).await.prop("value").await.unwrap().unwrap_or_default();
    assert!(!shown.is_empty() && shown != before, "a new secret: {shown}");
    t.receiver.set_secret(&p.id, &shown);
    let bad_before = t.receiver.bad_signatures();
    let fresh = t.connect(&p).await;
    assert_eq!(t.receiver.wait_for("connection.status_changed", &fresh, 1).await.len(), 1, "signed with the secret the console showed");
    assert_eq!(t.receiver.bad_signatures(), bad_before);
    b.shot("7-rotated").await;
    clean(&b, "webhooks and keys").await;

    // API keys: the only key cannot be revoked; a new one is shown once, works, and is revoked.
    text_with(&b, "the last key cannot be revoked", 5).await;
    b.element("#new-key-label").await.send_keys("console").await.unwrap();
    by_text(&b, "button", "Create API key", 5).await.click().await.unwrap();
    let new_key = b.element_within("#once-new-api-key-console", 15).await.prop("value").await.unwrap().unwrap_or_default();
    let holder = TestPartner { id: p.id.clone(), key: new_key.clone(), return_url: p.return_url.clone() };
    let (status, keys) = t.call(&holder, Method::GET, "/v1/api-keys", None).await;
    assert_eq!(status, StatusCode::OK, "the key the console showed works: {keys}");
    let new_id = keys["data"].as_array().unwrap().iter().find(|k| k["label"] == "console").unwrap()["id"].as_str().unwrap().to_owned();
    let revoke = format!("//tr[td[normalize-space()='{new_id}']]//button[normalize-space()='Revoke']");
    b.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::XPath(&revoke)).await.unwrap().click().await.unwrap();
    by_text(&b, "button", "Yes, revoke", 5).await.click().await.unwrap();
    text_with(&b, "the last key cannot be revoked", 10).await;
    assert_eq!(t.call(&holder, Method::GET, "/v1/api-keys", None).await.0, StatusCode::UNAUTHORIZED, "revoked");
    clean(&b, "keys").await;

    // 8. Sign out: the key is gone from the tab.
    by_text(&b, "button", "Sign out", 5).await.click().await.unwrap();
    b.element_within("#api-key", 10).await;
    let stored = b.client.execute("return JSON.stringify(Object.assign({}, sessionStorage))", vec![]).await.unwrap();
    assert!(!stored.as_str().unwrap_or_default().contains(&p.key), "sessionStorage still holds the key: {stored}");
    let local = b.client.execute("return JSON.stringify(Object.assign({}, localStorage))", vec![]).await.unwrap();
    assert!(!local.as_str().unwrap_or_default().contains(&p.key), "localStorage never holds it: {local}");
    b.client.refresh().await.unwrap();
    b.element_within("#api-key", 10).await;
    b.shot("8-signed-out").await;
    clean(&b, "signed out").await;
    println!("screenshots: {}", b.close().await.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_page_allows_only_its_own_files_and_they_are_cached_for_good() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let page = t.http.get(format!("{}/console", t.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe") && !policy.contains("http"), "no inline code, nothing external: {policy}");
    assert!(policy.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["cache-control"], "no-cache", "the page is checked again, so a deploy shows at once");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("<style>") && !html.contains(" style="), "no inline code on the page");

    let version = html.split("console/assets/").nth(1).and_then(|r| r.split('/').next()).unwrap().to_owned();
    assert_eq!(version.len(), 16, "{version}");
    for (name, kind) in [("app.js", "text/javascript"), ("htm-preact-3.1.1.standalone.module.js", "text/javascript"), ("console.css", "text/css")] {
        let res = t.http.get(format!("{}/console/assets/{version}/{name}", t.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable", "{name}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(kind), "{name}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
    for path in [format!("/console/assets/{version}/nothing.js"), "/console/assets/0000000000000000/app.js".to_owned()] {
        let res = t.http.get(format!("{}{path}", t.base)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["type"], "/problems/not-found", "{path}");
    }
}
