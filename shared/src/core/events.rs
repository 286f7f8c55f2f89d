//! Events named once. [`EventKind`]: what the hub sends to partners (profiles subscribe, flows
//! raise them). [`LeverEvent`]: the Lever webhooks the hub registers at connect and routes to
//! its handlers, so what is registered and what is handled cannot drift apart. A leaf of the
//! core: the domain modules that decide an event and the profile schema both depend on it and
//! not on each other.

use serde::{Deserialize, Serialize};

/// An event the hub sends to partners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "job.created")]
    JobCreated,
    #[serde(rename = "job.updated")]
    JobUpdated,
    #[serde(rename = "job.closed")]
    JobClosed,
    #[serde(rename = "candidate.created")]
    CandidateCreated,
    #[serde(rename = "candidate.updated")]
    CandidateUpdated,
    #[serde(rename = "candidate.stage_changed")]
    CandidateStageChanged,
    #[serde(rename = "candidate.archived")]
    CandidateArchived,
    #[serde(rename = "candidate.hired")]
    CandidateHired,
    /// The hub erased its copies of a person on the partner's request (`POST /v1/erasures`).
    #[serde(rename = "candidate.erased")]
    CandidateErased,
    /// The customer deleted the candidate in Lever; the hub erased its copies.
    #[serde(rename = "candidate.deleted")]
    CandidateDeleted,
    #[serde(rename = "submission.failed")]
    SubmissionFailed,
    #[serde(rename = "hire.created")]
    HireCreated,
    #[serde(rename = "connection.status_changed")]
    ConnectionStatusChanged,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobCreated => "job.created",
            Self::JobUpdated => "job.updated",
            Self::JobClosed => "job.closed",
            Self::CandidateCreated => "candidate.created",
            Self::CandidateUpdated => "candidate.updated",
            Self::CandidateStageChanged => "candidate.stage_changed",
            Self::CandidateArchived => "candidate.archived",
            Self::CandidateHired => "candidate.hired",
            Self::CandidateErased => "candidate.erased",
            Self::CandidateDeleted => "candidate.deleted",
            Self::SubmissionFailed => "submission.failed",
            Self::HireCreated => "hire.created",
            Self::ConnectionStatusChanged => "connection.status_changed",
        }
    }

    /// The Lever webhook that feeds this event, if any (job events come from polling).
    pub fn lever_webhook(self) -> Option<LeverEvent> {
        match self {
            Self::CandidateStageChanged => Some(LeverEvent::CandidateStageChange),
            Self::CandidateArchived => Some(LeverEvent::CandidateArchiveChange),
            Self::CandidateHired => Some(LeverEvent::CandidateHired),
            _ => None,
        }
    }
}

/// A Lever webhook the hub registers (at connect, as a profile needs it) and handles (the
/// Lever-event router). Declared in the order of Lever's names, so sets of them list as those do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LeverEvent {
    /// A new application: releases referrals held until the person applied.
    #[serde(rename = "applicationCreated")]
    ApplicationCreated,
    #[serde(rename = "candidateArchiveChange")]
    CandidateArchiveChange,
    /// The customer deleted a candidate in Lever: the hub erases its copies of it.
    #[serde(rename = "candidateDeleted")]
    CandidateDeleted,
    #[serde(rename = "candidateHired")]
    CandidateHired,
    #[serde(rename = "candidateStageChange")]
    CandidateStageChange,
}

impl LeverEvent {
    pub const ALL: [LeverEvent; 5] = [
        LeverEvent::ApplicationCreated,
        LeverEvent::CandidateArchiveChange,
        LeverEvent::CandidateDeleted,
        LeverEvent::CandidateHired,
        LeverEvent::CandidateStageChange,
    ];

    /// Lever's name of the event, as registered and as it arrives.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationCreated => "applicationCreated",
            Self::CandidateArchiveChange => "candidateArchiveChange",
            Self::CandidateDeleted => "candidateDeleted",
            Self::CandidateHired => "candidateHired",
            Self::CandidateStageChange => "candidateStageChange",
        }
    }
}

impl std::fmt::Display for LeverEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lever_event_names_are_their_wire_names_in_order() {
        for e in LeverEvent::ALL {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        let names: Vec<&str> = LeverEvent::ALL.iter().map(|e| e.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "ALL and the declaration follow Lever's names");
    }
}
