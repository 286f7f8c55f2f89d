//! What candidate ingest keeps in the table (layout in `docs/store.md`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::core::candidate::{CandidateStatus, SubmissionState};
use crate::core::submission::ValidSubmission;
use crate::store::{IndexKey, Key, Record, keys};

/// One accepted submission: what the partner sent (validated; file bytes in the file store),
/// where it is, and what is already written to Lever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    /// UUIDv7: time-ordered, so the connection's list reads newest first by key.
    pub id: String,
    pub connection_id: String,
    pub partner_id: String,
    pub submission: ValidSubmission,
    /// One per `submission.files`, same order.
    pub files: Vec<StoredFile>,
    pub state: SubmissionState,
    #[serde(default)]
    pub error: Option<SubmissionFailure>,
    #[serde(default)]
    pub opportunity_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// The opportunity's stage as last known (set on write, kept current by status events).
    #[serde(default)]
    pub stage: Option<StageRef>,
    #[serde(default)]
    pub progress: Progress,
    /// Attempts made (each run that reached Lever, or tried to).
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_at_ms: Option<i64>,
    /// A held referral expires then.
    #[serde(default)]
    pub pending_until_ms: Option<i64>,
    /// Who is writing it to Lever right now (one runner at a time, across all processes).
    #[serde(default)]
    pub claim: Option<Claim>,
    /// When the sweeper must look at it (an open submission, or an announcement not yet made).
    #[serde(default)]
    pub due_at_ms: Option<i64>,
    /// The partner was told of the final state (`candidate.created`/`updated`, `submission.failed`).
    #[serde(default)]
    pub announced: bool,
    /// The name of the `Idempotency-Key` it was accepted under (its digest), so an erasure finds
    /// the stored answer.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Once announced, the record (personal fields and all) lasts the profile's retention grace
    /// (`retention.grace_days`) and then expires: DynamoDB's TTL, or the embedded store's purge.
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Record for SubmissionRecord {
    const KIND: &'static str = "submission";

    fn key(&self) -> Key {
        keys::submission(&self.connection_id, &self.id)
    }

    fn due(&self) -> Option<IndexKey> {
        self.due_at_ms.map(|at| keys::submission_due(&self.connection_id, &self.id, at))
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }
}

impl SubmissionRecord {
    pub fn claimed_at(&self, now_ms: i64) -> Option<&Claim> {
        self.claim.as_ref().filter(|c| c.until_ms > now_ms)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionFailure {
    /// One of `core::candidate::error_codes`.
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub holder: String,
    pub until_ms: i64,
}

/// A file of a submission in the file store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub object_key: String,
    pub size_bytes: u64,
}

/// The steps already done in Lever, so a retry does only what is left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// When the first attempt began: an opportunity Lever made after it, with our source, is
    /// ours even if the answer to the create was lost.
    #[serde(default)]
    pub first_attempt_at_ms: Option<i64>,
    /// The opportunity was made by this submission (resume and files went with the create).
    #[serde(default)]
    pub created_by_hub: bool,
    /// The [`WriteStep`]s done besides the create (that is `created_by_hub`), stored by their
    /// names as records written before the enum hold them.
    #[serde(default, deserialize_with = "known_steps")]
    pub done: BTreeSet<WriteStep>,
}

/// The stored step names this version knows; one it does not (a newer version's) is redone.
fn known_steps<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<WriteStep>, D::Error> {
    let names = Vec::<String>::deserialize(deserializer)?;
    Ok(names.iter().filter_map(|n| WriteStep::from_stored_name(n)).collect())
}

impl Progress {
    pub fn is_done(&self, step: WriteStep) -> bool {
        match step {
            WriteStep::Create => self.created_by_hub,
            step => self.done.contains(&step),
        }
    }

    pub fn mark(&mut self, step: WriteStep) {
        match step {
            WriteStep::Create => self.created_by_hub = true,
            step => {
                self.done.insert(step);
            }
        }
    }
}

pub use crate::core::submission::WriteStep;

/// What an `Idempotency-Key` was first used for, and what was answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub partner_id: String,
    /// The key's digest (`core::candidate::idempotency_key_digest`), never the key as sent.
    pub key: String,
    /// `core::candidate::request_fingerprint` of the first request.
    pub fingerprint: String,
    pub connection_id: String,
    pub submission_id: String,
    /// `None` while the first request is being handled.
    #[serde(default)]
    pub answer: Option<StoredAnswer>,
    /// While in progress: after this, the request is taken to have died and another may take over.
    pub lease_until_ms: i64,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

impl Record for IdempotencyRecord {
    const KIND: &'static str = "idempotency";

