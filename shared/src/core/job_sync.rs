//! How a connection's postings are read from Lever: which kind of pass runs next (full or
//! delta), what it asks Lever for within Lever's parameter rules, and the sync state kept
//! between runs (lease, watermarks, the pass in progress with its page cursor). Pure.
//!
//! - The first pass is **full**: every posting the partner's filter could take, listed with the
//!   filter's states and channels (`distributionChannel` for both channels when a published
//!   listing must include the internal job site: `state=published` alone lists public postings
//!   only). A full pass also **reconciles**: a job in the feed that the pass did not see leaves it.
//!   One runs again every [`SyncPolicy::reconcile_every_ms`].
//! - Every other pass is a **delta**: postings updated since the last complete pass started
//!   (`updated_at_start`, minus an overlap for clocks and Lever's own lag), then postings deleted
//!   since then. Lever lets `updated_at_*` combine with `confidentiality` only, so a delta lists
//!   every state and the hub applies the filter itself.
//! - Jobs leave the feed only after a complete pass: a pass that fails or is killed removes
//!   nothing; the next run resumes from its checkpointed page.

use serde::{Deserialize, Serialize};

use super::job::{Channel, Confidentiality, JobFilter, PostingState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPolicy {
    /// A delta asks for changes since the last pass started, minus this.
    pub overlap_ms: i64,
    /// How often a full pass reconciles the feed with Lever.
    pub reconcile_every_ms: i64,
    /// How long a sync holds the connection without renewing (renewed with every page).
    pub lease_ms: i64,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self { overlap_ms: 5 * 60_000, reconcile_every_ms: 24 * 3_600_000, lease_ms: 120_000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassKind {
    Full,
    Delta,
}

/// Which listing a pass is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassStage {
    Postings,
    Deleted,
}

/// A `GET /postings` within Lever's rules, in the core's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPlan {
    pub states: Vec<PostingState>,
    pub channels: Vec<Channel>,
    /// `confidential` or `all`; `None` = Lever's default (non-confidential only).
    pub confidentiality: Option<String>,
    pub updated_at_start: Option<i64>,
}

fn confidentiality(filter: &JobFilter) -> Option<String> {
    let c = &filter.confidentiality;
    match (c.contains(&Confidentiality::Confidential), c.contains(&Confidentiality::NonConfidential)) {
        (true, true) => Some("all".into()),
        (true, false) => Some("confidential".into()),
        _ => None,
    }
}

impl ListingPlan {
    /// Every posting the filter could take.
    pub fn full(filter: &JobFilter) -> Self {
        let mut states = filter.states.clone();
        states.sort();
        states.dedup();
        let channels = match &filter.distribution {
            Some(channels) => {
                let mut c = channels.clone();
                c.sort();
                c.dedup();
                c
            }
            // `state=published` alone would list the public job site only.
            None if states == [PostingState::Published] => vec![Channel::Public, Channel::Internal],
            None => vec![],
        };
        Self { states, channels, confidentiality: confidentiality(filter), updated_at_start: None }
    }

    /// Every posting updated at or after `since_ms`, in any state (Lever allows no other filter).
    pub fn delta(filter: &JobFilter, since_ms: i64) -> Self {
        Self { states: vec![], channels: vec![], confidentiality: confidentiality(filter), updated_at_start: Some(since_ms.max(0)) }
    }
}

/// The pass in progress, checkpointed after every page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassProgress {
    /// Names the pass's page records.
    pub id: String,
    pub kind: PassKind,
    pub started_at_ms: i64,
    /// The same instant by the wall clock, which Lever's `updatedAt` compares with: the
    /// watermark of the next delta. (The hub's own clock may be a test's, far from Lever's.)
    #[serde(default)]
    pub lever_started_at_ms: i64,
    pub stage: PassStage,
    pub listing: ListingPlan,
    /// Deleted postings since (delta passes).
    #[serde(default)]
    pub deleted_since_ms: Option<i64>,
    /// Lever's `next` token of the page to read next; `None` = the stage's first page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Pages read so far (both stages).
    pub pages: u32,
    /// Page records the pass has written (what its pages found); `None`: not counted (a pass
    /// started before this was), so they are looked for.
    #[serde(default)]
    pub page_records: Option<u32>,
    #[serde(default)]
    pub counts: PassCounts,
}

/// What a pass did, so far or in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassCounts {
    pub postings: u64,
    pub created: u64,
    pub updated: u64,
    /// Records rewritten for a change the partner does not see.
    pub refreshed: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub closed: u64,
    /// Whether a run had to start this pass over (Lever refused its cursor).
    #[serde(default)]
    pub restarts: u32,
}

/// Who holds the connection's sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLease {
    pub holder: String,
    pub since_ms: i64,
    pub expires_at_ms: i64,
}

