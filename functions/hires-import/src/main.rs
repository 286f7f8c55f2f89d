//! Lambda: one batch of the hires queue — the dispatcher's daily runs and partners' manual
//! imports (`FlowRun` messages). A run that must be retried is reported as a batch item
//! failure, so SQS redelivers it (and after the redrive limit, dead-letters it); a run that
//! reaches the invocation's deadline queues itself again and goes on where it stopped.

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::hires::HiresWorker;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: the Lever app and the key that opens tokens and partner secrets.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::LEVER_OAUTH];

/// Time kept back at the end of an invocation to queue the rest of a long run.
const MARGIN: Duration = Duration::from_secs(30);

async fn worker(env: &HubEnv) -> Result<HiresWorker, HubError> {
    env.wiring(SECRETS).await?.hires_worker()
}

async fn handle(worker: &HiresWorker, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + left.saturating_sub(MARGIN);
    Ok(shared::sqs_batch::handle_batch(event.payload, |body| async move { worker.handle(&body, Some(deadline)).await.ack() }).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let worker = &worker(&HubEnv::from_env()?).await?;
    lambda_runtime::run(service_fn(|event| handle(worker, event))).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::worker(&shared::testing::local_env()).await.expect("the hires worker wires from its SECRETS");
    }
}
