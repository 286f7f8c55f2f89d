//! DynamoDB adapter of the store port (single table, one GSI for "due" lookups).
//!
//! Every put is an `UpdateItem` with `ADD v 1`, so versions grow monotonically even across
//! expiry and re-creation (a stale lease holder can never release its successor's lease).
//! The record body lives in one map attribute `d`, mapped by serde_dynamo, so a write replaces
//! the whole record without knowing which attributes the previous version had.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, ConsumedCapacity, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, Projection, ProjectionType, PutRequest, ReturnConsumedCapacity, ReturnValue, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};

use super::{Cursor, DueQuery, Expect, IndexKey, Item, Key, Page, Query, Store, StoreError, Write, check_transaction};

/// Attribute and index names; `infra/template.yaml` declares the same table.
pub mod schema {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const KIND: &str = "kind";
    pub const VERSION: &str = "v";
    pub const BODY: &str = "d";
    /// Expiry in epoch ms: what conditions and readers use.
    pub const EXPIRES_MS: &str = "exp";
    /// Expiry in epoch seconds: DynamoDB's TTL attribute, for eventual deletion.
    pub const TTL: &str = "ttl";
    /// The due index holds keys only: a write that leaves an item's due entry where it was
    /// costs the index nothing, and one that moves it costs the index two small writes instead
    /// of two copies of the item. Readers fetch the items by key.
    pub const DUE_INDEX: &str = "due";
    pub const DUE_PK: &str = "gsi1pk";
    pub const DUE_SK: &str = "gsi1sk";
}
use schema::*;

/// DynamoDB's limit on the keys of one `BatchGetItem`.
const BATCH_GET_KEYS: usize = 100;
/// How many `BatchGetItem` calls of one read go out at once.
const BATCH_GETS_AT_ONCE: usize = 8;
/// Tries of a batch call's unprocessed keys or items before it fails.
const BATCH_RETRIES: u32 = 8;

/// DynamoDB's limit on the items of one `BatchWriteItem`.
const BATCH_WRITE_ITEMS: usize = 25;
/// How many `BatchWriteItem` calls of one write go out at once.
const BATCH_WRITES_AT_ONCE: usize = 8;

/// Capacity units one call consumed, as DynamoDB reports them (`ReturnConsumedCapacity`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
}

/// Where a store that measures its capacity reports each call's.
pub type CapacitySink = Arc<dyn Fn(Capacity) + Send + Sync>;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Set by benches that price what they do; the hub's functions never ask.
    capacity: Option<CapacitySink>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), capacity: None }
    }

    /// Asks DynamoDB for the capacity each call consumes and hands it to `sink`.
    pub fn reporting_capacity(mut self, sink: CapacitySink) -> Self {
        self.capacity = Some(sink);
        self
    }

    fn capacity_asked(&self) -> Option<ReturnConsumedCapacity> {
        self.capacity.as_ref().map(|_| ReturnConsumedCapacity::Total)
    }

    fn consumed<'a>(&self, write: bool, reported: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        let Some(sink) = &self.capacity else { return };
        let units: f64 = reported.into_iter().filter_map(ConsumedCapacity::capacity_units).sum();
        sink(if write { Capacity { read_units: 0.0, write_units: units } } else { Capacity { read_units: units, write_units: 0.0 } });
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One `BatchGetItem` of up to 100 distinct keys, its unprocessed keys asked again.
    async fn batch_get(&self, chunk: Vec<Key>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(chunk.len());
        let mut pending: Vec<HashMap<String, AttributeValue>> = chunk.iter().map(key_attrs).collect();
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .set_return_consumed_capacity(self.capacity_asked())
                .send()
                .await
                .map_err(unavailable)?;
            self.consumed(false, out.consumed_capacity.iter().flatten());
            for attrs in out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                found.push(item_from(attrs)?);
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            back_off(&mut attempt, pending.len(), "keys").await?;
        }
        Ok(found)
    }

    /// One `BatchWriteItem` of up to 25 puts, its unprocessed items sent again.
    async fn batch_put(&self, chunk: Vec<Item>) -> Result<(), StoreError> {
        let mut pending = Vec::with_capacity(chunk.len());
        for item in &chunk {
            let put = PutRequest::builder().set_item(Some(created_attrs(item)?)).build().map_err(|e| StoreError::Invalid(e.to_string()))?;
            pending.push(WriteRequest::builder().put_request(put).build());
        }
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .set_return_consumed_capacity(self.capacity_asked())
                .send()
                .await
                .map_err(unavailable)?;
            self.consumed(true, out.consumed_capacity.iter().flatten());
            pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
            back_off(&mut attempt, pending.len(), "items").await?;
        }
        Ok(())
    }

    /// Creates the table as `infra/template.yaml` does, if it does not exist (tests, local runs).
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().expect("complete");
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("complete");
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK))
            .attribute_definitions(attr(SK))
            .attribute_definitions(attr(DUE_PK))
            .attribute_definitions(attr(DUE_SK))
            .key_schema(key(PK, KeyType::Hash))
            .key_schema(key(SK, KeyType::Range))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(DUE_INDEX)
                    .key_schema(key(DUE_PK, KeyType::Hash))
                    .key_schema(key(DUE_SK, KeyType::Range))
                    .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                    .build()
                    .expect("complete"),
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
            Err(e) => return Err(unavailable(e)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL).build().expect("complete"))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.to_owned(), s(&key.pk)), (SK.to_owned(), s(&key.sk))])
}

