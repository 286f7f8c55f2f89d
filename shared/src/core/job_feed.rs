//! A connection's job feed: what the hub last saw of each posting that passed the partner's
//! filter, the rule for when a change is worth a write and when it is worth an event, and the
//! job as partners see it (API and `job.*` events alike). Pure.
//!
//! Two hashes per job: the hash of the whole normalised job decides whether the record is
//! written (an unchanged job costs no write); the hash of the job as the partner's profile
//! shapes it decides whether the partner hears about it (a change to a part the partner did not
//! ask for updates the record silently).

use serde::{Deserialize, Serialize};

use super::job::{Channel, Description, HiringManager, Job, JobFilter, JobInclude, PostingState, ReferralBonus, Salary, WorkplaceType};
use super::profile::{EventKind, Profile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Passes the partner's filter: in the feed.
    Open,
    /// Was in the feed, no longer is (closed, unlisted, deleted, filtered out in Lever).
    Closed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Open => "open",
            JobStatus::Closed => "closed",
        }
    }
}

/// Why a job left the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Lever still lists it, in a state or on channels the partner's filter does not take
    /// (closed, unlisted, draft, moved to the other job site).
    NoLongerMatches,
    /// Lever lists it among deleted postings.
    Deleted,
    /// A full pass over Lever's postings did not see it.
    Missing,
}

/// The partner marked the job as imported (Outhire's grey tick).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub at_ms: i64,
    pub partner_ref: String,
}

/// One job of one connection's feed, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedJob {
    pub connection_id: String,
    /// The whole normalised job, every import detail included.
    pub job: Job,
    pub status: JobStatus,
    /// Hash of [`FeedJob::job`]; equal means nothing to write.
    pub full_hash: String,
    /// Hash of the job as the partner's profile shapes it; equal means nothing to announce.
    pub feed_hash: String,
    /// +1 for every change the partner is told about; event ids derive from it, so announcing
    /// the same change twice delivers it once.
    pub revision: u64,
    /// When the job as the feed shows it last changed (its `updated_at`).
    pub changed_at_ms: i64,
    pub first_seen_at_ms: i64,
    #[serde(default)]
    pub closed_at_ms: Option<i64>,
    #[serde(default)]
    pub close_reason: Option<CloseReason>,
    #[serde(default)]
    pub imported: Option<Imported>,
}

/// What observing a posting means for its feed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The record to write.
    pub job: FeedJob,
    /// The event the partner gets, if the change is visible to it.
    pub event: Option<EventKind>,
}

fn hashes(job: &Job, include: &JobInclude) -> (String, String) {
    (job.content_hash(), job.for_partner(include).content_hash())
}

/// `job` (already normalised) passes the partner's filter. `None` = nothing to write.
pub fn observe_open(connection_id: &str, previous: Option<&FeedJob>, job: Job, include: &JobInclude, now_ms: i64) -> Option<Change> {
    let (full_hash, feed_hash) = hashes(&job, include);
    match previous {
        None => Some(Change {
            job: FeedJob {
                connection_id: connection_id.to_owned(),
                job,
                status: JobStatus::Open,
                full_hash,
                feed_hash,
                revision: 1,
                changed_at_ms: now_ms,
                first_seen_at_ms: now_ms,
                closed_at_ms: None,
                close_reason: None,
                imported: None,
            },
            event: Some(EventKind::JobCreated),
        }),
        // Back in the feed (reopened, relisted): new to the partner again.
        Some(prev) if prev.status == JobStatus::Closed => Some(Change {
            job: FeedJob {
                job,
                status: JobStatus::Open,
                full_hash,
                feed_hash,
                revision: prev.revision + 1,
                changed_at_ms: now_ms,
                closed_at_ms: None,
                close_reason: None,
                ..prev.clone()
            },
            event: Some(EventKind::JobCreated),
        }),
        Some(prev) if prev.full_hash == full_hash => None,
        Some(prev) => {
            let visible = prev.feed_hash != feed_hash;
            Some(Change {
                job: FeedJob {
                    job,
                    full_hash,
                    feed_hash,
                    revision: prev.revision + u64::from(visible),
                    changed_at_ms: if visible { now_ms } else { prev.changed_at_ms },
                    ..prev.clone()
                },
                event: visible.then_some(EventKind::JobUpdated),
            })
        }
    }
}

/// The job leaves the feed. `None` when it is not in the feed (never was, or already closed).
pub fn retire(previous: Option<&FeedJob>, reason: CloseReason, now_ms: i64) -> Option<Change> {
    let prev = previous.filter(|p| p.status == JobStatus::Open)?;
    Some(Change {
        job: FeedJob {
            status: JobStatus::Closed,
            revision: prev.revision + 1,
            changed_at_ms: now_ms,
            closed_at_ms: Some(now_ms),
            close_reason: Some(reason),
            ..prev.clone()
        },
        event: Some(EventKind::JobClosed),
    })
}

