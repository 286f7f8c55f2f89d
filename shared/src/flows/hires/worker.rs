//! The hires queue's consumer: one `FlowRun` (the dispatcher's daily run, or a partner's manual
//! import) → one [`HireImport::run`] → done (ack) or not (SQS, or the embedded queue, hands it
//! out again after its visibility timeout, and dead-letters it after the queue's redrive limit).

use std::sync::Arc;
use std::time::Duration;

use super::import::{HireImport, RunReport};
use crate::core::flow_runs::ScheduledFlow;
use crate::flows::dispatch::FlowRun;
use crate::queue::{Queue, QueueError};

/// What became of one message.
#[derive(Debug)]
pub enum HiresMessage {
    Ran(RunReport),
    /// The run reached its deadline; the same run was queued again to go on where it stopped.
    Continued(RunReport),
    /// Not a `FlowRun` of the hires flow: dropped (keeping it would only poison the queue).
    Unreadable(String),
    /// Failed for a reason retrying does not cure (the connection needs a reconnect, no hires
    /// flow): recorded in the connection's health, dropped.
    Failed(String),
    /// Failed for a reason that may pass (Lever or the store unavailable): to be retried.
    Retry(String),
}

impl HiresMessage {
    /// Whether the message is done with (delete it from the queue).
    pub fn ack(&self) -> bool {
        !matches!(self, HiresMessage::Retry(_))
    }
}

#[derive(Clone)]
pub struct HiresWorker {
    import: HireImport,
    queue: Arc<dyn Queue>,
}

impl HiresWorker {
    pub fn new(import: HireImport, queue: Arc<dyn Queue>) -> Self {
        Self { import, queue }
    }

    pub fn import(&self) -> &HireImport {
        &self.import
    }

    /// Handles one message body. `deadline`: when the invocation must be over.
    pub async fn handle(&self, body: &str, deadline: Option<tokio::time::Instant>) -> HiresMessage {
        let run = match FlowRun::parse(body) {
            Ok(run) if run.flow == ScheduledFlow::Hires => run,
            Ok(run) => return HiresMessage::Unreadable(format!("a {} run on the hires queue", run.flow.as_str())),
            Err(e) => return HiresMessage::Unreadable(e.to_string()),
        };
        match self.import.run(&run, deadline).await {
            Ok(report) if report.complete => HiresMessage::Ran(report),
            Ok(report) => match self.queue.send(body, Duration::ZERO).await {
                Ok(()) => HiresMessage::Continued(report),
                Err(e) => HiresMessage::Retry(format!("the unfinished run was not queued again: {e}")),
            },
            Err(e) if e.is_transient() => {
                tracing::warn!(connection_id = %run.connection_id, error = %e, "hires import failed; the queue retries it");
                HiresMessage::Retry(e.to_string())
            }
            Err(e) => {
                tracing::warn!(connection_id = %run.connection_id, error = %e, "hires import failed");
                HiresMessage::Failed(e.to_string())
            }
        }
    }

    /// Receives up to `max` messages and handles them one by one, acking those that are done.
    /// For `hub-local` and tests; in Lambda the SQS event source does the receiving.
    pub async fn work_once(&self, max: usize, wait: Duration) -> Result<Vec<HiresMessage>, QueueError> {
        let messages = self.queue.receive(max, wait).await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for m in messages {
            let span = crate::telemetry::message_span(None, &m.body);
            let outcome = tracing::Instrument::instrument(self.handle(&m.body, None), span).await;
            if outcome.ack() {
                self.queue.ack(&m.receipt).await?;
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}
