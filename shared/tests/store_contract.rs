//! The store contract: the same cases against the embedded store and Amazon DynamoDB Local.

use shared::testing as support;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared::clock::{Clock, ManualClock};
use shared::core::connection::{Connection, ConnectionStatus};
use shared::core::flow_runs::ScheduledFlow;
use shared::store::embedded::EmbeddedStore;
use shared::store::{DueQuery, Expect, Key, Leases, Query, Record, Records, Store, StoreError, keys};
use tokio::sync::Barrier;

const T0: i64 = 1_764_000_000_000;

/// A record exercising what the hub stores: numbers beyond f64's exact range need not survive,
/// but epoch-ms integers, nested objects, nulls and unicode must.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Note {
    partition: String,
    id: String,
    count: i64,
    at_ms: i64,
    text: Option<String>,
    tags: Vec<String>,
    nested: serde_json::Value,
    expires_at_ms: Option<i64>,
}

impl Record for Note {
    const KIND: &'static str = "note";
    fn key(&self) -> Key {
        Key::new(self.partition.clone(), self.id.clone())
    }
    fn expires_at_ms(&self) -> Option<i64> {
        self.expires_at_ms
    }
}

fn note(partition: &str, id: &str) -> Note {
    Note {
        partition: partition.into(),
        id: id.into(),
        count: 0,
        at_ms: T0,
        text: Some("Grüße, 履歴書 ✓".into()),
        tags: vec!["a".into(), "b".into()],
        nested: serde_json::json!({"deep": {"n": 1_718_035_200_123_i64, "f": 1.5, "none": null, "list": [1, "x", true]}}),
        expires_at_ms: None,
    }
}

struct Fixture {
    records: Records,
    clock: Arc<ManualClock>,
}

impl Fixture {
    fn new(store: Arc<dyn Store>) -> Self {
        let clock = Arc::new(ManualClock::at_ms(T0));
        Self { records: Records::new(store, clock.clone()), clock }
    }
}

mod cases {
    use super::*;

    pub async fn create_if_absent(f: Fixture) {
        let n = note("P#1", "N#1");
        assert_eq!(f.records.create(&n).await.unwrap(), 1);
        assert!(matches!(f.records.create(&n).await, Err(StoreError::ConditionFailed)));
        let got = f.records.get::<Note>(&n.key()).await.unwrap().unwrap();
        assert_eq!((got.record, got.version), (n, 1));
    }

    pub async fn values_round_trip_exactly(f: Fixture) {
        let mut n = note("P#rt", "N#rt");
        n.count = i64::from(i32::MAX) * 1000;
        n.text = None;
        f.records.create(&n).await.unwrap();
        assert_eq!(f.records.get::<Note>(&n.key()).await.unwrap().unwrap().record, n);
    }

    pub async fn compare_and_set(f: Fixture) {
        let mut n = note("P#1", "N#cas");
        let v1 = f.records.create(&n).await.unwrap();
        n.count = 1;
        let v2 = f.records.replace(&n, v1).await.unwrap();
        assert_eq!(v2, v1 + 1);
        n.count = 2;
        assert!(matches!(f.records.replace(&n, v1).await, Err(StoreError::ConditionFailed)));
        assert_eq!(f.records.get::<Note>(&n.key()).await.unwrap().unwrap().record.count, 1);
        let absent = note("P#1", "N#never");
        assert!(matches!(f.records.replace(&absent, 1).await, Err(StoreError::ConditionFailed)));
        assert!(f.records.get::<Note>(&absent.key()).await.unwrap().is_none());
        // An unconditional put still moves the version on.
        assert_eq!(f.records.put(&n).await.unwrap(), v2 + 1);
    }

    pub async fn conditional_delete(f: Fixture) {
        let n = note("P#1", "N#del");
        let v = f.records.create(&n).await.unwrap();
        assert!(!f.records.remove(&n.key(), Expect::Version(v + 1)).await.unwrap());
        assert!(f.records.get::<Note>(&n.key()).await.unwrap().is_some());
        assert!(f.records.remove(&n.key(), Expect::Version(v)).await.unwrap());
        assert!(f.records.get::<Note>(&n.key()).await.unwrap().is_none());
        assert!(!f.records.remove(&n.key(), Expect::Exists).await.unwrap());
    }

