//! Erasure on request over the embedded store kept on disk, laid out as `hub-local` keeps its
//! `--data-dir` (`table.log`, `files/`): after `POST /v1/erasures` no file under the directory
//! holds the person's email or name, before or after a restart, while another candidate stays.

mod common;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use common::{LocalHub, Request, Tuning};
use lever_sandbox::SandboxConfig;
use lever_sandbox::faults::FaultRule;
use serde_json::{Value, json};
use shared::clock::Clock;

/// A person the test submits, and what must (not) be found of them afterwards.
struct Person {
    name: &'static str,
    email: &'static str,
}

const ERASED_BY_EMAIL: Person = Person { name: "Augusta Kingsworth", email: "augusta.kingsworth@erase.example" };
const ERASED_BY_OPPORTUNITY: Person = Person { name: "Bartholomew Quillfeather", email: "bart.quillfeather@erase.example" };
const KEPT: Person = Person { name: "Cordelia Vantongeren", email: "cordelia.vantongeren@keep.example" };

fn referral(p: &Person, posting: &str) -> Value {
    let resume = format!("%PDF-1.4 curriculum vitae of {} <{}> ", p.name, p.email).repeat(10);
    json!({
        "kind": "referral",
        "candidate": {"name": p.name, "emails": [p.email], "phones": [{"type": "mobile", "value": "+1 415 555 0199"}]},
        "postings": [posting],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
        "files": [{"name": format!("{}-cv.pdf", p.name.replace(' ', "-")), "content_type": "application/pdf", "role": "resume",
                   "content_base64": base64::engine::general_purpose::STANDARD.encode(resume)}],
    })
}

/// Every file under `dir`, with the bytes it holds.
fn files_under(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

/// The files under `dir` that hold `needle` (without case).
fn holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut files = vec![];
    files_under(dir, &mut files);
    let needle = needle.to_lowercase();
    files.into_iter().filter(|(_, bytes)| String::from_utf8_lossy(bytes).to_lowercase().contains(&needle)).map(|(p, _)| p).collect()
}

fn assert_gone(dir: &Path, p: &Person, when: &str) {
    for needle in [p.email, p.name] {
        let found = holding(dir, needle);
        // The lines that hold it name the record kind (the embedded store's log is JSON lines).
        let lines: Vec<String> = found
            .iter()
            .flat_map(|f| std::fs::read_to_string(f).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>())
            .filter(|l| l.to_lowercase().contains(&needle.to_lowercase()))
            .map(|l| l.chars().take(400).collect())
            .collect();
        assert_eq!(found, Vec::<String>::new(), "{needle} is still on disk {when}: {lines:#?}");
    }
}

fn assert_kept(dir: &Path, when: &str) {
    assert!(!holding(dir, KEPT.email).is_empty(), "the search finds what was not erased {when}");
}

async fn submit(h: &LocalHub, key: &str, connection: &str, p: &Person, posting: &str) -> Value {
    let req = Request::new("POST", format!("/v1/connections/{connection}/candidates"))
        .key(key)
        .header("idempotency-key", &p.name.to_lowercase().replace(' ', "-").chars().rev().collect::<String>());
    let answer = h.send(req.json(&referral(p, posting))).await;
    assert!([201, 202].contains(&answer.status), "{:?}", answer.json());
    answer.json()
}

