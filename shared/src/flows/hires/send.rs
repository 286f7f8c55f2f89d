//! One hired opportunity through its steps (`core::hire::record::next_step`): recorded once
//! per opportunity, read from Lever only when it must be (new, or a resend), mapped by the
//! profile, sent as `hire.created`; and the flow's health on the connection.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::lever_read::{HireReader, is_hired};
use super::{FLOW, HiresError};
use crate::core::connection::Connection;
use crate::core::hire::HireMapping;
use crate::core::hire::record::{HireRecord, HireStep, next_step};
use crate::core::profile::{HireTrigger, HiresFlow, Profile};
use crate::core::schedule::TzName;
use crate::flows::activity::ActivityLog;
use crate::flows::events::{EventPublisher, NewEvent};
use crate::lever::model::Opportunity;
use crate::store::{Records, StoreError, Versioned, keys};

/// A connection ready for importing: active, with its profile's hires flow.
pub(super) struct Ready {
    pub(super) connection: Connection,
    pub(super) profile: Arc<Profile>,
    pub(super) triggers: Vec<HireTrigger>,
}

impl Ready {
    pub(super) fn flow(&self) -> Result<&HiresFlow, HiresError> {
        self.profile.hires().ok_or_else(|| HiresError::NotEnabled(format!("partner {} has no hires flow", self.profile.id)))
    }

    pub(super) fn start_date_zone(&self) -> Option<&TzName> {
        self.connection.settings.timezone(&self.profile)
    }
}

/// The partner event a hire becomes.
pub const HIRE_CREATED: &str = "hire.created";

/// What became of one hired opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HireOutcome {
    /// Send `n` of the hire is in the outbox (1 = first time).
    Sent(u32),
    /// Sent before as often as asked: nothing done.
    AlreadySent,
    /// Lever does not have it as hired (any more): nothing done.
    NotHired,
    /// The customer switched this trigger off: nothing done.
    Ignored,
}

/// Takes hires through their steps; the import (listing runs, one webhook-named hire) finds them.
#[derive(Clone)]
pub(super) struct HireSender {
    pub(super) records: Records,
    pub(super) reader: HireReader,
    pub(super) events: Arc<dyn EventPublisher>,
    pub(super) activity: ActivityLog,
}

impl HireSender {
    /// One hired opportunity through its steps. Concurrent finders of the same hire (the
    /// webhook and a run at once) meet at the record: one creates it, the other finds it.
    pub(super) async fn hire(
        &self,
        ready: &Ready,
        opp: &Opportunity,
        reasons: &BTreeSet<String>,
        by: HireTrigger,
        resend_run: Option<&str>,
    ) -> Result<HireOutcome, HiresError> {
        if !is_hired(opp, reasons) {
            return Ok(HireOutcome::NotHired);
        }
        let connection_id = ready.connection.id.as_str();
        let key = keys::hire(connection_id, &opp.id);
        for _ in 0..8 {
            let known = self.records.get::<HireRecord>(&key).await?;
            let now = self.records.clock().now_ms();
            match (next_step(known.as_ref().map(|v| &v.record), resend_run), known) {
                (HireStep::Done, _) => return Ok(HireOutcome::AlreadySent),
                (HireStep::Owed(n), Some(known)) => return self.send(ready, known, n).await,
                (HireStep::New, _) => {
                    let facts = self.reader.facts(connection_id, opp).await?;
                    let mapping = HireMapping::of(ready.flow()?, ready.start_date_zone(), &facts);
                    let record = HireRecord::new(connection_id, &facts, mapping, by, now);
                    match self.records.create(&record).await {
                        Ok(version) => return self.send(ready, Versioned { record, version }, 1).await,
                        Err(StoreError::ConditionFailed) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                (HireStep::Resend, Some(known)) => {
                    let facts = self.reader.facts(connection_id, opp).await?;
                    let mapping = HireMapping::of(ready.flow()?, ready.start_date_zone(), &facts);
                    let mut record = known.record;
                    record.resend(resend_run.unwrap_or_default(), &facts, mapping, now);
                    let n = record.sends_wanted;
                    match self.records.replace(&record, known.version).await {
                        Ok(version) => return self.send(ready, Versioned { record, version }, n).await,
                        Err(StoreError::ConditionFailed) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                (HireStep::Owed(_) | HireStep::Resend, None) => continue,
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Send `n` of a recorded hire into the outbox, then marks it sent. The event id is the
    /// send's, so a send repeated after a failure between the two is delivered once.
    async fn send(&self, ready: &Ready, hire: Versioned<HireRecord>, n: u32) -> Result<HireOutcome, HiresError> {
        let record = hire.record;
        let data = serde_json::to_value(record.event_data(n)).map_err(|e| HiresError::Internal(e.to_string()))?;
        self.events
            .publish(NewEvent {
                id: record.event_id(n),
                event_type: HIRE_CREATED.into(),
                partner_id: ready.connection.partner_id.clone(),
                connection_id: Some(record.connection_id.clone()),
                sequence: None,
                occurred_at_ms: record.hired_at_ms,
                data,
            })
            .await
            .map_err(|e| HiresError::Publish(e.0))?;
        let now = self.records.clock().now_ms();
        let mut marked = false;
        self.records
            .update::<HireRecord>(&keys::hire(&record.connection_id, &record.opportunity_id), |r| {
                if r.sends_done >= n {
                    return false;
                }
                r.sent(n, now);
                marked = true;
                true
            })
            .await?;
        // Counted by the send that marked it: one repeated after a failure between the publish
        // and the mark was delivered once (the event id is the send's) and is counted once.
        if marked {
            let partner = Some(ready.connection.partner_id.as_str());
            crate::metrics::count(FLOW, partner, "HiresSent", 1);
            if let (1, Some(hired_at_ms)) = (n, record.hired_at_ms) {
                // Lever's hired time to the event in the outbox: a resend's would say nothing.
                crate::metrics::lag(FLOW, partner, "HireLag", hired_at_ms, now);
            }
        }
        let how = match record.send_trigger {
            HireTrigger::Webhook => "Lever's candidateHired webhook",
            HireTrigger::Daily => "the daily import",
            HireTrigger::OnDemand => "a manual import",
        };
        let again = if n > 1 { format!(" again (send {n})") } else { String::new() };
        let message = format!("hire of opportunity {} sent to the partner{again} ({how})", record.opportunity_id);
        self.activity.note(&record.connection_id, "hire.sent", true, message).await;
        tracing::info!(connection_id = %record.connection_id, opportunity_id = %record.opportunity_id, send = n, "hire sent");
        Ok(HireOutcome::Sent(n))
    }

    /// The flow's last success or failure on the connection (`flows.hires`).
    pub(super) async fn health(&self, connection_id: &str, error: Option<String>) {
        let now = self.records.clock().now_ms();
        let written = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| {
                let h = c.flow_health.entry(FLOW.into()).or_default();
                match &error {
                    None => h.succeeded(now),
                    Some(e) => h.failed(now, e.clone()),
                }
                true
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(connection_id, error = %e, "hires health not recorded");
        }
    }
}
