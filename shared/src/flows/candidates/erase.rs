//! Erasure on request: one person out of everything the hub holds for one partner (the places
//! `docs/data-protection.md` lists), never out of Lever — that copy is the customer's.
//!
//! The person is found by email or by Lever opportunity in the partner's submissions and hires;
//! what they are known by there (names, emails, phones, file names, ids) is then looked for in
//! the places that hold copies: idempotency answers, event bodies, activity entries. The
//! erasure record holds ids and counts; while it is pending, also the request, sealed, so the
//! candidate sweeper can finish a run that failed (dropped at completion).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::records::{IdempotencyRecord, PendingReferral, SubmissionRecord, UploadRecord};
use super::{CandidateError, owned_connection};
use crate::core::candidate::email_key;
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::core::events::EventKind;
use crate::core::hire::record::HireRecord;
use crate::core::sealed::Sealed;
use crate::files::FileStore;
use crate::flows::activity::ActivityEntry;
use crate::flows::connections::PartnerConnection;
use crate::flows::delivery::{Delivery, DeliveryStatus, StoredEvent};
use crate::flows::events::{EventPublisher, NewEvent};
use crate::flows::records::ConnectionPurge;
use crate::flows::tokens::Tokens;
use crate::store::{DueQuery, Expect, IndexKey, Key, Record, Records, StoreError, keys};

/// Erasure records answer `GET /v1/erasures/{id}` this long.
const ERASURE_RECORD_DAYS: i64 = 400;

/// Who is to be erased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErasureTarget {
    /// Every submission with this email (compared without case), and hires that hold it.
    Email(String),
    /// Every submission written to this Lever opportunity, and its hire.
    Opportunity(String),
    /// Everyone the connection holds: a disconnected connection's purge.
    Everyone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    Pending,
    Completed,
}

/// What the partner reads back: ids and counts, never whom it was for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub partner_id: String,
    pub id: String,
    #[serde(default)]
    pub connection_id: Option<String>,
    pub status: ErasureStatus,
    /// Items erased, per kind of place (every kind listed, zero included).
    pub counts: BTreeMap<String, u64>,
    pub created_at_ms: i64,
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
    pub expires_at_ms: i64,
    /// While pending: whom to erase and what to announce, sealed — the only copy of the
    /// request the hub keeps, dropped when the erasure completes — so that the sweeper can
    /// finish an erasure whose run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Sealed>,
    /// While pending: when the sweeper takes the erasure up if its run has not completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at_ms: Option<i64>,
}

impl Record for ErasureRecord {
    const KIND: &'static str = "erasure";

    fn key(&self) -> Key {
        keys::erasure(&self.partner_id, &self.id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }

    fn due(&self) -> Option<IndexKey> {
        self.resume_at_ms.map(|at| keys::erasure_due(&self.partner_id, &self.id, at))
    }
}

/// An erasure's request as sealed on its record while it is pending.
#[derive(Serialize, Deserialize)]
struct PendingRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    opportunity_id: Option<String>,
    #[serde(default)]
    everyone: bool,
    announce: EventKind,
}

impl PendingRequest {
    fn of(target: &ErasureTarget, announce: EventKind) -> Self {
        let (email, opportunity_id, everyone) = match target {
            ErasureTarget::Email(e) => (Some(e.clone()), None, false),
            ErasureTarget::Opportunity(o) => (None, Some(o.clone()), false),
            ErasureTarget::Everyone => (None, None, true),
        };
        Self { email, opportunity_id, everyone, announce }
    }

    fn target(&self) -> Option<ErasureTarget> {
        match (&self.email, &self.opportunity_id, self.everyone) {
            (Some(e), None, false) => Some(ErasureTarget::Email(e.clone())),
            (None, Some(o), false) => Some(ErasureTarget::Opportunity(o.clone())),
            (None, None, true) => Some(ErasureTarget::Everyone),
            _ => None,
        }
    }
}

/// A pending erasure not completed by its own run is taken up by the sweeper this long after
/// it was last started (the run's own time, and then some).
const RESUME_AFTER_MS: i64 = 2 * 60 * 1000;

fn sealing_context(partner_id: &str, erasure_id: &str) -> String {
    format!("erasure-request:{partner_id}:{erasure_id}")
}

