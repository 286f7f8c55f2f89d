//! Listing deliveries by status, and replay.

use std::time::Duration;

use super::records::{Delivery, DeliveryStatus, PartnerWebhook, StoredEvent};
use super::{DeliveryError, EventDelivery};
use crate::store::{Cursor, DueQuery, Key, StoreError, keys};

/// One page of a partner's deliveries in one status, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    /// Pass back to get the next page; `None` on the last.
    pub cursor: Option<Cursor>,
}

impl EventDelivery {
    /// A partner's deliveries in `status`, most recently entered first (e.g. the dead ones, to
    /// replay). Reads the status index: in DynamoDB an index read, so a change shows within a
    /// second or so.
    pub async fn list_deliveries(
        &self,
        partner_id: &str,
        status: DeliveryStatus,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<DeliveryPage, DeliveryError> {
        let query = DueQuery {
            partition: keys::deliveries_by_status_partition(partner_id, status.as_str()),
            up_to: keys::DELIVERIES_BY_STATUS_UP_TO.to_owned(),
            limit: limit.clamp(1, 100),
            cursor,
        };
        let (page, cursor) = self.records.due::<Delivery>(&query).await?;
        Ok(DeliveryPage { deliveries: page.into_iter().map(|v| v.record).collect(), cursor })
    }

    /// Sends one delivery again from attempt 1, whatever its status: a new run, so messages of
    /// the old run still in the queue are ignored. The partner dedupes on `Hub-Event-Id`.
    /// Refused (`Conflict`) when the endpoint was deleted: nothing could ever arrive.
    pub async fn replay_delivery(&self, partner_id: &str, event_id: &str, webhook_id: &str) -> Result<Delivery, DeliveryError> {
        let key = keys::delivery(partner_id, event_id, webhook_id);
        let Some(existing) = self.records.get::<Delivery>(&key).await? else {
            return Err(DeliveryError::NotFound(format!("delivery of event {event_id} to webhook {webhook_id}")));
        };
        if self.records.get::<PartnerWebhook>(&keys::partner_webhook(partner_id, webhook_id)).await?.is_none() {
            return Err(DeliveryError::Conflict(format!(
                "webhook {webhook_id} was deleted; replay the event to deliver it to the current endpoints"
            )));
        }
        let now_ms = self.records.clock().now_ms();
        let check = self.enqueue_check(partner_id, event_id, now_ms, existing.record.expires_at_ms);
        self.records.put(&check).await?;
        let replayed = self.restart(&key, now_ms).await?;
        self.enqueue(&replayed, Duration::ZERO).await?;
        self.clear_enqueue_check(&check).await;
        tracing::info!(partner_id, event_id, webhook_id, run = replayed.run, "delivery replayed");
        Ok(replayed)
    }

    /// Delivers an event again, from attempt 1, to every endpoint the partner has now that
    /// receives its type: the ones it went to are restarted, new ones get a first delivery,
    /// deleted ones are left as they ended. Refused (`Conflict`) when no endpoint receives it.
    pub async fn replay_event(&self, partner_id: &str, event_id: &str) -> Result<Vec<Delivery>, DeliveryError> {
        let Some(event) = self.records.get::<StoredEvent>(&keys::outbound_event(partner_id, event_id)).await? else {
            return Err(DeliveryError::NotFound(format!("event {event_id}")));
        };
        let event = event.record;
        let endpoints: Vec<_> = self.webhooks(partner_id).await?.into_iter().filter(|w| w.wants(&event.event_type)).collect();
        if endpoints.is_empty() {
            return Err(DeliveryError::Conflict(format!("no webhook endpoint receives {} events now; register one, then replay", event.event_type)));
        }
        let now_ms = self.records.clock().now_ms();
        let check = self.enqueue_check(partner_id, event_id, now_ms, event.expires_at_ms);
        self.records.put(&check).await?;
        let mut replayed = Vec::with_capacity(endpoints.len());
        for endpoint in &endpoints {
            let first = Delivery::first_run(&event, &endpoint.id, now_ms);
            let delivery = match self.records.create(&first).await {
                Ok(_) => first,
                Err(StoreError::ConditionFailed) => self.restart(&keys::delivery(partner_id, event_id, &endpoint.id), now_ms).await?,
                Err(e) => return Err(e.into()),
            };
            replayed.push(delivery);
        }
        for d in &replayed {
            self.enqueue(d, Duration::ZERO).await?;
        }
        self.clear_enqueue_check(&check).await;
        tracing::info!(partner_id, event_id, deliveries = replayed.len(), "event replayed");
        Ok(replayed)
    }

    /// A new run of an existing delivery, waiting for its first attempt.
    async fn restart(&self, key: &Key, now_ms: i64) -> Result<Delivery, DeliveryError> {
        Ok(self
            .records
            .update::<Delivery>(key, |d| {
                d.run += 1;
                d.attempts = 0;
                d.claim = None;
                d.next_attempt_at_ms = None;
                d.status = DeliveryStatus::Pending;
                d.status_since_ms = now_ms;
                d.delivered_at_ms = None;
                true
            })
            .await?
            .ok_or_else(|| DeliveryError::NotFound(format!("delivery {}/{}", key.pk, key.sk)))?
            .record)
    }
}
