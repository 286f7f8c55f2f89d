//! Publish: the event into the outbox, a delivery per subscribed endpoint, a message each.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use std::collections::HashMap;

use super::records::{Delivery, DeliveryMessage, DeliveryStatus, EnqueueCheck, PartnerWebhook, StoredEvent};
use super::webhooks::check_event_type;
use super::{DeliveryError, EventDelivery};
use crate::flows::events::{EventPublisher, NewEvent, PublishError, StagedEvent, next_sequence};
use crate::store::{Expect, Key, Record as _, Records, StoreError, Write, keys};

/// Largest event body: DynamoDB items hold 400 KB, and the body is stored with the event.
pub const MAX_EVENT_BODY_BYTES: usize = 200 * 1024;

/// An event for a partner, as its webhook body carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboundEvent {
    /// The dedupe key for publish and for partners (`Hub-Event-Id`). Random for a new fact, or
    /// derived from the fact (UUIDv5) so that announcing it twice publishes it once.
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub partner_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Orders the connection's events: greater is later (numbers may be skipped). A partner
    /// keeps the greatest it has applied and ignores older ones that arrive after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// When the fact happened; `created_at` is when the event was made.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub data: serde_json::Value,
}

impl OutboundEvent {
    /// A new event with a fresh id.
    pub fn new(partner_id: &str, event_type: &str, created_at: OffsetDateTime, data: serde_json::Value) -> Self {
        Self {
            id: uuid::Uuid::new_v4(),
            event_type: event_type.to_owned(),
            partner_id: partner_id.to_owned(),
            connection_id: None,
            sequence: None,
            occurred_at: created_at,
            created_at,
            data,
        }
    }

    pub fn for_connection(mut self, connection_id: &str) -> Self {
        self.connection_id = Some(connection_id.to_owned());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub event_id: String,
    /// Deliveries of the event (to the endpoints subscribed when it was first published).
    pub deliveries: usize,
    /// The event id was published before; nothing new was created.
    pub duplicate: bool,
}

impl EventDelivery {
    /// Stores the event and queues it to every endpoint of the partner subscribed to its type.
    /// Publishing the same event id again creates nothing new: it only re-queues deliveries
    /// that never got an attempt, which heals a publish that stopped between store and queue.
    pub async fn publish(&self, event: &OutboundEvent) -> Result<Published, DeliveryError> {
        let body = Self::body_of(event)?;
        let webhooks = self.webhooks(&event.partner_id).await?;
        let mut prepared = self.prepare(event, body, &webhooks)?;
        match self.records.transact(std::mem::take(&mut prepared.writes)).await {
            Ok(()) => {}
            Err(StoreError::TransactionConditionFailed { index: 0 }) => {
                let (partner_id, event_id) = (event.partner_id.as_str(), prepared.event_id);
                let existing = self.deliveries_of(partner_id, &event_id).await?;
                let unattempted = existing
                    .iter()
                    .filter(|d| d.status == DeliveryStatus::Pending && d.attempts == 0 && d.claim.is_none())
                    .cloned()
                    .collect::<Vec<_>>();
                tracing::info!(partner_id, event_id, requeued = unattempted.len(), "event published before; nothing new created");
                for d in &unattempted {
                    self.enqueue(d, Duration::ZERO).await?;
                }
                return Ok(Published { event_id, deliveries: existing.len(), duplicate: true });
            }
            Err(e) => return Err(e.into()),
        };
        self.queue_prepared(&prepared).await?;
        tracing::info!(partner_id = %event.partner_id, event_id = %prepared.event_id, event_type = %event.event_type,
            deliveries = prepared.deliveries.len(), "event published");
        Ok(Published { event_id: prepared.event_id, deliveries: prepared.deliveries.len(), duplicate: false })
    }

    /// The event's checked body (fixed here, once: retries and replays send and sign these same
    /// bytes).
    fn body_of(event: &OutboundEvent) -> Result<String, DeliveryError> {
        check_event_type(&event.event_type).map_err(DeliveryError::Invalid)?;
        if event.partner_id.is_empty() || event.partner_id.contains('#') {
            return Err(DeliveryError::Invalid("event has no valid partner id".into()));
        }
        let body = serde_json::to_string(event).map_err(|e| DeliveryError::Invalid(format!("event body: {e}")))?;
        if body.len() > MAX_EVENT_BODY_BYTES {
            return Err(DeliveryError::Invalid(format!("event body of {} bytes is over {MAX_EVENT_BODY_BYTES}", body.len())));
        }
        Ok(body)
    }

