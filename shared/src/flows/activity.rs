//! The activity log of a connection: what the hub did for it and what went wrong, readable by
//! the partner newest first. Entries expire after 90 days.

use serde::{Deserialize, Serialize};

use crate::store::{Cursor, Key, Query, Record, Records, StoreError, keys};

const RETENTION_MS: i64 = 90 * 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub connection_id: String,
    pub id: String,
    pub at_ms: i64,
    /// Stable, dotted: `connect.started`, `token.refreshed`, `sync.failed`, …
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub ok: bool,
}

impl Record for ActivityEntry {
    const KIND: &'static str = "activity";
    fn key(&self) -> Key {
        keys::activity(&self.connection_id, self.at_ms, &self.id)
    }
    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.at_ms + RETENTION_MS)
    }
}

#[derive(Clone)]
pub struct ActivityLog {
    records: Records,
}

impl ActivityLog {
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// Appends an entry. The log is an aid, not a source of truth: a failure to write it is
    /// logged and never fails the work it describes.
    pub async fn note(&self, connection_id: &str, kind: &str, ok: bool, message: impl Into<String>) {
        let entry = ActivityEntry {
            connection_id: connection_id.to_owned(),
            // Time-ordered (and monotonic within a process): entries of the same millisecond
            // still list in the order they were written.
            id: uuid::Uuid::now_v7().simple().to_string(),
            at_ms: self.records.clock().now_ms(),
            kind: kind.to_owned(),
            message: message.into(),
            ok,
        };
        if let Err(e) = self.records.create(&entry).await {
            tracing::warn!(connection_id, kind, error = %e, "activity entry not written");
        }
    }

    pub async fn page(&self, connection_id: &str, limit: usize, cursor: Option<Cursor>) -> Result<(Vec<ActivityEntry>, Option<Cursor>), StoreError> {
        let q = Query {
            pk: keys::connection(connection_id).pk,
            sk_prefix: Some(keys::ACTIVITY_PREFIX.into()),
            descending: true,
            limit: limit.clamp(1, 100),
            cursor,
        };
        let (items, next) = self.records.query::<ActivityEntry>(&q).await?;
        Ok((items.into_iter().map(|v| v.record).collect(), next))
    }
}
