//! `hub-demo` (run it with `scripts/demo`): walks the five seed stories against a local hub as
//! the partners, their customers' recruiters and the candidates would, printing one line per
//! step with the fact it checked, and exits non-zero naming every step that failed and what it
//! saw.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use reqwest::Method;
use serde_json::json;

use hub_demo::api::{Lever, Partner};
use hub_demo::report::{self, Failure, Story};
use hub_demo::stories::{self, Demo};
use hub_demo::{hub, receiver};

#[derive(Parser)]
#[command(
    about = "Walk the five seed stories (HireUp, ERC, Upwage, Outhire, HR Cloud) against a local hub",
    after_help = "\
Two modes:
  A hub is running (`cargo run -p hub-local` in another terminal, from the repository root):
    the demo uses it, with its Lever sandbox at --lever and its partner keys from --keys (the
    defaults are where hub-local puts them). The demo's connections and webhook endpoints are
    removed at the end unless --keep; its postings and candidates stay in the sandbox.
  No hub answers at --hub (or --start is given):
    the demo starts a hub-local of its own (built beside this binary, or --hub-local) in a fresh
    temporary directory on free ports, with Lever's consent page on, and stops it at the end.
  --stack:
    as --start, with the deployed shape instead of hub-local: `hub-stack` (built beside this
    binary; `scripts/demo --stack` builds it) runs infra/template.yaml, every function its own
    process on DynamoDB Local and moto. Its first start installs those and builds the functions.

Each step prints one line: ✓ with the fact checked, or ✗ with what was seen instead. A failed
step ends its story; the others still run. Exit status 0 when every step passed, 1 otherwise
(the failing steps are listed at the end), 2 when the demo could not start."
)]
struct Args {
    /// The hub's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// The hub's Lever sandbox (hub-local prints it: "Lever at …").
    #[arg(long, default_value = "http://127.0.0.1:8089")]
    lever: String,
    /// The hub's partner API keys (hub-local writes them to <data dir>/local-api-keys.json).
    #[arg(long, default_value = ".hub-data/local-api-keys.json")]
    keys: PathBuf,
    /// Start a hub-local of its own even when one answers at --hub.
    #[arg(long)]
    start: bool,
    /// The hub-local binary to start [default: the one built beside this binary].
    #[arg(long)]
    hub_local: Option<PathBuf>,
    /// Start the deployed shape (`hub-stack`, built beside this binary) of its own instead of
    /// hub-local.
    #[arg(long)]
    stack: bool,
    /// Keep the demo's connections and webhook endpoints on the hub.
    #[arg(long)]
    keep: bool,
    /// Only these stories (comma separated) [default: all five].
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<StoryName>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoryName {
    Hireup,
    Erc,
    Upwage,
    Outhire,
    Hrcloud,
}

impl StoryName {
    /// The partner profile the story plays.
    fn partner(self) -> &'static str {
        match self {
            StoryName::Hireup => "hireup",
            StoryName::Erc => "employeereferrals",
            StoryName::Upwage => "upwage",
            StoryName::Outhire => "outhire",
            StoryName::Hrcloud => "hrcloud",
        }
    }
}

const ALL: [StoryName; 5] = [StoryName::Hireup, StoryName::Erc, StoryName::Upwage, StoryName::Outhire, StoryName::Hrcloud];

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hub-demo: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        // Ctrl-C drops the run, and with it the hub-local it started (stopped on drop).
        tokio::select! {
            code = run(args) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("hub-demo: interrupted");
                std::process::ExitCode::from(130)
            }
        }
    })
}

