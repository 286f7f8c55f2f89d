//! The harness for end-to-end tests: the whole hub served over real HTTP on loopback, against
//! the Lever sandbox, Amazon DynamoDB Local and SQS on moto, with a partner's webhook receiver
//! and a capture of every log line the hub writes (to prove no secret is ever logged).

pub mod browser;
pub mod candidates;
pub mod logs;
pub mod receiver;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lever_sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::core::catalog::ProfileCatalog;
use shared::files::S3FileStore;
use shared::flows::candidates::CandidatePolicy;
use shared::flows::delivery::DeliveryPolicy;
use shared::flows::lever_events::InboundLeverEvent;
use shared::flows::tokens::TokenPolicy;
use shared::hub::{FilesSource, Hub, HubOptions, HubPorts, QueueName};
use shared::lever::http::LeverConfig;
use shared::lever::secret::ClientSecret;
use shared::queue::sqs::SqsQueue;
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, TokenCipher, names};
use shared::store::dynamo::DynamoStore;
use shared::testing;

pub use receiver::Receiver;

/// What a test may change about the hub it starts.
pub struct TestOptions {
    /// Lever requests that take longer are timeouts (outcome unknown for a create).
    pub lever_timeout: Duration,
    /// The hub's own Lever rate limit per connection.
    pub lever_rate_limit: shared::lever::rate::RateLimit,
    pub candidates: CandidatePolicy,
    /// Candidate writer workers (each one receive loop, as concurrent Lambda invocations); 0 for
    /// a test that drives the queue itself.
    pub candidate_workers: usize,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            lever_timeout: Duration::from_secs(30),
            lever_rate_limit: shared::lever::rate::RateLimit::LEVER,
            candidates: CandidatePolicy { retry_min: Duration::from_millis(200), retry_max: Duration::from_secs(2), ..CandidatePolicy::default() },
            candidate_workers: 2,
        }
    }
}

