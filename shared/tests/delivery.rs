//! Outbound partner webhooks end to end through the flow functions: a real HTTP receiver on
//! loopback that checks signatures the way a partner would, the store (embedded and Amazon
//! DynamoDB Local) and the queue (embedded and SQS on moto), driven by a pump loop.

use shared::testing as support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use shared::clock::{Clock, SystemClock};
use shared::flows::delivery::{
    DeadLetter, Delivery, DeliveryError, DeliveryOutcome, DeliveryPolicy, DeliveryStatus, EventDelivery, NewWebhook, OutboundEvent, PartnerWebhook,
    SkipReason, StoredEvent,
};
use shared::queue::{EmbeddedQueue, Queue, SqsQueue};
use shared::secrets::local::random_key;
use shared::secrets::{SecretString, TokenCipher};
use shared::store::embedded::EmbeddedStore;
use shared::store::{Records, Store, keys};

// ---- the partner's receiver -------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Reply {
    Ok,
    Status(u16),
    TooManyRequests {
        retry_after: &'static str,
    },
    /// 302 to another path of this receiver.
    Redirect(&'static str),
    /// This status with this body (which the hub must not repeat anywhere).
    StatusWithBody(u16, &'static str),
    /// Answers only after this long: past the hub's request timeout.
    Hang(Duration),
}

#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    endpoint: String,
    event_id: String,
    event_type: String,
    attempt: u32,
    content_type: String,
    signature: String,
    signature_valid: bool,
    body: Bytes,
    answered: u16,
}

#[derive(Default)]
struct ReceiverState {
    secret: Mutex<Option<String>>,
    script: Mutex<VecDeque<Reply>>,
    /// After the script runs out; `None` = 200.
    otherwise: Mutex<Option<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

#[derive(Clone)]
struct Receiver {
    base_url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Self {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new().route("/hooks/{endpoint}", axum::routing::post(hook)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base_url, state }
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/hooks/{endpoint}", self.base_url)
    }

    fn knows_secret(&self, secret: &SecretString) {
        *self.state.secret.lock().unwrap() = Some(secret.expose().to_owned());
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    fn otherwise(&self, reply: Reply) {
        *self.state.otherwise.lock().unwrap() = Some(reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// The partner's check, written independently of the hub's code: HMAC-SHA256 over
/// `"<t>.<raw body>"` with the secret, compared in constant time.
fn partner_verifies(secret: &str, header: &str, raw_body: &[u8]) -> bool {
    let mut t = None;
    let mut v1s = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1s.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let Ok(sent_at) = t.parse::<i64>() else { return false };
    if (SystemClock.now().unix_timestamp() - sent_at).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    v1s.iter().any(|v1| mac.clone().verify_slice(v1).is_ok())
}

async fn hook(State(state): State<Arc<ReceiverState>>, Path(endpoint): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let secret = state.secret.lock().unwrap().clone().unwrap_or_default();
    let signature = header("hub-signature");
    let reply = state.script.lock().unwrap().pop_front().or_else(|| state.otherwise.lock().unwrap().clone()).unwrap_or(Reply::Ok);
    let answered = match &reply {
        Reply::Ok | Reply::Hang(_) => 200,
        Reply::Status(code) | Reply::StatusWithBody(code, _) => *code,
        Reply::TooManyRequests { .. } => 429,
        Reply::Redirect(_) => 302,
    };
    state.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        endpoint,
        event_id: header("hub-event-id"),
        event_type: header("hub-event-type"),
        attempt: header("hub-delivery-attempt").parse().unwrap_or(0),
        content_type: header("content-type"),
        signature_valid: partner_verifies(&secret, &signature, &body),
        signature,
        body,
        answered,
    });
    match reply {
        Reply::Ok => (StatusCode::OK, "thanks").into_response(),
        Reply::Status(code) => (StatusCode::from_u16(code).unwrap(), "nope").into_response(),
        Reply::StatusWithBody(code, body) => (StatusCode::from_u16(code).unwrap(), body).into_response(),
        Reply::Redirect(to) => (StatusCode::FOUND, [("location", to)], "moved").into_response(),
        Reply::TooManyRequests { retry_after } => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", retry_after)], "slow down").into_response(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "too late").into_response()
        }
    }
}

// ---- the hub under test -----------------------------------------------------------------------

/// DNS for the tests: fixed answers per name, nothing for other names.
struct TestDns(std::collections::HashMap<&'static str, std::net::IpAddr>);

impl reqwest::dns::Resolve for TestDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = self.0.get(name.as_str()).copied();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let ip = found.ok_or_else(|| format!("test DNS has no answer for {name}"))?;
            Ok(Box::new(std::iter::once(std::net::SocketAddr::new(ip, 0))) as reqwest::dns::Addrs)
        })
    }
}

/// Short timings so retries take milliseconds (the SQS queue rounds delays up to whole seconds).
fn test_policy() -> DeliveryPolicy {
    DeliveryPolicy {
        max_attempts: 4,
        request_timeout: Duration::from_millis(500),
        first_retry_delay: Duration::from_millis(50),
        max_retry_delay: Duration::from_millis(200),
        allow_http_loopback: true,
        ..DeliveryPolicy::default()
    }
}

/// The delivery queue, with a switch that makes every send fail: the process "dies" between
/// the outbox write and the queue.
struct FlakyQueue {
    inner: Arc<dyn Queue>,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Queue for FlakyQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), shared::queue::QueueError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(shared::queue::QueueError::Unavailable("the process stopped before it queued".into()));
        }
        self.inner.send(body, delay).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<shared::queue::Received>, shared::queue::QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn ack(&self, receipt: &str) -> Result<(), shared::queue::QueueError> {
        self.inner.ack(receipt).await
    }
}

