//! Embedded store: the whole table in memory, made durable by an append-only log file.
//!
//! For local runs (the hub in one process, no AWS account) and fast tests. Every write is
//! appended to the log as one JSON line before it is applied, so a restart replays to the same
//! state; opening compacts the log to one line per live item. An open store holds an exclusive
//! lock ([`DataLock`], `<log>.lock` beside the log), so a second process cannot compact the log
//! under the first. The files are the owner's only (0600), a directory the store creates 0700.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::data_lock::{DataLock, DataLockError, create_private_dir, private_file};
use super::{Cursor, DueQuery, Expect, IndexKey, Item, Key, Page, Query, Store, StoreError, Write, check_transaction};

pub struct EmbeddedStore {
    inner: Mutex<Table>,
    /// Held until the store is dropped; `None` in memory.
    _lock: Option<DataLock>,
    /// The log's path; `None` in memory.
    path: Option<PathBuf>,
}

#[derive(Default)]
struct Table {
    items: BTreeMap<Key, Item>,
    due: BTreeSet<(IndexKey, Key)>,
    log: Option<BufWriter<File>>,
}

/// One line of the log.
#[derive(Serialize, Deserialize)]
enum Entry {
    Put(Item),
    Delete(Key),
}

impl EmbeddedStore {
    /// A store that forgets everything when dropped.
    pub fn in_memory() -> Self {
        Self { inner: Mutex::new(Table::default()), _lock: None, path: None }
    }

