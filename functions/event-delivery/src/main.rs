//! Lambda: one batch of the delivery queue. Messages that are not done are reported as batch
//! item failures, so SQS redelivers them (and after the redrive limit, dead-letters them).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::flows::delivery::EventDelivery;
use shared::hub::HubEnv;

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
    let hub = HubEnv::from_env()?.build().await?;
    let delivery = &hub.delivery;
    lambda_runtime::run(service_fn(|event| handle(delivery, event))).await
}
