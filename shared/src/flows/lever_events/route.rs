//! The consumer of the Lever-events queue: each event to the handlers of its type.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::InboundLeverEvent;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (Lever or the store unavailable, rate limited): the message comes back.
    #[error("retry later: {0}")]
    Retry(String),
    /// Will never succeed (the connection is gone, the opportunity was deleted): logged, dropped.
    #[error("dropped: {0}")]
    Drop(String),
}

/// One small piece of one flow that reacts to a Lever event. Must be idempotent.
#[async_trait]
pub trait LeverEventHandler: Send + Sync {
    /// For logs: which flow this is (`hires`, `candidate-status`, …).
    fn name(&self) -> &'static str;
    async fn handle(&self, event: &InboundLeverEvent) -> Result<(), HandlerError>;
}

/// How a message ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteOutcome {
    /// Every handler succeeded (or there was none for this event type).
    Done { handlers: usize },
    /// A handler asked for a retry: do not ack, the queue redelivers (and dead-letters at last).
    Retry(String),
    /// Unreadable message or a handler refused for good: ack and forget (logged).
    Dropped(String),
}

impl RouteOutcome {
    /// Whether the queue message can be deleted.
    pub fn ack(&self) -> bool {
        !matches!(self, RouteOutcome::Retry(_))
    }
}

#[derive(Clone, Default)]
pub struct LeverEventRouter {
    handlers: BTreeMap<String, Vec<Arc<dyn LeverEventHandler>>>,
}

impl LeverEventRouter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for Lever's `event` (e.g. `candidateHired`).
    pub fn on(mut self, event: &str, handler: Arc<dyn LeverEventHandler>) -> Self {
        self.handlers.entry(event.to_owned()).or_default().push(handler);
        self
    }

    pub fn handles(&self, event: &str) -> bool {
        self.handlers.contains_key(event)
    }

    /// One queue message.
    pub async fn handle(&self, body: &str) -> RouteOutcome {
        let event: InboundLeverEvent = match serde_json::from_str(body) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "unreadable Lever event message dropped");
                return RouteOutcome::Dropped(format!("unreadable message: {e}"));
            }
        };
        let handlers = self.handlers.get(&event.event).map(Vec::as_slice).unwrap_or_default();
        for handler in handlers {
            match handler.handle(&event).await {
                Ok(()) => {}
                Err(HandlerError::Retry(why)) => {
                    tracing::warn!(connection_id = %event.connection_id, event = %event.event, handler = handler.name(), why, "Lever event will be retried");
                    return RouteOutcome::Retry(why);
                }
                Err(HandlerError::Drop(why)) => {
                    tracing::warn!(connection_id = %event.connection_id, event = %event.event, handler = handler.name(), why, "Lever event dropped by a handler");
                    return RouteOutcome::Dropped(why);
                }
            }
        }
        RouteOutcome::Done { handlers: handlers.len() }
    }
}