struct Hub {
    flow: EventDelivery,
    queue: Arc<FlakyQueue>,
    records: Records,
    store: Arc<dyn Store>,
    /// The DynamoDB Local table, to read items raw.
    dynamo_table: Option<String>,
    dead_letters: Arc<dyn Queue>,
    receiver: Receiver,
    partner: String,
}

#[derive(Clone, Copy)]
enum Backend {
    Embedded,
    /// DynamoDB Local and SQS on moto.
    Aws,
}

async fn hub(backend: Backend, policy: DeliveryPolicy) -> Option<Hub> {
    let mut dynamo_table = None;
    let (store, queue, dead_letters): (Arc<dyn Store>, Arc<dyn Queue>, Arc<dyn Queue>) = match backend {
        Backend::Embedded => (
            Arc::new(EmbeddedStore::in_memory()),
            Arc::new(EmbeddedQueue::with_visibility_timeout(Duration::from_secs(5))),
            Arc::new(EmbeddedQueue::new()),
        ),
        Backend::Aws => {
            let store = support::dynamo_store().await?;
            dynamo_table = Some(store.table().to_owned());
            let endpoint = support::moto_endpoint().await?;
            let sqs = aws_sdk_sqs::Client::new(&shared::aws::sdk_config(Some(&endpoint)).await);
            let name = uuid::Uuid::new_v4();
            let queue = SqsQueue::create(sqs.clone(), &format!("deliveries-{name}"), Duration::from_secs(5)).await.unwrap();
            let dlq = SqsQueue::create(sqs, &format!("dead-{name}"), Duration::from_secs(5)).await.unwrap();
            (store, Arc::new(queue), Arc::new(dlq))
        }
    };
    let records = Records::new(store.clone(), Arc::new(SystemClock));
    let cipher = Arc::new(TokenCipher::from_secret(&SecretString::new(random_key())).unwrap());
    let queue = Arc::new(FlakyQueue { inner: queue, down: Default::default() });
    let flow = EventDelivery::new(records.clone(), queue.clone(), cipher, policy).unwrap().with_dead_letter_queue(dead_letters.clone());
    Some(Hub {
        flow,
        queue,
        records,
        store,
        dynamo_table,
        dead_letters,
        receiver: Receiver::start().await,
        partner: format!("partner-{}", uuid::Uuid::new_v4()),
    })
}

impl Hub {
    async fn register(&self, endpoint: &str, event_types: Option<&[&str]>) -> (String, SecretString) {
        let new = NewWebhook { url: self.receiver.url(endpoint), event_types: event_types.map(|t| t.iter().map(|s| s.to_string()).collect()) };
        let registered = self.flow.register_webhook(&self.partner, new).await.unwrap();
        self.receiver.knows_secret(&registered.secret);
        (registered.webhook.id, registered.secret)
    }

    fn event(&self, event_type: &str) -> OutboundEvent {
        let data = serde_json::json!({"posting_id": "p-1", "title": "Barista ☕", "salary": {"min": 1.50, "max": 3e3}});
        OutboundEvent::new(&self.partner, event_type, SystemClock.now(), data).for_connection("conn-1")
    }

    async fn delivery(&self, event_id: &str, webhook_id: &str) -> Delivery {
        self.records.get::<Delivery>(&keys::delivery(&self.partner, event_id, webhook_id)).await.unwrap().unwrap().record
    }

    /// Runs the worker loop (receive → deliver → ack) until the delivery is in `status`.
    async fn pump_until(&self, event_id: &str, webhook_id: &str, status: DeliveryStatus, within: Duration) -> Delivery {
        let deadline = Instant::now() + within;
        loop {
            let d = self.delivery(event_id, webhook_id).await;
            if d.status == status {
                return d;
            }
            assert!(Instant::now() < deadline, "delivery still {:?} after {within:?}: {d:?}", d.status);
            self.flow.work_once(10, Duration::from_secs(1)).await.unwrap();
        }
    }

    /// Publishes a new event, delivers it to `webhook_id` and returns what the receiver saw.
    async fn publish_and_deliver(&self, webhook_id: &str) -> Seen {
        let event = self.event("job.created");
        self.flow.publish(&event).await.unwrap();
        self.pump_until(&event.id.to_string(), webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        self.receiver.seen().pop().unwrap()
    }

    /// Runs the worker until the queue has had nothing for a second.
    async fn drain(&self) {
        while !self.flow.work_once(10, Duration::from_secs(1)).await.unwrap().is_empty() {}
    }
}

// ---- cases ------------------------------------------------------------------------------------

mod cases {
    use super::*;

    pub async fn delivered_first_time_signed_over_the_raw_body(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, secret) = hub.register("a", None).await;
        let event = hub.event("job.created");
        let published = hub.flow.publish(&event).await.unwrap();
        assert_eq!((published.deliveries, published.duplicate), (1, false));
        let event_id = event.id.to_string();