/// A condition (or update) expression with its placeholders.
#[derive(Default)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn condition(expect: Expect) -> Self {
        let mut e = Expression::default();
        let not_exists = format!("attribute_not_exists({PK})");
        e.text = match expect {
            // Checks need a condition; this one always holds.
            Expect::Any => format!("attribute_exists({PK}) OR {not_exists}"),
            Expect::Absent => not_exists,
            Expect::Exists => format!("attribute_exists({PK})"),
            Expect::Version(v) => {
                e.names.insert("#v".into(), VERSION.into());
                e.values.insert(":expected_v".into(), n(v));
                "#v = :expected_v".into()
            }
            Expect::AbsentOrExpired { now_ms } => {
                e.names.insert("#exp".into(), EXPIRES_MS.into());
                e.values.insert(":now_ms".into(), n(now_ms));
                format!("{not_exists} OR #exp <= :now_ms")
            }
        };
        e
    }

    /// `SET` the record, `REMOVE` what the new version no longer has, `ADD` one to the version.
    fn update(item: &Item) -> Result<Self, StoreError> {
        let mut e = Expression::default();
        let mut set = vec![];
        let mut remove = vec![];
        let mut put = |name: &str, value: Option<AttributeValue>| {
            let placeholder = format!("#{name}");
            e.names.insert(placeholder.clone(), name.to_owned());
            match value {
                Some(v) => {
                    e.values.insert(format!(":{name}"), v);
                    set.push(format!("{placeholder} = :{name}"));
                }
                None => remove.push(placeholder),
            }
        };
        for (name, value) in record_attrs(item)? {
            put(name, value);
        }
        e.names.insert("#v".into(), VERSION.into());
        e.values.insert(":one".into(), n(1));
        e.text = format!("SET {} ADD #v :one", set.join(", "));
        if !remove.is_empty() {
            e.text.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        Ok(e)
    }

    fn merge(mut self, other: Expression) -> (String, Self) {
        let text = other.text;
        self.names.extend(other.names);
        self.values.extend(other.values);
        (text, self)
    }
}

/// After a batch call that left `left` keys or items unprocessed: DynamoDB was throttling it, so
/// wait (longer each try) before the next, or give up after [`BATCH_RETRIES`].
async fn back_off(attempt: &mut u32, left: usize, what: &str) -> Result<(), StoreError> {
    if left == 0 {
        return Ok(());
    }
    *attempt += 1;
    if *attempt > BATCH_RETRIES {
        return Err(StoreError::Unavailable(format!("{left} {what} still unprocessed after {attempt} tries")));
    }
    tokio::time::sleep(std::time::Duration::from_millis(25u64 << (*attempt).min(6))).await;
    Ok(())
}

