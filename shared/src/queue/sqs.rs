//! Amazon SQS adapter (the JSON protocol of the AWS SDK for Rust; moto's server in tests).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use super::{Queue, QueueError, Received, check_receive, check_send};

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// Creates the queue if needed (SAM creates it in AWS; local runs and tests call this).
    pub async fn create(client: Client, name: &str, visibility_timeout: Duration) -> Result<Self, QueueError> {
        let out = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility_timeout.as_secs().to_string())
            .send()
            .await
            .map_err(unavailable)?;
        let url = out.queue_url().ok_or_else(|| QueueError::Unavailable(format!("no URL for queue {name}")))?;
        Ok(Self::new(client, url))
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

fn unavailable<E: std::error::Error + 'static>(e: E) -> QueueError {
    // The SDK's Display is terse ("service error"); the source chain names the cause.
    QueueError::Unavailable(crate::telemetry::error_chain(&e))
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        check_send(body, delay)?;
        // SQS delays in whole seconds; round up so "not before" promises (Retry-After) hold.
        let seconds = delay.as_millis().div_ceil(1000);
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(i32::try_from(seconds).unwrap_or(900))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        check_receive(max, wait)?;
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(unavailable)?;
        let mut received = Vec::new();
        for m in out.messages.unwrap_or_default() {
            let (Some(body), Some(receipt)) = (m.body(), m.receipt_handle()) else { continue };
            let receive_count =
                m.attributes().and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount)).and_then(|n| n.parse().ok()).unwrap_or(1);
            received.push(Received { body: body.to_owned(), receipt: receipt.to_owned(), receive_count });
        }
        Ok(received)
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client.delete_message().queue_url(&self.queue_url).receipt_handle(receipt).send().await.map_err(unavailable)?;
        Ok(())
    }
}
