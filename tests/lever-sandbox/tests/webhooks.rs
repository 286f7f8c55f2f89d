//! Webhook signing (the lever-api.md §5.3 example) and real deliveries to a
//! local receiver: headers, body, signature, retries on non-2xx (3xx included).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use lever_sandbox::{SandboxConfig, sign_webhook};
use serde_json::{Value, json};

#[test]
fn documented_signature_example_verifies() {
    let sig = sign_webhook("5f2b9c0e7a41d3386c0b1e9f24a7d58c6e13b0f9a2d4c7e1", "9e1c4b7a2f5d8036c1e4a7b90d2f5c8e1a4b7d0c3f6e9a2b", 1718035200123);
    assert_eq!(sig, "d480e0888e816d8b47a8c07789c4bf956817333659b10d68061d90b4e39e3331");
    // A different triggeredAt must not verify.
    assert_ne!(
        sig,
        sign_webhook("5f2b9c0e7a41d3386c0b1e9f24a7d58c6e13b0f9a2d4c7e1", "9e1c4b7a2f5d8036c1e4a7b90d2f5c8e1a4b7d0c3f6e9a2b", 1718035200124)
    );
}

/// What the receiver saw, and how many of the first requests it should fail (with which status).
#[derive(Default)]
struct Receiver {
    seen: Vec<(HeaderMap, Value)>,
    fail_first: usize,
    fail_status: u16,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(State(r): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = r.lock().unwrap();
    r.seen.push((headers, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    if r.seen.len() <= r.fail_first { StatusCode::from_u16(r.fail_status).unwrap() } else { StatusCode::OK }
}

async fn receiver(fail_first: usize, fail_status: u16) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Receiver { fail_first, fail_status, ..Default::default() }));
    let app = Router::new().route("/hooks", post(receive)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

fn fast() -> SandboxConfig {
    SandboxConfig { webhook_retry_base: Duration::from_millis(10), rate_limit: None, webhooks_enabled_by_default: true, ..SandboxConfig::default() }
}

async fn subscribe(api: &common::Api, event: &str, url: &str) -> String {
    let r = api.call("POST", "/v1/webhooks", Some(&json!({"event": event, "url": url}))).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let token = r.json()["data"]["configuration"]["signatureToken"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 48);
    token
}

#[tokio::test]
async fn hire_delivers_a_signed_candidate_hired_webhook() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    let (url, rx) = receiver(0, 200).await;
    let key = subscribe(&api, "candidateHired", &url).await;
    let list = api.get("/v1/webhooks").await.json();
    assert!(list.get("hasNext").is_none(), "GET /webhooks has no hasNext");
    assert!(list["data"][0]["configuration"].get("signatureToken").is_none(), "token only returned on create");

    let opp = admin.seed_ids().opportunities[0].clone();
    admin.hire(&opp, Some(1_800_000_000_000)).unwrap();
    let d = admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(d.len(), 1, "one delivery for one subscription");
    assert!(d[0].delivered);

    let (headers, body) = rx.lock().unwrap().seen[0].clone();
    assert_eq!(headers["user-agent"], "Lever-Webhooks");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(body["event"], "candidateHired");
    assert_eq!(body["data"]["opportunityId"], opp.as_str());
    assert_eq!(body["data"]["candidateId"], opp.as_str());
    assert!(body["data"]["contactId"].as_str().is_some_and(|c| !c.is_empty()));
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 48);
    let triggered = body["triggeredAt"].as_i64().unwrap();
    assert_eq!(body["signature"].as_str().unwrap(), sign_webhook(&key, token, triggered), "receiver can verify");
    assert_ne!(body["signature"].as_str().unwrap(), sign_webhook("wrong-key", token, triggered));

    // The hire is visible through the API: archived with the hired-type reason, offer with a start date.
    let o = api.get(&format!("/v1/opportunities/{opp}")).await.json();
    assert_eq!(o["data"]["archived"]["reason"], admin.hired_reason_id().as_str());
    let offers = api.get(&format!("/v1/opportunities/{opp}/offers")).await.json();
    let fields = offers["data"][0]["fields"].as_array().unwrap();
    assert!(fields.iter().any(|f| f["identifier"] == "anticipated_start_date" && f["value"] == 1_800_000_000_000i64));
}

