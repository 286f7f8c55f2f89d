//! The EU data centre switch (`SandboxConfig::eu`) and the redirect fault, seen by a plain
//! HTTP client that follows nothing.

use std::time::Duration;

use lever_sandbox::client::{ClientResponse, send};
use lever_sandbox::{FaultRule, Sandbox, SandboxConfig};

async fn get(url: &str, token: &str) -> ClientResponse {
    send("GET", url, &[("authorization", &format!("Bearer {token}"))], vec![], Duration::from_secs(5)).await.unwrap()
}

#[tokio::test]
async fn an_eu_account_is_redirected_from_the_global_origin_to_its_own() {
    let sb = Sandbox::start(SandboxConfig { eu: true, rate_limit: None, ..SandboxConfig::default() }).await.unwrap();
    let (global, eu) = (sb.base_url(), sb.eu_base_url().expect("an EU origin"));
    assert_ne!(global, eu);
    let admin = sb.admin();
    let token = admin.access_token();

    let moved = get(&format!("{global}/v1/postings?limit=2&state=published"), &token).await;
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some(format!("{eu}/v1/postings?limit=2&state=published").as_str()), "same path and query");
    let write = send(
        "POST",
        &format!("{global}/v1/opportunities?perform_as=x"),
        &[("content-type", "application/json")],
        b"{}".to_vec(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(write.status, 301, "writes move too, unprocessed");
    let token_call = send("POST", &format!("{global}/oauth/token"), &[], b"grant_type=refresh_token".to_vec(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(token_call.header("location"), Some(format!("{eu}/oauth/token").as_str()));
    let c = admin.counters();
    assert_eq!(c.eu_redirects, 3);
    assert!(c.data_requests.is_empty() && admin.writes().is_empty(), "nothing reached the account: {c:?}");

    let served = get(&format!("{eu}/v1/postings?limit=2"), &token).await;
    assert_eq!(served.status, 200, "{:?}", served.json());
    assert_eq!(served.json()["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(admin.counters().eu_redirects, 3, "the EU origin answers itself");
}

#[tokio::test]
async fn a_global_account_is_never_redirected_but_a_redirect_fault_goes_anywhere() {
    let sb = Sandbox::start(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }).await.unwrap();
    assert_eq!(sb.eu_base_url(), None);
    let token = sb.admin().access_token();
    assert_eq!(get(&format!("{}/v1/postings", sb.base_url()), &token).await.status, 200);

    sb.admin().inject(FaultRule::redirect(1, 308, "https://elsewhere.example/v1/postings").on_path("/v1/postings"));
    let r = get(&format!("{}/v1/postings", sb.base_url()), &token).await;
    assert_eq!((r.status, r.header("location")), (308, Some("https://elsewhere.example/v1/postings")));
    assert_eq!(get(&format!("{}/v1/postings", sb.base_url()), &token).await.status, 200, "once only");
}
