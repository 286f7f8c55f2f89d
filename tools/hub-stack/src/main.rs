//! `hub-stack`: the deployed shape, locally. Same flags and outputs as `hub-local` (the `hub on`
//! line, `<data-dir>/local-api-keys.json`), so anything that drives `hub-local` drives the stack
//! by changing the binary's name. See the README, "Run the deployed shape locally".

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::response::IntoResponse as _;
use clap::Parser;
use hub_local::{AnyError, bind, partners, sandbox};
use hub_stack::gateway::Incoming;
use hub_stack::stack::{Stack, StackOptions};
use shared::api::listener::{PeerAddr, ProblemListener};
use shared::hub::{FilesTarget, HubEnv, LeverTarget, QueueName, SecretsSource, StoreTarget};

#[derive(Parser)]
#[command(about = "Run the hub as the SAM template deploys it: every function its own process behind a Lambda Runtime API, \
API Gateway, SQS event source mappings and schedules as the template wires them, on DynamoDB Local and moto")]
struct Args {
    /// Where the HTTP API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// DynamoDB Local's table, generated secrets, partner API keys, the sandbox's state and every
    /// function's log live here.
    #[arg(long, default_value = ".hub-data")]
    data_dir: PathBuf,
    /// A Lever to use instead of the in-process sandbox (base URL of a running sandbox).
    #[arg(long)]
    lever: Option<String>,
    /// Where the in-process Lever sandbox listens.
    #[arg(long, default_value = "127.0.0.1:8089")]
    lever_addr: String,
    /// The sandbox's consent screen: `page` (Accept / Deny) or `auto` (approve at once).
    #[arg(long, default_value = "page", value_parser = ["page", "auto"])]
    consent: String,
    /// Leave the sandbox's webhook groups off, as Lever does until a Super Admin switches them on.
    #[arg(long)]
    lever_webhooks_off: bool,
    /// Run the schedules this far ahead of the real time (e.g. `23h55m`): the scheduled time
    /// the schedules hand their functions moves; everything else keeps the real time.
    #[arg(long, allow_hyphen_values = true)]
    clock_offset: Option<jiff::SignedDuration>,
    /// The SAM template to run.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Where the stack's own endpoint listens (report, checks, crash tests).
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_addr: String,
    /// Cap every queue's visibility timeout (seconds), so a failed message comes back in seconds
    /// instead of the template's minutes (crash tests).
    #[arg(long)]
    max_visibility_timeout: Option<u64>,
    /// Processes per function at most (Lambda's concurrency, bounded for one machine).
    #[arg(long, default_value_t = 4)]
    max_processes: usize,
    /// Prebuilt function binaries (named as the template's `BuildProperties.Binary`) instead of
    /// building them with cargo.
    #[arg(long)]
    functions_dir: Option<PathBuf>,
}

/// The repository this binary was built from (its template, scripts and functions).
fn repo() -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    path.canonicalize().unwrap_or(path)
}

