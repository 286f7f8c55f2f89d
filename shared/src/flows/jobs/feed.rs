//! The job feed as the partner API serves it: list and read jobs, mark one imported, resolve a
//! hosted job URL, the sync's health, and "sync now". The caller (a route) has already checked
//! that the connection is the calling partner's.

use std::sync::Arc;

use serde_json::json;

use super::convert::posting_input;
use super::records::JOBS_FLOW;
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::core::flow_runs::ScheduledFlow;
use crate::core::ids::normalize_uuid;
use crate::core::job::{Job, PostingRefError, posting_id_from_ref};
use crate::core::job_feed::{FeedJob, Imported, JobStatus, JobView, feed_include, lookup_filter};
use crate::core::job_sync::JobSync;
use crate::core::profile::Profile;
use crate::flows::context::ContextError;
use crate::flows::dispatch::{DispatchError, Dispatcher, FlowRun};
use crate::flows::tokens::Tokens;
use crate::lever::error::LeverError;
use crate::lever::port::LeverApi;
use crate::store::{Cursor, Key, Query, Records, StoreError, keys};

/// Store pages one list call reads at most before it answers (with a cursor) even if it found
/// fewer than `limit` jobs: a feed of mostly closed jobs still answers quickly.
const MAX_SCAN_PAGES: usize = 5;
/// `partner_ref` of the import mark.
pub const MAX_PARTNER_REF_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("no such job")]
    NotFound,
    #[error("the partner's profile has no jobs flow")]
    NoJobsFlow,
    #[error("{0}")]
    NotAJobUrl(PostingRefError),
    #[error("{0}")]
    Invalid(String),
    #[error("connection is {0}")]
    NotActive(&'static str),
    #[error("Lever: {0}")]
    Lever(LeverError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// What trouble with the connection or its Lever call means to the feed.
impl From<ContextError> for FeedError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::Lever(LeverError::NotFound { .. }) | ContextError::UnknownConnection(_) => FeedError::NotFound,
            ContextError::Lever(l) => FeedError::Lever(l),
            ContextError::Store(s) => FeedError::Store(s),
            ContextError::NotActive(s) => FeedError::NotActive(s),
            ContextError::NoProfile(p) => FeedError::Internal(format!("no profile {p}")),
            ContextError::Unreadable(e) => FeedError::Internal(e),
        }
    }
}

impl From<DispatchError> for FeedError {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Store(s) => FeedError::Store(s),
            other => FeedError::Internal(other.to_string()),
        }
    }
}

/// `status` of `GET …/jobs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    Open,
    Closed,
    All,
}

impl StatusFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    fn takes(self, s: JobStatus) -> bool {
        match self {
            Self::Open => s == JobStatus::Open,
            Self::Closed => s == JobStatus::Closed,
            Self::All => true,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: StatusFilter,
    /// Jobs whose feed view changed at or after this (epoch ms).
    pub updated_since_ms: Option<i64>,
}

/// The connection view's `flows.jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsHealth {
    pub cadence: String,
    pub last_success_at_ms: Option<i64>,
    pub last_failure_at_ms: Option<i64>,
    pub last_error: Option<String>,
    pub next_run_at_ms: Option<i64>,
    pub jobs_open: u64,
    /// `running`, `queued` (asked for, not started) or `idle`.
    pub state: &'static str,
}

/// A resolved hosted URL: the feed's job, or the posting read from Lever just now (not in the
/// feed: newer than the last sync, outside the partner's filter, or no jobs flow at all).
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    InFeed(FeedJob),
    FromLever(FeedJob),
}

#[derive(Clone)]
pub struct JobFeed {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    lever: Arc<dyn LeverApi>,
    tokens: Tokens,
    dispatcher: Dispatcher,
}

impl JobFeed {
    pub fn new(records: Records, catalog: Arc<ProfileCatalog>, lever: Arc<dyn LeverApi>, tokens: Tokens, dispatcher: Dispatcher) -> Self {
        Self { records, catalog, lever, tokens, dispatcher }
    }

    fn profile(&self, c: &Connection) -> Result<Arc<Profile>, FeedError> {
        self.catalog.get(&c.partner_id).cloned().ok_or_else(|| FeedError::Internal(format!("no profile {}", c.partner_id)))
    }

