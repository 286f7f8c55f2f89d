//! The binary: prints its base URL, serves OAuth + Data API, and is scriptable
//! over `/_admin` from another process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use lever_sandbox::client;
use serde_json::{Value, json};

/// Kills the child on drop so a failing assertion does not leak the process.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn admin(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let b = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let r = client::send(method, &format!("{base}{path}"), &[("content-type", "application/json")], b, common::TIMEOUT).await.unwrap();
    assert_eq!(r.status, 200, "{method} {path}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[tokio::test]
async fn binary_prints_url_and_is_scriptable_over_http() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_lever-sandbox"))
            .args(["--addr", "127.0.0.1:0", "--opportunities", "12", "--webhook-retry-base-ms", "10", "--consent", "auto"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("lever sandbox listening on ").expect("announces its URL").to_string();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with('/'));

    let seed = admin(&base, "GET", "/_admin/seed", None).await;
    assert_eq!(seed["opportunities"].as_array().unwrap().len(), 12);
    let opp = seed["opportunities"][0].as_str().unwrap().to_string();

    // Full OAuth round-trip against the standalone server.
    let q = "client_id=sandbox-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&response_type=code&state=s&audience=https%3A%2F%2Fapi.lever.co%2Fv1%2F&scope=offline_access%20opportunities%3Aread%3Aadmin";
    let r = client::send("GET", &format!("{base}/authorize?{q}"), &[], vec![], common::TIMEOUT).await.unwrap();
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    let code = loc.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let t = common::post_form(
        &format!("{base}/oauth/token"),
        &[("grant_type", "authorization_code"), ("client_id", "sandbox-client"), ("client_secret", "sandbox-secret"), ("code", &code)],
    )
    .await;
    assert_eq!(t.status, 200);
    let api = common::Api { base: base.clone(), token: t.json()["access_token"].as_str().unwrap().to_string() };

    admin(&base, "POST", "/_admin/faults", Some(json!({"kind": "status", "status": 503, "remaining": 1, "path_prefix": "/v1/opportunities"}))).await;
    assert_eq!(api.get(&format!("/v1/opportunities/{opp}")).await.status, 503);
    assert_eq!(api.get(&format!("/v1/opportunities/{opp}")).await.status, 200);

    admin(&base, "POST", &format!("/_admin/opportunities/{opp}/hire"), Some(json!({}))).await;
    let snap = admin(&base, "GET", &format!("/_admin/opportunities/{opp}"), None).await;
    assert_eq!(snap["archived"]["reason"], seed["hired_reason"]);

    admin(&base, "DELETE", &format!("/_admin/opportunities/{opp}"), None).await;
    let deleted = api.get("/v1/opportunities/deleted").await.json();
    assert_eq!(deleted["data"][0]["id"], opp.as_str());
    assert!(deleted["data"][0]["deletedAt"].is_i64());

    let counters = admin(&base, "GET", "/_admin/counters", None).await;
    assert_eq!(counters["data_requests"]["GET /v1/opportunities/{id}"], 2);
    assert_eq!(counters["token_requests"]["authorization_code"], 1);

    admin(&base, "POST", "/_admin/revoke", Some(json!({}))).await;
    assert_eq!(api.get("/v1/stages").await.status, 401);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
