//! The jobs flow: Lever postings into each connection's job feed, and the feed as partners
//! read it.
//!
//! - [`poller`]: [`JobPoller`] syncs one connection (a `FlowRun` from the dispatcher or a
//!   partner's `POST …/jobs/sync`): full then delta passes, a checkpoint per page, jobs retired
//!   only after a complete pass, one sync per connection at a time, `job.*` events once per change.
//! - [`worker`]: the jobs queue's messages → runs → ack or retry (the Lambda and `hub-local`).
//! - [`feed`]: [`JobFeed`], the partner API's reads and writes (list, get, import mark, resolve
//!   a hosted URL, the connection's sync health, "sync now").
//! - [`records`]: the records this flow keeps; [`convert`]: Lever's posting as core input.
//!
//! The rules themselves are pure and live in `core::job` (normalisation), `core::job_feed`
//! (what a change means) and `core::job_sync` (which pass, which Lever query).

pub mod convert;
pub mod feed;
pub mod poller;
pub mod records;
pub mod worker;

pub use feed::{FeedError, JobFeed, JobsHealth, ListFilter, Resolved, StatusFilter};
pub use poller::{JobPoller, RunOutcome};
pub use worker::{JobWorker, MessageOutcome};

use crate::lever::error::LeverError;
use crate::queue::QueueError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Lever: {0}")]
    Lever(#[from] LeverError),
    /// The connection cannot reach Lever (needs a reconnect, disconnected, gone).
    #[error("connection is {0}")]
    NotActive(&'static str),
    /// Another run took over the connection's sync (this one's lease had expired).
    #[error("the sync lease was lost to another run")]
    LeaseLost,
    #[error("event not published: {0}")]
    Publish(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("{0}")]
    Internal(String),
}

impl JobsError {
    /// Whether running the same message again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            JobsError::Lever(e) => matches!(e, LeverError::RateLimited { .. } | LeverError::Server { .. } | LeverError::Transport { .. }),
            JobsError::Store(_) | JobsError::Publish(_) | JobsError::Queue(_) => true,
            JobsError::NotActive(_) | JobsError::LeaseLost | JobsError::Internal(_) => false,
        }
    }
}