/// The attributes that hold an item's record (`None`: the attribute is absent).
fn record_attrs(item: &Item) -> Result<[(&'static str, Option<AttributeValue>); 6], StoreError> {
    let body = serde_dynamo::to_attribute_value(&item.body).map_err(|err| StoreError::Invalid(format!("record body: {err}")))?;
    Ok([
        (KIND, Some(s(&item.kind))),
        (BODY, Some(body)),
        (EXPIRES_MS, item.expires_at_ms.map(n)),
        // DynamoDB TTL works in seconds; round up so the item never disappears early.
        (TTL, item.expires_at_ms.map(|ms| n(ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)))),
        (DUE_PK, item.due.as_ref().map(|d| s(&d.partition))),
        (DUE_SK, item.due.as_ref().map(|d| s(&d.sort))),
    ])
}

/// An item whole, as a created one is stored: its key, its record and version 1.
fn created_attrs(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut attrs = key_attrs(&item.key);
    attrs.extend(record_attrs(item)?.into_iter().filter_map(|(name, value)| Some((name.to_owned(), value?))));
    attrs.insert(VERSION.to_owned(), n(1));
    Ok(attrs)
}

fn string_attr(attrs: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    attrs.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number_attr(attrs: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    attrs.get(name).and_then(|v| v.as_n().ok()).and_then(|t| t.parse().ok())
}

fn item_from(mut attrs: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let key = Key::new(string_attr(&attrs, PK).unwrap_or_default(), string_attr(&attrs, SK).unwrap_or_default());
    let corrupt = |why: String| StoreError::Corrupt(format!("{}/{}", key.pk, key.sk), why);
    let body = attrs.remove(BODY).ok_or_else(|| corrupt("no body".into()))?;
    let body = serde_dynamo::from_attribute_value(body).map_err(|e| corrupt(e.to_string()))?;
    let due = match (string_attr(&attrs, DUE_PK), string_attr(&attrs, DUE_SK)) {
        (Some(partition), Some(sort)) => Some(IndexKey { partition, sort }),
        _ => None,
    };
    Ok(Item {
        kind: string_attr(&attrs, KIND).unwrap_or_default(),
        version: number_attr(&attrs, VERSION).unwrap_or(0) as u64,
        expires_at_ms: number_attr(&attrs, EXPIRES_MS),
        due,
        body,
        key,
    })
}

/// An entry of the keys-only due index: the item's key and where the index holds it.
fn index_entry(attrs: &HashMap<String, AttributeValue>) -> Option<Cursor> {
    let key = Key::new(string_attr(attrs, PK)?, string_attr(attrs, SK)?);
    let due = IndexKey { partition: string_attr(attrs, DUE_PK)?, sort: string_attr(attrs, DUE_SK)? };
    Some(Cursor { key, due: Some(due) })
}

fn cursor_attrs(cursor: &Cursor) -> HashMap<String, AttributeValue> {
    let mut attrs = key_attrs(&cursor.key);
    if let Some(due) = &cursor.due {
        attrs.insert(DUE_PK.into(), s(&due.partition));
        attrs.insert(DUE_SK.into(), s(&due.sort));
    }
    attrs
}

/// Turns DynamoDB's page into ours; asks for one extra item so "more follows" is exact.
fn page_from(
    raw: Vec<HashMap<String, AttributeValue>>,
    limit: usize,
    more_unread: bool,
    cursor: impl Fn(&Item) -> Cursor,
) -> Result<Page, StoreError> {
    let mut items = raw.into_iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > limit || more_unread;
    items.truncate(limit);
    Ok(Page { cursor: if more { items.last().map(cursor) } else { None }, items })
}

fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Unavailable(match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
        None => format!("{e:?}"),
    })
}

/// DynamoDB refuses a start key outside the key condition with a ValidationException; the
/// ports check cursors first, and this keeps any they miss a typed error rather than a 500.
fn query_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let start_key = e.message().is_some_and(|m| m.contains("starting key") || m.contains("ExclusiveStartKey"));
    if e.code() == Some("ValidationException") && start_key {
        return StoreError::BadCursor;
    }
    unavailable(e)
}

