//! A simulated day of a fleet of connections, measured per function.
//!
//! N connections spread over the five bundled profiles, each with the schedule the connect
//! flow gives it (`core::flow_runs::first_runs`). Simulated time moves a minute a tick; each tick
//! runs what AWS would invoke in that minute, one handler call per Lambda invocation:
//! - `dispatcher` (EventBridge Scheduler, every minute): due connections onto the queues;
//! - `job-poller` (jobs queue, one message an invocation): the due job syncs;
//! - `hires-import` (hires queue, one message an invocation): the daily hires imports;
//! - `delivery-sweeper` (every minute) and `token-keepalive` (every 6 hours).
//!
//! Lever is the sandbox, one account shared by every connection, which sees a posting created
//! and one closed each simulated hour. Each invocation is measured: the handler's wall time, its
//! store calls and (on DynamoDB Local) the capacity units DynamoDB reports as consumed, its
//! queue sends and the bytes it logs. Invocations of different connections run side by side as
//! Lambda runs them; a task-local name attributes every call to its function.
//!
//! Not simulated (the README says so with the figures): partner API traffic and candidate
//! submissions (measured by `hub-bench load`), event deliveries to partner endpoints (no
//! endpoint is registered, so each event is stored with no delivery), and cold starts' time.
//! Secrets Manager calls are counted per environment start, not per invocation: a function reads
//! its secrets once, at start (`const SECRETS` in each function's `main.rs`), and keeps them. Each
//! environment a function runs in at once is assumed to start anew every hour (Lambda keeps busy
//! environments longer, so this is an upper bound).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt as _;
use serde_json::json;
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus};
use shared::hub::{Hub, HubPorts, QueueName};
use shared::lever::http::LeverConfig;
use shared::lever::oauth::TokenSet;
use shared::lever::secret::ClientSecret;
use shared::queue::{EmbeddedQueue, Queue, QueueError, Received};
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, names};
use shared::store::dynamo::{Capacity, DynamoStore};
use shared::store::embedded::EmbeddedStore;
use shared::store::{DueQuery, Expect, Item, Key, Page, Query, Store, StoreError, Write};

use crate::cost::{Usage, memory_mb};

/// The profiles, in the order connections are dealt to them.
pub const PROFILES: [&str; 5] = ["employeereferrals", "hireup", "outhire", "upwage", "hrcloud"];
/// How many invocations of the same function run at once (Lambda would run more).
const IN_FLIGHT: usize = 16;
/// Lambda's platform lines per invocation (START, END, REPORT as JSON), which the hub does not
/// write but CloudWatch ingests: measured size of one set in a JSON-format log group.
const PLATFORM_LOG_BYTES: u64 = 620;

tokio::task_local! {
    static FUNCTION: &'static str;
    /// Set while a transaction runs: DynamoDB Local reports a transaction's capacity as one
    /// item's (measured 2026-12-08: 6 units for 1, 3 or 10 puts of 2.5 KB alike), so the meter
    /// prices transactions itself ([`transaction_write_units`]) and drops what is reported.
    static IN_TRANSACTION: ();
}

/// What DynamoDB bills a committed transaction: every item written twice (prepare and commit),
/// each rounded up to whole KB. A put's size is [`Item::approx_bytes`]; a delete or a condition
/// check is counted as 1 KB, an upper bound for what the hub deletes or checks in a transaction
/// (pointers and markers).
pub fn transaction_write_units(writes: &[Write]) -> f64 {
    let kb = |bytes: usize| bytes.div_ceil(1024).max(1) as f64;
    writes
        .iter()
        .map(|w| match w {
            Write::Put { item, .. } => 2.0 * kb(item.approx_bytes()),
            Write::Delete { .. } | Write::Check { .. } => 2.0,
        })
        .sum()
}

/// How long an environment is assumed to live: each is counted as started again after it.
const ENVIRONMENT_MINUTES: u64 = 60;

/// Everything measured, per function, over one run.
#[derive(Default)]
pub struct Meter {
    usage: Mutex<BTreeMap<&'static str, Usage>>,
    /// The simulated minute, set by the clock's tick.
    minute: std::sync::atomic::AtomicU64,
    /// Per function and environment lifetime window: the most environments it ran in at once.
    environments: Mutex<BTreeMap<&'static str, BTreeMap<u64, usize>>>,
}

impl Meter {
    fn with(&self, f: impl FnOnce(&mut Usage)) {
        let name = FUNCTION.try_with(|n| *n).unwrap_or("setup");
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        f(usage.entry(name).or_insert_with(|| Usage { memory_mb: memory_mb(name), ..Usage::default() }));
    }

