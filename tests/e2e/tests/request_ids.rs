//! Operate: the lines a partner request logs carry its request id (echoed to the caller), the
//! partner once authenticated and the connection its path names; the lines a queue message's
//! handling logs carry the connection it names; no secret is in any of them.

use std::time::Duration;

use e2e::{TestHub, logs};
use lever_sandbox::SandboxConfig;
use reqwest::StatusCode;
use serde_json::Value;

/// The captured lines logged within a span named `name` whose `field` is `value`.
fn lines_in(name: &str, field: &str, value: &str) -> Vec<Value> {
    logs::lines()
        .into_iter()
        .filter(|l| l["spans"].as_array().is_some_and(|spans| spans.iter().any(|s| s["name"] == name && s[field] == value)))
        .collect()
}

/// The request span of a line.
fn request_span(line: &Value) -> &Value {
    line["spans"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "request")).expect("a request span")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_requests_log_lines_carry_its_request_partner_and_connection_ids() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;

    // The caller's own request id is kept and echoed; every line of the request carries it.
    let chosen = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    let res =
        t.http.post(format!("{}/v1/connections/{id}/jobs/sync", t.base)).bearer_auth(&p.key).header("x-request-id", &chosen).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(res.headers()["x-request-id"], chosen.as_str(), "echoed to the caller");
    let lines = lines_in("request", "request_id", &chosen);
    assert!(lines.iter().all(|l| request_span(l)["connection_id"] == id.as_str()), "the path's connection on every line: {lines:?}");
    let done = lines.iter().find(|l| l["fields"]["message"] == "request done").expect("the request's closing line");
    let span = request_span(done);
    assert_eq!((span["partner_id"].as_str(), span["connection_id"].as_str()), (Some("hireup"), Some(id.as_str())), "{done}");
    assert_eq!(done["fields"]["status"], 202, "{done}");

    // No id, or one that is not a plain token: a new one, and the caller's is not logged.
    for sent in [None, Some("two words\" and a quote")] {
        let mut req = t.http.get(format!("{}/v1/connections/{id}", t.base)).bearer_auth(&p.key);
        if let Some(v) = sent {
            req = req.header("x-request-id", v);
        }
        let res = req.send().await.unwrap();
        let given = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&given).is_ok(), "a generated id: {given}");
        let done = lines_in("request", "request_id", &given).into_iter().find(|l| l["fields"]["message"] == "request done").unwrap();
        assert_eq!(request_span(&done)["partner_id"], "hireup");
    }

    // Not authenticated: the request's lines carry its id, and no partner.
    let res = t
        .http
        .get(format!("{}/v1/connections/{id}", t.base))
        .bearer_auth("not-a-key")
        .header("x-request-id", "e2e-anonymous-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let lines = lines_in("request", "request_id", "e2e-anonymous-1");
    assert!(!lines.is_empty() && lines.iter().all(|l| request_span(l).get("partner_id").is_none()), "{lines:?}");

    // The sync the request queued: the poller's lines carry the message's connection.
    while t.hub.jobs.work_once(10, Duration::from_millis(300)).await.unwrap() > 0 {}
    let synced = lines_in("message", "connection_id", &id);
    assert!(synced.iter().any(|l| l["fields"]["message"] == "job sync pass complete"), "the run's lines are in the message's span: {synced:?}");

    assert!(logs::assert_no_secrets() > 0);
}
