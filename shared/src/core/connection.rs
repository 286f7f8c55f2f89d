//! A connection: one customer's Lever account linked to one partner through the hub.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::environment::LeverEnvironment;
use super::flow_runs::ScheduledFlow;
use super::sealed::Sealed;
use super::settings::ConnectionSettings;

/// How one flow of a connection has been doing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowHealth {
    pub last_success_at_ms: Option<i64>,
    pub last_failure_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl FlowHealth {
    pub fn succeeded(&mut self, at_ms: i64) {
        self.last_success_at_ms = Some(at_ms);
    }

    pub fn failed(&mut self, at_ms: i64, error: impl Into<String>) {
        self.last_failure_at_ms = Some(at_ms);
        self.last_error = Some(error.into());
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Created by the partner; the customer has not finished Lever's consent screen yet.
    Pending,
    Active,
    /// Lever refused our tokens (revoked in Lever, or 90 idle days): the customer must reconnect.
    NeedsReconnect,
    /// Disconnected by the partner; kept for its imported data, no further work.
    Disconnected,
}

impl ConnectionStatus {
    /// Whether scheduled work (polls, refreshes) may run for the connection.
    pub fn is_schedulable(self) -> bool {
        self == ConnectionStatus::Active
    }
}

/// Lever tokens, sealed with the token cipher; the context of each is [`token_context`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedTokens {
    pub access_token: Sealed,
    pub refresh_token: Sealed,
    pub access_expires_at_ms: i64,
    pub refreshed_at_ms: i64,
}

/// Binds a sealed token to its connection and role, so it cannot be moved elsewhere.
pub fn token_context(connection_id: &str, which: TokenKind) -> String {
    let which = match which {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    };
    format!("connection/{connection_id}/{which}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The Lever webhooks registered for a connection, and whether Lever is sending them. Lever
/// sends nothing until a Super Admin switches each webhook group on, which the hub cannot do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookHealth {
    /// Lever events the hub subscribed to at connect.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub registered_at_ms: Option<i64>,
    /// The last verified delivery (updated at most once a minute).
    #[serde(default)]
    pub last_received_at_ms: Option<i64>,
    /// The first verified delivery of each Lever event: a group a Super Admin switched on
    /// shows here (Lever switches groups on and off one by one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub first_received_ms: BTreeMap<String, i64>,
    /// Deletions in Lever the daily pass found that no `candidateDeleted` webhook had brought.
    #[serde(default)]
    pub deletions_missed: u32,
    #[serde(default)]
    pub last_deletion_missed_at_ms: Option<i64>,
}

impl WebhookHealth {
    /// Whether `event` is registered and Lever has not delivered it once.
    pub fn waiting_for(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event) && !self.first_received_ms.contains_key(event)
    }

    /// Registered, but not one delivery has arrived since.
    pub fn waiting_for_first_delivery(&self) -> bool {
        !self.events.is_empty()
            && match (self.registered_at_ms, self.last_received_at_ms) {
                (_, None) => true,
                (Some(registered), Some(received)) => received < registered,
                (None, Some(_)) => false,
            }
    }
}