    /// The writes that store an event with a delivery per subscribed endpoint of `webhooks`
    /// (the partner's), and what to queue once they are committed.
    fn prepare(&self, event: &OutboundEvent, body: String, webhooks: &[PartnerWebhook]) -> Result<Prepared, DeliveryError> {
        let event_id = event.id.to_string();
        let partner_id = event.partner_id.as_str();
        let now_ms = self.records.clock().now_ms();
        let expires_at_ms = Some(now_ms.saturating_add(self.retention_ms(partner_id)));
        let stored = StoredEvent {
            partner_id: partner_id.to_owned(),
            id: event_id.clone(),
            event_type: event.event_type.clone(),
            connection_id: event.connection_id.clone(),
            created_at_ms: now_ms,
            body,
            expires_at_ms,
        };
        let deliveries: Vec<Delivery> =
            webhooks.iter().filter(|w| w.wants(&event.event_type)).map(|w| Delivery::first_run(&stored, &w.id, now_ms)).collect();
        let mut writes = vec![Records::put_write(&stored, Expect::AbsentOrExpired { now_ms })?];
        for d in &deliveries {
            writes.push(Records::put_write(d, Expect::AbsentOrExpired { now_ms })?);
        }
        // Stored with the deliveries, cleared once they are queued: if this process stops in
        // between, the sweeper finds the check and queues them.
        let check = (!deliveries.is_empty()).then(|| self.enqueue_check(partner_id, &event_id, now_ms, expires_at_ms));
        if let Some(check) = &check {
            writes.push(Records::put_write(check, Expect::Any)?);
        }
        Ok(Prepared { writes, deliveries, check, key: stored.key(), event_id })
    }

    /// After a prepared event's writes are committed: its deliveries queued, its check cleared.
    async fn queue_prepared(&self, prepared: &Prepared) -> Result<(), DeliveryError> {
        for d in &prepared.deliveries {
            self.enqueue(d, Duration::ZERO).await?;
        }
        if let Some(check) = &prepared.check {
            self.clear_enqueue_check(check).await;
        }
        Ok(())
    }

    /// A flow's event as the outbox keeps it: numbered (taking the connection's next number
    /// unless the flow took one) and timed.
    async fn outbound_of(&self, event: NewEvent) -> Result<OutboundEvent, PublishError> {
        let now = self.records.clock().now();
        let mut outbound = OutboundEvent::new(&event.partner_id, &event.event_type, now, event.data);
        outbound.id = outbox_id(&event.id);
        if let Some(at_ms) = event.occurred_at_ms {
            outbound.occurred_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000).unwrap_or(now);
        }
        if let Some(connection_id) = &event.connection_id {
            outbound = outbound.for_connection(connection_id);
            outbound.sequence = match event.sequence {
                Some(n) => Some(n),
                None => next_sequence(&self.records, connection_id).await.map_err(|e| PublishError(e.to_string()))?,
            };
        }
        Ok(outbound)
    }

    /// Queues the next attempt of `delivery` (its run, attempt `attempts + 1`).
    pub(crate) async fn enqueue(&self, delivery: &Delivery, delay: Duration) -> Result<(), DeliveryError> {
        let message = DeliveryMessage {
            partner_id: delivery.partner_id.clone(),
            event_id: delivery.event_id.clone(),
            webhook_id: delivery.webhook_id.clone(),
            run: delivery.run,
            attempt: delivery.attempts + 1,
        };
        let body = serde_json::to_string(&message).expect("message serializes");
        self.queue.send(&body, delay).await?;
        Ok(())
    }

    /// Every delivery of one event.
    pub(crate) async fn deliveries_of(&self, partner_id: &str, event_id: &str) -> Result<Vec<Delivery>, DeliveryError> {
        Ok(self.records.query_all(&keys::outbound_event(partner_id, event_id).pk, keys::DELIVERIES_PREFIX).await?)
    }
}

/// The outbox's id of a flow's event: flows name events by what happened (stable across
/// retries, e.g. `event_id` of a feed job); the outbox keys by UUID.
pub fn outbox_id(flow_event_id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(flow_event_id).unwrap_or_else(|_| uuid::Uuid::new_v5(&EVENT_ID_NAMESPACE, flow_event_id.as_bytes()))
}

