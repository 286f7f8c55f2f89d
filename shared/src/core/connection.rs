//! A connection: one customer's Lever account linked to one partner through the hub.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::flow_runs::ScheduledFlow;
use super::settings::ConnectionSettings;
use crate::secrets::Sealed;

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

/// What the hub knows of the customer's Lever account after consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeverAccount {
    pub account_id: Option<String>,
    /// The user who clicked Accept (a Super Admin).
    pub authorized_by_user_id: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub partner_id: String,
    pub status: ConnectionStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub lever: Option<LeverAccount>,
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
            lever: None,
            tokens: None,
            schedules: BTreeMap::new(),
            settings: Default::default(),
            flow_health: Default::default(),
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
    fn token_contexts_differ_by_connection_and_kind() {
        assert_ne!(token_context("a", TokenKind::Access), token_context("a", TokenKind::Refresh));
        assert_ne!(token_context("a", TokenKind::Access), token_context("b", TokenKind::Access));
    }
}