    /// Opens (or creates) the store kept in `path`. Refused while another store (in this
    /// process or another) has it open: the error names the directory and the holder's PID.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| io_error(dir, e))?;
        }
        let lock = DataLock::acquire(&lock_path(path)).map_err(|e| match e {
            DataLockError::Held { .. } => StoreError::InUse(e.to_string()),
            DataLockError::Io { .. } => StoreError::Unavailable(e.to_string()),
        })?;
        let mut table = Table::default();
        if path.exists() {
            let file = File::open(path).map_err(|e| io_error(path, e))?;
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| io_error(path, e))?;
                if line.trim().is_empty() {
                    continue;
                }
                // A torn last line (crash mid-append) loses only that write, which was never acknowledged.
                let Ok(entry) = serde_json::from_str::<Vec<Entry>>(&line) else {
                    tracing::warn!(line = n + 1, path = %path.display(), "skipping unreadable store log line");
                    continue;
                };
                for e in entry {
                    table.apply(e);
                }
            }
        }
        table.log = Some(compact(path, &table.items)?);
        Ok(Self { inner: Mutex::new(table), _lock: Some(lock), path: Some(path.to_owned()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves the map consistent (writes are applied whole).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `table.log` → `table.log.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    path.with_file_name(name)
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {e}", path.display()))
}

/// Rewrites the log with one line per item and returns it open for appending.
fn compact(path: &Path, items: &BTreeMap<Key, Item>) -> Result<BufWriter<File>, StoreError> {
    let tmp: PathBuf = path.with_extension("compacting");
    {
        // A leftover from a crash keeps the mode it was created with; start from a new file.
        let _ = std::fs::remove_file(&tmp);
        let file = private_file(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp).map_err(|e| io_error(&tmp, e))?;
        let mut out = BufWriter::new(file);
        for item in items.values() {
            let line = serde_json::to_string(&[Entry::Put(item.clone())]).expect("item serializes");
            writeln!(out, "{line}").map_err(|e| io_error(&tmp, e))?;
        }
        out.flush().map_err(|e| io_error(&tmp, e))?;
        out.get_ref().sync_all().map_err(|e| io_error(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
    let file = OpenOptions::new().append(true).open(path).map_err(|e| io_error(path, e))?;
    Ok(BufWriter::new(file))
}

/// Takes up to `limit` items; a cursor after the last one when more follow.
fn page_of<'a>(items: impl Iterator<Item = &'a Item>, limit: usize, cursor: impl Fn(&Item) -> Cursor) -> Page {
    let mut items = items.peekable();
    let taken: Vec<Item> = items.by_ref().take(limit.max(1)).cloned().collect();
    let more = items.peek().is_some();
    Page { cursor: if more { taken.last().map(&cursor) } else { None }, items: taken }
}

fn satisfies(existing: Option<&Item>, expect: Expect) -> bool {
    match (expect, existing) {
        (Expect::Any, _) => true,
        (Expect::Absent, found) => found.is_none(),
        (Expect::Exists, found) => found.is_some(),
        (Expect::Version(v), found) => found.is_some_and(|i| i.version == v),
        (Expect::AbsentOrExpired { now_ms }, found) => found.is_none_or(|i| !i.is_live(now_ms)),
    }
}

impl Table {
    fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::Put(item) => {
                if let Some(old) = self.items.get(&item.key).and_then(|i| i.due.clone()) {
                    self.due.remove(&(old, item.key.clone()));
                }
                if let Some(due) = item.due.clone() {
                    self.due.insert((due, item.key.clone()));
                }
                self.items.insert(item.key.clone(), item);
            }
            Entry::Delete(key) => {
                if let Some(old) = self.items.remove(&key)
                    && let Some(due) = old.due
                {
                    self.due.remove(&(due, key));
                }
            }
        }
    }

    /// Logs then applies; nothing is applied if the log write fails.
    fn commit(&mut self, entries: Vec<Entry>) -> Result<(), StoreError> {
        if let Some(log) = self.log.as_mut() {
            let line = serde_json::to_string(&entries).expect("entries serialize");
            writeln!(log, "{line}").and_then(|_| log.flush()).map_err(|e| StoreError::Unavailable(format!("store log: {e}")))?;
        }
        for e in entries {
            self.apply(e);
        }
        Ok(())
    }

    fn next_version(&self, key: &Key) -> u64 {
        self.items.get(key).map_or(1, |i| i.version + 1)
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.lock().items.get(key).cloned())
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let table = self.lock();
        Ok(keys.iter().map(|k| table.items.get(k).cloned()).collect())
    }

    async fn put(&self, mut item: Item, expect: Expect) -> Result<u64, StoreError> {
        let mut table = self.lock();
        if !satisfies(table.items.get(&item.key), expect) {
            return Err(StoreError::ConditionFailed);
        }
        item.version = table.next_version(&item.key);
        let version = item.version;
        table.commit(vec![Entry::Put(item)])?;
        Ok(version)
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError> {
        let mut table = self.lock();
        let old = table.items.get(key).cloned();
        if !satisfies(old.as_ref(), expect) {
            return Err(StoreError::ConditionFailed);
        }
        if old.is_some() {
            table.commit(vec![Entry::Delete(key.clone())])?;
        }
        Ok(old)
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        q.check_cursor()?;
        let table = self.lock();
        let prefix = q.sk_prefix.as_deref().unwrap_or("");
        let in_query = |key: &Key| key.pk == q.pk && key.sk.starts_with(prefix);
        // One-sided ranges cannot be inverted (`BTreeMap::range` panics on start > end): the
        // walk starts at the cursor (or the prefix) and stops at the first key outside the query.
        let ordered: Box<dyn Iterator<Item = &Item>> = if q.descending {
            let upper = match &q.cursor {
                Some(c) => Bound::Excluded(c.key.clone()),
                None => Bound::Included(Key::new(q.pk.clone(), format!("{prefix}{}", char::MAX))),
            };
            Box::new(table.items.range((Bound::Unbounded, upper)).rev().take_while(|(k, _)| in_query(k)).map(|(_, i)| i))
        } else {
            let lower = match &q.cursor {
                Some(c) => Bound::Excluded(c.key.clone()),
                None => Bound::Included(Key::new(q.pk.clone(), prefix)),
            };
            Box::new(table.items.range((lower, Bound::Unbounded)).take_while(|(k, _)| in_query(k)).map(|(_, i)| i))
        };
        Ok(page_of(ordered, q.limit, |i| Cursor { key: i.key.clone(), due: None }))
    }

    async fn query_due(&self, q: &DueQuery) -> Result<Page, StoreError> {
        q.check_cursor()?;
        let table = self.lock();
        let lower = match &q.cursor {
            Some(Cursor { key, due: Some(due) }) => Bound::Excluded((due.clone(), key.clone())),
            _ => Bound::Included((IndexKey { partition: q.partition.clone(), sort: String::new() }, Key::new("", ""))),
        };
        let due = table
            .due
            .range((lower, Bound::Unbounded))
            .take_while(|(d, _)| d.partition == q.partition && d.sort <= q.up_to)
            .filter_map(|(_, key)| table.items.get(key));
        Ok(page_of(due, q.limit, |i| Cursor { key: i.key.clone(), due: i.due.clone() }))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        check_transaction(&writes)?;
        let mut table = self.lock();
        for (index, w) in writes.iter().enumerate() {
            let (key, expect) = match w {
                Write::Put { item, expect } => (&item.key, *expect),
                Write::Delete { key, expect } | Write::Check { key, expect } => (key, *expect),
            };
            if !satisfies(table.items.get(key), expect) {
                return Err(StoreError::TransactionConditionFailed { index });
            }
        }
        let mut entries = Vec::with_capacity(writes.len());
        for w in writes {
            match w {
                Write::Put { mut item, .. } => {
                    item.version = table.next_version(&item.key);
                    entries.push(Entry::Put(item));
                }
                Write::Delete { key, .. } => entries.push(Entry::Delete(key)),
                Write::Check { .. } => {}
            }
        }
        table.commit(entries)
    }

    /// One log line for all of them, as a transaction is.
    async fn put_new(&self, items: Vec<Item>) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut table = self.lock();
        let mut entries = Vec::with_capacity(items.len());
        for mut item in items {
            item.version = table.next_version(&item.key);
            entries.push(Entry::Put(item));
        }
        table.commit(entries)
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<usize, StoreError> {
        let expired: Vec<Key> = self.lock().items.values().filter(|i| !i.is_live(now_ms)).map(|i| i.key.clone()).collect();
        if expired.is_empty() {
            return Ok(0);
        }
        let n = expired.len();
        self.lock().commit(expired.into_iter().map(Entry::Delete).collect())?;
        self.compact().await?;
        Ok(n)
    }

    async fn compact(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut table = self.lock();
        if let Some(log) = table.log.as_mut() {
            log.flush().map_err(|e| io_error(path, e))?;
        }
        // The old log (every value ever written) is replaced whole by one line per live item.
        let rewritten = compact(path, &table.items)?;
        table.log = Some(rewritten);
        Ok(())
    }
}