/// A HireUp customer connected, a partner endpoint registered (events are found through their
/// deliveries, and stay in the outbox with one waiting: no delivery worker runs here) and a
/// published posting: (key, connection id, posting id).
async fn hireup_with_an_endpoint(h: &LocalHub) -> (String, String, String) {
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let hook = h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": "http://127.0.0.1:9/hook"}))).await;
    assert_eq!(hook.status, 201, "{:?}", hook.json());
    let posting = h.sandbox.admin().create_posting(json!({"text": "Analyst", "state": "published"})).unwrap();
    (key, id, posting)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_leaves_every_file_of_the_data_dir_and_a_queued_write_is_dropped() {
    let data = tempfile::tempdir().unwrap();
    let config = || SandboxConfig { rate_limit: None, ..SandboxConfig::default() };
    let h = LocalHub::start_tuned(config(), Tuning { data_dir: Some(data.path().to_owned()), ..Tuning::default() }).await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;

    let kept = submit(&h, &key, &id, &KEPT, &posting).await;
    let by_opportunity = submit(&h, &key, &id, &ERASED_BY_OPPORTUNITY, &posting).await;
    let opportunity = by_opportunity["lever"]["opportunity_id"].as_str().expect("written to Lever").to_owned();
    // Lever refuses for now: this one waits in the queue with its resume in the file store.
    h.sandbox.admin().inject(FaultRule::status(50, 503, None).on_path("/v1/opportunities"));
    let queued = submit(&h, &key, &id, &ERASED_BY_EMAIL, &posting).await;
    assert_eq!(queued["state"], "queued", "{queued}");
    let queued_id = queued["id"].as_str().unwrap().to_owned();
    assert!(!holding(data.path(), ERASED_BY_EMAIL.email).is_empty(), "the search finds the person before the erasure");

    // Refused: no person, two people, not an email; another partner's connection is not found.
    let erase = |body: Value| Request::new("POST", "/v1/erasures").key(&key).json(&body);
    for bad in [json!({}), json!({"email": "a@b.example", "lever_opportunity_id": "x"}), json!({"email": "not mail"}), json!({"phone": "1"})] {
        let answer = h.send(erase(bad.clone())).await;
        assert_eq!((answer.status, answer.header("content-type")), (422, Some("application/problem+json")), "{bad}: {:?}", answer.json());
    }
    let other = h.partner("upwage").await;
    let foreign = Request::new("POST", "/v1/erasures").key(&other).json(&json!({"email": ERASED_BY_EMAIL.email, "connection_id": id}));
    assert_eq!(h.send(foreign).await.status, 404);

    // An upload made for the person and not used yet: its name and bytes name them.
    let upload_req = Request::new("POST", format!("/v1/connections/{id}/uploads")).key(&key);
    let cv = format!("%PDF-1.4\n% {} {}\n", ERASED_BY_EMAIL.name, ERASED_BY_EMAIL.email).into_bytes();
    let name = format!("{} CV.pdf", ERASED_BY_EMAIL.name);
    let upload = h.send(upload_req.json(&json!({"name": name, "content_type": "application/pdf", "size_bytes": cv.len()}))).await;
    assert_eq!(upload.status, 201, "{:?}", upload.json());
    let put_path = upload.json()["upload_url"].as_str().unwrap().strip_prefix(common::PUBLIC_URL).unwrap().to_owned();
    let put = h.send_to_hub(Request::new("PUT", put_path).header("content-type", "application/pdf").raw(cv)).await;
    assert_eq!(put.status, 200);

    let answer = h.send(erase(json!({"email": ERASED_BY_EMAIL.email.to_uppercase()}))).await;
    assert_eq!(answer.status, 202, "{:?}", answer.json());
    let erasure = answer.json();
    assert_eq!(erasure["counts"]["uploads"], 1, "the unused upload named for the person: {erasure}");
    assert_eq!((erasure["status"].as_str(), erasure["counts"]["submissions"].as_u64()), (Some("completed"), Some(1)), "{erasure}");
    assert_eq!(erasure["counts"]["files"], 1, "{erasure}");
    assert_eq!(erasure["counts"]["idempotency_answers"], 1, "{erasure}");
    let answer = h.send(erase(json!({"lever_opportunity_id": opportunity, "connection_id": id}))).await;
    assert_eq!(answer.status, 202);
    let by_opp = answer.json();
    assert_eq!(by_opp["counts"]["submissions"], 1, "{by_opp}");
    assert!(by_opp["counts"]["events"].as_u64().unwrap() >= 1, "its candidate.created body was redacted: {by_opp}");

    // Nobody the hub never saw: completed, zero counts, the same shape.
    let unknown = h.send(erase(json!({"email": "nobody@erase.example"}))).await.json();
    assert_eq!(unknown["status"], "completed");
    assert!(unknown["counts"].as_object().unwrap().values().all(|n| n == 0), "{unknown}");
    // Read back by its partner only.
    let erasure_id = erasure["id"].as_str().unwrap();
    let read = h.send(Request::new("GET", format!("/v1/erasures/{erasure_id}")).key(&key)).await;
    assert_eq!((read.status, read.json()["counts"].clone()), (200, erasure["counts"].clone()));
    assert_eq!(h.send(Request::new("GET", format!("/v1/erasures/{erasure_id}")).key(&other)).await.status, 404);

    // Gone from the API; the other candidate stays.
    assert_eq!(h.send(Request::new("GET", format!("/v1/connections/{id}/candidates/{queued_id}")).key(&key)).await.status, 404);
    let list = h.send(Request::new("GET", format!("/v1/connections/{id}/candidates")).key(&key)).await.json();
    let listed: Vec<&str> = list["data"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(listed, vec![kept["id"].as_str().unwrap()], "{list}");
    // The partner is told, with ids only.
    let pending = h.send(Request::new("GET", "/v1/deliveries?status=pending&limit=100").key(&key)).await.json();
    let erased_events = pending["data"].as_array().unwrap().iter().filter(|d| d["event_type"] == "candidate.erased").count();
    assert_eq!(erased_events, 2, "one candidate.erased per erasure that found someone: {pending}");

    // The queued write finds nothing to write: dropped, nothing reaches Lever.
    h.sandbox.admin().clear_faults();
    h.sandbox.admin().reset_counters();
    let message = json!({"type": "submission", "connection_id": id, "submission_id": queued_id});
    assert!(h.hub.candidates.work(&message.to_string()).await, "an erased submission's message is done with");
    assert!(h.sandbox.admin().writes().is_empty(), "nothing written to Lever for an erased submission");

    assert_gone(data.path(), &ERASED_BY_EMAIL, "after the erasure");
    assert_gone(data.path(), &ERASED_BY_OPPORTUNITY, "after the erasure");
    assert_kept(data.path(), "after the erasure");

    // A restart replays the log: nothing comes back, on disk or through the API.
    drop(h);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = LocalHub::start_tuned(config(), Tuning { data_dir: Some(data.path().to_owned()), ..Tuning::default() }).await;
    assert_eq!(again.send(Request::new("GET", format!("/v1/connections/{id}/candidates/{queued_id}")).key(&key)).await.status, 404);
    assert_eq!(again.send(Request::new("GET", format!("/v1/erasures/{erasure_id}")).key(&key)).await.status, 200);
    assert_gone(data.path(), &ERASED_BY_EMAIL, "after a restart");
    assert_gone(data.path(), &ERASED_BY_OPPORTUNITY, "after a restart");
    assert_kept(data.path(), "after a restart");
}

const DELETED_IN_LEVER: Person = Person { name: "Desmond Harrowgate", email: "desmond.harrowgate@erase.example" };

/// The customer's Super Admin has not switched Lever's `candidateDeleted` on: the daily pass
/// (with the connection's status poll, on the candidate sweeper's schedule) finds the deletion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_pass_finds_a_deletion_whose_webhook_never_came() {
    let data = tempfile::tempdir().unwrap();
    let config = SandboxConfig { rate_limit: None, ..SandboxConfig::default() };
    let h = LocalHub::start_tuned(config, Tuning { data_dir: Some(data.path().to_owned()), ..Tuning::default() }).await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;
    let admin = h.sandbox.admin();
    let kept = submit(&h, &key, &id, &KEPT, &posting).await;
    let written = submit(&h, &key, &id, &DELETED_IN_LEVER, &posting).await;
    let opportunity = written["lever"]["opportunity_id"].as_str().expect("written to Lever").to_owned();
    admin.set_webhooks_enabled("candidateDeleted", false).unwrap();
    admin.delete_opportunity(&opportunity).unwrap();
    let queue = h.hub.wiring.queue(shared::hub::QueueName::Candidates).unwrap();
    let drain = || async {
        for _ in 0..5 {
            h.hub.candidates.work_once(10, Duration::from_millis(50)).await.unwrap();
        }
    };

    // The partner's health says deletions rely on the nightly pass until the webhook is seen.
    let health =
        || async { h.send(Request::new("GET", format!("/v1/connections/{id}")).key(&key)).await.json()["flows"]["webhooks"]["deletions"].clone() };
    let before = health().await;
    assert_eq!((before["webhook"].as_str(), before["missed_by_webhook"].as_u64()), (Some("waiting_for_first_delivery"), Some(0)), "{before}");
    assert!(before["message"].as_str().is_some_and(|m| m.contains("nightly pass")), "{before}");

    // Within the day: polls run, the deletion is not read yet.
    h.clock.advance_ms(20 * 60 * 1000);
    h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    drain().await;
    let view = format!("/v1/connections/{id}/candidates/{}", written["id"].as_str().unwrap());
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 200, "no webhook came; the day is not over");

    // A day on: the pass reads Lever's deleted opportunities and erases the hub's copies.
    h.clock.advance_ms(24 * 3600 * 1000);
    let swept = h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert_eq!(swept.status_polls, 1, "{swept:?}");
    drain().await;
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty(), "all handled");
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 404);
    let kept_view = format!("/v1/connections/{id}/candidates/{}", kept["id"].as_str().unwrap());
    assert_eq!(h.send(Request::new("GET", &kept_view).key(&key)).await.status, 200);
    let pending = h.send(Request::new("GET", "/v1/deliveries?status=pending&limit=100").key(&key)).await.json();
    let deleted: Vec<&Value> = pending["data"].as_array().unwrap().iter().filter(|d| d["event_type"] == "candidate.deleted").collect();
    assert_eq!(deleted.len(), 1, "{pending}");
    assert_gone(data.path(), &DELETED_IN_LEVER, "after the daily pass");
    assert_kept(data.path(), "after the daily pass");
    let after = health().await;
    assert_eq!(after["missed_by_webhook"], 1, "the pass found what the webhook did not bring: {after}");
    assert!(after["last_missed_at"].is_string() && after["message"].as_str().is_some_and(|m| m.contains("found 1 deletion")), "{after}");
}

