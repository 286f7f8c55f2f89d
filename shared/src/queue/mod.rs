//! Queue port: work handed from one flow to another, with a delay, at least once.
//!
//! SQS in AWS; an embedded in-process queue for local runs and fast tests. In Lambda the SQS
//! event source does the receiving; `receive` and `ack` serve the local runner and tests.
//! Delivery is at least once: a message that is received and not acked comes back after the
//! visibility timeout, so handlers must be idempotent.

pub mod embedded;
pub mod sqs;

use std::time::Duration;

use async_trait::async_trait;

pub use embedded::EmbeddedQueue;
pub use sqs::SqsQueue;

/// The longest delay a message can be sent with (SQS's limit). Longer waits belong to the
/// caller, e.g. a due time in the store that a schedule picks up.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// A message as a receiver sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub body: String,
    /// Hands the message back to [`Queue::ack`]; valid for this receipt only.
    pub receipt: String,
    /// 1 on first receipt; more means earlier receivers did not ack in time.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid queue request: {0}")]
    Invalid(String),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues `body`; it becomes receivable after `delay` (at most [`MAX_DELAY`]).
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError>;

    /// Up to `max` (1 to 10) visible messages, waiting up to `wait` (at most 20 s) for the first.
    /// Each received message is hidden from other receivers for the visibility timeout.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError>;

    /// Deletes a received message: the work is done.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;
}

pub(crate) fn check_send(body: &str, delay: Duration) -> Result<(), QueueError> {
    if delay > MAX_DELAY {
        return Err(QueueError::Invalid(format!("delay {delay:?} is over the queue's limit of {MAX_DELAY:?}")));
    }
    // SQS's message size limit; the embedded queue holds to it so local runs fail the same way.
    if body.len() > 256 * 1024 {
        return Err(QueueError::Invalid(format!("message of {} bytes is over 256 KiB", body.len())));
    }
    Ok(())
}

pub(crate) fn check_receive(max: usize, wait: Duration) -> Result<(), QueueError> {
    if !(1..=10).contains(&max) {
        return Err(QueueError::Invalid(format!("receive takes 1 to 10 messages, not {max}")));
    }
    if wait > Duration::from_secs(20) {
        return Err(QueueError::Invalid(format!("receive waits at most 20 s, not {wait:?}")));
    }
    Ok(())
}

/// One receive-handle-ack round for local runners and tests (in AWS the SQS event source does
/// this): up to `max` messages, each handed to `handle`, acked when it answers `true`. Returns
/// how many messages were received.
pub async fn work_once<F, Fut>(queue: &dyn Queue, max: usize, wait: Duration, handle: F) -> Result<usize, QueueError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let messages = queue.receive(max, wait).await?;
    let n = messages.len();
    for m in messages {
        let span = crate::telemetry::message_span(None, &m.body);
        if tracing::Instrument::instrument(handle(m.body), span).await {
            queue.ack(&m.receipt).await?;
        }
    }
    Ok(n)
}