    /// `function` ran in `n` environments at once this minute.
    fn environments_used(&self, function: &'static str, n: usize) {
        let window = self.minute.load(std::sync::atomic::Ordering::Relaxed) / ENVIRONMENT_MINUTES;
        let mut envs = self.environments.lock().unwrap_or_else(|p| p.into_inner());
        let most = envs.entry(function).or_default().entry(window).or_default();
        *most = (*most).max(n);
    }

    /// Usage per function; its Secrets Manager calls are its secrets read once per environment
    /// start (priced per secret read, though one batch call reads them all).
    pub fn snapshot(&self) -> BTreeMap<String, Usage> {
        let usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let envs = self.environments.lock().unwrap_or_else(|p| p.into_inner());
        let starts = |name: &str| envs.get(name).map_or(0, |w| w.values().sum::<usize>() as u64);
        usage
            .iter()
            .filter(|(n, _)| **n != "setup")
            .map(|(n, u)| ((*n).to_owned(), Usage { secrets_calls: starts(n) * u64::from(crate::cost::secrets_read(n)), ..u.clone() }))
            .collect()
    }
}

/// The store port, each call and failed write counted against the calling function.
struct MeteredStore {
    inner: Arc<dyn Store>,
    meter: Arc<Meter>,
    /// On DynamoDB Local: transactions are priced by [`transaction_write_units`].
    prices_transactions: bool,
}

impl MeteredStore {
    fn call<T>(&self, result: Result<T, StoreError>, write: bool) -> Result<T, StoreError> {
        // A lost compare-and-set is the protocol working, not a failure.
        let failed = write && matches!(&result, Err(e) if !matches!(e, StoreError::ConditionFailed | StoreError::TransactionConditionFailed { .. }));
        self.meter.with(|u| {
            u.store_calls += 1;
            u.failures += u64::from(failed);
        });
        result
    }
}

#[async_trait]
impl Store for MeteredStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.get(key).await, false)
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.call(self.inner.get_many(keys).await, false)
    }
    async fn put(&self, item: Item, expect: Expect) -> Result<u64, StoreError> {
        self.call(self.inner.put(item, expect).await, true)
    }
    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.delete(key, expect).await, true)
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.call(self.inner.query(query).await, false)
    }
    async fn query_due(&self, query: &DueQuery) -> Result<Page, StoreError> {
        self.call(self.inner.query_due(query).await, false)
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let units = transaction_write_units(&writes);
        let result = IN_TRANSACTION.scope((), self.inner.transact(writes)).await;
        if result.is_ok() && self.prices_transactions {
            self.meter.with(|u| u.write_units += units);
        }
        self.call(result, true)
    }
    async fn put_new(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.call(self.inner.put_new(items).await, true)
    }
}

/// A queue whose sends are counted against the sending function.
struct MeteredQueue {
    inner: Arc<dyn Queue>,
    meter: Arc<Meter>,
}

#[async_trait]
impl Queue for MeteredQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        // SQS bills each 64 KB of a message as a request.
        self.meter.with(|u| u.sqs_requests += (body.len() as u64).div_ceil(64 * 1024).max(1));
        self.inner.send(body, delay).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.ack(receipt).await
    }
}

/// Log lines, their bytes counted against the function that wrote them.
#[derive(Clone)]
struct LogBytes(Arc<Meter>);

