//! Candidate ingest: a partner's referral, application or screening result into Lever, exactly
//! once and never lost; and the candidate's progress back to the partner.
//!
//! How a submission travels:
//! 1. [`Intake::submit`] (`POST /v1/connections/{id}/candidates`): validate (pure core), take
//!    the `Idempotency-Key` (one record per key: in progress, then done with the answer), keep the
//!    files in the file store, store the submission (state `queued`, on the due index), then
//!    write it to Lever at once within a time budget. Written → `201`/`200`; Lever down, rate
//!    limiting or slow → `202`, and the work goes on from the queue.
//! 2. [`writer`]: one run of one submission under a claim (one runner at a time across every
//!    process): look the candidate up by email and posting, plan (pure core), then create with
//!    multipart and add the note — or add source, tags, note, files and a stage move to the
//!    opportunity found. Steps done are recorded; a run after an ambiguous failure looks in Lever
//!    before it creates anything again. A transient failure is retried from the queue with
//!    backoff (Lever's `Retry-After` first); after `max_attempts` the submission fails with a
//!    `submission.failed` event and can be retried by the partner.
//! 3. [`sweep`]: a schedule finds open submissions on the due index (a retry whose message was
//!    lost, a held referral to poll or expire, an announcement to repeat) and status polls due.
//! 4. [`status`]: Lever's stage, archive and hire webhooks (and the poll) become
//!    `candidate.stage_changed`, `candidate.archived`, `candidate.hired` for opportunities the
//!    hub wrote to; `applicationCreated` releases held referrals.

mod announce;
mod claim;
mod deleted;
mod erase;
mod intake;
mod lever_facts;
mod read;
pub mod records;
mod status;
mod stop;
mod sweep;
mod uploads;
mod view;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use deleted::LeverDeletions;
pub use erase::{ERASURE_KINDS, ErasureRecord, ErasureStatus, ErasureTarget};
pub use intake::SubmitAnswer;
pub use records::{IdempotencyRecord, RefusalKind, StoredAnswer, StoredProblem, SubmissionRecord, SubmitOutcome, SubmittedOpportunity, UploadRecord};
pub use status::{PendingReferralRelease, StatusReporter};
pub use sweep::SweepReport;
pub use uploads::{NewUpload, UploadTicket};
pub use view::submission_view;

pub use erase::Erasures;
pub use intake::Intake;
pub use read::Submissions;
pub use uploads::Uploads;

use announce::Announcer;
use deleted::DeletionsPass;
use lever_facts::LeverFacts;
use sweep::Sweeper;
use writer::Writer;

use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::field_error::FieldError;
use crate::files::{FileError, FileStore};
use crate::flows::activity::ActivityLog;
use crate::flows::context::FlowContext;
use crate::flows::events::EventPublisher;
use crate::flows::lever_calls::LeverCalls;
use crate::flows::ready::NotReady;
use crate::flows::tokens::Tokens;
use crate::lever::port::LeverApi;
use crate::queue::{Queue, QueueError};
use crate::store::{Records, StoreError, keys};

/// The flow's name in metrics.
pub(crate) const FLOW: &str = "candidates";

/// How candidate ingest behaves; the defaults are the documented ones.
#[derive(Clone, Debug)]
pub struct CandidatePolicy {
    /// How long `POST …/candidates` tries Lever before answering `202` (API Gateway allows 30 s).
    pub inline_budget: Duration,
    /// How long one queued run may take (inside the writer Lambda's timeout).
    pub worker_budget: Duration,
    /// A run's claim, renewed every `claim_renew_every` while the run lives: a runner that dies
    /// (a killed process, a Lambda timeout) lets go of the submission within this.
    pub claim_ttl: Duration,
    pub claim_renew_every: Duration,
    /// How long after a dead run's claim lapses (or a new submission's inline budget ends)
    /// the sweeper picks the submission up, in case no queue message is coming for it.
    pub lapse_grace: Duration,
    /// Attempts before a submission fails with `lever_unavailable`.
    pub max_attempts: u32,
    /// Backoff between attempts (doubling), unless Lever sent `Retry-After`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How long an idempotency key is remembered (at least 24 h).
    pub idempotency_ttl: Duration,
    /// How long a first request holds its key; a request after that may take over. No request
    /// outlives API Gateway's 30 s, so a key held by a crashed request is free again after it.
    pub in_progress_lease: Duration,
    /// How long a request with a key in use waits for the first one before answering `409`.
    pub wait_for_first: Duration,
    /// An open submission is due again this long after its next expected step, in case the
    /// message for that step was lost.
    pub sweep_grace: Duration,
    /// A held referral is looked for in Lever this often (when no `applicationCreated` came).
    pub pending_poll_every: Duration,
    /// Submitted candidates' status is polled this often (when webhooks do not arrive).
    pub status_poll_every: Duration,
    /// How long an upload URL accepts the PUT.
    pub upload_url_valid: Duration,
    /// How long Lever users and names are remembered.
    pub lever_cache_ttl: Duration,
}

