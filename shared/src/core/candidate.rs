//! The pure rules of candidate ingest that are not the write plan (`submission.rs` has that):
//! a submission's states, when a failed attempt is tried again, the idempotency key and request
//! fingerprint, how a lost create is recognised, and which status events a change of a submitted
//! candidate in Lever makes. No I/O.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a submission is. `queued` and `pending` are still being worked on; the others are final
/// (a `failed` one can be retried by the partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Accepted; being written to Lever, or waiting to try again (Lever down, rate limiting, slow).
    Queued,
    /// A referral of someone not in Lever yet, waiting for their application.
    Pending,
    /// A new opportunity in Lever.
    Created,
    /// Added to the candidate's existing opportunity on the posting.
    Updated,
    /// Not written; `error` says why.
    Failed,
}

impl SubmissionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Pending => "pending",
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Failed => "failed",
        }
    }

    /// Written to Lever: nothing more to do for it.
    pub fn is_written(self) -> bool {
        matches!(self, Self::Created | Self::Updated)
    }

    /// Still in the hub's hands (the sweeper looks after it).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Queued | Self::Pending)
    }
}

/// Stable `error.code`s of a failed submission (documented in `docs/openapi.yaml`).
pub mod error_codes {
    /// Lever refused the write (e.g. an unknown posting); the message is Lever's.
    pub const LEVER_REJECTED: &str = "lever_rejected";
    /// Lever stayed unavailable or rate limiting through every attempt.
    pub const LEVER_UNAVAILABLE: &str = "lever_unavailable";
    /// The connection needs a reconnect or was disconnected.
    pub const CONNECTION_NOT_ACTIVE: &str = "connection_not_active";
    /// No Lever user to write as: none chosen, or every candidate user is deactivated.
    pub const NO_PERFORM_AS: &str = "no_perform_as";
    /// The candidate is not in Lever and the partner's profile does not create candidates.
    pub const NOT_IN_LEVER: &str = "not_in_lever";
    /// A held referral whose candidate never applied.
    pub const REFERRAL_EXPIRED: &str = "referral_expired";
    /// The submission's stored files are gone (kept 30 days for failed submissions).
    pub const FILES_MISSING: &str = "files_missing";
}

/// The wait before attempt `attempt + 1` (1-based `attempt` = attempts made so far): Lever's
/// `Retry-After` when it sent one, else exponential from `min_ms` doubling up to `max_ms`, with
/// up to a quarter of jitter (`jitter` in 0..1) and never beyond `max_ms`. A hint is taken as
/// given, however long: Lever knows best when it will take requests again.
pub fn retry_delay_ms(attempt: u32, retry_after_ms: Option<u64>, min_ms: u64, max_ms: u64, jitter: f64) -> u64 {
    let exp = min_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let base = exp.min(max_ms);
    let jittered = base.saturating_add((base as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as u64).min(max_ms);
    retry_after_ms.unwrap_or(jittered)
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An `Idempotency-Key` is 1 to 255 visible ASCII characters (a UUID is typical).
pub fn check_idempotency_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters, such as a UUID"));
    }
    Ok(())
}

