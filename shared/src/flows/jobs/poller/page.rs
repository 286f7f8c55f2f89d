//! A page of postings into the feed, and the writes of changed jobs with their events.
//!
//! The store calls of a page do not grow with its postings: one batch read of the page's feed
//! jobs, one block of event numbers, then the writes, a few at once: new jobs in batches
//! (`creates`), changed ones with their events in transactions of up to 100 writes. A
//! transaction that loses a race (the partner marked a job imported meanwhile) did nothing; its
//! changes are then redone one by one, each read again.

use futures::StreamExt as _;

use super::creates::{CREATES_PER_GROUP, Create};
use super::{Ctx, JobPoller, PageResult, add};
use crate::core::job::Job;
use crate::core::job_feed::{Change, CloseReason, FeedJob, JobView, event_id, observe_open};
use crate::core::profile::EventKind;
use crate::flows::events::NewEvent;
use crate::flows::jobs::JobsError;
use crate::flows::jobs::convert::posting_input;
use crate::lever::model::Posting;
use crate::store::{Expect, Records, StoreError, Versioned, Write, keys};

/// How many single writes (the slow path) run at once.
const SLOW_CONCURRENCY: usize = 8;
/// How many transactions of a page run at once.
const TRANSACTIONS_IN_FLIGHT: usize = 8;
/// DynamoDB's limits on one transaction are 100 writes and 4 MB; the size is estimated from
/// the records' JSON, so this keeps well clear of the limit.
const TRANSACTION_WRITES: usize = 100;
const TRANSACTION_BYTES: usize = 2 * 1024 * 1024;

/// Boxed as `Send` futures: a closure-mapped stream of borrowing futures trips the compiler's
/// higher-ranked `Send` check when the run is spawned.
type Boxed<'f, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, JobsError>> + Send + 'f>>;

pub(super) enum Observed {
    Created,
    Updated,
    Refreshed,
    Unchanged,
    Skipped,
}

impl Observed {
    fn of(change: &Change) -> Self {
        match change.event {
            Some(EventKind::JobCreated) => Observed::Created,
            Some(_) => Observed::Updated,
            None => Observed::Refreshed,
        }
    }
}

/// What a page says about a posting's place in the feed.
pub(super) enum Verdict {
    /// In the feed (or kept there: an unreadable posting is no evidence).
    Seen,
    /// In the feed, and to leave it when the pass completes.
    Leaving(CloseReason),
    /// Neither in the feed nor to be.
    NotInFeed,
}

/// One posting of a page, read and judged, its write (if any) still to do.
struct Planned {
    id: String,
    observed: Observed,
    verdict: Verdict,
    write: Option<(Option<u64>, Change)>,
    job: Option<Job>,
}

/// A change to write: the version it replaces (`None`: a new job) and its event's number.
pub(super) struct Pending {
    pub version: Option<u64>,
    pub change: Change,
    pub sequence: Option<u64>,
}