fn write_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    match e.code() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        Some("TransactionConflictException") => StoreError::Conflict,
        _ => unavailable(e),
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .set_return_consumed_capacity(self.capacity_asked())
            .send()
            .await
            .map_err(unavailable)?;
        self.consumed(false, out.consumed_capacity.as_ref());
        out.item.map(item_from).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // BatchGetItem refuses a key asked twice in one call and answers in any order: ask each
        // distinct key once and put the answers back in the caller's order. The calls of 100
        // keys each go out together: a page of several hundred postings is one round trip.
        let distinct: Vec<&Key> = keys.iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        use futures::{StreamExt as _, TryStreamExt as _};
        // Boxed as `Send` futures of owned keys: a closure-mapped stream of borrowing futures
        // trips the compiler's higher-ranked `Send` check in the async trait.
        type Read<'f> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Item>, StoreError>> + Send + 'f>>;
        let reads: Vec<Read<'_>> =
            distinct.chunks(BATCH_GET_KEYS).map(|chunk| Box::pin(self.batch_get(chunk.iter().map(|k| (*k).clone()).collect())) as Read<'_>).collect();
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(distinct.len());
        for items in futures::stream::iter(reads).buffer_unordered(BATCH_GETS_AT_ONCE).try_collect::<Vec<_>>().await? {
            found.extend(items.into_iter().map(|item| (item.key.clone(), item)));
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<u64, StoreError> {
        let update = Expression::update(&item)?;
        let mut req = self.client.update_item().table_name(&self.table).set_key(Some(key_attrs(&item.key)));
        let expr = if expect == Expect::Any {
            update
        } else {
            let (condition, merged) = update.merge(Expression::condition(expect));
            req = req.condition_expression(condition);
            merged
        };
        let out = req
            .update_expression(expr.text)
            .set_expression_attribute_names(Some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .return_values(ReturnValue::UpdatedNew)
            .set_return_consumed_capacity(self.capacity_asked())
            .send()
            .await
            .map_err(write_error)?;
        self.consumed(true, out.consumed_capacity.as_ref());
        let attrs = out.attributes.unwrap_or_default();
        number_attr(&attrs, VERSION)
            .map(|v| v as u64)
            .ok_or_else(|| StoreError::Corrupt(format!("{}/{}", item.key.pk, item.key.sk), "no version".into()))
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .return_values(ReturnValue::AllOld)
            .set_return_consumed_capacity(self.capacity_asked());
        if expect != Expect::Any {
            let c = Expression::condition(expect);
            req = req
                .condition_expression(c.text)
                .set_expression_attribute_names((!c.names.is_empty()).then_some(c.names))
                .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values));
        }
        let out = req.send().await.map_err(write_error)?;
        self.consumed(true, out.consumed_capacity.as_ref());
        out.attributes.filter(|a| !a.is_empty()).map(item_from).transpose()
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        q.check_cursor()?;
        let mut values = HashMap::from([(":pk".to_owned(), s(&q.pk))]);
        let mut condition = "#pk = :pk".to_owned();
        let mut names = HashMap::from([("#pk".to_owned(), PK.to_owned())]);
        if let Some(prefix) = q.sk_prefix.as_ref().filter(|p| !p.is_empty()) {
            condition.push_str(" AND begins_with(#sk, :prefix)");
            names.insert("#sk".into(), SK.into());
            values.insert(":prefix".into(), s(prefix));
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!q.descending)
            .limit(i32::try_from(q.limit.max(1) + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(q.cursor.as_ref().map(cursor_attrs))
            .consistent_read(true)
            .set_return_consumed_capacity(self.capacity_asked())
            .send()
            .await
            .map_err(query_error)?;
        self.consumed(false, out.consumed_capacity.as_ref());
        let unread = out.last_evaluated_key.is_some() && out.items.as_ref().is_some_and(|i| i.len() <= q.limit.max(1));
        page_from(out.items.unwrap_or_default(), q.limit.max(1), unread, |i| Cursor { key: i.key.clone(), due: None })
    }

    async fn query_due(&self, q: &DueQuery) -> Result<Page, StoreError> {
        q.check_cursor()?;
        let limit = q.limit.max(1);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#p = :p AND #s <= :up_to")
            .expression_attribute_names("#p", DUE_PK)
            .expression_attribute_names("#s", DUE_SK)
            .expression_attribute_values(":p", s(&q.partition))
            .expression_attribute_values(":up_to", s(&q.up_to))
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(q.cursor.as_ref().map(cursor_attrs))
            .set_return_consumed_capacity(self.capacity_asked())
            .send()
            .await
            .map_err(query_error)?;
        self.consumed(false, out.consumed_capacity.as_ref());
        let unread = out.last_evaluated_key.is_some() && out.items.as_ref().is_some_and(|i| i.len() <= limit);
        let mut entries: Vec<Cursor> = out.items.unwrap_or_default().iter().filter_map(index_entry).collect();
        let more = entries.len() > limit || unread;
        entries.truncate(limit);
        let keys: Vec<Key> = entries.iter().map(|e| e.key.clone()).collect();
        // The index is eventually consistent and keys only: read the items themselves, and keep
        // those still due in this range (one taken or moved since is no longer the caller's).
        let still_due = |item: &Item| item.due.as_ref().is_some_and(|d| d.partition == q.partition && d.sort <= q.up_to);
        let items = self.get_many(&keys).await?.into_iter().flatten().filter(still_due).collect();
        Ok(Page { items, cursor: if more { entries.pop() } else { None } })
    }

    async fn put_new(&self, items: Vec<Item>) -> Result<(), StoreError> {
        // BatchWriteItem refuses a key twice in one call: the last put of a key wins, as it
        // would one put after another.
        let mut last: HashMap<Key, Item> = HashMap::with_capacity(items.len());
        for item in items {
            last.insert(item.key.clone(), item);
        }
        let items: Vec<Item> = last.into_values().collect();
        use futures::{StreamExt as _, TryStreamExt as _};
        type Put<'f> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'f>>;
        let puts: Vec<Put<'_>> = items.chunks(BATCH_WRITE_ITEMS).map(|chunk| Box::pin(self.batch_put(chunk.to_vec())) as Put<'_>).collect();
        futures::stream::iter(puts).buffer_unordered(BATCH_WRITES_AT_ONCE).try_collect::<Vec<()>>().await?;
        Ok(())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        check_transaction(&writes)?;
        let mut req = self.client.transact_write_items().set_return_consumed_capacity(self.capacity_asked());
        for w in &writes {
            let built = match w {
                Write::Put { item, expect } => {
                    let mut expr = Expression::update(item)?;
                    let mut b = Update::builder().table_name(&self.table).set_key(Some(key_attrs(&item.key)));
                    if *expect != Expect::Any {
                        let (condition, merged) = expr.merge(Expression::condition(*expect));
                        b = b.condition_expression(condition);
                        expr = merged;
                    }
                    let b = b
                        .update_expression(expr.text)
                        .set_expression_attribute_names(Some(expr.names))
                        .set_expression_attribute_values(Some(expr.values));
                    TransactWriteItem::builder().update(b.build().map_err(|e| StoreError::Invalid(e.to_string()))?).build()
                }
                Write::Delete { key, expect } => {
                    let mut b = Delete::builder().table_name(&self.table).set_key(Some(key_attrs(key)));
                    if *expect != Expect::Any {
                        let c = Expression::condition(*expect);
                        b = b
                            .condition_expression(c.text)
                            .set_expression_attribute_names((!c.names.is_empty()).then_some(c.names))
                            .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values));
                    }
                    TransactWriteItem::builder().delete(b.build().map_err(|e| StoreError::Invalid(e.to_string()))?).build()
                }
                Write::Check { key, expect } => {
                    let c = Expression::condition(*expect);
                    let b = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .condition_expression(c.text)
                        .set_expression_attribute_names((!c.names.is_empty()).then_some(c.names))
                        .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values));
                    TransactWriteItem::builder().condition_check(b.build().map_err(|e| StoreError::Invalid(e.to_string()))?).build()
                }
            };
            req = req.transact_items(built);
        }
        match req.send().await {
            Ok(out) => {
                self.consumed(true, out.consumed_capacity.iter().flatten());
                Ok(())
            }
            Err(e) => {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
                    let reasons = c.cancellation_reasons();
                    if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(StoreError::TransactionConditionFailed { index });
                    }
                    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        return Err(StoreError::Conflict);
                    }
                }
                Err(write_error(e))
            }
        }
    }
}