#[tokio::test]
async fn non_2xx_including_redirects_is_retried_five_more_times() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    // Two redirects then success: three attempts, delivered.
    let (url, rx) = receiver(2, 302).await;
    subscribe(&api, "candidateStageChange", &url).await;
    let opp = admin.seed_ids().opportunities[1].clone();
    let r = api.call("PUT", &format!("/v1/opportunities/{opp}/stage"), Some(&json!({"stage": "offer"}))).await;
    assert_eq!(r.status, 200);
    let d = admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(d[0].attempts.iter().map(|a| a.status).collect::<Vec<_>>(), vec![Some(302), Some(302), Some(200)]);
    assert!(d[0].delivered);
    let seen = rx.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].1["data"]["toStageId"], "offer");
    assert!(seen[2].1["data"]["fromStageId"].is_string());
    // Retries resend the same signed body.
    assert_eq!(seen[0].1, seen[2].1);

    // A receiver that always fails: 1 + 5 attempts, then given up.
    let (url2, rx2) = receiver(usize::MAX, 500).await;
    subscribe(&api, "candidateArchiveChange", &url2).await;
    admin.set_archived(&opp, Some(&admin.seed_ids().archive_reasons[0])).unwrap();
    let d = admin.wait_for_deliveries(2, Duration::from_secs(10)).await;
    let failed = d.iter().find(|d| d.event == "candidateArchiveChange").unwrap();
    assert_eq!(failed.attempts.len(), 6);
    assert!(!failed.delivered && failed.finished);
    assert_eq!(rx2.lock().unwrap().seen.len(), 6);
    assert!(failed.body["data"]["toArchived"]["reason"].is_string());
    assert!(failed.body["data"]["fromArchived"].is_null());
}

#[tokio::test]
async fn application_created_fires_for_applications() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    let (url, rx) = receiver(0, 200).await;
    subscribe(&api, "applicationCreated", &url).await;
    let posting = admin.seed_ids().postings[0].clone();
    let (opp, app) = admin.create_application(&posting, "Quinn Applicant", "quinn@example.com").unwrap();
    admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    let body = rx.lock().unwrap().seen[0].1.clone();
    assert_eq!(body["event"], "applicationCreated");
    assert_eq!(body["data"]["applicationId"], app.as_str());
    assert_eq!(body["data"]["opportunityId"], opp.as_str());
    assert_eq!(body["data"]["postingId"], posting.as_str());
    let snap = admin.opportunity(&opp).unwrap();
    assert_eq!(snap.origin, "applied");
    assert_eq!(snap.stage, "applicant-new");
}

#[tokio::test]
async fn origin_conditions_filter_deliveries() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    let (url, _rx) = receiver(0, 200).await;
    let r = api
        .call(
            "POST",
            "/v1/webhooks",
            Some(&json!({"event": "candidateStageChange", "url": url, "configuration": {"conditions": {"origins": ["agency"]}}})),
        )
        .await;
    assert_eq!(r.status, 201);
    // Seed origins cycle applied, sourced, referred, agency, ...: index 0 is applied, 3 is agency.
    let ids = admin.seed_ids().opportunities;
    admin.move_stage(&ids[0], "offer").unwrap();
    admin.move_stage(&ids[3], "offer").unwrap();
    let d = admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].body["data"]["opportunityId"], ids[3].as_str());
}

#[test]
fn admin_actions_fire_webhooks_from_non_async_code() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sb, api) = rt.block_on(common::start(fast()));
    let (url, rx) = rt.block_on(receiver(0, 200));
    rt.block_on(subscribe(&api, "candidateHired", &url));
    let admin = sb.admin();
    // Called outside any runtime context: deliveries still go out on the sandbox's runtime.
    admin.hire(&admin.seed_ids().opportunities[7], None).unwrap();
    let d = rt.block_on(admin.wait_for_deliveries(1, Duration::from_secs(5)));
    assert!(d[0].delivered);
    assert_eq!(rx.lock().unwrap().seen.len(), 1);
}

#[tokio::test]
async fn settings_test_delivery_is_signed_with_empty_data() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    let (url, rx) = receiver(0, 200).await;
    let key = subscribe(&api, "candidateStageChange", &url).await;
    let id = admin.webhooks()[0].id.clone();
    admin.send_test_delivery(&id).unwrap();
    admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    let body = rx.lock().unwrap().seen[0].1.clone();
    assert_eq!(body["event"], "candidateHired");
    assert_eq!(body["data"], json!({}));
    assert_eq!(body["signature"].as_str().unwrap(), sign_webhook(&key, body["token"].as_str().unwrap(), body["triggeredAt"].as_i64().unwrap()));
}

/// Lever's rule: API-created webhooks send nothing until a Super Admin switches
/// the event's group on (off by default).
#[tokio::test]
async fn nothing_is_sent_until_the_group_is_switched_on() {
    let (sb, api) = common::start(SandboxConfig { webhooks_enabled_by_default: false, ..fast() }).await;
    let admin = sb.admin();
    let (url, rx) = receiver(0, 200).await;
    subscribe(&api, "candidateStageChange", &url).await;
    let id = admin.webhooks()[0].id.clone();
    assert!(!admin.webhooks_enabled("candidateStageChange"), "off by default");
    let opp = admin.seed_ids().opportunities[0].clone();
    admin.move_stage(&opp, "offer").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(admin.deliveries().is_empty() && rx.lock().unwrap().seen.is_empty(), "nothing delivered while off");
    assert_eq!(admin.counters().webhooks_suppressed["candidateStageChange"], 1);
    // The settings-page test still goes out (the Super Admin is on that page).
    admin.send_test_delivery(&id).unwrap();
    admin.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(rx.lock().unwrap().seen.len(), 1);

    // Switched on over the HTTP admin API, one group at a time.
    let on = lever_sandbox::client::post_json(
        &format!("{}/_admin/webhook-groups", api.base),
        br#"{"event":"candidateStageChange","enabled":true}"#,
        &[],
        common::TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(on.status, 200);
    assert_eq!(on.json()["candidateStageChange"], true);
    assert_eq!(on.json()["candidateHired"], false);
    admin.move_stage(&opp, "lead-new").unwrap();
    admin.wait_for_deliveries(2, Duration::from_secs(5)).await;
    let seen = rx.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].1["data"]["toStageId"], "lead-new");
    assert_eq!(seen[1].1["data"]["fromStageId"], "offer");
    // And off again.
    admin.set_webhooks_enabled("candidateStageChange", false).unwrap();
    admin.move_stage(&opp, "offer").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.lock().unwrap().seen.len(), 2);
    assert!(admin.set_webhooks_enabled("candidateMoved", true).is_err(), "unknown event");
    let bad =
        lever_sandbox::client::post_json(&format!("{}/_admin/webhook-groups", api.base), br#"{"event":"all"}"#, &[], common::TIMEOUT).await.unwrap();
    assert_eq!(bad.status, 400);
}

