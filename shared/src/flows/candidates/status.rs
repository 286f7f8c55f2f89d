//! The candidate's progress back to the partner, and held referrals released.
//!
//! [`StatusReporter`] handles Lever's `candidateStageChange`, `candidateArchiveChange` and
//! `candidateHired` for opportunities the hub wrote to (others are not the partner's business):
//! it reads the opportunity again (Lever's payload only says which one), compares it with what
//! the partner was last told, and publishes `candidate.stage_changed`, `candidate.archived` and
//! `candidate.hired` with the stage's name (and the customer's label for it). Event ids are the
//! facts' own, so a webhook, its retry and the poll that sees the same change announce it once.
//! The same comparison runs from [`StatusReporter::poll`] when webhooks do not arrive.
//!
//! [`PendingReferralRelease`] handles `applicationCreated`: a held referral of that person for
//! that posting is queued to be written to the new application.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::lever_facts::{LeverFacts, opportunity_if_any};
use super::records::{LeverNames, PendingReferral, StageRef, StatusPoll, SubmissionRecord, SubmittedOpportunity};
use super::stop::Stop;
use super::view::{rfc3339, stage_view};
use super::{CandidateError, CandidatePolicy, CandidateWork, ms};
use crate::core::candidate::{CandidateStatus, StatusChange, email_key, status_changes};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::core::profile::EventKind;
use crate::flows::context::{ContextError, FlowContext};
use crate::flows::events::{EventPublisher, NewEvent};
use crate::flows::lever_calls::LeverCalls;
use crate::flows::lever_events::{HandlerError, InboundLeverEvent, LeverEventHandler};
use crate::flows::tokens::Tokens;
use crate::lever::model::{OpportunitiesQuery, Opportunity, OpportunityExpand};
use crate::lever::page::collect_all;
use crate::lever::port::LeverApi;
use crate::queue::Queue;
use crate::store::{Query, Records, keys};

/// How much of the last poll's window the next one reads again (Lever's clock and ours differ).
const POLL_OVERLAP_MS: i64 = 60_000;

#[derive(Clone)]
pub struct StatusReporter {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    ctx: FlowContext,
    events: Arc<dyn EventPublisher>,
    policy: CandidatePolicy,
}

fn handler_error(stop: Stop) -> HandlerError {
    match stop {
        Stop::Transient { message, .. } => HandlerError::Retry(message),
        Stop::Failed { message, .. } => HandlerError::Drop(message),
    }
}

impl StatusReporter {
    pub fn new(
        records: Records,
        catalog: Arc<ProfileCatalog>,
        lever: Arc<dyn LeverApi>,
        tokens: Tokens,
        events: Arc<dyn EventPublisher>,
        policy: CandidatePolicy,
    ) -> Self {
        let ctx = FlowContext::new(records.clone(), catalog.clone(), LeverCalls::new(lever, tokens));
        Self { records, catalog, ctx, events, policy }
    }

    fn facts(&self) -> LeverFacts {
        LeverFacts::new(self.ctx.clone(), &self.policy)
    }

    async fn active_connection(&self, connection_id: &str) -> Result<Option<Connection>, Stop> {
        Ok(self.records.get::<Connection>(&keys::connection(connection_id)).await?.map(|v| v.record).filter(|c| c.status == ConnectionStatus::Active))
    }