const RETAINED: Person = Person { name: "Evangeline Thistlewood", email: "evangeline.thistlewood@retain.example" };

/// The bundled profiles, with hireup's retention grace shortened to a day.
fn catalog_with_a_day_of_grace() -> shared::core::catalog::ProfileCatalog {
    let sources = shared::core::catalog::ProfileCatalog::bundled_files().into_iter().map(|name| {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles").join(name)).unwrap();
        let text = if name == "hireup.toml" { format!("{text}\n[retention]\ngrace_days = 1\n") } else { text };
        (name.to_owned(), text)
    });
    shared::core::catalog::ProfileCatalog::from_sources(sources).unwrap()
}

/// Retention: once Lever has a submission and the partner was told, its personal data lasts the
/// profile's grace; then the sweep leaves none of it on disk (the embedded store has no TTL
/// deleter: the candidate sweeper purges and rewrites the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_the_sweep_leaves_no_personal_data_on_disk() {
    let data = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        data_dir: Some(data.path().to_owned()),
        // The outbox keeps its default 30 days: hireup's events go with its one day of grace.
        catalog: Some(catalog_with_a_day_of_grace()),
        ..Tuning::default()
    };
    let h = LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;
    let written = submit(&h, &key, &id, &RETAINED, &posting).await;
    assert_eq!(written["state"], "created", "{written}");
    let view = format!("/v1/connections/{id}/candidates/{}", written["id"].as_str().unwrap());

    // Within the grace: the partner reads it back; the sweep keeps it.
    h.clock.advance_ms(20 * 3600 * 1000);
    // (Short-lived items expire meanwhile: OAuth states, Lever look-ups.)
    h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 200);
    assert!(!holding(data.path(), RETAINED.email).is_empty(), "kept within the grace");

    // The grace is over (and the idempotency answer's 48 h); the event's too.
    h.clock.advance_ms(30 * 3600 * 1000);
    let swept = h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert!(swept.expired >= 3, "the submission, its idempotency answer and its event at least: {swept:?}");
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 404);
    assert_gone(data.path(), &RETAINED, "after the grace and the sweep");
}

