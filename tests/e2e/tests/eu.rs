//! An account in Lever's EU data centre, through the public interface on DynamoDB Local (SQS and
//! S3 on moto): the sandbox serves the account on a second port and its start address, Lever's
//! global hosts, answers the account's calls with a 301 there. Connect, job sync and a candidate
//! write with a resume all land in the EU account; the hub remembers the account's root, so
//! later calls go straight there. (`shared/tests/lever_eu.rs` runs the same on the embedded
//! store, with the client's own checks.)

use std::time::Duration;

use e2e::TestHub;
use e2e::candidates::{b64, pdf};
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::core::connection::Connection;
use shared::store::{Records, keys};

async fn api_base(t: &TestHub, id: &str) -> Option<String> {
    let records = Records::new(t.store.clone(), t.clock.clone());
    records.get::<Connection>(&keys::connection(id)).await.unwrap().unwrap().record.lever.and_then(|l| l.api_base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_eu_account_connects_syncs_jobs_and_takes_candidates_through_lever_redirects() {
    let t = TestHub::start(SandboxConfig { eu: true, ..SandboxConfig::default() }).await;
    let eu = t.sandbox.eu_base_url().expect("the sandbox's EU origin");
    let admin = t.sandbox.admin();
    let p = t.partner("hireup").await;

    // Connect: the code exchange (a form POST) and the webhook registrations (JSON POSTs) follow
    // the global hosts' 301 to the EU origin, and the account's root is remembered.
    let id = t.connect(&p).await;
    println!("connect: {} redirect(s) followed to the EU origin", admin.counters().eu_redirects);
    assert!(admin.counters().eu_redirects >= 2, "{:?}", admin.counters());
    assert!(!admin.webhooks().is_empty(), "webhooks registered in the EU account");
    assert_eq!(api_base(&t, &id).await, Some(format!("{eu}/v1")));

    // A job sync straight to the EU data centre.
    admin.reset_counters();
    let posting = t.posting("Analyst, Dublin");
    let (status, body) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    while t.hub.jobs.work_once(10, Duration::from_millis(300)).await.unwrap() > 0 {}
    let (status, job) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/jobs/{posting}"), None).await;
    assert_eq!(status, StatusCode::OK, "the EU account's posting synced: {job}");
    let c = admin.counters();
    println!("job sync with the remembered root: {} Data API request(s), {} redirect(s)", c.data_requests.values().sum::<u64>(), c.eu_redirects);
    assert_eq!(c.eu_redirects, 0, "the remembered root is used");

    // A connection record from before the hub remembered roots: the candidate write is
    // redirected, its multipart create lands whole, and the root is learned again.
    let records = Records::new(t.store.clone(), t.clock.clone());
    records
        .update::<Connection>(&keys::connection(&id), |c| {
            c.lever.as_mut().unwrap().api_base = None;
            true
        })
        .await
        .unwrap();
    admin.reset_counters();
    let resume = pdf("ada eu resume", 30_000);
    let referral = json!({
        "kind": "referral",
        "candidate": {"name": "Ada Europa", "emails": ["ada@eu.example"]},
        // An EU customer's job link, as its careers site shows it.
        "postings": [format!("https://jobs.eu.lever.co/sandbox/{posting}")],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
        "endorsement": "Moved with its body.",
        "files": [{"name": "ada-cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&resume)}],
    });
    let created = t.submit(&p, &id, "eu-1", &referral).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let o = admin.opportunity(created.body["lever"]["opportunity_id"].as_str().unwrap()).expect("written to the EU account");
    assert_eq!(o.resume.map(|r| r.bytes), Some(resume), "the resume, byte for byte");
    assert_eq!(o.sources, ["HireUp"]);
    assert!(o.notes.iter().any(|n| n.values.iter().any(|v| v.contains("Moved with its body."))), "the endorsement note (a JSON POST)");
    let c = admin.counters();
    println!(
        "candidate write without a remembered root: {} Data API request(s), {} redirect(s)",
        c.data_requests.values().sum::<u64>(),
        c.eu_redirects
    );
    assert!(c.eu_redirects >= 1, "the first call was redirected");
    assert_eq!(api_base(&t, &id).await, Some(format!("{eu}/v1")), "learned again");
    let (_, view) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(view["status"], "active", "{view}");
}