/// The stable id of the event announcing `job`'s current revision.
pub fn event_id(job: &FeedJob) -> String {
    format!("{}/job/{}/{}", job.connection_id, job.job.posting_id, job.revision)
}

/// Which postings a partner may look up by URL: the profile's job filter; a partner without a
/// jobs flow (a screener) ties itself to any posting that takes applications.
pub fn lookup_filter(profile: &Profile) -> JobFilter {
    match profile.jobs() {
        Some(j) => j.filter.clone(),
        None => JobFilter {
            states: vec![PostingState::Published, PostingState::Internal],
            distribution: None,
            confidentiality: vec![super::job::Confidentiality::NonConfidential],
        },
    }
}

/// What a profile's feed shows of a job: its `include`, or everything for a partner without a
/// jobs flow (it asked for one posting by its URL).
pub fn feed_include(profile: &Profile) -> JobInclude {
    match profile.jobs() {
        Some(j) => j.include.clone(),
        None => JobInclude::everything(),
    }
}

/// The job as partners see it: in `GET …/jobs`, in `job.*` events ([`JobView::feed`]) and, with
/// every import detail, in `GET …/jobs/{job_id}` ([`JobView::detailed`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    /// The Lever posting id.
    pub id: String,
    pub title: String,
    pub status: JobStatus,
    /// `public` (external job site) and/or `internal` (internal job site).
    pub distribution: Vec<Channel>,
    pub team: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub locations: Vec<String>,
    pub commitment: Option<String>,
    pub workplace_type: Option<WorkplaceType>,
    /// The core's own shapes: they are what partners receive.
    pub salary: Option<Salary>,
    pub description: Option<Description>,
    pub hosted_url: Option<String>,
    pub apply_url: Option<String>,
    pub tags: Vec<String>,
    pub referral_bonus: Option<BonusView>,
    /// RFC 3339: when the job as the feed shows it last changed.
    pub updated_at: String,
    pub imported: Option<ImportedView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<JobDetails>,
}

/// What only the single-job route adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobDetails {
    pub requisition_codes: Vec<String>,
    pub hiring_manager: Option<HiringManager>,
    pub country: Option<String>,
    /// Lever's own state (`published`, `internal` = unlisted, `closed`, …) as last seen.
    pub lever_state: Option<PostingState>,
    pub lever_updated_at: Option<String>,
    pub first_seen_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<CloseReason>,
}