const ERASED_AFTER_A_FAILURE: Person = Person { name: "Philippa Grimsditch", email: "philippa.grimsditch@erase.example" };

/// The embedded store on disk, whose compaction (the last step of an erasure) fails while
/// `down` is set: an erasure's run that stops before it is done.
struct CompactionFails {
    inner: shared::store::embedded::EmbeddedStore,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl shared::store::Store for CompactionFails {
    async fn get(&self, key: &shared::store::Key) -> Result<Option<shared::store::Item>, shared::store::StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: shared::store::Item, expect: shared::store::Expect) -> Result<u64, shared::store::StoreError> {
        self.inner.put(item, expect).await
    }
    async fn delete(
        &self,
        key: &shared::store::Key,
        expect: shared::store::Expect,
    ) -> Result<Option<shared::store::Item>, shared::store::StoreError> {
        self.inner.delete(key, expect).await
    }
    async fn query(&self, query: &shared::store::Query) -> Result<shared::store::Page, shared::store::StoreError> {
        self.inner.query(query).await
    }
    async fn query_due(&self, query: &shared::store::DueQuery) -> Result<shared::store::Page, shared::store::StoreError> {
        self.inner.query_due(query).await
    }
    async fn transact(&self, writes: Vec<shared::store::Write>) -> Result<(), shared::store::StoreError> {
        self.inner.transact(writes).await
    }
    async fn compact(&self) -> Result<(), shared::store::StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(shared::store::StoreError::Unavailable("the disk is full".into()));
        }
        self.inner.compact().await
    }
    async fn purge_expired(&self, now_ms: i64) -> Result<usize, shared::store::StoreError> {
        self.inner.purge_expired(now_ms).await
    }
}

