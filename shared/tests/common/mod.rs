//! The real router (`shared::api::router`) over the embedded store and the in-process Lever
//! sandbox, called in-process; every response is checked against `docs/openapi.yaml`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt as _;
use lever_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::contract::{Observed, contract};
use shared::core::catalog::ProfileCatalog;
use shared::flows::delivery::DeliveryPolicy;
use shared::flows::tokens::TokenPolicy;
use shared::hub::{Hub, HubOptions, HubPorts};
use shared::lever::http::LeverConfig;
use shared::lever::rate::RateLimit;
use shared::lever::rate_budget::RateBudgetPolicy;
use shared::lever::secret::ClientSecret;
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, names};
use shared::store::embedded::EmbeddedStore;
use tower::ServiceExt as _;

/// Where Lever is told to send the browser; never contacted: callbacks are routed in-process.
pub const PUBLIC_URL: &str = "http://127.0.0.1:9";

pub struct LocalHub {
    pub sandbox: Sandbox,
    pub hub: Hub,
    pub router: axum::Router,
    pub clock: Arc<ManualClock>,
    /// Follows no redirects (the sandbox's consent answers with one).
    pub http: reqwest::Client,
    /// The local file store's directory, removed with the hub.
    _files: tempfile::TempDir,
}

/// An answer of the router.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Request {
    pub method: String,
    /// Path and query, already encoded as it goes on the wire.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, uri: impl Into<String>) -> Self {
        Self { method: method.into(), uri: uri.into(), headers: vec![], body: vec![] }
    }

    pub fn key(self, key: &str) -> Self {
        self.header("authorization", &format!("Bearer {key}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }

    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// What a test may change about the hub [`LocalHub::start_tuned`] builds.
#[derive(Default)]
pub struct Tuning {
    pub lever_timeout: Option<std::time::Duration>,
    pub lever_rate_limit: Option<shared::lever::rate::RateLimit>,
    pub candidates: shared::flows::candidates::CandidatePolicy,
    /// The partner profiles; the bundled ones when `None`.
    pub catalog: Option<ProfileCatalog>,
    /// Keep the store and files on disk here, as `hub-local` does under its `--data-dir`
    /// (`table.log`, `files/`); in memory and a temporary directory when `None`.
    pub data_dir: Option<std::path::PathBuf>,
    /// How long the outbox keeps events; the default policy's when `None`.
    pub event_retention: Option<std::time::Duration>,
    /// Lever's sandbox environment, when not the same sandbox as production.
    pub lever_sandbox: Option<LeverConfig>,
    /// The store; an in-memory embedded one when `None`.
    pub store: Option<Arc<dyn shared::store::Store>>,
}

impl LocalHub {
    pub async fn start() -> LocalHub {
        Self::start_with(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }).await
    }

    pub async fn start_with(config: SandboxConfig) -> LocalHub {
        Self::start_tuned(config, Tuning::default()).await
    }

    /// With the hub's Lever client and candidate ingest tuned (timeouts, limits, retry delays).
    pub async fn start_tuned(config: SandboxConfig, tuning: Tuning) -> LocalHub {
        let (client_id, client_secret) = (config.client_id.clone(), config.client_secret.clone());
        let sandbox = Sandbox::start(config).await.expect("the Lever sandbox starts");
        let secrets = LocalSecrets::from_values([
            (names::TOKEN_KEY.to_owned(), random_key()),
            (names::STATE_KEY.to_owned(), random_key()),
            (names::LEVER_OAUTH.to_owned(), json!({"client_id": client_id, "client_secret": client_secret}).to_string()),
        ]);
        let mut lever = LeverConfig::local(&sandbox.base_url(), client_id, ClientSecret::new(client_secret)).unwrap();
        // An account in the sandbox's EU data centre: Lever's redirects lead there.
        if let Some(eu) = sandbox.eu_base_url() {
            lever.trust(&eu).unwrap();
        }
        if let Some(timeout) = tuning.lever_timeout {
            lever.timeout = timeout;
        }
        let files_dir = tempfile::tempdir().expect("a temporary directory for files");
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let clock = Arc::new(ManualClock::at_ms(now));
        let files = tuning.data_dir.as_ref().map_or_else(|| files_dir.path().to_owned(), |dir| dir.join("files"));
        let store: Arc<dyn shared::store::Store> = match (&tuning.store, &tuning.data_dir) {
            (Some(store), _) => store.clone(),
            (None, Some(dir)) => Arc::new(EmbeddedStore::open(dir.join("table.log")).expect("the store opens")),
            (None, None) => Arc::new(EmbeddedStore::in_memory()),
        };
        let ports = HubPorts {
            store,
            clock: clock.clone(),
            secrets: Arc::new(secrets),
            lever,
            lever_sandbox: tuning.lever_sandbox.clone(),
            queues: Default::default(),
            files: shared::hub::FilesSource::Dir(files),
        };
        // These tests are about the API, not Lever's rate limit (the sandbox's is off too).
        let unlimited = RateLimit { per_second: 100_000, burst: 100_000 };
        let options = HubOptions {
            public_url: url::Url::parse(PUBLIC_URL).unwrap(),
            tokens: TokenPolicy::default(),
            delivery: DeliveryPolicy {
                allow_http_loopback: true,
                retention: tuning.event_retention.unwrap_or(DeliveryPolicy::default().retention),
                ..DeliveryPolicy::default()
            },
            jobs: Default::default(),
            rate_budget: RateBudgetPolicy { limit: tuning.lever_rate_limit.unwrap_or(unlimited), ..RateBudgetPolicy::default() },
            candidates: tuning.candidates,
        };
        let catalog = tuning.catalog.unwrap_or_else(|| ProfileCatalog::bundled().unwrap());
        let hub = Hub::build(ports, Arc::new(catalog), options).await.expect("hub builds");
        let router = shared::api::router(hub.api(), hub.candidate_api());
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        LocalHub { sandbox, hub, router, clock, http, _files: files_dir }
    }

    /// Registers the partner of `profile` (return URLs under `https://partner.example/<profile>`)
    /// and returns an API key.
    pub async fn partner(&self, profile: &str) -> String {
        self.hub.partners.register(profile, vec![format!("https://partner.example/{profile}")]).await.unwrap();
        self.hub.partners.issue_key(profile, Some("test".into())).await.unwrap().secret.expose().to_owned()
    }

    /// Sends a request to the router; a panic in a handler is reported as `Err`.
    pub async fn try_send(&self, req: Request) -> Result<Answer, String> {
        let mut builder = axum::http::Request::builder().method(req.method.as_str()).uri(req.uri.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Body::from(req.body)).map_err(|e| format!("not a request: {e}"))?;
        let router = self.router.clone();
        let handled = tokio::spawn(async move {
            let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Answer { status: parts.status.as_u16(), headers: parts.headers, body }
        })
        .await;
        handled.map_err(|e| if e.is_panic() { "the handler panicked".to_owned() } else { e.to_string() })
    }

    /// Sends a request to everything the hub serves (`Hub::router`: the local file store's upload
    /// URLs too), unchecked against the document (those routes are not the partner API's).
    pub async fn send_to_hub(&self, req: Request) -> Answer {
        let mut builder = axum::http::Request::builder().method(req.method.as_str()).uri(req.uri.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = self.hub.router().oneshot(builder.body(Body::from(req.body)).unwrap()).await.unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Answer { status: parts.status.as_u16(), headers: parts.headers, body }
    }

    /// Sends a request that must be answered as the OpenAPI document says.
    pub async fn send(&self, req: Request) -> Answer {
        let (method, uri) = (req.method.clone(), req.uri.clone());
        let answer = self.try_send(req).await.unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
        if let Err(violation) = check(&method, &uri, &answer) {
            panic!("{violation}");
        }
        answer
    }

    /// Creates a connection and completes the sandbox's consent; returns its id.
    pub async fn connect(&self, key: &str, profile: &str) -> String {
        let created = self
            .send(Request::new("POST", "/v1/connections").key(key).json(&json!({"return_url": format!("https://partner.example/{profile}/done")})))
            .await;
        assert_eq!(created.status, 201, "{:?}", created.json());
        let body = created.json();
        let back = self.consent(body["authorize_url"].as_str().unwrap()).await;
        assert_eq!(back.status, 302, "{:?}", back.body);
        body["id"].as_str().unwrap().to_owned()
    }

    /// The customer's browser: the hub's connect link (in-process; it sets the binding
    /// cookie), Lever's consent (over HTTP to the sandbox), the hub's callback (in-process, with
    /// the cookie).
    pub async fn consent(&self, authorize_url: &str) -> Answer {
        let (callback, cookie) = self.to_callback(authorize_url).await;
        self.send(Request::new("GET", callback).header("cookie", &cookie)).await
    }

    /// Up to Lever's redirect back: the callback path and the browser's binding cookie.
    pub async fn to_callback(&self, authorize_url: &str) -> (String, String) {
        let link = authorize_url.strip_prefix(PUBLIC_URL).expect("partners get the hub's connect link").to_owned();
        let page = self.send(Request::new("GET", link.clone()).header("accept", "text/html")).await;
        assert_eq!(page.status, 200, "the connect link shows the connect page: {:?}", page.body);
        let opened = self
            .send(Request::new("POST", link).header("content-type", "application/x-www-form-urlencoded").raw("lever_environment=production"))
            .await;
        assert_eq!(opened.status, 303, "Continue redirects to Lever: {:?}", opened.body);
        let cookie = opened.header("set-cookie").expect("the binding cookie").split(';').next().unwrap().to_owned();
        let lever = opened.header("location").unwrap().to_owned();
        let to_callback = self.http.get(lever).send().await.unwrap();
        assert_eq!(to_callback.status(), 302, "the sandbox consents and redirects");
        let location = to_callback.headers()["location"].to_str().unwrap().to_owned();
        (location.strip_prefix(PUBLIC_URL).expect("back to the hub's callback").to_owned(), cookie)
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The response against the document.
pub fn check(method: &str, uri: &str, a: &Answer) -> Result<(), String> {
    let headers: Vec<(&str, Option<&str>)> = ["www-authenticate", "retry-after"].iter().map(|h| (*h, a.header(h))).collect();
    contract().check(&Observed { method, path: uri, status: a.status, content_type: a.header("content-type"), headers: &headers, body: &a.body })
}