    pub async fn reading_another_kind_is_refused(f: Fixture) {
        let n = note("CONN#x", "CONN");
        f.records.create(&n).await.unwrap();
        let err = f.records.get::<Connection>(&keys::connection("x")).await.unwrap_err();
        assert!(err.to_string().contains("is a note, not a connection"), "{err}");
    }

    pub async fn expired_records_are_gone_for_readers(f: Fixture) {
        let mut n = note("P#1", "N#exp");
        n.expires_at_ms = Some(T0 + 1_000);
        f.records.create(&n).await.unwrap();
        assert!(f.records.get::<Note>(&n.key()).await.unwrap().is_some());
        f.clock.advance_ms(1_000);
        assert!(f.records.get::<Note>(&n.key()).await.unwrap().is_none());
        assert!(f.records.take::<Note>(&n.key()).await.unwrap().is_none(), "an expired single-use value is not usable");
        // Create-if-absent treats an expired record as absent (DynamoDB TTL deletes lazily).
        n.expires_at_ms = Some(T0 + 60_000);
        f.records.create(&n).await.unwrap();
        assert!(f.records.get::<Note>(&n.key()).await.unwrap().is_some());
    }

    pub async fn single_use_take_race(f: Fixture) {
        let n = note("OAUTHSTATE#s", "STATE");
        f.records.create(&n).await.unwrap();
        let barrier = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (records, barrier, key) = (f.records.clone(), barrier.clone(), n.key());
                tokio::spawn(async move {
                    barrier.wait().await;
                    records.take::<Note>(&key).await.unwrap()
                })
            })
            .collect();
        let winners = futures::future::join_all(tasks).await.into_iter().filter(|r| r.as_ref().unwrap().is_some()).count();
        assert_eq!(winners, 1);
    }

    pub async fn compare_and_set_race(f: Fixture) {
        let n = note("P#race", "N#race");
        let v = f.records.create(&n).await.unwrap();
        let barrier = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (records, barrier, mut mine) = (f.records.clone(), barrier.clone(), n.clone());
                tokio::spawn(async move {
                    mine.count = i;
                    barrier.wait().await;
                    records.replace(&mine, v).await
                })
            })
            .collect();
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let lost = results.iter().filter(|r| matches!(r, Err(StoreError::ConditionFailed))).count();
        assert_eq!((wins, lost), (1, 19), "{results:?}");
        let stored = f.records.get::<Note>(&n.key()).await.unwrap().unwrap();
        assert_eq!(stored.version, v + 1);
    }

    pub async fn update_loses_no_increment(f: Fixture) {
        let n = note("P#inc", "N#inc");
        f.records.create(&n).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (records, key) = (f.records.clone(), n.key());
                tokio::spawn(async move {
                    records
                        .update::<Note>(&key, |n| {
                            n.count += 1;
                            true
                        })
                        .await
                })
            })
            .collect();
        for t in futures::future::join_all(tasks).await {
            t.unwrap().unwrap().unwrap();
        }
        assert_eq!(f.records.get::<Note>(&n.key()).await.unwrap().unwrap().record.count, 20);
    }

    pub async fn lease_race_and_expiry(f: Fixture) {
        let leases = Leases::new(f.records.clone());
        let barrier = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (leases, barrier) = (leases.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    leases.acquire("refresh/conn-1", &format!("worker-{i}"), Duration::from_secs(30)).await.unwrap()
                })
            })
            .collect();
        let mut held: Vec<_> = futures::future::join_all(tasks).await.into_iter().filter_map(Result::unwrap).collect();
        assert_eq!(held.len(), 1, "exactly one holder");
        let first = held.pop().unwrap();
        let holder = leases.holder("refresh/conn-1").await.unwrap().unwrap();
        assert_eq!(holder.holder, first.lease.holder);

        // Until expiry nobody else gets it; then the next taker does.
        f.clock.advance_ms(29_999);
        assert!(leases.acquire("refresh/conn-1", "late", Duration::from_secs(30)).await.unwrap().is_none());
        f.clock.advance_ms(1);
        let second = leases.acquire("refresh/conn-1", "next", Duration::from_secs(30)).await.unwrap().unwrap();

        // The first holder's late release must not free the second holder's lease.
        leases.release(first).await.unwrap();
        assert_eq!(leases.holder("refresh/conn-1").await.unwrap().unwrap().holder, "next");
        leases.release(second).await.unwrap();
        assert!(leases.holder("refresh/conn-1").await.unwrap().is_none());
        assert!(leases.acquire("refresh/conn-1", "again", Duration::from_secs(1)).await.unwrap().is_some());
    }

    pub async fn query_pages_in_order_within_prefix(f: Fixture) {
        for i in 0..25 {
            let mut n = note("CONN#q", &format!("ACT#{:013}#{i}", T0 + i));
            n.count = i;
            f.records.create(&n).await.unwrap();
        }
        f.records.create(&note("CONN#q", "JOB#1")).await.unwrap();
        f.records.create(&note("CONN#other", "ACT#0")).await.unwrap();

        for descending in [false, true] {
            let mut seen = vec![];
            let mut cursor = None;
            let mut pages = 0;
            loop {
                let q = Query { pk: "CONN#q".into(), sk_prefix: Some("ACT#".into()), descending, limit: 10, cursor };
                let (items, next) = f.records.query::<Note>(&q).await.unwrap();
                pages += 1;
                seen.extend(items.into_iter().map(|v| v.record.count));
                cursor = next;
                if cursor.is_none() {
                    break;
                }
                assert!(pages < 10, "pagination must end");
            }
            let mut expected: Vec<i64> = (0..25).collect();
            if descending {
                expected.reverse();
            }
            assert_eq!(seen, expected, "descending={descending}");
            assert_eq!(pages, 3);
        }
        // A full last page has no cursor.
        let q = Query { pk: "CONN#q".into(), sk_prefix: Some("JOB#".into()), limit: 1, ..Default::default() };
        let (items, next) = f.records.query::<Note>(&q).await.unwrap();
        assert_eq!((items.len(), next.is_none()), (1, true));
    }

    pub async fn due_index_finds_active_connections_by_time(f: Fixture) {
        let mut ids = vec![];
        for i in 0..12 {
            let mut c = Connection::new(format!("conn-{i:02}"), "partner-a", T0);
            c.status = if i == 5 { ConnectionStatus::NeedsReconnect } else { ConnectionStatus::Active };
            c.schedules = [(ScheduledFlow::Jobs, T0 + i * 1_000)].into();
            f.records.create(&c).await.unwrap();
            ids.push(c.id);
        }
        // Rescheduling moves the entry: conn-00 is no longer due.
        f.records
            .update::<Connection>(&keys::connection("conn-00"), |c| {
                c.schedules = [(ScheduledFlow::Jobs, T0 + 3_600_000)].into();
                true
            })
            .await
            .unwrap();

        let now = T0 + 8_000;
        let mut due = vec![];
        for shard in 0..keys::DUE_SHARDS {
            let mut cursor = None;
            loop {
                let q = DueQuery { partition: keys::due_partition(shard), up_to: keys::due_up_to(now), limit: 2, cursor };
                let (items, next) = f.records.due::<Connection>(&q).await.unwrap();
                let times: Vec<_> = items.iter().map(|c| c.record.scheduled_at_ms().unwrap()).collect();
                assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
                due.extend(items.into_iter().map(|v| v.record.id));
                cursor = next;
                if cursor.is_none() {
                    break;
                }
            }
        }
        due.sort();
        let expected: Vec<String> = (1..=8).filter(|i| *i != 5).map(|i| format!("conn-{i:02}")).collect();
        assert_eq!(due, expected);
    }

    /// A cursor that does not continue the query — another partition, outside the prefix, past
    /// its end, from the index, or from another index partition — is a typed error, not a panic
    /// (embedded) or a ValidationException (DynamoDB).
    pub async fn cursors_outside_the_query_are_refused(f: Fixture) {
        for i in 0..3 {
            f.records.create(&note("CONN#cur", &format!("ACT#{i}"))).await.unwrap();
        }
        f.records.create(&note("CONN#cur", "JOB#1")).await.unwrap();
        let mut c = Connection::new("conn-cur", "partner-a", T0);
        c.status = ConnectionStatus::Active;
        c.schedules = [(ScheduledFlow::Jobs, T0)].into();
        f.records.create(&c).await.unwrap();
        let index_entry = keys::due("conn-cur", T0);

        let cursor = |pk: &str, sk: &str| shared::store::Cursor { key: Key::new(pk, sk), due: None };
        let foreign = [
            cursor("CONN#other", "ACT#1"),
            cursor("CONN#cur", "JOB#1"),
            cursor("CONN#cur", "ACT"),
            cursor("CONN#cur", "ZZZ"),
            cursor("CONN#cur", ""),
            shared::store::Cursor { key: Key::new("CONN#cur", "ACT#1"), due: Some(index_entry.clone()) },
        ];
        for descending in [false, true] {
            for c in &foreign {
                let q = Query { pk: "CONN#cur".into(), sk_prefix: Some("ACT#".into()), descending, limit: 2, cursor: Some(c.clone()) };
                let got = f.records.query::<Note>(&q).await;
                assert!(matches!(got, Err(StoreError::BadCursor)), "descending={descending} {c:?}: {got:?}");
            }
            // Cursors at the edges of the range are fine: they continue (possibly to nothing).
            for sk in ["ACT#".to_owned(), format!("ACT#{}x", char::MAX)] {
                let edge =
                    Query { pk: "CONN#cur".into(), sk_prefix: Some("ACT#".into()), descending, limit: 2, cursor: Some(cursor("CONN#cur", &sk)) };
                let got = f.records.query::<Note>(&edge).await;
                assert!(got.is_ok(), "descending={descending} {sk:?}: {got:?}");
            }
        }

        let due = |cursor| DueQuery { partition: index_entry.partition.clone(), up_to: keys::due_up_to(T0), limit: 2, cursor };
        let other_shard = (0..keys::DUE_SHARDS).map(keys::due_partition).find(|p| *p != index_entry.partition).unwrap();
        let foreign_due = [
            cursor(&keys::connection("conn-cur").pk, "CONN"),
            shared::store::Cursor {
                key: keys::connection("conn-cur"),
                due: Some(shared::store::IndexKey { partition: other_shard, sort: index_entry.sort.clone() }),
            },
            shared::store::Cursor {
                key: keys::connection("conn-cur"),
                due: Some(shared::store::IndexKey { partition: index_entry.partition.clone(), sort: keys::due_up_to(T0 + 1) }),
            },
        ];
        for c in foreign_due {
            let got = f.records.due::<Connection>(&due(Some(c.clone()))).await;
            assert!(matches!(got, Err(StoreError::BadCursor)), "{c:?}: {got:?}");
        }
        let own = shared::store::Cursor { key: keys::connection("conn-cur"), due: Some(index_entry.clone()) };
        assert!(f.records.due::<Connection>(&due(Some(own))).await.unwrap().0.is_empty(), "continues after the last entry");
    }

    pub async fn many_keys_read_at_once_in_the_callers_order(f: Fixture) {
        // Over one call's 100 keys, with gaps, a key asked twice and an expired record.
        let ids: Vec<String> = (0..150).map(|i| format!("N#{i:03}")).collect();
        for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
            let mut n = note("P#many", id);
            n.count = i as i64;
            f.records.create(&n).await.unwrap();
        }
        let mut expiring = note("P#many", "N#expiring");
        expiring.expires_at_ms = Some(T0 + 1_000);
        f.records.create(&expiring).await.unwrap();
        f.clock.advance_ms(2_000);
        let mut asked: Vec<Key> = ids.iter().rev().map(|id| Key::new("P#many", id.clone())).collect();
        asked.push(Key::new("P#many", "N#149"));
        asked.push(expiring.key());
        let read = f.records.get_many::<Note>(&asked).await.unwrap();
        assert_eq!(read.len(), asked.len());
        for (key, got) in asked.iter().zip(&read) {
            let i: usize = key.sk.trim_start_matches("N#").parse().unwrap_or(0);
            match got {
                Some(v) => {
                    assert_eq!(v.record.key(), *key);
                    assert_eq!((v.record.count, v.version), (i as i64, 1));
                }
                None => assert!(key.sk == "N#expiring" || i % 3 == 0, "{} was written", key.sk),
            }
        }
        assert_eq!(read.iter().flatten().count(), 100 + 1, "100 live records, one of them asked twice");
        assert!(f.records.get_many::<Note>(&[]).await.unwrap().is_empty());
    }

    /// More items than one DynamoDB batch takes, a key given twice (the last wins), an expiring
    /// item and one with a due entry: each is stored whole, as a create would store it.
    pub async fn new_items_are_created_in_batches(f: Fixture) {
        let mut writes = vec![];
        for i in 0..60 {
            let mut n = note("P#new", &format!("N#{i:02}"));
            n.count = i;
            writes.push(Records::put_write(&n, Expect::Absent).unwrap());
        }
        let mut twice = note("P#new", "N#07");
        twice.count = 700;
        writes.push(Records::put_write(&twice, Expect::Absent).unwrap());
        let mut expiring = note("P#new", "N#expiring");
        expiring.expires_at_ms = Some(T0 + 1_000);
        writes.push(Records::put_write(&expiring, Expect::Absent).unwrap());
        let mut c = Connection::new("conn-new", "partner-a", T0);
        c.status = ConnectionStatus::Active;
        c.schedules = [(ScheduledFlow::Jobs, T0 + 500)].into();
        writes.push(Records::put_write(&c, Expect::Absent).unwrap());
        f.records.put_new(writes).await.unwrap();

        let keys: Vec<Key> = (0..60).map(|i| Key::new("P#new", format!("N#{i:02}"))).collect();
        let read = f.records.get_many::<Note>(&keys).await.unwrap();
        for (i, got) in read.iter().enumerate() {
            let got = got.as_ref().unwrap_or_else(|| panic!("N#{i:02} was written"));
            assert_eq!((got.record.count, got.version), (if i == 7 { 700 } else { i as i64 }, 1), "N#{i:02}");
            assert_eq!(got.record.text, note("P#new", "x").text, "the record whole");
        }
        assert!(f.records.get::<Note>(&expiring.key()).await.unwrap().is_some());
        let q = DueQuery { partition: keys::due("conn-new", T0).partition, up_to: keys::due_up_to(T0 + 1_000), limit: 10, cursor: None };
        let (due, _) = f.records.due::<Connection>(&q).await.unwrap();
        assert_eq!(due.iter().map(|c| c.record.id.as_str()).collect::<Vec<_>>(), ["conn-new"], "in the due index");
        // Created like any other item: a compare-and-set from version 1 works, a create fails.
        let stored = f.records.get::<Note>(&keys[3]).await.unwrap().unwrap();
        assert_eq!(f.records.replace(&stored.record, 1).await.unwrap(), 2);
        assert!(matches!(f.records.create(&stored.record).await, Err(StoreError::ConditionFailed)));
        f.clock.advance_ms(2_000);
        assert!(f.records.get::<Note>(&expiring.key()).await.unwrap().is_none(), "expires as created");

        let delete = vec![shared::store::Write::Delete { key: keys[0].clone(), expect: Expect::Any }];
        assert!(matches!(f.records.put_new(delete).await, Err(StoreError::Invalid(_))), "only puts");
        f.records.put_new(vec![]).await.unwrap();
    }

    pub async fn transactions_are_all_or_nothing(f: Fixture) {
        let existing = note("P#tx", "N#existing");
        f.records.create(&existing).await.unwrap();
        let fresh = note("P#tx", "N#fresh");
        let writes = vec![Records::put_write(&fresh, Expect::Absent).unwrap(), Records::put_write(&existing, Expect::Absent).unwrap()];
        match f.records.transact(writes).await {
            Err(StoreError::TransactionConditionFailed { index }) => assert_eq!(index, 1),
            other => panic!("expected the second write to fail, got {other:?}"),
        }
        assert!(f.records.get::<Note>(&fresh.key()).await.unwrap().is_none(), "nothing written");

        let writes = vec![
            Records::put_write(&fresh, Expect::Absent).unwrap(),
            shared::store::Write::Check { key: existing.key(), expect: Expect::Version(1) },
            shared::store::Write::Delete { key: Key::new("P#tx", "N#missing"), expect: Expect::Any },
        ];
        f.records.transact(writes).await.unwrap();
        assert_eq!(f.records.get::<Note>(&fresh.key()).await.unwrap().unwrap().version, 1);

        let twice = vec![Records::put_write(&fresh, Expect::Any).unwrap(), Records::put_write(&fresh, Expect::Any).unwrap()];
        assert!(matches!(f.records.transact(twice).await, Err(StoreError::Invalid(_))));
    }
}

