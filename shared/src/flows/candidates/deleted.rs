//! Lever's deletions reach the hub's copies. Lever's `candidateDeleted` webhook: the handler
//! hands the deletion to the candidate writer's queue (the erasure deletes submission files, and
//! the writer is where the file store is). The daily pass: with a connection's status poll, once
//! a day, `GET /opportunities/deleted` since the last pass, for the deletions whose webhook never
//! came (a Super Admin has not switched the group on, or a delivery was lost), and the
//! opportunities Lever anonymised.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::erase::Erasures;
use super::records::{StatusPoll, SubmittedOpportunity};
use super::{CandidateError, CandidateWork};
use crate::core::connection::Connection;
use crate::core::hire::record::HireRecord;
use crate::flows::context::FlowContext;
use crate::flows::lever_events::{HandlerError, InboundLeverEvent, LeverEventHandler};
use crate::lever::model::OpportunitiesQuery;
use crate::lever::page::collect_all;
use crate::queue::Queue;
use crate::store::{Records, keys};

pub struct LeverDeletions {
    queue: Arc<dyn Queue>,
}

impl LeverDeletions {
    /// `queue`: the candidate writer's.
    pub fn new(queue: Arc<dyn Queue>) -> Self {
        Self { queue }
    }
}

#[async_trait]
impl LeverEventHandler for LeverDeletions {
    fn name(&self) -> &'static str {
        "candidate-deletions"
    }

    async fn handle(&self, event: &InboundLeverEvent) -> Result<(), HandlerError> {
        let work =
            CandidateWork::LeverDeleted { connection_id: event.connection_id.clone(), opportunity_id: event.required_opportunity_id()?.to_owned() };
        let body = serde_json::to_string(&work).map_err(|e| HandlerError::Drop(e.to_string()))?;
        self.queue.send(&body, Duration::ZERO).await.map_err(|e| HandlerError::Retry(e.to_string()))
    }
}

/// Lever's deletions are read this often per connection (with its status poll).
const DELETIONS_EVERY_MS: i64 = 24 * 3600 * 1000;
/// Each pass reads back this far before the last one (Lever's clock against ours).
const DELETIONS_OVERLAP_MS: i64 = 3600 * 1000;

/// The daily pass over Lever's deletions, for a deletion whose webhook never came.
#[derive(Clone)]
pub(super) struct DeletionsPass {
    pub(super) records: Records,
    pub(super) ctx: FlowContext,
    pub(super) erasures: Erasures,
}

impl DeletionsPass {
    /// The daily pass of one connection: every opportunity the hub wrote or recorded a hire of
    /// that Lever deleted or anonymised since the last pass is erased (`candidate.deleted`).
    pub(super) async fn deletions_pass(&self, connection_id: &str) -> Result<(), CandidateError> {
        let key = keys::status_poll(connection_id);
        let Some(poll) = self.records.get::<StatusPoll>(&key).await?.map(|v| v.record) else { return Ok(()) };
        let now = self.records.clock().now_ms();
        if poll.deletions_checked_at_ms.is_some_and(|at| now - at < DELETIONS_EVERY_MS) {
            return Ok(());
        }
        let since = poll.deletions_checked_at_ms.map(|at| (at - DELETIONS_OVERLAP_MS).max(0));
        let read = self
            .ctx
            .call(connection_id, |lever, auth| {
                async move {
                    let deleted = collect_all(100, 100, |page| lever.list_deleted_opportunities(&auth, since, page)).await?;
                    // Anonymising updates the opportunity: what changed since the last pass.
                    let query = OpportunitiesQuery { updated_at_start: Some(since.unwrap_or(now - DELETIONS_EVERY_MS)), ..Default::default() };
                    let changed = collect_all(100, 100, |page| lever.list_opportunities(&auth, &query, page)).await?;
                    Ok((deleted, changed))
                }
            })
            .await;
        let (deleted, changed) = match read {
            Ok(found) => found,
            Err(e) => {
                // The next poll tries again: the pass is not marked done.
                tracing::warn!(connection_id, error = %e, "Lever's deletions not read; tried again with the next poll");
                return Ok(());
            }
        };
        let gone = deleted.into_iter().map(|d| d.id).chain(changed.into_iter().filter(|o| o.is_anonymized).map(|o| o.id));
        let mut missed = 0;
        for opportunity_id in gone {
            if self.holds_opportunity(connection_id, &opportunity_id).await? {
                self.erasures.erase_deleted_opportunity(connection_id, &opportunity_id).await?;
                missed += 1;
            }
        }
        if missed > 0 {
            // Still held a day on: the webhook did not bring it (its group is off, most likely).
            // The partner's health says so.
            self.records
                .update::<Connection>(&keys::connection(connection_id), |c| {
                    c.webhooks.deletions_missed = c.webhooks.deletions_missed.saturating_add(missed);
                    c.webhooks.last_deletion_missed_at_ms = Some(now);
                    true
                })
                .await?;
        }
        self.records
            .update::<StatusPoll>(&key, |p| {
                p.deletions_checked_at_ms = Some(now);
                true
            })
            .await?;
        Ok(())
    }

    /// Whether the hub wrote to (or recorded a hire of) the opportunity: only those are its to erase.
    async fn holds_opportunity(&self, connection_id: &str, opportunity_id: &str) -> Result<bool, CandidateError> {
        let written = self.records.get::<SubmittedOpportunity>(&keys::submitted_opportunity(connection_id, opportunity_id)).await?;
        Ok(written.is_some() || self.records.get::<HireRecord>(&keys::hire(connection_id, opportunity_id)).await?.is_some())
    }
}
