//! The candidate sweeper (a schedule, every minute): open submissions whose time has come,
//! status polls due, erasures a failed run left pending and disconnected connections to purge,
//! found on their own partitions of the due index (`SUBDUE#<shard>`, `CANDPOLL#<shard>`,
//! `ERASEDUE`, `PURGEDUE`), never by a scan. Each is
//! pushed forward by a compare-and-set before it is queued or run, so overlapping sweeps take it
//! once; a duplicate is harmless anyway (runs claim, erasures can run twice).

use std::sync::Arc;
use std::time::Duration;

use super::erase::Erasures;
use super::records::{StatusPoll, SubmissionRecord};
use super::{CandidateError, CandidatePolicy, CandidateWork, WorkQueue, ms};
use crate::files::FileStore;
use crate::store::{DueQuery, Records, keys};

/// What one sweep queued.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub submissions: usize,
    pub status_polls: usize,
    /// Pending erasures a failed run left, completed now.
    pub erasures: usize,
    /// Disconnected connections whose grace passed, their personal data erased now.
    pub purges: usize,
    /// Expired items purged from a store with no deleter of its own.
    pub expired: usize,
}

/// At most this many pages of each partition per sweep; the rest waits a minute.
const MAX_PAGES: usize = 10;

/// The schedule's side: what is due on the candidates' partitions of the due index.
#[derive(Clone)]
pub(super) struct Sweeper {
    pub(super) records: Records,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) queue: WorkQueue,
    pub(super) erasures: Erasures,
    pub(super) policy: CandidatePolicy,
}

impl Sweeper {
    pub async fn sweep_once(&self, now_ms: i64) -> Result<SweepReport, CandidateError> {
        let mut report = SweepReport::default();
        let grace = ms(self.policy.sweep_grace);
        for shard in 0..keys::SUBMISSION_DUE_SHARDS {
            let query = DueQuery { partition: keys::submission_due_partition(shard), up_to: keys::due_up_to(now_ms), limit: 100, cursor: None };
            let mut taken = self.records.take_due(query, MAX_PAGES, |r: &mut SubmissionRecord| r.due_at_ms = Some(now_ms + grace));
            while let Some(r) = taken.next().await? {
                let work = CandidateWork::Submission { connection_id: r.connection_id, submission_id: r.id, attempt: None, not_before_ms: None };
                self.queue.enqueue(&work, Duration::ZERO).await?;
                report.submissions += 1;
            }
        }
        for shard in 0..keys::STATUS_POLL_SHARDS {
            let query = DueQuery { partition: keys::status_poll_partition(shard), up_to: keys::due_up_to(now_ms), limit: 100, cursor: None };
            let mut taken = self.records.take_due(query, MAX_PAGES, |p: &mut StatusPoll| p.next_at_ms = now_ms + grace);
            while let Some(p) = taken.next().await? {
                self.queue.enqueue(&CandidateWork::StatusPoll { connection_id: p.connection_id }, Duration::ZERO).await?;
                report.status_polls += 1;
            }
        }
        report.erasures = self.erasures.resume_erasures(now_ms).await?;
        report.purges = self.erasures.purge_disconnected(now_ms).await?;
        // Where nothing deletes expired items (the embedded store), they leave the disk here.
        report.expired = self.records.store().purge_expired(now_ms).await?;
        // And expired files where no lifecycle rule deletes them (a local directory).
        report.expired += self.files.expire(now_ms).await?;
        if report != SweepReport::default() {
            tracing::info!(
                submissions = report.submissions,
                status_polls = report.status_polls,
                erasures = report.erasures,
                purges = report.purges,
                expired = report.expired,
                "candidate sweep queued work"
            );
        }
        Ok(report)
    }
}
