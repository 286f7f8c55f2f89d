//! What the hub's answers give away, tried from outside: the Lever webhook route answers an
//! unknown connection exactly as it answers a bad signature (no way to find which connection
//! ids exist), every refusal there is a problem document, answers that carry a secret shown
//! once are never cached, and a partner's API keys are capped.

use e2e::TestHub;
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post_raw(t: &TestHub, connection_id: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
    let res =
        t.http.post(format!("{}/lever/webhooks/{connection_id}", t.base)).header("content-type", "application/json").body(body).send().await.unwrap();
    let status = res.status();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, res.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lever_webhook_route_gives_one_answer_to_every_delivery_it_cannot_verify() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hrcloud").await;
    let id = t.connect(&p).await;
    let now = t.now_ms();
    let forged = |token: &str| {
        let signature = lever_sandbox::sign_webhook("not-the-webhooks-token", token, now);
        serde_json::to_vec(
            &json!({"event": "candidateHired", "triggeredAt": now, "token": token, "signature": signature, "data": {"opportunityId": "o"}}),
        )
        .unwrap()
    };
    let bad_signature = post_raw(&t, &id, forged("t-1")).await;
    let unknown_connection = post_raw(&t, "00000000-0000-4000-8000-000000000000", forged("t-1")).await;
    assert_eq!(bad_signature.0, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_signature, unknown_connection, "the same status, type and bytes for both");
    assert_eq!(bad_signature.1, "application/problem+json");
    let problem: Value = serde_json::from_slice(&bad_signature.2).unwrap();
    assert!(problem["type"].as_str().unwrap().ends_with("/webhook-not-verified"), "{problem}");
    assert_eq!(problem["status"], 401);

    let (status, content_type, body) = post_raw(&t, &id, b"{\"not\": \"lever\"}".to_vec()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::BAD_REQUEST, "application/problem+json"));
    assert!(serde_json::from_slice::<Value>(&body).unwrap()["type"].as_str().unwrap().ends_with("/bad-request"));
    let (status, content_type, body) = post_raw(&t, &id, vec![b' '; 300 * 1024]).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "application/problem+json"), "{}", String::from_utf8_lossy(&body));
    assert!(serde_json::from_slice::<Value>(&body).unwrap()["type"].as_str().unwrap().ends_with("/payload-too-large"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_shown_once_are_not_cached_and_api_keys_are_capped() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hireup").await;
    let send = |method: Method, path: String, body: Value| {
        let req = t.http.request(method, format!("{}{path}", t.base)).bearer_auth(&p.key).json(&body);
        async move { req.send().await.unwrap() }
    };
    let no_store = |res: &reqwest::Response| res.headers().get("cache-control").and_then(|v| v.to_str().ok()) == Some("no-store");

    let hook = send(Method::POST, "/v1/webhooks".into(), json!({"url": "https://partner.example/hooks"})).await;
    assert_eq!(hook.status(), StatusCode::CREATED);
    assert!(no_store(&hook), "the signing secret's answer: {:?}", hook.headers());
    let hook: Value = hook.json().await.unwrap();
    let rotated = send(Method::POST, format!("/v1/webhooks/{}/rotate-secret", hook["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    assert!(no_store(&rotated), "{:?}", rotated.headers());

    // The partner holds one key; up to ten in all, then a problem naming the limit.
    let mut issued = 0;
    loop {
        let res = send(Method::POST, "/v1/api-keys".into(), json!({"label": format!("k{issued}")})).await;
        if res.status() != StatusCode::CREATED {
            assert_eq!(res.status(), StatusCode::CONFLICT);
            let problem: Value = res.json().await.unwrap();
            assert_eq!(problem["type"], "/problems/conflict", "{problem}");
            assert!(problem["detail"].as_str().unwrap().contains("at most 10 API keys"), "{problem}");
            break;
        }
        assert!(no_store(&res), "a new key's answer: {:?}", res.headers());
        issued += 1;
        assert!(issued < 20, "no cap on API keys");
    }
    assert_eq!(issued, 9, "the first key and nine more");
    let (_, listed) = t.call(&p, Method::GET, "/v1/api-keys", None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 10, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_html_page_sends_a_strict_policy_that_allows_only_its_own_inline_code() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let t = TestHub::start(SandboxConfig::default()).await;
    // `/docs` loads its scripts from the hub and allows Redoc's run-time styles by nonce:
    // tests/e2e/tests/api_reference.rs holds it to that policy, in Chromium too.
    for path in ["/problems/not-found", "/connect/not-a-state", "/oauth/callback?state=x&code=y"] {
        let res = t.http.get(format!("{}{path}", t.base)).header("accept", "text/html").send().await.unwrap();
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(header("content-type").starts_with("text/html"), "{path}: {}", header("content-type"));
        let policy = header("content-security-policy");
        for directive in ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"] {
            assert!(policy.contains(directive), "{path}: {directive} in {policy:?}");
        }
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let page = res.text().await.unwrap();
        assert!(!page.contains("http://") && !page.contains("https://cdn"), "{path}: no external resources");
        // Each inline style and script the page has is allowed by its hash, and nothing else.
        for (tag, directive) in [("style", "style-src"), ("script", "script-src")] {
            let allowed: Vec<&str> = policy.split(';').find(|d| d.trim().starts_with(directive)).unwrap().split_whitespace().skip(1).collect();
            let mut rest = page.as_str();
            let mut hashes = vec![];
            while let Some(at) = rest.find(&format!("<{tag}")) {
                let open_end = at + rest[at..].find('>').unwrap();
                let attributes = &rest[at + tag.len() + 1..open_end];
                let close = open_end + rest[open_end..].find(&format!("</{tag}>")).unwrap();
                if !attributes.contains("application/json") {
                    let digest = sha2::Sha256::digest(&rest.as_bytes()[open_end + 1..close]);
                    hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
                }
                rest = &rest[close..];
            }
            let expected: Vec<&str> = if hashes.is_empty() { vec!["'none'"] } else { hashes.iter().map(String::as_str).collect() };
            assert_eq!(allowed, expected, "{path}: {directive}");
        }
    }
}
