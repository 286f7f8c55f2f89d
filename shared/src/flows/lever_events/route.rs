//! The consumer of the Lever-events queue: each event to the handlers of its type.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::InboundLeverEvent;
use crate::core::events::LeverEvent;

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

    /// Registers `handler` for Lever's `event`.
    pub fn on(mut self, event: LeverEvent, handler: Arc<dyn LeverEventHandler>) -> Self {
        self.handlers.entry(event.as_str().to_owned()).or_default().push(handler);
        self
    }

    pub fn handles(&self, event: &str) -> bool {
        self.handlers.contains_key(event)
    }

    /// One queue message. Every handler of the event runs, whatever the others answer (one
    /// flow's refusal must not starve another flow of the event); the message comes back if any
    /// asked for a retry, and all of them see it again then (handlers are idempotent).
    pub async fn handle(&self, body: &str) -> RouteOutcome {
        let event: InboundLeverEvent = match serde_json::from_str(body) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "unreadable Lever event message dropped");
                return RouteOutcome::Dropped(format!("unreadable message: {e}"));
            }
        };
        let handlers = self.handlers.get(&event.event).map(Vec::as_slice).unwrap_or_default();
        let (mut retry, mut dropped) = (None, None);
        for handler in handlers {
            match handler.handle(&event).await {
                Ok(()) => {}
                Err(HandlerError::Retry(why)) => {
                    tracing::warn!(connection_id = %event.connection_id, event = %event.event, handler = handler.name(), why, "Lever event will be retried");
                    retry.get_or_insert(why);
                }
                Err(HandlerError::Drop(why)) => {
                    tracing::warn!(connection_id = %event.connection_id, event = %event.event, handler = handler.name(), why, "Lever event dropped by a handler");
                    dropped.get_or_insert(why);
                }
            }
        }
        match (retry, dropped) {
            (Some(why), _) => RouteOutcome::Retry(why),
            (None, Some(why)) => RouteOutcome::Dropped(why),
            (None, None) => RouteOutcome::Done { handlers: handlers.len() },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting {
        calls: AtomicUsize,
        answer: fn() -> Result<(), HandlerError>,
    }

    #[async_trait]
    impl LeverEventHandler for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn handle(&self, _: &InboundLeverEvent) -> Result<(), HandlerError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            (self.answer)()
        }
    }

    fn handler(answer: fn() -> Result<(), HandlerError>) -> Arc<Counting> {
        Arc::new(Counting { calls: AtomicUsize::new(0), answer })
    }

    fn message(event: &str) -> String {
        serde_json::to_string(&InboundLeverEvent {
            connection_id: "c1".into(),
            event: event.into(),
            triggered_at_ms: 1,
            token: "t".into(),
            received_at_ms: 2,
            data: serde_json::json!({"opportunityId": "o1"}),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn every_handler_of_an_event_runs_whatever_the_others_answer() {
        let (hires, status, other) = (handler(|| Ok(())), handler(|| Ok(())), handler(|| Ok(())));
        let router = LeverEventRouter::new()
            .on(LeverEvent::CandidateHired, hires.clone())
            .on(LeverEvent::CandidateHired, status.clone())
            .on(LeverEvent::CandidateStageChange, other.clone());
        assert_eq!(router.handle(&message("candidateHired")).await, RouteOutcome::Done { handlers: 2 });
        assert_eq!((hires.calls.load(Ordering::SeqCst), status.calls.load(Ordering::SeqCst), other.calls.load(Ordering::SeqCst)), (1, 1, 0));

        let (dropping, after) = (handler(|| Err(HandlerError::Drop("not mine".into()))), handler(|| Ok(())));
        let router = LeverEventRouter::new().on(LeverEvent::CandidateHired, dropping).on(LeverEvent::CandidateHired, after.clone());
        let outcome = router.handle(&message("candidateHired")).await;
        assert_eq!(outcome, RouteOutcome::Dropped("not mine".into()));
        assert!(outcome.ack());
        assert_eq!(after.calls.load(Ordering::SeqCst), 1, "a refusal does not keep the event from the next flow");

        let (retrying, dropping) = (handler(|| Err(HandlerError::Retry("Lever busy".into()))), handler(|| Err(HandlerError::Drop("x".into()))));
        let router = LeverEventRouter::new().on(LeverEvent::CandidateHired, retrying).on(LeverEvent::CandidateHired, dropping.clone());
        let outcome = router.handle(&message("candidateHired")).await;
        assert_eq!(outcome, RouteOutcome::Retry("Lever busy".into()), "a retry wins: the message comes back");
        assert!(!outcome.ack());
        assert_eq!(dropping.calls.load(Ordering::SeqCst), 1);

        assert_eq!(LeverEventRouter::new().handle(&message("candidateDeleted")).await, RouteOutcome::Done { handlers: 0 });
        assert!(matches!(LeverEventRouter::new().handle("not json").await, RouteOutcome::Dropped(_)));
    }
}
