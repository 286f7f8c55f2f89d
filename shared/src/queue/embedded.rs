//! In-process queue with SQS's semantics that matter to handlers: delays, a visibility timeout
//! (a received message that is not acked comes back), receive counts and receipts that go
//! stale when the message is received again. Time is tokio's, so paused-time tests work.
//!
//! [`EmbeddedQueue::durable`] also keeps every message in a store until it is acked, so a
//! restarted process (`hub-local`) finds the messages it had not finished, with their delays.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Queue, QueueError, Received, check_receive, check_send};
use crate::store::{Expect, Key, Record, Records, keys};

struct Message {
    /// Key of the stored copy (durable queues).
    id: String,
    body: String,
    visible_at: Instant,
    receipt: Option<String>,
    receive_count: u32,
}

/// A durable queue's message as kept in the store, until acked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedMessage {
    pub queue: String,
    pub id: String,
    pub body: String,
    /// When the message becomes receivable (epoch ms, the store's clock).
    pub visible_at_ms: i64,
}

impl Record for QueuedMessage {
    const KIND: &'static str = "queued_message";

    fn key(&self) -> Key {
        keys::queued_message(&self.queue, &self.id)
    }
}

struct Durable {
    records: Records,
    name: String,
}

pub struct EmbeddedQueue {
    messages: Mutex<Vec<Message>>,
    visibility_timeout: Duration,
    arrived: Notify,
    durable: Option<Durable>,
}

impl EmbeddedQueue {
    /// SQS's default visibility timeout is 30 s.
    pub fn new() -> Self {
        Self::with_visibility_timeout(Duration::from_secs(30))
    }

    pub fn with_visibility_timeout(visibility_timeout: Duration) -> Self {
        Self { messages: Mutex::new(Vec::new()), visibility_timeout, arrived: Notify::new(), durable: None }
    }

    /// A queue named `name` whose messages live in `records` until acked, starting with the
    /// ones already there (each at its own delay; a message being received when the last
    /// process stopped is receivable at once, as after a visibility timeout).
    pub async fn durable(records: Records, name: &str, visibility_timeout: Duration) -> Result<Self, QueueError> {
        let stored = records
            .query_all::<QueuedMessage>(&keys::queue_partition(name), keys::QUEUED_MESSAGE_PREFIX)
            .await
            .map_err(|e| QueueError::Unavailable(format!("queue {name}: {e}")))?;
        let now_ms = records.clock().now_ms();
        let now = Instant::now();
        let messages = stored
            .into_iter()
            .map(|m| Message {
                visible_at: now + Duration::from_millis(u64::try_from(m.visible_at_ms - now_ms).unwrap_or(0)),
                id: m.id,
                body: m.body,
                receipt: None,
                receive_count: 0,
            })
            .collect();
        Ok(Self {
            messages: Mutex::new(messages),
            visibility_timeout,
            arrived: Notify::new(),
            durable: Some(Durable { records, name: name.to_owned() }),
        })
    }

    /// Messages held, visible or not; for tests and the local runner's status.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        // A panic while holding the lock cannot leave the Vec half-changed; keep serving.
        self.messages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes up to `max` visible messages, or says when the next one becomes visible.
    fn take_visible(&self, max: usize, now: Instant) -> Result<Vec<Received>, Option<Instant>> {
        let mut messages = self.lock();
        let mut out = Vec::new();
        for m in messages.iter_mut().filter(|m| m.visible_at <= now).take(max) {
            let receipt = uuid::Uuid::new_v4().to_string();
            m.receipt = Some(receipt.clone());
            m.receive_count += 1;
            m.visible_at = now + self.visibility_timeout;
            out.push(Received { body: m.body.clone(), receipt, receive_count: m.receive_count });
        }
        if out.is_empty() { Err(messages.iter().map(|m| m.visible_at).min()) } else { Ok(out) }
    }
}

impl Default for EmbeddedQueue {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        check_send(body, delay)?;
        // Time-ordered, so a restarted queue hands out older messages first.
        let id = uuid::Uuid::now_v7().to_string();
        if let Some(d) = &self.durable {
            let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
            let stored = QueuedMessage {
                queue: d.name.clone(),
                id: id.clone(),
                body: body.to_owned(),
                visible_at_ms: d.records.clock().now_ms().saturating_add(delay_ms),
            };
            d.records.put(&stored).await.map_err(|e| QueueError::Unavailable(format!("queue {}: {e}", d.name)))?;
        }
        self.lock().push(Message { id, body: body.to_owned(), visible_at: Instant::now() + delay, receipt: None, receive_count: 0 });
        self.arrived.notify_waiters();
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        check_receive(max, wait)?;
        let deadline = Instant::now() + wait;
        loop {
            // Register for "a message arrived" before looking, so a send in between is not missed.
            let arrived = self.arrived.notified();
            let now = Instant::now();
            let next_visible = match self.take_visible(max, now) {
                Ok(found) => return Ok(found),
                Err(next) => next,
            };
            if now >= deadline {
                return Ok(Vec::new());
            }
            let until = next_visible.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        // A stale receipt (the message was received again since) deletes nothing, like SQS
        // when the message has moved on to another receiver.
        let acked = {
            let mut messages = self.lock();
            let found = messages.iter().position(|m| m.receipt.as_deref() == Some(receipt));
            found.map(|i| messages.remove(i).id)
        };
        if let (Some(id), Some(d)) = (acked, &self.durable) {
            d.records
                .remove(&keys::queued_message(&d.name, &id), Expect::Any)
                .await
                .map_err(|e| QueueError::Unavailable(format!("queue {}: {e}", d.name)))?;
        }
        Ok(())
    }
}
