//! The partner's view of its submissions: one, the list (newest first), and a retry.

use std::time::Duration;

use super::records::SubmissionRecord;
use super::{CandidateError, CandidatePolicy, CandidateWork, WorkQueue, ms, owned_connection};
use crate::core::candidate::SubmissionState;
use crate::core::connection::Connection;
use crate::store::{Cursor, Query, Records, keys};

/// A partner's submissions: read, listed, and retried.
#[derive(Clone)]
pub struct Submissions {
    pub(super) records: Records,
    pub(super) queue: WorkQueue,
    pub(super) policy: CandidatePolicy,
}

impl Submissions {
    /// One submission of the partner's connection, with the connection (for stage labels).
    pub async fn get(&self, partner_id: &str, connection_id: &str, submission_id: &str) -> Result<(SubmissionRecord, Connection), CandidateError> {
        let connection = owned_connection(&self.records, partner_id, connection_id).await?;
        let record = self
            .records
            .get::<SubmissionRecord>(&keys::submission(connection_id, submission_id))
            .await?
            .map(|v| v.record)
            .ok_or(CandidateError::NotFound("candidate"))?;
        Ok((record, connection))
    }

    /// A page of the connection's submissions, newest first (ids are time-ordered).
    pub async fn list(
        &self,
        partner_id: &str,
        connection_id: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<SubmissionRecord>, Option<Cursor>, Connection), CandidateError> {
        let connection = owned_connection(&self.records, partner_id, connection_id).await?;
        let query =
            Query { pk: keys::connection(connection_id).pk, sk_prefix: Some(keys::SUBMISSIONS_PREFIX.to_owned()), descending: true, limit, cursor };
        let (page, next) = self.records.query::<SubmissionRecord>(&query).await?;
        Ok((page.into_iter().map(|v| v.record).collect(), next, connection))
    }

    /// Writes a failed submission again (from the start: attempts are counted anew), or brings a
    /// queued or held one forward. A written one is refused.
    pub async fn retry(&self, partner_id: &str, connection_id: &str, submission_id: &str) -> Result<(SubmissionRecord, Connection), CandidateError> {
        let (current, connection) = self.get(partner_id, connection_id, submission_id).await?;
        if current.state.is_written() {
            return Err(CandidateError::Conflict(format!("the candidate is already in Lever ({})", current.state.as_str())));
        }
        let now = self.records.clock().now_ms();
        let grace = ms(self.policy.sweep_grace);
        let stored = self
            .records
            .update::<SubmissionRecord>(&keys::submission(connection_id, submission_id), |r| {
                if r.state.is_written() {
                    return false;
                }
                if r.state == SubmissionState::Failed {
                    r.state = SubmissionState::Queued;
                    r.attempts = 0;
                    r.error = None;
                    r.pending_until_ms = None;
                    r.announced = false;
                }
                // Open again: kept until it is announced anew.
                r.expires_at_ms = None;
                r.next_attempt_at_ms = Some(now);
                r.due_at_ms = Some(now + grace);
                r.updated_at_ms = now;
                true
            })
            .await?
            .map(|v| v.record)
            .ok_or(CandidateError::NotFound("candidate"))?;
        if stored.state.is_written() {
            return Err(CandidateError::Conflict(format!("the candidate is already in Lever ({})", stored.state.as_str())));
        }
        let work = CandidateWork::Submission {
            connection_id: connection_id.to_owned(),
            submission_id: submission_id.to_owned(),
            attempt: None,
            not_before_ms: None,
        };
        self.queue.enqueue(&work, Duration::ZERO).await?;
        Ok((stored, connection))
    }
}
