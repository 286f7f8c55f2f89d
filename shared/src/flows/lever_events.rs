//! Lever's webhooks into the hub: the receiver acknowledges fast, the router acts later.
//!
//! 1. [`LeverWebhookReceiver::receive`] (`POST /lever/webhooks/{connection}`): parse Lever's
//!    envelope, verify its signature with *that* webhook's token (constant-time), refuse stale
//!    `triggeredAt`, dedupe on Lever's per-delivery `token`, record that webhooks are arriving,
//!    and put the event on the Lever-events queue. Nothing is processed before the signature
//!    holds; nothing acknowledged is lost (if the queue refuses, the dedupe mark is removed and
//!    Lever is told to retry).
//! 2. [`LeverEventRouter::handle`] (the queue's consumer): hands the event to every handler
//!    registered for its type (hires import, candidate status events, pending referrals…).
//!    Handlers are small, know their own flow, and must be idempotent: a message can arrive
//!    twice, and a failing handler makes the whole message retry.
//!
//! The receiver and the router know nothing of partners.

mod receive;
mod route;

pub use receive::{InboxPolicy, LeverWebhookReceiver, Receipt, ReceiveError};
pub use route::{HandlerError, LeverEventHandler, LeverEventRouter, RouteOutcome};

use serde::{Deserialize, Serialize};

/// A verified Lever event as the router and its handlers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundLeverEvent {
    pub connection_id: String,
    /// Lever's event name: `candidateHired`, `candidateStageChange`, …
    pub event: String,
    pub triggered_at_ms: i64,
    /// Lever's per-delivery token (the dedupe key).
    pub token: String,
    pub received_at_ms: i64,
    /// Lever's `data`, untouched. Handlers re-read the objects it names from Lever.
    pub data: serde_json::Value,
}

impl InboundLeverEvent {
    /// The opportunity the event is about, when it names one.
    pub fn opportunity_id(&self) -> Option<&str> {
        self.data.get("opportunityId").and_then(|v| v.as_str()).filter(|s| !s.is_empty())
    }

    /// The opportunity, for handlers that have nothing to do without one: an event naming none
    /// is dropped (Lever sending it again would not add one).
    pub fn required_opportunity_id(&self) -> Result<&str, HandlerError> {
        self.opportunity_id().ok_or_else(|| HandlerError::Drop(format!("{} without an opportunityId", self.event)))
    }
}
