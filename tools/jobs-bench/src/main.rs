//! `jobs-bench`: the jobs flow's benchmarks (issue "Jobs"), printed as Markdown for the README.
//!
//! `cargo run --release -p jobs-bench -- --store embedded|dynamodb` (DynamoDB Local via
//! `HUB_TEST_DYNAMODB_ENDPOINT`, as `scripts/test` exports it).
//!
//! - Lever requests of a full sync of N postings, and of an unchanged re-poll (with its store
//!   writes), counted at the sandbox and by a counting wrapper around the store port.
//! - 10,000 postings from the sandbox at its real rate limit (10/s, bursts of 20): wall time
//!   against the rate-limit bound, and the 429s served.
//! - The dispatcher over 10,000 connections of which 100 (then 1,000) are due: store calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use clap::Parser;
use lever_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus};
use shared::core::flow_runs::ScheduledFlow;
use shared::flows::dispatch::{FlowRun, RunTrigger};
use shared::flows::jobs::RunOutcome;
use shared::hub::{Hub, HubPorts};
use shared::lever::http::LeverConfig;
use shared::lever::oauth::TokenSet;
use shared::lever::secret::ClientSecret;
use shared::queue::{EmbeddedQueue, Queue};
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, names};
use shared::store::dynamo::{Capacity, DynamoStore};
use shared::store::embedded::EmbeddedStore;
use shared::store::{DueQuery, Expect, Item, Key, Page, Query, Records, Store, StoreError, Write};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "embedded")]
    store: String,
    /// One part only: `requests`, `sync` (the 10,000 postings) or `dispatcher`; all by default.
    #[arg(long)]
    only: Option<String>,
}

/// The store port with every call counted (job writes apart).
struct Counting {
    inner: Arc<dyn Store>,
    gets: AtomicU64,
    queries: AtomicU64,
    due_queries: AtomicU64,
    writes: AtomicU64,
    job_writes: AtomicU64,
    /// Store calls, whatever they do (a batch read or a transaction is one).
    calls: AtomicU64,
    /// Capacity units DynamoDB Local reported (read, write).
    units: std::sync::Mutex<(f64, f64)>,
    /// Each call's operation and key, while tracing.
    trace: std::sync::Mutex<Option<Vec<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Calls {
    gets: u64,
    queries: u64,
    due_queries: u64,
    writes: u64,
    job_writes: u64,
    calls: u64,
}

impl Counting {
    fn new(inner: Arc<dyn Store>) -> Self {
        let z = || AtomicU64::new(0);
        Self {
            inner,
            gets: z(),
            queries: z(),
            due_queries: z(),
            writes: z(),
            job_writes: z(),
            calls: z(),
            units: std::sync::Mutex::new((0.0, 0.0)),
            trace: std::sync::Mutex::new(None),
        }
    }

    fn snapshot(&self) -> Calls {
        let l = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Calls {
            gets: l(&self.gets),
            queries: l(&self.queries),
            due_queries: l(&self.due_queries),
            writes: l(&self.writes),
            job_writes: l(&self.job_writes),
            calls: l(&self.calls),
        }
    }

    fn since(&self, before: Calls) -> Calls {
        let now = self.snapshot();
        Calls {
            gets: now.gets - before.gets,
            queries: now.queries - before.queries,
            due_queries: now.due_queries - before.due_queries,
            writes: now.writes - before.writes,
            job_writes: now.job_writes - before.job_writes,
            calls: now.calls - before.calls,
        }
    }

    fn call(&self, op: &str, key: Option<&Key>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(trace) = self.trace.lock().unwrap().as_mut() {
            trace.push(match key {
                Some(k) => format!("{op} {}", kind_of(&k.sk)),
                None => op.to_owned(),
            });
        }
    }

    fn units(&self) -> (f64, f64) {
        *self.units.lock().unwrap()
    }

    /// Starts (or stops and returns) the trace of calls.
    fn tracing(&self, on: bool) -> Vec<String> {
        let mut trace = self.trace.lock().unwrap();
        let done = trace.take().unwrap_or_default();
        if on {
            *trace = Some(vec![]);
        }
        done
    }