        let d = hub.pump_until(&event_id, &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!((d.attempts, d.last_status_code, d.last_error.as_deref()), (1, Some(200), None));

        let seen = hub.receiver.seen();
        assert_eq!(seen.len(), 1);
        let s = &seen[0];
        assert_eq!((s.event_id.as_str(), s.event_type.as_str(), s.attempt), (event_id.as_str(), "job.created", 1));
        assert_eq!(s.content_type, "application/json");
        assert!(s.signature_valid, "the partner's own check of {} failed", s.signature);
        // The body on the wire is the one fixed at publish time, byte for byte…
        let stored = hub.records.get::<StoredEvent>(&keys::outbound_event(&hub.partner, &event_id)).await.unwrap().unwrap();
        assert_eq!(s.body.as_ref(), stored.record.body.as_bytes());
        // …and it is the event.
        let on_wire: OutboundEvent = serde_json::from_slice(&s.body).unwrap();
        assert_eq!(on_wire, event);
        // A tampered body, or the same JSON re-serialised with other bytes, does not verify.
        let tampered = String::from_utf8(s.body.to_vec()).unwrap().replace("p-1", "p-2");
        assert!(!partner_verifies(secret.expose(), &s.signature, tampered.as_bytes()));
        let reserialised = serde_json::to_vec_pretty(&on_wire).unwrap();
        assert!(!partner_verifies(secret.expose(), &s.signature, &reserialised));
        assert!(!partner_verifies("whsec_wrong", &s.signature, &s.body));

        let listed = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Delivered, 10, None).await.unwrap();
        assert_eq!(listed.deliveries, vec![d]);
        assert!(hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Pending, 10, None).await.unwrap().deliveries.is_empty());
    }

    pub async fn rate_limited_three_times_then_delivered_on_attempt_four(backend: Backend) {
        let Some(hub) = hub(backend, DeliveryPolicy { max_attempts: 8, ..test_policy() }).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        hub.receiver.script(vec![Reply::TooManyRequests { retry_after: "1" }; 3]);
        let event = hub.event("candidate.stage_changed");
        hub.flow.publish(&event).await.unwrap();

        let d = hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(30)).await;
        assert_eq!(d.attempts, 4);
        let seen = hub.receiver.seen();
        assert_eq!(seen.iter().map(|s| (s.attempt, s.answered)).collect::<Vec<_>>(), [(1, 429), (2, 429), (3, 429), (4, 200)]);
        assert_eq!(seen.iter().filter(|s| s.answered < 300).count(), 1, "exactly one 2xx");
        assert!(seen.iter().all(|s| s.signature_valid && s.event_id == event.id.to_string()));
        // Retry-After: 1 was honoured although the backoff alone would have waited ≤ 200 ms.
        for pair in seen.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(gap >= Duration::from_secs(1), "retried after {gap:?}, before Retry-After");
        }
        hub.drain().await;
        assert_eq!(hub.receiver.seen().len(), 4, "no delivery after the 2xx");
    }

    pub async fn always_failing_goes_dead_then_replay_delivers(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        hub.receiver.otherwise(Reply::Status(500));
        let event = hub.event("hire.created");
        let event_id = event.id.to_string();
        hub.flow.publish(&event).await.unwrap();

        let dead = hub.pump_until(&event_id, &webhook_id, DeliveryStatus::Dead, Duration::from_secs(30)).await;
        assert_eq!((dead.attempts, dead.last_status_code), (4, Some(500)));
        assert!(dead.last_error.as_deref().unwrap().contains("500"), "{:?}", dead.last_error);
        assert_eq!(hub.receiver.seen().iter().map(|s| s.attempt).collect::<Vec<_>>(), [1, 2, 3, 4]);
        hub.drain().await;
        assert_eq!(hub.receiver.seen().len(), 4, "nothing after dead");

        // The dead-letter queue got ids and the error, no body.
        let letters = hub.dead_letters.receive(10, Duration::from_secs(2)).await.unwrap();
        assert_eq!(letters.len(), 1);
        let letter: DeadLetter = serde_json::from_str(&letters[0].body).unwrap();
        assert_eq!((letter.event_id.as_str(), letter.webhook_id.as_str(), letter.attempts), (event_id.as_str(), webhook_id.as_str(), 4));
        assert!(!letters[0].body.contains("Barista"));

        let dead_list = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Dead, 10, None).await.unwrap();
        assert_eq!(dead_list.deliveries, vec![dead.clone()]);

        // The partner fixed its endpoint; the operator replays.
        hub.receiver.otherwise(Reply::Ok);
        let replayed = hub.flow.replay_delivery(&hub.partner, &event_id, &webhook_id).await.unwrap();
        assert_eq!((replayed.status, replayed.attempts, replayed.run), (DeliveryStatus::Pending, 0, 1));
        let d = hub.pump_until(&event_id, &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!(d.attempts, 1);
        let seen = hub.receiver.seen();
        let last = seen.last().unwrap();
        assert_eq!((seen.len(), last.attempt, last.answered, last.event_id.as_str()), (5, 1, 200, event_id.as_str()));
        assert_eq!(last.body, seen[0].body, "a replay sends the same bytes");
        assert!(last.signature_valid);
        assert!(hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Dead, 10, None).await.unwrap().deliveries.is_empty());
    }

    pub async fn duplicate_publish_creates_one_delivery(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        let event = hub.event("job.created");
        let first = hub.flow.publish(&event).await.unwrap();
        let second = hub.flow.publish(&event).await.unwrap();
        assert_eq!((first.deliveries, first.duplicate), (1, false));
        assert_eq!((second.deliveries, second.duplicate), (1, true));
        hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        hub.drain().await;
        // Once delivered, publishing again sends nothing.
        assert!(hub.flow.publish(&event).await.unwrap().duplicate);
        hub.drain().await;
        assert_eq!(hub.receiver.seen().len(), 1);
        let delivered = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Delivered, 10, None).await.unwrap();
        assert_eq!(delivered.deliveries.len(), 1);
    }

    pub async fn hung_endpoint_times_out_and_is_retried(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, _) = hub.register("slow", None).await;
        hub.receiver.script([Reply::Hang(Duration::from_secs(3))]);
        let event = hub.event("job.updated");
        let started = Instant::now();
        hub.flow.publish(&event).await.unwrap();
        let d = hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!(d.attempts, 2);
        let seen = hub.receiver.seen();
        assert_eq!(seen.iter().map(|s| s.attempt).collect::<Vec<_>>(), [1, 2]);
        // The second attempt began long before the hung one would have answered.
        assert!(seen[1].at - seen[0].at < Duration::from_millis(2_900), "{:?}", seen[1].at - seen[0].at);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    pub async fn subscriptions_choose_the_endpoints(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (hires_only, _) = hub.register("hires", Some(&["hire.created"])).await;
        // Both endpoints of the partner share the receiver; the secret it checks is the last one's,
        // so only delivery counts and routing are asserted here.
        let (everything, _) = hub.register("all", None).await;
        let event = hub.event("job.created");
        assert_eq!(hub.flow.publish(&event).await.unwrap().deliveries, 1);
        hub.pump_until(&event.id.to_string(), &everything, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        let hire = hub.event("hire.created");
        assert_eq!(hub.flow.publish(&hire).await.unwrap().deliveries, 2);
        hub.pump_until(&hire.id.to_string(), &hires_only, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        hub.pump_until(&hire.id.to_string(), &everything, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        let mut routed: Vec<(String, String)> = hub.receiver.seen().into_iter().map(|s| (s.endpoint, s.event_type)).collect();
        routed.sort();
        assert_eq!(routed, [("all".into(), "hire.created".into()), ("all".into(), "job.created".into()), ("hires".into(), "hire.created".into())]);
    }

    pub async fn signing_secret_is_stored_sealed_and_rotates(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, secret) = hub.register("a", None).await;
        assert!(secret.expose().starts_with("whsec_"));
        let raw = hub.store.get(&keys::partner_webhook(&hub.partner, &webhook_id)).await.unwrap().unwrap();
        let raw_text = raw.body.to_string();
        assert!(!raw_text.contains(secret.expose()), "secret in the table: {raw_text}");
        assert!(raw.body["secret"].as_str().unwrap().starts_with("v1."), "{raw_text}");
        if let Some(table) = &hub.dynamo_table {
            // Straight from DynamoDB, past the adapter: no secret bytes in the item.
            let key = keys::partner_webhook(&hub.partner, &webhook_id);
            let item = support::dynamodb_client()
                .await
                .unwrap()
                .get_item()
                .table_name(table)
                .key(shared::store::dynamo::schema::PK, aws_sdk_dynamodb::types::AttributeValue::S(key.pk))
                .key(shared::store::dynamo::schema::SK, aws_sdk_dynamodb::types::AttributeValue::S(key.sk))
                .send()
                .await
                .unwrap()
                .item
                .expect("item stored");
            let dump = format!("{item:?}");
            assert!(dump.contains(&webhook_id), "the dump is of the right item");
            assert!(!dump.contains(secret.expose().trim_start_matches("whsec_")), "secret in DynamoDB: {dump}");
        }
        let listed = hub.flow.list_webhooks(&hub.partner).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!serde_json::to_string(&listed).unwrap().contains("v1."), "the listing shows no secret, sealed or not");

        let rotated = hub.flow.rotate_webhook_secret(&hub.partner, &webhook_id).await.unwrap();
        assert_ne!(rotated, secret);
        let raw = hub.store.get(&keys::partner_webhook(&hub.partner, &webhook_id)).await.unwrap().unwrap();
        assert!(!raw.body.to_string().contains(rotated.expose()));
        // Deliveries are signed with the new secret; the old one no longer verifies.
        hub.receiver.knows_secret(&rotated);
        let s = hub.publish_and_deliver(&webhook_id).await;
        assert!(s.signature_valid);
        assert!(!partner_verifies(secret.expose(), &s.signature, &s.body));

        // A rotation with overlap: deliveries verify with the old secret and with the new one.
        let newest = hub.flow.rotate_webhook_secret_keeping_previous(&hub.partner, &webhook_id, Duration::from_secs(3600)).await.unwrap().secret;
        let info = hub.flow.list_webhooks(&hub.partner).await.unwrap().pop().unwrap();
        assert!(info.previous_secrets_until_ms.is_some());
        let s = hub.publish_and_deliver(&webhook_id).await;
        assert_eq!(s.signature.matches("v1=").count(), 2);
        assert!(partner_verifies(newest.expose(), &s.signature, &s.body));
        assert!(partner_verifies(rotated.expose(), &s.signature, &s.body));
        assert!(!partner_verifies(secret.expose(), &s.signature, &s.body));

        // A second rotation inside the overlap: every secret still in its time signs.
        let hour = Duration::from_secs(3600);
        let latest = hub.flow.rotate_webhook_secret_keeping_previous(&hub.partner, &webhook_id, hour).await.unwrap().secret;
        hub.receiver.knows_secret(&latest);
        let s = hub.publish_and_deliver(&webhook_id).await;
        assert_eq!(s.signature.matches("v1=").count(), 3);
        for signing in [&latest, &newest, &rotated] {
            assert!(partner_verifies(signing.expose(), &s.signature, &s.body));
        }
        // At most MAX_SIGNING_SECRETS at once; a rotation with no overlap ends every earlier one.
        hub.flow.rotate_webhook_secret_keeping_previous(&hub.partner, &webhook_id, hour).await.unwrap();
        assert!(matches!(hub.flow.rotate_webhook_secret_keeping_previous(&hub.partner, &webhook_id, hour).await, Err(DeliveryError::Conflict(_))));
        let only = hub.flow.rotate_webhook_secret(&hub.partner, &webhook_id).await.unwrap();
        assert_eq!(hub.flow.list_webhooks(&hub.partner).await.unwrap()[0].previous_secrets_until_ms, None);
        hub.receiver.knows_secret(&only);
        let s = hub.publish_and_deliver(&webhook_id).await;
        assert_eq!(s.signature.matches("v1=").count(), 1);
        assert!(partner_verifies(only.expose(), &s.signature, &s.body));
        assert!(!partner_verifies(latest.expose(), &s.signature, &s.body));
        assert!(matches!(hub.flow.rotate_webhook_secret(&hub.partner, "no-such-webhook").await, Err(DeliveryError::NotFound(_))));
    }

    pub async fn deleted_endpoint_ends_its_pending_deliveries(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        let event = hub.event("job.created");
        hub.flow.publish(&event).await.unwrap();
        assert!(hub.flow.delete_webhook(&hub.partner, &webhook_id).await.unwrap());
        assert!(!hub.flow.delete_webhook(&hub.partner, &webhook_id).await.unwrap());
        assert!(hub.flow.list_webhooks(&hub.partner).await.unwrap().is_empty());
        let d = hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Dead, Duration::from_secs(20)).await;
        assert_eq!(d.last_error.as_deref(), Some("the webhook endpoint was deleted"));
        assert!(hub.receiver.seen().is_empty());
        // A partner with no endpoints still has its events kept for replay, with no deliveries.
        let later = hub.event("job.created");
        let published = hub.flow.publish(&later).await.unwrap();
        assert_eq!((published.deliveries, published.duplicate), (0, false));
        let stored = hub.records.get::<StoredEvent>(&keys::outbound_event(&hub.partner, &later.id.to_string())).await.unwrap();
        assert!(stored.is_some());
    }

    pub async fn dead_deliveries_list_newest_first_in_pages(backend: Backend) {
        let Some(hub) = hub(backend, DeliveryPolicy { max_attempts: 1, ..test_policy() }).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        hub.receiver.otherwise(Reply::Status(503));
        let mut ids = vec![];
        for _ in 0..3 {
            let event = hub.event("job.created");
            hub.flow.publish(&event).await.unwrap();
            hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Dead, Duration::from_secs(20)).await;
            ids.push(event.id.to_string());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let first = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Dead, 2, None).await.unwrap();
        let second = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Dead, 2, first.cursor.clone()).await.unwrap();
        assert!(second.cursor.is_none());
        let listed: Vec<String> = first.deliveries.iter().chain(&second.deliveries).map(|d| d.event_id.clone()).collect();
        ids.reverse();
        assert_eq!(listed, ids, "newest first");
        // A cursor of another status's list does not continue this one.
        assert!(matches!(
            hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Delivered, 2, first.cursor.clone()).await,
            Err(DeliveryError::Store(shared::store::StoreError::BadCursor))
        ));
        // Replaying the whole event of the oldest one resets it.
        let replayed = hub.flow.replay_event(&hub.partner, &ids[2]).await.unwrap();
        assert_eq!(replayed.len(), 1);
        assert_eq!(replayed[0].status, DeliveryStatus::Pending);
    }

    pub async fn registration_refuses_unsafe_urls_and_bad_event_types(backend: Backend) {
        let Some(hub) = hub(backend, DeliveryPolicy { allow_http_loopback: false, ..test_policy() }).await else { return };
        let refused = |url: &str, types: Option<Vec<String>>| {
            let flow = hub.flow.clone();
            let (partner, url) = (hub.partner.clone(), url.to_owned());
            async move { matches!(flow.register_webhook(&partner, NewWebhook { url, event_types: types }).await, Err(DeliveryError::Invalid(_))) }
        };
        assert!(refused(&hub.receiver.url("a"), None).await, "http to loopback needs the local flag");
        assert!(refused("http://partner.example/hooks", None).await);
        assert!(refused("https://partner.example/hooks", Some(vec![])).await);
        assert!(refused("https://partner.example/hooks", Some(vec!["Job Created".into()])).await);
        let ok = hub
            .flow
            .register_webhook(
                &hub.partner,
                NewWebhook { url: "https://partner.example/hooks".into(), event_types: Some(vec!["job.created".into(), "job.created".into()]) },
            )
            .await
            .unwrap();
        assert_eq!(ok.webhook.event_types, Some(vec!["job.created".to_string()]));
        let raw = hub.records.get::<PartnerWebhook>(&keys::partner_webhook(&hub.partner, &ok.webhook.id)).await.unwrap().unwrap();
        assert_eq!(raw.record.url, "https://partner.example/hooks");
        for _ in 1..shared::flows::delivery::MAX_WEBHOOKS_PER_PARTNER {
            hub.flow.register_webhook(&hub.partner, NewWebhook { url: "https://partner.example/h".into(), event_types: None }).await.unwrap();
        }
        // The cap is a conflict with what the partner holds (409), not a fault in the request.
        let over =
            hub.flow.register_webhook(&hub.partner, NewWebhook { url: "https://partner.example/one-too-many".into(), event_types: None }).await;
        assert!(matches!(over, Err(DeliveryError::Conflict(_))), "{:?}", over.as_ref().err());
    }

    pub async fn duplicate_and_stale_messages_post_once(backend: Backend) {
        let policy = DeliveryPolicy { request_timeout: Duration::from_secs(3), ..test_policy() };
        let Some(hub) = hub(backend, policy).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        // Slow enough that both workers below are inside the same attempt.
        hub.receiver.script([Reply::Hang(Duration::from_millis(300))]);
        let event = hub.event("job.created");
        let event_id = event.id.to_string();
        hub.flow.publish(&event).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let message = loop {
            if let Some(m) = hub.flow.queue().receive(1, Duration::from_secs(1)).await.unwrap().pop() {
                break m;
            }
            assert!(Instant::now() < deadline, "the publish queued nothing");
        };

        // Queues deliver at least once: two workers get the same message at the same time.
        let (a, b) = tokio::join!(hub.flow.deliver(&message.body), hub.flow.deliver(&message.body));
        let mut outcomes = [a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| matches!(o, DeliveryOutcome::InFlight));
        assert_eq!(outcomes, [DeliveryOutcome::Delivered { attempt: 1, status: 200 }, DeliveryOutcome::InFlight]);
        assert!(!outcomes[1].ack(), "the claimed duplicate is left for the queue to bring back");
        assert_eq!(hub.receiver.seen().len(), 1, "one POST for one attempt");
        // Brought back later, it finds the delivery done.
        assert_eq!(hub.flow.deliver(&message.body).await.unwrap(), DeliveryOutcome::Skipped(SkipReason::Finished));
        hub.flow.queue().ack(&message.receipt).await.unwrap();

        // After a replay, a message of the earlier run is recognised and sends nothing.
        hub.flow.replay_delivery(&hub.partner, &event_id, &webhook_id).await.unwrap();
        assert_eq!(hub.flow.deliver(&message.body).await.unwrap(), DeliveryOutcome::Skipped(SkipReason::Stale));
        hub.pump_until(&event_id, &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!(hub.receiver.seen().len(), 2);
        assert_eq!(hub.flow.deliver("not a delivery").await.unwrap(), DeliveryOutcome::Skipped(SkipReason::Malformed));
    }

    pub async fn an_event_stored_but_never_queued_is_swept_and_delivered_once(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        let sweep_after = hub.flow.policy().sweep_after.as_millis() as i64;

        // A publish that queues normally leaves nothing for the sweeper.
        let normal = hub.event("job.created");
        hub.flow.publish(&normal).await.unwrap();
        hub.pump_until(&normal.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!(hub.flow.sweep_once(SystemClock.now_ms() + sweep_after + 1_000).await.unwrap().checks, 0);

        // The process stops between the outbox write and the queue.
        hub.queue.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let lost = hub.event("job.updated");
        let event_id = lost.id.to_string();
        assert!(matches!(hub.flow.publish(&lost).await, Err(DeliveryError::Queue(_))));
        hub.queue.down.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(hub.records.get::<StoredEvent>(&keys::outbound_event(&hub.partner, &event_id)).await.unwrap().is_some(), "stored");
        hub.drain().await;
        assert_eq!(hub.delivery(&event_id, &webhook_id).await.status, DeliveryStatus::Pending, "stored, never queued");
        assert_eq!(hub.receiver.seen().len(), 1);

        // Too early: a publish may still be on its way to the queue.
        let now = SystemClock.now_ms();
        assert_eq!(hub.flow.sweep_once(now).await.unwrap(), shared::flows::delivery::SweepReport::default());
        // Once overdue, the sweeper finds it through the sweep index and queues it.
        let swept = hub.flow.sweep_once(now + sweep_after + 1_000).await.unwrap();
        assert_eq!((swept.checks, swept.queued, swept.more), (1, 1, false));
        let d = hub.pump_until(&event_id, &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        assert_eq!(d.attempts, 1);
        // Swept once: a second sweep finds nothing, and the partner got the event exactly once.
        assert_eq!(hub.flow.sweep_once(now + sweep_after + 2_000).await.unwrap().checks, 0);
        hub.drain().await;
        let seen: Vec<String> = hub.receiver.seen().into_iter().map(|s| s.event_id).collect();
        assert_eq!(seen, [normal.id.to_string(), event_id]);
        assert!(hub.receiver.seen().iter().all(|s| s.signature_valid));
    }

    pub async fn replay_goes_to_the_partners_current_endpoints(backend: Backend) {
        let Some(hub) = hub(backend, test_policy()).await else { return };
        let (old, _) = hub.register("old", None).await;
        let event = hub.event("job.created");
        let event_id = event.id.to_string();
        hub.flow.publish(&event).await.unwrap();
        hub.pump_until(&event_id, &old, DeliveryStatus::Delivered, Duration::from_secs(20)).await;

        // The partner moves to a new endpoint; a replay goes there, not to the deleted one.
        assert!(hub.flow.delete_webhook(&hub.partner, &old).await.unwrap());
        assert!(matches!(hub.flow.replay_event(&hub.partner, &event_id).await, Err(DeliveryError::Conflict(_))), "no endpoint left");
        assert!(matches!(hub.flow.replay_delivery(&hub.partner, &event_id, &old).await, Err(DeliveryError::Conflict(_))));
        let (new, _) = hub.register("new", None).await;
        let replayed = hub.flow.replay_event(&hub.partner, &event_id).await.unwrap();
        assert_eq!(replayed.iter().map(|d| (d.webhook_id.as_str(), d.run)).collect::<Vec<_>>(), [(new.as_str(), 0)]);
        hub.pump_until(&event_id, &new, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        // Replayed again: the same delivery, restarted.
        let again = hub.flow.replay_event(&hub.partner, &event_id).await.unwrap();
        assert_eq!(again.iter().map(|d| (d.webhook_id.as_str(), d.run)).collect::<Vec<_>>(), [(new.as_str(), 1)]);
        hub.pump_until(&event_id, &new, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        hub.drain().await;
        let endpoints: Vec<String> = hub.receiver.seen().into_iter().map(|s| s.endpoint).collect();
        assert_eq!(endpoints, ["old", "new", "new"]);
        assert_eq!(hub.delivery(&event_id, &old).await.status, DeliveryStatus::Delivered, "the old delivery is left as it ended");
        assert!(matches!(hub.flow.replay_event(&hub.partner, "no-such-event").await, Err(DeliveryError::NotFound(_))));
        assert_eq!(hub.flow.sweep_once(SystemClock.now_ms() + 120_000).await.unwrap().checks, 0, "replays clear their checks");
    }

    pub async fn events_of_a_connection_carry_increasing_sequences_even_when_published_concurrently(backend: Backend) {
        use shared::flows::events::{EventPublisher, NewEvent};
        let Some(hub) = hub(backend, test_policy()).await else { return };
        hub.register("a", None).await;
        let connection_id = format!("conn-{}", uuid::Uuid::new_v4());
        let mut connection = shared::core::connection::Connection::new(&connection_id, &hub.partner, SystemClock.now_ms());
        connection.status = shared::core::connection::ConnectionStatus::Active;
        hub.records.create(&connection).await.unwrap();
        let publisher: Arc<dyn EventPublisher> = Arc::new(hub.flow.clone());
        let new_event = |n: u32| NewEvent {
            id: format!("{connection_id}-fact-{n}"),
            event_type: "job.created".into(),
            partner_id: hub.partner.clone(),
            connection_id: Some(connection_id.clone()),
            sequence: None,
            occurred_at_ms: Some(1_700_000_000_000 + i64::from(n)),
            data: serde_json::json!({"n": n}),
        };
        // Ten publishers at once on one connection.
        let results = futures::future::join_all((0..10).map(|n| publisher.publish(new_event(n)))).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        // A status change of the same connection takes its number in the same write.
        let status = shared::flows::status::StatusChanges::new(
            hub.records.clone(),
            publisher.clone(),
            shared::flows::activity::ActivityLog::new(hub.records.clone()),
            Arc::new(shared::core::catalog::ProfileCatalog::bundled().unwrap()),
        );
        status.needs_reconnect(&connection_id, "revoked in Lever").await.unwrap();
        hub.drain().await;

        let bodies: Vec<serde_json::Value> = hub.receiver.seen().iter().map(|s| serde_json::from_slice(&s.body).unwrap()).collect();
        assert_eq!(bodies.len(), 11);
        let mut facts: Vec<(u64, i64)> = bodies
            .iter()
            .filter(|b| b["type"] == "job.created")
            .map(|b| (b["sequence"].as_u64().unwrap(), b["data"]["n"].as_i64().unwrap()))
            .collect();
        facts.sort();
        assert_eq!(facts.iter().map(|f| f.0).collect::<Vec<_>>(), (1..=10).collect::<Vec<u64>>(), "one number each, none twice");
        let change = bodies.iter().find(|b| b["type"] == "connection.status_changed").unwrap();
        assert_eq!(change["sequence"], 11, "later than every event before it");
        for b in &bodies {
            assert_eq!(b["connection_id"], connection_id.as_str());
            assert!(time::OffsetDateTime::parse(b["occurred_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).is_ok(), "{b}");
        }
        let first = bodies.iter().find(|b| b["data"]["n"] == 0).unwrap();
        assert_eq!(first["occurred_at"], "2023-11-14T22:13:20Z", "when the fact happened, not when it was sent");
        // Announcing a fact again publishes nothing new (the outbox dedupes on the event id).
        publisher.publish(new_event(3)).await.unwrap();
        hub.drain().await;
        assert_eq!(hub.receiver.seen().len(), 11);
    }

    pub async fn names_resolving_to_internal_addresses_are_refused_at_send_time(backend: Backend) {
        let Some(mut hub) = hub(backend, DeliveryPolicy { allow_http_loopback: false, ..test_policy() }).await else { return };
        let dns = TestDns(
            [
                ("hooks.partner.example", "10.0.0.5".parse().unwrap()),
                ("rebind.partner.example", "127.0.0.1".parse().unwrap()),
                ("nat64.partner.example", "64:ff9b::a9fe:a9fe".parse().unwrap()),
            ]
            .into(),
        );
        hub.flow = hub.flow.clone().with_resolver(Arc::new(dns)).unwrap();
        // Public names: registration accepts them; only what they resolve to gives them away.
        let mut webhooks = vec![];
        for url in [
            "https://hooks.partner.example/h",
            "https://rebind.partner.example/h",
            "https://nat64.partner.example/h",
            "https://legacy.partner.example/h",
        ] {
            let registered = hub.flow.register_webhook(&hub.partner, NewWebhook { url: url.into(), event_types: None }).await.unwrap();
            webhooks.push(registered.webhook.id);
        }
        // A literal address stored before registration checked it (written past the flow).
        let mut legacy = hub.records.get::<PartnerWebhook>(&keys::partner_webhook(&hub.partner, &webhooks[3])).await.unwrap().unwrap().record;
        legacy.url = "https://169.254.169.254/latest/meta-data".into();
        hub.records.put(&legacy).await.unwrap();

        let event = hub.event("job.created");
        assert_eq!(hub.flow.publish(&event).await.unwrap().deliveries, 4);
        let event_id = event.id.to_string();
        let mut errors = vec![];
        for webhook_id in &webhooks {
            let d = hub.pump_until(&event_id, webhook_id, DeliveryStatus::Dead, Duration::from_secs(20)).await;
            assert_eq!((d.attempts, d.last_status_code), (1, None), "refused at once, not retried: {d:?}");
            errors.push(d.last_error.unwrap());
        }
        assert_eq!(
            errors,
            [
                "refused: the webhook host is not a public address: private (10.0.0.0/8)",
                "refused: the webhook host is a loopback address",
                "refused: the webhook host is not a public address: link-local (cloud metadata) (169.254.0.0/16)",
                "refused: the webhook host is not a public address: link-local (cloud metadata) (169.254.0.0/16)",
            ]
        );
        assert!(hub.receiver.seen().is_empty());
        let dead = hub.flow.list_deliveries(&hub.partner, DeliveryStatus::Dead, 10, None).await.unwrap();
        assert_eq!(dead.deliveries.len(), 4, "listed as dead, for the partner to see and fix");
    }

    pub async fn local_runs_allow_loopback_names_but_not_private_ones(backend: Backend) {
        let Some(mut hub) = hub(backend, test_policy()).await else { return };
        let dns = TestDns([("hooks.localhost", "127.0.0.1".parse().unwrap()), ("evil.partner.example", "192.168.1.1".parse().unwrap())].into());
        hub.flow = hub.flow.clone().with_resolver(Arc::new(dns)).unwrap();
        // The receiver by a loopback name, resolved by the test DNS: delivered.
        let url = hub.receiver.url("a").replace("127.0.0.1", "hooks.localhost");
        let ok = hub.flow.register_webhook(&hub.partner, NewWebhook { url, event_types: None }).await.unwrap();
        hub.receiver.knows_secret(&ok.secret);
        let bad =
            hub.flow.register_webhook(&hub.partner, NewWebhook { url: "https://evil.partner.example/h".into(), event_types: None }).await.unwrap();
        let event = hub.event("job.created");
        hub.flow.publish(&event).await.unwrap();
        let event_id = event.id.to_string();
        hub.pump_until(&event_id, &ok.webhook.id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        let refused = hub.pump_until(&event_id, &bad.webhook.id, DeliveryStatus::Dead, Duration::from_secs(20)).await;
        assert_eq!(refused.last_error.as_deref(), Some("refused: the webhook host is not a public address: private (192.168.0.0/16)"));
        let seen = hub.receiver.seen();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].signature_valid);
    }

    pub async fn redirects_are_not_followed_and_answers_are_not_echoed(backend: Backend) {
        let Some(hub) = hub(backend, DeliveryPolicy { max_attempts: 3, ..test_policy() }).await else { return };
        let (webhook_id, _) = hub.register("a", None).await;
        hub.receiver.script([Reply::Redirect("/hooks/elsewhere"), Reply::StatusWithBody(500, "db=prod password=hunter2")]);
        let event = hub.event("job.created");
        let event_id = event.id.to_string();
        hub.flow.publish(&event).await.unwrap();
        let mut errors = vec![];
        let d = loop {
            let d = hub.delivery(&event_id, &webhook_id).await;
            if let Some(e) = &d.last_error
                && errors.last() != Some(e)
            {
                errors.push(e.clone());
            }
            if d.status != DeliveryStatus::Pending {
                break d;
            }
            hub.flow.work_once(10, Duration::from_secs(1)).await.unwrap();
        };
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(errors, ["HTTP 302 Found: redirects are not followed; register the final URL", "HTTP 500 Internal Server Error"]);
        let endpoints: Vec<String> = hub.receiver.seen().into_iter().map(|s| s.endpoint).collect();
        assert_eq!(endpoints, ["a", "a", "a"], "the redirect target was never posted to");
    }
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(super::Backend::Embedded).await
                }
            )*
        }
        mod dynamodb_local_and_sqs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(super::Backend::Aws).await
                }
            )*
        }
    };
}