/// The name an `Idempotency-Key` is stored under: its SHA-256, so that a key a partner built from
/// something personal (an email) is not kept as such.
pub fn idempotency_key_digest(key: &str) -> String {
    format!("sha256-{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// What identifies "the same request" for an idempotency key: the route, the connection and
/// what the body means (SHA-256, hex). A JSON body counts by its canonical form — keys sorted
/// at every level, no insignificant whitespace, strings unescaped — so a client that re-encodes
/// its retry (another JSON library, pretty-printed, keys in another order) is still recognised.
/// A body that is not JSON counts by its bytes.
pub fn request_fingerprint(route: &str, connection_id: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body).ok().map(|v| {
        let mut out = Vec::with_capacity(body.len());
        write_canonical(&v, &mut out);
        out
    });
    byte_fingerprint(route, connection_id, canonical.as_deref().unwrap_or(body))
}

/// The fingerprint of the exact bytes: the rule before canonical JSON. Keys stored under it are
/// still honoured until they expire (48 hours after this change is deployed), so a retry in
/// flight across the deploy is not refused.
pub fn byte_fingerprint(route: &str, connection_id: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [route.as_bytes(), connection_id.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(body);
    hex::encode(h.finalize())
}

/// Writes `v` with object keys sorted by their UTF-8 bytes, whatever map order serde_json was
/// built with (another crate in the build may turn on `preserve_order`).
fn write_canonical(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(k.clone()), out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(v: &serde_json::Value, out: &mut Vec<u8>) {
    // Serialising a string, number, boolean or null into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// A short, stable, non-reversible name for an email in keys and logs.
pub fn email_key(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    hex::encode(&digest[..16])
}

/// How far Lever's clock may be behind ours when judging whether an opportunity was made by an
/// attempt of ours.
pub const CLOCK_SKEW_MS: i64 = 120_000;

/// After a create whose outcome was unknown (timeout, lost answer, 5xx), an opportunity found
/// on the posting for the candidate's emails is that create when Lever made it after our first
/// attempt began and it carries our source; otherwise it is someone else's (e.g. an application
/// that arrived in between) and the submission is added to it.
pub fn made_by_our_create(created_at_ms: Option<i64>, sources: &[String], first_attempt_at_ms: Option<i64>, our_source: &str) -> bool {
    match (created_at_ms, first_attempt_at_ms) {
        (Some(created), Some(first)) => created >= first - CLOCK_SKEW_MS && sources.iter().any(|s| s.eq_ignore_ascii_case(our_source)),
        _ => false,
    }
}

/// What the hub last told the partner about a submitted candidate, and what Lever shows now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateStatus {
    pub stage_id: Option<String>,
    /// When the candidate entered `stage_id` (Lever's last stage change), ms.
    pub stage_changed_at_ms: Option<i64>,
    /// Set while archived: when, and the archive reason's id.
    pub archived_at_ms: Option<i64>,
    pub archive_reason_id: Option<String>,
    /// The archive reason is of Lever's `hired` type.
    pub hired: bool,
}

/// One thing to tell the partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    StageChanged { from: Option<String>, to: String, at_ms: Option<i64> },
    Archived { reason_id: Option<String>, at_ms: Option<i64> },
    Hired { at_ms: Option<i64> },
}

impl StatusChange {
    /// The partner event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::StageChanged { .. } => "candidate.stage_changed",
            Self::Archived { .. } => "candidate.archived",
            Self::Hired { .. } => "candidate.hired",
        }
    }

    /// The same fact always has the same name, however it was learned (webhook or poll), so
    /// announcing it twice publishes it once.
    pub fn fact_id(&self, connection_id: &str, opportunity_id: &str) -> String {
        match self {
            Self::StageChanged { to, at_ms, .. } => {
                format!("candidate-stage/{connection_id}/{opportunity_id}/{to}/{}", at_ms.unwrap_or(0))
            }
            Self::Archived { at_ms, .. } => format!("candidate-archived/{connection_id}/{opportunity_id}/{}", at_ms.unwrap_or(0)),
            Self::Hired { at_ms } => format!("candidate-hired/{connection_id}/{opportunity_id}/{}", at_ms.unwrap_or(0)),
        }
    }
}

