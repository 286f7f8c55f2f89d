//! Lambda: one batch of the delivery queue. Messages that are not done are reported as batch
//! item failures, so SQS redelivers them (and after the redrive limit, dead-letters them).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::flows::delivery::EventDelivery;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: the key that opens partner webhook secrets.
const SECRETS: &[&str] = &[names::TOKEN_KEY];

async fn delivery(env: &HubEnv) -> Result<EventDelivery, HubError> {
    env.wiring(SECRETS).await?.delivery()
}

async fn handle(delivery: &EventDelivery, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        let done = match record.body.as_deref() {
            Some(body) => match delivery.deliver(body).await {
                Ok(outcome) => outcome.ack(),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "delivery failed; SQS will retry");
                    false
                }
            },
            None => true, // nothing to deliver; keeping it would only poison the queue
        };
        if !done {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let delivery = &delivery(&HubEnv::from_env()?).await?;
    lambda_runtime::run(service_fn(|event| handle(delivery, event))).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::delivery(&shared::testing::local_env()).await.expect("delivery wires from its SECRETS");
    }
}