impl std::io::Write for LogBytes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.with(|u| u.log_bytes += buf.len() as u64);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBytes {
    type Writer = LogBytes;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// What a simulated day measured.
pub struct FleetReport {
    pub connections: usize,
    pub hours: u32,
    pub store: String,
    pub per_function: BTreeMap<String, Usage>,
    /// Job-poller and hires-import usage of each profile's connections.
    pub per_profile: BTreeMap<String, Usage>,
    pub connections_per_profile: BTreeMap<String, usize>,
    /// Due connections the dispatcher found, summed over its invocations.
    pub dispatched: u64,
    pub wall: Duration,
}

pub struct FleetConfig {
    pub connections: usize,
    pub hours: u32,
    /// `embedded` or `dynamodb` (DynamoDB Local at `HUB_TEST_DYNAMODB_ENDPOINT`).
    pub store: String,
    /// Postings in the shared Lever account at the start.
    pub postings: usize,
}

/// The function names as `infra/template.yaml` has them.
mod function {
    pub const DISPATCHER: &str = "dispatcher";
    pub const JOB_POLLER: &str = "job-poller";
    pub const HIRES_IMPORT: &str = "hires-import";
    pub const SWEEPER: &str = "delivery-sweeper";
    pub const KEEPALIVE: &str = "token-keepalive";
}

pub async fn run(config: FleetConfig) -> FleetReport {
    let meter = Arc::new(Meter::default());
    // The hub's own log lines, as its functions write them (JSON), into the meter.
    let subscriber = tracing_subscriber::fmt().json().with_ansi(false).without_time().with_writer(LogBytes(meter.clone())).finish();
    let _logs = tracing::subscriber::set_default(subscriber);
    let base: Arc<dyn Store> = match config.store.as_str() {
        "dynamodb" => {
            let client = shared::testing::dynamodb_client().await.expect("DynamoDB Local (HUB_TEST_DYNAMODB_ENDPOINT)");
            let m = meter.clone();
            let store = DynamoStore::new(client, format!("hub-fleet-{}", uuid::Uuid::new_v4())).reporting_capacity(Arc::new(move |c: Capacity| {
                if IN_TRANSACTION.try_with(|_| ()).is_ok() {
                    return;
                }
                m.with(|u| {
                    u.read_units += c.read_units;
                    u.write_units += c.write_units;
                })
            }));
            store.ensure_table().await.expect("a table in DynamoDB Local");
            Arc::new(store)
        }
        _ => Arc::new(EmbeddedStore::in_memory()),
    };
    let store: Arc<dyn Store> = Arc::new(MeteredStore { inner: base, meter: meter.clone(), prices_transactions: config.store == "dynamodb" });
    let sandbox = lever_sandbox::Sandbox::start(lever_sandbox::SandboxConfig { postings: config.postings, rate_limit: None, ..Default::default() })
        .await
        .expect("the Lever sandbox");
    let defaults = lever_sandbox::SandboxConfig::default();
    let secrets = LocalSecrets::from_values([
        (names::TOKEN_KEY.to_owned(), random_key()),
        (names::STATE_KEY.to_owned(), random_key()),
        (names::LEVER_OAUTH.to_owned(), json!({"client_id": defaults.client_id, "client_secret": defaults.client_secret}).to_string()),
    ]);
    let clock = Arc::new(ManualClock::at_ms(SystemClock.now_ms()));
    // SQS on moto beside DynamoDB Local; in-memory queues beside the embedded store (its
    // durable queues would count their own store calls against the functions).
    let inner: HashMap<QueueName, Arc<dyn Queue>> = match config.store.as_str() {
        "dynamodb" => crate::queues(&store, "sqs").await,
        _ => QueueName::ALL.into_iter().map(|name| (name, Arc::new(EmbeddedQueue::new()) as Arc<dyn Queue>)).collect(),
    };
    let queues: HashMap<QueueName, Arc<dyn Queue>> =
        inner.into_iter().map(|(name, q)| (name, Arc::new(MeteredQueue { inner: q, meter: meter.clone() }) as Arc<dyn Queue>)).collect();
    let ports = HubPorts {
        store,
        clock: clock.clone(),
        secrets: Arc::new(secrets),
        lever: LeverConfig::local(&sandbox.base_url(), defaults.client_id, ClientSecret::new(defaults.client_secret)).expect("Lever config"),
        lever_sandbox: None,
        queues: queues.clone(),
        files: shared::hub::FilesSource::Missing,
    };
    let options = shared::testing::default_options();
    let hub = Hub::build(ports, Arc::new(ProfileCatalog::bundled().expect("bundled profiles")), options).await.expect("the hub");
    let partner_of = connect_all(&hub, &sandbox, &clock, config.connections).await;
    let mut connections_per_profile: BTreeMap<String, usize> = BTreeMap::new();
    for p in partner_of.values() {
        *connections_per_profile.entry(p.clone()).or_default() += 1;
    }
    let dispatcher = hub.wiring.dispatcher().expect("the dispatcher");
    let hires = hub.wiring.hires_worker().expect("the hires worker");
    let per_connection: Arc<Mutex<BTreeMap<String, Usage>>> = Arc::default();
    let started = Instant::now();
    let mut dispatched = 0u64;
    let mut open_postings: Vec<String> = vec![];
    for minute in 0..(config.hours * 60) {
        clock.advance_ms(60_000);
        meter.minute.store(u64::from(minute), std::sync::atomic::Ordering::Relaxed);
        let now = clock.now_ms();
        if minute % 60 == 30 {
            lever_changes(&sandbox, &mut open_postings, minute);
        }
        let mut found = 0u64;
        invoke(&meter, function::DISPATCHER, true, || async { dispatcher.dispatch_once(now).await.map(|r| found = r.enqueued as u64).is_ok() }).await;
        dispatched += found;
        invoke(&meter, function::SWEEPER, true, || async { hub.delivery.sweep_once(now).await.is_ok() }).await;
        if minute % 360 == 0 {
            invoke(&meter, function::KEEPALIVE, true, || async { shared::flows::keepalive::run(&hub.partners, &hub.connections).await.is_ok() })
                .await;
        }
        drain(&meter, &queues[&QueueName::Jobs], function::JOB_POLLER, &partner_of, &per_connection, |body| {
            let worker = hub.jobs.clone();
            async move { worker.handle(&body, None).await.ack() }
        })
        .await;
        drain(&meter, &queues[&QueueName::Hires], function::HIRES_IMPORT, &partner_of, &per_connection, |body| {
            let worker = hires.clone();
            async move { worker.handle(&body, None).await.ack() }
        })
        .await;
    }
    let mut per_profile: BTreeMap<String, Usage> = BTreeMap::new();
    for (profile, usage) in per_connection.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        per_profile.entry(profile.clone()).or_default().add(usage);
    }
    FleetReport {
        connections: config.connections,
        hours: config.hours,
        store: config.store,
        per_function: meter.snapshot(),
        per_profile,
        connections_per_profile,
        dispatched,
        wall: started.elapsed(),
    }
}

