//! The dispatcher: every minute (EventBridge Scheduler), find the connections whose flows are due
//! on the sharded due index (never a scan), and hand each due (connection, flow) to that flow's
//! queue as a [`FlowRun`].
//!
//! Exactly once per due time, however many dispatchers overlap: a run is enqueued only by the
//! dispatcher whose compare-and-set moved the flow's next-run time forward. The cost is the due
//! connections (one index query per shard and page, one read-modify-write each), not all
//! connections. A connection that is not active carries no due entry at all.
//!
//! A partner (or an operator) can also start a flow now: [`Dispatcher::request_now`] enqueues a
//! run without touching the schedule.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::flow_runs::{ScheduledFlow, next_run};
use crate::queue::{Queue, QueueError};
use crate::store::keys::{self, DUE_SHARDS};
use crate::store::{DueQuery, Records, StoreError, Versioned};

/// The dispatcher's scheduled event: the minute Scheduler ran it for (`Input` in the template,
/// `<aws.scheduler.scheduled-time>`). The dispatcher works for that minute, not for the clock
/// when its process gets round to it, so a late or replayed run dispatches what was due then.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchEvent {
    #[serde(default)]
    pub scheduled_time: Option<String>,
}

impl DispatchEvent {
    /// The scheduled time in epoch milliseconds; `fallback` when the event has none (an
    /// operator's manual invoke) or one that is not an RFC 3339 time.
    pub fn now_ms(&self, fallback: i64) -> i64 {
        self.scheduled_time.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok()).map_or(fallback, |t| t.as_millisecond())
    }
}

/// Why a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// The flow's schedule fell due.
    Schedule,
    /// The partner asked through the API (or an operator through `hub-ops`).
    Manual,
}

/// One run of one flow for one connection: the message on the flow's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRun {
    pub connection_id: String,
    pub flow: ScheduledFlow,
    pub trigger: RunTrigger,
    /// The schedule time this run is for (manual runs: when it was asked for).
    pub due_at_ms: i64,
    /// Options of a manual run (e.g. `{"all": true}` for a full hires import); flows define them.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub options: serde_json::Value,
}