/// What the hub knows of the customer's Lever account after consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeverAccount {
    pub account_id: Option<String>,
    /// The user who clicked Accept (a Super Admin).
    pub authorized_by_user_id: Option<String>,
    pub scopes: Vec<String>,
    /// The account's own Data API root when Lever redirected its calls elsewhere (an account in
    /// Lever's EU data centre), learned from the redirect: later calls go straight there.
    /// `None` = the deployment's configured root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub partner_id: String,
    pub status: ConnectionStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    /// The Lever environment the connection uses (chosen on the connect page or fixed by the
    /// partner); every Lever call of the connection goes there.
    #[serde(default)]
    pub environment: LeverEnvironment,
    #[serde(default)]
    pub lever: Option<LeverAccount>,
    /// The partner's own name for the connection (its customer's id in the partner's system),
    /// given at create and shown back, so support staff find the connection by it.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub tokens: Option<SealedTokens>,
    /// The next run of each scheduled flow (epoch ms); the earliest is when the dispatcher
    /// picks the connection up.
    #[serde(default)]
    pub schedules: BTreeMap<ScheduledFlow, i64>,
    /// Per-customer settings the partner's profile allows (attribution user, stage map, …).
    #[serde(default)]
    pub settings: ConnectionSettings,
    /// Last success and failure of each flow (`jobs`, `candidates`, `hires`, `tokens`).
    #[serde(default)]
    pub flow_health: BTreeMap<String, FlowHealth>,
    /// The Lever webhooks the hub registered, and whether they arrive.
    #[serde(default)]
    pub webhooks: WebhookHealth,
    /// The `sequence` of the connection's latest event: every event of the connection takes the
    /// next number, by a compare-and-set on this record, so partners can order events that
    /// arrive out of order (a retried older one after a newer one).
    #[serde(default)]
    pub event_sequence: u64,
    /// Settings Lever refused when they were checked after consent (given at create, before
    /// there was a token to check them with): field → why. Cleared by a `PATCH` that passes.
    #[serde(default)]
    pub settings_issues: BTreeMap<String, String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Connection {
    pub fn new(id: impl Into<String>, partner_id: impl Into<String>, now_ms: i64) -> Self {
        Self {
            id: id.into(),
            partner_id: partner_id.into(),
            status: ConnectionStatus::Pending,
            status_reason: None,
            environment: LeverEnvironment::Production,
            lever: None,
            reference: None,
            tokens: None,
            schedules: BTreeMap::new(),
            settings: Default::default(),
            flow_health: Default::default(),
            webhooks: Default::default(),
            event_sequence: 0,
            settings_issues: Default::default(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// The due time the scheduler sees: the earliest flow run, none unless the connection may
    /// be worked on.
    pub fn scheduled_at_ms(&self) -> Option<i64> {
        self.schedules.values().copied().min().filter(|_| self.status.is_schedulable())
    }

    /// The flows due at `now_ms`.
    pub fn due_flows(&self, now_ms: i64) -> Vec<ScheduledFlow> {
        if !self.status.is_schedulable() {
            return vec![];
        }
        self.schedules.iter().filter(|(_, at)| **at <= now_ms).map(|(f, _)| *f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_connections_are_scheduled() {
        let mut c = Connection::new("c1", "p1", 0);
        c.schedules = BTreeMap::from([(ScheduledFlow::Jobs, 30), (ScheduledFlow::Hires, 10)]);
        assert_eq!(c.scheduled_at_ms(), None);
        assert!(c.due_flows(100).is_empty());
        c.status = ConnectionStatus::Active;
        assert_eq!(c.scheduled_at_ms(), Some(10), "the earliest flow");
        assert_eq!(c.due_flows(20), vec![ScheduledFlow::Hires]);
        assert_eq!(c.due_flows(30), vec![ScheduledFlow::Jobs, ScheduledFlow::Hires]);
        c.status = ConnectionStatus::NeedsReconnect;
        assert_eq!(c.scheduled_at_ms(), None);
    }

    #[test]
    fn webhooks_wait_for_a_first_delivery_after_each_registration() {
        let mut w = WebhookHealth::default();
        assert!(!w.waiting_for_first_delivery(), "nothing registered, nothing to wait for");
        w.events = vec!["candidateHired".into()];
        w.registered_at_ms = Some(100);
        assert!(w.waiting_for_first_delivery());
        w.last_received_at_ms = Some(150);
        assert!(!w.waiting_for_first_delivery());
        w.registered_at_ms = Some(200);
        assert!(w.waiting_for_first_delivery(), "registered again (reconnect) after the last delivery");
    }

    #[test]
    fn token_contexts_differ_by_connection_and_kind() {
        assert_ne!(token_context("a", TokenKind::Access), token_context("a", TokenKind::Refresh));
        assert_ne!(token_context("a", TokenKind::Access), token_context("b", TokenKind::Access));
    }
}
