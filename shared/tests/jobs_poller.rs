//! The job poller against the Lever sandbox over HTTP (its real rate limit on), on the embedded
//! store and on DynamoDB Local: first run full, then deltas that cost two Lever requests and no
//! job write when nothing changed; closing, unlisting and deleting retire a job only after a
//! complete pass; a poller killed mid-pagination resumes from its checkpoint; a failing page
//! leaves every job in place; a revoked grant stops the schedule; two pollers never sync one
//! connection at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lever_sandbox::{FaultRule, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus};
use shared::core::flow_runs::ScheduledFlow;
use shared::core::job_feed::{CloseReason, FeedJob, JobStatus};
use shared::core::job_sync::{JobSync, PassKind};
use shared::flows::dispatch::{FlowRun, RunTrigger};
use shared::flows::jobs::{JobsError, MessageOutcome, RunOutcome};
use shared::hub::{Hub, HubPorts};
use shared::lever::http::LeverConfig;
use shared::lever::oauth::TokenSet;
use shared::lever::secret::ClientSecret;
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, names};
use shared::store::embedded::EmbeddedStore;
use shared::store::{Records, Store, keys};
use shared::testing;

const POSTINGS: &str = "GET /v1/postings";
const DELETED: &str = "GET /v1/postings/deleted";

struct Fx {
    sb: Sandbox,
    hub: Hub,
    clock: Arc<ManualClock>,
}

async fn fx(store: Arc<dyn Store>, cfg: SandboxConfig) -> Fx {
    let client_id = cfg.client_id.clone();
    let client_secret = cfg.client_secret.clone();
    let sb = Sandbox::start(cfg).await.unwrap();
    let secrets = LocalSecrets::from_values([
        (names::TOKEN_KEY.to_owned(), random_key()),
        (names::STATE_KEY.to_owned(), random_key()),
        (names::LEVER_OAUTH.to_owned(), json!({"client_id": client_id, "client_secret": client_secret}).to_string()),
    ]);
    let clock = Arc::new(ManualClock::at_ms(SystemClock.now_ms()));
    let ports = HubPorts {
        store,
        clock: clock.clone(),
        secrets: Arc::new(secrets),
        lever: LeverConfig::local(&sb.base_url(), client_id, ClientSecret::new(client_secret)).unwrap(),
        lever_sandbox: None,
        queues: Default::default(),
        files: shared::hub::FilesSource::Missing,
    };
    let options = shared::testing::default_options();
    let hub = Hub::build(ports, Arc::new(ProfileCatalog::bundled().unwrap()), options).await.unwrap();
    Fx { sb, hub, clock }
}

async fn embedded(cfg: SandboxConfig) -> Fx {
    fx(Arc::new(EmbeddedStore::in_memory()), cfg).await
}

async fn dynamo(cfg: SandboxConfig) -> Option<Fx> {
    let store = testing::dynamo_store().await?;
    Some(fx(store, cfg).await)
}

impl Fx {
    fn records(&self) -> &Records {
        &self.hub.records
    }

    /// An active connection of `partner` with tokens from the sandbox (no consent round trip).
    async fn connect(&self, partner: &str) -> String {
        let scopes = self.hub.catalog.get(partner).unwrap().oauth.scopes.join(" ");
        let set: TokenSet = serde_json::from_value(self.sb.admin().issue_tokens(&scopes)).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.clock.now_ms();
        let mut c = Connection::new(&id, partner, now);
        c.status = ConnectionStatus::Active;
        c.tokens = Some(self.hub.tokens.seal(&id, &set, set.refresh_token.as_ref().unwrap(), now));
        c.schedules = [(ScheduledFlow::Jobs, now)].into();
        self.records().create(&c).await.unwrap();
        id
    }

    fn run(&self, id: &str, trigger: RunTrigger, options: Value) -> FlowRun {
        FlowRun { connection_id: id.into(), flow: ScheduledFlow::Jobs, trigger, due_at_ms: self.clock.now_ms(), options }
    }

