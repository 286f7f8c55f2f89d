//! The hires import: a listing run (daily or manual) from the watermark, or one hire a webhook
//! named; each hire found goes through the steps of [`super::send`] (its [`HireSender`]).

use std::sync::Arc;

use serde_json::json;

use super::lever_read::HireReader;
use super::send::{HireOutcome, HireSender, Ready};
use super::{FLOW, HiresError, HiresPolicy};
use crate::core::hire::record::{HireRecord, HireStep, next_step};
use crate::core::hire::window::{HiresCheckpoint, advanced, list_from};
use crate::core::profile::HireTrigger;
use crate::flows::activity::ActivityLog;
use crate::flows::context::{FlowContext, ReadyConnection};
use crate::flows::dispatch::{FlowRun, RunTrigger};
use crate::flows::events::EventPublisher;
use crate::lever::page::Pager;
use crate::store::{DueQuery, Records, StoreError, keys};

/// What one listing run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Hired opportunities Lever listed.
    pub listed: usize,
    /// Hires sent for the first time.
    pub sent: usize,
    /// Hires sent again because the run asked for it.
    pub resent: usize,
    /// Hires found already sent (the webhook or an earlier run had them).
    pub already_sent: usize,
    /// Hires that could not be read or mapped (named in the activity log); the rest went on.
    pub failed: usize,
    /// The whole listing was read (the watermark moved). `false`: the run stopped at its
    /// deadline and must continue in a new invocation.
    pub complete: bool,
    /// The run was not carried out: its trigger is off for the connection.
    pub skipped: bool,
}

/// What a run was asked to do (`FlowRun.options` of a manual run).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunOptions {
    /// Every hired candidate, not only those since the last import.
    #[serde(default)]
    pub all: bool,
    /// Send hires again that were sent before.
    #[serde(default)]
    pub resend: bool,
    /// Names the run, so that a resend retried after a failure is one resend.
    #[serde(default)]
    pub run_id: Option<String>,
}

impl RunOptions {
    pub fn of(run: &FlowRun) -> Self {
        let mut o: RunOptions = serde_json::from_value(run.options.clone()).unwrap_or_default();
        if o.run_id.is_none() {
            // The run's own identity: the same message redelivered is the same run.
            o.run_id = Some(format!("{}/{}", run.connection_id, run.due_at_ms));
        }
        o
    }
}

#[derive(Clone)]
pub struct HireImport {
    records: Records,
    ctx: FlowContext,
    reader: HireReader,
    activity: ActivityLog,
    policy: HiresPolicy,
    sender: HireSender,
}

impl HireImport {
    pub fn new(ctx: FlowContext, reader: HireReader, events: Arc<dyn EventPublisher>, activity: ActivityLog, policy: HiresPolicy) -> Self {
        let records = ctx.records().clone();
        let sender = HireSender { records: records.clone(), reader: reader.clone(), events, activity: activity.clone() };
        Self { records, ctx, reader, activity, policy, sender }
    }

    async fn ready(&self, connection_id: &str) -> Result<Ready, HiresError> {
        let ReadyConnection { connection, profile } = self.ctx.ready(connection_id).await?;
        let triggers = connection.settings.hire_triggers(&profile);
        let ready = Ready { connection, profile, triggers };
        ready.flow()?;
        Ok(ready)
    }