/// One invocation of `function`: its handler timed and billed, its failure counted.
async fn invoke<F, Fut>(meter: &Meter, function: &'static str, scheduled: bool, handler: F) -> Usage
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if scheduled {
        meter.environments_used(function, 1);
    }
    let started = Instant::now();
    let ok = FUNCTION.scope(function, handler()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let one = Usage {
        invocations: 1,
        // Lambda bills each invocation's duration rounded up to the millisecond.
        billed_ms: ms.ceil().max(1.0) as u64,
        memory_mb: memory_mb(function),
        // Secrets Manager calls are per environment start (`Meter::snapshot`), not per invocation.
        scheduler_invocations: u64::from(scheduled),
        log_bytes: PLATFORM_LOG_BYTES,
        failures: u64::from(!ok),
        ..Usage::default()
    };
    FUNCTION.scope(function, async { meter.with(|u| u.add(&Usage { memory_mb: u.memory_mb, ..one.clone() })) }).await;
    one
}

/// Every visible message of a queue, one invocation each, `IN_FLIGHT` at a time; each also
/// counted against its connection's profile.
async fn drain<F, Fut>(
    meter: &Meter,
    queue: &Arc<dyn Queue>,
    function: &'static str,
    partner_of: &HashMap<String, String>,
    per_connection: &Mutex<BTreeMap<String, Usage>>,
    handle: F,
) where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        let mut batch = vec![];
        while batch.len() < IN_FLIGHT * 4 {
            match queue.receive(10, Duration::ZERO).await {
                Ok(got) if !got.is_empty() => batch.extend(got),
                _ => break,
            }
        }
        if batch.is_empty() {
            return;
        }
        meter.environments_used(function, batch.len().min(IN_FLIGHT));
        let runs = batch.into_iter().map(|m| {
            let handle = &handle;
            async move {
                let connection = serde_json::from_str::<serde_json::Value>(&m.body).ok().and_then(|v| v["connection_id"].as_str().map(str::to_owned));
                let one = invoke(meter, function, false, || handle(m.body.clone())).await;
                // The event source's receive and delete of the message.
                FUNCTION.scope(function, async { meter.with(|u| u.sqs_requests += 2) }).await;
                let _ = queue.ack(&m.receipt).await;
                let profile = connection.and_then(|c| partner_of.get(&c).cloned()).unwrap_or_else(|| "unknown".into());
                per_connection.lock().unwrap_or_else(|p| p.into_inner()).entry(profile).or_default().add(&Usage { sqs_requests: 2, ..one });
            }
        });
        futures::stream::iter(runs).buffer_unordered(IN_FLIGHT).collect::<Vec<()>>().await;
    }
}

/// A simulated hour of Lever: one new published posting, and the oldest one opened here closed.
fn lever_changes(sandbox: &lever_sandbox::Sandbox, open: &mut Vec<String>, minute: u32) {
    let admin = sandbox.admin();
    if let Ok(id) =
        admin.create_posting(json!({"text": format!("Fleet role {minute}"), "state": "published", "distributionChannels": ["public", "internal"]}))
    {
        open.push(id);
    }
    if open.len() > 3 {
        let oldest = open.remove(0);
        let _ = admin.close_posting(&oldest);
    }
}

