//! A submission's claim is short and renewed while its run lives: a slow run keeps it past the
//! claim's length (no second runner writes the same candidate), and once the run is over the
//! claim is gone. A dead run (one that stops renewing) lets go within the claim's length, which
//! the deployed-shape crash test (`tools/hub-stack/tests/crashes.rs`) shows end to end.

mod common;

use std::time::{Duration, Instant};

use common::{LocalHub, Request, Tuning};
use lever_sandbox::SandboxConfig;
use lever_sandbox::faults::{FaultKind, FaultRule};
use serde_json::json;
use shared::flows::candidates::{CandidatePolicy, SubmissionRecord};
use shared::store::keys;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_run_keeps_its_short_claim_and_releases_it_when_done() {
    let claim_ttl = Duration::from_millis(600);
    let tuning = Tuning {
        lever_timeout: Some(Duration::from_secs(10)),
        lever_rate_limit: None,
        candidates: CandidatePolicy {
            inline_budget: Duration::from_millis(200),
            claim_ttl,
            claim_renew_every: Duration::from_millis(150),
            retry_min: Duration::from_millis(100),
            ..CandidatePolicy::default()
        },
        ..Tuning::default()
    };
    let h = LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await;
    let key = h.partner("hireup").await;
    let connection = h.connect(&key, "hireup").await;
    let admin = h.sandbox.admin();
    let posting = admin.create_posting(json!({"text": "Patient engineer", "state": "published"})).unwrap();
    // Every answer on the opportunities routes takes 2.5 s: the inline attempt gives up (202)
    // and the writer's run lasts four claim lengths.
    admin.inject(FaultRule { kind: FaultKind::ResponseLatency { millis: 2_500 }, path_prefix: Some("/v1/opportunities".into()), remaining: None });

    let body = json!({
        "kind": "referral",
        "candidate": {"name": "Slow Sam", "emails": ["slow.sam@claims.example"]},
        "postings": [posting],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
    });
    let answer = h
        .send(Request::new("POST", format!("/v1/connections/{connection}/candidates")).key(&key).header("idempotency-key", "slow-1").json(&body))
        .await;
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    let id = answer.json()["id"].as_str().unwrap().to_owned();
    let record_key = keys::submission(&connection, &id);

    // Two writers at once, as two Lambda instances would be.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let candidates = h.hub.candidates.clone();
            tokio::spawn(async move {
                loop {
                    if candidates.work_once(10, Duration::from_millis(50)).await.is_err() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();

    // Once a run holds the claim, it still holds it well past the claim's length.
    let started = Instant::now();
    let first_holder = loop {
        let r = h.hub.records.get::<SubmissionRecord>(&record_key).await.unwrap().unwrap().record;
        if let Some(claim) = r.claim {
            break claim.holder;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no run claimed the submission");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The hub's clock moves past the claim's length; the live run renews it meanwhile.
    h.clock.advance_ms(claim_ttl.as_millis() as i64 * 2);
    tokio::time::sleep(claim_ttl).await;
    // A second message for it arrives (the sweeper, a redelivery): its run must find the
    // submission busy rather than write the candidate a second time.
    let again = json!({"type": "submission", "connection_id": connection, "submission_id": id}).to_string();
    let second = tokio::spawn({
        let candidates = h.hub.candidates.clone();
        async move { candidates.work(&again).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = h.hub.records.get::<SubmissionRecord>(&record_key).await.unwrap().unwrap().record;
    if r.state.is_open() {
        let claim = r.claim.expect("the run still holds its claim");
        assert_eq!(claim.holder, first_holder, "no other run took over a live run's submission");
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let r = h.hub.records.get::<SubmissionRecord>(&record_key).await.unwrap().unwrap().record;
        if !r.state.is_open() || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    admin.clear_faults();
    assert!(second.await.unwrap(), "the second message is done with (busy, queued for later)");
    for w in workers {
        w.abort();
    }
    assert!(!done.state.is_open(), "written: {done:?}");
    assert!(done.claim.is_none(), "the claim released with the outcome");
    let found = admin.opportunities_by_email("slow.sam@claims.example");
    assert_eq!(found.len(), 1, "one opportunity: {found:?}");
}
