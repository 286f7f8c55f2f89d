//! What partners receive, hardened (issue 8, item 8): secret rotation with overlap, replay after
//! an endpoint is removed, event ordering, and settings given at create checked after consent.
//! Through the public interface only: the partner API over HTTP, the webhook receiver, the Lever
//! sandbox, DynamoDB Local and SQS on moto.

use std::time::Duration;

use e2e::{TestHub, logs};
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::flows::delivery::signature;

fn strict() -> SandboxConfig {
    SandboxConfig { strict_refresh: true, ..SandboxConfig::default() }
}

fn verifies(secret: &str, arrival: &e2e::receiver::Arrival) -> bool {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    signature::verify(secret, &arrival.signature, &arrival.body, now, 300).is_ok()
}

/// The arrival that carried event `event_type` of `connection_id`, waiting for it.
async fn arrival_of(t: &TestHub, event_type: &str, connection_id: &str) -> e2e::receiver::Arrival {
    for _ in 0..200 {
        let found = t.receiver.arrivals().into_iter().rev().find(|a| {
            let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
            body["type"] == event_type && body["connection_id"] == connection_id
        });
        if let Some(a) = found {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {event_type} event for {connection_id} arrived");
}

async fn webhook_id(t: &TestHub, p: &e2e::TestPartner) -> String {
    let (_, hooks) = t.call(p, Method::GET, "/v1/webhooks", None).await;
    hooks["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_secret_signs_beside_the_new_one_until_its_overlap_ends() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("hireup").await;
    let hook = webhook_id(&t, &p).await;
    let first = t.receiver.secret("hireup").unwrap();

    // Rotated without saying how long: the old secret goes on signing for a day.
    let (status, rotated) = t.call(&p, Method::POST, &format!("/v1/webhooks/{hook}/rotate-secret"), None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let second = rotated["secret"].as_str().unwrap().to_owned();
    logs::forbid(&second);
    let until =
        time::OffsetDateTime::parse(rotated["previous_secrets_expire_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    let in_a_day = time::OffsetDateTime::from_unix_timestamp(t.now_ms() / 1000).unwrap() + time::Duration::hours(24);
    assert!((until - in_a_day).whole_seconds().abs() <= 2, "{until} vs {in_a_day}");
    let (_, hooks) = t.call(&p, Method::GET, "/v1/webhooks", None).await;
    assert_eq!(hooks["data"][0]["previous_secrets_expire_at"], rotated["previous_secrets_expire_at"]);
    assert!(!hooks.to_string().contains(&second), "the listing shows no secret");

    // The partner has deployed either secret: a delivery verifies with both.
    t.receiver.set_secret("hireup", &second);
    let id = t.connect(&p).await;
    let signed = arrival_of(&t, "connection.status_changed", &id).await;
    assert_eq!(signed.signature.matches("v1=").count(), 2, "{}", signed.signature);
    assert!(verifies(&first, &signed) && verifies(&second, &signed));

    // After a leak: no overlap, every earlier secret stops at once.
    let (status, leaked) =
        t.call(&p, Method::POST, &format!("/v1/webhooks/{hook}/rotate-secret"), Some(json!({"previous_secret_expires_in": 0}))).await;
    assert_eq!(status, StatusCode::OK, "{leaked}");
    assert_eq!(leaked["previous_secrets_expire_at"], Value::Null);
    let third = leaked["secret"].as_str().unwrap().to_owned();
    logs::forbid(&third);
    t.receiver.set_secret("hireup", &third);
    assert_eq!(t.call(&p, Method::DELETE, &format!("/v1/connections/{id}"), None).await.0, StatusCode::NO_CONTENT);
    let body_of = |a: &e2e::receiver::Arrival| serde_json::from_slice::<Value>(&a.body).unwrap();
    let mut signed = arrival_of(&t, "connection.status_changed", &id).await;
    for _ in 0..100 {
        if body_of(&signed)["data"]["to"] == "disconnected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        signed = arrival_of(&t, "connection.status_changed", &id).await;
    }
    assert_eq!(body_of(&signed)["data"]["to"], "disconnected");
    assert_eq!(signed.signature.matches("v1=").count(), 1);
    assert!(verifies(&third, &signed));
    assert!(!verifies(&second, &signed) && !verifies(&first, &signed));

    // Overlaps are bounded; unknown fields are named.
    for bad in [json!({"previous_secret_expires_in": 700_000}), json!({"overlap": 5}), json!({"previous_secret_expires_in": -1})] {
        let (status, problem) = t.call(&p, Method::POST, &format!("/v1/webhooks/{hook}/rotate-secret"), Some(bad.clone())).await;
        assert_eq!((status, problem["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/invalid-request")), "{bad}: {problem}");
    }
    assert_eq!(t.receiver.bad_signatures(), 0);
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_after_the_endpoint_was_removed_is_refused_or_goes_to_the_current_one() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    let event = t.receiver.wait_for("connection.status_changed", &id, 1).await;
    let event_id = event[0]["id"].as_str().unwrap().to_owned();

    let old_hook = webhook_id(&t, &p).await;
    assert_eq!(t.call(&p, Method::DELETE, &format!("/v1/webhooks/{old_hook}"), None).await.0, StatusCode::NO_CONTENT);
    let (status, problem) = t.call(&p, Method::POST, &format!("/v1/events/{event_id}/replay"), None).await;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::CONFLICT, Some("/problems/conflict")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("register one"), "{problem}");

    // The partner registers its new endpoint; the replay goes there.
    let (status, created) = t.call(&p, Method::POST, "/v1/webhooks", Some(json!({"url": t.receiver.hook_url("outhire-v2")}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    logs::forbid(&secret);
    t.receiver.set_secret("outhire-v2", &secret);
    let (status, replayed) = t.call(&p, Method::POST, &format!("/v1/events/{event_id}/replay"), None).await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["data"].as_array().unwrap().len(), 1);
    assert_eq!(replayed["data"][0]["webhook_id"], created["id"]);
    for _ in 0..100 {
        if !t.receiver.events_at("outhire-v2").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrived = t.receiver.events_at("outhire-v2");
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0]["id"], event_id.as_str());
    assert_eq!(arrived[0], event[0], "the same event, byte for byte");
    assert_eq!(t.receiver.bad_signatures(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_events_carry_increasing_sequences_and_when_they_happened() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    t.receiver.wait_for("connection.status_changed", &id, 1).await;
    t.clock.advance_ms(5_000);
    assert_eq!(t.call(&p, Method::DELETE, &format!("/v1/connections/{id}"), None).await.0, StatusCode::NO_CONTENT);
    let events = t.receiver.wait_for("connection.status_changed", &id, 2).await;
    assert_eq!(events.len(), 2);
    let mut by_sequence = events.clone();
    by_sequence.sort_by_key(|e| e["sequence"].as_u64().unwrap());
    assert_eq!(by_sequence.iter().map(|e| e["sequence"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    assert_eq!((by_sequence[0]["data"]["to"].as_str(), by_sequence[1]["data"]["to"].as_str()), (Some("active"), Some("disconnected")));
    let at = |e: &Value| time::OffsetDateTime::parse(e["occurred_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    assert!(at(&by_sequence[1]) - at(&by_sequence[0]) >= time::Duration::seconds(5), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_given_at_create_are_checked_against_lever_after_consent() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let stranger = "00000000-0000-4000-8000-000000000000";
    let create = |settings: Value| {
        let body = json!({"return_url": p.return_url, "settings": settings});
        t.call(&p, Method::POST, "/v1/connections", Some(body))
    };

    // Not a user of this Lever account: nothing could tell before consent.
    let (status, created) = create(json!({"perform_as": stranger})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let back = t.consent(created["authorize_url"].as_str().unwrap()).await;
    assert!(back.query_pairs().any(|(k, v)| k == "status" && v == "active"), "{back}");
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["status"], "active", "the consent stands");
    assert_eq!(c["missing_settings"], json!(["settings.perform_as"]), "{c}");
    assert!(c["flows"]["settings"]["last_error"].as_str().unwrap().contains("not a user"), "{c}");
    assert!(c["flows"]["settings"]["last_failure_at"].is_string(), "{c}");
    let (_, activity) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/activity"), None).await;
    let checked = activity["data"].as_array().unwrap().iter().find(|e| e["kind"] == "settings.checked").expect("logged");
    assert_eq!(checked["ok"], false);

    // A PATCH that Lever accepts clears it.
    let user = t.sandbox.admin().super_admin_id();
    let (status, c) = t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(json!({"settings": {"perform_as": user}}))).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["missing_settings"], json!([]));
    assert!(c["flows"]["settings"]["last_success_at"].is_string(), "{c}");

    // Valid settings at create are kept and recorded as checked.
    let (_, created) = create(json!({"perform_as": user})).await;
    let good = created["id"].as_str().unwrap().to_owned();
    t.consent(created["authorize_url"].as_str().unwrap()).await;
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{good}"), None).await;
    assert_eq!((c["status"].as_str(), c["missing_settings"].clone()), (Some("active"), json!([])), "{c}");
    assert_eq!(c["settings"]["perform_as"], user.as_str());
    assert!(c["flows"]["settings"]["last_success_at"].is_string() && c["flows"]["settings"]["last_failure_at"].is_null(), "{c}");
}
