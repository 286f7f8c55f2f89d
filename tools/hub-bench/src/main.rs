//! `hub-bench`: measures the hub's hot paths on this machine and prints a Markdown table.
//!
//! `cargo run --release -p hub-bench -- --store embedded|dynamodb` (DynamoDB Local via
//! `HUB_TEST_DYNAMODB_ENDPOINT`, as `scripts/test` exports it). Times are wall-clock on loopback:
//! compare runs on the same machine, not across machines. With `--store dynamodb` the queues
//! are SQS on moto (`HUB_TEST_MOTO_ENDPOINT`); with `embedded`, durable queues in the store.

mod hires;
mod load;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::core::catalog::ProfileCatalog;
use shared::flows::delivery::DeliveryPolicy;
use shared::flows::tokens::TokenPolicy;
use shared::hub::{Hub, HubOptions, HubPorts};
use shared::lever::http::LeverConfig;
use shared::lever::secret::ClientSecret;
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, names};
use shared::store::embedded::EmbeddedStore;
use shared::store::{Key, Leases, Record, Records, Store};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[arg(long, default_value = "embedded", global = true)]
    store: String,
    #[arg(long, default_value_t = 500)]
    iterations: usize,
    /// Hires made in the sandbox for the hire-to-partner figure.
    #[arg(long, default_value_t = 20)]
    hires: usize,
}

