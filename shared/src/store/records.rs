//! Typed records on top of any store adapter: serialisation, kind checks, expiry and the usual
//! conditional operations. Written once here so adapters stay thin.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cursor, DueQuery, Expect, IndexKey, Item, Key, Query, Store, StoreError, Write};
use crate::clock::Clock;

/// A record type kept in the table.
pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    /// Stored with the item; a typed read of another kind is refused.
    const KIND: &'static str;

    fn key(&self) -> Key;

    /// When the record stops existing (epoch ms); `None` = forever.
    fn expires_at_ms(&self) -> Option<i64> {
        None
    }

    /// Entry in the due index, for records a scheduler must find by time.
    fn due(&self) -> Option<IndexKey> {
        None
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Versioned<T> {
    pub record: T,
    pub version: u64,
}

/// Typed access to the store. Cheap to clone.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Records {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn item_of<T: Record>(record: &T) -> Result<Item, StoreError> {
        let body = serde_json::to_value(record).map_err(|e| StoreError::Invalid(format!("{}: {e}", T::KIND)))?;
        if !body.is_object() {
            return Err(StoreError::Invalid(format!("{} must serialize to an object", T::KIND)));
        }
        Ok(Item { key: record.key(), kind: T::KIND.to_owned(), version: 0, expires_at_ms: record.expires_at_ms(), due: record.due(), body })
    }

    fn read<T: Record>(&self, item: Item) -> Result<Option<Versioned<T>>, StoreError> {
        if !item.is_live(self.clock.now_ms()) {
            return Ok(None);
        }
        let name = || format!("{}/{}", item.key.pk, item.key.sk);
        if item.kind != T::KIND {
            return Err(StoreError::Corrupt(name(), format!("is a {}, not a {}", item.kind, T::KIND)));
        }
        let record = serde_json::from_value(item.body.clone()).map_err(|e| StoreError::Corrupt(name(), e.to_string()))?;
        Ok(Some(Versioned { record, version: item.version }))
    }

    pub async fn get<T: Record>(&self, key: &Key) -> Result<Option<Versioned<T>>, StoreError> {
        match self.store.get(key).await? {
            Some(item) => self.read(item),
            None => Ok(None),
        }
    }

    /// Like [`Records::get`], but an expired record is handed back too, marked `false`.
    pub async fn get_with_liveness<T: Record>(&self, key: &Key) -> Result<Option<(Versioned<T>, bool)>, StoreError> {
        let Some(mut item) = self.store.get(key).await? else { return Ok(None) };
        let live = item.is_live(self.clock.now_ms());
        // Read as live so the kind and body are checked the same way.
        item.expires_at_ms = None;
        Ok(self.read::<T>(item)?.map(|v| (v, live)))
    }

    /// [`Records::get`] of many keys in few store calls; the answer is in the order of `keys`.
    pub async fn get_many<T: Record>(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<T>>>, StoreError> {
        // Nothing to read is no store call (a page of deleted postings is often empty).
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let items = self.store.get_many(keys).await?;
        items.into_iter().map(|item| item.map_or(Ok(None), |i| self.read(i))).collect()
    }

    /// Create-if-absent. An expired record under the same key counts as absent.
    pub async fn create<T: Record>(&self, record: &T) -> Result<u64, StoreError> {
        let expect = Expect::AbsentOrExpired { now_ms: self.clock.now_ms() };
        self.store.put(Self::item_of(record)?, expect).await
    }

    /// Compare-and-set: succeeds only if the stored version is still `version`.
    pub async fn replace<T: Record>(&self, record: &T, version: u64) -> Result<u64, StoreError> {
        self.store.put(Self::item_of(record)?, Expect::Version(version)).await
    }

    /// Unconditional write, for records with a single writer (e.g. a job under its sync lease).
    pub async fn put<T: Record>(&self, record: &T) -> Result<u64, StoreError> {
        self.store.put(Self::item_of(record)?, Expect::Any).await
    }

    /// Read-modify-write with compare-and-set, retried on lost races. `change` returns `false`
    /// to leave the record as it is. Returns the record as stored, or `None` if there is none.
    pub async fn update<T: Record>(&self, key: &Key, change: impl FnMut(&mut T) -> bool + Send) -> Result<Option<Versioned<T>>, StoreError> {
        self.update_read(key, None, change).await
    }

    /// [`Records::update`] from a record the caller has just read strongly consistently (a due
    /// index page): the first attempt costs no read; a lost race reads again.
    pub async fn update_from<T: Record>(
        &self,
        read: Versioned<T>,
        change: impl FnMut(&mut T) -> bool + Send,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let key = read.record.key();
        self.update_read(&key, Some(read), change).await
    }

    async fn update_read<T: Record>(
        &self,
        key: &Key,
        mut read: Option<Versioned<T>>,
        mut change: impl FnMut(&mut T) -> bool + Send,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        for _ in 0..16 {
            let current = match read.take() {
                Some(current) => Some(current),
                None => self.get::<T>(key).await?,
            };
            let Some(mut current) = current else { return Ok(None) };
            if !change(&mut current.record) {
                return Ok(Some(current));
            }
            match self.replace(&current.record, current.version).await {
                Ok(version) => return Ok(Some(Versioned { record: current.record, version })),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Deletes and returns the record if it existed and was live: single-use tokens (states,
    /// codes). Of concurrent takers exactly one gets it.
    pub async fn take<T: Record>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        match self.store.delete(key, Expect::Exists).await {
            Ok(Some(item)) => Ok(self.read::<T>(item)?.map(|v| v.record)),
            Ok(None) | Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Like [`Records::take`], but an expired record is handed back too, marked `false`: the
    /// caller may still say where it came from (e.g. where to send a customer back to).
    pub async fn take_with_liveness<T: Record>(&self, key: &Key) -> Result<Option<(T, bool)>, StoreError> {
        let item = match self.store.delete(key, Expect::Exists).await {
            Ok(Some(item)) => item,
            Ok(None) | Err(StoreError::ConditionFailed) => return Ok(None),
            Err(e) => return Err(e),
        };
        let live = item.is_live(self.clock.now_ms());
        let mut item = item;
        // Read as live so the kind and body are checked the same way.
        item.expires_at_ms = None;
        Ok(self.read::<T>(item)?.map(|v| (v.record, live)))
    }

    /// Conditional delete; `Ok(false)` when the condition did not hold.
    pub async fn remove(&self, key: &Key, expect: Expect) -> Result<bool, StoreError> {
        match self.store.delete(key, expect).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One page of a partition, live records only.
    pub async fn query<T: Record>(&self, query: &Query) -> Result<(Vec<Versioned<T>>, Option<Cursor>), StoreError> {
        let page = self.store.query(query).await?;
        let mut out = Vec::with_capacity(page.items.len());
        for item in page.items {
            out.extend(self.read::<T>(item)?);
        }
        Ok((out, page.cursor))
    }

    /// Every live record under a partition's sort-key prefix, all pages (small, bounded lists:
    /// a partner's keys, webhooks, a connection's Lever webhooks).
    pub async fn query_all<T: Record>(&self, pk: &str, sk_prefix: &str) -> Result<Vec<T>, StoreError> {
        let mut query = Query { pk: pk.to_owned(), sk_prefix: Some(sk_prefix.to_owned()), limit: 100, ..Default::default() };
        let mut out = Vec::new();
        loop {
            let (page, cursor) = self.query::<T>(&query).await?;
            out.extend(page.into_iter().map(|v| v.record));
            match cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// One page of records due at or before `up_to` in one due partition.
    pub async fn due<T: Record>(&self, query: &DueQuery) -> Result<(Vec<Versioned<T>>, Option<Cursor>), StoreError> {
        let page = self.store.query_due(query).await?;
        let mut out = Vec::with_capacity(page.items.len());
        for item in page.items {
            out.extend(self.read::<T>(item)?);
        }
        Ok((out, page.cursor))
    }

    /// Takes the entries due on one partition, one at a time: each is handed to `push` (which
    /// moves its due time forward) and written back by compare-and-set, so of overlapping
    /// sweepers only one takes it; entries another process took meanwhile are skipped. Reads at
    /// most `max_pages` pages; the rest waits for the next sweep.
    pub fn take_due<T: Record, F: FnMut(&mut T) + Send>(&self, query: DueQuery, max_pages: usize, push: F) -> DueTake<'_, T, F> {
        DueTake { records: self, query, pages_left: max_pages, page: Vec::new().into_iter(), exhausted: false, push }
    }

    /// A put for [`Store::transact`].
    pub fn put_write<T: Record>(record: &T, expect: Expect) -> Result<Write, StoreError> {
        Ok(Write::Put { item: Self::item_of(record)?, expect })
    }

    pub async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.store.transact(writes).await
    }

    /// [`Store::put_new`] of puts made for a transaction, their conditions set aside (the
    /// caller has read every key absent and alone may create them).
    pub async fn put_new(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let items = writes
            .into_iter()
            .map(|w| match w {
                Write::Put { item, .. } => Ok(item),
                Write::Delete { key, .. } | Write::Check { key, .. } => {
                    Err(StoreError::Invalid(format!("{}/{}: only puts create items", key.pk, key.sk)))
                }
            })
            .collect::<Result<Vec<Item>, StoreError>>()?;
        if items.is_empty() {
            return Ok(());
        }
        self.store.put_new(items).await
    }
}

/// The entries [`Records::take_due`] takes, read lazily: an entry is taken only when asked for,
/// so a caller that stops part-way (an error) leaves the rest due for the next sweep.
pub struct DueTake<'a, T, F> {
    records: &'a Records,
    query: DueQuery,
    pages_left: usize,
    page: std::vec::IntoIter<Versioned<T>>,
    exhausted: bool,
    push: F,
}

impl<T: Record, F: FnMut(&mut T) + Send> DueTake<'_, T, F> {
    /// The next entry this process took (already pushed forward and stored), or `None`.
    pub async fn next(&mut self) -> Result<Option<T>, StoreError> {
        loop {
            if let Some(v) = self.page.next() {
                let mut record = v.record;
                (self.push)(&mut record);
                match self.records.replace(&record, v.version).await {
                    Ok(_) => return Ok(Some(record)),
                    Err(StoreError::ConditionFailed) => continue,
                    Err(e) => return Err(e),
                }
            }
            if self.exhausted || self.pages_left == 0 {
                return Ok(None);
            }
            let (due, cursor) = self.records.due::<T>(&self.query).await?;
            self.pages_left -= 1;
            self.page = due.into_iter();
            match cursor {
                Some(c) => self.query.cursor = Some(c),
                None => self.exhausted = true,
            }
        }
    }
}
