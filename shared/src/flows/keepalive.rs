//! Keep-alive of Lever grants: refresh tokens die after 90 days without use, and a connection
//! whose partner only needs it rarely must not lapse. Visits every partner's connections
//! (partner list → connection pointers: queries, no table scan).

use serde::Serialize;

use super::connections::{ConnectError, Connections};
use super::partners::{PartnerError, Partners};
use crate::core::connection::ConnectionStatus;

#[derive(Debug, Default, Serialize)]
pub struct KeepAliveReport {
    pub checked: usize,
    pub refreshed: usize,
    pub failed: usize,
}

/// Why a keep-alive run stopped before visiting every connection.
#[derive(Debug, thiserror::Error)]
pub enum KeepAliveError {
    #[error("listing partners: {0}")]
    Partners(#[from] PartnerError),
    #[error("listing connections: {0}")]
    Connections(#[from] ConnectError),
}

pub async fn run(partners: &Partners, connections: &Connections) -> Result<KeepAliveReport, KeepAliveError> {
    let mut report = KeepAliveReport::default();
    for partner in partners.all_ids().await? {
        let mut cursor = None;
        loop {
            let (page, next) = connections.list(&partner, 100, cursor).await?;
            for c in page.iter().filter(|c| c.status == ConnectionStatus::Active) {
                report.checked += 1;
                match connections.tokens().keep_alive(&c.id).await {
                    Ok(true) => report.refreshed += 1,
                    Ok(false) => {}
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(connection_id = %c.id, error = %e, "keep-alive refresh failed");
                    }
                }
            }
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
    }
    Ok(report)
}