/// A connection's sync state (one record per connection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSync {
    pub connection_id: String,
    #[serde(default)]
    pub lease: Option<SyncLease>,
    /// Postings changed at or after this are not all in the feed yet: the start of the last
    /// complete pass.
    #[serde(default)]
    pub watermark_ms: Option<i64>,
    /// The same for `/postings/deleted`.
    #[serde(default)]
    pub deleted_watermark_ms: Option<i64>,
    #[serde(default)]
    pub last_full_at_ms: Option<i64>,
    /// A partner asked for a full pass.
    #[serde(default)]
    pub full_requested: bool,
    /// When a partner last asked for a sync now (shown as queued until a pass starts after it).
    #[serde(default)]
    pub requested_at_ms: Option<i64>,
    #[serde(default)]
    pub pass: Option<PassProgress>,
    /// Start of the last pass that completed (a manual sync asked before it is served).
    #[serde(default)]
    pub last_completed_started_at_ms: Option<i64>,
    #[serde(default)]
    pub last_success_at_ms: Option<i64>,
    #[serde(default)]
    pub last_failure_at_ms: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_counts: Option<PassCounts>,
    /// Jobs in the feed now.
    #[serde(default)]
    pub jobs_open: u64,
}

impl JobSync {
    pub fn new(connection_id: &str) -> Self {
        Self {
            connection_id: connection_id.to_owned(),
            lease: None,
            watermark_ms: None,
            deleted_watermark_ms: None,
            last_full_at_ms: None,
            full_requested: false,
            requested_at_ms: None,
            pass: None,
            last_completed_started_at_ms: None,
            last_success_at_ms: None,
            last_failure_at_ms: None,
            last_error: None,
            last_counts: None,
            jobs_open: 0,
        }
    }

    /// Someone else holds the sync at `now_ms`.
    pub fn held_by_other(&self, holder: &str, now_ms: i64) -> bool {
        self.lease.as_ref().is_some_and(|l| l.holder != holder && l.expires_at_ms > now_ms)
    }

    /// `holder` holds the sync at `now_ms` with at least half of a lease's time left: long
    /// enough that no other run can take it over before a write started now is done (a lease is
    /// taken over only once it has lapsed). What may be written without conditions is written
    /// only then.
    pub fn held_firmly_by(&self, holder: &str, now_ms: i64, policy: &SyncPolicy) -> bool {
        self.lease.as_ref().is_some_and(|l| l.holder == holder && l.expires_at_ms.saturating_sub(now_ms) >= policy.lease_ms / 2)
    }

    /// Takes what others may write while a sync holds the lease (a partner's request) from
    /// `fresh`, the record as stored now.
    pub fn merge_requests(&mut self, fresh: &JobSync) {
        self.requested_at_ms = self.requested_at_ms.max(fresh.requested_at_ms);
        self.full_requested |= fresh.full_requested;
    }

    /// A sync is running (a live lease).
    pub fn running(&self, now_ms: i64) -> bool {
        self.lease.as_ref().is_some_and(|l| l.expires_at_ms > now_ms)
    }

    /// The kind of the next pass to start (when none is in progress).
    pub fn next_kind(&self, policy: &SyncPolicy, now_ms: i64) -> PassKind {
        let reconcile_due = self.last_full_at_ms.is_none_or(|at| now_ms - at >= policy.reconcile_every_ms);
        if self.watermark_ms.is_none() || self.full_requested || reconcile_due { PassKind::Full } else { PassKind::Delta }
    }

    /// A new pass of `kind` starting at `now_ms` (`wall_ms` by the wall clock), reading for `filter`.
    pub fn start_pass(&self, id: String, kind: PassKind, filter: &JobFilter, policy: &SyncPolicy, now_ms: i64, wall_ms: i64) -> PassProgress {
        let listing = match (kind, self.watermark_ms) {
            (PassKind::Delta, Some(w)) => ListingPlan::delta(filter, w - policy.overlap_ms),
            _ => ListingPlan::full(filter),
        };
        let deleted_since_ms = match kind {
            // A full pass reconciles: deleted postings are simply not seen.
            PassKind::Full => None,
            PassKind::Delta => Some(self.deleted_watermark_ms.or(self.watermark_ms).unwrap_or(wall_ms) - policy.overlap_ms),
        };
        PassProgress {
            id,
            kind,
            started_at_ms: now_ms,
            lever_started_at_ms: wall_ms,
            stage: PassStage::Postings,
            listing,
            deleted_since_ms,
            cursor: None,
            pages: 0,
            page_records: Some(0),
            counts: PassCounts::default(),
        }
    }

