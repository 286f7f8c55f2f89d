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
    DeadLetter, Delivery, DeliveryError, DeliveryOutcome, DeliveryPolicy, DeliveryStatus, EventDelivery, NewWebhook, OutboundEvent,
    PartnerWebhook, SkipReason, StoredEvent,
};
use shared::queue::{EmbeddedQueue, Queue, SqsQueue};
use shared::secrets::local::random_key;
use shared::secrets::{SecretString, TokenCipher};
use shared::store::embedded::EmbeddedStore;
use shared::store::{keys, Records, Store};

// ---- the partner's receiver -------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Reply {
    Ok,
    Status(u16),
    TooManyRequests { retry_after: &'static str },
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

async fn hook(
    State(state): State<Arc<ReceiverState>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let secret = state.secret.lock().unwrap().clone().unwrap_or_default();
    let signature = header("hub-signature");
    let reply = state.script.lock().unwrap().pop_front().or_else(|| state.otherwise.lock().unwrap().clone()).unwrap_or(Reply::Ok);
    let answered = match &reply {
        Reply::Ok | Reply::Hang(_) => 200,
        Reply::Status(code) => *code,
        Reply::TooManyRequests { .. } => 429,
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
        Reply::TooManyRequests { retry_after } => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", retry_after)], "slow down").into_response()
        }
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "too late").into_response()
        }
    }
}

// ---- the hub under test -----------------------------------------------------------------------

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

struct Hub {
    flow: EventDelivery,
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
    let flow = EventDelivery::new(records.clone(), queue, cipher, policy).unwrap().with_dead_letter_queue(dead_letters.clone());
    Some(Hub { flow, records, store, dynamo_table, dead_letters, receiver: Receiver::start().await, partner: format!("partner-{}", uuid::Uuid::new_v4()) })
}

impl Hub {
    async fn register(&self, endpoint: &str, event_types: Option<&[&str]>) -> (String, SecretString) {
        let new = NewWebhook {
            url: self.receiver.url(endpoint),
            event_types: event_types.map(|t| t.iter().map(|s| s.to_string()).collect()),
        };
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
        assert_eq!(
            routed,
            [("all".into(), "hire.created".into()), ("all".into(), "job.created".into()), ("hires".into(), "hire.created".into())]
        );
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
        let event = hub.event("job.created");
        hub.flow.publish(&event).await.unwrap();
        hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        let s = hub.receiver.seen().pop().unwrap();
        assert!(s.signature_valid);
        assert!(!partner_verifies(secret.expose(), &s.signature, &s.body));

        // A rotation with overlap: deliveries verify with the old secret and with the new one.
        let newest = hub.flow.rotate_webhook_secret_keeping_previous(&hub.partner, &webhook_id, Duration::from_secs(3600)).await.unwrap();
        let info = hub.flow.list_webhooks(&hub.partner).await.unwrap().pop().unwrap();
        assert!(info.previous_secret_until_ms.is_some());
        let event = hub.event("job.created");
        hub.flow.publish(&event).await.unwrap();
        hub.pump_until(&event.id.to_string(), &webhook_id, DeliveryStatus::Delivered, Duration::from_secs(20)).await;
        let s = hub.receiver.seen().pop().unwrap();
        assert_eq!(s.signature.matches("v1=").count(), 2);
        assert!(partner_verifies(newest.expose(), &s.signature, &s.body));
        assert!(partner_verifies(rotated.expose(), &s.signature, &s.body));
        assert!(!partner_verifies(secret.expose(), &s.signature, &s.body));
        assert!(matches!(
            hub.flow.rotate_webhook_secret(&hub.partner, "no-such-webhook").await,
            Err(DeliveryError::NotFound(_))
        ));
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
            .register_webhook(&hub.partner, NewWebhook { url: "https://partner.example/hooks".into(), event_types: Some(vec!["job.created".into(), "job.created".into()]) })
            .await
            .unwrap();
        assert_eq!(ok.webhook.event_types, Some(vec!["job.created".to_string()]));
        let raw = hub.records.get::<PartnerWebhook>(&keys::partner_webhook(&hub.partner, &ok.webhook.id)).await.unwrap().unwrap();
        assert_eq!(raw.record.url, "https://partner.example/hooks");
        for _ in 1..shared::flows::delivery::MAX_WEBHOOKS_PER_PARTNER {
            hub.flow.register_webhook(&hub.partner, NewWebhook { url: "https://partner.example/h".into(), event_types: None }).await.unwrap();
        }
        assert!(refused("https://partner.example/one-too-many", None).await);
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
);