    fn key(&self) -> Key {
        keys::idempotency(&self.partner_id, &self.key)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// The answer first given for a key, replayed for the same key and body: what became of the
/// submission, in the flow's terms (the API decides the HTTP status).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "AnswerForm", into = "AnswerForm")]
pub struct StoredAnswer {
    pub outcome: SubmitOutcome,
    /// The candidate (`Candidate` schema).
    pub body: serde_json::Value,
    /// Where the candidate is read.
    pub location: Option<String>,
}

/// What became of a submission when the partner was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// A new candidate in Lever.
    Created,
    /// Added to a candidate Lever had.
    Updated,
    /// Accepted, and still being written (queued, or a referral held until the person applies).
    Accepted,
    /// Failed in a way the partner must act on.
    Refused(StoredProblem),
}

/// [`SubmitOutcome`] as stored: its name, and the refusal beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeName {
    Created,
    Updated,
    Accepted,
    Refused,
}

/// The stored layout. Answers written before outcomes were typed carry the HTTP status they
/// were given instead of `outcome`; it is read back into the outcome that status stood for.
#[derive(Serialize, Deserialize)]
struct AnswerForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<OutcomeName>,
    #[serde(default, skip_serializing)]
    status: Option<u16>,
    #[serde(default)]
    body: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    problem: Option<StoredProblem>,
    #[serde(default)]
    location: Option<String>,
}

impl From<AnswerForm> for StoredAnswer {
    fn from(f: AnswerForm) -> Self {
        let name = f.outcome.unwrap_or(match f.status {
            Some(201) => OutcomeName::Created,
            Some(200) => OutcomeName::Updated,
            _ => OutcomeName::Accepted,
        });
        let outcome = match (name, f.problem) {
            // The old form: a problem is a refusal whatever its status said.
            (_, Some(problem)) => SubmitOutcome::Refused(problem),
            (OutcomeName::Created, None) => SubmitOutcome::Created,
            (OutcomeName::Updated, None) => SubmitOutcome::Updated,
            (OutcomeName::Accepted | OutcomeName::Refused, None) => SubmitOutcome::Accepted,
        };
        Self { outcome, body: f.body, location: f.location }
    }
}

impl From<StoredAnswer> for AnswerForm {
    fn from(a: StoredAnswer) -> Self {
        let (outcome, problem) = match a.outcome {
            SubmitOutcome::Created => (OutcomeName::Created, None),
            SubmitOutcome::Updated => (OutcomeName::Updated, None),
            SubmitOutcome::Accepted => (OutcomeName::Accepted, None),
            SubmitOutcome::Refused(p) => (OutcomeName::Refused, Some(p)),
        };
        Self { outcome: Some(outcome), status: None, body: a.body, problem, location: a.location }
    }
}

/// A problem answer: what kind of refusal, detail and field errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProblem {
    /// Stored under its first name, so answers kept before the kind was typed still replay.
    #[serde(rename = "type_name")]
    pub kind: RefusalKind,
    pub detail: String,
    #[serde(default)]
    pub errors: Vec<(String, String)>,
}

/// Why a failed submission is refused; the API says it with its own problem types. Stored with
/// the names of those types, which answers written before this enum also carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// The connection is not active (any more).
    ConnectionNotActive,
    /// A field of the submission or the connection's settings is wrong; `errors` names it.
    InvalidRequest,
    /// Lever refused the write (and anything else a failure may say).
    #[serde(other)]
    LeverRejected,
}

/// An upload a partner asked for; its bytes go straight to the file store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub id: String,
    pub connection_id: String,
    pub partner_id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub object_key: String,
    pub created_at_ms: i64,
    /// With the file store's lifecycle rule.
    pub expires_at_ms: i64,
    /// The submission that took it: an upload serves one submission (set with a conditional
    /// write, so two submissions racing for it cannot both have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
}

impl Record for UploadRecord {
    const KIND: &'static str = "upload";