pub struct TestHub {
    pub sandbox: Sandbox,
    pub hub: Hub,
    /// The hub's base URL, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
    pub clock: Arc<ManualClock>,
    /// Follows no redirects, so each hop of the OAuth dance is visible.
    pub http: reqwest::Client,
    pub receiver: Receiver,
    pub store: Arc<DynamoStore>,
    /// The hub's file store: a bucket on moto's S3.
    pub files: Arc<S3FileStore>,
    pub cipher: TokenCipher,
    /// Every Lever event the router was handed (after the receiver verified it).
    pub routed: Arc<Mutex<Vec<InboundLeverEvent>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for TestHub {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A registered partner and its API key.
pub struct TestPartner {
    pub id: String,
    pub key: String,
    pub return_url: String,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl TestHub {
    /// Everything up and wired; the sandbox as configured.
    pub async fn start(sandbox: SandboxConfig) -> TestHub {
        Self::start_with(sandbox, TestOptions::default()).await
    }

    pub async fn start_with(sandbox: SandboxConfig, test: TestOptions) -> TestHub {
        logs::capture();
        let store = testing::dynamo_store().await.expect("DynamoDB Local (run the tests with scripts/test)");
        let moto = testing::moto_endpoint().await.expect("moto server (run the tests with scripts/test)");
        let aws = shared::aws::sdk_config(Some(&moto)).await;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        // Every queue of the hub is a real SQS queue on moto, as in AWS.
        let mut queues: HashMap<QueueName, Arc<dyn shared::queue::Queue>> = HashMap::new();
        let run = uuid::Uuid::new_v4().simple().to_string();
        for name in QueueName::ALL {
            let queue = SqsQueue::create(sqs.clone(), &format!("{}-{run}", name.as_str()), Duration::from_secs(5)).await.expect("SQS queue on moto");
            queues.insert(name, Arc::new(queue));
        }
        let files = Arc::new(S3FileStore::new(&aws, format!("hub-files-{run}")));
        files.ensure_bucket().await.expect("S3 bucket on moto");

        let client_secret = sandbox.client_secret.clone();
        logs::forbid(&client_secret);
        let client_id = sandbox.client_id.clone();
        let sandbox = Sandbox::start(sandbox).await.expect("Lever sandbox starts");
        let token_key = random_key();
        let secrets = LocalSecrets::from_values([
            (names::TOKEN_KEY.to_owned(), token_key.clone()),
            (names::STATE_KEY.to_owned(), random_key()),
            (names::LEVER_OAUTH.to_owned(), json!({"client_id": client_id, "client_secret": client_secret}).to_string()),
        ]);
        let cipher = TokenCipher::from_secret(&shared::secrets::SecretString::new(token_key)).unwrap();
        let mut lever = LeverConfig::local(&sandbox.base_url(), client_id, ClientSecret::new(client_secret)).unwrap();
        // An account in the sandbox's EU data centre: Lever's redirects lead there.
        if let Some(eu) = sandbox.eu_base_url() {
            lever.trust(&eu).unwrap();
        }
        lever.timeout = test.lever_timeout;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let clock = Arc::new(ManualClock::at_ms(now_ms()));
        let ports = HubPorts {
            store: store.clone(),
            clock: clock.clone(),
            secrets: Arc::new(secrets),
            lever,
            lever_sandbox: None,
            queues,
            files: FilesSource::Ready(files.clone()),
        };
        let options = HubOptions {
            public_url: url::Url::parse(&base).unwrap(),
            tokens: TokenPolicy::default(),
            delivery: DeliveryPolicy {
                first_retry_delay: Duration::from_millis(200),
                max_retry_delay: Duration::from_secs(1),
                allow_http_loopback: true,
                ..DeliveryPolicy::default()
            },
            jobs: Default::default(),
            rate_budget: shared::lever::rate_budget::RateBudgetPolicy { limit: test.lever_rate_limit, ..Default::default() },
            candidates: test.candidates,
        };
        let hub = Hub::build(ports, Arc::new(ProfileCatalog::bundled().unwrap()), options).await.expect("hub builds");

        let mut tasks = vec![];
        let router = hub.router();
        tasks.push(tokio::spawn(async move {
            axum::serve(shared::api::listener::ProblemListener(listener), router).await.unwrap();
        }));
        // The delivery worker: what the SQS-triggered Lambda does in AWS.
        let delivery = hub.delivery.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = delivery.work_once(10, Duration::from_millis(100)).await {
                    tracing::warn!(error = %e, "delivery pump");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
        // The Lever-events worker: what the SQS-triggered router Lambda does in AWS. Every event
        // it routes is also kept, so tests can see what the receiver let through.
        let routed: Arc<Mutex<Vec<InboundLeverEvent>>> = Arc::default();
        let (events, lever_events, seen) = (hub.wiring.queue(QueueName::LeverEvents).unwrap(), hub.lever_events.clone(), routed.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let handled = shared::queue::work_once(events.as_ref(), 10, Duration::from_millis(100), |body| {
                    let (router, seen) = (lever_events.clone(), seen.clone());
                    async move {
                        let outcome = router.handle(&body).await;
                        if let Ok(event) = serde_json::from_str::<InboundLeverEvent>(&body) {
                            seen.lock().unwrap().push(event);
                        }
                        outcome.ack()
                    }
                })
                .await;
                if let Err(e) = handled {
                    tracing::warn!(error = %e, "lever-events pump");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
        // The candidate writer: what the SQS-triggered Lambda does in AWS (several at once).
        for _ in 0..test.candidate_workers {
            let candidates = hub.candidates.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    if let Err(e) = candidates.work_once(10, Duration::from_millis(100)).await {
                        tracing::warn!(error = %e, "candidates pump");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }));
        }
        // The hires worker: what the SQS-triggered hires-import Lambda does in AWS.
        let hires = hub.wiring.hires_worker().expect("the hires worker wires");
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = hires.work_once(10, Duration::from_millis(100)).await {
                    tracing::warn!(error = %e, "hires pump");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
        let receiver = Receiver::start().await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        TestHub { sandbox, hub, base, clock, http, receiver, store, files, cipher, routed, tasks }
    }

    /// Registers the partner of `profile` with a return URL and an API key, and subscribes its
    /// webhook receiver through the partner API.
    pub async fn partner(&self, profile: &str) -> TestPartner {
        let return_url = format!("{}/partner/{profile}/done", self.receiver.url);
        self.hub.partners.register(profile, vec![format!("{}/partner/{profile}", self.receiver.url)]).await.unwrap();
        let key = self.hub.partners.issue_key(profile, Some("e2e".into())).await.unwrap();
        logs::forbid(key.secret.expose());
        let partner = TestPartner { id: profile.into(), key: key.secret.expose().to_owned(), return_url };
        let (status, hook) = self.call(&partner, reqwest::Method::POST, "/v1/webhooks", Some(json!({"url": self.receiver.hook_url(profile)}))).await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        let secret = hook["secret"].as_str().unwrap().to_owned();
        logs::forbid(&secret);
        self.receiver.set_secret(profile, &secret);
        partner
    }

    /// A partner API call; returns status and JSON body (`null` when empty).
    pub async fn call(&self, p: &TestPartner, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&p.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let bytes = res.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Walks the customer's browser through the connect link, Lever's consent and the hub's
    /// callback; returns where the hub finally sends the browser (the partner's page).
    pub async fn consent(&self, authorize_url: &str) -> url::Url {
        self.consent_in(&testing::ConsentBrowser::new(), authorize_url).await
    }

    /// [`Self::consent`] in a given browser (its cookies decide whether the callback is accepted).
    pub async fn consent_in(&self, browser: &testing::ConsentBrowser, authorize_url: &str) -> url::Url {
        assert!(authorize_url.starts_with(&format!("{}/connect/", self.base)), "partners get the hub's connect link: {authorize_url}");
        let hops = self.consent_hops(browser, authorize_url).await;
        let after_callback = hops.iter().position(|h| h.url.as_str().starts_with(&format!("{}/oauth/callback", self.base)));
        let i = after_callback.unwrap_or_else(|| panic!("the consent came back to the hub's callback: {hops:?}"));
        assert_eq!(hops[i].status, 302, "the hub redirects to the partner: {hops:?}");
        hops.get(i + 1).map(|h| h.url.clone()).expect("a hop after the callback")
    }

    /// Every hop of the walk from the connect link (connect → Lever → callback → partner).
    pub async fn consent_hops(&self, browser: &testing::ConsentBrowser, authorize_url: &str) -> Vec<testing::Hop> {
        browser.continue_link(authorize_url, "production", 6).await.unwrap().0
    }

    /// Connects a new connection end to end; returns its id.
    pub async fn connect(&self, p: &TestPartner) -> String {
        let (status, created) = self.call(p, reqwest::Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let back = self.consent(created["authorize_url"].as_str().unwrap()).await;
        let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
        assert_eq!(q.get("connection_id"), Some(&id));
        assert_eq!(q.get("status").map(String::as_str), Some("active"), "{back}");
        self.forbid_tokens_of(&id).await;
        id
    }

    /// Adds the connection's current Lever tokens to the strings no log may contain.
    pub async fn forbid_tokens_of(&self, connection_id: &str) {
        use shared::core::connection::{Connection, TokenKind, token_context};
        use shared::store::Records;
        let records = Records::new(self.store.clone(), self.clock.clone());
        let c = records.get::<Connection>(&shared::store::keys::connection(connection_id)).await.unwrap().unwrap().record;
        if let Some(t) = c.tokens {
            for (sealed, kind) in [(&t.access_token, TokenKind::Access), (&t.refresh_token, TokenKind::Refresh)] {
                logs::forbid(self.cipher.open(sealed, &token_context(connection_id, kind)).unwrap().expose());
            }
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Lever events routed so far for `connection_id` and Lever `event`.
    pub fn routed(&self, connection_id: &str, event: &str) -> Vec<InboundLeverEvent> {
        self.routed.lock().unwrap().iter().filter(|e| e.connection_id == connection_id && e.event == event).cloned().collect()
    }

    /// Waits (up to 10 s) until `n` Lever events of the kind have been routed.
    pub async fn wait_routed(&self, connection_id: &str, event: &str, n: usize) -> Vec<InboundLeverEvent> {
        for _ in 0..200 {
            let got = self.routed(connection_id, event);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} {event} event(s) for {connection_id} never routed; got {:?}", self.routed(connection_id, event));
    }
}

pub fn location(res: &reqwest::Response) -> url::Url {
    let loc = res.headers().get(reqwest::header::LOCATION).expect("a Location header").to_str().unwrap();
    url::Url::parse(loc).unwrap()
}