    async fn poll(&self, id: &str) -> Result<RunOutcome, JobsError> {
        self.hub.jobs.poller().run(&self.run(id, RunTrigger::Schedule, Value::Null), None).await
    }

    async fn feed(&self, id: &str) -> BTreeMap<String, (FeedJob, u64)> {
        let mut q = shared::store::Query { pk: keys::connection(id).pk, sk_prefix: Some(keys::JOBS_PREFIX.into()), limit: 100, ..Default::default() };
        let mut out = BTreeMap::new();
        loop {
            let (page, cursor) = self.records().query::<FeedJob>(&q).await.unwrap();
            for v in page {
                out.insert(v.record.job.posting_id.clone(), (v.record, v.version));
            }
            match cursor {
                Some(c) => q.cursor = Some(c),
                None => return out,
            }
        }
    }

    async fn open_ids(&self, id: &str) -> Vec<String> {
        self.feed(id).await.into_iter().filter(|(_, (j, _))| j.status == JobStatus::Open).map(|(k, _)| k).collect()
    }

    async fn sync(&self, id: &str) -> JobSync {
        self.records().get::<JobSync>(&keys::checkpoint(id, "jobs")).await.unwrap().unwrap().record
    }

    /// The sandbox's postings that `keep` takes, by the raw Lever JSON (not the hub's code).
    fn expected(&self, keep: impl Fn(&Value) -> bool) -> Vec<String> {
        let admin = self.sb.admin();
        let mut ids: Vec<String> = admin.posting_ids().into_iter().filter(|id| keep(&admin.posting(id).unwrap())).collect();
        ids.sort();
        ids
    }
}

