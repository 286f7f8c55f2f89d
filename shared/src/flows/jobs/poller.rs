//! The job poller: one run syncs one connection's postings into its feed.
//!
//! A run takes the connection's sync lease (one sync per connection at a time, across every
//! Lambda), resumes the pass in progress or starts the next one (`core::job_sync` decides full
//! or delta), and reads Lever two pages at a time. Each pair is written before the next one
//! counts: changed jobs are written with their events (an unchanged one costs no write), what
//! the pages saw and what is to leave the feed go into a page record, and the checkpoint (the
//! next cursor, the counts, a renewed lease) is written. The next pages are fetched while
//! these are being written. Jobs leave the feed only when the pass completes; a failed or killed run
//! removes nothing and the next run continues from the checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::JobsError;
use super::records::{PASS_PAGE_LIFETIME_MS, PassPage};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::core::flow_runs::ScheduledFlow;
use crate::core::job::{Channel, JobFilter, JobInclude};
use crate::core::job_feed::{Change, CloseReason, FeedJob, JobStatus, retire};
use crate::core::job_sync::{JobSync, ListingPlan, PassCounts, PassKind, PassProgress, PassStage, SyncLease, SyncPolicy};
use crate::core::profile::Profile;
use crate::flows::activity::ActivityLog;
use crate::flows::context::ContextError;
use crate::flows::dispatch::{FlowRun, RunTrigger};
use crate::flows::events::EventPublisher;
use crate::flows::lever_calls::LeverCalls;
use crate::flows::tokens::Tokens;
use crate::lever::error::LeverError;
use crate::lever::model::{DistributionChannel, Posting, PostingsQuery};
use crate::lever::page::{MAX_LIMIT, Page, PageRequest};
use crate::lever::port::LeverApi;
use crate::queue::Queue;
use crate::store::{Records, StoreError, Versioned, keys};

mod creates;
mod listing;
mod page;

/// How many jobs leaving the feed are read and written together.
const CLOSE_BATCH: usize = 100;
/// A run stops this long before its deadline (checkpointed) and queues its continuation.
const DEADLINE_MARGIN: Duration = Duration::from_secs(20);
/// A manual sync that finds another sync running is tried again after this.
const BUSY_RETRY: Duration = Duration::from_secs(30);

/// How one run ended (errors aside).
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Passes completed (a resumed pass and, for a manual sync asked after it started, one more).
    Completed { kinds: Vec<PassKind>, counts: PassCounts },
    /// The run's time was nearly up: checkpointed, and a continuation is queued.
    Paused { pages: u32 },
    /// Another sync holds the connection; a manual sync was queued again.
    Busy,
    /// A manual sync whose request a pass completed since already served.
    AlreadyServed,
    /// Nothing to do for this connection: it is not active, or its partner has no jobs flow.
    Skipped(String),
}

#[derive(Clone)]
pub struct JobPoller {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    /// Lever with the connection's token, kept for the run's calls: a run reads the
    /// connection once, not once per page.
    calls: LeverCalls,
    events: Arc<dyn EventPublisher>,
    activity: ActivityLog,
    /// The jobs queue: continuations and manual syncs that found the connection busy.
    queue: Arc<dyn Queue>,
    policy: SyncPolicy,
}

/// Everything a pass needs about its connection.
struct Ctx<'a> {
    connection: &'a Connection,
    profile: &'a Profile,
    filter: &'a JobFilter,
    include: &'a JobInclude,
    holder: String,
    sync: Versioned<JobSync>,
    /// The pass as last written: what a failed or paused run leaves for the next one (pages
    /// read since are read again).
    saved_pass: Option<PassProgress>,
}

/// What one page of postings did.
#[derive(Default)]
struct PageResult {
    seen: Vec<String>,
    /// Of `seen`, postings that could not be read (kept in the feed if they are there).
    unreadable: Vec<String>,
    leaving: Vec<(String, CloseReason)>,
    counts: PassCounts,
}

