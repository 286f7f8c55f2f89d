//! Lever sandbox: a local, faithful stand-in for Lever's OAuth server, Data API
//! and webhooks, for the integration hub's tests and local runs.
//!
//! Start it in-process with [`Sandbox::start`] and script it through [`Admin`],
//! or run the binary and script it over HTTP under `/_admin/...`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

mod actions;
pub mod admin;
mod admin_http;
pub mod client;
mod data;
mod error;
pub mod faults;
mod gate;
pub mod json;
mod oauth;
pub mod pagination;
pub mod ratelimit;
mod respond;
pub mod seed;
mod scopes;
mod server;
pub mod state;
pub mod webhooks;

pub use admin::Admin;
pub use faults::{FaultKind, FaultRule};
pub use ratelimit::RateLimit;
pub use state::ConsentMode;
pub use webhooks::sign as sign_webhook;

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub postings: usize,
    pub opportunities: usize,
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of access tokens (Lever: 1 hour).
    pub access_token_ttl: Duration,
    /// Refresh tokens die after this long unused (Lever: 90 days)...
    pub refresh_token_idle_ttl: Duration,
    /// ...or this long after the grant, whichever comes first (Lever: one year).
    pub refresh_token_max_ttl: Duration,
    /// Lifetime of authorization codes (single-use regardless).
    pub code_ttl: Duration,
    /// Refresh tokens are single-use: reusing one answers 403 `invalid_grant`.
    pub strict_refresh: bool,
    /// Answer 403 when the token lacks the route's scope (write scopes cover reads).
    pub enforce_scopes: bool,
    /// Per-access-token token bucket; `None` disables rate limiting.
    pub rate_limit: Option<RateLimit>,
    /// Registered redirect URIs. Empty = accept any `http://127.0.0.1…`/`http://localhost…` URI.
    pub redirect_uris: Vec<String>,
    /// `audience` values accepted by `/authorize` (Lever production and sandbox by default).
    pub audiences: Vec<String>,
    /// Job-site name used in posting URLs (`https://jobs.lever.co/<site>/<id>`).
    pub site: String,
    /// Account id put into grants made by `/authorize` (overridable per consent via Admin).
    pub account_id: String,
    /// First retry gap for failed webhook deliveries; later gaps double.
    pub webhook_retry_base: Duration,
    /// Retries after the first failed attempt (Lever: five).
    pub webhook_retries: u32,
    pub webhook_timeout: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            postings: 25,
            opportunities: 40,
            seed: 7,
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            access_token_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(300),
            refresh_token_idle_ttl: Duration::from_secs(90 * 86_400),
            refresh_token_max_ttl: Duration::from_secs(365 * 86_400),
            strict_refresh: false,
            enforce_scopes: true,
            rate_limit: Some(RateLimit::default()),
            redirect_uris: vec![],
            audiences: vec!["https://api.lever.co/v1/".into(), "https://api.sandbox.lever.co/v1/".into()],
            site: "sandbox".into(),
            account_id: "sandbox-account".into(),
            webhook_retry_base: Duration::from_secs(5),
            webhook_retries: 5,
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

/// State shared by the server, the webhook deliverer and `Admin`.
pub struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) state: Mutex<state::State>,
    pub(crate) base_url: String,
    /// Key for the access-token "JWT" signatures (random per process).
    pub(crate) jwt_key: Vec<u8>,
    pub(crate) seed_ids: seed::SeedIds,
    /// Runtime the sandbox was started on: webhook deliveries are spawned here,
    /// so `Admin` calls that fire events also work from non-async code.
    pub(crate) runtime: tokio::runtime::Handle,
}

pub(crate) type Shared = Arc<Inner>;

impl Inner {
    /// Poisoning only happens if a handler panicked mid-update; the data is
    /// still the best we have, so keep serving it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Seeds the account and serves it on `127.0.0.1:0`.
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        Self::start_on(config, "127.0.0.1:0").await
    }

    /// Like [`Sandbox::start`] but on a chosen address (the binary uses this).
    pub async fn start_on(config: SandboxConfig, addr: &str) -> anyhow::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let (st, seed_ids) = seed::build(&config);
        let shared = Arc::new(Inner {
            config,
            state: Mutex::new(st),
            base_url,
            jwt_key: webhooks::random_hex(64).into_bytes(),
            seed_ids,
            runtime: tokio::runtime::Handle::current(),
        });
        let server = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Sandbox { shared, server })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The configuration the sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    pub fn admin(&self) -> Admin {
        Admin::new(self.shared.clone())
    }

    /// Resolves when the server task ends (it only ends on error or abort).
    pub async fn wait(mut self) {
        let handle = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        let _ = handle.await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}
