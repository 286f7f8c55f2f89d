//! Records more than one flow reads: the connection itself (written by the connect flow, read by
//! every other), the Lever webhooks the connect flow registers and the Lever-event receiver
//! verifies, and the purge a disconnect schedules and the candidate sweeper carries out. Their types are the core's or plain data; how they are stored is decided here, so
//! that `core` knows nothing of the store.

use serde::{Deserialize, Serialize};

use crate::core::connection::Connection;
use crate::core::sealed::Sealed;
use crate::store::{IndexKey, Key, Record, keys};

/// Stored by id; while the connection may be worked on, its earliest flow run is its entry in the
/// due index, so the write that changes its status or schedule moves it there or out.
impl Record for Connection {
    const KIND: &'static str = "connection";

    fn key(&self) -> Key {
        keys::connection(&self.id)
    }

    fn due(&self) -> Option<IndexKey> {
        self.scheduled_at_ms().map(|at| keys::due(&self.id, at))
    }
}

/// A webhook the hub registered in the customer's Lever, with its signing token sealed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeverWebhook {
    pub connection_id: String,
    pub event: String,
    pub webhook_id: String,
    pub signature_token: Sealed,
}

impl Record for LeverWebhook {
    const KIND: &'static str = "lever_webhook";
    fn key(&self) -> Key {
        keys::lever_webhook(&self.connection_id, &self.event)
    }
}

pub fn lever_webhook_context(connection_id: &str, event: &str) -> String {
    format!("connection/{connection_id}/lever-webhook/{event}")
}

/// A disconnected connection's personal data (submissions, files, uploads, hires' fields,
/// activity, event bodies) is erased once the profile's retention grace has passed: the partner
/// can still read it back until then. Its imported jobs stay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionPurge {
    pub connection_id: String,
    pub partner_id: String,
    pub purge_at_ms: i64,
    pub created_at_ms: i64,
}

impl Record for ConnectionPurge {
    const KIND: &'static str = "connection_purge";

    fn key(&self) -> Key {
        keys::connection_purge(&self.connection_id)
    }

    fn due(&self) -> Option<IndexKey> {
        Some(keys::connection_purge_due(&self.connection_id, self.purge_at_ms))
    }
}

/// The status poll of a connection (the fallback for webhooks): status changes of submitted
/// candidates, and once a day Lever's deletions. Started when a connection that registers
/// `candidateDeleted` is activated (the connect flow), or by its first submitted opportunity
/// (the candidate writer); carried out by the candidate flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPoll {
    pub connection_id: String,
    pub next_at_ms: i64,
    /// Changes up to here were seen (Lever's `updated_at_start` of the next poll, less an overlap).
    pub polled_up_to_ms: i64,
    /// When Lever's deleted opportunities were last read (daily, with the poll); `None`: never.
    #[serde(default)]
    pub deletions_checked_at_ms: Option<i64>,
}

impl Record for StatusPoll {
    const KIND: &'static str = "candidate_status_poll";

    fn key(&self) -> Key {
        keys::status_poll(&self.connection_id)
    }

    fn due(&self) -> Option<IndexKey> {
        Some(keys::status_poll_due(&self.connection_id, self.next_at_ms))
    }
}
