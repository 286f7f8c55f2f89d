//! Which domain records the table holds, under which keys, with which expiry and due entry.
//! Kept here (not in `core`) so the core stays free of storage concerns.

use super::keys;
use super::records::Record;
use super::{IndexKey, Key};
use crate::core::connection::Connection;
use crate::flows::delivery::{Delivery, EnqueueCheck, PartnerWebhook, StoredEvent};

impl Record for Connection {
    const KIND: &'static str = "connection";

    fn key(&self) -> Key {
        keys::connection(&self.id)
    }

    fn due(&self) -> Option<IndexKey> {
        self.scheduled_at_ms().map(|at| keys::due(&self.id, at))
    }
}

impl Record for PartnerWebhook {
    const KIND: &'static str = "partner_webhook";

    fn key(&self) -> Key {
        keys::partner_webhook(&self.partner_id, &self.id)
    }
}

impl Record for StoredEvent {
    const KIND: &'static str = "outbound_event";

    fn key(&self) -> Key {
        keys::outbound_event(&self.partner_id, &self.id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }
}

impl Record for Delivery {
    const KIND: &'static str = "delivery";

    fn key(&self) -> Key {
        keys::delivery(&self.partner_id, &self.event_id, &self.webhook_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }

    /// Every delivery is listed under its status, so the same write that changes the status
    /// moves it between listings.
    fn due(&self) -> Option<IndexKey> {
        Some(keys::delivery_by_status(&self.partner_id, self.status.as_str(), self.status_since_ms, &self.event_id, &self.webhook_id))
    }
}

impl Record for EnqueueCheck {
    const KIND: &'static str = "enqueue_check";

    fn key(&self) -> Key {
        keys::enqueue_check(&self.partner_id, &self.event_id)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }

    /// In the sweep partitions, by the time after which it counts as left behind.
    fn due(&self) -> Option<IndexKey> {
        Some(keys::sweep_due(&self.partner_id, &self.event_id, self.check_at_ms))
    }
}