    fn wrote(&self, key: &Key) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if key.sk.starts_with("JOB#") {
            self.job_writes.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call("get", Some(key));
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.call("get_many", keys.first());
        self.gets.fetch_add(keys.len() as u64, Ordering::SeqCst);
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, expect: Expect) -> Result<u64, StoreError> {
        self.call("put", Some(&item.key));
        self.wrote(&item.key);
        self.inner.put(item, expect).await
    }
    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError> {
        self.call("delete", Some(key));
        self.wrote(key);
        self.inner.delete(key, expect).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.call(&format!("query {}", kind_of(query.sk_prefix.as_deref().unwrap_or(""))), None);
        self.queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn query_due(&self, query: &DueQuery) -> Result<Page, StoreError> {
        self.call("query_due", None);
        self.due_queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query_due(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.call("transact", None);
        for w in &writes {
            match w {
                Write::Put { item, .. } => self.wrote(&item.key),
                Write::Delete { key, .. } => self.wrote(key),
                Write::Check { .. } => {}
            }
        }
        self.inner.transact(writes).await
    }
    async fn put_new(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.call("put_new", None);
        for item in &items {
            self.wrote(&item.key);
        }
        self.inner.put_new(items).await
    }
}

/// What kind of item a sort key names: its first segment (`JOB#…` → `JOB`).
fn kind_of(sk: &str) -> &str {
    sk.split('#').next().unwrap_or(sk)
}

/// The store to measure, wrapped in the counter; on DynamoDB Local each call's capacity units
/// are added up too.
async fn counted_store(kind: &str) -> Arc<Counting> {
    match kind {
        "dynamodb" => {
            let client = shared::testing::dynamodb_client().await.expect("DynamoDB Local (HUB_TEST_DYNAMODB_ENDPOINT)");
            let sink: Arc<std::sync::OnceLock<std::sync::Weak<Counting>>> = Arc::default();
            let reported = sink.clone();
            let store = DynamoStore::new(client, format!("hub-bench-{}", uuid::Uuid::new_v4())).reporting_capacity(Arc::new(move |c: Capacity| {
                if let Some(counting) = reported.get().and_then(std::sync::Weak::upgrade) {
                    let mut units = counting.units.lock().unwrap();
                    units.0 += c.read_units;
                    units.1 += c.write_units;
                    // Calls are traced one at a time: the units are the last call's.
                    if let Some(last) = counting.trace.lock().unwrap().as_mut().and_then(|t| t.last_mut()) {
                        last.push_str(&format!(" ({})", c.read_units + c.write_units));
                    }
                }
            }));
            store.ensure_table().await.expect("a table in DynamoDB Local");
            let counting = Arc::new(Counting::new(Arc::new(store)));
            let _ = sink.set(Arc::downgrade(&counting));
            counting
        }
        _ => Arc::new(Counting::new(Arc::new(EmbeddedStore::in_memory()))),
    }
}

struct Bench {
    sb: Sandbox,
    hub: Hub,
    store: Arc<Counting>,
    clock: Arc<ManualClock>,
}

async fn bench(kind: &str, cfg: SandboxConfig) -> Bench {
    let (client_id, client_secret) = (cfg.client_id.clone(), cfg.client_secret.clone());
    let sb = Sandbox::start(cfg).await.unwrap();
    let store = counted_store(kind).await;
    let clock = Arc::new(ManualClock::at_ms(SystemClock.now_ms()));
    let secrets = LocalSecrets::from_values([
        (names::TOKEN_KEY.to_owned(), random_key()),
        (names::STATE_KEY.to_owned(), random_key()),
        (names::LEVER_OAUTH.to_owned(), json!({"client_id": client_id, "client_secret": client_secret}).to_string()),
    ]);
    let ports = HubPorts {
        store: store.clone(),
        clock: clock.clone(),
        secrets: Arc::new(secrets),
        lever: LeverConfig::local(&sb.base_url(), client_id, ClientSecret::new(client_secret)).unwrap(),
        lever_sandbox: None,
        queues: Default::default(),
        files: shared::hub::FilesSource::Missing,
    };
    let options = shared::testing::default_options();
    let hub = Hub::build(ports, Arc::new(ProfileCatalog::bundled().unwrap()), options).await.unwrap();
    Bench { sb, hub, store, clock }
}

impl Bench {
    async fn connect(&self, partner: &str) -> String {
        let scopes = self.hub.catalog.get(partner).unwrap().oauth.scopes.join(" ");
        let set: TokenSet = serde_json::from_value(self.sb.admin().issue_tokens(&scopes)).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.clock.now_ms();
        let mut c = Connection::new(&id, partner, now);
        c.status = ConnectionStatus::Active;
        c.tokens = Some(self.hub.tokens.seal(&id, &set, set.refresh_token.as_ref().unwrap(), now));
        self.hub.records.create(&c).await.unwrap();
        id
    }

    async fn poll(&self, id: &str) -> RunOutcome {
        let run = FlowRun {
            connection_id: id.into(),
            flow: ScheduledFlow::Jobs,
            trigger: RunTrigger::Schedule,
            due_at_ms: self.clock.now_ms(),
            options: Value::Null,
        };
        self.hub.jobs.poller().run(&run, None).await.unwrap()
    }

    fn lever_requests(&self) -> u64 {
        let admin = self.sb.admin();
        admin.requests("GET /v1/postings") + admin.requests("GET /v1/postings/deleted")
    }
}

/// Outhire's feed: published postings on either job site (the sandbox seeds 4 of every 7 so).
fn seeded_for(listed: usize) -> usize {
    listed * 7 / 4
}

async fn request_counts(kind: &str) {
    println!(
        "\n| full sync of N postings ({kind} store) | Lever requests | ceil(N/100) | unchanged re-poll: Lever requests | job writes | all store writes |"
    );
    println!("|---|---|---|---|---|---|");
    for listed in [0usize, 100, 250, 1_000] {
        let b = bench(kind, SandboxConfig { postings: seeded_for(listed), rate_limit: None, ..SandboxConfig::default() }).await;
        let id = b.connect("outhire").await;
        b.sb.admin().reset_counters();
        let RunOutcome::Completed { counts, .. } = b.poll(&id).await else { panic!("full sync did not complete") };
        assert_eq!(counts.created as usize, listed);
        let full = b.lever_requests();
        b.sb.admin().reset_counters();
        let before = b.store.snapshot();
        b.poll(&id).await;
        let calls = b.store.since(before);
        println!("| N = {listed} | {full} | {} | {} | {} | {} |", (listed as u64).div_ceil(100), b.lever_requests(), calls.job_writes, calls.writes);
    }
}

async fn ten_thousand_at_the_rate_limit(kind: &str) {
    let b = bench(kind, SandboxConfig { postings: seeded_for(10_000), ..SandboxConfig::default() }).await;
    let id = b.connect("outhire").await;
    b.sb.admin().reset_counters();
    let before = b.store.snapshot();
    let sync_units = b.store.units();
    let start = Instant::now();
    let RunOutcome::Completed { counts, .. } = b.poll(&id).await else { panic!("full sync did not complete") };
    let wall = start.elapsed().as_secs_f64();
    let calls = b.store.since(before);
    let requests = b.lever_requests();
    // Lever's bucket: 20 at once, then 10 a second.
    let bound = (requests.saturating_sub(20)) as f64 / 10.0;
    println!(
        "\n| 10,000 postings at Lever's rate limit ({kind} store) | jobs | Lever requests | wall s | rate-limit bound s | ratio | 429s | store calls | per job |\n|---|---|---|---|---|---|---|---|---|\n| full sync | {} | {requests} | {wall:.2} | {bound:.2} | {:.3} | {} | {} | {:.3} |",
        counts.created,
        wall / bound,
        b.sb.admin().counters().rate_limited,
        calls.calls,
        calls.calls as f64 / counts.created.max(1) as f64
    );
    if kind == "dynamodb" {
        let (read, write) = b.store.units();
        let jobs = counts.created.max(1) as f64;
        println!(
            "\nfull sync: {:.0} read units, {:.0} write units ({:.2} per new job with its event)",
            read - sync_units.0,
            write - sync_units.1,
            (write - sync_units.1) / jobs
        );
    }
    // The unchanged re-poll right after: the delta pass over the same 10,000.
    b.sb.admin().reset_counters();
    let before = b.store.snapshot();
    let units = b.store.units();
    b.store.tracing(true);
    let start = Instant::now();
    b.poll(&id).await;
    let elapsed = start.elapsed().as_secs_f64();
    let trace = b.store.tracing(false);
    let calls = b.store.since(before);
    let (read, write) = b.store.units();
    println!(
        "| unchanged re-poll | 0 | {} | {elapsed:.2} | | | {} | {} (job writes {}) | |",
        b.lever_requests(),
        b.sb.admin().counters().rate_limited,
        calls.calls,
        calls.job_writes
    );
    if kind == "dynamodb" {
        println!("\nunchanged re-poll: {:.1} read units, {:.1} write units; calls: {}", read - units.0, write - units.1, trace.join(", "));
    }
}

async fn dispatcher_reads(kind: &str) {
    println!("\n| dispatcher over 10,000 connections ({kind} store) | index queries | gets | writes | enqueued |\n|---|---|---|---|---|");
    for due in [100usize, 1_000] {
        let store = counted_store(kind).await;
        let now = SystemClock.now_ms();
        let records = Records::new(store.clone(), Arc::new(ManualClock::at_ms(now)));
        let connections: Vec<Connection> = (0..10_000)
            .map(|i| {
                let mut c = Connection::new(format!("bench-{i:05}"), "hireup", now - 86_400_000);
                c.status = ConnectionStatus::Active;
                let at = if i < due { now - 1_000 - i as i64 } else { now + 60_000 + i as i64 };
                c.schedules = [(ScheduledFlow::Jobs, at)].into();
                c
            })
            .collect();
        futures::future::join_all(connections.chunks(500).map(|chunk| {
            let records = records.clone();
            async move {
                for c in chunk {
                    records.create(c).await.unwrap();
                }
            }
        }))
        .await;
        let jobs: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new());
        let hires: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new());
        let dispatcher = shared::flows::dispatch::Dispatcher::new(
            records,
            Arc::new(ProfileCatalog::bundled().unwrap()),
            [(ScheduledFlow::Jobs, jobs), (ScheduledFlow::Hires, hires)].into(),
        );
        let before = store.snapshot();
        let report = dispatcher.dispatch_once(now).await.unwrap();
        let calls = store.since(before);
        println!("| {due} due | {} | {} | {} | {} |", calls.due_queries + calls.queries, calls.gets, calls.writes, report.enqueued);
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!("jobs-bench, {} store", args.store);
    let runs = |part: &str| args.only.as_deref().is_none_or(|o| o == part);
    if runs("requests") {
        request_counts(&args.store).await;
    }
    if runs("sync") {
        ten_thousand_at_the_rate_limit(&args.store).await;
    }
    if runs("dispatcher") {
        dispatcher_reads(&args.store).await;
    }
}
