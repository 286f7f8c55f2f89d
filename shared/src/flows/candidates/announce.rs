//! What follows a settled submission: a held referral indexed by the person's email, and a
//! final state told to the partner (once), with the opportunity recorded as one the hub reports
//! on and the submission's files freed.

use std::sync::Arc;

use super::records::{PendingReferral, StatusPoll, SubmissionRecord, SubmittedOpportunity};
use super::{CandidateError, CandidatePolicy, ms};
use crate::core::candidate::{CandidateStatus, SubmissionState, email_key};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::profile::EventKind;
use crate::files::FileStore;
use crate::flows::activity::ActivityLog;
use crate::flows::events::{EventPublisher, NewEvent};
use crate::store::{Records, StoreError, keys};

#[derive(Clone)]
pub(super) struct Announcer {
    pub(super) records: Records,
    pub(super) catalog: Arc<ProfileCatalog>,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) events: Arc<dyn EventPublisher>,
    pub(super) activity: ActivityLog,
    pub(super) policy: CandidatePolicy,
}

impl Announcer {
    pub(super) async fn index_pending(&self, r: &SubmissionRecord) -> Result<(), CandidateError> {
        let until = r.pending_until_ms.unwrap_or(r.created_at_ms);
        for email in &r.submission.emails {
            let entry = PendingReferral {
                connection_id: r.connection_id.clone(),
                email_key: email_key(email),
                posting_id: r.submission.posting_id.clone(),
                submission_id: r.id.clone(),
                expires_at_ms: until + 24 * 3600 * 1000,
            };
            self.records.put(&entry).await?;
        }
        Ok(())
    }

    pub(super) async fn unindex_pending(&self, r: &SubmissionRecord) {
        for email in &r.submission.emails {
            let key = keys::pending_referral(&r.connection_id, &email_key(email), &r.submission.posting_id, &r.id);
            if let Err(e) = self.records.remove(&key, crate::store::Expect::Any).await {
                tracing::warn!(submission_id = %r.id, error = %e, "pending referral entry not removed; it expires");
            }
        }
    }

    /// Tells the partner of a final state (once: the event id is the fact's), after recording
    /// the opportunity as one the hub reports on, and frees the submission's files.
    pub(super) async fn announce(&self, r: SubmissionRecord) -> Result<SubmissionRecord, CandidateError> {
        let now = self.records.clock().now_ms();
        if r.state.is_written() {
            self.remember_opportunity(&r).await?;
        }
        let profile = self.catalog.get(&r.partner_id);
        let (kind, event_type) = match r.state {
            SubmissionState::Created => (EventKind::CandidateCreated, "candidate.created"),
            SubmissionState::Updated => (EventKind::CandidateUpdated, "candidate.updated"),
            _ => (EventKind::SubmissionFailed, "submission.failed"),
        };
        if profile.as_ref().is_some_and(|p| p.subscribes(kind)) {
            let settings = self.records.get::<Connection>(&keys::connection(&r.connection_id)).await?.map(|c| c.record.settings);
            let event = NewEvent {
                id: format!("submission/{}/{}/{}", r.id, r.state.as_str(), r.attempts),
                event_type: event_type.into(),
                partner_id: r.partner_id.clone(),
                connection_id: Some(r.connection_id.clone()),
                sequence: None,
                occurred_at_ms: Some(r.updated_at_ms),
                data: super::view::submission_view(&r, settings.as_ref()),
            };
            self.events.publish(event).await.map_err(|e| CandidateError::Store(StoreError::Unavailable(e.to_string())))?;
        }
        if r.state == SubmissionState::Failed
            && let Some(e) = &r.error
        {
            self.activity.note(&r.connection_id, "candidate.failed", false, format!("submission {}: {} ({})", r.id, e.message, e.code)).await;
        }
        if r.state.is_written() {
            for f in &r.files {
                if let Err(e) = self.files.delete(&f.object_key).await {
                    tracing::warn!(submission_id = %r.id, error = %e, "submission file not deleted; the lifecycle rule will");
                }
            }
        }
        let state = r.state;
        let grace_ms = profile.as_ref().map_or_else(|| crate::core::profile::Retention::default().grace_ms(), |p| p.retention.grace_ms());
        let key = keys::submission(&r.connection_id, &r.id);
        let stored = self
            .records
            .update::<SubmissionRecord>(&key, |s| {
                if s.state != state || s.announced {
                    return false;
                }
                s.announced = true;
                s.due_at_ms = None;
                s.expires_at_ms = Some(now + grace_ms);
                s.updated_at_ms = s.updated_at_ms.max(now);
                true
            })
            .await?;
        Ok(stored.map(|s| s.record).unwrap_or(r))
    }

    /// The opportunity is one the hub reports status changes of; its connection is polled.
    async fn remember_opportunity(&self, r: &SubmissionRecord) -> Result<(), CandidateError> {
        let Some(opportunity_id) = r.opportunity_id.clone() else { return Ok(()) };
        let key = keys::submitted_opportunity(&r.connection_id, &opportunity_id);
        let now = self.records.clock().now_ms();
        let mut first = false;
        for _ in 0..8 {
            let updated = self
                .records
                .update::<SubmittedOpportunity>(&key, |o| {
                    if o.submission_ids.contains(&r.id) {
                        return false;
                    }
                    o.submission_ids.push(r.id.clone());
                    o.updated_at_ms = now;
                    true
                })
                .await?;
            if updated.is_some() {
                break;
            }
            let fresh = SubmittedOpportunity {
                connection_id: r.connection_id.clone(),
                opportunity_id: opportunity_id.clone(),
                partner_id: r.partner_id.clone(),
                contact_id: r.contact_id.clone(),
                posting_id: r.submission.posting_id.clone(),
                submission_ids: vec![r.id.clone()],
                status: CandidateStatus { stage_id: r.stage.as_ref().map(|s| s.id.clone()), ..Default::default() },
                created_at_ms: now,
                updated_at_ms: now,
            };
            match self.records.create(&fresh).await {
                Ok(_) => {
                    first = true;
                    break;
                }
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !first {
            return Ok(());
        }
        // A first opportunity of this connection's starts its status poll (the webhooks' fallback).
        let poll = StatusPoll {
            connection_id: r.connection_id.clone(),
            next_at_ms: now + ms(self.policy.status_poll_every),
            polled_up_to_ms: now,
            // Nothing of this connection's was in Lever before now to be deleted.
            deletions_checked_at_ms: Some(now),
        };
        match self.records.create(&poll).await {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
