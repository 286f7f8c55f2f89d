//! The postings listing of a pass: Lever's pages read as fast as Lever's rate limit allows,
//! written as they come.
//!
//! Reading and writing are two loops joined in one task. The reader fetches page after page
//! into a buffer that holds Lever's whole burst, so the rate limit's burst is spent at once and
//! its steady rate is never left unused while the store writes. The writer takes every page
//! that is waiting (up to [`PAGES_AT_ONCE`]), writes them, and checkpoints the cursor after
//! them: the checkpoint only ever moves past pages that are written, in Lever's order.
//!
//! A full pass also needs the feed's open jobs, to retire those the pass did not see. They are
//! read while the listing is (any moment of the pass will do: a job opens only by this pass's
//! own writes, and those postings are seen), so the feed's read is not a wait after Lever's
//! last page.

use std::collections::BTreeSet;

use tokio::sync::mpsc;

use super::{Ctx, JobPoller, PageResult};
use crate::core::job_feed::{FeedJob, JobStatus};
use crate::flows::jobs::JobsError;
use crate::lever::error::LeverError;
use crate::lever::model::Posting;
use crate::store::{Query, keys};

/// Lever pages buffered ahead of the writes: Lever's burst of 20 and a little more.
const PAGES_BUFFERED: usize = 24;
/// The most pages written together. More at once means fewer store calls per page, but a
/// longer wait for the last ones.
const PAGES_AT_ONCE: usize = 4;
/// Feed jobs read per store call: DynamoDB stops a page at 1 MB anyway.
const FEED_PAGE: usize = 1_000;

/// A page of postings and Lever's cursor after it (`None`: the listing's end).
type Fetched = Result<(Vec<Posting>, Option<String>), JobsError>;

impl JobPoller {
    /// Reads the postings listing from the checkpointed cursor to its end. `Ok(false)`: paused.
    pub(super) async fn postings_stage(
        &self,
        ctx: &mut Ctx<'_>,
        pending: &mut PageResult,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<bool, JobsError> {
        let pass = ctx.sync.record.pass.clone().ok_or_else(|| JobsError::Internal("no pass".into()))?;
        let connection_id = ctx.connection.id.clone();
        let (tx, rx) = mpsc::channel::<Fetched>(PAGES_BUFFERED);
        let reader = async move {
            let mut cursor = pass.cursor.clone();
            let mut seen_cursors: BTreeSet<String> = cursor.iter().cloned().collect();
            let mut first = true;
            loop {
                // A run near its deadline writes what it has read and stops there.
                if !first && Self::time_is_up(deadline) {
                    return;
                }
                first = false;
                let fetched = self.fetch_postings(&connection_id, &pass.listing, cursor.clone()).await.and_then(|page| {
                    let next = page.next_offset().map(str::to_owned);
                    match &next {
                        Some(n) if !seen_cursors.insert(n.clone()) => Err(LeverError::PaginationLoop { pages: seen_cursors.len() as u32 }.into()),
                        _ => Ok((page.data, next)),
                    }
                });
                let more = fetched.as_ref().ok().and_then(|(_, next)| next.clone());
                // A send fails only when the writer stopped (it failed): nothing more to read.
                if tx.send(fetched).await.is_err() {
                    return;
                }
                match more {
                    Some(next) => cursor = Some(next),
                    None => return,
                }
            }
        };
        let (_, written) = tokio::join!(reader, self.write_pages(ctx, pending, rx));
        written
    }

    /// The writer: pages as they arrive, a few at a time, each group checkpointed.
    async fn write_pages(&self, ctx: &mut Ctx<'_>, pending: &mut PageResult, mut rx: mpsc::Receiver<Fetched>) -> Result<bool, JobsError> {
        loop {
            // The reader stopped before the listing's end: paused for the deadline.
            let Some(first) = rx.recv().await else { return Ok(false) };
            let (mut postings, mut next) = first?;
            let mut pages = 1u32;
            while (pages as usize) < PAGES_AT_ONCE && next.is_some() {
                let Ok(more) = rx.try_recv() else { break };
                let (more, after) = more?;
                postings.extend(more);
                next = after;
                pages += 1;
            }
            let found = self.postings_page(ctx, &postings).await?;
            pending.merge(found);
            self.page_done(ctx, pending, next.clone(), pages).await?;
            if next.is_none() {
                return Ok(true);
            }
        }
    }

    /// The ids of the connection's open feed jobs, read in large pages.
    pub(super) async fn open_jobs(&self, connection_id: &str) -> Result<BTreeSet<String>, JobsError> {
        let pk = keys::connection(connection_id).pk;
        let mut query = Query { pk, sk_prefix: Some(keys::JOBS_PREFIX.into()), limit: FEED_PAGE, ..Default::default() };
        let mut open = BTreeSet::new();
        loop {
            let (jobs, cursor) = self.records.query::<FeedJob>(&query).await?;
            open.extend(jobs.into_iter().filter(|j| j.record.status == JobStatus::Open).map(|j| j.record.job.posting_id));
            match cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(open),
            }
        }
    }
}