fn channels(p: &Value) -> Vec<String> {
    p["distributionChannels"].as_array().map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// HireUp and ERC: published on the external job site.
fn external(p: &Value) -> bool {
    p["state"] == "published" && channels(p).contains(&"public".to_string()) && p["confidentiality"] == "non-confidential"
}

/// Outhire: open on the internal or external job site, never unlisted.
fn internal_or_external(p: &Value) -> bool {
    p["state"] == "published" && !channels(p).is_empty() && p["confidentiality"] == "non-confidential"
}

fn completed(outcome: RunOutcome) -> (Vec<PassKind>, shared::core::job_sync::PassCounts) {
    match outcome {
        RunOutcome::Completed { kinds, counts } => (kinds, counts),
        other => panic!("expected a completed run, got {other:?}"),
    }
}

async fn full_then_cheap_deltas_then_changes_per_profile(f: Fx) {
    let admin = f.sb.admin();
    for (partner, keep) in [("hireup", external as fn(&Value) -> bool), ("employeereferrals", external), ("outhire", internal_or_external)] {
        let id = f.connect(partner).await;
        admin.reset_counters();
        let (kinds, counts) = completed(f.poll(&id).await.unwrap());
        assert_eq!(kinds, vec![PassKind::Full], "{partner}: the first run is full");
        assert_eq!(f.open_ids(&id).await, f.expected(keep), "{partner}: exactly the postings its filter takes");
        assert_eq!((admin.requests(POSTINGS), admin.requests(DELETED)), (1, 0), "{partner}: one page, no deleted list on a full pass");
        assert_eq!(counts.created as usize, f.expected(keep).len());
        let sync = f.sync(&id).await;
        assert_eq!(sync.jobs_open as usize, f.expected(keep).len());
        assert!(sync.lease.is_none() && sync.pass.is_none() && sync.last_success_at_ms.is_some());

        // Nothing changed: two Lever requests, not one job written.
        let before = f.feed(&id).await;
        admin.reset_counters();
        let (kinds, counts) = completed(f.poll(&id).await.unwrap());
        assert_eq!(kinds, vec![PassKind::Delta]);
        assert_eq!(admin.requests(POSTINGS) + admin.requests(DELETED), 2, "{partner}: an unchanged re-poll costs two requests");
        assert_eq!(f.feed(&id).await, before, "{partner}: no job record written (versions unchanged)");
        assert_eq!((counts.created, counts.updated, counts.refreshed, counts.closed), (0, 0, 0, 0));
    }

    // A new published posting appears after one poll; closing it retires it after the next.
    let outhire = f.connect("outhire").await;
    f.poll(&outhire).await.unwrap();
    let hireup = f.connect("hireup").await;
    f.poll(&hireup).await.unwrap();
    let new = admin
        .create_posting(json!({"text": "Night Nurse", "state": "published", "distributionChannels": ["public", "internal"],
                               "tags": ["referralbonus:€750"], "workplaceType": "onsite"}))
        .unwrap();
    let internal_only = admin.create_posting(json!({"text": "Staff Lawyer", "state": "published", "distributionChannels": ["internal"]})).unwrap();
    let unlisted = admin.create_posting(json!({"text": "Secret Role", "state": "internal"})).unwrap();
    let draft = admin.create_posting(json!({"text": "Draft Role", "state": "draft"})).unwrap();
    f.poll(&outhire).await.unwrap();
    f.poll(&hireup).await.unwrap();
    let outhire_open = f.open_ids(&outhire).await;
    let hireup_open = f.open_ids(&hireup).await;
    assert!(outhire_open.contains(&new) && hireup_open.contains(&new), "in both feeds after one poll");
    assert!(outhire_open.contains(&internal_only), "Outhire takes the internal job site");
    assert!(!hireup_open.contains(&internal_only), "an internal-only posting is never in HireUp's feed");
    for never in [&unlisted, &draft] {
        assert!(!f.feed(&outhire).await.contains_key(never), "unlisted and draft postings are never in Outhire's feed");
    }
    let (job, _) = f.feed(&hireup).await.remove(&new).unwrap();
    assert!(
        matches!(job.job.referral_bonus, Some(shared::core::job::ReferralBonus::Amount { amount, ref currency, .. }) if amount == 750.0 && currency.as_deref() == Some("EUR"))
    );

    admin.close_posting(&new).unwrap();
    admin.unlist_posting(&internal_only).unwrap();
    admin.unlist_posting(&unlisted).unwrap();
    let (_, counts) = completed(f.poll(&outhire).await.unwrap());
    assert_eq!(counts.closed, 2, "the closed and the unlisted one");
    let feed = f.feed(&outhire).await;
    for gone in [&new, &internal_only] {
        let (j, _) = &feed[gone];
        assert_eq!((j.status, j.close_reason), (JobStatus::Closed, Some(CloseReason::NoLongerMatches)), "retired after the next poll");
    }
    assert!(!feed.contains_key(&unlisted));
    assert_eq!(f.sync(&outhire).await.jobs_open as usize, f.expected(internal_or_external).len());

    // Deleted in Lever: retired from /postings/deleted by the next delta.
    let victim = f.open_ids(&outhire).await[0].clone();
    admin.delete_posting(&victim).unwrap();
    admin.reset_counters();
    let (kinds, counts) = completed(f.poll(&outhire).await.unwrap());
    assert_eq!((kinds, counts.closed, admin.requests(DELETED)), (vec![PassKind::Delta], 1, 1));
    assert_eq!(f.feed(&outhire).await[&victim].0.close_reason, Some(CloseReason::Deleted));
    assert_eq!(f.open_ids(&outhire).await, f.expected(internal_or_external));

    // Reopened: back in the feed, as new to the partner.
    admin.set_posting_state(&new, "published", Some(Some(vec!["public".into()]))).unwrap();
    f.poll(&outhire).await.unwrap();
    let (j, _) = f.feed(&outhire).await.remove(&new).unwrap();
    assert_eq!((j.status, j.revision), (JobStatus::Open, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_then_cheap_deltas_then_changes_per_profile_embedded() {
    full_then_cheap_deltas_then_changes_per_profile(embedded(SandboxConfig::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_then_cheap_deltas_then_changes_per_profile_dynamodb() {
    let Some(f) = dynamo(SandboxConfig::default()).await else { return };
    full_then_cheap_deltas_then_changes_per_profile(f).await;
}

/// Waits until the sandbox has received `n` postings listings.
async fn until_requests(f: &Fx, n: u64) {
    for _ in 0..2_000 {
        if f.sb.admin().requests(POSTINGS) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the poller never sent {n} postings requests");
}

async fn a_killed_poller_resumes_and_retires_nothing_wrongly(f: Fx) {
    let admin = f.sb.admin();
    let id = f.connect("outhire").await;
    let expected = f.expected(internal_or_external);
    // Every page takes a while, so the run can be killed between pages.
    admin.inject(FaultRule::latency(Duration::from_millis(300)).on_path("/v1/postings"));
    admin.reset_counters();
    let poller = f.hub.jobs.poller().clone();
    let run = f.run(&id, RunTrigger::Schedule, Value::Null);
    let task = tokio::spawn(async move { poller.run(&run, None).await });
    // Pages are read two at a time, the next two while these are written: the fifth request
    // is sent once the first two pages are checkpointed.
    until_requests(&f, 5).await;
    task.abort();
    let _ = task.await;
    let killed_after = admin.requests(POSTINGS);
    let sync = f.sync(&id).await;
    let pass = sync.pass.clone().expect("the pass is checkpointed");
    assert!(pass.cursor.is_some() && pass.pages >= 1, "{pass:?}");
    let partial = f.open_ids(&id).await;
    assert!(!partial.is_empty() && partial.len() < expected.len(), "killed mid-pagination: {} of {}", partial.len(), expected.len());

    // The dead run's lease must expire first; a second poller meanwhile finds the connection busy.
    assert_eq!(f.poll(&id).await.unwrap(), RunOutcome::Busy);
    admin.clear_faults();
    f.clock.advance_ms(f.hub.jobs.poller().policy().lease_ms + 1);
    admin.reset_counters();
    let (kinds, counts) = completed(f.poll(&id).await.unwrap());
    assert_eq!(kinds, vec![PassKind::Full], "the same full pass, resumed");
    let pages = expected_pages(&f);
    assert!(
        admin.requests(POSTINGS) <= pages - (pass.pages as u64) + 1,
        "resumed from its checkpoint: {} requests of {pages} pages (killed after {killed_after})",
        admin.requests(POSTINGS)
    );
    assert_eq!(f.open_ids(&id).await, expected, "ends with the same jobs");
    assert_eq!(counts.closed, 0, "none retired");
    assert!(f.feed(&id).await.values().all(|(j, _)| j.status == JobStatus::Open && j.revision == 1), "never closed, never re-announced");
}

/// Pages of a full Outhire listing.
fn expected_pages(f: &Fx) -> u64 {
    (f.expected(internal_or_external).len() as u64).div_ceil(100).max(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_poller_resumes_and_retires_nothing_wrongly_embedded() {
    let cfg = SandboxConfig { postings: 1400, ..SandboxConfig::default() };
    a_killed_poller_resumes_and_retires_nothing_wrongly(embedded(cfg).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_poller_resumes_and_retires_nothing_wrongly_dynamodb() {
    let cfg = SandboxConfig { postings: 1400, ..SandboxConfig::default() };
    let Some(f) = dynamo(cfg).await else { return };
    a_killed_poller_resumes_and_retires_nothing_wrongly(f).await;
}

async fn a_failing_page_leaves_every_job_in_place(f: Fx) {
    let admin = f.sb.admin();
    let id = f.connect("outhire").await;
    completed(f.poll(&id).await.unwrap());
    let before = f.open_ids(&id).await;
    let victim = before[before.len() / 2].clone();
    admin.delete_posting(&victim).unwrap();

    // A full reconcile whose second page keeps failing.
    admin.inject(FaultRule::latency(Duration::from_millis(300)).on_path("/v1/postings"));
    admin.reset_counters();
    let poller = f.hub.jobs.poller().clone();
    let run = f.run(&id, RunTrigger::Manual, json!({"full": true}));
    let task = tokio::spawn(async move { poller.run(&run, None).await });
    until_requests(&f, 1).await;
    admin.inject(FaultRule::status(1_000, 500, None).on_path("/v1/postings"));
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, JobsError::Lever(shared::lever::LeverError::Server { status: 500 })), "{err}");
    assert!(err.is_transient(), "the queue tries it again");
    assert_eq!(f.open_ids(&id).await, before, "a failed pass removes nothing, not even the deleted posting");
    let sync = f.sync(&id).await;
    assert!(sync.last_failure_at_ms.is_some() && sync.last_error.as_deref().is_some_and(|e| e.contains("500")), "{sync:?}");
    assert!(sync.lease.is_none(), "the lease is given back");

    admin.clear_faults();
    let (kinds, counts) = completed(f.hub.jobs.poller().run(&f.run(&id, RunTrigger::Schedule, Value::Null), None).await.unwrap());
    assert_eq!((kinds, counts.closed), (vec![PassKind::Full], 1), "the pass resumes and only then retires");
    let feed = f.feed(&id).await;
    assert_eq!(feed[&victim].0.close_reason, Some(CloseReason::Missing));
    assert_eq!(f.open_ids(&id).await.len(), before.len() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_page_leaves_every_job_in_place_embedded() {
    let cfg = SandboxConfig { postings: 500, ..SandboxConfig::default() };
    a_failing_page_leaves_every_job_in_place(embedded(cfg).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_page_leaves_every_job_in_place_dynamodb() {
    let cfg = SandboxConfig { postings: 500, ..SandboxConfig::default() };
    let Some(f) = dynamo(cfg).await else { return };
    a_failing_page_leaves_every_job_in_place(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_grant_stops_the_schedule_and_the_message_is_done() {
    let f = embedded(SandboxConfig::default()).await;
    let id = f.connect("hireup").await;
    completed(f.poll(&id).await.unwrap());
    f.sb.admin().revoke_all();
    f.sb.admin().expire_access_tokens();
    let body = serde_json::to_string(&f.run(&id, RunTrigger::Schedule, Value::Null)).unwrap();
    let outcome = f.hub.jobs.handle(&body, None).await;
    assert!(matches!(outcome, MessageOutcome::Failed(_)) && outcome.ack(), "{outcome:?}");
    let c = f.records().get::<Connection>(&keys::connection(&id)).await.unwrap().unwrap().record;
    assert_eq!(c.status, ConnectionStatus::NeedsReconnect);
    assert_eq!(c.scheduled_at_ms(), None, "off the due index");
    assert!(!f.open_ids(&id).await.is_empty(), "the feed stays readable");
    let again = f.hub.jobs.handle(&body, None).await;
    assert!(matches!(again, MessageOutcome::Ran(RunOutcome::Skipped(_))), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pollers_at_once_sync_a_connection_once() {
    let f = embedded(SandboxConfig { postings: 400, ..SandboxConfig::default() }).await;
    let id = f.connect("outhire").await;
    f.sb.admin().reset_counters();
    let run = f.run(&id, RunTrigger::Schedule, Value::Null);
    let (a, b) = tokio::join!(f.hub.jobs.poller().run(&run, None), f.hub.jobs.poller().run(&run, None));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| **o == RunOutcome::Busy).count(), 1, "{outcomes:?}");
    assert_eq!(f.sb.admin().requests(POSTINGS), expected_pages(&f), "one pass over the pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_manual_sync_is_served_once_and_a_busy_one_comes_back() {
    let f = embedded(SandboxConfig::default()).await;
    let id = f.connect("outhire").await;
    let manual = f.run(&id, RunTrigger::Manual, Value::Null);
    f.clock.advance_ms(1);
    completed(f.hub.jobs.poller().run(&manual, None).await.unwrap());
    // The same request again (SQS redelivered it): a pass that started after it completed.
    assert_eq!(f.hub.jobs.poller().run(&manual, None).await.unwrap(), RunOutcome::AlreadyServed);
}

/// The store port with each call's operation and the kind of key it names (`CONN`, `JOB`, …).
/// While `cut_before_jobs` is set it refuses to create feed jobs in a batch: a sync cut short
/// after it stored a group's events and before it wrote their jobs.
struct Traced {
    inner: Arc<dyn Store>,
    calls: std::sync::Mutex<Vec<(&'static str, String)>>,
    cut_before_jobs: std::sync::atomic::AtomicBool,
}

impl Traced {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, calls: Default::default(), cut_before_jobs: Default::default() }
    }

    fn note(&self, op: &'static str, sk: &str) {
        self.calls.lock().unwrap().push((op, sk.split('#').next().unwrap_or(sk).to_owned()));
    }

    fn take(&self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl Store for Traced {
    async fn get(&self, key: &shared::store::Key) -> Result<Option<shared::store::Item>, shared::store::StoreError> {
        self.note("get", &key.sk);
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[shared::store::Key]) -> Result<Vec<Option<shared::store::Item>>, shared::store::StoreError> {
        self.note("get_many", keys.first().map_or("", |k| &k.sk));
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: shared::store::Item, expect: shared::store::Expect) -> Result<u64, shared::store::StoreError> {
        self.note("put", &item.key.sk);
        self.inner.put(item, expect).await
    }
    async fn delete(
        &self,
        key: &shared::store::Key,
        expect: shared::store::Expect,
    ) -> Result<Option<shared::store::Item>, shared::store::StoreError> {
        self.note("delete", &key.sk);
        self.inner.delete(key, expect).await
    }
    async fn query(&self, query: &shared::store::Query) -> Result<shared::store::Page, shared::store::StoreError> {
        self.note("query", query.sk_prefix.as_deref().unwrap_or(""));
        self.inner.query(query).await
    }
    async fn query_due(&self, query: &shared::store::DueQuery) -> Result<shared::store::Page, shared::store::StoreError> {
        self.note("query_due", "");
        self.inner.query_due(query).await
    }
    async fn transact(&self, writes: Vec<shared::store::Write>) -> Result<(), shared::store::StoreError> {
        self.note("transact", "");
        self.inner.transact(writes).await
    }
    async fn put_new(&self, items: Vec<shared::store::Item>) -> Result<(), shared::store::StoreError> {
        self.note("put_new", items.first().map_or("", |i| &i.key.sk));
        let jobs = items.iter().any(|i| i.key.sk.starts_with(keys::JOBS_PREFIX));
        if jobs && self.cut_before_jobs.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(shared::store::StoreError::Unavailable("cut short before the jobs".into()));
        }
        self.inner.put_new(items).await
    }
}

/// An unchanged re-poll reads the connection once (its token serves both Lever calls), reads
/// no page records (its pass wrote none) and writes only its sync state and the rate budget.
async fn an_unchanged_re_poll_reads_the_connection_once(inner: Arc<dyn Store>) {
    let traced = Arc::new(Traced::new(inner));
    let f = fx(traced.clone(), SandboxConfig::default()).await;
    let id = f.connect("outhire").await;
    completed(f.poll(&id).await.unwrap());
    traced.take();
    f.sb.admin().reset_counters();
    let (kinds, _) = completed(f.poll(&id).await.unwrap());
    assert_eq!(kinds, vec![PassKind::Delta]);
    assert_eq!(f.sb.admin().requests(POSTINGS) + f.sb.admin().requests(DELETED), 2);
    let calls = traced.take();
    let count = |op: &str, kind: &str| calls.iter().filter(|(o, k)| *o == op && k == kind).count();
    assert_eq!(count("get", "CONN"), 1, "the run's own read of the connection, and no other: {calls:?}");
    assert!(!calls.iter().any(|(o, k)| *o == "query" && k.starts_with("JOBPASS")), "no page records looked for: {calls:?}");
    let writes: Vec<&String> = calls.iter().filter(|(o, _)| matches!(*o, "put" | "delete" | "transact" | "put_new")).map(|(_, k)| k).collect();
    assert!(writes.iter().all(|k| *k == "CHECKPOINT" || *k == "RATE"), "only the sync state and the rate budget: {calls:?}");
    assert_eq!(count("put", "CHECKPOINT"), 2, "the lease taken, then given back with the outcome: {calls:?}");
    assert!(calls.len() <= 8, "{} store calls: {calls:?}", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unchanged_re_poll_reads_the_connection_once_embedded() {
    an_unchanged_re_poll_reads_the_connection_once(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unchanged_re_poll_reads_the_connection_once_dynamodb() {
    let Some(store) = testing::dynamo_store().await else { return };
    an_unchanged_re_poll_reads_the_connection_once(store).await;
}

/// A full sync stores each group's events before its new jobs. Cut short in between, it has
/// stored events whose jobs are absent; the next run leaves those events as they are, writes
/// the jobs, and queues each event's delivery once.
async fn a_sync_cut_short_between_events_and_jobs_announces_each_job_once(inner: Arc<dyn Store>) {
    use shared::flows::delivery::{Delivery, DeliveryMessage, NewWebhook, StoredEvent, outbox_id};
    let traced = Arc::new(Traced::new(inner));
    let f = fx(traced.clone(), SandboxConfig { postings: 700, ..SandboxConfig::default() }).await;
    let id = f.connect("outhire").await;
    let hook = NewWebhook { url: "https://hooks.partner.example/lever".into(), event_types: None };
    f.hub.delivery.register_webhook("outhire", hook).await.unwrap();
    let expected = f.expected(internal_or_external);
    let event_id = |posting: &str| outbox_id(&format!("{id}/job/{posting}/1")).to_string();
    let event_key = |posting: &str| keys::outbound_event("outhire", &event_id(posting));

    traced.cut_before_jobs.store(true, std::sync::atomic::Ordering::SeqCst);
    let cut_at = f.clock.now_ms();
    let err = f.poll(&id).await.unwrap_err();
    assert!(err.is_transient(), "the queue tries it again: {err}");
    assert!(f.feed(&id).await.is_empty(), "no job written");
    let mut early = BTreeMap::new();
    for p in &expected {
        if let Some(e) = f.records().get::<StoredEvent>(&event_key(p)).await.unwrap() {
            early.insert(p.clone(), e.version);
        }
    }
    assert!(!early.is_empty() && early.len() < expected.len(), "one group's events stored: {} of {}", early.len(), expected.len());
    let queue = f.hub.delivery.queue().clone();
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty(), "nothing queued before its job is written");

    traced.cut_before_jobs.store(false, std::sync::atomic::Ordering::SeqCst);
    f.clock.advance_ms(1_000);
    completed(f.poll(&id).await.unwrap());
    let feed = f.feed(&id).await;
    assert_eq!(feed.keys().cloned().collect::<Vec<_>>(), expected);
    assert!(feed.values().all(|(j, _)| j.revision == 1), "each job created once");
    for p in &expected {
        let event = f.records().get::<StoredEvent>(&event_key(p)).await.unwrap().unwrap_or_else(|| panic!("{p} announced"));
        match early.get(p) {
            Some(version) => {
                assert_eq!((event.record.created_at_ms, event.version), (cut_at, *version), "{p}: stored before the cut, left as it was")
            }
            None => assert_eq!(event.record.created_at_ms, cut_at + 1_000, "{p}"),
        }
        let deliveries = f.records().query_all::<Delivery>(&event_key(p).pk, keys::DELIVERIES_PREFIX).await.unwrap();
        assert_eq!(deliveries.iter().map(|d| d.attempts).collect::<Vec<_>>(), [0], "{p}: one delivery, not yet tried");
    }
    let mut queued: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let got = queue.receive(10, Duration::ZERO).await.unwrap();
        if got.is_empty() {
            break;
        }
        for m in got {
            let message: DeliveryMessage = serde_json::from_str(&m.body).unwrap();
            *queued.entry(message.event_id).or_default() += 1;
            queue.ack(&m.receipt).await.unwrap();
        }
    }
    let announced: BTreeMap<String, usize> = expected.iter().map(|p| (event_id(p), 1)).collect();
    assert_eq!(queued, announced, "every event's delivery queued exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_cut_short_between_events_and_jobs_announces_each_job_once_embedded() {
    a_sync_cut_short_between_events_and_jobs_announces_each_job_once(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_cut_short_between_events_and_jobs_announces_each_job_once_dynamodb() {
    let Some(store) = testing::dynamo_store().await else { return };
    a_sync_cut_short_between_events_and_jobs_announces_each_job_once(store).await;
}