/// `n` active connections dealt over the profiles, each with its own Lever grant and the
/// schedule the connect flow gives a new connection. Returns each connection's partner.
async fn connect_all(hub: &Hub, sandbox: &lever_sandbox::Sandbox, clock: &ManualClock, n: usize) -> HashMap<String, String> {
    let now = clock.now_ms();
    let mut partner_of = HashMap::new();
    for partner in PROFILES {
        hub.partners.register(partner, vec!["https://partner.example/done".into()]).await.expect("partner registered");
    }
    let made: Vec<(String, String)> = futures::stream::iter((0..n).map(|i| async move {
        let partner = PROFILES[i % PROFILES.len()];
        let profile = hub.catalog.get(partner).expect("a bundled profile");
        let set: TokenSet = serde_json::from_value(sandbox.admin().issue_tokens(&profile.oauth.scopes.join(" "))).expect("tokens");
        let id = uuid::Uuid::new_v4().to_string();
        let mut c = Connection::new(&id, partner, now);
        c.status = ConnectionStatus::Active;
        c.tokens = set.refresh_token.as_ref().map(|r| hub.tokens.seal(&id, &set, r, now));
        c.schedules = shared::core::flow_runs::first_runs(profile, &c.settings, &id, now);
        hub.records.create(&c).await.expect("connection stored");
        let pointer = shared::flows::connections::PartnerConnection { partner_id: partner.to_owned(), connection_id: id.clone() };
        hub.records.create(&pointer).await.expect("partner's pointer stored");
        (id, partner.to_owned())
    }))
    .buffer_unordered(IN_FLIGHT)
    .collect()
    .await;
    partner_of.extend(made);
    partner_of
}

/// The report as Markdown: usage per function, cost per connection-month per profile and
/// overall.
pub fn markdown(r: &FleetReport) -> String {
    use crate::cost::{DAYS_PER_MONTH, PRICES_READ, month, price};
    let days = f64::from(r.hours) / 24.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n| {} connections, {} simulated hours, {} store ({:.0} s wall) | invocations | billed ms | store calls | read units | write units | SQS requests | log KB | failures |\n|---|---|---|---|---|---|---|---|---|",
        r.connections,
        r.hours,
        r.store,
        r.wall.as_secs_f64()
    );
    for (f, u) in &r.per_function {
        let _ = writeln!(
            out,
            "| {f} | {} | {} | {} | {:.1} | {:.1} | {} | {:.1} | {} |",
            u.invocations,
            u.billed_ms,
            u.store_calls,
            u.read_units,
            u.write_units,
            u.sqs_requests,
            u.log_bytes as f64 / 1024.0,
            u.failures
        );
    }
    let (costs, total) = month(&r.per_function, days);
    let _ = writeln!(
        out,
        "\n| USD a month (prices of {PRICES_READ}) | Lambda | DynamoDB | SQS | Secrets Manager calls | logs | scheduler | total |\n|---|---|---|---|---|---|---|---|"
    );
    for (f, c) in &costs {
        let _ = writeln!(
            out,
            "| {f} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
            c.lambda,
            c.dynamodb,
            c.sqs,
            c.secrets_calls,
            c.logs,
            c.scheduler,
            c.total()
        );
    }
    let per_connection = total / r.connections.max(1) as f64;
    let _ = writeln!(
        out,
        "| **all, with {} secrets' monthly fee** | | | | | | | **{total:.2}** = **{per_connection:.4} per connection-month** |",
        crate::cost::SECRETS_KEPT
    );
    // Shared work (dispatcher, sweeper, keep-alive, secrets) spread evenly over connections.
    let own: f64 = r.per_profile.values().map(|u| price(u).total()).sum::<f64>() * DAYS_PER_MONTH / days;
    let shared_each = (total - own) / r.connections.max(1) as f64;
    let _ =
        writeln!(out, "\n| profile | connections | own USD per connection-month (job syncs, hires imports) | with shared work | \n|---|---|---|---|");
    for (profile, n) in &r.connections_per_profile {
        let own_each = r.per_profile.get(profile).map_or(0.0, |u| price(u).total() * DAYS_PER_MONTH / days) / (*n).max(1) as f64;
        let _ = writeln!(out, "| {profile} | {n} | {own_each:.5} | {:.5} |", own_each + shared_each);
    }
    let _ = writeln!(
        out,
        "\nDispatcher: {} invocations found {} due connections in all ({:.2} per invocation).",
        r.per_function.get(function::DISPATCHER).map_or(0, |u| u.invocations),
        r.dispatched,
        r.dispatched as f64 / r.per_function.get(function::DISPATCHER).map_or(1, |u| u.invocations.max(1)) as f64
    );
    out
}

use std::fmt::Write as _;