/// An erasure whose run fails part-way is still accepted (202, `pending`, what it erased so far
/// counted), and the candidate sweeper completes it within minutes: the person leaves the disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_that_fails_part_way_is_pending_and_the_sweeper_completes_it() {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path()).unwrap();
    let inner = shared::store::embedded::EmbeddedStore::open(data.path().join("table.log")).unwrap();
    let store = std::sync::Arc::new(CompactionFails { inner, down: Default::default() });
    let tuning = Tuning { data_dir: Some(data.path().to_owned()), store: Some(store.clone()), ..Tuning::default() };
    let h = LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;
    submit(&h, &key, &id, &KEPT, &posting).await;
    let written = submit(&h, &key, &id, &ERASED_AFTER_A_FAILURE, &posting).await;

    store.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let answer = h.send(Request::new("POST", "/v1/erasures").key(&key).json(&json!({"email": ERASED_AFTER_A_FAILURE.email}))).await;
    assert_eq!(answer.status, 202, "accepted though its run failed: {:?}", answer.json());
    let erasure = answer.json();
    assert_eq!(erasure["status"], "pending", "{erasure}");
    assert_eq!(erasure["counts"]["submissions"], 1, "what it erased before the failure is counted: {erasure}");
    let path = format!("/v1/erasures/{}", erasure["id"].as_str().unwrap());
    assert_eq!(h.send(Request::new("GET", &path).key(&key)).await.json()["status"], "pending");
    let view = format!("/v1/connections/{id}/candidates/{}", written["id"].as_str().unwrap());
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 404, "gone from the API already");
    assert!(!holding(data.path(), ERASED_AFTER_A_FAILURE.email).is_empty(), "still in the log: the rewrite failed");

    // Within a couple of minutes the sweeper takes it up again, and this time it completes.
    store.down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap().erasures, 0, "its own run may still be going");
    h.clock.advance_ms(3 * 60 * 1000);
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap().erasures, 1);
    let done = h.send(Request::new("GET", &path).key(&key)).await.json();
    assert_eq!((done["status"].as_str(), done["counts"]["submissions"].as_u64()), (Some("completed"), Some(1)), "{done}");
    assert!(done["completed_at"].is_string(), "{done}");
    assert_gone(data.path(), &ERASED_AFTER_A_FAILURE, "after the sweeper completed the erasure");
    assert_kept(data.path(), "after the sweeper completed the erasure");
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms() + 10 * 60 * 1000).await.unwrap().erasures, 0, "completed once");
}

const OF_A_DISCONNECTED_CONNECTION: Person = Person { name: "Octavia Fernsby", email: "octavia.fernsby@erase.example" };

