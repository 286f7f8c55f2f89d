//! Store port: tenant state in one DynamoDB-shaped table.
//!
//! The port is deliberately small and untyped (`Item` with a JSON body) so it stays object-safe and
//! each adapter only translates primitives: conditional put, conditional delete, query by
//! partition, query the due index, read many keys at once, and an all-or-nothing transaction. Everything typed (records,
//! expiry, leases) lives once in [`records`] and [`lease`] on top of any adapter.
//! The key layout is in [`keys`] and written down in `docs/store.md`.

pub mod data_lock;
pub mod dynamo;
pub mod embedded;
pub mod keys;
pub mod lease;
pub mod records;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use lease::{Lease, Leases};
pub use records::{Record, Records, Versioned};

/// Primary key of an item: partition and sort key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// An entry in the "due" index (GSI1): records that a scheduler must find by time, without a scan.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexKey {
    pub partition: String,
    pub sort: String,
}

/// One stored item as adapters see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    /// Record kind, e.g. `connection`; lets operators read the table and guards typed reads.
    pub kind: String,
    /// Set by the store: 1 on first write, +1 on every write after. Basis of compare-and-set.
    pub version: u64,
    /// Epoch milliseconds after which the item no longer exists for readers. Adapters also keep
    /// a seconds-resolution copy for DynamoDB TTL, which deletes lazily (up to days later).
    pub expires_at_ms: Option<i64>,
    pub due: Option<IndexKey>,
    /// The record itself; always a JSON object.
    pub body: serde_json::Value,
}

impl Item {
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at_ms.is_none_or(|at| at > now_ms)
    }

    /// Its size as DynamoDB counts it, roughly: the record's JSON, its key and kind, its due
    /// entry and the store's own attributes (version, expiry). For limits and prices, not
    /// exact.
    pub fn approx_bytes(&self) -> usize {
        let body = serde_json::to_vec(&self.body).map_or(0, |b| b.len());
        let due = self.due.as_ref().map_or(0, |d| d.partition.len() + d.sort.len() + 12);
        body + self.key.pk.len() + self.key.sk.len() + self.kind.len() + due + 40
    }
}

/// What a write expects to find; the write fails with [`StoreError::ConditionFailed`] otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No condition.
    Any,
    /// The key must not exist (create-if-absent).
    Absent,
    /// The key must exist (any version).
    Exists,
    /// The key must exist with exactly this version (compare-and-set).
    Version(u64),
    /// The key must not exist, or must have expired at this instant (epoch ms): leases, states.
    AbsentOrExpired { now_ms: i64 },
}

/// One write of a transaction.
#[derive(Clone, Debug)]
pub enum Write {
    Put {
        item: Item,
        expect: Expect,
    },
    Delete {
        key: Key,
        expect: Expect,
    },
    /// Only checks the condition; writes nothing.
    Check {
        key: Key,
        expect: Expect,
    },
}

/// Items of one partition in sort-key order.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub pk: String,
    pub sk_prefix: Option<String>,
    /// Newest first when sort keys start with a timestamp.
    pub descending: bool,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Items of the due index whose sort key is `<= up_to`, oldest first.
#[derive(Clone, Debug, Default)]
pub struct DueQuery {
    pub partition: String,
    pub up_to: String,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub cursor: Option<Cursor>,
}

/// Where a page ended: the last key read (and its index entry for index queries). Callers
/// outside the hub never see one in the clear: the partner API seals it (`api::cursor`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<IndexKey>,
}

impl Query {
    /// Whether `cursor` can continue this query: a key of the same partition under the prefix.
    /// Adapters refuse any other cursor ([`StoreError::BadCursor`]) before reading.
    pub fn admits(&self, cursor: &Cursor) -> bool {
        cursor.due.is_none() && cursor.key.pk == self.pk && cursor.key.sk.starts_with(self.sk_prefix.as_deref().unwrap_or(""))
    }

    pub(crate) fn check_cursor(&self) -> Result<(), StoreError> {
        match &self.cursor {
            Some(c) if !self.admits(c) => Err(StoreError::BadCursor),
            _ => Ok(()),
        }
    }
}

impl DueQuery {
    /// Whether `cursor` can continue this query: an index entry of the same partition, within
    /// the upper bound.
    pub fn admits(&self, cursor: &Cursor) -> bool {
        cursor.due.as_ref().is_some_and(|d| d.partition == self.partition && d.sort <= self.up_to)
    }

    pub(crate) fn check_cursor(&self) -> Result<(), StoreError> {
        match &self.cursor {
            Some(c) if !self.admits(c) => Err(StoreError::BadCursor),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction lost a race with another writer; safe to retry from a fresh read.
    #[error("transaction conflict")]
    Conflict,
    /// Transaction cancelled because of the write at this index.
    #[error("transaction write {index} failed its condition")]
    TransactionConditionFailed { index: usize },
    /// A cursor that does not continue this query (another partition, prefix or index).
    #[error("the cursor does not belong to this query")]
    BadCursor,
    #[error("stored item {0} is not readable: {1}")]
    Corrupt(String, String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Another process (or another store in this one) has the embedded store open.
    #[error("{0}")]
    InUse(String),
    #[error("invalid store request: {0}")]
    Invalid(String),
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Consistent reads of many keys in as few calls as the adapter can make (DynamoDB:
    /// `BatchGetItem`, 100 keys a call); the answer is in the order of `keys`. The default reads
    /// one key at a time, for adapters and wrappers with nothing better.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// Writes `item` (its `version` is ignored) and returns the version it now has.
    async fn put(&self, item: Item, expect: Expect) -> Result<u64, StoreError>;

    /// Deletes the key and returns the item that was there, if any.
    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    async fn query_due(&self, query: &DueQuery) -> Result<Page, StoreError>;

    /// All writes or none. At most 100 writes, each on a distinct key.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Creates items without conditions, in as few calls as the adapter can make (DynamoDB:
    /// `BatchWriteItem`, 25 items a call, at half a transaction's write units). Only for a
    /// caller that has just read every key absent and alone may create them (a job sync under
    /// its lease): an item already there is overwritten. Not atomic: after an error, any of the
    /// items may be written. Each gets the version a create gives (1 on DynamoDB, where an
    /// absent item has no version to add to). The default puts them one by one.
    async fn put_new(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for item in items {
            self.put(item, Expect::Any).await?;
        }
        Ok(())
    }

    /// Makes deletes and overwrites final in the adapter's own files: after it, no earlier
    /// value of any item is left there (an erasure must leave the disk, not only the table).
    /// The embedded store rewrites its append-only log; DynamoDB keeps no history to drop.
    async fn compact(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Deletes what expired by `now_ms` from the adapter's own files, for adapters that have
    /// no deleter of their own; returns how many items went. DynamoDB's TTL does this (lazily;
    /// readers already skip expired items), so its adapter does nothing.
    async fn purge_expired(&self, now_ms: i64) -> Result<usize, StoreError> {
        let _ = now_ms;
        Ok(0)
    }
}

pub(crate) fn check_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > 100 {
        return Err(StoreError::Invalid(format!("a transaction holds 1 to 100 writes, not {}", writes.len())));
    }
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        let key = match w {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } => key,
        };
        if !seen.insert(key) {
            return Err(StoreError::Invalid(format!("key {}/{} written twice in one transaction", key.pk, key.sk)));
        }
    }
    Ok(())
}
