//! Lever's webhooks into the hub (`POST /lever/webhooks/{connection}`), through the public
//! interface: the sandbox fires real signed webhooks at the hub over HTTP; forged, tampered,
//! replayed and stale deliveries are refused or deduped, and the partner gets the hire once;
//! the connection's health says whether Lever is sending at all (a Super Admin must switch
//! webhook groups on).

use std::time::Duration;

use e2e::TestHub;
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(t: &TestHub, connection_id: &str, body: &Value) -> (StatusCode, Value) {
    let res = t.http.post(format!("{}/lever/webhooks/{connection_id}", t.base)).json(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn signed(token_key: &str, event: &str, token: &str, triggered_at: i64, data: Value) -> Value {
    let signature = lever_sandbox::sign_webhook(token_key, token, triggered_at);
    json!({"event": event, "triggeredAt": triggered_at, "token": token, "signature": signature, "data": data})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lever_webhooks_are_verified_deduped_and_health_says_whether_they_arrive() {
    let t = TestHub::start(SandboxConfig { webhook_retry_base: Duration::from_millis(20), ..SandboxConfig::default() }).await;
    let p = t.partner("hrcloud").await;
    let id = t.connect(&p).await;

    // Registered at connect, but Lever's webhook groups are off until a Super Admin switches them on.
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let hooks = &c["flows"]["webhooks"];
    assert_eq!(hooks["state"], "waiting_for_first_delivery", "{c}");
    assert!(hooks["events"].as_array().unwrap().iter().any(|e| e == "candidateHired"), "{hooks}");
    assert!(hooks["message"].as_str().unwrap().contains("Super Admin"), "{hooks}");
    assert!(hooks["last_received_at"].is_null());

    let hired_before = t.sandbox.admin().opportunity_ids()[0].clone();
    t.sandbox.admin().hire(&hired_before, None).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(t.routed(&id, "candidateHired").is_empty(), "nothing is sent while the group is off");

    // Switched on: the next hire arrives, verified, once.
    t.sandbox.admin().enable_all_webhooks();
    let hired = t.sandbox.admin().opportunity_ids()[1].clone();
    t.sandbox.admin().hire(&hired, None).unwrap();
    let routed = t.wait_routed(&id, "candidateHired", 1).await;
    assert_eq!(routed[0].opportunity_id(), Some(hired.as_str()));
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["flows"]["webhooks"]["state"], "receiving", "{c}");
    assert!(c["flows"]["webhooks"]["last_received_at"].is_string());
    assert!(c["flows"]["webhooks"]["message"].is_null());

    // Lever's own retry of that delivery (same token) is acknowledged and not routed again.
    let delivered = t.sandbox.admin().deliveries().into_iter().find(|d| d.delivered && d.event == "candidateHired").unwrap();
    let (status, body) = post(&t, &id, &delivered.body).await;
    assert_eq!((status, body["received"].as_str()), (StatusCode::OK, Some("duplicate")));

    // Forged and tampered: refused, nothing routed.
    let key = t.sandbox.admin().webhooks().into_iter().find(|w| w.event == "candidateHired").unwrap().signature_token;
    let now = t.now_ms();
    let data = json!({"opportunityId": hired, "candidateId": hired, "contactId": "c"});
    let forged = signed("not-the-webhooks-token", "candidateHired", "t-forged", now, data.clone());
    assert_eq!(post(&t, &id, &forged).await.0, StatusCode::UNAUTHORIZED);
    let mut tampered = signed(&key, "candidateHired", "t-tampered", now, data.clone());
    tampered["triggeredAt"] = json!(now + 1);
    assert_eq!(post(&t, &id, &tampered).await.0, StatusCode::UNAUTHORIZED, "the signature covers token + triggeredAt");
    let mut unsigned = signed(&key, "candidateHired", "t-unsigned", now, data.clone());
    unsigned.as_object_mut().unwrap().remove("signature");
    assert_eq!(post(&t, &id, &unsigned).await.0, StatusCode::UNAUTHORIZED);
    let other_event = signed(&key, "candidateStageChange", "t-other", now, data.clone());
    assert_eq!(post(&t, &id, &other_event).await.0, StatusCode::UNAUTHORIZED, "signed with another webhook's token");
    assert_eq!(post(&t, "no-such-connection", &signed(&key, "candidateHired", "t-x", now, data.clone())).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&t, &id, &json!({"not": "lever"})).await.0, StatusCode::BAD_REQUEST);

    // Stale: a correctly signed delivery from 13 hours ago is refused; a fresh one is accepted once.
    let stale = signed(&key, "candidateHired", "t-stale", now - 13 * 3600 * 1000, data.clone());
    assert_eq!(post(&t, &id, &stale).await.0, StatusCode::UNAUTHORIZED);
    let fresh = signed(&key, "candidateHired", "t-fresh", now, data.clone());
    assert_eq!(post(&t, &id, &fresh).await.1["received"], "accepted");
    assert_eq!(post(&t, &id, &fresh).await.1["received"], "duplicate");
    let routed = t.wait_routed(&id, "candidateHired", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.routed(&id, "candidateHired").len(), 2, "the sandbox's hire and the fresh one, each once: {routed:?}");

    // Lever's settings-page test (data: {}) is acknowledged and recorded, not routed.
    let test_id = t.sandbox.admin().webhooks().into_iter().find(|w| w.event == "candidateHired").unwrap().id;
    t.sandbox.admin().send_test_delivery(&test_id).unwrap();
    for _ in 0..100 {
        if t.sandbox.admin().deliveries().iter().any(|d| d.delivered && d.body["data"] == json!({})) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(t.sandbox.admin().deliveries().iter().any(|d| d.delivered && d.body["data"] == json!({})), "the test delivery got a 2xx");
    assert_eq!(t.routed(&id, "candidateHired").len(), 2);

    // At the partner: the hire Lever delivered, retried and had replayed is one hire.created;
    // the hire made while the webhook group was off sent nothing (no import ran).
    let of = |opp: &str| t.receiver.events("hire.created", &id).into_iter().filter(|e| e["data"]["id"] == opp).count();
    t.receiver.wait_for("hire.created", &id, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((of(&hired), of(&hired_before)), (1, 0), "nothing is processed twice");
}
