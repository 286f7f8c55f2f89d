//! The job flow's records: a feed job per posting, the connection's sync state, and what each
//! page of a pass found (kept until the pass completes).

use serde::{Deserialize, Serialize};

use crate::core::job_feed::{CloseReason, FeedJob};
use crate::core::job_sync::JobSync;
use crate::store::{Key, Record, keys};

impl Record for FeedJob {
    const KIND: &'static str = "job";

    fn key(&self) -> Key {
        keys::job(&self.connection_id, &self.job.posting_id)
    }
}

/// The flow name of the sync checkpoint.
pub const JOBS_FLOW: &str = "jobs";

impl Record for JobSync {
    const KIND: &'static str = "job_sync";

    fn key(&self) -> Key {
        keys::checkpoint(&self.connection_id, JOBS_FLOW)
    }
}

/// How long a pass's page records are kept: far longer than any pass runs, so an abandoned
/// pass's pages disappear by themselves.
pub const PASS_PAGE_LIFETIME_MS: i64 = 3 * 24 * 3_600_000;

/// What one page of a pass found: the postings that passed the partner's filter (full passes,
/// for the reconcile) and the feed jobs that are to leave the feed once the pass completes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassPage {
    pub connection_id: String,
    pub pass_id: String,
    pub page: u32,
    #[serde(default)]
    pub seen: Vec<String>,
    /// Of `seen`, postings that could not be read (full passes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    #[serde(default)]
    pub leaving: Vec<(String, CloseReason)>,
    pub expires_at_ms: i64,
}

impl Record for PassPage {
    const KIND: &'static str = "job_pass_page";

    fn key(&self) -> Key {
        keys::job_pass_page(&self.connection_id, &self.pass_id, self.page)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}
