//! `hub-local`: the whole hub in one process, for a newcomer's first run and for demos.
//!
//! Embedded store and local secrets under `--data-dir` (kept across restarts), the Lever
//! sandbox in-process (or any Lever given with `--lever`), the partner API and OAuth callback
//! on `--addr`, and the delivery worker. Every bundled profile is registered as a partner with
//! an API key. `--smoke` connects one customer end to end and exits: the run-locally check; it
//! runs in a fresh temporary directory unless `--data-dir` is given.
//!
//! One hub per data directory: the embedded store locks it, and a second hub on the same one
//! stops at once, naming the directory and the PID of the hub that has it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};
use shared::hub::{HubEnv, LeverTarget, SecretsSource, StoreTarget};
use shared::secrets::local::write_private;
use shared::secrets::names;

#[derive(Parser)]
#[command(about = "Run the Lever integration hub locally: no AWS account, Lever sandbox in-process")]
struct Args {
    /// Where the hub listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Store, secrets and local API keys live here [default: .hub-data; with --smoke a fresh
    /// temporary directory].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A Lever to use instead of the in-process sandbox (base URL of a running sandbox).
    #[arg(long)]
    lever: Option<String>,
    /// Where the in-process Lever sandbox listens [default: 127.0.0.1:8089, fixed so a restart
    /// finds it where open consent pages expect it; with --smoke a free port].
    #[arg(long)]
    lever_addr: Option<String>,
    /// The sandbox's consent screen: `page` (an HTML page with Accept / Deny, as Lever shows) or
    /// `auto` (approve at once). `--smoke` always uses `auto`.
    #[arg(long, default_value = "page", value_parser = ["page", "auto"])]
    consent: String,
    /// Leave the sandbox's webhook groups off, as Lever does until a Super Admin switches them on
    /// (by default the local sandbox plays that Super Admin and they are on).
    #[arg(long)]
    lever_webhooks_off: bool,
    /// Connect one customer end to end, print the result and exit.
    #[arg(long)]
    smoke: bool,
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// How often the dispatcher looks for due connections (the first run is at start).
const DISPATCH_EVERY: Duration = Duration::from_secs(5);

/// How often the delivery sweeper runs (the first run is at start).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Errors are printed as sentences (`Display`), not as debug structs, and exit with status 1.
fn main() -> std::process::ExitCode {
    shared::telemetry::init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hub-local: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub-local: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, AnyError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| -> AnyError {
        match e.kind() {
            std::io::ErrorKind::AddrInUse => format!("address in use: {addr}, pass --addr").into(),
            std::io::ErrorKind::AddrNotAvailable => format!("address not available on this machine: {addr}, pass --addr").into(),
            _ => format!("cannot listen on {addr}: {e}").into(),
        }
    })
}

/// The in-process Lever sandbox: its account, grants, tokens and webhooks are kept in the data
/// directory and it listens on a fixed address, so the hub's connections keep working across a
/// restart of `hub-local`.
async fn start_sandbox(args: &Args, data_dir: &Path) -> Result<lever_sandbox::Sandbox, AnyError> {
    let consent = if args.smoke || args.consent == "auto" {
        lever_sandbox::ConsentMode::Approve
    } else {
        lever_sandbox::ConsentMode::Page
    };
    let addr = match (&args.lever_addr, args.smoke) {
        (Some(addr), _) => addr.clone(),
        (None, false) => "127.0.0.1:8089".to_owned(),
        (None, true) => "127.0.0.1:0".to_owned(),
    };
    let config = lever_sandbox::SandboxConfig {
        addr: Some(addr.clone()),
        state_file: Some(data_dir.join("lever-sandbox.json")),
        consent,
        webhooks_enabled_by_default: !args.lever_webhooks_off,
        ..lever_sandbox::SandboxConfig::default()
    };
    lever_sandbox::Sandbox::start(config).await.map_err(|e| -> AnyError {
        let text = e.to_string();
        if text.to_ascii_lowercase().contains("address") && text.to_ascii_lowercase().contains("in use") {
            format!("address in use: {addr} (the Lever sandbox), pass --lever-addr").into()
        } else {
            format!("the Lever sandbox did not start: {text}").into()
        }
    })
}

