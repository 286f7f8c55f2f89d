//! Which domain records the table holds, under which keys, with which expiry and due entry.
//! Kept here (not in `core`) so the core stays free of storage concerns.

use super::keys;
use super::records::Record;
use super::{IndexKey, Key};
use crate::core::connection::Connection;

impl Record for Connection {
    const KIND: &'static str = "connection";

    fn key(&self) -> Key {
        keys::connection(&self.id)
    }

    fn due(&self) -> Option<IndexKey> {
        self.scheduled_at_ms().map(|at| keys::due(&self.id, at))
    }
}