    /// One hire named by Lever's `candidateHired` webhook: re-read from Lever, sent unless it
    /// was sent before (by an earlier delivery of the webhook, or an import).
    pub async fn import_opportunity(&self, connection_id: &str, opportunity_id: &str) -> Result<HireOutcome, HiresError> {
        let ready = self.ready(connection_id).await?;
        if !ready.triggers.contains(&HireTrigger::Webhook) {
            return Ok(HireOutcome::Ignored);
        }
        let known = self.records.get::<HireRecord>(&keys::hire(connection_id, opportunity_id)).await?;
        if matches!(next_step(known.as_ref().map(|v| &v.record), None), HireStep::Done) {
            return Ok(HireOutcome::AlreadySent);
        }
        let result = async {
            let reasons = self.reader.hired_reasons(connection_id).await?;
            match self.reader.opportunity(connection_id, opportunity_id).await? {
                Some(opp) => self.sender.hire(&ready, &opp, &reasons, HireTrigger::Webhook, None).await,
                None => Ok(HireOutcome::NotHired),
            }
        }
        .await;
        match &result {
            Ok(HireOutcome::Sent(_)) => self.sender.health(connection_id, None).await,
            Ok(_) => {}
            Err(e) => self.sender.health(connection_id, Some(e.to_string())).await,
        }
        result
    }

    /// A daily or manual run: every hire since the watermark (or every hire, with `all`).
    /// `deadline`: when the invocation must be over; the run then stops between hires with
    /// `complete: false`, and continuing it (the same `FlowRun` again) finds the hires it already
    /// sent recorded.
    pub async fn run(&self, run: &FlowRun, deadline: Option<tokio::time::Instant>) -> Result<RunReport, HiresError> {
        let ready = match self.ready(&run.connection_id).await {
            Ok(ready) => ready,
            Err(e) => {
                crate::metrics::count(FLOW, None, "HireImportFailures", 1);
                return Err(e);
            }
        };
        let (needed, by) = match run.trigger {
            RunTrigger::Schedule => (HireTrigger::Daily, HireTrigger::Daily),
            RunTrigger::Manual => (HireTrigger::OnDemand, HireTrigger::OnDemand),
        };
        if !ready.triggers.contains(&needed) {
            return Ok(RunReport { skipped: true, complete: true, ..Default::default() });
        }
        let options = RunOptions::of(run);
        let result = self.list_and_send(&ready, by, &options, deadline).await;
        let connection_id = run.connection_id.as_str();
        let partner = Some(ready.connection.partner_id.as_str());
        match &result {
            Ok(r) if r.complete => {
                crate::metrics::count(FLOW, partner, "HireImportRuns", 1);
                crate::metrics::count(FLOW, partner, "HiresFailed", r.failed as u64);
                self.sender.health(connection_id, None).await;
                let what = if options.all { "every hire" } else { "hires since the last import" };
                let message = format!(
                    "{} import of {what}: {} listed, {} sent, {} sent again, {} already sent, {} failed",
                    if run.trigger == RunTrigger::Schedule { "daily" } else { "manual" },
                    r.listed,
                    r.sent,
                    r.resent,
                    r.already_sent,
                    r.failed
                );
                self.activity.note(connection_id, "hires.imported", r.failed == 0, message).await;
                if let Err(e) = self.expire_fields(connection_id, ready.profile.retention.grace_ms()).await {
                    tracing::warn!(connection_id, error = %e, "hires' fields past the retention grace not cleared; the next run tries again");
                }
            }
            Ok(_) => {}
            Err(e) => {
                crate::metrics::count(FLOW, partner, "HireImportFailures", 1);
                self.sender.health(connection_id, Some(e.to_string())).await;
                self.activity.note(connection_id, "hires.failed", false, format!("hires import failed: {e}")).await;
            }
        }
        result
    }

