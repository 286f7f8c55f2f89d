//! `hub-local`: the whole hub in one process, for a newcomer's first run and for demos.
//!
//! Embedded store and local secrets under `--data-dir` (kept across restarts), the Lever
//! sandbox in-process (or any Lever given with `--lever`), the partner API and OAuth callback
//! on `--addr`, and the delivery worker. Every bundled profile is registered as a partner with
//! an API key. `--smoke` connects one customer end to end and exits: the run-locally check.

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
    /// Store, secrets and local API keys live here.
    #[arg(long, default_value = ".hub-data")]
    data_dir: PathBuf,
    /// A Lever to use instead of the in-process sandbox (base URL of a running sandbox).
    #[arg(long)]
    lever: Option<String>,
    /// Connect one customer end to end, print the result and exit.
    #[arg(long)]
    smoke: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    shared::telemetry::init();
    let args = Args::parse();
    std::fs::create_dir_all(&args.data_dir)?;

    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (_sandbox, lever_url) = match &args.lever {
        Some(url) => (None, url.clone()),
        None => {
            let sandbox = lever_sandbox::Sandbox::start(lever_sandbox::SandboxConfig::default()).await?;
            let url = sandbox.base_url();
            (Some(sandbox), url)
        }
    };
    let secrets_file = args.data_dir.join("secrets.json");
    ensure_lever_app(&secrets_file)?;
    let env = HubEnv {
        store: StoreTarget::Embedded { path: args.data_dir.join("table.log") },
        secrets: SecretsSource::Local { path: secrets_file },
        lever: LeverTarget::Local(lever_url.clone()),
        public_url: url::Url::parse(&base)?,
        queue_urls: Default::default(),
        profiles_dir: None,
        allow_http_loopback: true,
    };
    let hub = env.build().await?;
    let keys = register_partners(&hub, &base, &args.data_dir.join("local-api-keys.json")).await?;

    let router = shared::api::router(hub.api()).route(
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

    if args.smoke {
        return smoke(&base, &keys).await;
    }
    println!("Lever integration hub on {base} (Lever at {lever_url}); data in {}", args.data_dir.display());
    println!("Partner API keys (local only) in {}:", args.data_dir.join("local-api-keys.json").display());
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
async fn register_partners(
    hub: &shared::hub::Hub,
    base: &str,
    keys_file: &Path,
) -> Result<BTreeMap<String, String>, Box<dyn std::error::Error + Send + Sync>> {
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
async fn smoke(base: &str, keys: &BTreeMap<String, String>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let key = keys.values().next().ok_or("no partner profile bundled")?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
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
    Ok(())
}