    /// Compares a submitted candidate in Lever with what the partner was told, and tells the
    /// partner what changed. `listed` is the opportunity when a listing already read it.
    pub(crate) async fn sync(&self, connection_id: &str, opportunity_id: &str, listed: Option<Opportunity>) -> Result<usize, Stop> {
        let key = keys::submitted_opportunity(connection_id, opportunity_id);
        let Some(known) = self.records.get::<SubmittedOpportunity>(&key).await?.map(|v| v.record) else { return Ok(0) };
        let Some(connection) = self.active_connection(connection_id).await? else { return Ok(0) };
        let opportunity = match listed {
            Some(o) => o,
            None => match opportunity_if_any(&self.ctx, connection_id, opportunity_id, &[OpportunityExpand::Stage]).await? {
                Some(o) => o,
                None => return Ok(0),
            },
        };
        let facts = self.facts();
        let mut names: Option<LeverNames> = facts.known_names(connection_id).await;
        let reason = opportunity.archived.as_ref().and_then(|a| a.reason.clone());
        if let Some(r) = &reason
            && !names.as_ref().is_some_and(|n| n.archive_reasons.contains_key(r))
        {
            names = Some(facts.names(connection_id, true).await?);
        }
        let now = CandidateStatus {
            stage_id: opportunity.stage_id().map(str::to_owned),
            stage_changed_at_ms: opportunity
                .stage_changes
                .last()
                .and_then(|c| c.updated_at)
                .map(|m| m.0)
                .or(opportunity.last_advanced_at.map(|m| m.0)),
            archived_at_ms: opportunity.archived.as_ref().and_then(|a| a.archived_at).map(|m| m.0),
            archive_reason_id: reason.clone(),
            hired: reason.as_ref().is_some_and(|r| names.as_ref().and_then(|n| n.archive_reasons.get(r)).is_some_and(|a| a.hired)),
        };
        let changes = status_changes(&known.status, &now);
        if changes.is_empty() {
            return Ok(0);
        }
        let stage_name = |id: &str| {
            opportunity
                .stage
                .as_ref()
                .and_then(|s| s.expanded())
                .filter(|s| s.id == id)
                .map(|s| s.text.clone())
                .or_else(|| names.as_ref().and_then(|n| n.stages.get(id).cloned()))
        };
        let profile = self.catalog.get(&connection.partner_id);
        let settings = &connection.settings;
        let base = json!({
            "submission_id": known.submission_ids.last(),
            "submission_ids": known.submission_ids,
            "opportunity_id": opportunity_id,
            "contact_id": known.contact_id.clone().or_else(|| opportunity.contact_id().map(str::to_owned)),
            "posting_id": known.posting_id,
        });
        // The stage `GET` shows is recorded before the events go out: a partner that reads the
        // candidate on `candidate.stage_changed` sees the new stage. (Recording it twice is
        // harmless; the events are repeated, not lost, if publishing fails below.)
        let stamp = self.records.clock().now_ms();
        if let Some(stage) = &now.stage_id {
            let stage = StageRef { id: stage.clone(), name: stage_name(stage) };
            self.record_stage(connection_id, &known.submission_ids, &stage, stamp).await;
        }
        for change in &changes {
            let kind = match change {
                StatusChange::StageChanged { .. } => EventKind::CandidateStageChanged,
                StatusChange::Archived { .. } => EventKind::CandidateArchived,
                StatusChange::Hired { .. } => EventKind::CandidateHired,
            };
            if !profile.as_ref().is_some_and(|p| p.subscribes(kind)) {
                continue;
            }
            let mut data = base.clone();
            let extra: Value = match change {
                StatusChange::StageChanged { from, to, at_ms } => json!({
                    "stage": stage_view(to, stage_name(to).as_deref(), Some(settings)),
                    "previous_stage": from.as_ref().map(|f| stage_view(f, stage_name(f).as_deref(), Some(settings))),
                    "changed_at": at_ms.map(rfc3339),
                }),
                StatusChange::Archived { reason_id, at_ms } => json!({
                    "archive_reason": reason_id.as_ref().map(|r| json!({
                        "id": r,
                        "name": names.as_ref().and_then(|n| n.archive_reasons.get(r)).map(|a| a.name.clone()),
                    })),
                    "archived_at": at_ms.map(rfc3339),
                    "hired": now.hired,
                }),
                StatusChange::Hired { at_ms } => json!({
                    "hired_at": at_ms.map(rfc3339),
                    "stage": now.stage_id.as_ref().map(|s| stage_view(s, stage_name(s).as_deref(), Some(settings))),
                }),
            };
            if let (Some(d), Value::Object(e)) = (data.as_object_mut(), extra) {
                d.extend(e);
            }
            let event = NewEvent {
                id: change.fact_id(connection_id, opportunity_id),
                event_type: change.event_type().into(),
                partner_id: connection.partner_id.clone(),
                connection_id: Some(connection_id.to_owned()),
                sequence: None,
                occurred_at_ms: match change {
                    StatusChange::StageChanged { at_ms, .. } | StatusChange::Archived { at_ms, .. } | StatusChange::Hired { at_ms } => *at_ms,
                },
                data,
            };
            // Published before it is recorded as told: a failure here repeats it (same id) rather than loses it.
            self.events.publish(event).await.map_err(|e| Stop::Transient { retry_after: None, message: e.to_string() })?;
        }
        self.records
            .update::<SubmittedOpportunity>(&key, |o| {
                o.status = now.clone();
                o.updated_at_ms = stamp;
                true
            })
            .await?;
        Ok(changes.len())
    }

