//! The hires flow: hired candidates from Lever into the partner's HRIS, as `hire.created`
//! events and a list the partner can pull.
//!
//! Hired, in Lever, is archived with an archive reason of type `hired`. Three triggers find
//! hires, and all three meet in one record per opportunity (`CONN#<id>`/`HIRE#<opportunity>`),
//! so a hire is sent once whoever finds it (`core::hire::record`):
//!
//! - [`webhook`]: Lever's `candidateHired` webhook, within seconds ([`HireOnWebhook`], a
//!   handler of the Lever-event router);
//! - [`worker`]: the hires queue's `FlowRun`s — the daily run the dispatcher starts at the
//!   connection's local time, and manual imports a partner asks for ([`HiresWorker`]);
//! - [`desk`]: the partner API's side — the list of hires, "import now" ([`Hires`]).
//!
//! [`import`] does the work for all three ([`HireImport`]: listing runs from the watermark, one
//! hire a webhook named); [`send`] takes each hire through its steps; [`lever_read`] is what it
//! reads from Lever; [`records`] the records it keeps. The mapping itself is pure (`core::hire`).

pub mod desk;
pub mod import;
pub mod lever_read;
pub mod records;
pub mod send;
pub mod webhook;
pub mod worker;

pub use desk::{HireImportRequest, Hires};
pub use import::{HireImport, RunReport};
pub use lever_read::HireReader;
pub use send::HireOutcome;
pub use webhook::HireOnWebhook;
pub use worker::{HiresMessage, HiresWorker};

use std::time::Duration;

use crate::flows::context::ContextError;
use crate::lever::error::LeverError;
use crate::queue::QueueError;
use crate::store::StoreError;

/// The flow's name in a connection's `flows` and activity log.
pub const FLOW: &str = "hires";

/// How imports list hires.
#[derive(Clone, Debug)]
pub struct HiresPolicy {
    /// Each listing starts this long before the watermark: for hires Lever records late or with
    /// a clock a little behind. Hires in the overlap are found already recorded (a store read
    /// each, no Lever call).
    pub overlap: Duration,
    /// Lever's page size for the listing.
    pub page_size: u32,
}

impl Default for HiresPolicy {
    fn default() -> Self {
        Self { overlap: Duration::from_secs(3600), page_size: 100 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HiresError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Lever: {0}")]
    Lever(#[from] LeverError),
    #[error("no connection {0}")]
    UnknownConnection(String),
    /// The connection cannot reach Lever (pending, needs a reconnect, disconnected).
    #[error("the connection is {0}")]
    NotActive(&'static str),
    /// The partner's profile has no hires flow, or the customer switched this trigger off.
    #[error("{0}")]
    NotEnabled(String),
    #[error("event not published: {0}")]
    Publish(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("{0}")]
    Internal(String),
}

impl From<ContextError> for HiresError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::UnknownConnection(id) => HiresError::UnknownConnection(id),
            ContextError::NotActive(status) => HiresError::NotActive(status),
            ContextError::NoProfile(partner) => HiresError::NotEnabled(format!("no profile is loaded for partner {partner}")),
            ContextError::Lever(l) => HiresError::Lever(l),
            ContextError::Store(s) => HiresError::Store(s),
            ContextError::Unreadable(e) => HiresError::Internal(e),
        }
    }
}

impl HiresError {
    /// Whether trying the same work again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            HiresError::Lever(e) => {
                matches!(e, LeverError::RateLimited { .. } | LeverError::Server { .. } | LeverError::Transport { .. })
            }
            HiresError::Store(_) | HiresError::Publish(_) | HiresError::Queue(_) => true,
            HiresError::UnknownConnection(_) | HiresError::NotActive(_) | HiresError::NotEnabled(_) | HiresError::Internal(_) => false,
        }
    }
}
