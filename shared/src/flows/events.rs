//! The port through which flows announce events to partners. Delivery (signing, retries,
//! dead-lettering, replay) sits behind it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An event for one partner, before it is stored and delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// Stable id, so publishing the same fact twice delivers it once.
    pub id: String,
    /// `connection.status_changed`, `job.created`, …
    pub event_type: String,
    pub partner_id: String,
    pub connection_id: Option<String>,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[error("event not published: {0}")]
pub struct PublishError(pub String);

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: NewEvent) -> Result<(), PublishError>;
}
