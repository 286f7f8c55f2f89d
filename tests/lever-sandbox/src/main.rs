//! Standalone Lever sandbox: `lever-sandbox --addr 127.0.0.1:8089`.

use std::time::Duration;

use clap::Parser;
use lever_sandbox::{RateLimit, Sandbox, SandboxConfig};

#[derive(Parser, Debug)]
#[command(about = "Local stand-in for Lever's OAuth server, Data API and webhooks")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    addr: String,
    #[arg(long, default_value_t = 25)]
    postings: usize,
    #[arg(long, default_value_t = 40)]
    opportunities: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
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
    /// Disable the 10 req/s (burst 20) per-token rate limit.
    #[arg(long)]
    no_rate_limit: bool,
    /// First webhook retry gap in milliseconds (doubles each retry).
    #[arg(long, default_value_t = 5000)]
    webhook_retry_base_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let config = SandboxConfig {
        postings: a.postings,
        opportunities: a.opportunities,
        seed: a.seed,
        client_id: a.client_id,
        client_secret: a.client_secret,
        redirect_uris: a.redirect_uris,
        site: a.site,
        account_id: a.account_id,
        access_token_ttl: Duration::from_secs(a.access_token_ttl),
        strict_refresh: a.strict_refresh,
        enforce_scopes: !a.no_scope_check,
        rate_limit: if a.no_rate_limit { None } else { Some(RateLimit::default()) },
        webhook_retry_base: Duration::from_millis(a.webhook_retry_base_ms),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start_on(config, &a.addr).await?;
    println!("lever sandbox listening on {}", sandbox.base_url());
    tokio::select! {
        _ = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
