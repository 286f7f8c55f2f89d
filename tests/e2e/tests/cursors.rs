//! Issue 8, item 1: pagination cursors are sealed and bound to the list that made them. For
//! every paged list route, over HTTP against DynamoDB Local: a forged cursor (the old
//! unsigned form, aimed at another partner's partition), a foreign one (another partner's,
//! another list's) and a truncated one are each a 400 `invalid-cursor` problem, and the real
//! cursor still pages.

use base64::Engine as _;
use e2e::{TestHub, TestPartner};
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// What a cursor was before sealing: base64 of a store key, here another partner's partition.
fn forged(pk: &str, sk: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"key": {"pk": pk, "sk": sk}}).to_string())
}

fn with_cursor(path: &str, cursor: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}cursor={}", url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>())
}

async fn next_cursor(t: &TestHub, p: &TestPartner, path: &str) -> String {
    let (status, page) = t.call(p, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {page}");
    page["next_cursor"].as_str().unwrap_or_else(|| panic!("{path} has a second page: {page}")).to_owned()
}

/// Each bad cursor is refused as a problem; the good one pages on.
async fn refuses_bad_cursors(t: &TestHub, p: &TestPartner, path: &str, good: &str, bad: &[(&str, String)]) {
    for (what, cursor) in bad {
        let (status, problem) = t.call(p, Method::GET, &with_cursor(path, cursor), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what} cursor on {path}: {problem}");
        assert_eq!(problem["type"], "/problems/invalid-cursor", "{what} cursor on {path}: {problem}");
    }
    let (status, page) = t.call(p, Method::GET, &with_cursor(path, good), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["data"].as_array().unwrap().is_empty());
}

fn truncated(cursor: &str) -> String {
    cursor[..cursor.len() / 2].to_owned()
}

async fn two_connections(t: &TestHub, p: &TestPartner) -> Vec<String> {
    let mut ids = vec![];
    for _ in 0..2 {
        let (status, c) = t.call(p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connection_list_cursors_are_sealed_and_bound() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let owner = t.partner("hireup").await;
    let other = t.partner("employeereferrals").await;
    two_connections(&t, &owner).await;
    two_connections(&t, &other).await;
    let own = next_cursor(&t, &owner, "/v1/connections?limit=1").await;
    let others = next_cursor(&t, &other, "/v1/connections?limit=1").await;

    // The attack of issue 8: the other partner's partition under an unsigned cursor.
    let bad = [("forged", forged("PARTNER#employeereferrals", "CONN#")), ("foreign (another partner's)", others), ("truncated", truncated(&own))];
    refuses_bad_cursors(&t, &owner, "/v1/connections?limit=1", &own, &bad).await;
    // And the owner's own cursor is no key to another partner's list either.
    let (status, _) = t.call(&other, Method::GET, &with_cursor("/v1/connections?limit=1", &own), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn activity_cursors_are_sealed_and_bound_to_their_connection() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hireup").await;
    let stranger = t.partner("employeereferrals").await;
    let id = t.connect(&p).await;
    let other_id = t.connect(&p).await;
    let path = format!("/v1/connections/{id}/activity?limit=1");
    let own = next_cursor(&t, &p, &path).await;
    let other_connection = next_cursor(&t, &p, &format!("/v1/connections/{other_id}/activity?limit=1")).await;
    let other_list = next_cursor(&t, &p, "/v1/connections?limit=1").await;
    let bad = [
        ("forged", forged(&format!("CONN#{other_id}"), "ACT#~")),
        ("foreign (another connection's)", other_connection),
        ("foreign (another list's)", other_list),
        ("truncated", truncated(&own)),
    ];
    refuses_bad_cursors(&t, &p, &path, &own, &bad).await;
    let (status, _) = t.call(&stranger, Method::GET, &with_cursor(&path, &own), None).await;
    assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_cursors_are_sealed_and_bound_to_their_status() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("hireup").await;
    let other = t.partner("employeereferrals").await;
    // Each connect announces a status change: one delivered event per connection.
    for partner in [&p, &other] {
        for _ in 0..2 {
            let id = t.connect(partner).await;
            t.receiver.wait_for("connection.status_changed", &id, 1).await;
        }
    }
    let path = "/v1/deliveries?status=delivered&limit=1";
    let own = wait_for_cursor(&t, &p, path).await;
    let others = wait_for_cursor(&t, &other, path).await;
    let bad =
        [("forged", forged("EVENT#employeereferrals#x", "DELIVERY#y")), ("foreign (another partner's)", others), ("truncated", truncated(&own))];
    refuses_bad_cursors(&t, &p, path, &own, &bad).await;
    // The same partner's cursor of the delivered list does not page the dead list.
    let (status, problem) = t.call(&p, Method::GET, &with_cursor("/v1/deliveries?status=dead&limit=1", &own), None).await;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::BAD_REQUEST, Some("/problems/invalid-cursor")));
}

/// Deliveries are listed from an index that DynamoDB updates a moment after the write.
async fn wait_for_cursor(t: &TestHub, p: &TestPartner, path: &str) -> String {
    for _ in 0..100 {
        let (_, page) = t.call(p, Method::GET, path, None).await;
        if let Some(c) = page["next_cursor"].as_str() {
            return c.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never had a second page");
}

/// `/v1/api-keys` is not paged (a partner has a handful of keys): a cursor there is ignored,
/// whatever it holds, and the list is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_keys_are_not_paged_so_a_cursor_changes_nothing() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let p = t.partner("upwage").await;
    let (status, _) = t.call(&p, Method::POST, "/v1/api-keys", Some(json!({"label": "second"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, whole) = t.call(&p, Method::GET, "/v1/api-keys", None).await;
    let (status, with) = t.call(&p, Method::GET, &with_cursor("/v1/api-keys", &forged("PARTNER#hireup", "APIKEY#")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whole, with);
    assert_eq!(with["data"].as_array().map(Vec::len), Some(2));
    assert!(with.get("next_cursor").is_none_or(Value::is_null));
}