    fn jobs_profile(&self, c: &Connection) -> Result<Arc<Profile>, FeedError> {
        let profile = self.profile(c)?;
        if profile.jobs().is_none() {
            return Err(FeedError::NoJobsFlow);
        }
        Ok(profile)
    }

    /// The job as this partner's feed shows it.
    pub fn view(&self, c: &Connection, job: &FeedJob) -> Result<JobView, FeedError> {
        Ok(JobView::feed(job, &feed_include(self.profile(c)?.as_ref())))
    }

    /// One page of the feed, in posting-id order.
    pub async fn list(
        &self,
        c: &Connection,
        filter: &ListFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<FeedJob>, Option<Cursor>), FeedError> {
        self.jobs_profile(c)?;
        let limit = limit.clamp(1, 100);
        let mut query = Query { pk: keys::connection(&c.id).pk, sk_prefix: Some(keys::JOBS_PREFIX.into()), limit: 100, cursor, ..Default::default() };
        let mut out = Vec::with_capacity(limit);
        for _ in 0..MAX_SCAN_PAGES {
            let (jobs, next) = self.records.query::<FeedJob>(&query).await?;
            for j in jobs {
                let takes = filter.status.takes(j.record.status) && filter.updated_since_ms.is_none_or(|s| j.record.changed_at_ms >= s);
                if takes {
                    out.push(j.record);
                    if out.len() == limit {
                        // More may follow: the next page starts after this job.
                        let last = out.last().map(|j| keys::job(&c.id, &j.job.posting_id));
                        return Ok((out, last.map(|key| Cursor { key, due: None })));
                    }
                }
            }
            match next {
                Some(n) => query.cursor = Some(n),
                None => return Ok((out, None)),
            }
        }
        Ok((out, query.cursor))
    }

    /// A job of the feed (open or closed), by its Lever posting id.
    pub async fn get(&self, c: &Connection, job_id: &str) -> Result<FeedJob, FeedError> {
        self.jobs_profile(c)?;
        let id = normalize_uuid(job_id.trim()).ok_or(FeedError::NotFound)?;
        Ok(self.records.get::<FeedJob>(&keys::job(&c.id, &id)).await?.ok_or(FeedError::NotFound)?.record)
    }

    /// Marks a job imported by the partner (Outhire's "already imported" tick). Marking it
    /// again replaces the reference and time.
    pub async fn mark_imported(&self, c: &Connection, job_id: &str, partner_ref: &str) -> Result<FeedJob, FeedError> {
        self.jobs_profile(c)?;
        let partner_ref = partner_ref.trim();
        if partner_ref.is_empty() || partner_ref.chars().count() > MAX_PARTNER_REF_CHARS {
            return Err(FeedError::Invalid(format!("partner_ref must be 1 to {MAX_PARTNER_REF_CHARS} characters")));
        }
        let id = normalize_uuid(job_id.trim()).ok_or(FeedError::NotFound)?;
        let now = self.records.clock().now_ms();
        let stored = self
            .records
            .update::<FeedJob>(&keys::job(&c.id, &id), |j| {
                j.imported = Some(Imported { at_ms: now, partner_ref: partner_ref.to_owned() });
                true
            })
            .await?;
        Ok(stored.ok_or(FeedError::NotFound)?.record)
    }