/// The changes from `known` to `now`: a new stage, a new archive (a hire is an archive with a
/// hired-type reason, announced as both). Unarchiving is not an event; it only resets what is
/// known, so a later archive is announced again.
pub fn status_changes(known: &CandidateStatus, now: &CandidateStatus) -> Vec<StatusChange> {
    let mut out = Vec::new();
    if let Some(to) = &now.stage_id
        && known.stage_id.as_ref() != Some(to)
    {
        out.push(StatusChange::StageChanged { from: known.stage_id.clone(), to: to.clone(), at_ms: now.stage_changed_at_ms });
    }
    let newly_archived =
        now.archived_at_ms.is_some() && (known.archived_at_ms != now.archived_at_ms || known.archive_reason_id != now.archive_reason_id);
    if newly_archived {
        out.push(StatusChange::Archived { reason_id: now.archive_reason_id.clone(), at_ms: now.archived_at_ms });
        if now.hired {
            out.push(StatusChange::Hired { at_ms: now.archived_at_ms });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_honour_retry_after() {
        assert_eq!(retry_delay_ms(1, None, 1_000, 60_000, 0.0), 1_000);
        assert_eq!(retry_delay_ms(2, None, 1_000, 60_000, 0.0), 2_000);
        assert_eq!(retry_delay_ms(4, None, 1_000, 60_000, 0.0), 8_000);
        assert_eq!(retry_delay_ms(30, None, 1_000, 60_000, 1.0), 60_000, "capped");
        assert_eq!(retry_delay_ms(1, None, 1_000, 60_000, 1.0), 1_250, "a quarter of jitter at most");
        assert_eq!(retry_delay_ms(1, Some(7_000), 1_000, 60_000, 0.0), 7_000, "Lever's hint wins");
        assert_eq!(retry_delay_ms(5, Some(300_000), 1_000, 60_000, 0.0), 300_000, "never sooner than Lever asks");
        assert_eq!(retry_delay_ms(0, None, 500, 60_000, 0.0), 500);
    }

    #[test]
    fn idempotency_keys_and_fingerprints() {
        assert!(check_idempotency_key("0b7c1d3e-aaaa-4bbb-8ccc-123456789abc").is_ok());
        for bad in ["", "has space", "ünï", &"k".repeat(256), "tab\there"] {
            assert!(check_idempotency_key(bad).is_err(), "{bad:?}");
        }
        let a = request_fingerprint("candidates", "c1", b"{}");
        assert_eq!(a, request_fingerprint("candidates", "c1", b"{}"));
        assert_ne!(a, request_fingerprint("candidates", "c2", b"{}"), "another connection");
        assert_eq!(a, request_fingerprint("candidates", "c1", b"{ }"), "whitespace means nothing");
        let one = request_fingerprint("candidates", "c1", br#"{"a":1,"b":{"y":[1,"\u00e9"],"x":null}}"#);
        let same = request_fingerprint("candidates", "c1", "{\n  \"b\": {\"x\": null, \"y\": [1, \"\u{e9}\"]},\n  \"a\": 1\n}".as_bytes());
        assert_eq!(one, same, "key order, whitespace and escapes mean nothing");
        assert_ne!(one, request_fingerprint("candidates", "c1", br#"{"a":1,"b":{"y":["\u00e9",1],"x":null}}"#), "array order means something");
        assert_ne!(one, request_fingerprint("candidates", "c1", br#"{"a":2,"b":{"y":[1,"\u00e9"],"x":null}}"#), "another value");
        assert_ne!(request_fingerprint("x", "c", b"not json"), request_fingerprint("x", "c", b"not  json"), "not JSON: the bytes count");
        assert_ne!(request_fingerprint("a", "bc", b""), request_fingerprint("ab", "c", b""), "parts cannot shift");
        assert_eq!(email_key(" Ada@Example.com "), email_key("ada@example.com"));
        assert_eq!(email_key("a@b.co").len(), 32);
    }

    #[test]
    fn a_lost_create_is_recognised_by_time_and_source() {
        let ours = vec!["HireUp".to_owned()];
        assert!(made_by_our_create(Some(10_000_000), &ours, Some(10_000_100), "hireup"), "clock skew tolerated");
        assert!(!made_by_our_create(Some(1_000), &ours, Some(10_000_000), "HireUp"), "older: an earlier application");
        assert!(!made_by_our_create(Some(10_000_000), &["Job site".to_owned()], Some(9_999_000), "HireUp"));
        assert!(!made_by_our_create(Some(10_000_000), &ours, None, "HireUp"), "no create was attempted");
    }

    #[test]
    fn status_changes_are_announced_once_each() {
        let known = CandidateStatus { stage_id: Some("applicant-new".into()), ..Default::default() };
        assert!(status_changes(&known, &known).is_empty());
        let moved = CandidateStatus { stage_id: Some("offer".into()), stage_changed_at_ms: Some(5), ..known.clone() };
        let changes = status_changes(&known, &moved);
        assert_eq!(changes, vec![StatusChange::StageChanged { from: Some("applicant-new".into()), to: "offer".into(), at_ms: Some(5) }]);
        assert_eq!(changes[0].event_type(), "candidate.stage_changed");
        assert_eq!(changes[0].fact_id("c", "o"), "candidate-stage/c/o/offer/5");
        let hired = CandidateStatus { archived_at_ms: Some(9), archive_reason_id: Some("r".into()), hired: true, ..moved.clone() };
        let changes = status_changes(&moved, &hired);
        assert_eq!(changes.iter().map(StatusChange::event_type).collect::<Vec<_>>(), vec!["candidate.archived", "candidate.hired"]);
        assert!(status_changes(&hired, &hired).is_empty(), "the same archive is not announced twice");
        let unarchived = CandidateStatus { archived_at_ms: None, archive_reason_id: None, hired: false, ..hired.clone() };
        assert!(status_changes(&hired, &unarchived).is_empty(), "unarchiving is no event");
        let rejected = CandidateStatus { archived_at_ms: Some(20), archive_reason_id: Some("x".into()), hired: false, ..unarchived.clone() };
        assert_eq!(status_changes(&unarchived, &rejected).len(), 1);
    }

    #[test]
    fn states() {
        assert!(SubmissionState::Created.is_written() && SubmissionState::Updated.is_written());
        assert!(SubmissionState::Queued.is_open() && SubmissionState::Pending.is_open());
        assert!(!SubmissionState::Failed.is_open() && !SubmissionState::Failed.is_written());
        assert_eq!(serde_json::to_value(SubmissionState::Pending).unwrap(), "pending");
    }
}
