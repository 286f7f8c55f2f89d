//! Standalone Lever sandbox: `lever-sandbox --addr 127.0.0.1:8089`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use lever_sandbox::{ConsentMode, RateLimit, Sandbox, SandboxConfig};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Consent {
    /// Approve at once and redirect with a code.
    Auto,
    /// Show the HTML consent page (Accept / Deny).
    Page,
    /// Refuse every authorization (`access_denied`).
    Deny,
}

#[derive(Parser, Debug)]
#[command(about = "Local stand-in for Lever's OAuth server, Data API and webhooks")]
struct Args {
    /// Address to listen on (a fixed port survives restarts; `:0` picks a free one).
    #[arg(long, default_value = "127.0.0.1:8089")]
    addr: String,
    #[arg(long, default_value_t = 25)]
    postings: usize,
    #[arg(long, default_value_t = 40)]
    opportunities: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Epoch milliseconds that seeded activity is spread back from (default: now).
    #[arg(long)]
    now: Option<i64>,
    #[arg(long, default_value = "sandbox-client")]
    client_id: String,
    #[arg(long, default_value = "sandbox-secret")]
    client_secret: String,
    /// Job-site name in posting URLs.
    #[arg(long, default_value = "sandbox")]
    site: String,
    /// Account id put into grants.
    #[arg(long, default_value = "sandbox-account")]
    account_id: String,
    /// Account name on the consent page.
    #[arg(long, default_value = "Sandbox Co")]
    account_name: String,
    /// OAuth app name on the consent page.
    #[arg(long, default_value = "Sandbox Integration")]
    app_name: String,
    /// What /authorize does with a valid request.
    #[arg(long, value_enum, default_value = "page")]
    consent: Consent,
    /// Refuse /authorize requests without a PKCE S256 code_challenge.
    #[arg(long)]
    require_pkce: bool,
    /// A customer API key accepted as HTTP Basic user name (repeatable).
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Registered redirect URI (repeatable). Without any, every http://127.0.0.1 / localhost URI is accepted.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    access_token_ttl: u64,
    /// Make refresh tokens single-use.
    #[arg(long)]
    strict_refresh: bool,
    /// Do not check tokens' scopes (by default a missing scope is a 403).
    #[arg(long)]
    no_scope_check: bool,
    /// Disable the 10 req/s (burst 20) per-credential rate limit.
    #[arg(long)]
    no_rate_limit: bool,
    /// First webhook retry gap in milliseconds (doubles each retry).
    #[arg(long, default_value_t = 5000)]
    webhook_retry_base_ms: u64,
    /// Start with every webhook group switched on (Lever: off until a Super Admin enables it).
    #[arg(long)]
    webhooks_enabled: bool,
    /// How long uploaded files report status "processing", in milliseconds.
    #[arg(long, default_value_t = 1000)]
    file_processing_ms: u64,
    /// Keep the account in this file: a restart with the same file carries on.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// The account lives in Lever's EU data centre: served on a second port, to which the
    /// --addr origin answers the Data API and token calls with a 301.
    #[arg(long)]
    eu: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let config = SandboxConfig {
        postings: a.postings,
        opportunities: a.opportunities,
        seed: a.seed,
        now: a.now,
        client_id: a.client_id,
        client_secret: a.client_secret,
        redirect_uris: a.redirect_uris,
        site: a.site,
        account_id: a.account_id,
        account_name: a.account_name,
        app_name: a.app_name,
        consent: match a.consent {
            Consent::Auto => ConsentMode::Approve,
            Consent::Page => ConsentMode::Page,
            Consent::Deny => ConsentMode::Deny,
        },
        require_pkce: a.require_pkce,
        api_keys: a.api_keys,
        access_token_ttl: Duration::from_secs(a.access_token_ttl),
        strict_refresh: a.strict_refresh,
        enforce_scopes: !a.no_scope_check,
        rate_limit: if a.no_rate_limit { None } else { Some(RateLimit::default()) },
        webhook_retry_base: Duration::from_millis(a.webhook_retry_base_ms),
        webhooks_enabled_by_default: a.webhooks_enabled,
        file_processing: Duration::from_millis(a.file_processing_ms),
        addr: Some(a.addr.clone()),
        state_file: a.state_file,
        eu: a.eu,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await?;
    println!("lever sandbox listening on {}", sandbox.base_url());
    if let Some(eu) = sandbox.eu_base_url() {
        println!("lever sandbox EU data centre on {eu}");
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    // Dropping the sandbox writes the state file one last time.
    sandbox.stop().await;
    Ok(())
}