suite!(
    delivered_first_time_signed_over_the_raw_body,
    rate_limited_three_times_then_delivered_on_attempt_four,
    always_failing_goes_dead_then_replay_delivers,
    duplicate_publish_creates_one_delivery,
    hung_endpoint_times_out_and_is_retried,
    subscriptions_choose_the_endpoints,
    signing_secret_is_stored_sealed_and_rotates,
    deleted_endpoint_ends_its_pending_deliveries,
    dead_deliveries_list_newest_first_in_pages,
    registration_refuses_unsafe_urls_and_bad_event_types,
    duplicate_and_stale_messages_post_once,
    names_resolving_to_internal_addresses_are_refused_at_send_time,
    local_runs_allow_loopback_names_but_not_private_ones,
    redirects_are_not_followed_and_answers_are_not_echoed,
    an_event_stored_but_never_queued_is_swept_and_delivered_once,
    replay_goes_to_the_partners_current_endpoints,
    events_of_a_connection_carry_increasing_sequences_even_when_published_concurrently,
);

/// `hub-local`'s queue lives in its embedded store: a restart keeps the deliveries it had not
/// finished, a retry waiting out its delay included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_restart_of_the_embedded_store_and_queue() {
    let dir = std::env::temp_dir().join(format!("hub-delivery-{}", uuid::Uuid::new_v4()));
    let path = dir.join("table.log");
    let key = random_key();
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path).unwrap());
        let records = Records::new(store, Arc::new(SystemClock));
        let queue = EmbeddedQueue::durable(records.clone(), "deliveries", Duration::from_secs(5)).await.unwrap();
        let cipher = Arc::new(TokenCipher::from_secret(&SecretString::new(key.clone())).unwrap());
        let flow = EventDelivery::new(records.clone(), Arc::new(queue), cipher, test_policy()).unwrap();
        (flow, records)
    };
    let receiver = Receiver::start().await;
    let partner = "partner-restart";
    let (first_id, second_id, webhook_id) = {
        let (flow, _) = open().await;
        let registered = flow.register_webhook(partner, NewWebhook { url: receiver.url("a"), event_types: None }).await.unwrap();
        receiver.knows_secret(&registered.secret);
        // The first event fails once and waits for its retry; the second is queued, not yet sent.
        receiver.script([Reply::Status(503)]);
        let first = OutboundEvent::new(partner, "job.created", SystemClock.now(), serde_json::json!({"n": 1}));
        flow.publish(&first).await.unwrap();
        let outcomes = flow.work_once(1, Duration::from_secs(1)).await.unwrap();
        assert!(matches!(outcomes.as_slice(), [DeliveryOutcome::Retrying { attempt: 1, .. }]), "{outcomes:?}");
        let second = OutboundEvent::new(partner, "job.updated", SystemClock.now(), serde_json::json!({"n": 2}));
        flow.publish(&second).await.unwrap();
        (first.id.to_string(), second.id.to_string(), registered.webhook.id)
        // The process stops here: store, queue and flow are dropped.
    };
    let (flow, records) = open().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = |event: String| {
            let records = records.clone();
            let key = keys::delivery(partner, &event, &webhook_id);
            async move { records.get::<Delivery>(&key).await.unwrap().unwrap().record.status }
        };
        if status(first_id.clone()).await == DeliveryStatus::Delivered && status(second_id.clone()).await == DeliveryStatus::Delivered {
            break;
        }
        assert!(Instant::now() < deadline, "pending deliveries were not delivered after the restart");
        flow.work_once(10, Duration::from_millis(200)).await.unwrap();
    }
    while !flow.work_once(10, Duration::from_millis(300)).await.unwrap().is_empty() {}
    let mut seen: Vec<(String, u32, u16)> = receiver.seen().into_iter().map(|s| (s.event_id, s.attempt, s.answered)).collect();
    assert_eq!(seen.remove(0), (first_id.clone(), 1, 503), "before the restart");
    seen.sort();
    let mut expected = vec![(first_id, 2, 200), (second_id, 1, 200)];
    expected.sort();
    assert_eq!(seen, expected, "each delivered once after the restart");
    assert!(receiver.seen().iter().all(|s| s.signature_valid));
    drop(flow);
    drop(records);
    std::fs::remove_dir_all(dir).unwrap();
}
