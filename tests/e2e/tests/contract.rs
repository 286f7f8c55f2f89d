//! The partner API's contract over real HTTP and DynamoDB Local: answers the embedded store
//! cannot provoke.

use e2e::TestHub;
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};

/// DynamoDB refuses keys over 1 KB (a ValidationException); an id no hub ever issued is a 404
/// before the store is asked, on every route that takes one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlong_ids_are_not_found_not_a_store_error() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hireup").await;
    let id = "x".repeat(3_000);
    for (method, path) in [
        (Method::GET, format!("/v1/connections/{id}")),
        (Method::DELETE, format!("/v1/connections/{id}")),
        (Method::GET, format!("/v1/connections/{id}/activity")),
        (Method::DELETE, format!("/v1/api-keys/{id}")),
        (Method::DELETE, format!("/v1/webhooks/{id}")),
        (Method::POST, format!("/v1/webhooks/{id}/rotate-secret")),
        (Method::POST, format!("/v1/events/{id}/replay")),
    ] {
        let (status, problem) = t.call(&p, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {}…: {problem}", &path[..30]);
        assert_eq!(problem["type"], "/problems/not-found");
    }
}
