//! Never lost: Lever down, rate limiting, slow or answering a create it applied with a 502; the
//! queue's message gone; every attempt failing — the submission is kept, retried, failed with an
//! event and replayable, and Lever ends up with exactly one opportunity. Large files go through
//! an upload to S3 (moto) by a pre-signed PUT.

use std::time::Duration;

use e2e::candidates::{b64, pdf};
use e2e::{TestHub, TestOptions, logs};
use lever_sandbox::SandboxConfig;
use lever_sandbox::faults::{FaultKind, FaultRule};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::flows::candidates::CandidatePolicy;

fn sandbox() -> SandboxConfig {
    SandboxConfig { webhooks_enabled_by_default: true, webhook_retry_base: Duration::from_millis(20), ..SandboxConfig::default() }
}

fn application(email: &str, posting: &str, resume: &[u8]) -> Value {
    json!({"kind": "referral", "candidate": {"name": "Alan Turing", "emails": [email]}, "postings": [posting],
           "referrer": {"name": "Joan Clarke"}, "endorsement": "Brilliant.",
           "files": [{"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(resume)}]})
}

fn time_ms(v: &Value) -> i64 {
    time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp_nanos() as i64
        / 1_000_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lever_down_is_a_202_and_the_queue_writes_it_once_lever_is_back() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();

    admin.inject(FaultRule::error_rate(1.0, 503).on_path("/v1/opportunities"));
    let accepted = t.submit(&p, &id, "down-1", &application("alan@candidates.example", &posting, &pdf("alan", 4_000))).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert_eq!(accepted.body["state"], "queued");
    assert_eq!(accepted.body["error"]["code"], "lever_unavailable", "the last attempt's error is shown while queued");
    assert!(accepted.body["next_attempt_at"].is_string());
    let sub = accepted.body["id"].as_str().unwrap().to_owned();

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(t.candidate(&p, &id, &sub).await["state"], "queued", "still down: still queued");
    admin.clear_faults();
    let done = t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(20)).await;
    assert!(done["attempts"].as_u64().unwrap() >= 2, "{done}");
    let found = admin.opportunities_by_email("alan@candidates.example");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].resume.as_ref().unwrap().bytes, pdf("alan", 4_000), "the file was kept while queued");
    assert_eq!(found[0].notes.len(), 1);
    assert_eq!(t.receiver.wait_for("candidate.created", &id, 1).await.len(), 1);
    // The kept file is gone once in Lever.
    let key = shared::files::submission_file_key(&id, &sub, 0);
    assert!(shared::files::FileStore::head(t.files.as_ref(), &key).await.unwrap().is_none(), "deleted once written");
    // Measured: answered 202 and queued, then written, with its time from acceptance to Lever.
    assert!(logs::metric_sum("SubmissionsQueued", "hireup") >= 1.0);
    assert!(logs::metric_sum("SubmissionsWritten", "hireup") >= 1.0);
    let lag = logs::wait_metric("SubmissionLag", "hireup").await;
    assert_eq!(lag[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0], json!({"Name": "SubmissionLag", "Unit": "Milliseconds"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_after_is_honoured_and_a_submission_out_of_attempts_fails_with_an_event_and_can_be_retried() {
    let policy = CandidatePolicy {
        max_attempts: 3,
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(300),
        ..CandidatePolicy::default()
    };
    let t = TestHub::start_with(sandbox(), TestOptions { candidates: policy, ..TestOptions::default() }).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();

    // Rate limited for longer than a run waits: queued for exactly as long as Lever asked.
    // (21 s: beyond the longest Retry-After the Lever client sleeps through, 20 s. Lever's pause
    // also holds every later request of the connection back, the partner's retry below included.)
    admin.inject(FaultRule::status(50, 429, Some(21)).on_path("/v1/opportunities"));
    let limited = t.submit(&p, &id, "rl-1", &application("joan@candidates.example", &posting, &pdf("joan", 100))).await;
    assert_eq!(limited.status, StatusCode::ACCEPTED, "{}", limited.body);
    let wait = time_ms(&limited.body["next_attempt_at"]) - time_ms(&limited.body["updated_at"]);
    assert_eq!(wait, 21_000, "Retry-After: 21 is honoured: {}", limited.body);
    admin.clear_faults();
    // The partner brings it forward: it is written as soon as Lever's pause is over.
    let sub = limited.body["id"].as_str().unwrap().to_owned();
    let (status, _) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/candidates/{sub}/retry"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(40)).await;

    // Every attempt fails: after 3 it is failed, the partner is told, and a retry writes it.
    admin.inject(FaultRule::error_rate(1.0, 500).on_path("/v1/opportunities"));
    let doomed = t.submit(&p, &id, "dl-1", &application("tommy@candidates.example", &posting, &pdf("tommy", 100))).await;
    assert_eq!(doomed.status, StatusCode::ACCEPTED);
    let sub = doomed.body["id"].as_str().unwrap().to_owned();
    let failed = t.wait_candidate(&p, &id, &sub, "failed", Duration::from_secs(20)).await;
    assert_eq!(failed["error"]["code"], "lever_unavailable");
    assert_eq!(failed["attempts"], 3);
    let events = t.receiver.wait_for("submission.failed", &id, 1).await;
    assert_eq!(events.len(), 1);
    assert!(logs::metric_sum("SubmissionFailures", "hireup") >= 1.0, "a failed submission is counted");
    assert_eq!(events[0]["data"]["id"], sub.as_str());
    assert!(admin.opportunities_by_email("tommy@candidates.example").is_empty());
    admin.clear_faults();
    let (status, retried) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/candidates/{sub}/retry"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{retried}");
    assert_eq!(retried["state"], "queued");
    assert_eq!(retried["attempts"], 0, "attempts counted anew");
    t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(10)).await;
    assert_eq!(admin.opportunities_by_email("tommy@candidates.example").len(), 1);
    let (status, again) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/candidates/{sub}/retry"), None).await;
    assert_eq!((status, again["type"].as_str()), (StatusCode::CONFLICT, Some("/problems/conflict")), "a written one is not sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ambiguous_creates_and_cut_short_runs_end_in_one_opportunity() {
    // An inline budget too short for a slow Lever: the run is cut off mid-request.
    let policy = CandidatePolicy {
        inline_budget: Duration::from_millis(300),
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(500),
        ..CandidatePolicy::default()
    };
    let t = TestHub::start_with(sandbox(), TestOptions { candidates: policy, lever_timeout: Duration::from_secs(2), ..TestOptions::default() }).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();

    // Lever applies the create, then answers 502: the hub looks before it creates again.
    admin.inject(FaultRule::error_after_commit(1, 502).on_path("/v1/opportunities"));
    let ambiguous = t.submit(&p, &id, "amb-1", &application("hedy@candidates.example", &posting, &pdf("hedy", 800))).await;
    let sub = ambiguous.body["id"].as_str().unwrap().to_owned();
    let done = t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(10)).await;
    let found = admin.opportunities_by_email("hedy@candidates.example");
    assert_eq!(found.len(), 1, "never a second opportunity");
    assert_eq!(done["lever"]["opportunity_id"], found[0].id.as_str(), "the lost create is recognised as ours");
    assert_eq!(found[0].notes.len(), 1);

    // The note's answer is lost after Lever wrote it: not written twice.
    admin.inject(FaultRule::lose_responses(1).on_path("/v1/opportunities/"));
    let lost = t.submit(&p, &id, "amb-2", &application("katherine@candidates.example", &posting, &pdf("k", 80))).await;
    let sub = lost.body["id"].as_str().unwrap().to_owned();
    t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(10)).await;
    let found = admin.opportunities_by_email("katherine@candidates.example");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].notes.len(), 1, "the note whose answer was lost is found, not repeated");

    // Lever takes 1 s to answer the create: the inline run gives up after 300 ms (202), the
    // create lands anyway, and the queued run finds it.
    admin.inject(FaultRule { kind: FaultKind::ResponseLatency { millis: 1_000 }, path_prefix: Some("/v1/opportunities".into()), remaining: Some(1) });
    let slow = t.submit(&p, &id, "slow-1", &application("mary@candidates.example", &posting, &pdf("mary", 80))).await;
    assert_eq!(slow.status, StatusCode::ACCEPTED, "{}", slow.body);
    let sub = slow.body["id"].as_str().unwrap().to_owned();
    t.wait_candidate(&p, &id, &sub, "created", Duration::from_secs(10)).await;
    let found = admin.opportunities_by_email("mary@candidates.example");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].notes.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_submission_whose_message_is_lost_is_found_by_the_sweeper() {
    // No writer running: this test plays it, so it can lose a message.
    let t = TestHub::start_with(sandbox(), TestOptions { candidate_workers: 0, ..TestOptions::default() }).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();
    admin.inject(FaultRule::error_rate(1.0, 503).on_path("/v1/opportunities"));
    let accepted = t.submit(&p, &id, "lost-1", &application("ada@lost.example", &posting, &pdf("ada", 10))).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    let sub = accepted.body["id"].as_str().unwrap().to_owned();
    // The retry's message is lost (deleted unread, as if the queue or a dying process lost it).
    let queue = t.hub.wiring.queue(shared::hub::QueueName::Candidates).unwrap();
    let mut lost = 0;
    for _ in 0..5 {
        for m in queue.receive(10, Duration::from_secs(2)).await.unwrap() {
            queue.ack(&m.receipt).await.unwrap();
            lost += 1;
        }
        if lost > 0 {
            break;
        }
    }
    assert_eq!(lost, 1, "the one retry message: {}", t.candidate(&p, &id, &sub).await);
    admin.clear_faults();
    assert_eq!(t.candidate(&p, &id, &sub).await["state"], "queued");
    // Before its time nothing is due; after the retry's time and the grace, the sweeper queues it.
    assert_eq!(t.hub.candidates.sweep_once(t.now_ms()).await.unwrap().submissions, 0);
    t.clock.advance_ms(6 * 60 * 1000);
    assert_eq!(t.hub.candidates.sweep_once(t.now_ms()).await.unwrap().submissions, 1);
    assert_eq!(t.hub.candidates.sweep_once(t.now_ms()).await.unwrap().submissions, 0, "pushed forward: queued once");
    let mut handled = 0;
    while handled == 0 {
        handled = t.hub.candidates.work_once(10, Duration::from_secs(1)).await.unwrap();
    }
    assert_eq!(t.candidate(&p, &id, &sub).await["state"], "created");
    assert_eq!(admin.opportunities_by_email("ada@lost.example").len(), 1);
}

