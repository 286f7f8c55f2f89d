//! Lever sandbox: a local, faithful stand-in for Lever's OAuth server, Data API
//! and webhooks, for the integration hub's tests and local runs.
//!
//! Start it in-process with [`Sandbox::start`] and script it through [`Admin`],
//! or run the binary and script it over HTTP under `/_admin/...`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

mod actions;
pub mod admin;
mod admin_http;
pub mod client;
mod consent;
mod data;
mod error;
mod eu;
pub mod faults;
mod gate;
pub mod json;
mod oauth;
pub mod pagination;
mod persist;
pub mod ratelimit;
mod respond;
mod scopes;
pub mod seed;
mod seed_extras;
mod server;
pub mod state;
pub mod webhooks;

pub use admin::{Admin, ApplicantSpec, InterviewSpec, OfferSpec};
pub use faults::{FaultKind, FaultRule};
pub use ratelimit::RateLimit;
pub use state::ConsentMode;
pub use webhooks::sign as sign_webhook;

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub postings: usize,
    pub opportunities: usize,
    pub seed: u64,
    /// The moment seeded activity is spread back from (milliseconds since the
    /// epoch); `None` = the wall clock at start. Same seed and `now`, same data.
    pub now: Option<i64>,
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
    /// Per-credential token bucket; `None` disables rate limiting.
    pub rate_limit: Option<RateLimit>,
    /// Registered redirect URIs. Empty = accept any `http://127.0.0.1…`/`http://localhost…` URI.
    pub redirect_uris: Vec<String>,
    /// `audience` values accepted by `/authorize` (Lever production and sandbox by default).
    pub audiences: Vec<String>,
    /// Job-site name used in posting URLs (`https://jobs.lever.co/<site>/<id>`).
    pub site: String,
    /// Account id put into grants made by `/authorize` (overridable per consent via Admin).
    pub account_id: String,
    /// Account name shown on the consent page.
    pub account_name: String,
    /// The OAuth app's name shown on the consent page.
    pub app_name: String,
    /// What `/authorize` does with a valid request (in-process default: approve at once).
    pub consent: ConsentMode,
    /// `/authorize` refuses requests without a PKCE `code_challenge` (S256).
    pub require_pkce: bool,
    /// Customer API keys accepted as HTTP Basic user names (more via `Admin::create_api_key`).
    pub api_keys: Vec<String>,
    /// First retry gap for failed webhook deliveries; later gaps double.
    pub webhook_retry_base: Duration,
    /// Retries after the first failed attempt (Lever: five).
    pub webhook_retries: u32,
    pub webhook_timeout: Duration,
    /// Start with every webhook group switched on. Lever's rule is off until a
    /// Super Admin enables the group, so the default is `false`.
    pub webhooks_enabled_by_default: bool,
    /// How long an uploaded file reports `status: "processing"` before `processed`.
    pub file_processing: Duration,
    /// Address for [`Sandbox::start`]; `None` = `127.0.0.1:0` (a free port).
    pub addr: Option<String>,
    /// Keep the whole account (grants, tokens, codes, webhooks, API keys, every
    /// write) in this file, so a restart carries on where the last run stopped.
    pub state_file: Option<PathBuf>,
    /// The account lives in Lever's EU data centre: it is served on a second port
    /// ([`Sandbox::eu_base_url`]), and the start address answers its Data API and
    /// token calls with a 301 there, as Lever's global hosts do.
    pub eu: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            postings: 25,
            opportunities: 40,
            seed: 7,
            now: None,
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
            account_name: "Sandbox Co".into(),
            app_name: "Sandbox Integration".into(),
            consent: ConsentMode::Approve,
            require_pkce: false,
            api_keys: vec![],
            webhook_retry_base: Duration::from_secs(5),
            webhook_retries: 5,
            webhook_timeout: Duration::from_secs(10),
            webhooks_enabled_by_default: false,
            file_processing: Duration::from_secs(1),
            addr: None,
            state_file: None,
            eu: false,
        }
    }
}