/// The kinds counted, in the order the answer lists them.
pub const ERASURE_KINDS: [&str; 9] =
    ["submissions", "files", "uploads", "idempotency_answers", "pending_referrals", "submitted_opportunities", "hires", "events", "activity"];

/// What the person is known by: values (compared without case) and ids.
#[derive(Default)]
struct Traces {
    values: BTreeSet<String>,
    ids: BTreeSet<String>,
}

impl Traces {
    fn add_value(&mut self, v: &str) {
        let v = v.trim().to_lowercase();
        if !v.is_empty() {
            self.values.insert(v);
        }
    }

    fn add_submission(&mut self, s: &SubmissionRecord) {
        let sub = &s.submission;
        self.add_value(&sub.name);
        sub.emails.iter().for_each(|e| self.add_value(e));
        sub.phones.iter().for_each(|p| self.add_value(&p.value));
        sub.files.iter().for_each(|f| self.add_value(&f.name));
        self.ids.insert(s.id.clone());
        self.ids.extend(s.opportunity_id.iter().chain(s.contact_id.iter()).cloned());
    }

    /// Whether free text (an activity message) names the person or one of their ids.
    fn named_in(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.values.iter().chain(self.ids.iter()).any(|t| text.contains(&t.to_lowercase()))
    }

    /// Nulls every string of `value` that is one of the person's values; `true` if any was.
    fn redact(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) if self.values.contains(&s.trim().to_lowercase()) => {
                *value = Value::Null;
                true
            }
            Value::Array(items) => items.iter_mut().fold(false, |changed, v| self.redact(v) | changed),
            Value::Object(fields) => fields.values_mut().fold(false, |changed, v| self.redact(v) | changed),
            _ => false,
        }
    }
}

/// What one connection gave up: counted, and named to the partner in `candidate.erased`.
#[derive(Default)]
struct Erased {
    submission_ids: BTreeSet<String>,
    opportunity_ids: BTreeSet<String>,
}

type Counts = BTreeMap<String, u64>;

fn bump(counts: &mut Counts, kind: &str, n: u64) {
    *counts.entry(kind.to_owned()).or_default() += n;
}

/// Erasures: on request, for Lever's deletions, and a disconnected connection's purge.
#[derive(Clone)]
pub struct Erasures {
    pub(super) records: Records,
    pub(super) catalog: Arc<ProfileCatalog>,
    /// Its cipher seals a pending erasure's request.
    pub(super) tokens: Tokens,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) events: Arc<dyn EventPublisher>,
}

impl Erasures {
    /// Erases the person from what the hub holds for `partner_id` (on `connection_id`, or on
    /// every connection of the partner), then rewrites what keeps history on disk. An unknown
    /// person completes with zero counts, like any other.
    pub async fn erase(&self, partner_id: &str, target: ErasureTarget, connection_id: Option<&str>) -> Result<ErasureRecord, CandidateError> {
        self.erase_announcing(partner_id, target, connection_id, EventKind::CandidateErased).await
    }

    /// Lever's deletion of an opportunity (its `candidateDeleted`, or the daily pass): the hub's
    /// copies go as for an erasure, and the partner hears `candidate.deleted`.
    pub async fn erase_deleted_opportunity(&self, connection_id: &str, opportunity_id: &str) -> Result<(), CandidateError> {
        let Some(connection) = self.records.get::<Connection>(&keys::connection(connection_id)).await?.map(|v| v.record) else { return Ok(()) };
        let target = ErasureTarget::Opportunity(opportunity_id.to_owned());
        let record = self.erase_announcing(&connection.partner_id, target, Some(connection_id), EventKind::CandidateDeleted).await?;
        tracing::info!(connection_id, opportunity_id, erasure_id = %record.id, "Lever deleted an opportunity; the hub's copies are erased");
        Ok(())
    }