    /// The candidate's current stage on each submission that wrote it (what `GET` shows); a
    /// failure is logged only, the events that matter were sent.
    async fn record_stage(&self, connection_id: &str, submission_ids: &[String], stage: &StageRef, stamp: i64) {
        for sid in submission_ids {
            let result = self
                .records
                .update::<SubmissionRecord>(&keys::submission(connection_id, sid), |s| {
                    if s.stage.as_ref() == Some(stage) {
                        return false;
                    }
                    s.stage = Some(stage.clone());
                    s.updated_at_ms = s.updated_at_ms.max(stamp);
                    true
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(submission_id = %sid, error = %e, "current stage not recorded on the submission");
            }
        }
    }

    /// The fallback for webhooks that do not arrive: every opportunity Lever changed since the
    /// last poll that the hub wrote to is compared as a webhook would have it.
    pub async fn poll(&self, connection_id: &str) -> Result<(), CandidateError> {
        let key = keys::status_poll(connection_id);
        let Some(poll) = self.records.get::<StatusPoll>(&key).await?.map(|v| v.record) else { return Ok(()) };
        let started = self.records.clock().now_ms();
        let every = ms(self.policy.status_poll_every);
        // A connection that only imports hires (its poll is for Lever's deletions) has no
        // submitted candidate to report on: Lever is not asked.
        let outcome = if self.reports_on_any(connection_id).await? {
            self.poll_changes(connection_id, poll.polled_up_to_ms - POLL_OVERLAP_MS).await
        } else {
            Ok(true)
        };
        let advanced = matches!(outcome, Ok(true));
        if let Err(stop) = &outcome {
            tracing::warn!(connection_id, ?stop, "status poll failed; the next one reads the same window");
        }
        self.records
            .update::<StatusPoll>(&key, |p| {
                if advanced {
                    p.polled_up_to_ms = started;
                }
                p.next_at_ms = started + every;
                true
            })
            .await?;
        Ok(())
    }

    /// Whether the hub wrote any opportunity of the connection (and reports its status).
    async fn reports_on_any(&self, connection_id: &str) -> Result<bool, CandidateError> {
        let query = Query {
            pk: keys::connection(connection_id).pk,
            sk_prefix: Some(keys::SUBMITTED_OPPORTUNITY_PREFIX.to_owned()),
            limit: 1,
            ..Default::default()
        };
        Ok(!self.records.query::<SubmittedOpportunity>(&query).await?.0.is_empty())
    }

    /// `Ok(false)` when the connection cannot be polled now (not active).
    async fn poll_changes(&self, connection_id: &str, since_ms: i64) -> Result<bool, Stop> {
        if self.active_connection(connection_id).await?.is_none() {
            return Ok(false);
        }
        let query = OpportunitiesQuery { updated_at_start: Some(since_ms.max(0)), expand: vec![OpportunityExpand::Stage], ..Default::default() };
        let query = &query;
        let changed = self
            .ctx
            .call(connection_id, |lever, auth| async move { collect_all(100, 50, |page| lever.list_opportunities(&auth, query, page)).await })
            .await?;
        for o in changed {
            if self.records.get::<SubmittedOpportunity>(&keys::submitted_opportunity(connection_id, &o.id)).await?.is_some() {
                let id = o.id.clone();
                self.sync(connection_id, &id, Some(o)).await?;
            }
        }
        Ok(true)
    }
}

#[async_trait]
impl LeverEventHandler for StatusReporter {
    fn name(&self) -> &'static str {
        "candidate-status"
    }

