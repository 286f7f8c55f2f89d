//! The preamble a flow runs before it works on a connection: the connection is active and its
//! partner's profile is loaded. Flows reach it through the flow context
//! (`flows/context.rs`, `FlowContext::ready`), which folds it into `ContextError`.

use std::sync::Arc;

use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus};
use crate::core::profile::Profile;
use crate::flows::status::status_name;

/// Why a connection cannot be worked on now.
#[derive(Debug)]
pub enum NotReady {
    /// Its status, as the API names it.
    NotActive(&'static str),
    /// No profile is loaded for this partner id.
    NoProfile(String),
}

/// The profile of an active connection's partner.
pub fn active_profile(catalog: &ProfileCatalog, connection: &Connection) -> Result<Arc<Profile>, NotReady> {
    if connection.status != ConnectionStatus::Active {
        return Err(NotReady::NotActive(status_name(connection.status)));
    }
    catalog.get(&connection.partner_id).cloned().ok_or_else(|| NotReady::NoProfile(connection.partner_id.clone()))
}