/// State shared by the server, the webhook deliverer and `Admin`.
pub struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) state: Mutex<state::State>,
    pub(crate) base_url: String,
    /// The EU data centre's origin, when the account lives there.
    pub(crate) eu_base_url: Option<String>,
    /// Key for the access-token "JWT" signatures (kept in the state file).
    pub(crate) jwt_key: Vec<u8>,
    pub(crate) seed_ids: seed::SeedIds,
    /// Runtime the sandbox was started on: webhook deliveries are spawned here,
    /// so `Admin` calls that fire events also work from non-async code.
    pub(crate) runtime: tokio::runtime::Handle,
    /// Serialises state-file writes so a later snapshot never loses to an earlier one.
    pub(crate) persist_lock: Mutex<()>,
}

pub(crate) type Shared = Arc<Inner>;

impl Inner {
    /// Poisoning only happens if a handler panicked mid-update; the data is
    /// still the best we have, so keep serving it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the state file (when configured). Called after every change.
    pub(crate) fn persist(&self) {
        if let Some(path) = &self.config.state_file
            && let Err(e) = persist::save(self, path)
        {
            eprintln!("lever sandbox: could not write state file {}: {e}", path.display());
        }
    }
}

/// A running sandbox. Dropping it stops the server (and writes the state file).
pub struct Sandbox {
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
    /// The EU data centre's listener, when the account lives there.
    eu_server: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Seeds the account (or loads `state_file`) and serves it on `config.addr`
    /// (default `127.0.0.1:0`, a free port).
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let addr = config.addr.clone().unwrap_or_else(|| "127.0.0.1:0".into());
        Self::start_on(config, &addr).await
    }

    /// Like [`Sandbox::start`] but on a chosen address (overrides `config.addr`).
    pub async fn start_on(config: SandboxConfig, addr: &str) -> anyhow::Result<Sandbox> {
        let listener = bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        // The EU data centre listens on the same interface, on a port of its own.
        let eu_listener = match config.eu {
            true => Some(bind(&format!("{}:0", local.ip())).await?),
            false => None,
        };
        let eu_base_url = match &eu_listener {
            Some(l) => Some(format!("http://{}", l.local_addr()?)),
            None => None,
        };
        let loaded = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let (st, seed_ids, jwt_key) = match loaded {
            Some(saved) => (saved.state, saved.seed_ids, saved.jwt_key),
            None => {
                let (mut st, ids) = seed::build(&config);
                if config.webhooks_enabled_by_default {
                    for e in webhooks::EVENTS {
                        st.webhook_groups.insert(e.to_string(), true);
                    }
                }
                (st, ids, webhooks::random_hex(64).into_bytes())
            }
        };
        let mut st = st;
        // Keys given on the command line work whether or not the state file knew them.
        for k in &config.api_keys {
            st.api_keys.entry(k.clone()).or_insert_with(|| state::ApiKey {
                key: k.clone(),
                label: Some("--api-key".into()),
                created_at: state::now_ms(),
            });
        }
        let shared = Arc::new(Inner {
            config,
            state: Mutex::new(st),
            base_url,
            eu_base_url,
            jwt_key,
            seed_ids,
            runtime: tokio::runtime::Handle::current(),
            persist_lock: Mutex::new(()),
        });
        shared.persist();
        let server = tokio::spawn(server::serve(listener, server::global_router(shared.clone())));
        let eu_server = eu_listener.map(|l| tokio::spawn(server::serve(l, server::router(shared.clone()))));
        Ok(Sandbox { shared, server, eu_server })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `http://127.0.0.1:PORT` of the EU data centre, when the account lives there
    /// (`SandboxConfig::eu`): where the start address redirects the account's calls.
    pub fn eu_base_url(&self) -> Option<String> {
        self.shared.eu_base_url.clone()
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

    /// Stops the server and waits until its port is free again, so a new
    /// sandbox can start on the same address straight away.
    pub async fn stop(mut self) {
        self.shared.persist();
        let handle = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        handle.abort();
        let _ = handle.await;
        if let Some(eu) = self.eu_server.take() {
            eu.abort();
            let _ = eu.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(eu) = &self.eu_server {
            eu.abort();
        }
        self.shared.persist();
    }
}

/// Binds `addr`; a fixed port that is still held by a sandbox being dropped
/// (its task ends asynchronously) is retried for a few seconds.
async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(anyhow::anyhow!("cannot listen on {addr}: {e}")),
        }
    }
}
