//! The jobs queue's consumer: one `FlowRun` message → one [`JobPoller`] run → done (ack) or
//! not (SQS, or the embedded queue, hands it out again after its visibility timeout, and
//! dead-letters it after the queue's redrive limit).

use std::time::Duration;

use super::poller::{JobPoller, RunOutcome};
use crate::flows::dispatch::FlowRun;
use crate::queue::{Queue, QueueError};

/// What became of one message.
#[derive(Debug)]
pub enum MessageOutcome {
    Ran(RunOutcome),
    /// Not a `FlowRun` of the jobs flow: dropped (keeping it would only poison the queue).
    Unreadable(String),
    /// Failed for a reason that does not go away by retrying (the connection needs a
    /// reconnect, Lever refused the request): recorded in the sync's health, dropped.
    Failed(String),
    /// Failed for a reason that may pass (Lever or the store unavailable): to be retried.
    Retry(String),
}

impl MessageOutcome {
    /// Whether the message is done with (delete it from the queue).
    pub fn ack(&self) -> bool {
        !matches!(self, MessageOutcome::Retry(_))
    }
}

#[derive(Clone)]
pub struct JobWorker {
    poller: JobPoller,
    queue: std::sync::Arc<dyn Queue>,
}

impl JobWorker {
    pub fn new(poller: JobPoller, queue: std::sync::Arc<dyn Queue>) -> Self {
        Self { poller, queue }
    }

    pub fn poller(&self) -> &JobPoller {
        &self.poller
    }

    /// Handles one message body. `deadline`: when the invocation must be over.
    pub async fn handle(&self, body: &str, deadline: Option<tokio::time::Instant>) -> MessageOutcome {
        let run = match FlowRun::parse(body) {
            Ok(run) if run.flow == super::poller::FLOW => run,
            Ok(run) => return MessageOutcome::Unreadable(format!("a {} run on the jobs queue", run.flow.as_str())),
            Err(e) => return MessageOutcome::Unreadable(e.to_string()),
        };
        match self.poller.run(&run, deadline).await {
            Ok(outcome) => MessageOutcome::Ran(outcome),
            Err(e) if e.is_transient() => {
                tracing::warn!(connection_id = %run.connection_id, error = %e, "job sync failed; the queue retries it");
                MessageOutcome::Retry(e.to_string())
            }
            Err(e) => {
                tracing::warn!(connection_id = %run.connection_id, error = %e, "job sync failed");
                MessageOutcome::Failed(e.to_string())
            }
        }
    }

    /// Receives up to `max` messages and handles them one by one, acking those that are done;
    /// returns how many it received. For `hub-local` and tests; in Lambda the SQS event source
    /// does the receiving.
    pub async fn work_once(&self, max: usize, wait: Duration) -> Result<usize, QueueError> {
        crate::queue::work_once(self.queue.as_ref(), max, wait, |body| async move { self.handle(&body, None).await.ack() }).await
    }
}
