//! Connection status changes, written once: a compare-and-set on the connection, and only the
//! writer that actually changed the status announces it — so a revocation seen by fifty
//! concurrent Lambdas yields exactly one `connection.status_changed` event.

use std::sync::Arc;

use serde_json::json;

use super::activity::ActivityLog;
use super::events::{EventPublisher, NewEvent};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::store::{Records, StoreError, Versioned, keys};

#[derive(Clone)]
pub struct StatusChanges {
    records: Records,
    events: Arc<dyn EventPublisher>,
    activity: ActivityLog,
    catalog: Arc<ProfileCatalog>,
}

impl StatusChanges {
    pub fn new(records: Records, events: Arc<dyn EventPublisher>, activity: ActivityLog, catalog: Arc<ProfileCatalog>) -> Self {
        Self { records, events, activity, catalog }
    }

    /// Applies `change` to the connection. If the status differs afterwards, the change is
    /// announced (event + activity) by this caller alone. Returns the stored connection.
    pub async fn apply(
        &self,
        connection_id: &str,
        reason: Option<String>,
        mut change: impl FnMut(&mut Connection) + Send,
    ) -> Result<Option<(Versioned<Connection>, Option<ConnectionStatus>)>, StoreError> {
        let now = self.records.clock().now_ms();
        let mut from = None;
        let stored = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| {
                let before = c.status;
                change(c);
                c.updated_at_ms = now;
                from = (c.status != before).then_some(before);
                if from.is_some() {
                    c.status_reason = reason.clone();
                    // The announcement's number is taken in the write that makes the change, so
                    // the order of status events is the order of the changes.
                    c.event_sequence += 1;
                }
                true
            })
            .await?;
        let Some(stored) = stored else { return Ok(None) };
        if let Some(before) = from {
            self.announce(&stored.record, before, stored.version, now).await;
        }
        Ok(Some((stored, from)))
    }

    /// Moves an active connection to `needs_reconnect` (Lever refused our tokens), and records
    /// the refusal as the token flow's last failure.
    pub async fn needs_reconnect(&self, connection_id: &str, reason: &str) -> Result<bool, StoreError> {
        let now = self.records.clock().now_ms();
        let changed = self
            .apply(connection_id, Some(reason.to_owned()), |c| {
                if c.status == ConnectionStatus::Active {
                    c.status = ConnectionStatus::NeedsReconnect;
                }
                c.flow_health.entry("tokens".into()).or_default().failed(now, reason);
            })
            .await?;
        Ok(changed.is_some_and(|(_, from)| from.is_some()))
    }

    async fn announce(&self, c: &Connection, from: ConnectionStatus, version: u64, at_ms: i64) {
        let event = NewEvent {
            // Derived from the version that made the change: a retried announcement dedupes.
            id: format!("{}-status-{version}", c.id),
            event_type: "connection.status_changed".into(),
            partner_id: c.partner_id.clone(),
            connection_id: Some(c.id.clone()),
            sequence: Some(c.event_sequence),
            occurred_at_ms: Some(at_ms),
            data: json!({
                "connection_id": c.id,
                "from": from,
                "to": c.status,
                "health": health(c.status, !missing_settings(&self.catalog, c).is_empty()),
                "reason": c.status_reason,
            }),
        };
        if let Err(e) = self.events.publish(event).await {
            tracing::error!(connection_id = %c.id, error = %e, "status change not announced");
        }
        let message = format!("status {} → {}", status_name(from), status_name(c.status));
        let message = match &c.status_reason {
            Some(r) => format!("{message}: {r}"),
            None => message,
        };
        self.activity.note(&c.id, "connection.status_changed", c.status == ConnectionStatus::Active, message).await;
    }
}

pub fn status_name(s: ConnectionStatus) -> &'static str {
    match s {
        ConnectionStatus::Pending => "pending",
        ConnectionStatus::Active => "active",
        ConnectionStatus::NeedsReconnect => "needs_reconnect",
        ConnectionStatus::Disconnected => "disconnected",
    }
}

/// The partner's traffic light: `green` works; `yellow` waits for the customer (consent not
/// given yet, or a setting the profile requires not chosen); `red` is broken or off (needs a
/// reconnect, disconnected).
pub fn health(s: ConnectionStatus, missing_required_settings: bool) -> &'static str {
    match s {
        ConnectionStatus::Active if missing_required_settings => "yellow",
        ConnectionStatus::Active => "green",
        ConnectionStatus::Pending => "yellow",
        ConnectionStatus::NeedsReconnect | ConnectionStatus::Disconnected => "red",
    }
}

/// Settings the connection's profile requires that the customer has not chosen yet
/// (`settings.<name>` paths).
pub fn missing_settings(catalog: &ProfileCatalog, c: &Connection) -> Vec<String> {
    let required: Vec<String> = catalog.get(&c.partner_id).map_or_else(Vec::new, |profile| {
        c.settings.validate(profile).into_iter().filter(|i| i.reason.starts_with("required by")).map(|i| i.field).collect()
    });
    // And those Lever refused when they were checked after consent.
    let mut missing: Vec<String> = required.into_iter().chain(c.settings_issues.keys().cloned()).collect();
    missing.sort();
    missing.dedup();
    missing
}