    async fn handle(&self, event: &InboundLeverEvent) -> Result<(), HandlerError> {
        let opportunity_id = event.required_opportunity_id()?;
        self.sync(&event.connection_id, opportunity_id, None).await.map(|_| ()).map_err(handler_error)
    }
}

/// `applicationCreated`: queues the held referrals of that person for that posting.
#[derive(Clone)]
pub struct PendingReferralRelease {
    ctx: FlowContext,
    queue: Arc<dyn Queue>,
}

impl PendingReferralRelease {
    pub fn new(records: Records, catalog: Arc<ProfileCatalog>, lever: Arc<dyn LeverApi>, tokens: Tokens, queue: Arc<dyn Queue>) -> Self {
        Self { ctx: FlowContext::new(records, catalog, LeverCalls::new(lever, tokens)), queue }
    }

    async fn release(&self, connection_id: &str, opportunity_id: &str, posting_hint: Option<&str>) -> Result<usize, Stop> {
        let connection = match self.ctx.connection(connection_id).await {
            Ok(c) => c,
            Err(ContextError::UnknownConnection(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let holds = self.ctx.catalog().get(&connection.partner_id).and_then(|p| p.candidates().map(|c| c.pending.hold_referrals)).unwrap_or(false);
        if !holds || connection.status != ConnectionStatus::Active {
            return Ok(0);
        }
        let expand = [OpportunityExpand::Applications];
        let Some(o) = opportunity_if_any(&self.ctx, connection_id, opportunity_id, &expand).await? else { return Ok(0) };
        let mut postings: Vec<String> = o.applications.iter().filter_map(|a| a.expanded()).filter_map(|a| a.posting.clone()).collect();
        if let Some(p) = posting_hint {
            postings.push(p.to_owned());
        }
        postings.sort();
        postings.dedup();
        let mut released = 0;
        for email in &o.emails {
            let Some(normal) = crate::core::submission::normalize_email(email) else { continue };
            for posting in &postings {
                let pk = keys::connection(connection_id).pk;
                let prefix = keys::pending_referrals_prefix(&email_key(&normal), posting);
                for held in self.ctx.records().query_all::<PendingReferral>(&pk, &prefix).await? {
                    let work = CandidateWork::Submission {
                        connection_id: connection_id.to_owned(),
                        submission_id: held.submission_id.clone(),
                        attempt: None,
                        not_before_ms: None,
                    };
                    let body = serde_json::to_string(&work).map_err(|e| Stop::Transient { retry_after: None, message: e.to_string() })?;
                    self.queue.send(&body, Duration::ZERO).await.map_err(|e| Stop::Transient { retry_after: None, message: e.to_string() })?;
                    released += 1;
                }
            }
        }
        if released > 0 {
            tracing::info!(connection_id, opportunity_id, released, "held referrals released by an application");
        }
        Ok(released)
    }
}

#[async_trait]
impl LeverEventHandler for PendingReferralRelease {
    fn name(&self) -> &'static str {
        "pending-referrals"
    }

    async fn handle(&self, event: &InboundLeverEvent) -> Result<(), HandlerError> {
        let opportunity_id = event.required_opportunity_id()?;
        let posting = event.data.get("postingId").and_then(Value::as_str);
        self.release(&event.connection_id, opportunity_id, posting).await.map(|_| ()).map_err(handler_error)
    }
}