/// Every event with the `data` later flows read; one signature token per webhook.
#[tokio::test]
async fn every_event_carries_its_data() {
    let (sb, api) = common::start(fast()).await;
    let admin = sb.admin();
    let (url, rx) = receiver(0, 200).await;
    let mut keys = std::collections::HashMap::new();
    for e in lever_sandbox::webhooks::EVENTS {
        keys.insert(e.to_string(), subscribe(&api, e, &url).await);
    }
    let distinct: std::collections::HashSet<&String> = keys.values().collect();
    assert_eq!(distinct.len(), keys.len(), "one signature token per webhook");

    let posting = admin.seed_ids().postings[0].clone();
    let (opp, app) = admin.create_application(&posting, "Evan Events", "evan@example.com").unwrap();
    admin.move_stage(&opp, "offer").unwrap();
    admin.hire(&opp, Some(1_900_000_000_000)).unwrap();
    let (panel, interview) = admin.schedule_interview(&opp, lever_sandbox::InterviewSpec::default()).unwrap();
    admin.reschedule_interview(&opp, &interview, 1_900_000_000_000).unwrap();
    admin.delete_interview(&opp, &interview).unwrap();
    let contact = admin.opportunity(&opp).unwrap().contact;
    api.call("PUT", &format!("/v1/contacts/{contact}"), Some(&json!({"headline": "Changed"}))).await;
    admin.delete_opportunity(&opp).unwrap();
    let n = 10;
    admin.wait_for_deliveries(n, Duration::from_secs(10)).await;
    let mut seen: Vec<Value> = rx.lock().unwrap().seen.iter().map(|(_, b)| b.clone()).collect();
    // Deliveries travel independently; the sandbox's triggeredAt strictly increases.
    seen.sort_by_key(|b| b["triggeredAt"].as_i64());
    let events: Vec<&str> = seen.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        vec![
            "contactCreated",
            "applicationCreated",
            "candidateStageChange",
            "candidateArchiveChange",
            "candidateHired",
            "interviewCreated",
            "interviewUpdated",
            "interviewDeleted",
            "contactUpdated",
            "candidateDeleted",
        ],
        "in order: the archive change before the hire"
    );
    let data = |e: &str| seen.iter().find(|b| b["event"] == e).unwrap()["data"].clone();
    for e in ["applicationCreated", "candidateStageChange", "candidateArchiveChange", "candidateHired", "candidateDeleted"] {
        let d = data(e);
        assert_eq!(
            (d["opportunityId"].as_str(), d["candidateId"].as_str(), d["contactId"].as_str()),
            (Some(opp.as_str()), Some(opp.as_str()), Some(contact.as_str())),
            "{e}"
        );
    }
    assert_eq!(data("applicationCreated")["applicationId"], app.as_str());
    assert_eq!(data("applicationCreated")["postingId"], posting.as_str());
    assert_eq!(data("candidateStageChange")["fromStageId"], "applicant-new");
    let arch = data("candidateArchiveChange");
    assert!(arch["fromArchived"].is_null());
    assert_eq!(arch["toArchived"]["reason"], admin.hired_reason_id().as_str());
    assert!(arch["toArchived"]["archivedAt"].is_i64());
    assert_eq!(data("candidateDeleted")["deletedBy"], admin.super_admin_id().as_str());
    for e in ["interviewCreated", "interviewUpdated", "interviewDeleted"] {
        let d = data(e);
        assert_eq!(
            (d["interviewId"].as_str(), d["panelId"].as_str(), d["opportunityId"].as_str()),
            (Some(interview.as_str()), Some(panel.as_str()), Some(opp.as_str())),
            "{e}"
        );
    }
    assert_eq!(data("contactCreated")["contactId"], contact.as_str());
    assert_eq!(data("contactUpdated")["contactId"], contact.as_str());
    // Each delivery is signed with its own webhook's token.
    for b in &seen {
        let key = &keys[b["event"].as_str().unwrap()];
        assert_eq!(b["signature"].as_str().unwrap(), sign_webhook(key, b["token"].as_str().unwrap(), b["triggeredAt"].as_i64().unwrap()));
    }
}
