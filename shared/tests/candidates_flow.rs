//! Candidate ingest's edges through the real router over the embedded store and the Lever
//! sandbox: a Retry-After longer than any queue delay, connections that cannot take candidates,
//! and bodies that are not submissions.

mod common;

use std::time::Duration;

use common::{LocalHub, Request};
use lever_sandbox::faults::FaultRule;
use serde_json::json;
use shared::clock::Clock;
use shared::hub::QueueName;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_longer_than_a_queue_delay_is_kept() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let admin = h.sandbox.admin();
    let posting = admin.create_posting(json!({"text": "Later", "state": "published"})).unwrap();
    admin.inject(FaultRule::status(20, 429, Some(3_600)).on_path("/v1/opportunities"));
    let body =
        json!({"kind": "referral", "candidate": {"name": "Ada", "emails": ["ada@later.example"]}, "postings": [posting], "referrer": {"name": "G"}});
    let a = h.send(Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", "later").json(&body)).await;
    assert_eq!(a.status, 202, "{:?}", a.json());
    let sub = a.json()["id"].as_str().unwrap().to_owned();

    // The queued message says "not before an hour from now"; handled earlier, it is sent on.
    let queue = h.hub.wiring.queue(QueueName::Candidates).unwrap();
    let message = serde_json::json!({"type": "submission", "connection_id": id, "submission_id": sub, "attempt": 1,
                                     "not_before_ms": h.clock.now_ms() + 3_600_000});
    assert!(h.hub.candidates.work(&message.to_string()).await, "done with, for now");
    let again = queue.receive(10, Duration::from_millis(100)).await.unwrap();
    assert!(again.is_empty(), "sent on with a delay, not at once");
    let view = h.send(Request::new("GET", format!("/v1/connections/{id}/candidates/{sub}")).key(&key)).await.json();
    assert_eq!(view["attempts"], 1, "not tried before Lever's hour: {view}");
    assert_eq!(view["state"], "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_cannot_take_candidates_and_bodies_that_are_not_submissions_are_refused() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let hr = h.partner("hrcloud").await;
    let id = h.connect(&key, "hireup").await;
    let hr_id = h.connect(&hr, "hrcloud").await;
    let post = |k: &str, conn: &str, body: serde_json::Value| {
        Request::new("POST", format!("/v1/connections/{conn}/candidates")).key(k).header("idempotency-key", "x").json(&body)
    };
    let body = json!({"kind": "referral", "candidate": {"name": "Ada", "emails": ["ada@x.example"]}, "postings": ["3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e"], "referrer": {"name": "G"}});

    // An HRIS partner pushes no candidates; another partner's connection is not found.
    let hris = h.send(post(&hr, &hr_id, body.clone())).await;
    assert_eq!(hris.status, 422, "{:?}", hris.json());
    assert_eq!(h.send(post(&hr, &id, body.clone())).await.status, 404);
    // Unknown fields, two postings, a bad file: every problem named.
    let mut bad = body.clone();
    bad["postings"] = json!(["3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]);
    bad["files"] = json!([{"name": "cv.exe", "content_type": "application/x-msdownload", "role": "resume", "content_base64": "!!"}]);
    let answer = h.send(post(&key, &id, bad)).await;
    assert_eq!(answer.status, 422);
    let fields: Vec<String> = answer.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, vec!["postings", "files[0].content_type", "files[0].content_base64"], "{:?}", answer.json());
    let mut unknown = body.clone();
    unknown["candiate"] = json!({});
    let answer = h.send(post(&key, &id, unknown)).await;
    assert_eq!(answer.status, 422);
    assert!(answer.json()["detail"].as_str().unwrap().contains("unknown field `candiate`"), "{:?}", answer.json());
    assert_eq!(h.send(post(&key, &id, json!({"kind": "referral"}))).await.status, 422, "no candidate");

    // A disconnected connection takes no candidates (409), and nothing reaches Lever.
    assert_eq!(h.send(Request::new("DELETE", format!("/v1/connections/{id}")).key(&key)).await.status, 204);
    h.sandbox.admin().reset_counters();
    let gone = h.send(post(&key, &id, body)).await;
    assert_eq!((gone.status, gone.json()["type"].as_str()), (409, Some("/problems/connection-not-active")));
    assert!(h.sandbox.admin().writes().is_empty());
}

/// Answers stored before outcomes were typed hold the HTTP status they were given; a retry with
/// their key is answered exactly as the first request was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stored_in_the_old_form_replay_as_they_were_given() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let posting = h.sandbox.admin().create_posting(json!({"text": "Replayed", "state": "published"})).unwrap();
    let body =
        json!({"kind": "referral", "candidate": {"name": "Ada", "emails": ["ada@replay.example"]}, "postings": [posting], "referrer": {"name": "G"}});
    let post = || Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", "old-form").json(&body);
    let first = h.send(post()).await;
    assert_eq!(first.status, 201, "{:?}", first.json());
    let location = first.header("location").map(str::to_owned);
    assert!(location.is_some());

    // The record as the old code wrote it: the status beside the answer, no outcome.
    let store = h.hub.records.store().clone();
    let record_key = shared::store::keys::idempotency("hireup", &shared::core::candidate::idempotency_key_digest("old-form"));
    let rewrite = |answer: serde_json::Value| {
        let (store, record_key) = (store.clone(), record_key.clone());
        async move {
            let mut item = store.get(&record_key).await.unwrap().expect("the key's record");
            item.body["answer"] = answer;
            store.put(item, shared::store::Expect::Any).await.unwrap();
        }
    };
    rewrite(json!({"status": 201, "body": first.json(), "problem": null, "location": location})).await;
    let again = h.send(post()).await;
    assert_eq!((again.status, again.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!((again.json(), again.header("location").map(str::to_owned)), (first.json(), location.clone()));

    rewrite(json!({"status": 202, "body": first.json(), "problem": null, "location": location})).await;
    assert_eq!(h.send(post()).await.status, 202);

    let refusal = json!({"type_name": "invalid-request", "detail": "not in Lever (retry)", "errors": [["candidate.emails", "not in Lever"]]});
    rewrite(json!({"status": 422, "body": first.json(), "problem": refusal, "location": location})).await;
    let refused = h.send(post()).await;
    assert_eq!((refused.status, refused.header("idempotent-replayed")), (422, Some("true")));
    let problem = refused.json();
    assert_eq!((problem["type"].as_str(), problem["detail"].as_str()), (Some("/problems/invalid-request"), Some("not in Lever (retry)")));
    assert_eq!(problem["errors"], json!([{"field": "candidate.emails", "message": "not in Lever"}]));

    rewrite(json!({"status": 409, "body": first.json(), "problem": {"type_name": "connection-not-active", "detail": "gone"}, "location": location}))
        .await;
    let refused = h.send(post()).await;
    assert_eq!((refused.status, refused.json()["type"].as_str()), (409, Some("/problems/connection-not-active")));
}

/// With the Lever account's rate budget spent for the next half minute (by other work of the
/// connection), a submission is not held for the inline budget waiting for a send time it
/// cannot use: it is answered `202` at once, queued for when the budget frees, and nothing is
/// sent to Lever meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_whose_lever_budget_is_spent_is_queued_at_once() {
    use shared::lever::rate_budget::{RateBudgetPolicy, StoreRateBudget};
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let posting = h.sandbox.admin().create_posting(json!({"text": "Busy", "state": "published"})).unwrap();
    // Other work of the connection holds the next 30 s of send times.
    let other_work = StoreRateBudget::new(h.hub.records.clone(), RateBudgetPolicy::default());
    for _ in 0..60 {
        other_work.reserve(&id, 5).await.unwrap();
    }
    // Send times the hub's process still holds from connecting (webhook registrations) lapse
    // after 150 ms unused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = || h.sandbox.admin().counters().data_requests.values().sum::<u64>();
    let before = sent();
    let body =
        json!({"kind": "referral", "candidate": {"name": "Ada", "emails": ["ada@busy.example"]}, "postings": [posting], "referrer": {"name": "G"}});
    let started = std::time::Instant::now();
    let a = h.send(Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", "busy").json(&body)).await;
    let waited = started.elapsed();
    assert_eq!(a.status, 202, "{:?}", a.json());
    assert_eq!(a.json()["state"], "queued");
    assert!(waited < Duration::from_secs(4), "answered without waiting out the 8 s inline budget: {waited:?}");
    assert_eq!(sent(), before, "nothing sent to Lever for it yet: {:?}", h.sandbox.admin().counters().data_requests);
}
