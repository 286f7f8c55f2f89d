//! Leases: one holder at a time across every process and Lambda, until it releases or expires.
//!
//! Built on the store's conditional put (absent or expired), never on an in-process lock, so it
//! holds when the hub is scaled out. Versions only grow, so a holder whose lease expired cannot
//! release the lease of whoever took it over.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::records::{Record, Records};
use super::{Expect, Key, StoreError, keys};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub expires_at_ms: i64,
}

impl Record for Lease {
    const KIND: &'static str = "lease";

    fn key(&self) -> Key {
        keys::lease(&self.name)
    }

    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// Proof of holding a lease; give it back with [`Leases::release`].
#[derive(Debug)]
#[must_use = "a lease should be released when the work is done"]
pub struct HeldLease {
    pub lease: Lease,
    version: u64,
}

#[derive(Clone)]
pub struct Leases {
    records: Records,
}

impl Leases {
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// Takes the lease if nobody holds it (or the holder's time ran out); `None` otherwise.
    pub async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<HeldLease>, StoreError> {
        let now_ms = self.records.clock().now_ms();
        let lease = Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            expires_at_ms: now_ms + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2),
        };
        let item = Records::item_of(&lease)?;
        match self.records.store().put(item, Expect::AbsentOrExpired { now_ms }).await {
            Ok(version) => Ok(Some(HeldLease { lease, version })),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease back. A lease that expired and was taken by another is left alone.
    pub async fn release(&self, held: HeldLease) -> Result<(), StoreError> {
        self.records.remove(&held.lease.key(), Expect::Version(held.version)).await.map(|_| ())
    }

    /// Who holds the lease now, if anyone.
    pub async fn holder(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        Ok(self.records.get::<Lease>(&keys::lease(name)).await?.map(|v| v.record))
    }
}
