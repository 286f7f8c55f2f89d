//! Lambda: one batch of the delivery queue. Messages that are not done are reported as batch
//! item failures, so SQS redelivers them (and after the redrive limit, dead-letters them).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::delivery::EventDelivery;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: the key that opens partner webhook secrets.
const SECRETS: &[&str] = &[names::TOKEN_KEY];

async fn delivery(env: &HubEnv) -> Result<EventDelivery, HubError> {
    env.wiring(SECRETS).await?.delivery()
}

async fn handle(delivery: &EventDelivery, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    Ok(shared::sqs_batch::handle_batch(event.payload, |body| async move {
        match delivery.deliver(&body).await {
            Ok(outcome) => outcome.ack(),
            Err(e) => {
                tracing::error!(error = %e, "delivery failed; SQS will retry");
                false
            }
        }
    })
    .await)
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