    /// The job behind a Lever-hosted job URL (`https://jobs.lever.co/<site>/<id>`, EU host,
    /// `/apply`, trailing slash, query): the feed's job, else the posting as Lever has it now.
    pub async fn resolve(&self, c: &Connection, url: &str) -> Result<Resolved, FeedError> {
        let profile = self.profile(c)?;
        let id = posting_id_from_ref(url).map_err(FeedError::NotAJobUrl)?;
        if !url.trim().contains("://") {
            return Err(FeedError::NotAJobUrl(PostingRefError::NotAReference(url.to_owned())));
        }
        if profile.jobs().is_some()
            && let Some(stored) = self.records.get::<FeedJob>(&keys::job(&c.id, &id)).await?
        {
            return Ok(Resolved::InFeed(stored.record));
        }
        if c.status != ConnectionStatus::Active {
            return Err(FeedError::NotActive(crate::flows::status::status_name(c.status)));
        }
        let lever = self.lever.clone();
        let posting_id = id.clone();
        let posting = self
            .tokens
            .call(&c.id, move |auth| {
                let (lever, posting_id) = (lever.clone(), posting_id.clone());
                async move { lever.get_posting(&auth, &posting_id).await }
            })
            .await
            .map_err(ContextError::from)?;
        let job = Job::from_posting(&posting_input(&posting))
            .map_err(|e| FeedError::Lever(LeverError::Decode { path: "posting".into(), message: e.to_string() }))?;
        if job.posting_id != id {
            return Err(FeedError::NotFound);
        }
        let now = self.records.clock().now_ms();
        let status = if lookup_filter(&profile).passes(&job) { JobStatus::Open } else { JobStatus::Closed };
        let changed_at_ms = job.updated_at.unwrap_or(now);
        let (full_hash, feed_hash) = (job.content_hash(), job.for_partner(&feed_include(&profile)).content_hash());
        Ok(Resolved::FromLever(FeedJob {
            connection_id: c.id.clone(),
            job,
            status,
            full_hash,
            feed_hash,
            revision: 0,
            changed_at_ms,
            first_seen_at_ms: now,
            closed_at_ms: None,
            close_reason: None,
            imported: None,
        }))
    }

    /// The connection's `flows.jobs`; `None` when its partner has no jobs flow.
    pub async fn health(&self, c: &Connection) -> Result<Option<JobsHealth>, FeedError> {
        let Some(profile) = self.catalog.get(&c.partner_id) else { return Ok(None) };
        let Some(flow) = profile.jobs() else { return Ok(None) };
        let sync = self.records.get::<JobSync>(&keys::checkpoint(&c.id, JOBS_FLOW)).await?.map(|v| v.record);
        let now = self.records.clock().now_ms();
        let state = match &sync {
            Some(s) if s.running(now) => "running",
            Some(s) if s.requested_at_ms.is_some_and(|r| s.last_completed_started_at_ms.is_none_or(|done| done < r)) => "queued",
            None if c.status == ConnectionStatus::Active && c.schedules.contains_key(&ScheduledFlow::Jobs) => "queued",
            _ => "idle",
        };
        let sync = sync.unwrap_or_else(|| JobSync::new(&c.id));
        Ok(Some(JobsHealth {
            cadence: flow.cadence.to_string(),
            last_success_at_ms: sync.last_success_at_ms,
            last_failure_at_ms: sync.last_failure_at_ms,
            last_error: sync.last_error,
            next_run_at_ms: c.schedules.get(&ScheduledFlow::Jobs).copied().filter(|_| c.status == ConnectionStatus::Active),
            jobs_open: sync.jobs_open,
            state,
        }))
    }

    /// Starts a sync of the connection now (the schedule is unchanged). `full`: a full pass
    /// that also reconciles, instead of the usual delta.
    pub async fn request_sync(&self, c: &Connection, full: bool) -> Result<FlowRun, FeedError> {
        self.jobs_profile(c)?;
        if c.status != ConnectionStatus::Active {
            return Err(FeedError::NotActive(crate::flows::status::status_name(c.status)));
        }
        let now = self.records.clock().now_ms();
        let key: Key = keys::checkpoint(&c.id, JOBS_FLOW);
        // Noted first, so the connection shows the sync as queued until a run starts it.
        for _ in 0..8 {
            let current = self.records.get::<JobSync>(&key).await?;
            let mut sync = current.as_ref().map(|v| v.record.clone()).unwrap_or_else(|| JobSync::new(&c.id));
            sync.requested_at_ms = Some(now);
            let written = match &current {
                Some(v) => self.records.replace(&sync, v.version).await,
                None => self.records.create(&sync).await,
            };
            match written {
                Ok(_) => break,
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let options = if full { json!({"full": true}) } else { serde_json::Value::Null };
        Ok(self.dispatcher.request_now(&c.id, ScheduledFlow::Jobs, options).await?)
    }
}