    async fn erase_announcing(
        &self,
        partner_id: &str,
        target: ErasureTarget,
        connection_id: Option<&str>,
        announce: EventKind,
    ) -> Result<ErasureRecord, CandidateError> {
        let connections = self.erasure_connections(partner_id, connection_id).await?;
        let now = self.records.clock().now_ms();
        let id = uuid::Uuid::now_v7().simple().to_string();
        let request = serde_json::to_string(&PendingRequest::of(&target, announce))
            .map_err(|e| CandidateError::Store(StoreError::Unavailable(format!("erasure request: {e}"))))?;
        let mut record = ErasureRecord {
            partner_id: partner_id.to_owned(),
            connection_id: connection_id.map(str::to_owned),
            status: ErasureStatus::Pending,
            counts: ERASURE_KINDS.iter().map(|k| ((*k).to_owned(), 0)).collect(),
            created_at_ms: now,
            completed_at_ms: None,
            expires_at_ms: now + ERASURE_RECORD_DAYS * 24 * 3600 * 1000,
            request: Some(self.tokens.cipher().seal(&request, &sealing_context(partner_id, &id))),
            resume_at_ms: Some(now + RESUME_AFTER_MS),
            id,
        };
        self.records.create(&record).await?;
        if let Err(e) = self.run_erasure(&mut record, &connections, &target, announce).await {
            // Accepted all the same: the record stays pending (with what was erased so far) and
            // the sweeper finishes it.
            tracing::warn!(partner_id, erasure_id = %record.id, error = %e, "erasure not finished; the sweeper resumes it");
            self.keep_progress(&record).await;
        }
        Ok(record)
    }

    /// What a failed run erased, on the pending record (best effort: a resumed run counts anew).
    async fn keep_progress(&self, record: &ErasureRecord) {
        if let Err(e) = self.records.put(record).await {
            tracing::warn!(erasure_id = %record.id, error = %e, "a pending erasure's counts not kept");
        }
    }

    /// The sweeper's part: pending erasures whose run did not complete them are run again
    /// (everything an erasure does can be done twice). Returns how many completed.
    pub(super) async fn resume_erasures(&self, now_ms: i64) -> Result<usize, CandidateError> {
        let query = DueQuery { partition: keys::ERASURE_DUE_PARTITION.to_owned(), up_to: keys::due_up_to(now_ms), limit: 20, cursor: None };
        // Taken by one sweep: overlapping sweeps do not run it twice at once.
        let mut taken = self.records.take_due(query, 1, |r: &mut ErasureRecord| r.resume_at_ms = Some(now_ms + RESUME_AFTER_MS));
        let mut completed = 0;
        while let Some(mut record) = taken.next().await? {
            let request = record
                .request
                .as_ref()
                .and_then(|sealed| self.tokens.cipher().open(sealed, &sealing_context(&record.partner_id, &record.id)).ok())
                .and_then(|plain| serde_json::from_str::<PendingRequest>(plain.expose()).ok());
            let Some((target, announce)) = request.and_then(|r| r.target().map(|t| (t, r.announce))) else {
                tracing::error!(erasure_id = %record.id, "a pending erasure's request does not open; it stays pending");
                continue;
            };
            let connections = match self.erasure_connections(&record.partner_id, record.connection_id.as_deref()).await {
                Ok(c) => c,
                // The connection is gone: nothing of it is left to erase.
                Err(CandidateError::NotFound(_)) => vec![],
                Err(e) => return Err(e),
            };
            match self.run_erasure(&mut record, &connections, &target, announce).await {
                Ok(()) => completed += 1,
                Err(e) => {
                    tracing::warn!(erasure_id = %record.id, error = %e, "erasure not finished again; the next sweep retries");
                    self.keep_progress(&record).await;
                }
            }
        }
        Ok(completed)
    }

    /// The sweeper's part for disconnected connections: once the grace of a disconnect has
    /// passed, everyone the connection holds is erased (as an erasure would, announced as
    /// `candidate.erased`); its jobs stay. Returns how many connections were purged.
    pub(super) async fn purge_disconnected(&self, now_ms: i64) -> Result<usize, CandidateError> {
        let query = DueQuery { partition: keys::PURGE_DUE_PARTITION.to_owned(), up_to: keys::due_up_to(now_ms), limit: 20, cursor: None };
        // Taken by one sweep (pushed on, in case this one stops part-way).
        let mut taken = self.records.take_due(query, 1, |p: &mut ConnectionPurge| p.purge_at_ms = now_ms + RESUME_AFTER_MS);
        let mut purged = 0;
        while let Some(purge) = taken.next().await? {
            let connection = self.records.get::<Connection>(&keys::connection(&purge.connection_id)).await?.map(|c| c.record);
            if connection.is_some_and(|c| c.status == ConnectionStatus::Disconnected) {
                let erasure =
                    self.erase_announcing(&purge.partner_id, ErasureTarget::Everyone, Some(&purge.connection_id), EventKind::CandidateErased).await?;
                // Nothing left to report on: the status poll goes with the data.
                self.records.remove(&keys::status_poll(&purge.connection_id), Expect::Any).await?;
                tracing::info!(connection_id = %purge.connection_id, erasure_id = %erasure.id, "a disconnected connection's personal data erased after the grace");
                purged += 1;
            }
            // Done, or not for a connection that is not disconnected (its disconnect failed).
            self.records.remove(&purge.key(), Expect::Any).await?;
        }
        Ok(purged)
    }

