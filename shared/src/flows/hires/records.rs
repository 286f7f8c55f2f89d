//! The hires flow's records: one per hire, and the connection's import position.

use crate::core::hire::record::HireRecord;
use crate::core::hire::window::HiresCheckpoint;
use crate::store::{IndexKey, Key, Record, keys};

impl Record for HireRecord {
    const KIND: &'static str = "hire";

    fn key(&self) -> Key {
        keys::hire(&self.connection_id, &self.opportunity_id)
    }

    /// The connection's list of hires, newest hire first (`GET …/hires`).
    fn due(&self) -> Option<IndexKey> {
        Some(keys::hire_by_time(&self.connection_id, self.hired_at_ms.unwrap_or(self.found_at_ms), &self.opportunity_id))
    }
}

impl Record for HiresCheckpoint {
    const KIND: &'static str = "hires_checkpoint";

    fn key(&self) -> Key {
        keys::checkpoint(&self.connection_id, super::FLOW)
    }
}