    fn key(&self) -> Key {
        keys::upload(&self.connection_id, &self.id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// An opportunity the hub wrote to, and its status as last told to the partner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedOpportunity {
    pub connection_id: String,
    pub opportunity_id: String,
    pub partner_id: String,
    #[serde(default)]
    pub contact_id: Option<String>,
    pub posting_id: String,
    /// Submissions written to it, oldest first (referrals by two employees, a later screening).
    pub submission_ids: Vec<String>,
    #[serde(default)]
    pub status: CandidateStatus,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Record for SubmittedOpportunity {
    const KIND: &'static str = "submitted_opportunity";

    fn key(&self) -> Key {
        keys::submitted_opportunity(&self.connection_id, &self.opportunity_id)
    }
}

/// A held referral, by the candidate's email and posting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReferral {
    pub connection_id: String,
    pub email_key: String,
    pub posting_id: String,
    pub submission_id: String,
    pub expires_at_ms: i64,
}

impl Record for PendingReferral {
    const KIND: &'static str = "pending_referral";

    fn key(&self) -> Key {
        keys::pending_referral(&self.connection_id, &self.email_key, &self.posting_id, &self.submission_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// Whether a Lever user is active, as last seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeverUserFact {
    pub connection_id: String,
    pub user_id: String,
    pub active: bool,
    pub expires_at_ms: i64,
}

impl Record for LeverUserFact {
    const KIND: &'static str = "lever_user";

    fn key(&self) -> Key {
        keys::lever_user(&self.connection_id, &self.user_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// The Lever user with an email (hashed in the key), or that there is none, as last seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeverReferrerFact {
    pub connection_id: String,
    pub email_key: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    pub expires_at_ms: i64,
}

impl Record for LeverReferrerFact {
    const KIND: &'static str = "lever_referrer";

    fn key(&self) -> Key {
        keys::lever_referrer(&self.connection_id, &self.email_key)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// The account's stage and archive-reason names (for events), as last read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeverNames {
    pub connection_id: String,
    pub stages: BTreeMap<String, String>,
    pub archive_reasons: BTreeMap<String, ArchiveReasonName>,
    pub expires_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveReasonName {
    pub name: String,
    pub hired: bool,
}

impl Record for LeverNames {
    const KIND: &'static str = "lever_names";

    fn key(&self) -> Key {
        keys::lever_names(&self.connection_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

pub use crate::flows::records::StatusPoll;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_stored_under_their_problem_type_names_read_back() {
        let stored = |name: &str| serde_json::from_value::<StoredProblem>(serde_json::json!({ "type_name": name, "detail": "d" })).unwrap().kind;
        assert_eq!(stored("connection-not-active"), RefusalKind::ConnectionNotActive);
        assert_eq!(stored("invalid-request"), RefusalKind::InvalidRequest);
        assert_eq!(stored("lever-rejected"), RefusalKind::LeverRejected);
        assert_eq!(stored("something-else"), RefusalKind::LeverRejected, "what the API fell back to before");
        let written = serde_json::to_value(StoredProblem { kind: RefusalKind::InvalidRequest, detail: "d".into(), errors: vec![] }).unwrap();
        assert_eq!(written["type_name"], "invalid-request");
    }

    #[test]
    fn answers_stored_with_http_statuses_read_back_as_the_outcomes_they_were() {
        let old = |v: serde_json::Value| serde_json::from_value::<StoredAnswer>(v).unwrap().outcome;
        let body = serde_json::json!({"id": "s1"});
        assert_eq!(old(serde_json::json!({"status": 201, "body": body, "problem": null, "location": "/l"})), SubmitOutcome::Created);
        assert_eq!(old(serde_json::json!({"status": 200, "body": body, "problem": null, "location": "/l"})), SubmitOutcome::Updated);
        assert_eq!(old(serde_json::json!({"status": 202, "body": body, "problem": null, "location": "/l"})), SubmitOutcome::Accepted);
        let refused = old(serde_json::json!({"status": 409, "body": body, "problem": {"type_name": "connection-not-active", "detail": "d"}}));
        assert_eq!(refused, SubmitOutcome::Refused(StoredProblem { kind: RefusalKind::ConnectionNotActive, detail: "d".into(), errors: vec![] }));
        let answer = StoredAnswer { outcome: SubmitOutcome::Updated, body: body.clone(), location: Some("/l".into()) };
        let written = serde_json::to_value(&answer).unwrap();
        assert_eq!(written["outcome"], "updated");
        assert!(written.get("status").is_none(), "no HTTP status is stored any more");
        assert_eq!(serde_json::from_value::<StoredAnswer>(written).unwrap(), answer);
    }

    #[test]
    fn steps_keep_the_names_records_already_hold() {
        let stored: Progress = serde_json::from_value(serde_json::json!({ "done": ["sources", "note", "file:1", "also_apply"] })).unwrap();
        assert!(stored.is_done(WriteStep::Sources) && stored.is_done(WriteStep::Note) && stored.is_done(WriteStep::AlsoApply));
        assert!(stored.is_done(WriteStep::File(1)) && !stored.is_done(WriteStep::File(0)));
        assert!(!stored.is_done(WriteStep::Tags) && !stored.is_done(WriteStep::Stage));
        let mut p = Progress::default();
        p.mark(WriteStep::Tags);
        p.mark(WriteStep::Stage);
        p.mark(WriteStep::File(0));
        let stored_names: BTreeSet<String> = serde_json::from_value(serde_json::to_value(&p).unwrap()["done"].clone()).unwrap();
        assert_eq!(stored_names, BTreeSet::from(["tags".to_owned(), "stage".to_owned(), "file:0".to_owned()]));
    }

    #[test]
    fn a_step_name_this_version_does_not_know_is_redone_not_refused() {
        let stored: Progress =
            serde_json::from_value(serde_json::json!({ "created_by_hub": true, "done": ["note", "file:x", "something_newer"] })).unwrap();
        assert_eq!(stored.done, BTreeSet::from([WriteStep::Note]));
        assert!(stored.is_done(WriteStep::Create), "the create is recorded as created_by_hub, as before");
    }
}