fn main() -> std::process::ExitCode {
    shared::telemetry::init();
    let args = Args::parse();
    // The stack's own AWS calls (registering partners, as an operator would) go through an
    // endpoint of its own, bound now so the process's variables can name it before any thread
    // starts.
    let operator = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr().map(|a| (l, a))) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("hub-stack: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // DynamoDB Local takes access keys of letters and digits only. SAFETY: no other thread exists yet.
    unsafe {
        std::env::set_var("AWS_REGION", hub_stack::template::REGION);
        std::env::set_var("AWS_ACCESS_KEY_ID", "ASIAHUBSTACKOPERATOR");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "local");
        std::env::set_var("AWS_ENDPOINT_URL", format!("http://{}", operator.1));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hub-stack: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, operator.0)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub-stack: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, operator_listener: std::net::TcpListener) -> Result<(), AnyError> {
    let started = std::time::Instant::now();
    let listener = bind(&args.addr).await?;
    hub_local::private_dir(&args.data_dir)?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let base = format!("http://{}", listener.local_addr()?);
    let (_sandbox, lever_url) = match &args.lever {
        Some(url) => (None, url.clone()),
        None => {
            let options = sandbox::SandboxOptions {
                addr: args.lever_addr.clone(),
                consent_page: args.consent == "page",
                webhooks_on: !args.lever_webhooks_off,
            };
            let sandbox = sandbox::start(&options, &data_dir).await?;
            let url = sandbox.base_url();
            (Some(sandbox), url)
        }
    };
    let app = lever_sandbox::SandboxConfig::default();
    let options = StackOptions {
        repo: repo(),
        template: args.template.clone().unwrap_or_else(|| repo().join("infra/template.yaml")),
        data_dir: data_dir.clone(),
        public_url: base.clone(),
        lever_url: lever_url.clone(),
        lever_app: (app.client_id, app.client_secret),
        functions_dir: args.functions_dir.clone(),
        clock_offset_ms: args.clock_offset.map_or(0, |d| d.as_millis().clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64),
        max_visibility_s: args.max_visibility_timeout,
        max_instances: args.max_processes.max(1),
        operator_listener,
    };
    let stack = Arc::new(Stack::up(&options).await.map_err(|e| format!("{e:#}"))?);

    // Every bundled profile a partner with an API key, written where hub-local writes them.
    let any_env = stack.template_env.values().next().cloned().unwrap_or_default();
    let operator = HubEnv {
        store: StoreTarget::DynamoDb { table: stack.table.clone() },
        secrets: SecretsSource::SecretsManager { prefix: stack.secrets_prefix.clone() },
        lever: LeverTarget::Local(lever_url.clone()),
        public_url: Some(url::Url::parse(&base)?),
        queue_urls: QueueName::ALL.iter().filter_map(|q| any_env.get(q.env_var()).map(|u| (*q, u.clone()))).collect(),
        profiles_dir: None,
        allow_http_loopback: true,
        files: FilesTarget::S3 { bucket: stack.bucket.clone() },
    };
    let hub = operator.build().await?;
    let keys = partners::register(&hub, &base, &data_dir.join("local-api-keys.json")).await?;

    let gateway = stack.gateway.clone();
    let api = axum::Router::new()
        // The partner's own page the demo's connections come back to (as hub-local serves it);
        // not a route of the template.
        .route(
            "/demo/done",
            axum::routing::get(|q: axum::extract::Query<BTreeMap<String, String>>| async move { format!("Back at the partner's app: {:?}\n", q.0) }),
        )
        .fallback(move |connect: axum::extract::ConnectInfo<PeerAddr>, request: axum::extract::Request| {
            let gateway = gateway.clone();
            async move {
                let (parts, body) = request.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, 11 * 1024 * 1024).await else {
                    return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, axum::Json(serde_json::json!({"message": "Request Entity Too Large"})))
                        .into_response();
                };
                let request =
                    Incoming { method: parts.method, uri: parts.uri, headers: parts.headers, body: bytes, peer: connect.0.0.ip().to_string() };
                gateway.handle(request).await
            }
        });
    tokio::spawn(async move { axum::serve(ProblemListener(listener), api.into_make_service_with_connect_info::<PeerAddr>()).await });
    let admin_listener = tokio::net::TcpListener::bind(&args.admin_addr).await?;
    let admin_url = format!("http://{}", admin_listener.local_addr()?);
    let openapi = repo().join("docs/openapi.yaml");
    let admin = hub_stack::admin::router(Arc::new(hub_stack::admin::Admin { stack: stack.clone(), openapi: openapi.clone() }));
    tokio::spawn(async move { axum::serve(admin_listener, admin).await });

    let announcement = shared::testing::HubAnnouncement { hub: base.clone(), lever: lever_url.clone(), data_dir: data_dir.display().to_string() };
    println!("{announcement}");
    println!(
        "Deployed shape: {} functions as processes, {} routes, {} queue mappings, from {}; up in {:.1} s",
        stack.functions.len(),
        stack.gateway.routes.len(),
        stack.mappings.len(),
        options.template.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(offset) = args.clock_offset {
        println!("Schedules run {offset:#} ahead of the real time (--clock-offset)");
    }
    println!("Stack admin on {admin_url} (GET /_stack/report, GET /_stack/checks); logs in {}", stack.logs.display());
    println!("Partner API keys (local only) in {}:", data_dir.join("local-api-keys.json").display());
    for (partner, key) in &keys {
        println!("  {partner:<20} {key}");
    }
    let first = stack.clone();
    tokio::spawn(async move {
        match hub_stack::checks::run(&first, &openapi).await {
            Ok(c) if c.passed() => println!(
                "Stack checks passed: every function started with the environment the template sets and reads; {} routes served as the template routes them; no AWS call outside a role (GET /_stack/checks re-runs them)",
                c.routes_checked
            ),
            Ok(c) => println!("Stack checks FAILED:\n  {}", c.violations().join("\n  ")),
            Err(e) => println!("Stack checks did not run: {e:#}"),
        }
    });
    shutdown().await;
    stack.stop();
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