async fn embedded() -> Option<Fixture> {
    Some(Fixture::new(Arc::new(EmbeddedStore::in_memory())))
}

async fn dynamodb() -> Option<Fixture> {
    Some(Fixture::new(support::dynamo_store().await?))
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case(super::embedded().await.unwrap()).await
                }
            )*
        }
        mod dynamodb_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if let Some(f) = super::dynamodb().await {
                        super::cases::$case(f).await
                    }
                }
            )*
        }
    };
}

contract!(
    create_if_absent,
    values_round_trip_exactly,
    compare_and_set,
    conditional_delete,
    reading_another_kind_is_refused,
    expired_records_are_gone_for_readers,
    single_use_take_race,
    compare_and_set_race,
    update_loses_no_increment,
    lease_race_and_expiry,
    query_pages_in_order_within_prefix,
    due_index_finds_active_connections_by_time,
    transactions_are_all_or_nothing,
    new_items_are_created_in_batches,
    many_keys_read_at_once_in_the_callers_order,
    cursors_outside_the_query_are_refused,
);

#[tokio::test]
async fn embedded_store_survives_a_restart() {
    let path = std::env::temp_dir().join(format!("hub-store-{}/table.log", uuid::Uuid::new_v4()));
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_ms(T0));
    let mut kept = note("P#1", "N#kept");
    {
        let records = Records::new(Arc::new(EmbeddedStore::open(&path).unwrap()), clock.clone());
        records.create(&kept).await.unwrap();
        kept.count = 7;
        records.replace(&kept, 1).await.unwrap();
        records.create(&note("P#1", "N#gone")).await.unwrap();
        records.remove(&Key::new("P#1", "N#gone"), Expect::Exists).await.unwrap();
        let mut c = Connection::new("c-restart", "p", T0);
        c.status = ConnectionStatus::Active;
        c.schedules = [(ScheduledFlow::Jobs, T0)].into();
        records.create(&c).await.unwrap();
    }
    for _ in 0..2 {
        // Twice: the second open reads the log that the first open compacted.
        let records = Records::new(Arc::new(EmbeddedStore::open(&path).unwrap()), clock.clone());
        let got = records.get::<Note>(&kept.key()).await.unwrap().unwrap();
        assert_eq!((got.record.count, got.version), (7, 2));
        assert!(records.get::<Note>(&Key::new("P#1", "N#gone")).await.unwrap().is_none());
        let q = DueQuery { partition: keys::due("c-restart", T0).partition, up_to: keys::due_up_to(T0), limit: 10, cursor: None };
        assert_eq!(records.due::<Connection>(&q).await.unwrap().0.len(), 1, "due index rebuilt");
    }
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_second_opener_of_an_embedded_store_is_refused_while_the_first_has_it() {
    let dir = std::env::temp_dir().join(format!("hub-store-{}", uuid::Uuid::new_v4()));
    let path = dir.join("data").join("table.log");
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_ms(T0));
    let first = Records::new(Arc::new(EmbeddedStore::open(&path).unwrap()), clock.clone());
    first.create(&note("P#1", "N#before")).await.unwrap();

    let Err(refused) = EmbeddedStore::open(&path) else { panic!("a second store opened the same log") };
    assert!(matches!(refused, StoreError::InUse(_)), "{refused:?}");
    let message = refused.to_string();
    assert!(message.contains(&dir.join("data").display().to_string()), "names the directory: {message}");
    assert!(message.contains(&format!("PID {}", std::process::id())), "names the holder: {message}");

    // The refused opener changed nothing: the first goes on writing to a log that is still there.
    first.create(&note("P#1", "N#after")).await.unwrap();
    drop(first);
    let reopened = Records::new(Arc::new(EmbeddedStore::open(&path).unwrap()), clock);
    for sk in ["N#before", "N#after"] {
        assert!(reopened.get::<Note>(&Key::new("P#1", sk)).await.unwrap().is_some(), "{sk} kept");
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("data")), 0o700, "a directory the store creates is the owner's only");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.join("data").join("table.log.lock")), 0o600);
    }
    drop(reopened);
    std::fs::remove_dir_all(dir).unwrap();
}
