//! Lambda: every minute (EventBridge Scheduler), the connections whose flows are due at the
//! run's scheduled time are found on the due index and each due run goes to its flow's queue.
//! Reads no secrets.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::dispatch::{DispatchEvent, Dispatcher};
use shared::hub::{HubEnv, HubError};

/// The dispatcher touches neither tokens nor Lever: no secret is read at start.
const SECRETS: &[&str] = &[];

async fn dispatcher(env: &HubEnv) -> Result<(Dispatcher, shared::store::Records), HubError> {
    let wiring = env.wiring(SECRETS).await?;
    Ok((wiring.dispatcher()?, wiring.records()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let (dispatcher, records) = dispatcher(&HubEnv::from_env()?).await?;
    let (dispatcher, records) = (&dispatcher, &records);
    lambda_runtime::run(service_fn(|event: LambdaEvent<DispatchEvent>| async move {
        let report = dispatcher.dispatch_once(event.payload.now_ms(records.clock().now_ms())).await?;
        tracing::info!(due = report.due, enqueued = report.enqueued, taken = report.taken_by_another, failed = report.failed, "dispatch done");
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_without_secrets() {
        super::dispatcher(&shared::testing::local_env()).await.expect("the dispatcher wires without secrets");
    }
}