impl JobPoller {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        records: Records,
        catalog: Arc<ProfileCatalog>,
        lever: Arc<dyn LeverApi>,
        tokens: Tokens,
        events: Arc<dyn EventPublisher>,
        activity: ActivityLog,
        queue: Arc<dyn Queue>,
        policy: SyncPolicy,
    ) -> Self {
        let calls = LeverCalls::reusing_tokens(lever, tokens);
        Self { records, catalog, calls, events, activity, queue, policy }
    }

    pub fn policy(&self) -> &SyncPolicy {
        &self.policy
    }

    fn now(&self) -> i64 {
        self.records.clock().now_ms()
    }

    /// Runs one `FlowRun` of the jobs flow. `deadline`: when the invocation must be over (a
    /// Lambda's), `None` for no limit.
    pub async fn run(&self, run: &FlowRun, deadline: Option<tokio::time::Instant>) -> Result<RunOutcome, JobsError> {
        let started = std::time::Instant::now();
        let connection = match self.records.get::<Connection>(&keys::connection(&run.connection_id)).await {
            Ok(Some(c)) => c.record,
            Ok(None) => return Ok(RunOutcome::Skipped("no such connection".into())),
            Err(e) => {
                crate::metrics::count(FLOW.as_str(), None, "SyncFailures", 1);
                return Err(e.into());
            }
        };
        let result = self.sync(run, &connection, deadline).await;
        record_run(&connection.partner_id, &result, started.elapsed());
        result
    }

    /// [`Self::run`] for a connection read.
    async fn sync(&self, run: &FlowRun, connection: &Connection, deadline: Option<tokio::time::Instant>) -> Result<RunOutcome, JobsError> {
        if connection.status != ConnectionStatus::Active {
            return Ok(RunOutcome::Skipped(format!("connection is {}", crate::flows::status::status_name(connection.status))));
        }
        let Some(profile) = self.catalog.get(&connection.partner_id).cloned() else {
            return Ok(RunOutcome::Skipped(format!("no profile {}", connection.partner_id)));
        };
        let Some(flow) = profile.jobs() else {
            return Ok(RunOutcome::Skipped("the partner has no jobs flow".into()));
        };
        let manual = run.trigger == RunTrigger::Manual;
        let full = run.options.get("full").and_then(|v| v.as_bool()).unwrap_or(false);
        // A manual sync is served by any pass that started after it was asked for.
        let served_since = (manual && !full).then_some(run.due_at_ms);
        let holder = uuid::Uuid::new_v4().to_string();
        // The token of the connection just read serves the run's first Lever calls.
        self.calls.keep(connection);
        let (sync, mut fresh_pass) = match self.acquire(&connection.id, &holder, full, served_since, &flow.filter).await? {
            Acquire::Held(sync, started) => (*sync, started),
            Acquire::Served => return Ok(RunOutcome::AlreadyServed),
            Acquire::Busy => {
                if manual {
                    self.enqueue(run, BUSY_RETRY).await?;
                }
                return Ok(RunOutcome::Busy);
            }
        };
        let saved_pass = sync.record.pass.clone();
        let mut ctx = Ctx { connection, profile: &profile, filter: &flow.filter, include: &flow.include, holder, sync, saved_pass };
        let mut kinds = vec![];
        let mut total = PassCounts::default();
        loop {
            match self.pass(&mut ctx, deadline).await {
                Ok(Some(pass)) => {
                    kinds.push(pass.kind);
                    add(&mut total, &pass.counts);
                    // A manual sync wants a pass that read Lever after it was asked for: one this
                    // run started, or a resumed one that started after the request.
                    let stale = manual && !fresh_pass && pass.started_at_ms <= run.due_at_ms;
                    if stale && kinds.len() < 2 {
                        fresh_pass = true;
                        self.start_pass(&mut ctx);
                        self.checkpoint(&mut ctx).await?;
                        continue;
                    }
                    break;
                }
                Ok(None) => {
                    let pages = ctx.sync.record.pass.as_ref().map_or(0, |p| p.pages);
                    self.release(&mut ctx, End::Interrupted(None)).await?;
                    self.enqueue(&FlowRun { options: json!({"continue": true}), ..run.clone() }, Duration::ZERO).await?;
                    return Ok(RunOutcome::Paused { pages });
                }
                Err(e) => {
                    let message = e.to_string();
                    if let Err(release) = self.release(&mut ctx, End::Interrupted(Some(&message))).await {
                        tracing::warn!(connection_id = %connection.id, error = %release, "sync lease not released; it expires by itself");
                    }
                    self.activity.note(&connection.id, "jobs.sync_failed", false, message).await;
                    return Err(e);
                }
            }
        }
        self.release(&mut ctx, End::Completed).await?;
        if total.created + total.updated + total.closed > 0 {
            let note =
                format!("jobs synced: {} new, {} updated, {} closed ({} postings read)", total.created, total.updated, total.closed, total.postings);
            self.activity.note(&connection.id, "jobs.synced", true, note).await;
        }
        Ok(RunOutcome::Completed { kinds, counts: total })
    }

    async fn enqueue(&self, run: &FlowRun, delay: Duration) -> Result<(), JobsError> {
        let body = serde_json::to_string(run).map_err(|e| JobsError::Internal(e.to_string()))?;
        self.queue.send(&body, delay).await?;
        Ok(())
    }

    /// Takes the connection's sync lease (creating its sync state on first use) and, in the
    /// same write, starts a pass unless one is in progress.
    async fn acquire(
        &self,
        connection_id: &str,
        holder: &str,
        full: bool,
        served_since: Option<i64>,
        filter: &JobFilter,
    ) -> Result<Acquire, JobsError> {
        let key = keys::checkpoint(connection_id, super::records::JOBS_FLOW);
        for _ in 0..8 {
            let now = self.now();
            let current = self.records.get::<JobSync>(&key).await?;
            let mut sync = current.as_ref().map(|c| c.record.clone()).unwrap_or_else(|| JobSync::new(connection_id));
            // Strictly after: a pass of the same instant may have read Lever just before the request.
            let served = served_since.is_some_and(|since| sync.last_completed_started_at_ms.is_some_and(|at| at > since));
            if served && sync.pass.is_none() {
                return Ok(Acquire::Served);
            }
            if sync.held_by_other(holder, now) {
                return Ok(if served { Acquire::Served } else { Acquire::Busy });
            }
            sync.lease = Some(SyncLease { holder: holder.to_owned(), since_ms: now, expires_at_ms: now + self.policy.lease_ms });
            sync.full_requested |= full;
            let starts = sync.pass.is_none();
            if starts {
                let kind = sync.next_kind(&self.policy, now);
                sync.pass = Some(sync.start_pass(uuid::Uuid::new_v4().simple().to_string(), kind, filter, &self.policy, now, wall_now()));
            }
            let written = match &current {
                Some(c) => self.records.replace(&sync, c.version).await,
                None => self.records.create(&sync).await,
            };
            match written {
                Ok(version) => return Ok(Acquire::Held(Box::new(Versioned { record: sync, version }), starts)),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Starts the next pass in memory (written by the next checkpoint).
    fn start_pass(&self, ctx: &mut Ctx<'_>) {
        let now = self.now();
        let kind = ctx.sync.record.next_kind(&self.policy, now);
        ctx.sync.record.pass =
            Some(ctx.sync.record.start_pass(uuid::Uuid::new_v4().simple().to_string(), kind, ctx.filter, &self.policy, now, wall_now()));
    }

    /// Writes the sync state, renewing the lease; fails if the lease was lost meanwhile.
    async fn checkpoint(&self, ctx: &mut Ctx<'_>) -> Result<(), JobsError> {
        let now = self.now();
        if let Some(lease) = ctx.sync.record.lease.as_mut() {
            lease.expires_at_ms = now + self.policy.lease_ms;
        }
        ctx.sync.version = self.write_sync(ctx).await?;
        ctx.saved_pass = ctx.sync.record.pass.clone();
        Ok(())
    }

    /// Compare-and-set of the sync state. A partner's request written meanwhile is merged in;
    /// any other change means another run holds the lease now.
    async fn write_sync(&self, ctx: &mut Ctx<'_>) -> Result<u64, JobsError> {
        let key = keys::checkpoint(&ctx.connection.id, super::records::JOBS_FLOW);
        for _ in 0..8 {
            match self.records.replace(&ctx.sync.record, ctx.sync.version).await {
                Ok(version) => return Ok(version),
                Err(StoreError::ConditionFailed) => {
                    let Some(fresh) = self.records.get::<JobSync>(&key).await? else { return Err(JobsError::LeaseLost) };
                    let ours = fresh.record.lease.as_ref().is_some_and(|l| l.holder == ctx.holder);
                    if !ours {
                        return Err(JobsError::LeaseLost);
                    }
                    ctx.sync.record.merge_requests(&fresh.record);
                    ctx.sync.version = fresh.version;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Gives the lease back. A run that did not complete its pass (`Interrupted`) leaves the
    /// pass as last checkpointed, recording the failure if there was one.
    async fn release(&self, ctx: &mut Ctx<'_>, end: End<'_>) -> Result<(), JobsError> {
        if let End::Interrupted(failure) = end {
            ctx.sync.record.pass = ctx.saved_pass.clone();
            if let Some(message) = failure {
                ctx.sync.record.last_failure_at_ms = Some(self.now());
                ctx.sync.record.last_error = Some(message.chars().take(500).collect());
            }
        }
        ctx.sync.record.lease = None;
        match self.write_sync(ctx).await {
            Ok(version) => {
                ctx.sync.version = version;
                Ok(())
            }
            // Someone took an expired lease over: it is theirs now.
            Err(JobsError::LeaseLost) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Runs the pass in progress to its end. `Ok(None)`: paused for the deadline.
    ///
    /// What pages found since the last checkpoint is carried in memory (`pending`) and written
    /// with the next checkpoint, so the last page of a listing costs no write of its own: a run
    /// killed after it reads that page again.
    async fn pass(&self, ctx: &mut Ctx<'_>, deadline: Option<tokio::time::Instant>) -> Result<Option<PassProgress>, JobsError> {
        let mut pending = PageResult::default();
        let mut restarted = false;
        let mut open = None;
        loop {
            let Some(pass) = ctx.sync.record.pass.clone() else { return Err(JobsError::Internal("no pass in progress".into())) };
            if pass.pages == 0 && pass.cursor.is_none() && pass.stage == PassStage::Postings {
                tracing::info!(connection_id = %ctx.connection.id, kind = ?pass.kind, "job sync pass starts");
            }
            let result = match pass.stage {
                // A full pass reads the feed's open jobs while it reads Lever (see `listing`).
                PassStage::Postings if pass.kind == PassKind::Full && open.is_none() => {
                    let connection_id = ctx.connection.id.clone();
                    let (listed, read) = tokio::join!(self.postings_stage(ctx, &mut pending, deadline), self.open_jobs(&connection_id));
                    open = Some(read?);
                    listed
                }
                PassStage::Postings => self.postings_stage(ctx, &mut pending, deadline).await,
                PassStage::Deleted => self.deleted_stage(ctx, &mut pending, deadline).await,
            };
            match result {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                // Lever refused a checkpointed cursor (too old, or from another sort): read the
                // stage again from its first page; what the earlier pages found stays valid.
                Err(JobsError::Lever(LeverError::Invalid { status: 400, message, .. }))
                    if !restarted && pass.cursor.is_some() && message.to_ascii_lowercase().contains("offset") =>
                {
                    restarted = true;
                    if let Some(p) = ctx.sync.record.pass.as_mut() {
                        p.cursor = None;
                        p.counts.restarts += 1;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            let stage = ctx.sync.record.pass.as_ref().map(|p| (p.stage, p.kind));
            if stage == Some((PassStage::Postings, PassKind::Delta)) {
                if let Some(p) = ctx.sync.record.pass.as_mut() {
                    p.stage = PassStage::Deleted;
                    p.cursor = None;
                }
                continue;
            }
            return self.complete(ctx, pending, open).await.map(Some);
        }
    }

    fn time_is_up(deadline: Option<tokio::time::Instant>) -> bool {
        deadline.is_some_and(|d| tokio::time::Instant::now() + DEADLINE_MARGIN >= d)
    }

    async fn fetch_postings(&self, connection_id: &str, plan: &ListingPlan, cursor: Option<String>) -> Result<Page<Posting>, JobsError> {
        let query = postings_query(plan);
        let page = PageRequest { limit: MAX_LIMIT, offset: cursor };
        Ok(self
            .calls
            .call(connection_id, move |lever, auth| {
                let (query, page) = (query.clone(), page.clone());
                async move { lever.list_postings(&auth, &query, page).await }
            })
            .await
            .map_err(ContextError::from)?)
    }

    /// Reads deleted postings (delta passes) from the checkpointed cursor. `Ok(false)`: paused.
    async fn deleted_stage(&self, ctx: &mut Ctx<'_>, pending: &mut PageResult, deadline: Option<tokio::time::Instant>) -> Result<bool, JobsError> {
        let connection_id = ctx.connection.id.clone();
        let mut seen_cursors: BTreeSet<String> = BTreeSet::new();
        loop {
            if Self::time_is_up(deadline) && ctx.sync.record.pass.as_ref().is_some_and(|p| p.cursor.is_some()) {
                return Ok(false);
            }
            let pass = ctx.sync.record.pass.clone().ok_or_else(|| JobsError::Internal("no pass".into()))?;
            let since = pass.deleted_since_ms;
            let request = PageRequest { limit: MAX_LIMIT, offset: pass.cursor.clone() };
            let page = self
                .calls
                .call(&connection_id, move |lever, auth| {
                    let request = request.clone();
                    async move { lever.list_deleted_postings(&auth, since, request).await }
                })
                .await
                .map_err(ContextError::from)?;
            let next = page.next_offset().map(str::to_owned);
            if let Some(n) = &next
                && !seen_cursors.insert(n.clone())
            {
                return Err(LeverError::PaginationLoop { pages: seen_cursors.len() as u32 }.into());
            }
            let ids: Vec<String> = page.data.iter().filter_map(|d| crate::core::ids::normalize_uuid(d.id.trim())).collect();
            let wanted: Vec<_> = ids.iter().map(|id| keys::job(&connection_id, id)).collect();
            for (id, stored) in ids.into_iter().zip(self.records.get_many::<FeedJob>(&wanted).await?) {
                if stored.is_some_and(|s| s.record.status == JobStatus::Open) {
                    pending.leaving.push((id, CloseReason::Deleted));
                }
            }
            self.page_done(ctx, pending, next.clone(), 1).await?;
            if next.is_none() {
                return Ok(true);
            }
        }
    }

    /// A page is done. With a next page to come, what the pages found since the last
    /// checkpoint is written and the checkpoint moves past them; the listing's last page is
    /// carried to the pass's completion in memory. `pages`: how many Lever pages that was.
    async fn page_done(&self, ctx: &mut Ctx<'_>, pending: &mut PageResult, next: Option<String>, pages: u32) -> Result<(), JobsError> {
        let (connection_id, now) = (ctx.connection.id.clone(), self.now());
        let pass = ctx.sync.record.pass.as_mut().ok_or_else(|| JobsError::Internal("no pass".into()))?;
        pass.pages += pages;
        if next.is_none() {
            return Ok(());
        }
        let found = std::mem::take(pending);
        if (pass.kind == PassKind::Full && !found.seen.is_empty()) || !found.leaving.is_empty() {
            let full = pass.kind == PassKind::Full;
            let record = PassPage {
                connection_id,
                pass_id: pass.id.clone(),
                page: pass.pages,
                seen: if full { found.seen } else { vec![] },
                unreadable: if full { found.unreadable } else { vec![] },
                leaving: found.leaving,
                expires_at_ms: now + PASS_PAGE_LIFETIME_MS,
            };
            self.records.put(&record).await?;
            pass.page_records = pass.page_records.map(|n| n + 1);
        }
        pass.cursor = next;
        add(&mut pass.counts, &found.counts);
        self.checkpoint(ctx).await
    }

    /// The end of a pass: jobs that are to leave the feed leave it, and the watermarks move.
    /// Written by the caller's next write (the lease's release, or the next pass's start).
    async fn complete(&self, ctx: &mut Ctx<'_>, pending: PageResult, open: Option<BTreeSet<String>>) -> Result<PassProgress, JobsError> {
        let mut pass = ctx.sync.record.pass.clone().ok_or_else(|| JobsError::Internal("no pass".into()))?;
        add(&mut pass.counts, &pending.counts);
        let connection_id = ctx.connection.id.clone();
        let pk = keys::connection(&connection_id).pk;
        let mut leaving: BTreeMap<String, CloseReason> = BTreeMap::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut unreadable: BTreeSet<String> = BTreeSet::new();
        // A pass whose pages found nothing to keep (most deltas) wrote no page records.
        let records = match pass.page_records {
            Some(0) => vec![],
            _ => self.records.query_all::<PassPage>(&pk, &keys::job_pass_prefix(&pass.id)).await?,
        };
        for page in records {
            seen.extend(page.seen);
            leaving.extend(page.leaving);
            unreadable.extend(page.unreadable);
        }
        seen.extend(pending.seen);
        leaving.extend(pending.leaving);
        unreadable.extend(pending.unreadable);
        // Seen in a later page (it moved while the pass ran): it stays.
        leaving.retain(|id, _| !seen.contains(id));
        let mut open_now = None;
        if pass.kind == PassKind::Full {
            let open = match open {
                Some(open) => open,
                None => self.open_jobs(&connection_id).await?,
            };
            for id in open.iter().filter(|id| !seen.contains(*id)) {
                leaving.entry(id.clone()).or_insert(CloseReason::Missing);
            }
            // Open now: those open when the feed was read, and those the pass saw (and wrote
            // open, or found so), but not postings it could not read, which prove nothing.
            let kept = seen.iter().filter(|id| !unreadable.contains(*id) && !open.contains(*id)).count();
            open_now = Some((open.len() + kept) as u64);
        }
        let leaving: Vec<(String, CloseReason)> = leaving.into_iter().collect();
        let mut closed = 0u64;
        for batch in leaving.chunks(CLOSE_BATCH) {
            closed += self.close_all(ctx, batch).await?;
        }
        pass.counts.closed += closed;
        let jobs_open = match open_now {
            Some(open) => open.saturating_sub(closed),
            None => (ctx.sync.record.jobs_open + pass.counts.created).saturating_sub(closed),
        };
        ctx.sync.record.completed(&pass, jobs_open, self.now());
        tracing::info!(connection_id, kind = ?pass.kind, pages = pass.pages, created = pass.counts.created,
            updated = pass.counts.updated, closed, jobs_open, "job sync pass complete");
        Ok(pass)
    }

    /// Jobs leave the feed: read in one batch, written with their events in transactions;
    /// those whose transaction lost a race are closed one by one. Returns how many closed.
    async fn close_all(&self, ctx: &Ctx<'_>, leaving: &[(String, CloseReason)]) -> Result<u64, JobsError> {
        let wanted: Vec<_> = leaving.iter().map(|(id, _)| keys::job(&ctx.connection.id, id)).collect();
        let stored = self.records.get_many::<FeedJob>(&wanted).await?;
        let now = self.now();
        let mut retiring = Vec::new();
        for ((id, reason), stored) in leaving.iter().zip(stored) {
            if let Some(change) = retire(stored.as_ref().map(|s| &s.record), *reason, now) {
                retiring.push((id, *reason, stored.map(|s| s.version), change));
            }
        }
        let changes: Vec<Change> = retiring.iter().map(|(_, _, _, c)| c.clone()).collect();
        let sequences = self.sequences(ctx, &changes).await?;
        let mut redo = Vec::with_capacity(retiring.len());
        let mut pending = Vec::with_capacity(retiring.len());
        for ((id, reason, version, change), sequence) in retiring.into_iter().zip(sequences) {
            redo.push((id, reason));
            pending.push(page::Pending { version, change, sequence });
        }
        let written = self.write_all(ctx, pending).await?;
        let mut closed = written.iter().filter(|w| **w).count() as u64;
        // Collected first: an iterator adapter's closure held across the awaits below makes the
        // run's future fail the compiler's higher-ranked `Send` check when it is spawned.
        let lost: Vec<(String, CloseReason)> =
            redo.into_iter().zip(written).filter(|(_, w)| !*w).map(|((id, reason), _)| (id.clone(), reason)).collect();
        for (id, reason) in &lost {
            if self.close(ctx, id, *reason).await? {
                closed += 1;
            }
        }
        Ok(closed)
    }

    async fn close(&self, ctx: &Ctx<'_>, posting_id: &str, reason: CloseReason) -> Result<bool, JobsError> {
        let key = keys::job(&ctx.connection.id, posting_id);
        for _ in 0..8 {
            let stored = self.records.get::<FeedJob>(&key).await?;
            let Some(change) = retire(stored.as_ref().map(|s| &s.record), reason, self.now()) else { return Ok(false) };
            match self.write(ctx, stored.as_ref(), change, None).await {
                Ok(()) => return Ok(true),
                Err(JobsError::Store(StoreError::ConditionFailed)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict.into())
    }
}

/// A run's metrics: completed syncs, their time and the jobs they changed; failed runs. A paused
/// run's time counts (it synced pages); runs with nothing to do count nowhere.
fn record_run(partner_id: &str, result: &Result<RunOutcome, JobsError>, elapsed: Duration) {
    let (flow, partner) = (FLOW.as_str(), Some(partner_id));
    match result {
        Ok(RunOutcome::Completed { counts, .. }) => {
            crate::metrics::count(flow, partner, "SyncRuns", 1);
            crate::metrics::duration(flow, partner, "SyncDuration", elapsed);
            crate::metrics::count(flow, partner, "JobsChanged", counts.created + counts.updated + counts.closed);
        }
        Ok(RunOutcome::Paused { .. }) => crate::metrics::duration(flow, partner, "SyncDuration", elapsed),
        Ok(_) => {}
        Err(_) => crate::metrics::count(flow, partner, "SyncFailures", 1),
    }
}

/// How a run gives its lease back.
enum End<'a> {
    Completed,
    /// Paused (`None`) or failed with this message.
    Interrupted(Option<&'a str>),
}

/// The wall clock, for what is compared with Lever's timestamps.
fn wall_now() -> i64 {
    use crate::clock::Clock as _;
    crate::clock::SystemClock.now_ms()
}

enum Acquire {
    /// Held; `true` when this acquire started the pass (rather than finding one to resume).
    Held(Box<Versioned<JobSync>>, bool),
    /// A pass that started after the manual request completed (or is running).
    Served,
    Busy,
}

impl PageResult {
    fn merge(&mut self, other: PageResult) {
        self.seen.extend(other.seen);
        self.unreadable.extend(other.unreadable);
        self.leaving.extend(other.leaving);
        add(&mut self.counts, &other.counts);
    }
}

fn add(total: &mut PassCounts, c: &PassCounts) {
    total.postings += c.postings;
    total.created += c.created;
    total.updated += c.updated;
    total.refreshed += c.refreshed;
    total.unchanged += c.unchanged;
    total.skipped += c.skipped;
    total.closed += c.closed;
    total.restarts += c.restarts;
}

/// The Lever query of a listing plan.
pub fn postings_query(plan: &ListingPlan) -> PostingsQuery {
    PostingsQuery {
        states: plan.states.iter().map(|s| crate::lever::model::PostingState::from(s.as_str())).collect(),
        distribution_channels: plan
            .channels
            .iter()
            .map(|c| match c {
                Channel::Public => DistributionChannel::Public,
                Channel::Internal => DistributionChannel::Internal,
            })
            .collect(),
        confidentiality: plan.confidentiality.clone(),
        updated_at_start: plan.updated_at_start,
        expand_hiring_manager: true,
        ..PostingsQuery::default()
    }
}

/// What trouble with the connection or its Lever call means to a sync.
impl From<ContextError> for JobsError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::Lever(l) => JobsError::Lever(l),
            ContextError::Store(s) => JobsError::Store(s),
            ContextError::NotActive(s) => JobsError::NotActive(s),
            ContextError::UnknownConnection(_) => JobsError::NotActive("gone"),
            ContextError::NoProfile(p) => JobsError::Internal(format!("no profile {p}")),
            ContextError::Unreadable(e) => JobsError::Internal(e),
        }
    }
}

/// The flow this poller serves, for the queue's messages.
pub const FLOW: ScheduledFlow = ScheduledFlow::Jobs;
