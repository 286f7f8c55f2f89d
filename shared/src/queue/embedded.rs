//! In-process queue with SQS's semantics that matter to handlers: delays, a visibility timeout
//! (a received message that is not acked comes back), receive counts and receipts that go
//! stale when the message is received again. Time is tokio's, so paused-time tests work.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{check_receive, check_send, Queue, QueueError, Received};

struct Message {
    body: String,
    visible_at: Instant,
    receipt: Option<String>,
    receive_count: u32,
}

pub struct EmbeddedQueue {
    messages: Mutex<Vec<Message>>,
    visibility_timeout: Duration,
    arrived: Notify,
}

impl EmbeddedQueue {
    /// SQS's default visibility timeout is 30 s.
    pub fn new() -> Self {
        Self::with_visibility_timeout(Duration::from_secs(30))
    }

    pub fn with_visibility_timeout(visibility_timeout: Duration) -> Self {
        Self { messages: Mutex::new(Vec::new()), visibility_timeout, arrived: Notify::new() }
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
        self.lock().push(Message { body: body.to_owned(), visible_at: Instant::now() + delay, receipt: None, receive_count: 0 });
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
        self.lock().retain(|m| m.receipt.as_deref() != Some(receipt));
        Ok(())
    }
}
