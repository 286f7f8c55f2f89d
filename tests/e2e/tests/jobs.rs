//! Issue "Jobs", through the public interface: connect over HTTP, the dispatcher's schedule
//! and the job poller on SQS (moto), the Lever sandbox over HTTP (rate limit on), DynamoDB
//! Local, the partner API, and `job.*` events verified at the partner's receiver.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::{TestHub, TestPartner, logs};
use lever_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A connection of a partner, with the filter its profile applies (judged on Lever's JSON).
type Connected = (TestPartner, String, fn(&Value) -> bool);

/// The dispatcher's minute, then the job poller working the jobs queue dry.
async fn tick(t: &TestHub) -> usize {
    t.hub.wiring.dispatcher().unwrap().dispatch_once(t.now_ms()).await.unwrap();
    drain(t).await
}

/// The next poll of each connection, asked through the API (the hub's clock stays put: partners
/// check signatures against their own clock).
async fn sync_all(t: &TestHub, connections: &[Connected]) -> usize {
    for (p, id, _) in connections {
        let (status, body) = t.call(p, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    drain(t).await
}

/// Works the jobs queue until a receive finds nothing.
async fn drain(t: &TestHub) -> usize {
    let mut runs = 0;
    loop {
        let n = t.hub.jobs.work_once(10, Duration::from_millis(300)).await.unwrap();
        if n == 0 {
            return runs;
        }
        runs += n;
    }
}

async fn jobs(t: &TestHub, p: &TestPartner, id: &str, query: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/connections/{id}/jobs?limit=100{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = t.call(p, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn ids(jobs: &[Value]) -> BTreeSet<String> {
    jobs.iter().map(|j| j["id"].as_str().unwrap().to_owned()).collect()
}

fn channels(p: &Value) -> Vec<String> {
    p["distributionChannels"].as_array().map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The sandbox's postings a filter takes, judged on Lever's raw JSON.
fn expected(t: &TestHub, keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    let admin = t.sandbox.admin();
    admin.posting_ids().into_iter().filter(|id| keep(&admin.posting(id).unwrap())).collect()
}

fn external(p: &Value) -> bool {
    p["state"] == "published" && channels(p).iter().any(|c| c == "public")
}

fn internal_or_external(p: &Value) -> bool {
    p["state"] == "published" && !channels(p).is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_profile_gets_its_feed_changes_and_signed_events_once_per_change() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let admin = t.sandbox.admin();
    let mut connections = vec![];
    for (profile, keep) in [("hireup", external as fn(&Value) -> bool), ("employeereferrals", external), ("outhire", internal_or_external)] {
        let p = t.partner(profile).await;
        let id = t.connect(&p).await;
        let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
        assert_eq!(c["flows"]["jobs"]["state"], "queued", "the first sync is due at once: {c}");
        connections.push((p, id, keep));
    }
    assert_eq!(tick(&t).await, 3, "one run per connection");

    for (p, id, keep) in &connections {
        let feed = jobs(&t, p, id, "").await;
        assert_eq!(ids(&feed), expected(&t, keep), "{}: exactly what its profile takes", p.id);
        let created = t.receiver.wait_for("job.created", id, feed.len()).await;
        assert_eq!(ids(&created.iter().map(|e| e["data"].clone()).collect::<Vec<_>>()), ids(&feed), "{}: one job.created per job", p.id);
        for e in &created {
            shared::contract::contract().validate_schema("/components/schemas/Event", e).unwrap();
            shared::contract::contract().validate_schema("/components/schemas/Job", &e["data"]).unwrap();
        }
        let (_, c) = t.call(p, Method::GET, &format!("/v1/connections/{id}"), None).await;
        let flow = &c["flows"]["jobs"];
        assert_eq!((flow["state"].as_str(), flow["jobs_open"].as_u64()), (Some("idle"), Some(feed.len() as u64)), "{c}");
        assert!(flow["last_success_at"].is_string() && flow["next_run_at"].is_string(), "{c}");
    }

    // HireUp: both referral-bonus forms; the salary it does not take is not sent.
    let (hireup, hireup_id, _) = &connections[0];
    let seed = admin.seed_ids();
    let feed = jobs(&t, hireup, hireup_id, "").await;
    let find = |id: &str| feed.iter().find(|j| j["id"] == id).cloned().unwrap();
    let cash = find(&seed.referral_bonus_cash_posting);
    let currency = admin.posting(&seed.referral_bonus_cash_posting).unwrap()["salaryRange"]["currency"].clone();
    assert_eq!(cash["referral_bonus"], json!({"amount": 3000.0, "currency": currency, "text": "3000"}), "{cash}");
    assert_eq!(find(&seed.referral_bonus_prize_posting)["referral_bonus"], json!({"text": "Win an iPad"}));
    assert!(cash["salary"].is_null() && cash["description"]["html"].is_string());

    // A new posting and an internal-only one, then the next schedule: every partner hears once.
    let new = admin.create_posting(json!({"text": "Night Nurse", "state": "published", "distributionChannels": ["public", "internal"]})).unwrap();
    let internal_only = admin.create_posting(json!({"text": "Staff Lawyer", "state": "published", "distributionChannels": ["internal"]})).unwrap();
    let renamed = ids(&jobs(&t, hireup, hireup_id, "").await).into_iter().find(|j| *j != new && *j != seed.referral_bonus_cash_posting).unwrap();
    admin.update_posting(&renamed, json!({"text": "Renamed Role"})).unwrap();
    assert_eq!(sync_all(&t, &connections).await, 3);
    for (p, id, _) in &connections {
        let open = ids(&jobs(&t, p, id, "").await);
        assert!(open.contains(&new), "{}: a new published posting is in the feed after one poll", p.id);
        assert_eq!(open.contains(&internal_only), p.id == "outhire", "{}: internal job site only", p.id);
        let updated = t.receiver.wait_for("job.updated", id, 1).await;
        assert_eq!(updated.len(), 1, "{}: one job.updated for the rename: {updated:?}", p.id);
        assert_eq!(updated[0]["data"]["title"], "Renamed Role");
    }

    // Closed in Lever: retired by the next poll, announced once, still readable as closed.
    admin.close_posting(&new).unwrap();
    sync_all(&t, &connections).await;
    for (p, id, _) in &connections {
        assert!(!ids(&jobs(&t, p, id, "").await).contains(&new), "{}: retired after the next poll", p.id);
        let closed = jobs(&t, p, id, "&status=closed").await;
        assert_eq!(closed.iter().find(|j| j["id"] == new.as_str()).map(|j| j["status"].clone()), Some(json!("closed")));
        let events = t.receiver.wait_for("job.closed", id, 1).await;
        assert_eq!(events.len(), 1, "{}: {events:?}", p.id);
        assert_eq!((events[0]["data"]["id"].as_str(), events[0]["data"]["status"].as_str()), (Some(new.as_str()), Some("closed")));
    }

    // Nothing changed: a poll announces nothing more.
    let before: usize = connections
        .iter()
        .map(|(_, id, _)| ["job.created", "job.updated", "job.closed"].iter().map(|k| t.receiver.events(k, id).len()).sum::<usize>())
        .sum();
    sync_all(&t, &connections).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after: usize = connections
        .iter()
        .map(|(_, id, _)| ["job.created", "job.updated", "job.closed"].iter().map(|k| t.receiver.events(k, id).len()).sum::<usize>())
        .sum();
    assert_eq!(after, before, "an unchanged poll sends no event");
    for (_, id, _) in &connections {
        let mut seen = BTreeSet::new();
        for kind in ["job.created", "job.updated", "job.closed"] {
            for e in t.receiver.events(kind, id) {
                assert!(seen.insert(e["id"].as_str().unwrap().to_owned()), "delivered twice: {e}");
            }
        }
    }
    assert_eq!(t.receiver.bad_signatures(), 0, "every job event verified at the receiver");

    // Every completed sync is measured in CloudWatch's embedded metric format, per flow and
    // per partner: runs, their time, and the jobs they changed.
    let runs = logs::wait_metric("SyncRuns", "hireup").await;
    assert!(runs.len() >= 4, "the first sync and three more: {runs:?}");
    let run = &runs[0];
    assert_eq!((run["Flow"].as_str(), run["Partner"].as_str(), run["SyncRuns"].as_f64()), (Some("jobs"), Some("hireup"), Some(1.0)), "{run}");
    assert_eq!(
        run["_aws"]["CloudWatchMetrics"],
        json!([{"Namespace": "LeverHub", "Dimensions": [["Flow"], ["Flow", "Partner"]], "Metrics": [{"Name": "SyncRuns", "Unit": "Count"}]}]),
        "{run}"
    );
    assert!(run["_aws"]["Timestamp"].as_i64().is_some_and(|at| at > 1_700_000_000_000), "{run}");
    let duration = logs::wait_metric("SyncDuration", "outhire").await;
    assert_eq!(duration[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Milliseconds");
    // The first sync created every job of the feed; later syncs created, renamed and closed one each.
    let first_feed = expected(&t, external).len() as f64;
    assert!(logs::metric_sum("JobsChanged", "hireup") >= first_feed + 3.0, "{}", logs::metric_sum("JobsChanged", "hireup"));
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resolve_takes_every_hosted_url_form_and_refuses_the_rest() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let admin = t.sandbox.admin();
    let outhire = t.partner("outhire").await;
    let id = t.connect(&outhire).await;
    tick(&t).await;
    let job = jobs(&t, &outhire, &id, "").await.remove(0);
    let posting = job["id"].as_str().unwrap().to_owned();
    let hosted = job["hosted_url"].as_str().unwrap().trim_end_matches('/').to_owned();
    let site = hosted.split('/').nth(3).unwrap().to_owned();
    let enc = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();
    let forms = [
        format!("https://jobs.lever.co/{site}/{posting}"),
        format!("https://jobs.lever.co/{site}/{posting}/"),
        format!("https://jobs.lever.co/{site}/{posting}/apply"),
        format!("https://jobs.lever.co/{site}/{posting}/apply/"),
        format!("https://jobs.lever.co/{site}/{posting}?lever-source=LinkedIn&lever-origin=applied"),
        format!("https://jobs.lever.co/{site}/{posting}/apply?source=x#form"),
        format!("https://jobs.eu.lever.co/{site}/{posting}"),
        format!("https://jobs.eu.lever.co/{site}/{posting}/apply/"),
        format!("https://JOBS.LEVER.CO/{site}/{}", posting.to_uppercase()),
    ];
    for form in &forms {
        let (status, body) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}/jobs/resolve?url={}", enc(form)), None).await;
        assert_eq!(status, StatusCode::OK, "{form}: {body}");
        assert_eq!((body["id"].as_str(), body["in_feed"].as_bool()), (Some(posting.as_str()), Some(true)), "{form}");
        assert!(body["details"]["requisition_codes"].is_array());
    }
    for bad in [
        "https://example.com/acme/x",
        "not a url",
        &posting,
        &format!("https://jobs.lever.co/{site}"),
        &format!("https://jobs.lever.co/{site}/not-a-uuid"),
    ] {
        let (status, body) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}/jobs/resolve?url={}", enc(bad)), None).await;
        assert_eq!((status, body["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/invalid-request")), "{bad}: {body}");
        assert_eq!(body["errors"][0]["field"], "url");
    }
    let stranger = format!("https://jobs.lever.co/{site}/00000000-0000-4000-8000-000000000000");
    let (status, _) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}/jobs/resolve?url={}", enc(&stranger)), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a posting not in this account");

    // A posting newer than the last sync, and a screener without a jobs flow: read from Lever.
    let fresh = admin.create_posting(json!({"text": "Brand New", "state": "published", "distributionChannels": ["public"]})).unwrap();
    let (status, body) = t
        .call(
            &outhire,
            Method::GET,
            &format!("/v1/connections/{id}/jobs/resolve?url={}", enc(&format!("https://jobs.lever.co/{site}/{fresh}/apply"))),
            None,
        )
        .await;
    assert_eq!((status, body["in_feed"].as_bool(), body["status"].as_str()), (StatusCode::OK, Some(false), Some("open")), "{body}");
    let upwage = t.partner("upwage").await;
    let screener = t.connect(&upwage).await;
    let (status, body) = t.call(&upwage, Method::GET, &format!("/v1/connections/{screener}/jobs/resolve?url={}", enc(&forms[2])), None).await;
    assert_eq!((status, body["id"].as_str(), body["in_feed"].as_bool()), (StatusCode::OK, Some(posting.as_str()), Some(false)), "{body}");
    let (status, _) = t.call(&upwage, Method::GET, &format!("/v1/connections/{screener}/jobs"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no jobs flow, no feed");
    // Another partner's connection is not found, whatever the URL.
    let (status, _) = t.call(&upwage, Method::GET, &format!("/v1/connections/{id}/jobs/resolve?url={}", enc(&forms[0])), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_at_once_poll_each_due_connection_exactly_once() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let mut connections = vec![];
    for profile in ["hireup", "employeereferrals", "outhire"] {
        let p = t.partner(profile).await;
        for _ in 0..2 {
            connections.push(t.connect(&p).await);
        }
    }
    t.sandbox.admin().reset_counters();
    let (a, b) = (t.hub.wiring.dispatcher().unwrap(), t.hub.wiring.dispatcher().unwrap());
    let now = t.now_ms();
    let (ra, rb) = tokio::join!(a.dispatch_once(now), b.dispatch_once(now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.enqueued + rb.enqueued, connections.len(), "{ra:?} {rb:?}");
    assert_eq!(drain(&t).await, connections.len(), "one run per due connection");
    assert_eq!(t.sandbox.admin().requests("GET /v1/postings"), connections.len() as u64, "each polled exactly once (one page each)");
    assert_eq!(drain(&t).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sync_now_import_marks_and_disconnect_keeps_the_feed_readable() {
    let t = TestHub::start(SandboxConfig::default()).await;
    let outhire = t.partner("outhire").await;
    let id = t.connect(&outhire).await;
    let (status, body) = t.call(&outhire, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["jobs"]["state"], "queued");
    drain(&t).await;
    let (_, c) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["flows"]["jobs"]["state"], "idle", "{c}");
    let first = jobs(&t, &outhire, &id, "").await.remove(0);
    let job_id = first["id"].as_str().unwrap().to_owned();
    assert!(first["imported"].is_null());
    let (status, marked) =
        t.call(&outhire, Method::POST, &format!("/v1/connections/{id}/jobs/{job_id}/import"), Some(json!({"partner_ref": "JD-42"}))).await;
    assert_eq!((status, marked["imported"]["partner_ref"].as_str()), (StatusCode::OK, Some("JD-42")), "{marked}");
    let (_, one) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}/jobs/{job_id}"), None).await;
    assert_eq!(one["imported"]["partner_ref"], "JD-42");
    assert!(one["details"]["first_seen_at"].is_string() && one["workplace_type"].is_string(), "every import detail: {one}");

    // A full sync on request, from the partner's "Import" list.
    let (status, _) = t.call(&outhire, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), Some(json!({"full": true}))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&t).await;
    let (status, _) = t.call(&outhire, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), Some(json!({"fast": true}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");

    let (status, _) = t.call(&outhire, Method::DELETE, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = jobs(&t, &outhire, &id, "&status=all").await;
    let kept = after.iter().find(|j| j["id"] == job_id.as_str()).expect("imported jobs stay readable");
    assert_eq!((kept["status"].as_str(), kept["imported"]["partner_ref"].as_str()), (Some("open"), Some("JD-42")), "status as last seen");
    let (status, body) = t.call(&outhire, Method::POST, &format!("/v1/connections/{id}/jobs/sync"), None).await;
    assert_eq!((status, body["type"].as_str()), (StatusCode::CONFLICT, Some("/problems/connection-not-active")));
    t.sandbox.admin().reset_counters();
    t.clock.advance_ms(86_400_000);
    tick(&t).await;
    assert_eq!(t.sandbox.admin().requests("GET /v1/postings"), 0, "no further syncs");
    let (_, c) = t.call(&outhire, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert!(c["flows"]["jobs"]["next_run_at"].is_null(), "{c}");
}
