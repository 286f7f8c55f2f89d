//! The receiving end of Lever's webhooks: verify, dedupe, record, enqueue, acknowledge.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::InboundLeverEvent;
use crate::core::connection::Connection;
use crate::flows::records::{LeverWebhook, lever_webhook_context};
use crate::lever::secret::Secret;
use crate::lever::signature::WebhookDelivery;
use crate::queue::{Queue, QueueError};
use crate::secrets::TokenCipher;
use crate::store::{Expect, Key, Record, Records, StoreError, keys};

/// How old a delivery may be, and how long its token is remembered.
#[derive(Clone, Debug)]
pub struct InboxPolicy {
    /// Deliveries whose `triggeredAt` is older are refused. Lever retries a failed delivery
    /// five times with growing gaps; 12 hours covers them with room to spare.
    pub max_age: Duration,
    /// How far `triggeredAt` may be ahead of our clock (clock skew).
    pub max_skew: Duration,
    /// Tokens are remembered longer than `max_age`, so a replay inside the window is always seen.
    pub remember_tokens_for: Duration,
    /// `last_received_at` on the connection is written at most this often (hot webhooks must
    /// not turn into a write per delivery on the connection record).
    pub health_every: Duration,
}

impl Default for InboxPolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(12 * 3600),
            max_skew: Duration::from_secs(300),
            remember_tokens_for: Duration::from_secs(24 * 3600),
            health_every: Duration::from_secs(60),
        }
    }
}

/// What the receiver answers Lever (all 2xx).
#[derive(Debug, Clone, PartialEq)]
pub enum Receipt {
    /// Verified, new, queued for the router.
    Accepted,
    /// Verified, but this delivery token was seen before (a Lever retry): nothing more done.
    Duplicate,
    /// Lever's settings-page test (`data: {}`): verified and recorded, nothing to process.
    Test,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Not a Lever delivery we can trust (401): unknown connection or event, no or bad
    /// signature, outside the time window. Nothing was processed.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The body is not a Lever webhook envelope (400).
    #[error("not a Lever webhook: {0}")]
    Malformed(String),
    /// Could not be stored or queued (503): Lever retries, nothing is lost.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for ReceiveError {
    fn from(e: StoreError) -> Self {
        ReceiveError::Unavailable(e.to_string())
    }
}

impl From<QueueError> for ReceiveError {
    fn from(e: QueueError) -> Self {
        ReceiveError::Unavailable(e.to_string())
    }
}

/// A delivery token already seen for a connection; expires after the replay window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeenLeverDelivery {
    pub connection_id: String,
    pub token: String,
    pub event: String,
    pub expires_at_ms: i64,
}

impl Record for SeenLeverDelivery {
    const KIND: &'static str = "lever_delivery_seen";
    fn key(&self) -> Key {
        keys::lever_delivery_seen(&self.connection_id, &self.token)
    }
    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

#[derive(Clone)]
pub struct LeverWebhookReceiver {
    records: Records,
    cipher: Arc<TokenCipher>,
    queue: Arc<dyn Queue>,
    policy: InboxPolicy,
}

impl LeverWebhookReceiver {
    pub fn new(records: Records, cipher: Arc<TokenCipher>, queue: Arc<dyn Queue>, policy: InboxPolicy) -> Self {
        Self { records, cipher, queue, policy }
    }

    pub async fn receive(&self, connection_id: &str, body: &[u8]) -> Result<Receipt, ReceiveError> {
        let delivery: WebhookDelivery = serde_json::from_slice(body).map_err(|e| ReceiveError::Malformed(e.to_string()))?;
        // The connection, and the webhook the hub registered for this event (it holds the signing
        // token): two reads at once, as Lever waits for the answer.
        let (connection_key, hook_key) = (keys::connection(connection_id), keys::lever_webhook(connection_id, &delivery.event));
        let (connection, hook) = tokio::join!(self.records.get::<Connection>(&connection_key), self.records.get::<LeverWebhook>(&hook_key));
        let Some(connection) = connection? else {
            return Err(ReceiveError::Refused("unknown connection"));
        };
        crate::telemetry::record_partner(&connection.record.partner_id);
        let Some(hook) = hook? else {
            return Err(ReceiveError::Refused("no webhook registered for this event"));
        };
        let token = self
            .cipher
            .open(&hook.record.signature_token, &lever_webhook_context(connection_id, &delivery.event))
            .map_err(|_| ReceiveError::Unavailable("the webhook's signing token does not open".into()))?;
        if !delivery.verify(&Secret::new(token.expose().to_owned())) {
            tracing::warn!(connection_id, event = %delivery.event, "Lever webhook with a bad or missing signature refused");
            crate::metrics::count("lever-webhooks", Some(&connection.record.partner_id), "LeverWebhooksRefused", 1);
            return Err(ReceiveError::Refused("bad or missing signature"));
        }
        let now = self.records.clock().now_ms();
        let age_ms = now.saturating_sub(delivery.triggered_at);
        if age_ms > self.policy.max_age.as_millis() as i64 || -age_ms > self.policy.max_skew.as_millis() as i64 {
            tracing::warn!(connection_id, event = %delivery.event, age_ms, "stale Lever webhook refused");
            return Err(ReceiveError::Refused("triggeredAt outside the accepted window"));
        }
        let seen = SeenLeverDelivery {
            connection_id: connection_id.to_owned(),
            token: delivery.token.clone(),
            event: delivery.event.clone(),
            expires_at_ms: now + self.policy.remember_tokens_for.as_millis() as i64,
        };
        match self.records.create(&seen).await {
            Ok(_) => {}
            Err(StoreError::ConditionFailed) => return Ok(Receipt::Duplicate),
            Err(e) => return Err(e.into()),
        }
        self.note_received(&connection.record, &delivery.event, now).await;
        if delivery.data.as_object().is_some_and(|d| d.is_empty()) {
            return Ok(Receipt::Test);
        }
        let event = InboundLeverEvent {
            connection_id: connection_id.to_owned(),
            event: delivery.event,
            triggered_at_ms: delivery.triggered_at,
            token: delivery.token,
            received_at_ms: now,
            data: delivery.data,
        };
        let message = serde_json::to_string(&event).map_err(|e| ReceiveError::Malformed(e.to_string()))?;
        if let Err(e) = self.queue.send(&message, Duration::ZERO).await {
            // Forget the token so Lever's retry is accepted rather than taken for a duplicate.
            let _ = self.records.remove(&seen.key(), Expect::Any).await;
            return Err(e.into());
        }
        crate::metrics::count("lever-webhooks", Some(&connection.record.partner_id), "LeverWebhooksAccepted", 1);
        Ok(Receipt::Accepted)
    }

    /// Marks on the connection that Lever's webhooks are arriving (at most every `health_every`),
    /// and the first delivery of each event.
    async fn note_received(&self, connection: &Connection, event: &str, now: i64) {
        let every = self.policy.health_every.as_millis() as i64;
        let fresh = |w: &crate::core::connection::WebhookHealth| {
            w.last_received_at_ms.is_some_and(|at| now - at < every) && w.first_received_ms.contains_key(event)
        };
        if fresh(&connection.webhooks) {
            return;
        }
        let result = self
            .records
            .update::<Connection>(&keys::connection(&connection.id), |c| {
                if fresh(&c.webhooks) {
                    return false;
                }
                c.webhooks.last_received_at_ms = Some(now);
                c.webhooks.first_received_ms.entry(event.to_owned()).or_insert(now);
                true
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(connection_id = %connection.id, error = %e, "webhook arrival not recorded");
        }
    }
}