impl JobPoller {
    /// A page of postings: every posting is read against its feed job in one batch read and
    /// judged; the changes take their event numbers in one block (one compare-and-set on the
    /// connection, not one per event) and are written with their events.
    pub(super) async fn postings_page(&self, ctx: &Ctx<'_>, postings: &[Posting]) -> Result<PageResult, JobsError> {
        let jobs: Vec<(String, Option<Job>)> = postings
            .iter()
            .map(|posting| match Job::from_posting(&posting_input(posting)) {
                Ok(job) => (job.posting_id.clone(), Some(job)),
                Err(e) => {
                    // Kept as seen: an unreadable posting is no evidence that a job is gone.
                    tracing::warn!(connection_id = %ctx.connection.id, error = %e, "posting skipped");
                    (posting.id.trim().to_ascii_lowercase(), None)
                }
            })
            .collect();
        let wanted: Vec<_> = jobs.iter().filter(|(_, j)| j.is_some()).map(|(id, _)| keys::job(&ctx.connection.id, id)).collect();
        let mut stored = self.records.get_many::<FeedJob>(&wanted).await?.into_iter();
        let mut planned = Vec::with_capacity(jobs.len());
        for (id, job) in jobs {
            planned.push(match job {
                Some(job) => self.plan(ctx, job, stored.next().flatten()),
                None => Planned { id, observed: Observed::Skipped, verdict: Verdict::Seen, write: None, job: None },
            });
        }
        let changes: Vec<Change> = planned.iter().filter_map(|p| p.write.as_ref().map(|(_, c)| c.clone())).collect();
        let mut sequences = self.sequences(ctx, &changes).await?.into_iter();
        let mut pending = Vec::with_capacity(changes.len());
        // Which planned postings have a write, and the job to redo it from if it must be.
        let mut writes = Vec::with_capacity(planned.len());
        for p in &mut planned {
            writes.push(p.write.take().map(|(version, change)| {
                pending.push(Pending { version, change, sequence: sequences.next().flatten() });
                p.job.take()
            }));
        }
        let mut written = self.write_all(ctx, pending).await?.into_iter();
        let mut result = PageResult::default();
        let mut slow = Vec::new();
        for (p, redo) in planned.into_iter().zip(writes) {
            match redo {
                Some(job) if written.next() != Some(true) => slow.push(job),
                _ => tally(&mut result, p.id, p.observed, p.verdict),
            }
        }
        let redoing: Vec<Boxed<'_, (String, Observed, Verdict)>> = slow.iter().map(|job| Box::pin(self.observe(ctx, job)) as Boxed<'_, _>).collect();
        let redone: Vec<Result<(String, Observed, Verdict), JobsError>> =
            futures::stream::iter(redoing).buffer_unordered(SLOW_CONCURRENCY).collect().await;
        for outcome in redone {
            let (id, observed, verdict) = outcome?;
            tally(&mut result, id, observed, verdict);
        }
        Ok(result)
    }

    /// What one posting means for the feed, given its feed job as stored.
    fn plan(&self, ctx: &Ctx<'_>, job: Job, stored: Option<Versioned<FeedJob>>) -> Planned {
        let id = job.posting_id.clone();
        if !ctx.filter.passes(&job) {
            let open = stored.is_some_and(|s| s.record.status == crate::core::job_feed::JobStatus::Open);
            let verdict = if open { Verdict::Leaving(CloseReason::NoLongerMatches) } else { Verdict::NotInFeed };
            return Planned { id, observed: Observed::Unchanged, verdict, write: None, job: None };
        }
        let previous = stored.as_ref().map(|s| &s.record);
        let Some(change) = observe_open(&ctx.connection.id, previous, job.clone(), ctx.include, self.now()) else {
            return Planned { id, observed: Observed::Unchanged, verdict: Verdict::Seen, write: None, job: None };
        };
        let observed = Observed::of(&change);
        Planned { id, observed, verdict: Verdict::Seen, write: Some((stored.map(|s| s.version), change)), job: Some(job) }
    }

    /// An event number for each change the partner hears of (`None` for the others), taken in
    /// one block.
    pub(super) async fn sequences(&self, ctx: &Ctx<'_>, changes: &[Change]) -> Result<Vec<Option<u64>>, JobsError> {
        let announced = changes.iter().filter(|c| self.announces(ctx, c)).count();
        let mut next = match announced {
            0 => None,
            n => crate::flows::events::take_sequences(&self.records, &ctx.connection.id, n as u64).await?,
        };
        Ok(changes
            .iter()
            .map(|c| {
                if !self.announces(ctx, c) {
                    return None;
                }
                let taken = next;
                next = next.map(|n| n + 1);
                taken
            })
            .collect())
    }

    fn announces(&self, ctx: &Ctx<'_>, change: &Change) -> bool {
        change.event.is_some_and(|k| ctx.profile.subscribes(k))
    }

    fn event_of(&self, ctx: &Ctx<'_>, change: &Change, sequence: Option<u64>) -> Result<Option<NewEvent>, JobsError> {
        let Some(kind) = change.event.filter(|k| ctx.profile.subscribes(*k)) else { return Ok(None) };
        Ok(Some(NewEvent {
            id: event_id(&change.job),
            event_type: kind.as_str().to_owned(),
            partner_id: ctx.connection.partner_id.clone(),
            connection_id: Some(ctx.connection.id.clone()),
            sequence,
            occurred_at_ms: Some(change.job.changed_at_ms),
            data: serde_json::to_value(JobView::feed(&change.job, ctx.include)).map_err(|e| JobsError::Internal(e.to_string()))?,
        }))
    }

    /// Writes changed jobs with their events. For each change, whether it was written: `false`
    /// ones lost a race (a transaction that wrote nothing, or an event an earlier run stored)
    /// and the caller redoes them one by one. A change whose job is written twice in `pending`
    /// (a posting listed twice) is left to the caller too.
    ///
    /// New jobs of a run that holds its lease firmly are created without conditions (see
    /// [`JobPoller::create_all`]); every other change goes in transactions of up to 100 writes,
    /// each job with its event.
    pub(super) async fn write_all(&self, ctx: &Ctx<'_>, pending: Vec<Pending>) -> Result<Vec<bool>, JobsError> {
        let count = pending.len();
        if count == 0 {
            return Ok(vec![]);
        }
        let mut events = Vec::new();
        for p in &pending {
            events.extend(self.event_of(ctx, &p.change, p.sequence)?);
        }
        let Some(staged) = self.events.stage(events).await.map_err(|e| JobsError::Publish(e.to_string()))? else {
            return Ok(vec![false; count]);
        };
        let mut staged = staged.into_iter();
        let now = self.now();
        let alone = ctx.sync.record.held_firmly_by(&ctx.holder, now, &self.policy);
        let mut seen = std::collections::HashSet::new();
        let mut chunks: Vec<Chunk> = vec![];
        let mut creates: Vec<Create> = vec![];
        for (index, p) in pending.into_iter().enumerate() {
            let event = if self.announces(ctx, &p.change) { staged.next() } else { None };
            if !seen.insert(keys::job(&ctx.connection.id, &p.change.job.job.posting_id)) {
                continue;
            }
            if alone && p.version.is_none() {
                creates.push(Create { index, job: Records::put_write(&p.change.job, Expect::Any)?, event });
                continue;
            }
            let expect = p.version.map_or(Expect::AbsentOrExpired { now_ms: now }, Expect::Version);
            let mut writes = vec![Records::put_write(&p.change.job, expect)?];
            let mut after = None;
            if let Some(e) = event {
                writes.extend(e.writes);
                after = Some(crate::flows::events::StagedEvent { writes: vec![], after: e.after });
            }
            Chunk::add(&mut chunks, index, writes, after);
        }
        let mut writing: Vec<Boxed<'_, Vec<(usize, bool)>>> = Vec::new();
        let mut creates = creates.into_iter().peekable();
        while creates.peek().is_some() {
            let group: Vec<Create> = creates.by_ref().take(CREATES_PER_GROUP).collect();
            writing.push(Box::pin(self.create_all(group)) as Boxed<'_, _>);
        }
        writing.extend(chunks.into_iter().map(|c| Box::pin(self.commit(c)) as Boxed<'_, _>));
        let done: Vec<Result<Vec<(usize, bool)>, JobsError>> =
            futures::stream::iter(writing).buffer_unordered(TRANSACTIONS_IN_FLIGHT).collect().await;
        let mut written = vec![false; count];
        for group in done {
            for (index, ok) in group? {
                written[index] = ok;
            }
        }
        Ok(written)
    }

    /// One transaction of changes with their events; `false`: it lost a race, nothing written.
    async fn commit(&self, chunk: Chunk) -> Result<Vec<(usize, bool)>, JobsError> {
        let ok = match self.records.transact(chunk.writes).await {
            Ok(()) => {
                self.events.committed(chunk.events).await.map_err(|e| JobsError::Publish(e.to_string()))?;
                true
            }
            Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => false,
            Err(e) => return Err(e.into()),
        };
        Ok(chunk.indices.into_iter().map(|i| (i, ok)).collect())
    }

    /// The slow path after a lost race: read, change and write one job until it sticks.
    async fn observe(&self, ctx: &Ctx<'_>, job: &Option<Job>) -> Result<(String, Observed, Verdict), JobsError> {
        let Some(job) = job else { return Err(JobsError::Internal("no job to write".into())) };
        let id = job.posting_id.clone();
        let key = keys::job(&ctx.connection.id, &id);
        for _ in 0..8 {
            let stored = self.records.get::<FeedJob>(&key).await?;
            let Some(change) = observe_open(&ctx.connection.id, stored.as_ref().map(|s| &s.record), job.clone(), ctx.include, self.now()) else {
                return Ok((id, Observed::Unchanged, Verdict::Seen));
            };
            let observed = Observed::of(&change);
            match self.write(ctx, stored.as_ref(), change, None).await {
                Ok(()) => return Ok((id, observed, Verdict::Seen)),
                Err(JobsError::Store(StoreError::ConditionFailed)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// One change on its own: announced, then written. In that order: a run that dies in
    /// between announces the same change again (the same event id, delivered once) and then
    /// writes it. `sequence`: the event's number if the caller took one (else the publisher
    /// takes it).
    pub(super) async fn write(
        &self,
        ctx: &Ctx<'_>,
        stored: Option<&Versioned<FeedJob>>,
        change: Change,
        sequence: Option<u64>,
    ) -> Result<(), JobsError> {
        if let Some(event) = self.event_of(ctx, &change, sequence)? {
            self.events.publish(event).await.map_err(|e| JobsError::Publish(e.to_string()))?;
        }
        match stored {
            Some(s) => self.records.replace(&change.job, s.version).await?,
            None => self.records.create(&change.job).await?,
        };
        Ok(())
    }
}

/// Changes bound for one transaction.
#[derive(Default)]
struct Chunk {
    writes: Vec<Write>,
    bytes: usize,
    /// Their places in the caller's list.
    indices: Vec<usize>,
    events: Vec<crate::flows::events::StagedEvent>,
}

impl Chunk {
    /// Adds one change's writes (its job and its event's) to the last chunk, or to a new one
    /// when they would take it past a transaction's limits.
    fn add(chunks: &mut Vec<Chunk>, index: usize, writes: Vec<Write>, event: Option<crate::flows::events::StagedEvent>) {
        let bytes: usize = writes.iter().map(write_bytes).sum();
        let fits = |c: &Chunk| c.writes.len() + writes.len() <= TRANSACTION_WRITES && c.bytes + bytes <= TRANSACTION_BYTES;
        if !chunks.last().is_some_and(fits) {
            chunks.push(Chunk::default());
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.writes.extend(writes);
            chunk.bytes += bytes;
            chunk.indices.push(index);
            chunk.events.extend(event);
        }
    }
}

/// A write's size as DynamoDB counts it, roughly.
fn write_bytes(write: &Write) -> usize {
    match write {
        Write::Put { item, .. } => item.approx_bytes(),
        Write::Delete { key, .. } | Write::Check { key, .. } => key.pk.len() + key.sk.len() + 64,
    }
}

fn tally(result: &mut PageResult, id: String, observed: Observed, verdict: Verdict) {
    let skipped = matches!(observed, Observed::Skipped);
    let mut counts = crate::core::job_sync::PassCounts { postings: 1, ..Default::default() };
    match observed {
        Observed::Created => counts.created = 1,
        Observed::Updated => counts.updated = 1,
        Observed::Refreshed => counts.refreshed = 1,
        Observed::Unchanged => counts.unchanged = 1,
        Observed::Skipped => counts.skipped = 1,
    }
    add(&mut result.counts, &counts);
    if skipped {
        result.unreadable.push(id.clone());
    }
    match verdict {
        Verdict::Seen => result.seen.push(id),
        Verdict::Leaving(reason) => result.leaving.push((id, reason)),
        Verdict::NotInFeed => {}
    }
}
