//! The hires flow's figures: Lever's webhook acknowledged in process (verify + dedupe + durable
//! enqueue), and a hire made in the sandbox until `hire.created` is at the partner's receiver.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use shared::flows::lever_events::Receipt;
use shared::hub::{Hub, QueueName};

use crate::{percentiles, timed};

/// The partner's webhook endpoint: when each hire's `hire.created` arrived.
async fn receiver() -> (String, Arc<Mutex<HashMap<String, Instant>>>) {
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = arrived.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if event["type"] == "hire.created" {
                    let id = event["data"]["id"].as_str().unwrap_or_default().to_owned();
                    seen.lock().unwrap().entry(id).or_insert_with(Instant::now);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, arrived)
}

pub async fn run(hub: &Hub, sandbox: &lever_sandbox::Sandbox, base: &str, n: usize, hires: usize) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    hub.partners.register("hrcloud", vec![format!("{base}/done")]).await.unwrap();
    let key = hub.partners.issue_key("hrcloud", None).await.unwrap().secret.expose().to_owned();
    let (hook, arrived) = receiver().await;
    let registered = http.post(format!("{base}/v1/webhooks")).bearer_auth(&key).json(&json!({"url": hook})).send().await.unwrap();
    assert!(registered.status().is_success());
    let id = shared::testing::connect_customer(&http, base, &key, &format!("{base}/done")).await;
    let admin = sandbox.admin();
    let token_key = admin.webhooks().into_iter().find(|w| w.event == "candidateHired" && w.url.ends_with(&id)).unwrap().signature_token;

    // Acknowledgement, in process: what the receiver Lambda does before it answers Lever.
    let clock = hub.records.clock().clone();
    let ack = timed(n, |i| {
        let (receiver, id, token_key, clock) = (hub.lever_webhooks.clone(), id.clone(), token_key.clone(), clock.clone());
        async move {
            let (token, at) = (format!("bench-{i:06}-{}", uuid::Uuid::new_v4().simple()), clock.now_ms());
            let body = json!({
                "event": "candidateHired", "triggeredAt": at, "token": token,
                "signature": lever_sandbox::sign_webhook(&token_key, &token, at),
                "data": {"opportunityId": format!("bench-{i}"), "candidateId": format!("bench-{i}"), "contactId": "c"},
            });
            let receipt = receiver.receive(&id, body.to_string().as_bytes()).await.unwrap();
            assert_eq!(receipt, Receipt::Accepted);
        }
    })
    .await;
    println!("| Lever webhook: verify + dedupe + durable enqueue (in process) | {} |", percentiles(ack));
    // The enqueue alone, to see what of the acknowledgement is the queue's.
    let events = hub.wiring.queue(QueueName::LeverEvents).unwrap();
    let sends = timed(n, |i| {
        let events = events.clone();
        async move { events.send(&format!("{{\"bench\": {i}}}"), Duration::ZERO).await.unwrap() }
    })
    .await;
    println!("| … of which the queue: send one message | {} |", percentiles(sends));
    // Those events name no opportunity; they are taken off the queue unrouted.
    loop {
        let got = events.receive(10, Duration::ZERO).await.unwrap();
        if got.is_empty() {
            break;
        }
        for m in got {
            events.ack(&m.receipt).await.unwrap();
        }
    }

    // Hired in the sandbox → at the partner's receiver, with the workers of hub-local running.
    let delivery = hub.delivery.clone();
    let delivering = tokio::spawn(async move {
        loop {
            let _ = delivery.work_once(10, Duration::from_secs(1)).await;
        }
    });
    let router = hub.lever_events.clone();
    let routing = tokio::spawn(async move {
        loop {
            let _ = shared::queue::work_once(events.as_ref(), 10, Duration::from_secs(1), |body| {
                let router = router.clone();
                async move { router.handle(&body).await.ack() }
            })
            .await;
        }
    });
    admin.enable_all_webhooks();
    let posting = admin
        .create_posting(json!({"text": "Bench Engineer", "state": "published", "categories": {"department": "R&D", "location": "Berlin", "commitment": "Full-time"}}))
        .unwrap();
    let mut took = vec![];
    for i in 0..hires {
        let spec = lever_sandbox::ApplicantSpec { name: format!("Bench Hire{i}"), email: format!("bench-{i}@example.com"), ..Default::default() };
        let (opp, _) = admin.create_applicant(&posting, spec).unwrap();
        let start = Instant::now();
        admin.hire(&opp, None).unwrap();
        let at = loop {
            if let Some(at) = arrived.lock().unwrap().get(&opp).copied() {
                break at;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "hire {opp} never reached the receiver");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        took.push(at - start);
        // Hires a second apart: each takes four Lever requests (hired reasons, opportunity,
        // posting, offers) from the connection's 10/s budget, which refills in between.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    delivering.abort();
    routing.abort();
    println!("| hire: hired in the sandbox → hire.created at the partner (n = {hires}) | {} |", percentiles(took));
}
