//! The port through which flows announce events to partners. Delivery (signing, retries,
//! dead-lettering, replay) sits behind it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::core::connection::Connection;
use crate::store::{Records, StoreError, Write, keys};

/// An event for one partner, before it is stored and delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// Stable id, so publishing the same fact twice delivers it once.
    pub id: String,
    /// `connection.status_changed`, `job.created`, …
    pub event_type: String,
    pub partner_id: String,
    pub connection_id: Option<String>,
    /// The event's place among the connection's events, when the flow took it in the same
    /// write that made the change (status changes); otherwise the publisher takes the next one.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// When the fact happened (epoch ms); `None` = when it is published.
    #[serde(default)]
    pub occurred_at_ms: Option<i64>,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[error("event not published: {0}")]
pub struct PublishError(pub String);

/// An event staged into a caller's own store transaction ([`EventPublisher::stage`]).
pub struct StagedEvent {
    /// The writes that store the event; committed with the caller's change, all or none.
    pub writes: Vec<Write>,
    /// What the publisher still does once they are committed (queue the deliveries).
    pub after: Box<dyn std::any::Any + Send + Sync>,
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: NewEvent) -> Result<(), PublishError>;

    /// The store writes that publish each of `events`, for a caller that commits them in one
    /// transaction with the changes they announce: a change and its event cost one store call,
    /// and neither is ever stored without the other. After the commit the caller hands them to
    /// [`EventPublisher::committed`]; if the transaction fails it publishes them instead (the
    /// same ids, so none is announced twice). `None`: this publisher cannot stage.
    async fn stage(&self, events: Vec<NewEvent>) -> Result<Option<Vec<StagedEvent>>, PublishError> {
        let _ = events;
        Ok(None)
    }

    /// Stores staged events without conditions, in few store calls (see
    /// [`crate::store::Store::put_new`]), for a caller that alone may announce them and has just
    /// read the changes they announce as new (a job sync under its lease). An event already
    /// stored (by an earlier run cut short before it wrote its changes) is left as it is. For
    /// each event, whether it is stored now; the caller publishes the `false` ones the careful
    /// way. The caller hands the stored ones to [`EventPublisher::committed`] once the changes
    /// are written; their `writes` are taken (stored now, or not to be). `None`: this publisher
    /// cannot.
    async fn store_new(&self, staged: &mut [StagedEvent]) -> Result<Option<Vec<bool>>, PublishError> {
        let _ = staged;
        Ok(None)
    }

    /// Staged events whose writes were committed: queues what they are to deliver.
    async fn committed(&self, staged: Vec<StagedEvent>) -> Result<(), PublishError> {
        let _ = staged;
        Ok(())
    }
}

/// Takes `n` consecutive event sequence numbers of a connection in one compare-and-set (a flow
/// about to announce many changes at once, e.g. a page of jobs); returns the first. `None` when
/// there is no such connection.
pub async fn take_sequences(records: &Records, connection_id: &str, n: u64) -> Result<Option<u64>, StoreError> {
    let key = keys::connection(connection_id);
    for attempt in 0..64u64 {
        let Some(current) = records.get::<Connection>(&key).await? else { return Ok(None) };
        let mut connection = current.record;
        let first = connection.event_sequence + 1;
        connection.event_sequence += n;
        match records.replace(&connection, current.version).await {
            Ok(_) => return Ok(Some(first)),
            Err(StoreError::ConditionFailed) => {
                let ms = rand::random_range(0..=attempt.min(10) + 1);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// Takes the next event sequence number of a connection: a compare-and-set on the connection
/// record, retried (with jitter) while other writers get there first. `None` when there is no
/// such connection.
pub async fn next_sequence(records: &Records, connection_id: &str) -> Result<Option<u64>, StoreError> {
    let key = keys::connection(connection_id);
    for attempt in 0..64u64 {
        let Some(current) = records.get::<Connection>(&key).await? else { return Ok(None) };
        let mut connection = current.record;
        connection.event_sequence += 1;
        match records.replace(&connection, current.version).await {
            Ok(_) => return Ok(Some(connection.event_sequence)),
            Err(StoreError::ConditionFailed) => {
                let ms = rand::random_range(0..=attempt.min(10) + 1);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