impl FlowRun {
    pub fn parse(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct DispatchReport {
    /// Connections found due on the index.
    pub due: usize,
    /// Runs this dispatcher enqueued.
    pub enqueued: usize,
    /// Due connections another dispatcher had already taken.
    pub taken_by_another: usize,
    /// Runs that could not be enqueued; their schedule was put back so the next minute retries.
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("no queue for the {0} flow")]
    NoQueue(&'static str),
    #[error("no connection {0}")]
    UnknownConnection(String),
}

/// Index pages the dispatcher reads per shard and minute; a backlog beyond this waits a minute.
const PAGE: usize = 100;
const MAX_PAGES_PER_SHARD: usize = 50;

#[derive(Clone)]
pub struct Dispatcher {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    queues: BTreeMap<ScheduledFlow, Arc<dyn Queue>>,
}

impl Dispatcher {
    pub fn new(records: Records, catalog: Arc<ProfileCatalog>, queues: BTreeMap<ScheduledFlow, Arc<dyn Queue>>) -> Self {
        Self { records, catalog, queues }
    }

    fn queue(&self, flow: ScheduledFlow) -> Result<&Arc<dyn Queue>, DispatchError> {
        self.queues.get(&flow).ok_or(DispatchError::NoQueue(flow.as_str()))
    }

    /// One pass over the due index at `now_ms`.
    pub async fn dispatch_once(&self, now_ms: i64) -> Result<DispatchReport, DispatchError> {
        let mut report = DispatchReport::default();
        for shard in 0..DUE_SHARDS {
            let mut query = DueQuery { partition: keys::due_partition(shard), up_to: keys::due_up_to(now_ms), limit: PAGE, cursor: None };
            for _ in 0..MAX_PAGES_PER_SHARD {
                let (page, cursor) = self.records.due::<Connection>(&query).await?;
                for due in page {
                    report.due += 1;
                    self.dispatch_connection(due, now_ms, &mut report).await?;
                }
                match cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(report)
    }

    /// Moves the due flows of one connection forward; the writer that wins enqueues them.
    async fn dispatch_connection(&self, due: Versioned<Connection>, now_ms: i64, report: &mut DispatchReport) -> Result<(), DispatchError> {
        let connection_id = due.record.id.clone();
        let connection_id = connection_id.as_str();
        let mut taken: Vec<(ScheduledFlow, i64)> = vec![];
        let catalog = self.catalog.clone();
        // The index page was read by key, strongly consistently: its record is the first try.
        let updated = self
            .records
            .update_from::<Connection>(due, |c| {
                taken.clear();
                let due = c.due_flows(now_ms);
                if due.is_empty() {
                    return false;
                }
                let profile = catalog.get(&c.partner_id).cloned();
                for flow in due {
                    let due_at = c.schedules.get(&flow).copied().unwrap_or(now_ms);
                    taken.push((flow, due_at));
                    match profile.as_deref().and_then(|p| next_run(flow, p, &c.settings, &c.id, now_ms)) {
                        Some(next) => c.schedules.insert(flow, next),
                        None => c.schedules.remove(&flow),
                    };
                }
                true
            })
            .await?;
        if updated.is_none() || taken.is_empty() {
            report.taken_by_another += 1;
            return Ok(());
        }
        for (flow, due_at_ms) in taken {
            let run =
                FlowRun { connection_id: connection_id.to_owned(), flow, trigger: RunTrigger::Schedule, due_at_ms, options: serde_json::Value::Null };
            match self.enqueue(&run).await {
                Ok(()) => {
                    report.enqueued += 1;
                    // How late the run starts after its due time (dispatcher cadence + backlog).
                    let late = Duration::from_millis(now_ms.saturating_sub(due_at_ms).max(0) as u64);
                    crate::metrics::duration(flow.as_str(), None, "ScheduleLag", late);
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(connection_id, flow = flow.as_str(), error = %e, "run not enqueued; retried next minute");
                    self.put_back(connection_id, flow, due_at_ms).await?;
                }
            }
        }
        Ok(())
    }

    /// After a failed enqueue the flow is due again at its old time, unless it moved meanwhile.
    async fn put_back(&self, connection_id: &str, flow: ScheduledFlow, due_at_ms: i64) -> Result<(), DispatchError> {
        self.records
            .update::<Connection>(&keys::connection(connection_id), |c| match c.schedules.get(&flow) {
                Some(at) if *at > due_at_ms => {
                    c.schedules.insert(flow, due_at_ms);
                    true
                }
                _ => false,
            })
            .await?;
        Ok(())
    }

    async fn enqueue(&self, run: &FlowRun) -> Result<(), DispatchError> {
        let body = serde_json::to_string(run).map_err(|e| QueueError::Invalid(e.to_string()))?;
        self.queue(run.flow)?.send(&body, Duration::ZERO).await?;
        Ok(())
    }

    /// Starts `flow` for the connection now (the caller has checked the connection is the
    /// partner's and active). The schedule is unchanged.
    pub async fn request_now(&self, connection_id: &str, flow: ScheduledFlow, options: serde_json::Value) -> Result<FlowRun, DispatchError> {
        let run =
            FlowRun { connection_id: connection_id.to_owned(), flow, trigger: RunTrigger::Manual, due_at_ms: self.records.clock().now_ms(), options };
        self.enqueue(&run).await?;
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::DispatchEvent;

    #[test]
    fn the_scheduled_time_is_the_dispatchers_now() {
        let event: DispatchEvent = serde_json::from_str(r#"{"scheduled_time": "2026-12-07T23:55:00Z"}"#).unwrap();
        assert_eq!(event.now_ms(7), 1_796_687_700_000);
        let manual: DispatchEvent = serde_json::from_str("{}").unwrap();
        assert_eq!(manual.now_ms(7), 7, "no scheduled time: the clock");
        let garbled: DispatchEvent = serde_json::from_str(r#"{"scheduled_time": "soon"}"#).unwrap();
        assert_eq!(garbled.now_ms(7), 7);
    }
}