    /// The state after `pass` completed at `now_ms` with `jobs_open` jobs in the feed.
    pub fn completed(&mut self, pass: &PassProgress, jobs_open: u64, now_ms: i64) {
        self.watermark_ms = Some(pass.lever_started_at_ms);
        self.deleted_watermark_ms = Some(pass.lever_started_at_ms);
        if pass.kind == PassKind::Full {
            self.last_full_at_ms = Some(pass.started_at_ms);
            self.full_requested = false;
        }
        self.last_completed_started_at_ms = Some(pass.started_at_ms);
        self.last_success_at_ms = Some(now_ms);
        self.last_error = None;
        self.last_counts = Some(pass.counts.clone());
        self.jobs_open = jobs_open;
        self.pass = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(states: &[PostingState], distribution: Option<&[Channel]>) -> JobFilter {
        JobFilter { states: states.to_vec(), distribution: distribution.map(|d| d.to_vec()), confidentiality: vec![Confidentiality::NonConfidential] }
    }

    #[test]
    fn a_published_listing_names_both_channels_when_the_filter_takes_both_or_any() {
        let both = filter(&[PostingState::Published], Some(&[Channel::Internal, Channel::Public]));
        assert_eq!(ListingPlan::full(&both).channels, vec![Channel::Public, Channel::Internal]);
        let any = filter(&[PostingState::Published], None);
        assert_eq!(ListingPlan::full(&any).channels, vec![Channel::Public, Channel::Internal]);
        let external = filter(&[PostingState::Published], Some(&[Channel::Public]));
        assert_eq!(ListingPlan::full(&external).channels, vec![Channel::Public]);
        let several = filter(&[PostingState::Published, PostingState::Internal], None);
        assert!(ListingPlan::full(&several).channels.is_empty(), "not a published-only listing");
        assert_eq!(ListingPlan::full(&both).confidentiality, None);
    }

    #[test]
    fn a_delta_carries_only_updated_at_start_and_confidentiality() {
        let mut f = filter(&[PostingState::Published], Some(&[Channel::Public]));
        f.confidentiality.push(Confidentiality::Confidential);
        let d = ListingPlan::delta(&f, 1_000);
        assert!(d.states.is_empty() && d.channels.is_empty());
        assert_eq!((d.updated_at_start, d.confidentiality.as_deref()), (Some(1_000), Some("all")));
    }

    #[test]
    fn first_full_then_delta_then_a_periodic_reconcile() {
        let policy = SyncPolicy::default();
        let f = filter(&[PostingState::Published], None);
        let mut s = JobSync::new("c1");
        assert_eq!(s.next_kind(&policy, 0), PassKind::Full);
        let pass = s.start_pass("p1".into(), PassKind::Full, &f, &policy, 1_000_000, 1_000_000);
        assert_eq!(pass.deleted_since_ms, None);
        s.completed(&pass, 3, 1_000_500);
        assert_eq!((s.watermark_ms, s.last_full_at_ms, s.jobs_open), (Some(1_000_000), Some(1_000_000), 3));
        assert_eq!(s.next_kind(&policy, 2_000_000), PassKind::Delta);
        let delta = s.start_pass("p2".into(), PassKind::Delta, &f, &policy, 2_000_000, 2_000_000);
        assert_eq!(delta.listing.updated_at_start, Some(1_000_000 - policy.overlap_ms));
        assert_eq!(delta.deleted_since_ms, Some(1_000_000 - policy.overlap_ms));
        assert_eq!(s.next_kind(&policy, 1_000_000 + policy.reconcile_every_ms), PassKind::Full);
        s.full_requested = true;
        assert_eq!(s.next_kind(&policy, 2_000_000), PassKind::Full);
    }

    #[test]
    fn leases_expire() {
        let mut s = JobSync::new("c1");
        s.lease = Some(SyncLease { holder: "a".into(), since_ms: 0, expires_at_ms: 100 });
        assert!(s.held_by_other("b", 99) && !s.held_by_other("a", 99) && !s.held_by_other("b", 100));
        assert!(s.running(99) && !s.running(100));
    }

    #[test]
    fn a_lease_is_held_firmly_while_half_its_time_is_left() {
        let policy = SyncPolicy::default();
        let mut s = JobSync::new("c1");
        assert!(!s.held_firmly_by("a", 0, &policy), "no lease");
        s.lease = Some(SyncLease { holder: "a".into(), since_ms: 0, expires_at_ms: policy.lease_ms });
        assert!(s.held_firmly_by("a", 0, &policy) && s.held_firmly_by("a", policy.lease_ms / 2, &policy));
        assert!(!s.held_firmly_by("a", policy.lease_ms / 2 + 1, &policy), "under half left");
        assert!(!s.held_firmly_by("a", policy.lease_ms, &policy), "lapsed");
        assert!(!s.held_firmly_by("b", 0, &policy), "another run's");
    }
}