/// `--data-dir`, else `.hub-data`, else (for `--smoke`) a temporary directory removed at the end.
fn data_dir(args: &Args) -> Result<(PathBuf, Option<tempfile::TempDir>), AnyError> {
    let (dir, temporary) = match (&args.data_dir, args.smoke) {
        (Some(dir), _) => (dir.clone(), None),
        (None, false) => (PathBuf::from(".hub-data"), None),
        (None, true) => {
            let temp = tempfile::Builder::new().prefix("hub-local-smoke-").tempdir()?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("data directory {}: {e}", dir.display()))?;
    // Tokens, keys and secrets live here: the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("data directory {}: {e}", dir.display()))?;
    }
    Ok((dir, temporary))
}

async fn run(args: Args) -> Result<(), AnyError> {
    let listener = bind(&args.addr).await?;
    let (data_dir, _temporary) = data_dir(&args)?;
    let base = format!("http://{}", listener.local_addr()?);
    let (_sandbox, lever_url) = match &args.lever {
        Some(url) => (None, url.clone()),
        None => {
            let sandbox = start_sandbox(&args, &data_dir).await?;
            let url = sandbox.base_url();
            (Some(sandbox), url)
        }
    };
    let secrets_file = data_dir.join("secrets.json");
    ensure_lever_app(&secrets_file)?;
    let env = HubEnv {
        store: StoreTarget::Embedded { path: data_dir.join("table.log") },
        secrets: SecretsSource::Local { path: secrets_file },
        lever: LeverTarget::Local(lever_url.clone()),
        public_url: Some(url::Url::parse(&base)?),
        queue_urls: Default::default(),
        profiles_dir: None,
        allow_http_loopback: true,
        files: Default::default(), // `files/` in the data directory; the hub serves its upload URLs
    };
    let hub = env.build().await?;
    let keys = register_partners(&hub, &base, &data_dir.join("local-api-keys.json")).await?;

    let router = hub.router().route(
        "/demo/done",
        axum::routing::get(|q: axum::extract::Query<BTreeMap<String, String>>| async move {
            format!("Back at the partner's app: {:?}\n", q.0)
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let delivery = hub.delivery.clone();
    tokio::spawn(async move {
        loop {
            if delivery.work_once(10, Duration::from_millis(500)).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    // Lever's webhooks, once verified and queued, go to the flows' handlers (a Lambda in AWS).
    let (lever_events, router) = (hub.wiring.queue(shared::hub::QueueName::LeverEvents)?, hub.lever_events.clone());
    tokio::spawn(async move {
        loop {
            let round = shared::queue::work_once(lever_events.as_ref(), 10, Duration::from_millis(500), |body| {
                let router = router.clone();
                async move { router.handle(&body).await.ack() }
            });
            if round.await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    // Hires imports, daily and manual (the hires-import Lambda in AWS); the dispatcher below
    // starts the daily runs at each account's local time.
    let hires = hub.wiring.hires_worker()?;
    tokio::spawn(async move {
        loop {
            if hires.work_once(10, Duration::from_millis(500)).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    // The dispatcher's schedule (every minute in AWS; more often here, so jobs show up soon after
    // a connect) and the job poller on the jobs queue (a Lambda in AWS).
    let (dispatcher, clock) = (hub.wiring.dispatcher()?, hub.records.clock().clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(DISPATCH_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = dispatcher.dispatch_once(clock.now_ms()).await {
                tracing::warn!(error = %e, "dispatch failed; the next one retries");
            }
        }
    });
    let jobs = hub.jobs.clone();
    tokio::spawn(async move {
        loop {
            if jobs.work_once(1, Duration::from_millis(500)).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    // The candidate writer (an SQS-triggered Lambda in AWS), and its sweep every 30 s (a schedule).
    let (writer, candidate_sweeper, clock) = (hub.candidates.clone(), hub.candidates.clone(), hub.records.clock().clone());
    tokio::spawn(async move {
        loop {
            if writer.work_once(10, Duration::from_millis(500)).await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = candidate_sweeper.sweep_once(clock.now_ms()).await {
                tracing::warn!(error = %e, "candidate sweep failed; the next one retries");
            }
        }
    });
    // The sweep schedule (EventBridge in AWS): events stored but never queued get queued.
    let (sweeper, clock) = (hub.delivery.clone(), hub.records.clock().clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = sweeper.sweep_once(clock.now_ms()).await {
                tracing::warn!(error = %e, "delivery sweep failed; the next one retries");
            }
        }
    });

    if args.smoke {
        return smoke(&base, &keys).await;
    }
    println!("Lever integration hub on {base} (Lever at {lever_url}); data in {}", data_dir.display());
    println!("Partner API keys (local only) in {}:", data_dir.join("local-api-keys.json").display());
    for (partner, key) in &keys {
        println!("  {partner:<20} {key}");
    }
    let example = keys.values().next().cloned().unwrap_or_default();
    println!(
        "\nConnect a customer:\n  curl -s -X POST {base}/v1/connections -H 'Authorization: Bearer {example}' \\\n    -H 'content-type: application/json' -d '{{\"return_url\": \"{base}/demo/done\"}}'\n\
         then open the authorize_url it returns (the sandbox consents at once).\nCtrl-C stops."
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// The in-process sandbox's OAuth app, unless the secrets file names another.
fn ensure_lever_app(path: &Path) -> std::io::Result<()> {
    let mut stored: BTreeMap<String, Value> =
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    if stored.contains_key(names::LEVER_OAUTH) {
        return Ok(());
    }
    let defaults = lever_sandbox::SandboxConfig::default();
    stored.insert(
        names::LEVER_OAUTH.into(),
        json!({"client_id": defaults.client_id, "client_secret": defaults.client_secret}).to_string().into(),
    );
    write_private(path, &serde_json::to_string_pretty(&stored)?)
}

/// Registers every bundled profile as a partner (return URLs on this hub's demo page) and
/// issues each one API key, once; the keys are kept in a local file for the next run.
async fn register_partners(hub: &shared::hub::Hub, base: &str, keys_file: &Path) -> Result<BTreeMap<String, String>, AnyError> {
    let mut keys: BTreeMap<String, String> =
        std::fs::read_to_string(keys_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    for profile in hub.catalog.ids().map(str::to_owned).collect::<Vec<_>>() {
        hub.partners.register(&profile, vec![format!("{base}/demo")]).await?;
        let still_valid = match keys.get(&profile) {
            Some(key) => hub.partners.authenticate(key).await?.as_deref() == Some(profile.as_str()),
            None => false,
        };
        if !still_valid {
            let issued = hub.partners.issue_key(&profile, Some("hub-local".into())).await?;
            keys.insert(profile, issued.secret.expose().to_owned());
        }
    }
    write_private(keys_file, &serde_json::to_string_pretty(&keys)?)?;
    Ok(keys)
}

/// Connects one customer of the first partner as a partner would, following every redirect.
async fn smoke(base: &str, keys: &BTreeMap<String, String>) -> Result<(), AnyError> {
    let key = keys.values().next().ok_or("no partner profile bundled")?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    // Connections from an earlier run on this data directory still reach Lever (the sandbox
    // kept their grants), so a restart does not turn them into `needs_reconnect`.
    let earlier: Value = http.get(format!("{base}/v1/connections?limit=100")).bearer_auth(key).send().await?.json().await?;
    let mut still_working = 0;
    for c in earlier["data"].as_array().into_iter().flatten().filter(|c| c["status"] == "active") {
        let id = c["id"].as_str().unwrap_or_default();
        let users = http.get(format!("{base}/v1/connections/{id}/lever/users")).bearer_auth(key).send().await?;
        if !users.status().is_success() {
            return Err(format!("connection {id} from an earlier run no longer reaches Lever: {}", users.status()).into());
        }
        still_working += 1;
    }
    println!("smoke: {still_working} connection(s) from earlier runs still reach Lever");
    let created: Value = http
        .post(format!("{base}/v1/connections"))
        .bearer_auth(key)
        .json(&json!({"return_url": format!("{base}/demo/done")}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let connect = created["authorize_url"].as_str().ok_or("no authorize_url")?;
    // A browser with cookies: the hub's connect link binds it, the callback checks it.
    shared::testing::ConsentBrowser::new().walk(connect, 6).await?;
    let id = created["id"].as_str().unwrap_or_default();
    let status: Value = http.get(format!("{base}/v1/connections/{id}")).bearer_auth(key).send().await?.json().await?;
    println!("smoke: connection {id} is {} ({})", status["status"], status["health"]);
    if status["status"] != "active" {
        return Err(format!("connection not active: {status}").into());
    }
    // No sync is asked for: the dispatcher and the job poller bring the jobs on their own.
    for _ in 0..60 {
        let jobs: Value = http.get(format!("{base}/v1/connections/{id}/jobs")).bearer_auth(key).send().await?.json().await?;
        let n = jobs["data"].as_array().map_or(0, Vec::len);
        if n > 0 {
            println!("smoke: {n} jobs in the feed of connection {id}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("no jobs reached the feed of connection {id} within 30 s").into())
}