    async fn list_and_send(
        &self,
        ready: &Ready,
        by: HireTrigger,
        options: &RunOptions,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<RunReport, HiresError> {
        let connection_id = ready.connection.id.as_str();
        let checkpoint_key = keys::checkpoint(connection_id, FLOW);
        let checkpoint = self.records.get::<HiresCheckpoint>(&checkpoint_key).await?.map(|v| v.record);
        let overlap_ms = i64::try_from(self.policy.overlap.as_millis()).unwrap_or(i64::MAX);
        let from = list_from(checkpoint.and_then(|c| c.watermark_ms), ready.connection.created_at_ms, overlap_ms, options.all);
        let reasons = self.reader.hired_reasons(connection_id).await?;
        let resend = options.resend.then_some(options.run_id.as_deref()).flatten();
        let mut report = RunReport::default();
        let mut seen_ms: Option<i64> = None;
        let mut pager = Pager::new(self.policy.page_size);
        while let Some(request) = pager.next_request() {
            let page = self.reader.hired_page(connection_id, &reasons, from, request).await?;
            pager.advance(&page)?;
            for opp in &page.data {
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return Ok(report);
                }
                report.listed += 1;
                let archived_at = opp.archived.as_ref().and_then(|a| a.archived_at).map(|m| m.0);
                seen_ms = seen_ms.max(archived_at);
                match self.sender.hire(ready, opp, &reasons, by, resend).await {
                    Ok(HireOutcome::Sent(1)) => report.sent += 1,
                    Ok(HireOutcome::Sent(_)) => report.resent += 1,
                    Ok(HireOutcome::AlreadySent) => report.already_sent += 1,
                    Ok(HireOutcome::NotHired | HireOutcome::Ignored) => {}
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        // One hire Lever refuses to show (a confidential posting, say) does not
                        // hold up the others; it is named, and the next run tries it again.
                        report.failed += 1;
                        tracing::warn!(connection_id, opportunity_id = %opp.id, error = %e, "hire not imported");
                        let message = format!("hire of opportunity {} not imported: {e}", opp.id);
                        self.activity.note(connection_id, "hire.failed", false, message).await;
                    }
                }
            }
        }
        if report.failed == 0 {
            self.advance_watermark(connection_id, seen_ms).await?;
        }
        report.complete = true;
        Ok(report)
    }

    /// Moves the watermark after a complete listing (forward only: runs may overlap).
    /// Retention, where no TTL can do it: a hire sent longer ago than the profile's grace keeps
    /// its ids and sends, and loses the person's HRIS fields (`docs/data-protection.md`).
    async fn expire_fields(&self, connection_id: &str, grace_ms: i64) -> Result<(), StoreError> {
        let now = self.records.clock().now_ms();
        let mut query = DueQuery { partition: keys::hires_partition(connection_id), up_to: keys::HIRES_UP_TO.to_owned(), limit: 100, cursor: None };
        loop {
            let (page, cursor) = self.records.due::<HireRecord>(&query).await?;
            for v in page {
                let past = v.record.last_sent_at_ms.is_some_and(|at| at + grace_ms <= now);
                if past && v.record.mapping.fields.values().any(Option::is_some) {
                    let mut hire = v.record;
                    hire.mapping.fields.values_mut().for_each(|f| *f = None);
                    // A hire changed meanwhile (a resend) is left for the next run.
                    match self.records.replace(&hire, v.version).await {
                        Ok(_) | Err(StoreError::ConditionFailed) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            match cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    async fn advance_watermark(&self, connection_id: &str, seen_ms: Option<i64>) -> Result<(), StoreError> {
        let key = keys::checkpoint(connection_id, FLOW);
        let now = self.records.clock().now_ms();
        loop {
            match self.records.get::<HiresCheckpoint>(&key).await? {
                Some(current) => {
                    let mut next = current.record.clone();
                    next.watermark_ms = advanced(next.watermark_ms, seen_ms);
                    next.listed_at_ms = Some(now);
                    match self.records.replace(&next, current.version).await {
                        Err(StoreError::ConditionFailed) => continue,
                        other => return other.map(|_| ()),
                    }
                }
                None => {
                    let first = HiresCheckpoint { connection_id: connection_id.to_owned(), watermark_ms: seen_ms, listed_at_ms: Some(now) };
                    match self.records.create(&first).await {
                        Err(StoreError::ConditionFailed) => continue,
                        other => return other.map(|_| ()),
                    }
                }
            }
        }
    }
}

/// A manual run's options as `FlowRun.options` carries them.
pub fn run_options(all: bool, resend: bool) -> serde_json::Value {
    json!({ "all": all, "resend": resend, "run_id": uuid::Uuid::new_v4().to_string() })
}
