//! Hires to the HRIS (issue 12), through the public interface only: the Lever sandbox hires a
//! candidate and fires its webhook over HTTP, the partner's receiver gets `hire.created`, the
//! partner imports and lists hires over the API, the dispatcher starts the daily run; DynamoDB
//! Local and SQS on moto underneath.

use std::time::Duration;

use e2e::{TestHub, TestPartner, logs};
use lever_sandbox::{ApplicantSpec, OfferSpec, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::core::schedule::{TimeOfDay, TzName, next_daily_run_ms};

const DAY: i64 = 86_400_000;

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// Seeded activity (and its hires) days before the test, so "since the connection was made"
/// finds only the hires the test makes.
fn sandbox(webhooks_on: bool) -> SandboxConfig {
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    SandboxConfig {
        now: Some(now - 3 * DAY),
        webhooks_enabled_by_default: webhooks_on,
        webhook_retry_base: Duration::from_millis(20),
        ..SandboxConfig::default()
    }
}

/// The `hire.created` events the receiver has for one opportunity.
fn hires_of(t: &TestHub, connection_id: &str, opportunity_id: &str) -> Vec<Value> {
    t.receiver.events("hire.created", connection_id).into_iter().filter(|e| e["data"]["id"] == opportunity_id).collect()
}

async fn wait_hires_of(t: &TestHub, connection_id: &str, opportunity_id: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let got = hires_of(t, connection_id, opportunity_id);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} hire.created for {opportunity_id} never arrived; got {:?}", hires_of(t, connection_id, opportunity_id));
}

/// Waits until the connection's activity has `n` entries of `kind`; returns them newest first.
async fn wait_activity(t: &TestHub, p: &TestPartner, connection_id: &str, kind: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let (_, page) = t.call(p, Method::GET, &format!("/v1/connections/{connection_id}/activity?limit=100"), None).await;
        let found: Vec<Value> = page["data"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).cloned().collect();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} {kind} activity entries never appeared for {connection_id}");
}

