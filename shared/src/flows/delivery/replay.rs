//! Listing deliveries by status, and replay.

use super::records::{Delivery, DeliveryStatus};
use super::{DeliveryError, EventDelivery};
use crate::store::{keys, Cursor, DueQuery};

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
    pub async fn replay_delivery(&self, partner_id: &str, event_id: &str, webhook_id: &str) -> Result<Delivery, DeliveryError> {
        let now_ms = self.records.clock().now_ms();
        let replayed = self
            .records
            .update::<Delivery>(&keys::delivery(partner_id, event_id, webhook_id), |d| {
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
            .ok_or_else(|| DeliveryError::NotFound(format!("delivery of event {event_id} to webhook {webhook_id}")))?
            .record;
        self.enqueue(&replayed, std::time::Duration::ZERO).await?;
        tracing::info!(partner_id, event_id, webhook_id, run = replayed.run, "delivery replayed");
        Ok(replayed)
    }

    /// Replays every delivery of an event; returns them.
    pub async fn replay_event(&self, partner_id: &str, event_id: &str) -> Result<Vec<Delivery>, DeliveryError> {
        let deliveries = self.deliveries_of(partner_id, event_id).await?;
        if deliveries.is_empty() {
            return Err(DeliveryError::NotFound(format!("deliveries of event {event_id}")));
        }
        let mut replayed = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            replayed.push(self.replay_delivery(partner_id, event_id, &d.webhook_id).await?);
        }
        Ok(replayed)
    }
}