/// `{"amount", "currency", "text"}` for a money bonus, `{"text"}` for anything else.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BonusView {
    Amount { amount: f64, currency: Option<String>, text: String },
    Text { text: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedView {
    pub at: String,
    pub partner_ref: String,
}

pub use super::timestamp::rfc3339;

impl JobView {
    /// The job as the partner's feed shows it: only the parts its profile includes.
    pub fn feed(stored: &FeedJob, include: &JobInclude) -> JobView {
        Self::of(stored, &stored.job.for_partner(include), None)
    }

    /// Every import detail, whatever the profile's feed includes.
    pub fn detailed(stored: &FeedJob) -> JobView {
        let j = &stored.job;
        let details = JobDetails {
            requisition_codes: j.requisition_codes.clone(),
            hiring_manager: j.hiring_manager.clone(),
            country: j.country.clone(),
            lever_state: j.state,
            lever_updated_at: j.updated_at.map(rfc3339),
            first_seen_at: rfc3339(stored.first_seen_at_ms),
            closed_at: stored.closed_at_ms.map(rfc3339),
            close_reason: stored.close_reason,
        };
        Self::of(stored, j, Some(details))
    }

    fn of(stored: &FeedJob, j: &Job, details: Option<JobDetails>) -> JobView {
        JobView {
            id: j.posting_id.clone(),
            title: j.title.clone(),
            status: stored.status,
            distribution: j.distribution.clone(),
            team: j.team.clone(),
            department: j.department.clone(),
            location: j.location.clone(),
            locations: j.locations.clone(),
            commitment: j.commitment.clone(),
            workplace_type: j.workplace_type,
            salary: j.salary.clone(),
            description: j.description.clone(),
            hosted_url: j.hosted_url.clone(),
            apply_url: j.apply_url.clone(),
            tags: j.tags.clone(),
            referral_bonus: j.referral_bonus.as_ref().map(|b| match b {
                ReferralBonus::Amount { amount, currency, text } => {
                    BonusView::Amount { amount: *amount, currency: currency.clone(), text: text.clone() }
                }
                ReferralBonus::Text { text } => BonusView::Text { text: text.clone() },
            }),
            updated_at: rfc3339(stored.changed_at_ms),
            imported: stored.imported.as_ref().map(|i| ImportedView { at: rfc3339(i.at_ms), partner_ref: i.partner_ref.clone() }),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::PostingInput;

    const ID: &str = "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e";

    fn job(title: &str, salary_max: f64) -> Job {
        Job::from_posting(&PostingInput {
            id: ID.into(),
            text: Some(title.into()),
            state: Some("published".into()),
            distribution_channels: Some(vec!["public".into()]),
            tags: Some(vec!["referralbonus:3000".into()]),
            salary_range: Some(crate::core::job::SalaryRangeInput {
                min: Some(1.0),
                max: Some(salary_max),
                currency: Some("EUR".into()),
                interval: None,
            }),
            updated_at: Some(1),
            ..Default::default()
        })
        .unwrap()
    }

    fn no_salary() -> JobInclude {
        JobInclude { referral_bonus: true, ..Default::default() }
    }

    #[test]
    fn created_then_unchanged_costs_nothing() {
        let first = observe_open("c1", None, job("Engineer", 10.0), &no_salary(), 100).unwrap();
        assert_eq!(first.event, Some(EventKind::JobCreated));
        assert_eq!((first.job.revision, first.job.changed_at_ms, first.job.status), (1, 100, JobStatus::Open));
        let mut touched = job("Engineer", 10.0);
        touched.updated_at = Some(999);
        assert_eq!(observe_open("c1", Some(&first.job), touched, &no_salary(), 200), None, "only updatedAt moved");
    }

    #[test]
    fn a_hidden_change_is_written_without_an_event_a_visible_one_with_one() {
        let first = observe_open("c1", None, job("Engineer", 10.0), &no_salary(), 100).unwrap().job;
        let hidden = observe_open("c1", Some(&first), job("Engineer", 20.0), &no_salary(), 200).unwrap();
        assert_eq!(hidden.event, None, "the partner does not get salaries");
        assert_eq!((hidden.job.revision, hidden.job.changed_at_ms), (1, 100));
        assert_eq!(hidden.job.job.salary.as_ref().unwrap().max, Some(20.0), "but the record keeps every detail");
        let visible = observe_open("c1", Some(&hidden.job), job("Staff Engineer", 20.0), &no_salary(), 300).unwrap();
        assert_eq!(visible.event, Some(EventKind::JobUpdated));
        assert_eq!((visible.job.revision, visible.job.changed_at_ms), (2, 300));
        assert_ne!(event_id(&visible.job), event_id(&first));
    }

    #[test]
    fn retiring_once_and_reopening_is_new_to_the_partner() {
        let open = observe_open("c1", None, job("Engineer", 10.0), &no_salary(), 100).unwrap().job;
        let closed = retire(Some(&open), CloseReason::Deleted, 200).unwrap();
        assert_eq!(closed.event, Some(EventKind::JobClosed));
        assert_eq!((closed.job.status, closed.job.closed_at_ms, closed.job.revision), (JobStatus::Closed, Some(200), 2));
        assert_eq!(retire(Some(&closed.job), CloseReason::Deleted, 300), None, "closed once");
        assert_eq!(retire(None, CloseReason::Missing, 300), None);
        let back = observe_open("c1", Some(&closed.job), job("Engineer", 10.0), &no_salary(), 400).unwrap();
        assert_eq!((back.event, back.job.revision, back.job.closed_at_ms), (Some(EventKind::JobCreated), 3, None));
        assert_eq!(back.job.first_seen_at_ms, 100);
    }

    #[test]
    fn the_view_has_the_partner_shape() {
        let mut stored = observe_open("c1", None, job("Engineer", 10.0), &no_salary(), 1_700_000_000_000).unwrap().job;
        stored.imported = Some(Imported { at_ms: 1_700_000_000_000, partner_ref: "JD-1".into() });
        let v = serde_json::to_value(JobView::feed(&stored, &no_salary())).unwrap();
        assert_eq!(v["id"], ID);
        assert_eq!(v["status"], "open");
        assert_eq!(v["salary"], serde_json::Value::Null, "not included for this partner");
        assert_eq!(v["referral_bonus"], serde_json::json!({"amount": 3000.0, "currency": "EUR", "text": "3000"}));
        assert_eq!(v["updated_at"], "2023-11-14T22:13:20Z");
        assert_eq!(v["imported"], serde_json::json!({"at": "2023-11-14T22:13:20Z", "partner_ref": "JD-1"}));
        assert!(v.get("details").is_none());
        let d = serde_json::to_value(JobView::detailed(&stored)).unwrap();
        assert_eq!(d["salary"]["max"], 10.0, "every import detail");
        assert_eq!(d["details"]["lever_state"], "published");
        let text = BonusView::Text { text: "Win an iPad".into() };
        assert_eq!(serde_json::to_value(text).unwrap(), serde_json::json!({"text": "Win an iPad"}));
    }
}
