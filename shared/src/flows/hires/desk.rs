//! The partner API's side of the hires flow: the connection's hires newest first, and "import
//! now" (a manual run on the hires queue; the daily schedule is not moved).

use std::sync::Arc;

use super::HiresError;
use super::import::run_options;
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::flow_runs::ScheduledFlow;
use crate::core::hire::record::HireRecord;
use crate::core::profile::HireTrigger;
use crate::flows::context::ContextError;
use crate::flows::dispatch::{DispatchError, Dispatcher, FlowRun};
use crate::flows::ready::active_profile;
use crate::store::{Cursor, DueQuery, Records, keys};

/// What a partner asks of a manual import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HireImportRequest {
    /// Every hired candidate, not only those since the last import.
    #[serde(default)]
    pub all: bool,
    /// Send hires again that were sent before.
    #[serde(default)]
    pub resend: bool,
}

#[derive(Clone)]
pub struct Hires {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    dispatcher: Dispatcher,
}

impl Hires {
    pub fn new(records: Records, catalog: Arc<ProfileCatalog>, dispatcher: Dispatcher) -> Self {
        Self { records, catalog, dispatcher }
    }

    /// One page of the connection's hires, the latest hire first. Kept after a disconnect.
    pub async fn page(&self, connection_id: &str, limit: usize, cursor: Option<Cursor>) -> Result<(Vec<HireRecord>, Option<Cursor>), HiresError> {
        let query =
            DueQuery { partition: keys::hires_partition(connection_id), up_to: keys::HIRES_UP_TO.to_owned(), limit: limit.clamp(1, 100), cursor };
        let (page, next) = self.records.due::<HireRecord>(&query).await?;
        Ok((page.into_iter().map(|v| v.record).collect(), next))
    }

    /// Queues a manual import for the connection (which the caller has checked is the partner's).
    pub async fn request_import(&self, connection: &Connection, request: HireImportRequest) -> Result<FlowRun, HiresError> {
        let profile = active_profile(&self.catalog, connection).map_err(ContextError::from)?;
        if profile.hires().is_none() {
            return Err(HiresError::NotEnabled("the partner's profile has no hires flow".into()));
        }
        if !connection.settings.hire_triggers(&profile).contains(&HireTrigger::OnDemand) {
            return Err(HiresError::NotEnabled("imports on demand are switched off for this connection (settings.hire_triggers)".into()));
        }
        self.dispatcher.request_now(&connection.id, ScheduledFlow::Hires, run_options(request.all, request.resend)).await.map_err(|e| match e {
            DispatchError::Store(s) => HiresError::Store(s),
            DispatchError::Queue(q) => HiresError::Queue(q),
            other => HiresError::Internal(other.to_string()),
        })
    }
}
