//! Crash faults in the deployed shape: a function's process killed in the middle of an SQS
//! batch loses nothing. Its messages come back after the visibility timeout (capped here to
//! seconds) and the work is done once: one opportunity in Lever, one event delivered. A poison
//! message ends in its dead-letter queue after the redrive limit, and the messages beside it
//! are not lost.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RunningStack, wait_for};
use hub_demo::api::{Lever, Partner};
use reqwest::Method;
use serde_json::{Value, json};

/// Visibility timeouts capped to this (seconds): above the delivery queue's redrive limit
/// times this is longer than a delivery claim (40 s), as the template's own timeouts are.
const VISIBILITY: &str = "6";

fn function_stats(report: &Value, function: &str) -> Value {
    report["functions"][function].clone()
}

fn mapping_of(report: &Value, function: &str) -> Value {
    report["mappings"].as_array().unwrap().iter().find(|m| m["function"] == function).cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_candidate_writer_killed_mid_write_leaves_one_opportunity_in_lever() {
    let stack = RunningStack::start(&["--consent", "auto", "--max-visibility-timeout", VISIBILITY]);
    let (key, connection) = stack.connect("hireup").await;
    let partner = Partner::new("hireup", &stack.hub, &key, stack.http.clone());
    let lever = Lever::new(&stack.lever, stack.http.clone());
    let posting = lever.create_posting(&json!({"text": "Crash Analyst", "state": "published", "distributionChannels": ["public"]})).await.unwrap();

    // Lever applies every write at once but holds its answers: the API's inline attempt runs out
    // of its budget (202, queued), and the writer's create lands in Lever while it waits.
    stack
        .http
        .post(format!("{}/_admin/faults", stack.lever))
        .json(&json!({"kind": "response_latency", "millis": 20_000, "path_prefix": "/v1/opportunities"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let email = "ada.crash@candidates.example";
    let body = json!({
        "kind": "referral",
        "candidate": {"name": "Ada Crash", "emails": [email]},
        "postings": [posting],
        "referrer": {"name": "Grace Hopper", "email": "grace@customer.example"},
    });
    let path = format!("/v1/connections/{connection}/candidates");
    let (status, accepted) = partner.call(Method::POST, &path, Some(&body), Some("crash-1")).await.unwrap();
    assert_eq!(status.as_u16(), 202, "Lever is slow: the submission is queued: {accepted}");
    let submission = accepted["id"].as_str().unwrap().to_owned();

    // The writer's create is in Lever and its answer not yet back: kill the writer now.
    wait_for("the writer's create in Lever, with the writer mid-invocation", Duration::from_secs(120), || async {
        let in_lever = !lever.opportunities_by_email(email).await.unwrap().is_empty();
        let busy = function_stats(&stack.report().await, "candidate-writer")["in_flight"].as_u64() > Some(0);
        (in_lever && busy).then_some(())
    })
    .await;
    assert!(stack.kill("candidate-writer").await >= 1, "a writer process was killed mid-invocation");
    let killed_at = std::time::Instant::now();
    stack.http.delete(format!("{}/_admin/faults", stack.lever)).send().await.unwrap();

    // The message comes back; the run after the crash finds the opportunity instead of making
    // a second one (once the dead run's claim has lapsed).
    let written = wait_for("the submission written after the crash", Duration::from_secs(400), || async {
        let s = partner.get(&format!("{path}/{submission}")).await.ok()?;
        matches!(s["state"].as_str(), Some("created" | "updated")).then_some(s)
    })
    .await;
    // The measure the README quotes: from the crash to the submission written.
    eprintln!("candidate writer killed mid-create: written {:.1} s after the crash", killed_at.elapsed().as_secs_f64());
    let found = lever.opportunities_by_email(email).await.unwrap();
    assert_eq!(found.len(), 1, "exactly one opportunity in Lever: {found:?}");
    assert_eq!(written["lever"]["opportunity_id"], found[0]["id"], "the submission points at it: {written}");
    let notes = found[0]["notes"].as_array().map_or(0, Vec::len);
    assert_eq!(notes, 1, "the referral note written once: {}", found[0]["notes"]);

    let report = stack.report().await;
    let writer = function_stats(&report, "candidate-writer");
    assert!(writer["crashes"].as_u64() >= Some(1), "{writer}");
    let mapping = mapping_of(&report, "candidate-writer");
    assert!(mapping["failed_batches"].as_u64() >= Some(1), "the killed batch failed as a whole: {mapping}");
    assert!(mapping["received"].as_u64() > mapping["deleted"].as_u64().map(|d| d.saturating_sub(1)), "{mapping}");
    assert_eq!(stack.checks().await["passed"], true, "{}", stack.checks().await);
}

/// A partner endpoint that holds the first request it gets until released, and answers 200.
#[derive(Clone, Default)]
struct HoldingEndpoint {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    release: Arc<tokio::sync::Notify>,
}

impl HoldingEndpoint {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let me = me.clone();
                async move {
                    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    let first = {
                        let mut seen = me.seen.lock().unwrap();
                        seen.push((header("hub-event-id"), header("hub-event-type")));
                        seen.len() == 1
                    };
                    if first {
                        me.release.notified().await;
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_delivery_killed_mid_post_delivers_the_event_again() {
    let stack = RunningStack::start(&["--consent", "auto", "--max-visibility-timeout", VISIBILITY]);
    let key = stack.key("hrcloud");
    let partner = Partner::new("hrcloud", &stack.hub, &key, stack.http.clone());
    let endpoint = HoldingEndpoint::default();
    let url = endpoint.start().await;
    partner.ok(Method::POST, "/v1/webhooks", Some(&json!({"url": url}))).await.unwrap();
    // Connecting publishes the partner's first event; its POST is held at the endpoint.
    let (_, _connection) = stack.connect("hrcloud").await;
    let (held_id, held_type) =
        wait_for("the first event's POST at the endpoint", Duration::from_secs(120), || async { endpoint.seen().first().cloned() }).await;
    assert!(function_stats(&stack.report().await, "event-delivery")["in_flight"].as_u64() >= Some(1));
    assert!(stack.kill("event-delivery").await >= 1, "the delivering process was killed mid-POST");
    endpoint.release.notify_waiters();

    // The message comes back after the visibility timeout (and the dead attempt's claim): the
    // same event is POSTed again, with the same id for the partner to dedupe on.
    wait_for("the held event delivered again", Duration::from_secs(180), || async {
        (endpoint.seen().iter().filter(|(id, _)| *id == held_id).count() >= 2).then_some(())
    })
    .await;
    let report = stack.report().await;
    assert!(function_stats(&report, "event-delivery")["crashes"].as_u64() >= Some(1));
    let sqs = stack.sqs().await;
    let dead = sqs.receive_message().queue_url(stack.queue_url("DeadDeliveryQueue").await).send().await.unwrap();
    assert!(dead.messages().is_empty(), "nothing of {held_type} dead-lettered: {:?}", dead.messages());
    assert_eq!(stack.checks().await["passed"], true, "{}", stack.checks().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_message_is_dead_lettered_and_its_batch_mates_are_not_lost() {
    let stack = RunningStack::start(&["--consent", "auto", "--max-visibility-timeout", "2"]);
    let (key, connection) = stack.connect("outhire").await;
    let partner = Partner::new("outhire", &stack.hub, &key, stack.http.clone());
    let jobs = |c: &Value| c["flows"]["jobs"].clone();
    // The sync that connecting started, done first, so the one asked for below is its own run.
    let before = wait_for("the connect's job sync done", Duration::from_secs(120), || async {
        let c = partner.get(&format!("/v1/connections/{connection}")).await.ok()?;
        (jobs(&c)["state"] == "idle" && jobs(&c)["last_success_at"].is_string()).then_some(c)
    })
    .await;
    let sqs = stack.sqs().await;
    let jobs_queue = stack.queue_url("JobsQueue").await;
    // A run for a connection id the store can never hold (past DynamoDB's key size): every
    // attempt fails, so the poller reports it as a batch item failure each time.
    let poison = json!({"connection_id": "x".repeat(3000), "flow": "jobs", "trigger": "manual", "due_at_ms": 0}).to_string();
    sqs.send_message().queue_url(&jobs_queue).message_body(&poison).send().await.unwrap();
    // Beside it, a real run the partner asks for.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = partner.call(Method::POST, &format!("/v1/connections/{connection}/jobs/sync"), Some(&json!({})), None).await.unwrap();
    assert_eq!(status.as_u16(), 202);

    let dead_queue = stack.queue_url("DeadJobsQueue").await;
    let dead = wait_for("the poison message in DeadJobsQueue", Duration::from_secs(180), || async {
        let got = sqs
            .receive_message()
            .queue_url(&dead_queue)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .ok()?;
        got.messages().first().cloned()
    })
    .await;
    assert_eq!(dead.body(), Some(poison.as_str()), "the poison message, unchanged");
    let mapping = mapping_of(&stack.report().await, "job-poller");
    assert!(mapping["kept"].as_u64() >= Some(5), "received and kept maxReceiveCount (5) times: {mapping}");

    // The real run was done, not lost with it: the connection's jobs were synced after the ask.
    let after = wait_for("the partner's sync run done", Duration::from_secs(120), || async {
        let c = partner.get(&format!("/v1/connections/{connection}")).await.ok()?;
        (jobs(&c)["last_success_at"] != jobs(&before)["last_success_at"] && jobs(&c)["state"] == "idle").then_some(c)
    })
    .await;
    assert!(jobs(&after)["last_error"].is_null(), "{after}");
    let main_queue = sqs.receive_message().queue_url(&jobs_queue).send().await.unwrap();
    assert!(main_queue.messages().is_empty(), "nothing left behind: {:?}", main_queue.messages());
}