/// A candidate applies to a posting with a hiring manager, and gets three offers: a signed one,
/// a later signed one (its start date is the one that counts) and a draft made after both.
async fn candidate_with_offers(t: &TestHub, p: &TestPartner, connection_id: &str, name: &str, email: &str) -> (String, String) {
    let admin = t.sandbox.admin();
    let (_, users) = t.call(p, Method::GET, &format!("/v1/connections/{connection_id}/lever/users"), None).await;
    let manager = users["data"].as_array().unwrap().iter().find(|u| u["id"] != admin.super_admin_id()).unwrap().clone();
    let posting = admin
        .create_posting(json!({
            "text": "Principal Composer", "state": "published", "distributionChannels": ["public"],
            "categories": {"department": "Music", "team": "Strings", "location": "Vienna", "commitment": "Full-time"},
            "hiringManager": manager["id"],
        }))
        .unwrap();
    let (opp, _) = admin.create_applicant(&posting, ApplicantSpec { name: name.into(), email: email.into(), ..Default::default() }).unwrap();
    let offer = |status: &str, created: &str, start: &str| OfferSpec {
        status: status.into(),
        created_at: Some(ms(created)),
        anticipated_start_date: Some(ms(start)),
        ..OfferSpec::default()
    };
    admin.add_offer(&opp, offer("signed", "2026-05-01T10:00:00Z", "2026-08-03T00:00:00Z")).unwrap();
    admin.add_offer(&opp, offer("signed", "2026-05-20T10:00:00Z", "2026-09-01T00:00:00Z")).unwrap();
    admin.add_offer(&opp, offer("draft", "2026-06-01T10:00:00Z", "2026-10-01T00:00:00Z")).unwrap();
    (opp, manager["name"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hire_reaches_the_hris_once_and_again_only_when_asked() {
    let t = TestHub::start(sandbox(true)).await;
    let p = t.partner("hrcloud").await;
    let id = t.connect(&p).await;
    let (opp, manager) = candidate_with_offers(&t, &p, &id, "Ludwig van Beethoven", "ludwig@example.com").await;

    // Hired in Lever: its candidateHired webhook brings the hire within seconds.
    t.sandbox.admin().hire(&opp, None).unwrap();
    let sent = wait_hires_of(&t, &id, &opp, 1).await;
    let event = &sent[0];
    let fields = &event["data"]["fields"];
    let expected = json!({
        "First Name": "Ludwig",
        "Middle Name": null,
        "Last Name": "van Beethoven",
        "Email": "ludwig@example.com",
        "Position": "Principal Composer",
        "Department": "Music",
        "Location": "Vienna",
        "Employment Type": "Full-time",
        "Manager": manager,
        "Start Date": "2026-09-01",
        "Employee Number": opp,
    });
    assert_eq!(fields, &expected, "the 11 fields of the seed's mapping: {event}");
    assert_eq!(event["data"]["missing"], json!(["Middle Name"]), "Lever's name has no middle name: listed, not guessed");
    assert_eq!((event["data"]["send"].as_u64(), event["data"]["resend"].as_bool()), (Some(1), Some(false)));
    assert_eq!(event["data"]["trigger"], "webhook");
    let lever = &event["data"]["lever"];
    assert_eq!(lever["opportunity_id"], opp);
    assert_eq!(lever["archive_reason_id"], t.sandbox.admin().hired_reason_id());
    let signed_later = t.sandbox.admin().opportunity(&opp).unwrap().offers[1]["id"].clone();
    assert_eq!(lever["offer_id"], signed_later, "the start date's offer is the later signed one, not the newer draft");
    assert_eq!(lever["offer_status"], "signed", "the partner sees which kind of offer gave the date");
    assert_eq!(event["occurred_at"], event["data"]["hired_at"], "the event happened when Lever archived the hire");

    // The partner imports: every hire since the connection was made, and every hire at all.
    // Both find this one already sent.
    for body in [json!({}), json!({"all": true})] {
        let (status, queued) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/hires/import"), Some(body)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    }
    wait_activity(&t, &p, &id, "hires.imported", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hires_of(&t, &id, &opp).len(), 1, "a manual import does not send it a second time");

    // Asked to resend: exactly one more, marked as such.
    let (status, queued) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/hires/import"), Some(json!({"resend": true}))).await;
    assert_eq!((status, queued["resend"].as_bool()), (StatusCode::ACCEPTED, Some(true)));
    let sent = wait_hires_of(&t, &id, &opp, 2).await;
    wait_activity(&t, &p, &id, "hires.imported", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hires_of(&t, &id, &opp).len(), 2, "one resend, one more event");
    let again = sent.iter().find(|e| e["data"]["send"] == 2).expect("send 2");
    assert_eq!((again["data"]["resend"].as_bool(), again["data"]["trigger"].as_str()), (Some(true), Some("on_demand")));
    assert_ne!(again["id"], event["id"], "a resend is a new event");
    assert_eq!(again["data"]["fields"], expected);

    // The partner can pull the same: newest first, with how often it was sent.
    let (status, page) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/hires"), None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = &page["data"][0];
    assert_eq!((listed["id"].as_str(), listed["sends"].as_u64(), listed["found_by"].as_str()), (Some(opp.as_str()), Some(2), Some("webhook")));
    assert_eq!(listed["fields"], expected);

    // The connection says how the flow is doing and when the daily run is next.
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert!(c["flows"]["hires"]["last_success_at"].is_string(), "{c}");
    let next = ms(c["flows"]["hires"]["next_run_at"].as_str().unwrap());
    assert!(next > t.now_ms() && next <= t.now_ms() + DAY + 3_600_000, "the next local midnight: {c}");
    assert_eq!(t.receiver.bad_signatures(), 0);

    // Measured for the dashboard: the sends (the webhook's and the resend), the three runs, and
    // how long after Lever's hired time the first send was stored.
    assert!(logs::metric_sum("HiresSent", "hrcloud") >= 2.0);
    assert!(logs::metric_sum("HireImportRuns", "hrcloud") >= 3.0);
    let lag = logs::wait_metric("HireLag", "hrcloud").await;
    assert!(lag.iter().all(|d| d["Flow"] == "hires" && d["HireLag"].as_f64().is_some_and(|ms| ms >= 0.0)), "{lag:?}");
    assert_eq!(lag[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0], json!({"Name": "HireLag", "Unit": "Milliseconds"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_run_the_dispatcher_starts_imports_hires_since_the_watermark() {
    // Lever's webhook groups are off: only the daily run can find these hires.
    let t = TestHub::start(sandbox(false)).await;
    let p = t.partner("hrcloud").await;
    let id = t.connect(&p).await;
    let dispatcher = t.hub.wiring.dispatcher().unwrap();

    // Scheduled at the next midnight in Los Angeles (HR Cloud's "12:00 AM PST"), in UTC.
    let midnight = TimeOfDay::parse("00:00").unwrap();
    let la = TzName::parse("America/Los_Angeles").unwrap();
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let first = ms(c["flows"]["hires"]["next_run_at"].as_str().unwrap());
    assert_eq!(first, next_daily_run_ms(midnight, &la, t.now_ms()), "{c}");
    assert!(c["flows"]["hires"]["next_run_at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC");

    let (a, _) = candidate_with_offers(&t, &p, &id, "Clara Josephine Wieck", "clara@example.com").await;
    t.sandbox.admin().hire(&a, None).unwrap();

    // The dispatcher's minute at the due time. (The hub's clock is moved to it and back: the
    // run itself then happens at the sandbox's time, as Lever's clock and ours agree.)
    let dispatch_at = |at: i64| {
        let (t, dispatcher) = (&t, &dispatcher);
        async move {
            let by = at - t.now_ms();
            t.clock.advance_ms(by);
            let report = dispatcher.dispatch_once(at).await.unwrap();
            t.clock.advance_ms(-by);
            report
        }
    };
    let early = dispatch_at(first - 60_000).await;
    assert_eq!(early.enqueued, 0, "not yet due: {early:?}");
    let report = dispatch_at(first).await;
    assert_eq!(report.enqueued, 1, "{report:?}");
    let sent = wait_hires_of(&t, &id, &a, 1).await;
    assert_eq!(sent[0]["data"]["trigger"], "daily");
    assert_eq!(sent[0]["data"]["fields"]["Middle Name"], "Josephine");
    wait_activity(&t, &p, &id, "hires.imported", 1).await;
    assert_eq!(t.receiver.events("hire.created", &id).len(), 1, "only the hire since the connection was made, no seeded one");

    // Moved to the following local midnight; a second hire, the next day's run.
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let second = ms(c["flows"]["hires"]["next_run_at"].as_str().unwrap());
    assert_eq!(second, next_daily_run_ms(midnight, &la, first));
    assert!((23 * 3_600_000..=25 * 3_600_000).contains(&(second - first)));
    let (b, _) = candidate_with_offers(&t, &p, &id, "Fanny Mendelssohn", "fanny@example.com").await;
    t.sandbox.admin().hire(&b, None).unwrap();
    assert_eq!(dispatch_at(second).await.enqueued, 1);
    wait_hires_of(&t, &id, &b, 1).await;
    let imported = wait_activity(&t, &p, &id, "hires.imported", 2).await;
    let message = imported[0]["message"].as_str().unwrap();
    assert!(message.starts_with("daily import"), "{message}");
    assert!(message.contains("1 sent") && message.contains("1 already sent"), "the first hire is in the overlap, found sent: {message}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hires_of(&t, &id, &a).len(), 1, "the first hire is not sent again");
    assert_eq!(t.receiver.events("hire.created", &id).len(), 2);
}
