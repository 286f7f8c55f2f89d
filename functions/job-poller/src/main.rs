//! Lambda: one batch of the jobs queue (`FlowRun` messages from the dispatcher and from
//! partners' `POST …/jobs/sync`). Each run syncs one connection; runs that may succeed later are
//! reported as batch item failures, so SQS redelivers them (and after the redrive limit,
//! dead-letters them). A run near the invocation's deadline checkpoints and queues its own
//! continuation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::jobs::JobWorker;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: the key that opens Lever tokens (and partner webhook secrets for
/// `job.*` events), and the Lever app that refreshes tokens.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::LEVER_OAUTH];

async fn worker(env: &HubEnv) -> Result<JobWorker, HubError> {
    env.wiring(SECRETS).await?.job_worker()
}

/// The invocation's deadline (epoch ms in the Lambda context) as a tokio instant.
fn deadline(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let worker = &worker(&HubEnv::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        let until = deadline(event.context.deadline);
        Ok::<_, Error>(shared::sqs_batch::handle_batch(event.payload, |body| async move { worker.handle(&body, Some(until)).await.ack() }).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::worker(&shared::testing::local_env()).await.expect("the job poller wires from its SECRETS");
    }

    #[test]
    fn a_past_deadline_is_now() {
        let d = super::deadline(0);
        assert!(d <= tokio::time::Instant::now());
    }
}