/// `POST …/uploads` for a PDF of `size` bytes.
async fn create_upload(t: &TestHub, p: &e2e::TestPartner, id: &str, name: &str, size: usize) -> (StatusCode, Value) {
    let body = json!({"name": name, "content_type": "application/pdf", "size_bytes": size});
    t.call(p, Method::POST, &format!("/v1/connections/{id}/uploads"), Some(body)).await
}

/// A PUT of `bytes` to an upload's URL with the headers it was handed (they are signed).
async fn put_upload(t: &TestHub, upload: &Value, bytes: Vec<u8>) -> reqwest::Response {
    let mut put = t.http.put(upload["upload_url"].as_str().unwrap()).body(bytes);
    for (k, v) in upload["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    put.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_up_to_thirty_megabytes_go_through_a_presigned_upload_to_s3() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let big = pdf("a large resume", 12 * 1024 * 1024);

    let (status, upload) = create_upload(&t, &p, &id, "big-cv.pdf", big.len()).await;
    assert_eq!(status, StatusCode::CREATED, "{upload}");
    assert_eq!(upload["method"], "PUT");
    let url = upload["upload_url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature"), "an S3 pre-signed URL: {url}");
    let put = put_upload(&t, &upload, big.clone()).await;
    assert!(put.status().is_success(), "{:?}", put.text().await);

    let body = json!({"kind": "referral", "candidate": {"name": "Big", "emails": ["big@candidates.example"]}, "postings": [posting],
                      "referrer": {"name": "R"},
                      "files": [{"name": "big-cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": upload["id"]}]});
    let created = t.submit(&p, &id, "up-1", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["files"][0]["size_bytes"], big.len());
    let o = t.sandbox.admin().opportunities_by_email("big@candidates.example").remove(0);
    assert!(o.resume.as_ref().unwrap().bytes == big, "12 MB, byte for byte");

    // One PUT per URL (S3 refuses the second by the signed If-None-Match), one submission per
    // upload (the same request again is still answered), and S3 content is checked too.
    let again = put_upload(&t, &upload, pdf("other bytes", big.len())).await;
    assert_eq!(again.status(), StatusCode::PRECONDITION_FAILED, "{:?}", again.text().await);
    assert_eq!(t.submit(&p, &id, "up-1", &body).await.status, StatusCode::CREATED, "a replay");
    let mut second = body.clone();
    second["candidate"]["emails"] = json!(["second@candidates.example"]);
    let used = t.submit(&p, &id, "up-1b", &second).await;
    assert_eq!(used.status, StatusCode::CONFLICT, "{}", used.body);
    assert_eq!(used.body["type"], "/problems/upload-used");
    assert_eq!(used.body["errors"][0]["field"], "files[0].upload_id");
    let exe = b"MZ\x90\x00\x03\x00\x00\x00%PDF-1.4".to_vec();
    let (_, disguised) = create_upload(&t, &p, &id, "cv.pdf", exe.len()).await;
    assert!(put_upload(&t, &disguised, exe).await.status().is_success());
    second["files"][0]["upload_id"] = disguised["id"].clone();
    let refused = t.submit(&p, &id, "up-1c", &second).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("portable-executable"), "{}", refused.body);
    assert!(t.sandbox.admin().opportunities_by_email("second@candidates.example").is_empty());

    // An upload nothing was PUT to, and one whose object is not what was announced, are refused.
    let (_, empty) = create_upload(&t, &p, &id, "x.pdf", 100).await;
    let mut body = body.clone();
    body["candidate"]["emails"] = json!(["never@candidates.example"]);
    body["files"][0]["upload_id"] = empty["id"].clone();
    let refused = t.submit(&p, &id, "up-2", &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "files[0].upload_id");
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("nothing was uploaded yet"));
    // The key is free again for the corrected request.
    let object = shared::files::upload_key(&id, empty["id"].as_str().unwrap());
    shared::files::FileStore::put(t.files.as_ref(), &object, "application/pdf", bytes::Bytes::from(vec![1u8; 99])).await.unwrap();
    let mismatch = t.submit(&p, &id, "up-2", &body).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body["errors"][0]["message"].as_str().unwrap().contains("99 bytes"), "{}", mismatch.body);
    assert!(t.sandbox.admin().opportunities_by_email("never@candidates.example").is_empty());

    // Inline files are limited to 4 MiB in all: larger ones are refused, naming the way round.
    let mut inline = body.clone();
    inline["files"] =
        json!([{"name": "a.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&pdf("a", 4 * 1024 * 1024 + 1))}]);
    let too_much = t.submit(&p, &id, "up-3", &inline).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_much.body);
    assert!(too_much.body["detail"].as_str().unwrap().contains("upload_id"), "{}", too_much.body);
    inline["files"][0]["content_base64"] = json!(b64(&pdf("a", 5 * 1024 * 1024)));
    let too_large = t.submit(&p, &id, "up-4", &inline).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_large.body);
}
