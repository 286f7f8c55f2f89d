//! Without `HUB_PUBLIC_URL` (a stack on API Gateway's own domain), the hub's links are built from
//! the host each request arrived on: the connect link partners get, the OAuth redirect URI sent
//! to Lever and, at the callback, the Lever webhook URLs.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";

#[tokio::test]
async fn links_follow_the_requests_host_when_no_public_url_is_configured() {
    let sandbox = lever_sandbox::Sandbox::start(lever_sandbox::SandboxConfig::default()).await.unwrap();
    let mut env = shared::testing::local_env();
    env.public_url = None;
    env.lever = shared::hub::LeverTarget::Local(sandbox.base_url());
    let secrets = match &env.secrets {
        shared::hub::SecretsSource::Local { path } => path.clone(),
        other => panic!("{other:?}"),
    };
    let app = serde_json::json!({"client_id": "sandbox-client", "client_secret": "sandbox-secret"}).to_string();
    shared::secrets::local::write_private(&secrets, &serde_json::json!({ shared::secrets::names::LEVER_OAUTH: app }).to_string()).unwrap();
    let hub = env.build().await.unwrap();
    hub.partners.register("outhire", vec!["https://partner.example/back".into()]).await.unwrap();
    let key = hub.partners.issue_key("outhire", None).await.unwrap().secret.expose().to_owned();
    let router = shared::api::with_public_base_from_host(hub.router());

    let create = Request::post("/v1/connections")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"return_url":"https://partner.example/back"}"#))
        .unwrap();
    let res = router.clone().oneshot(create).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let link = body["authorize_url"].as_str().unwrap();
    assert!(link.starts_with(&format!("https://{HOST}/connect/")), "{link}");

    let path = link.trim_start_matches(&format!("https://{HOST}"));
    let page = Request::get(path).header(header::HOST, HOST).body(Body::empty()).unwrap();
    assert_eq!(router.clone().oneshot(page).await.unwrap().status(), StatusCode::OK, "the connect page");
    let open = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("lever_environment=production"))
        .unwrap();
    let res = router.oneshot(open).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let lever = url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let redirect = lever.query_pairs().find(|(k, _)| k == "redirect_uri").map(|(_, v)| v.into_owned());
    assert_eq!(redirect.as_deref(), Some(format!("https://{HOST}/oauth/callback").as_str()));
}