    /// The connections an erasure covers: the one named (the partner's), or all the partner's.
    async fn erasure_connections(&self, partner_id: &str, connection_id: Option<&str>) -> Result<Vec<String>, CandidateError> {
        Ok(match connection_id {
            Some(id) => vec![owned_connection(&self.records, partner_id, id).await?.id],
            None => self
                .records
                .query_all::<PartnerConnection>(&keys::partner(partner_id).pk, keys::PARTNER_CONNECTIONS_PREFIX)
                .await?
                .into_iter()
                .map(|p| p.connection_id)
                .collect(),
        })
    }

    /// Erases `target` on `connections`, announces it, rewrites what keeps history on disk, and
    /// completes the record (dropping its sealed request).
    async fn run_erasure(
        &self,
        record: &mut ErasureRecord,
        connections: &[String],
        target: &ErasureTarget,
        announce: EventKind,
    ) -> Result<(), CandidateError> {
        let partner_id = record.partner_id.clone();
        let partner_id = partner_id.as_str();
        let mut traces = Traces::default();
        if let ErasureTarget::Email(email) = target {
            traces.add_value(email);
        }
        let mut erased = BTreeMap::new();
        for c in connections {
            let found = self.erase_in(c, target, &mut traces, &mut record.counts).await?;
            erased.insert(c.clone(), found);
        }
        // Copies that are not the connection's own: event bodies, known by their deliveries.
        let events = self.redact_events(partner_id, connections, &traces).await?;
        bump(&mut record.counts, "events", events);
        for (c, found) in &erased {
            self.announce_erasure(announce, partner_id, c, &record.id, found).await?;
        }
        self.records.store().compact().await?;
        record.status = ErasureStatus::Completed;
        record.completed_at_ms = Some(self.records.clock().now_ms());
        record.request = None;
        record.resume_at_ms = None;
        self.records.put(&*record).await?;
        tracing::info!(partner_id, erasure_id = %record.id, counts = ?record.counts, "erasure completed");
        Ok(())
    }

    /// The partner's erasure, if it is the partner's.
    pub async fn erasure(&self, partner_id: &str, erasure_id: &str) -> Result<ErasureRecord, CandidateError> {
        self.records.get::<ErasureRecord>(&keys::erasure(partner_id, erasure_id)).await?.map(|v| v.record).ok_or(CandidateError::NotFound("erasure"))
    }

    /// One connection: its submissions and hires of the person, and activity naming them.
    async fn erase_in(
        &self,
        connection_id: &str,
        target: &ErasureTarget,
        traces: &mut Traces,
        counts: &mut Counts,
    ) -> Result<Erased, CandidateError> {
        let pk = keys::connection(connection_id).pk;
        let submissions: Vec<SubmissionRecord> =
            self.records.query_all::<SubmissionRecord>(&pk, keys::SUBMISSIONS_PREFIX).await?.into_iter().filter(|s| is_of(s, target)).collect();
        let mut found = Erased::default();
        for s in &submissions {
            traces.add_submission(s);
            found.submission_ids.insert(s.id.clone());
            found.opportunity_ids.extend(s.opportunity_id.clone());
        }
        // Where to look; named to the partner only where the hub held something.
        let mut opportunities = found.opportunity_ids.clone();
        if let ErasureTarget::Opportunity(o) = target {
            opportunities.insert(o.clone());
            traces.ids.insert(o.clone());
        }
        let hires = self.erase_hires(connection_id, target, &opportunities, traces).await?;
        bump(counts, "hires", hires.len() as u64);
        opportunities.extend(hires.iter().cloned());
        found.opportunity_ids.extend(hires);
        for s in &submissions {
            self.erase_submission(s, traces, counts).await?;
        }
        for o in &opportunities {
            if self.records.remove(&keys::submitted_opportunity(connection_id, o), Expect::Exists).await? {
                bump(counts, "submitted_opportunities", 1);
                found.opportunity_ids.insert(o.clone());
            }
        }
        let every_upload = *target == ErasureTarget::Everyone;
        bump(counts, "uploads", self.erase_uploads(&pk, &found.submission_ids, traces, every_upload).await?);
        let activity = self.records.query_all::<ActivityEntry>(&pk, keys::ACTIVITY_PREFIX).await?;
        for entry in activity.iter().filter(|e| traces.named_in(&e.message)) {
            if self.records.remove(&entry.key(), Expect::Any).await? {
                bump(counts, "activity", 1);
            }
        }
        Ok(found)
    }