async fn run(args: Args) -> std::process::ExitCode {
    let http = match reqwest::Client::builder().timeout(Duration::from_secs(20)).build() {
        Ok(c) => c,
        Err(e) => return cannot_start(&format!("HTTP client: {e}")),
    };
    let hub_url = args.hub.trim_end_matches('/').to_owned();
    let kind = if args.stack { hub::Kind::Stack } else { hub::Kind::Local };
    let target = if !args.start && !args.stack && hub::reachable(&http, &hub_url).await {
        println!("Using the hub at {hub_url} (Lever sandbox at {}, partner keys from {}).", args.lever, args.keys.display());
        hub::attach(&http, &hub_url, args.lever.trim_end_matches('/'), &args.keys).await
    } else {
        let why = if args.stack {
            "--stack given"
        } else if args.start {
            "--start given"
        } else {
            "no hub answers there"
        };
        println!("No hub used at {hub_url} ({why}): starting a {} of its own (temporary data, free ports, consent page on).", kind.name());
        match hub::binary(kind, args.hub_local.as_deref().filter(|_| !args.stack)) {
            Ok(binary) => hub::start(kind, &binary),
            Err(e) => Err(e),
        }
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => return cannot_start(&format!("{e:#}")),
    };
    if let Some(own) = &target.own {
        println!(
            "{} on {} (Lever sandbox at {}); its log (removed at the end; a failure prints its last lines): {}",
            kind.name(),
            target.hub,
            target.lever,
            own.log_path().display()
        );
    }
    let receiver = match receiver::Receiver::start().await {
        Ok(r) => r,
        Err(e) => return cannot_start(&format!("the partners' webhook receiver: {e:#}")),
    };
    let chosen: Vec<StoryName> = if args.only.is_empty() { ALL.to_vec() } else { ALL.into_iter().filter(|s| args.only.contains(s)).collect() };
    let partners: BTreeMap<String, Partner> = chosen
        .iter()
        .filter_map(|s| target.keys.get(s.partner()).map(|k| (s.partner().to_owned(), Partner::new(s.partner(), &target.hub, k, http.clone()))))
        .collect();
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let demo = Demo::new(&target.hub, Lever::new(&target.lever, http.clone()), receiver.clone(), run_id.clone(), partners.clone());
    println!("Run {run_id}: names and emails of this run carry it.");

    let mut failures: Vec<Failure> = vec![];
    let setup = Story::begin("Partners", "each partner registers a webhook endpoint the demo serves");
    let hooks = setup.step("webhook endpoints", register_webhooks(&partners, &receiver)).await;
    let hooks = match hooks {
        Ok(h) => h,
        Err(f) => {
            failures.push(f);
            vec![]
        }
    };
    if failures.is_empty() {
        for story in &chosen {
            let outcome = match story {
                StoryName::Hireup => stories::hireup::run(&demo).await,
                StoryName::Erc => stories::erc::run(&demo).await,
                StoryName::Upwage => stories::upwage::run(&demo).await,
                StoryName::Outhire => stories::outhire::run(&demo).await,
                StoryName::Hrcloud => stories::hrcloud::run(&demo).await,
            };
            failures.extend(outcome.err());
        }
        let signatures = Story::begin("Webhooks", "every delivery the partners received");
        let tally = signatures
            .step("signatures", async {
                let (verified, refused) = receiver.tally();
                report::check(refused.is_empty(), "no delivery with a bad Hub-Signature", &refused)?;
                Ok(((), format!("{verified} deliveries, every Hub-Signature verified (HMAC-SHA256 over \"<t>.<body>\", t within 5 minutes)")))
            })
            .await;
        failures.extend(tally.err());
    }

    if !args.keep {
        clean_up(&hooks, &demo.made()).await;
    }
    if failures.is_empty() {
        let stories = if chosen.len() == 1 { "story" } else { "stories" };
        println!("\nDemo passed: every step of {} {stories}.", chosen.len());
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!("\nDemo FAILED: {} step(s):", failures.len());
    for f in &failures {
        eprintln!("  ✗ [{}] {}: {}", f.story, f.step, f.seen);
    }
    if let Some(own) = &target.own {
        eprintln!("\nThe last lines {} wrote:\n{}", kind.name(), own.log_tail(20));
    }
    std::process::ExitCode::FAILURE
}

fn cannot_start(why: &str) -> std::process::ExitCode {
    eprintln!("hub-demo: {why}");
    std::process::ExitCode::from(2)
}

/// Registers one endpoint per partner (`POST /v1/webhooks`) and gives the receiver its secret.
async fn register_webhooks(partners: &BTreeMap<String, Partner>, receiver: &receiver::Receiver) -> anyhow::Result<(Vec<(Partner, String)>, String)> {
    let mut made = vec![];
    for p in partners.values() {
        let hook = p.ok(Method::POST, "/v1/webhooks", Some(&json!({"url": receiver.hook_url(&p.id)}))).await?;
        let (Some(id), Some(secret)) = (hook["id"].as_str(), hook["secret"].as_str()) else {
            anyhow::bail!("expected an id and a secret, saw {hook}");
        };
        receiver.set_secret(&p.id, secret);
        made.push((p.clone(), id.to_owned()));
    }
    let names: Vec<&str> = partners.keys().map(String::as_str).collect();
    Ok((made, format!("{} endpoints on {} ({}), each with its own signing secret", names.len(), receiver.url, names.join(", "))))
}

/// Removes the demo's endpoints first (so nothing more is sent to a receiver that is going
/// away), then disconnects its connections. Best effort: a failure is printed, not fatal.
async fn clean_up(hooks: &[(Partner, String)], connections: &[(Partner, String)]) {
    let mut problems = vec![];
    for (p, id) in hooks {
        if let Err(e) = p.ok(Method::DELETE, &format!("/v1/webhooks/{id}"), None).await {
            problems.push(format!("{e:#}"));
        }
    }
    for (p, id) in connections {
        if let Err(e) = p.ok(Method::DELETE, &format!("/v1/connections/{id}"), None).await {
            problems.push(format!("{e:#}"));
        }
    }
    if problems.is_empty() {
        println!("\nCleaned up: webhook endpoints removed ({}), connections disconnected ({}); --keep keeps them.", hooks.len(), connections.len());
    } else {
        println!("\nClean-up left something behind: {}", problems.join("; "));
    }
}