impl Default for CandidatePolicy {
    fn default() -> Self {
        Self {
            inline_budget: Duration::from_secs(8),
            worker_budget: Duration::from_secs(60),
            claim_ttl: Duration::from_secs(30),
            claim_renew_every: Duration::from_secs(10),
            lapse_grace: Duration::from_secs(30),
            max_attempts: 8,
            retry_min: Duration::from_secs(5),
            retry_max: Duration::from_secs(15 * 60),
            idempotency_ttl: Duration::from_secs(48 * 3600),
            in_progress_lease: Duration::from_secs(30),
            wait_for_first: Duration::from_secs(5),
            sweep_grace: Duration::from_secs(5 * 60),
            pending_poll_every: Duration::from_secs(30 * 60),
            status_poll_every: Duration::from_secs(15 * 60),
            upload_url_valid: Duration::from_secs(15 * 60),
            lever_cache_ttl: Duration::from_secs(3600),
        }
    }
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[derive(Debug, thiserror::Error)]
pub enum CandidateError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request names what is wrong, field by field (422).
    #[error("invalid: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No `Idempotency-Key`, or not a usable one (400).
    #[error("Idempotency-Key: {0}")]
    BadKey(String),
    /// The key was used for another request (422).
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    /// The first request with this key is still being handled (409).
    #[error("a request with this Idempotency-Key is still being handled")]
    KeyInUse,
    #[error("the connection is {0}")]
    NotActive(&'static str),
    /// An upload another submission took (409); the fields name the files.
    #[error("upload already used: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    UploadUsed(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("this partner's profile pushes no candidates")]
    NoCandidatesFlow,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] FileError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<NotReady> for CandidateError {
    fn from(e: NotReady) -> Self {
        match e {
            NotReady::NotActive(status) => CandidateError::NotActive(status),
            NotReady::NoProfile(_) => CandidateError::NoCandidatesFlow,
        }
    }
}

/// A message on the candidates queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CandidateWork {
    /// Write (or go on writing) one submission. `attempt`: a scheduled retry's attempt count
    /// (a run since makes the message stale); `None` runs whenever it arrives.
    Submission {
        connection_id: String,
        submission_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        /// Set when the wait is longer than a queue delay can be (15 min): the message comes
        /// back earlier and is sent on until then (Lever's `Retry-After` is kept, however long).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_before_ms: Option<i64>,
    },
    /// Poll the status of a connection's submitted candidates.
    StatusPoll { connection_id: String },
    /// Lever deleted this opportunity: erase the hub's copies (here, where the file store is).
    LeverDeleted { connection_id: String, opportunity_id: String },
}

/// The candidates queue, as every part sends to it.
#[derive(Clone)]
pub(crate) struct WorkQueue(Arc<dyn Queue>);

impl WorkQueue {
    async fn enqueue(&self, work: &CandidateWork, delay: Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(work).map_err(|e| QueueError::Invalid(e.to_string()))?;
        self.0.send(&body, delay.min(crate::queue::MAX_DELAY)).await
    }
}

/// The connection, if it is the partner's.
async fn owned_connection(records: &Records, partner_id: &str, connection_id: &str) -> Result<Connection, CandidateError> {
    records
        .get::<Connection>(&keys::connection(connection_id))
        .await?
        .map(|v| v.record)
        .filter(|c| c.partner_id == partner_id)
        .ok_or(CandidateError::NotFound("connection"))
}

/// Candidate ingest, as the API, the functions and the wiring see it: a façade over its parts
/// (each in its own file, holding what it needs), and the queue's messages handed to them.
/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct Candidates {
    intake: Intake,
    uploads: Uploads,
    submissions: Submissions,
    writer: Writer,
    erasures: Erasures,
    deletions: DeletionsPass,
    sweeper: Sweeper,
    status: StatusReporter,
    queue: WorkQueue,
    raw_queue: Arc<dyn Queue>,
    records: Records,
    policy: CandidatePolicy,
}