    /// One submission: its files, held-referral entries, idempotency answer and the record.
    async fn erase_submission(&self, s: &SubmissionRecord, traces: &Traces, counts: &mut Counts) -> Result<(), CandidateError> {
        for f in &s.files {
            // Counted when there (the writer deletes a written submission's files itself).
            if self.files.head(&f.object_key).await?.is_some() {
                bump(counts, "files", 1);
            }
            self.files.delete(&f.object_key).await?;
        }
        let pk = keys::connection(&s.connection_id).pk;
        for email in &s.submission.emails {
            let prefix = keys::pending_referrals_prefix(&email_key(email), &s.submission.posting_id);
            for held in self.records.query_all::<PendingReferral>(&pk, &prefix).await?.iter().filter(|p| p.submission_id == s.id) {
                if self.records.remove(&held.key(), Expect::Any).await? {
                    bump(counts, "pending_referrals", 1);
                }
            }
        }
        if let Some(key) = &s.idempotency_key {
            // The fingerprint (a SHA-256) and ids stay: a retried request is still recognised.
            let mut changed = false;
            self.records
                .update::<IdempotencyRecord>(&keys::idempotency(&s.partner_id, key), |r| {
                    changed = r.submission_id == s.id && r.answer.as_mut().is_some_and(|a| traces.redact(&mut a.body));
                    changed
                })
                .await?;
            bump(counts, "idempotency_answers", u64::from(changed));
        }
        if self.records.remove(&keys::submission(&s.connection_id, &s.id), Expect::Any).await? {
            bump(counts, "submissions", 1);
        }
        Ok(())
    }

    /// The connection's uploads that a submission of the person took, or whose name names the
    /// person (one not used yet): their bytes and their records. Returns how many.
    async fn erase_uploads(&self, pk: &str, submission_ids: &BTreeSet<String>, traces: &Traces, every: bool) -> Result<u64, CandidateError> {
        let mut erased = 0;
        for u in self.records.query_all::<UploadRecord>(pk, keys::UPLOADS_PREFIX).await? {
            let theirs = every || u.used_by.as_ref().is_some_and(|s| submission_ids.contains(s)) || traces.named_in(&u.name);
            if !theirs {
                continue;
            }
            self.files.delete(&u.object_key).await?;
            if self.records.remove(&u.key(), Expect::Any).await? {
                erased += 1;
            }
        }
        Ok(erased)
    }