/// A disconnected connection's personal data goes once the profile's grace has passed (the
/// partner can read it back until then); its imported jobs stay, as Outhire's seed promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_connections_people_go_after_the_grace_and_its_jobs_stay() {
    let data = tempfile::tempdir().unwrap();
    let tuning = Tuning { data_dir: Some(data.path().to_owned()), catalog: Some(catalog_with_a_day_of_grace()), ..Tuning::default() };
    let h = LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;
    // Lever refuses: the submission stays queued (no retention of its own runs while it waits),
    // and would outlive the connection without the purge.
    h.sandbox.admin().inject(FaultRule::status(50, 503, None).on_path("/v1/opportunities"));
    let queued = submit(&h, &key, &id, &OF_A_DISCONNECTED_CONNECTION, &posting).await;
    assert_eq!(queued["state"], "queued", "{queued}");
    let view = format!("/v1/connections/{id}/candidates/{}", queued["id"].as_str().unwrap());
    assert_eq!(h.send(Request::new("POST", format!("/v1/connections/{id}/jobs/sync")).key(&key)).await.status, 202);
    assert_eq!(h.hub.jobs.work_once(10, Duration::ZERO).await.unwrap(), 1);
    let jobs = || async { h.send(Request::new("GET", format!("/v1/connections/{id}/jobs?limit=100")).key(&key)).await.json()["data"].clone() };
    let before = jobs().await;
    assert!(before.as_array().is_some_and(|j| !j.is_empty()), "{before}");

    assert_eq!(h.send(Request::new("DELETE", format!("/v1/connections/{id}")).key(&key)).await.status, 204);
    // Within the grace the partner still reads it back.
    h.clock.advance_ms(20 * 3600 * 1000);
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap().purges, 0);
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 200);

    // The grace is over: the sweep erases everyone the connection held, once.
    h.clock.advance_ms(5 * 3600 * 1000);
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap().purges, 1);
    assert_eq!(h.send(Request::new("GET", &view).key(&key)).await.status, 404);
    assert_gone(data.path(), &OF_A_DISCONNECTED_CONNECTION, "after the disconnected connection's purge");
    assert_eq!(jobs().await, before, "the imported jobs stay");
    h.clock.advance_ms(3600 * 1000);
    assert_eq!(h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap().purges, 0, "purged once");
}

/// Every object file under `dir` (recursively; not the `.type` files beside them).
fn objects_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(objects_under(&path));
        } else if path.extension().is_none_or(|x| x != "type") {
            found.push(path);
        }
    }
    found
}

/// A local run deletes files as the bucket's lifecycle rules do in AWS: uploads after 3 days,
/// a submission's files (one Lever never took) after 30, on the candidate sweeper's schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_run_expires_files_as_the_buckets_lifecycle_rules_do() {
    let data = tempfile::tempdir().unwrap();
    let h = LocalHub::start_tuned(
        SandboxConfig { rate_limit: None, ..SandboxConfig::default() },
        Tuning { data_dir: Some(data.path().to_owned()), ..Tuning::default() },
    )
    .await;
    let (key, id, posting) = hireup_with_an_endpoint(&h).await;
    h.sandbox.admin().inject(FaultRule::status(50, 503, None).on_path("/v1/opportunities"));
    let queued = submit(&h, &key, &id, &KEPT, &posting).await;
    assert_eq!(queued["state"], "queued", "{queued}");
    let cv = b"%PDF-1.4\n% an upload never used\n".to_vec();
    let upload = h
        .send(
            Request::new("POST", format!("/v1/connections/{id}/uploads"))
                .key(&key)
                .json(&json!({"name": "cv.pdf", "content_type": "application/pdf", "size_bytes": cv.len()})),
        )
        .await;
    let put_path = upload.json()["upload_url"].as_str().unwrap().strip_prefix(common::PUBLIC_URL).unwrap().to_owned();
    assert_eq!(h.send_to_hub(Request::new("PUT", put_path).header("content-type", "application/pdf").raw(cv)).await.status, 200);
    let (uploads, submissions) = (data.path().join("files/uploads"), data.path().join("files/submissions"));
    assert_eq!((objects_under(&uploads).len(), objects_under(&submissions).len()), (1, 1), "the upload, and the queued submission's resume");

    h.clock.advance_ms(2 * 24 * 3600 * 1000);
    h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert_eq!(objects_under(&uploads).len(), 1, "an upload lasts 3 days");
    h.clock.advance_ms(2 * 24 * 3600 * 1000);
    h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert_eq!((objects_under(&uploads).len(), objects_under(&submissions).len()), (0, 1), "the upload is gone after 3 days");
    h.clock.advance_ms(27 * 24 * 3600 * 1000);
    h.hub.candidates.sweep_once(h.clock.now_ms()).await.unwrap();
    assert_eq!(objects_under(&submissions), Vec::<std::path::PathBuf>::new(), "a submission's files are gone after 30 days");
}
