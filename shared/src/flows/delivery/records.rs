//! What outbound delivery keeps in the store. Keys and index entries are in
//! `store::kinds` / `store::keys`; these are plain data.

use serde::{Deserialize, Serialize};

use crate::secrets::Sealed;
use crate::store::{IndexKey, Key, Record, keys};

/// A partner's endpoint for the hub's webhooks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartnerWebhook {
    pub partner_id: String,
    pub id: String,
    pub url: String,
    /// Event types sent to this endpoint; `None` = every type.
    pub event_types: Option<Vec<String>>,
    /// The signing secret, sealed with the token cipher under [`webhook_secret_context`].
    pub secret: Sealed,
    /// Secrets replaced by rotations, sealed like `secret`, that go on signing beside it until
    /// their time is up, so a partner can switch secrets without rejecting deliveries between.
    #[serde(default)]
    pub retired_secrets: Vec<RetiredSecret>,
    pub created_at_ms: i64,
    pub secret_rotated_at_ms: i64,
}

/// A secret a rotation replaced, signing until `until_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetiredSecret {
    pub secret: Sealed,
    pub until_ms: i64,
}

impl PartnerWebhook {
    /// Every secret that signs at `now_ms`: the current one first, then the retired ones still
    /// in their overlap. A delivery carries one `v1=` for each.
    pub fn signing_secrets_at(&self, now_ms: i64) -> impl Iterator<Item = &Sealed> {
        std::iter::once(&self.secret).chain(self.retired_secrets.iter().filter(move |r| r.until_ms > now_ms).map(|r| &r.secret))
    }

    /// When the last retired secret stops signing, while one still does.
    pub fn retired_secrets_until_ms(&self, now_ms: i64) -> Option<i64> {
        self.retired_secrets.iter().map(|r| r.until_ms).filter(|&until| until > now_ms).max()
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.as_ref().is_none_or(|types| types.iter().any(|t| t == event_type))
    }
}

/// Binds a sealed signing secret to its endpoint, so it cannot be copied onto another.
pub fn webhook_secret_context(partner_id: &str, webhook_id: &str) -> String {
    format!("partner/{partner_id}/webhook/{webhook_id}")
}

/// The outbox entry of a published event: the exact bytes every endpoint receives, fixed once
/// at publish time so a retry or replay sends (and signs) the same body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub partner_id: String,
    pub id: String,
    pub event_type: String,
    pub connection_id: Option<String>,
    pub created_at_ms: i64,
    pub body: String,
    /// The outbox keeps events for replay this long (policy `retention`), then they expire.
    pub expires_at_ms: Option<i64>,
}

/// Written in the same transaction as an event's deliveries (or before a replay changes them)
/// and deleted once every one of them is queued. One still there at `check_at_ms` means the
/// process stopped in between: the sweeper queues what is pending and deletes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnqueueCheck {
    pub partner_id: String,
    pub event_id: String,
    pub check_at_ms: i64,
    /// Which writer armed it: only that writer clears it, so a replay's check survives the
    /// clearing of an earlier publish's.
    pub token: String,
    pub expires_at_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (first, retry, or replay).
    Pending,
    Delivered,
    /// Gave up after the last attempt; waits for a replay.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub partner_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Bumped by every replay: queue messages of an earlier run are recognised and dropped.
    pub run: u32,
    /// Attempts made in this run (a POST whose outcome is recorded).
    pub attempts: u32,
    /// A worker is making attempt `attempt` until `until_ms`; a duplicate message for the same
    /// attempt (queues deliver at least once) waits instead of POSTing a second time.
    pub claim: Option<DeliveryClaim>,
    /// When the next attempt's message becomes visible, while pending after a failure.
    pub next_attempt_at_ms: Option<i64>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    /// When the delivery entered its status; the status listing sorts on it, newest first.
    pub status_since_ms: i64,
    pub delivered_at_ms: Option<i64>,
    /// Expires with its event.
    pub expires_at_ms: Option<i64>,
}

impl Delivery {
    /// A new delivery of `event` to `webhook_id`, waiting for its first attempt.
    pub fn first_run(event: &StoredEvent, webhook_id: &str, now_ms: i64) -> Self {
        Self {
            partner_id: event.partner_id.clone(),
            event_id: event.id.clone(),
            webhook_id: webhook_id.to_owned(),
            event_type: event.event_type.clone(),
            status: DeliveryStatus::Pending,
            run: 0,
            attempts: 0,
            claim: None,
            next_attempt_at_ms: None,
            last_status_code: None,
            last_error: None,
            created_at_ms: now_ms,
            status_since_ms: now_ms,
            delivered_at_ms: None,
            expires_at_ms: event.expires_at_ms,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryClaim {
    pub attempt: u32,
    pub until_ms: i64,
}

/// The queue message that asks for one attempt of one delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub partner_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub run: u32,
    /// 1-based attempt this message is for.
    pub attempt: u32,
}

/// What the dead-letter queue receives when a delivery gives up (ids and the error only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub partner_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
}

impl Record for PartnerWebhook {
    const KIND: &'static str = "partner_webhook";

    fn key(&self) -> Key {
        keys::partner_webhook(&self.partner_id, &self.id)
    }
}

impl Record for StoredEvent {
    const KIND: &'static str = "outbound_event";

    fn key(&self) -> Key {
        keys::outbound_event(&self.partner_id, &self.id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }
}

impl Record for Delivery {
    const KIND: &'static str = "delivery";

    fn key(&self) -> Key {
        keys::delivery(&self.partner_id, &self.event_id, &self.webhook_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }

    /// Every delivery is listed under its status, so the same write that changes the status
    /// moves it between listings.
    fn due(&self) -> Option<IndexKey> {
        Some(keys::delivery_by_status(&self.partner_id, self.status.as_str(), self.status_since_ms, &self.event_id, &self.webhook_id))
    }
}

impl Record for EnqueueCheck {
    const KIND: &'static str = "enqueue_check";

    fn key(&self) -> Key {
        keys::enqueue_check(&self.partner_id, &self.event_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }

    /// In the sweep partitions, by the time after which it counts as left behind.
    fn due(&self) -> Option<IndexKey> {
        Some(keys::sweep_due(&self.partner_id, &self.event_id, self.check_at_ms))
    }
}