    /// Nulls the HRIS fields of the person's hires (ids and sends stay); returns their
    /// opportunities.
    async fn erase_hires(
        &self,
        connection_id: &str,
        target: &ErasureTarget,
        opportunities: &BTreeSet<String>,
        traces: &mut Traces,
    ) -> Result<Vec<String>, CandidateError> {
        let mut query = DueQuery { partition: keys::hires_partition(connection_id), up_to: keys::HIRES_UP_TO.to_owned(), limit: 100, cursor: None };
        let mut erased = vec![];
        loop {
            let (page, cursor) = self.records.due::<HireRecord>(&query).await?;
            for hire in page.into_iter().map(|v| v.record) {
                let holds_email = match target {
                    ErasureTarget::Email(e) => hire.mapping.fields.values().flatten().any(|v| v.trim().eq_ignore_ascii_case(e)),
                    ErasureTarget::Opportunity(_) => false,
                    ErasureTarget::Everyone => true,
                };
                if !holds_email && !opportunities.contains(&hire.opportunity_id) {
                    continue;
                }
                hire.mapping.fields.values().flatten().for_each(|v| traces.add_value(v));
                let key = hire.key();
                self.records
                    .update::<HireRecord>(&key, |h| {
                        h.mapping.fields.values_mut().for_each(|v| *v = None);
                        true
                    })
                    .await?;
                erased.push(hire.opportunity_id);
            }
            match cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(erased),
            }
        }
    }

    /// Nulls the person's values in every stored event of `connections` that a delivery of the
    /// partner leads to (pending ones are then sent without them). Returns how many changed.
    async fn redact_events(&self, partner_id: &str, connections: &[String], traces: &Traces) -> Result<u64, StoreError> {
        if traces.values.is_empty() {
            return Ok(0);
        }
        let mut events = BTreeSet::new();
        for status in [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Dead] {
            let partition = keys::deliveries_by_status_partition(partner_id, status.as_str());
            let mut query = DueQuery { partition, up_to: keys::DELIVERIES_BY_STATUS_UP_TO.to_owned(), limit: 100, cursor: None };
            loop {
                let (page, cursor) = self.records.due::<Delivery>(&query).await?;
                events.extend(page.into_iter().map(|d| d.record.event_id));
                match cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
        }
        let mut changed = 0;
        for event_id in events {
            let mut hit = false;
            self.records
                .update::<StoredEvent>(&keys::outbound_event(partner_id, &event_id), |e| {
                    let ours = e.connection_id.as_ref().is_some_and(|c| connections.contains(c));
                    let Some(mut body) = ours.then(|| serde_json::from_str::<Value>(&e.body).ok()).flatten() else { return false };
                    hit = traces.redact(&mut body);
                    if hit {
                        e.body = body.to_string();
                    }
                    hit
                })
                .await?;
            changed += u64::from(hit);
        }
        Ok(changed)
    }

    /// `candidate.erased` (or `candidate.deleted`) to the partner, when the connection gave
    /// something up and the partner's profile subscribes.
    async fn announce_erasure(
        &self,
        kind: EventKind,
        partner_id: &str,
        connection_id: &str,
        erasure_id: &str,
        found: &Erased,
    ) -> Result<(), CandidateError> {
        if found.submission_ids.is_empty() && found.opportunity_ids.is_empty() {
            return Ok(());
        }
        if !self.catalog.get(partner_id).is_some_and(|p| p.subscribes(kind)) {
            return Ok(());
        }
        let event = NewEvent {
            id: format!("erasure/{erasure_id}/{connection_id}"),
            event_type: kind.as_str().to_owned(),
            partner_id: partner_id.to_owned(),
            connection_id: Some(connection_id.to_owned()),
            sequence: None,
            occurred_at_ms: None,
            data: json!({
                "erasure_id": erasure_id,
                "submission_ids": found.submission_ids,
                "lever": {"opportunity_ids": found.opportunity_ids},
            }),
        };
        self.events.publish(event).await.map_err(|e| CandidateError::Store(StoreError::Unavailable(e.to_string())))
    }
}

fn is_of(s: &SubmissionRecord, target: &ErasureTarget) -> bool {
    match target {
        ErasureTarget::Email(email) => s.submission.emails.iter().any(|e| e.trim().eq_ignore_ascii_case(email.trim())),
        ErasureTarget::Opportunity(o) => s.opportunity_id.as_deref() == Some(o.as_str()),
        ErasureTarget::Everyone => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_nulls_the_persons_values_and_nothing_else() {
        let mut traces = Traces::default();
        traces.add_value("Ada@Example.com");
        traces.add_value("Ada Lovelace");
        let mut body = json!({"data": {"candidate": {"name": "ada lovelace", "emails": ["ada@example.com"]}, "stage": {"name": "Ada Lovelace "}, "state": "created"}});
        assert!(traces.redact(&mut body));
        assert_eq!(body, json!({"data": {"candidate": {"name": null, "emails": [null]}, "stage": {"name": null}, "state": "created"}}));
        assert!(!traces.redact(&mut body), "nothing left to redact");
        traces.ids.insert("sub-1".into());
        assert!(traces.named_in("submission SUB-1 failed") && traces.named_in("mail ada@example.com bounced") && !traces.named_in("hire sent"));
    }
}