/// Namespace of event ids derived from names (UUIDv5); fixed forever.
const EVENT_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c65_7665_722d_6875_622d_6576_656e_7473);

/// An event ready to store: its writes, and what is queued once they are committed.
struct Prepared {
    writes: Vec<Write>,
    deliveries: Vec<Delivery>,
    check: Option<EnqueueCheck>,
    /// The event's own item.
    key: Key,
    event_id: String,
}

#[async_trait]
impl EventPublisher for EventDelivery {
    /// A flow's event, numbered and timed, into the outbox.
    async fn publish(&self, event: NewEvent) -> Result<(), PublishError> {
        let outbound = self.outbound_of(event).await?;
        EventDelivery::publish(self, &outbound).await.map(|_| ()).map_err(|e| PublishError(e.to_string()))
    }

    /// Each partner's endpoints are read once for all of `events`.
    async fn stage(&self, events: Vec<NewEvent>) -> Result<Option<Vec<StagedEvent>>, PublishError> {
        let failed = |e: DeliveryError| PublishError(e.to_string());
        let mut webhooks: HashMap<String, Vec<PartnerWebhook>> = HashMap::new();
        let mut staged = Vec::with_capacity(events.len());
        for event in events {
            let outbound = self.outbound_of(event).await?;
            let body = Self::body_of(&outbound).map_err(failed)?;
            if !webhooks.contains_key(&outbound.partner_id) {
                let found = self.webhooks(&outbound.partner_id).await.map_err(failed)?;
                webhooks.insert(outbound.partner_id.clone(), found);
            }
            let endpoints = webhooks.get(&outbound.partner_id).map_or(&[][..], Vec::as_slice);
            let mut prepared = self.prepare(&outbound, body, endpoints).map_err(failed)?;
            let writes = std::mem::take(&mut prepared.writes);
            staged.push(StagedEvent { writes, after: Box::new(prepared) });
        }
        Ok(Some(staged))
    }

    /// One consistent batch read finds the events already stored. The others' deliveries (and
    /// the check that queues them) are written first, the events after: a stored event always
    /// has its deliveries. Deliveries whose event is not stored yet (the writer stopped in
    /// between) have sent nothing, since a delivery finds no body to send without its event,
    /// and the next try stores them again whole with the event.
    async fn store_new(&self, staged: &mut [StagedEvent]) -> Result<Option<Vec<bool>>, PublishError> {
        let failed = |e: StoreError| PublishError(e.to_string());
        let mut keys = Vec::with_capacity(staged.len());
        for s in staged.iter() {
            let Some(prepared) = s.after.downcast_ref::<Prepared>() else {
                return Err(PublishError("an event staged by another publisher".into()));
            };
            keys.push(prepared.key.clone());
        }
        let fresh: Vec<bool> = self.records.get_many::<StoredEvent>(&keys).await.map_err(failed)?.iter().map(Option::is_none).collect();
        let (mut events, mut deliveries) = (vec![], vec![]);
        for ((s, key), _) in staged.iter_mut().zip(&keys).zip(&fresh).filter(|(_, fresh)| **fresh) {
            for w in std::mem::take(&mut s.writes) {
                match &w {
                    Write::Put { item, .. } if item.key == *key => events.push(w),
                    _ => deliveries.push(w),
                }
            }
        }
        self.records.put_new(deliveries).await.map_err(failed)?;
        self.records.put_new(events).await.map_err(failed)?;
        Ok(Some(fresh))
    }

    async fn committed(&self, staged: Vec<StagedEvent>) -> Result<(), PublishError> {
        for s in staged {
            let Ok(prepared) = s.after.downcast::<Prepared>() else {
                return Err(PublishError("an event staged by another publisher".into()));
            };
            self.queue_prepared(&prepared).await.map_err(|e| PublishError(e.to_string()))?;
            tracing::info!(event_id = %prepared.event_id, deliveries = prepared.deliveries.len(), "event published");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_body_names_the_type_and_omits_an_absent_connection() {
        let at = time::macros::datetime!(2026-11-26 19:00:00 UTC);
        let id = uuid::Uuid::from_u128(1);
        let event = OutboundEvent { id, ..OutboundEvent::new("p1", "job.created", at, serde_json::json!({"a": 1})) };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            format!(
                r#"{{"id":"{id}","type":"job.created","partner_id":"p1","occurred_at":"2026-11-26T19:00:00Z","created_at":"2026-11-26T19:00:00Z","data":{{"a":1}}}}"#
            )
        );
    }
}
