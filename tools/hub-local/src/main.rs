//! `hub-local`: the whole hub in one process, for a newcomer's first run and for demos.
//!
//! Embedded store and local secrets under `--data-dir` (kept across restarts), the Lever
//! sandbox in-process (or any Lever given with `--lever`), the partner API and OAuth callback
//! on `--addr`, and every queue consumer and schedule (`workers.rs`). Every bundled profile is registered as a partner with
//! an API key. `--smoke` connects one customer end to end and exits: the run-locally check; it
//! runs in a fresh temporary directory unless `--data-dir` is given.
//!
//! One hub per data directory: the embedded store locks it, and a second hub on the same one
//! stops at once, naming the directory and the PID of the hub that has it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;

mod smoke;
mod workers;

use hub_local::{bind, partners, sandbox};

use shared::hub::{HubEnv, LeverTarget, SecretsSource, StoreTarget};

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
    /// Run the schedules this far ahead of the real time, e.g. `23h55m` to see tonight's daily
    /// hires import within minutes, or `-2h`. Only the dispatcher's idea of now moves: Lever,
    /// tokens, webhooks and events keep the real time. Friendly (`1h30m`) or ISO 8601 (`PT90M`).
    #[arg(long, allow_hyphen_values = true)]
    clock_offset: Option<jiff::SignedDuration>,
}

use hub_local::AnyError;

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
    hub_local::private_dir(&dir)?;
    Ok((dir, temporary))
}

async fn run(args: Args) -> Result<(), AnyError> {
    let listener = bind(&args.addr).await?;
    let (data_dir, _temporary) = data_dir(&args)?;
    let base = format!("http://{}", listener.local_addr()?);
    let (_sandbox, lever_url) = match &args.lever {
        Some(url) => (None, url.clone()),
        None => {
            let options = sandbox::SandboxOptions {
                addr: match (&args.lever_addr, args.smoke) {
                    (Some(addr), _) => addr.clone(),
                    (None, false) => "127.0.0.1:8089".to_owned(),
                    (None, true) => "127.0.0.1:0".to_owned(),
                },
                consent_page: !args.smoke && args.consent == "page",
                webhooks_on: !args.lever_webhooks_off,
            };
            let sandbox = sandbox::start(&options, &data_dir).await?;
            let url = sandbox.base_url();
            (Some(sandbox), url)
        }
    };
    let secrets_file = data_dir.join("secrets.json");
    sandbox::ensure_lever_app(&secrets_file)?;
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
    let keys = partners::register(&hub, &base, &data_dir.join("local-api-keys.json")).await?;

    let router = hub.router().route(
        "/demo/done",
        axum::routing::get(|q: axum::extract::Query<BTreeMap<String, String>>| async move { format!("Back at the partner's app: {:?}\n", q.0) }),
    );
    tokio::spawn(async move { axum::serve(shared::api::listener::ProblemListener(listener), router).await });
    workers::spawn_all(&hub, args.clock_offset.map_or(0, |d| d.as_millis().clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64))?;

    if args.smoke {
        return smoke::run(&base, &keys).await;
    }
    let announcement = shared::testing::HubAnnouncement { hub: base.clone(), lever: lever_url.clone(), data_dir: data_dir.display().to_string() };
    println!("{announcement}");
    if let Some(offset) = args.clock_offset {
        println!("Schedules run {offset:#} ahead of the real time (--clock-offset)");
    }
    println!("Partner API keys (local only) in {}:", data_dir.join("local-api-keys.json").display());
    for (partner, key) in &keys {
        println!("  {partner:<20} {key}");
    }
    let example = keys.values().next().cloned().unwrap_or_default();
    println!(
        "\nConnect a customer:\n  curl -s -X POST {base}/v1/connections -H 'Authorization: Bearer {example}' \\\n    -H 'content-type: application/json' -d '{{\"return_url\": \"{base}/demo/done\"}}'\n\
         then open the connect_url it returns in a browser, press Continue and accept on the sandbox's consent page\n  (or run scripts/demo: five partner stories end to end).\nCtrl-C stops."
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
