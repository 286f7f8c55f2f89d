//! The sweeper: finds events whose deliveries were stored but never queued (the process
//! stopped between the outbox write and the queue) and queues them.
//!
//! Publish and replay write an [`EnqueueCheck`] in the same step that stores the deliveries and
//! delete it once every delivery is queued. The check sits in the sweep partitions of the due
//! index, sorted by the time after which it counts as left behind, so the sweeper reads only
//! checks that are overdue — a few index queries, never a scan. Queueing a delivery that was in
//! fact queued is harmless: a duplicate message finds its attempt claimed or made.

use std::time::Duration;

use super::records::{Delivery, DeliveryStatus, EnqueueCheck};
use super::{DeliveryError, EventDelivery};
use crate::queue::MAX_DELAY;
use crate::store::{DueQuery, Expect, keys};

/// Most checks one sweep handles; the rest wait for the next run (a schedule calls again).
const MAX_CHECKS_PER_SWEEP: usize = 1_000;

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Left-behind checks found (and cleared).
    pub checks: usize,
    /// Deliveries queued because of them.
    pub queued: usize,
    /// More overdue checks remain than one sweep handles.
    pub more: bool,
}

impl EventDelivery {
    /// A check for `event_id` that falls due after the policy's `sweep_after`.
    pub(crate) fn enqueue_check(&self, partner_id: &str, event_id: &str, now_ms: i64, expires_at_ms: Option<i64>) -> EnqueueCheck {
        let after = i64::try_from(self.policy.sweep_after.as_millis()).unwrap_or(i64::MAX / 2);
        EnqueueCheck {
            partner_id: partner_id.to_owned(),
            event_id: event_id.to_owned(),
            check_at_ms: now_ms.saturating_add(after),
            token: uuid::Uuid::new_v4().to_string(),
            expires_at_ms,
        }
    }

    /// Deletes the check once its writer has queued everything, unless another writer (a
    /// replay) has re-armed it since. Best effort: a check left behind costs one harmless sweep.
    pub(crate) async fn clear_enqueue_check(&self, check: &EnqueueCheck) {
        let key = keys::enqueue_check(&check.partner_id, &check.event_id);
        let result = match self.records.get::<EnqueueCheck>(&key).await {
            Ok(Some(current)) if current.record.token == check.token => self.records.remove(&key, Expect::Version(current.version)).await.map(|_| ()),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(event_id = %check.event_id, error = %e, "enqueue check not cleared; the sweeper will");
        }
    }

    /// One sweep at `now_ms`: every check overdue by then is resolved by queueing the event's
    /// pending deliveries that no worker holds, then deleted. The entry point of the sweep
    /// schedule (EventBridge in AWS, a timer in `hub-local`).
    pub async fn sweep_once(&self, now_ms: i64) -> Result<SweepReport, DeliveryError> {
        let mut report = SweepReport::default();
        for shard in 0..keys::SWEEP_SHARDS {
            let mut query = DueQuery { partition: keys::sweep_partition(shard), up_to: keys::due_up_to(now_ms), limit: 100, cursor: None };
            loop {
                if report.checks >= MAX_CHECKS_PER_SWEEP {
                    report.more = true;
                    return Ok(report);
                }
                let (checks, cursor) = self.records.due::<EnqueueCheck>(&query).await?;
                for check in checks {
                    report.queued += self.resolve_check(&check.record, now_ms).await?;
                    self.records
                        .remove(&keys::enqueue_check(&check.record.partner_id, &check.record.event_id), Expect::Version(check.version))
                        .await?;
                    report.checks += 1;
                }
                match cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
        }
        if report.checks > 0 {
            tracing::warn!(checks = report.checks, queued = report.queued, "sweeper queued deliveries that were stored but not queued");
        }
        Ok(report)
    }

    /// Queues the pending deliveries of the check's event that no worker is attempting now.
    async fn resolve_check(&self, check: &EnqueueCheck, now_ms: i64) -> Result<usize, DeliveryError> {
        let deliveries = self.deliveries_of(&check.partner_id, &check.event_id).await?;
        let mut queued = 0;
        for d in deliveries.iter().filter(|d| needs_queueing(d, now_ms)) {
            let wait = d.next_attempt_at_ms.map_or(0, |at| u64::try_from(at - now_ms).unwrap_or(0));
            self.enqueue(d, Duration::from_millis(wait).min(MAX_DELAY)).await?;
            tracing::info!(partner_id = %d.partner_id, event_id = %d.event_id, webhook_id = %d.webhook_id, attempt = d.attempts + 1, "delivery queued by the sweeper");
            queued += 1;
        }
        Ok(queued)
    }
}

fn needs_queueing(d: &Delivery, now_ms: i64) -> bool {
    d.status == DeliveryStatus::Pending && d.claim.is_none_or(|c| c.until_ms <= now_ms)
}