impl Candidates {
    #[allow(clippy::too_many_arguments)] // the flow's ports, built once by the wiring
    pub fn new(
        records: Records,
        catalog: Arc<ProfileCatalog>,
        lever: Arc<dyn LeverApi>,
        tokens: Tokens,
        files: Arc<dyn FileStore>,
        queue: Arc<dyn Queue>,
        events: Arc<dyn EventPublisher>,
        activity: ActivityLog,
        policy: CandidatePolicy,
    ) -> Self {
        let status = StatusReporter::new(records.clone(), catalog.clone(), lever.clone(), tokens.clone(), events.clone(), policy.clone());
        let work_queue = WorkQueue(queue.clone());
        let announcer = Announcer {
            records: records.clone(),
            catalog: catalog.clone(),
            files: files.clone(),
            events: events.clone(),
            activity,
            policy: policy.clone(),
        };
        let writer = Writer {
            records: records.clone(),
            catalog: catalog.clone(),
            files: files.clone(),
            queue: work_queue.clone(),
            ctx: FlowContext::new(records.clone(), catalog.clone(), LeverCalls::reusing_tokens(lever.clone(), tokens.clone())),
            lever_facts: LeverFacts::new(FlowContext::new(records.clone(), catalog.clone(), LeverCalls::new(lever.clone(), tokens.clone())), &policy),
            announcer,
            policy: policy.clone(),
        };
        let uploads = Uploads { records: records.clone(), catalog: catalog.clone(), files: files.clone(), policy: policy.clone() };
        let intake = Intake {
            records: records.clone(),
            catalog: catalog.clone(),
            files: files.clone(),
            uploads: uploads.clone(),
            writer: writer.clone(),
            policy: policy.clone(),
        };
        let erasures = Erasures { records: records.clone(), catalog, tokens: tokens.clone(), files: files.clone(), events };
        let deletions = DeletionsPass {
            records: records.clone(),
            ctx: FlowContext::new(records.clone(), erasures.catalog.clone(), LeverCalls::new(lever, tokens)),
            erasures: erasures.clone(),
        };
        let sweeper = Sweeper { records: records.clone(), files, queue: work_queue.clone(), erasures: erasures.clone(), policy: policy.clone() };
        let submissions = Submissions { records: records.clone(), queue: work_queue.clone(), policy: policy.clone() };
        Self { intake, uploads, submissions, writer, erasures, deletions, sweeper, status, queue: work_queue, raw_queue: queue, records, policy }
    }

    pub fn policy(&self) -> &CandidatePolicy {
        &self.policy
    }

    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.raw_queue
    }

    /// The status side (Lever's webhooks, the poll), with the same ports.
    pub fn status(&self) -> &StatusReporter {
        &self.status
    }

    /// `POST …/candidates`: a submission taken in.
    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// `POST …/uploads`.
    pub fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    /// The partner's submissions: read, listed, retried.
    pub fn submissions(&self) -> &Submissions {
        &self.submissions
    }

    /// Erasures on request, and their records.
    pub fn erasures(&self) -> &Erasures {
        &self.erasures
    }

    /// One pass of the candidate sweeper; see [`sweep`].
    pub async fn sweep_once(&self, now_ms: i64) -> Result<SweepReport, CandidateError> {
        self.sweeper.sweep_once(now_ms).await
    }

    /// One message of the candidates queue; `true` when it can be deleted.
    pub async fn work(&self, body: &str) -> bool {
        let work: CandidateWork = match serde_json::from_str(body) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "unreadable candidates message dropped");
                return true;
            }
        };
        let outcome = match &work {
            CandidateWork::Submission { connection_id, submission_id, attempt, not_before_ms } => {
                let now = self.records.clock().now_ms();
                match not_before_ms {
                    Some(at) if *at > now => {
                        let later = CandidateWork::Submission {
                            connection_id: connection_id.clone(),
                            submission_id: submission_id.clone(),
                            attempt: *attempt,
                            not_before_ms: Some(*at),
                        };
                        self.queue.enqueue(&later, Duration::from_millis((*at - now) as u64)).await.map_err(CandidateError::from)
                    }
                    _ => self.writer.run_queued(connection_id, submission_id, *attempt).await,
                }
            }
            CandidateWork::StatusPoll { connection_id } => match self.status.poll(connection_id).await {
                Ok(()) => self.deletions.deletions_pass(connection_id).await,
                Err(e) => Err(e),
            },
            CandidateWork::LeverDeleted { connection_id, opportunity_id } => {
                self.erasures.erase_deleted_opportunity(connection_id, opportunity_id).await
            }
        };
        match outcome {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, ?work, "candidates message will come back");
                false
            }
        }
    }

    /// The local runners' loop body (a Lambda's SQS trigger in AWS): one receive, each message
    /// handled, done ones deleted. Returns how many were received.
    pub async fn work_once(&self, max: usize, wait: Duration) -> Result<usize, QueueError> {
        crate::queue::work_once(self.raw_queue.as_ref(), max, wait, |body| async move { self.work(&body).await }).await
    }
}