#[derive(clap::Subcommand)]
enum Command {
    /// The partner API under concurrent load (`load.rs`).
    Load {
        /// Requests per route and concurrency level (at least 4 per client).
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
    },
    /// A simulated day of a fleet of connections, measured per function and priced
    /// (`hub_bench::fleet`, `hub_bench::cost`).
    Fleet {
        #[arg(long, default_value_t = 200)]
        connections: usize,
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// Postings in the shared Lever account at the start.
        #[arg(long, default_value_t = 50)]
        postings: usize,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Item {
    id: String,
    n: u64,
}

impl Record for Item {
    const KIND: &'static str = "bench";
    fn key(&self) -> Key {
        Key::new("BENCH", self.id.clone())
    }
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    format!("{:.3} | {:.3} | {:.3}", ms(at(0.5)), ms(at(0.95)), ms(at(0.99)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn timed<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

/// The hub as `hub-local` runs it (its router on a loopback port, the Lever sandbox beside it),
/// on either store, with a partner (Outhire) and its API key.
pub struct Local {
    pub hub: Hub,
    pub sandbox: lever_sandbox::Sandbox,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl Local {
    pub async fn start(store: Arc<dyn Store>, kind: &str, clock: Arc<ManualClock>) -> Self {
        Self::start_for(store, kind, clock, "outhire").await
    }

    pub async fn start_for(store: Arc<dyn Store>, kind: &str, clock: Arc<ManualClock>, partner: &str) -> Self {
        let sandbox = lever_sandbox::Sandbox::start(lever_sandbox::SandboxConfig { rate_limit: None, ..Default::default() }).await.unwrap();
        let defaults = lever_sandbox::SandboxConfig::default();
        let secrets = LocalSecrets::from_values([
            (names::TOKEN_KEY.to_owned(), random_key()),
            (names::STATE_KEY.to_owned(), random_key()),
            (names::LEVER_OAUTH.to_owned(), json!({"client_id": defaults.client_id, "client_secret": defaults.client_secret}).to_string()),
        ]);
        let lever = LeverConfig::local(&sandbox.base_url(), defaults.client_id, ClientSecret::new(defaults.client_secret)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let queues = hub_bench::queues(&store, kind).await;
        let ports = HubPorts {
            store,
            clock,
            secrets: Arc::new(secrets),
            lever,
            lever_sandbox: None,
            queues,
            files: shared::hub::FilesSource::Dir(std::env::temp_dir().join(format!("hub-bench-files-{}", std::process::id()))),
        };
        let options = HubOptions {
            public_url: url::Url::parse(&base).unwrap(),
            tokens: TokenPolicy::default(),
            delivery: DeliveryPolicy { allow_http_loopback: true, ..DeliveryPolicy::default() },
            jobs: Default::default(),
            rate_budget: Default::default(),
            candidates: Default::default(),
        };
        let hub = Hub::build(ports, Arc::new(ProfileCatalog::bundled().unwrap()), options).await.unwrap();
        let router = hub.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        hub.partners.register(partner, vec![format!("{base}/done")]).await.unwrap();
        let key = hub.partners.issue_key(partner, None).await.unwrap().secret.expose().to_owned();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Local { hub, sandbox, base, key, http }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(Command::Fleet { connections, hours, postings }) = args.command {
        let report = hub_bench::fleet::run(hub_bench::fleet::FleetConfig { connections, hours, store: args.store, postings }).await;
        println!("{}", hub_bench::fleet::markdown(&report));
        return;
    }
    let store: Arc<dyn Store> = match args.store.as_str() {
        "embedded" => Arc::new(EmbeddedStore::open(std::env::temp_dir().join(format!("hub-bench-{}.log", std::process::id()))).unwrap()),
        "dynamodb" => shared::testing::dynamo_store().await.expect("DynamoDB Local"),
        other => panic!("--store {other}: embedded or dynamodb"),
    };
    if let Some(Command::Load { requests }) = args.command {
        // The hub's warnings and errors (an internal error's cause) to stderr, beside the table.
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::WARN).try_init();
        load::run(store, &args.store, requests).await;
        return;
    }
    let n = args.iterations;
    println!("| {} store, n = {n} | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|", args.store);

    // Store primitives.
    let records = Records::new(store.clone(), Arc::new(SystemClock));
    let create = timed(n, |i| {
        let r = records.clone();
        async move {
            r.create(&Item { id: format!("i{i}"), n: 0 }).await.unwrap();
        }
    })
    .await;
    println!("| store: create-if-absent | {} |", percentiles(create));
    let read = timed(n, |i| {
        let r = records.clone();
        async move {
            r.get::<Item>(&Key::new("BENCH", format!("i{i}"))).await.unwrap().unwrap();
        }
    })
    .await;
    println!("| store: consistent get | {} |", percentiles(read));
    let cas = timed(n, |i| {
        let r = records.clone();
        async move {
            r.replace(&Item { id: format!("i{i}"), n: 1 }, 1).await.unwrap();
        }
    })
    .await;
    println!("| store: compare-and-set | {} |", percentiles(cas));
    let leases = Leases::new(records.clone());
    let lease = timed(n, |i| {
        let l = leases.clone();
        async move {
            let held = l.acquire(&format!("bench/{i}"), "me", Duration::from_secs(30)).await.unwrap().unwrap();
            l.release(held).await.unwrap();
        }
    })
    .await;
    println!("| store: lease acquire + release | {} |", percentiles(lease));

    // The hub over HTTP, against the Lever sandbox.
    let clock = Arc::new(ManualClock::at_ms(SystemClock.now_ms()));
    let Local { hub, sandbox, base, key, http } = Local::start(store, &args.store, clock.clone()).await;
    let connect_took = Instant::now();
    let id = shared::testing::connect_customer(&http, &base, &key, &format!("{base}/done")).await;
    let connect = connect_took.elapsed();
    println!("| connect: POST, consent, callback (once) | {:.2} | | |", ms(connect));

    let get = timed(n, |_| {
        let (http, key, url) = (http.clone(), key.clone(), format!("{base}/v1/connections/{id}"));
        async move {
            assert!(http.get(url).bearer_auth(key).send().await.unwrap().status().is_success());
        }
    })
    .await;
    println!("| API: GET /v1/connections/{{id}} (auth + read) | {} |", percentiles(get));
    let auth = timed(n, |_| {
        let (tokens, id) = (hub.tokens.clone(), id.clone());
        async move {
            tokens.auth(&id).await.unwrap();
        }
    })
    .await;
    println!("| tokens: fresh access token (read + decrypt) | {} |", percentiles(auth));

    hires::run(&hub, &sandbox, &base, n, args.hires).await;

    // 50 concurrent callers of an expired token: one refresh, everyone served.
    let mut rounds = vec![];
    for _ in 0..10 {
        clock.advance_ms(3_600_000);
        let before = sandbox.admin().counters().token_requests.get("refresh_token").copied().unwrap_or(0);
        let t = Instant::now();
        let calls = (0..50).map(|_| hub.tokens.auth(&id));
        assert!(futures::future::join_all(calls).await.iter().all(Result::is_ok));
        rounds.push(t.elapsed());
        let after = sandbox.admin().counters().token_requests.get("refresh_token").copied().unwrap_or(0);
        assert_eq!(after - before, 1, "one refresh per expiry");
    }
    println!("| tokens: 50 concurrent callers, expired token (1 refresh) | {} |", percentiles(rounds));
}
