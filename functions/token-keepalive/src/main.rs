//! Lambda: on a schedule, refresh every active connection whose Lever grant has been idle long
//! enough to be at risk (refresh tokens die after 90 idle days).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::hub::HubEnv;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let hub = HubEnv::from_env()?.build().await?;
    let hub = &hub;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        let report = shared::flows::keepalive::run(&hub.partners, &hub.connections).await?;
        tracing::info!(checked = report.checked, refreshed = report.refreshed, failed = report.failed, "keep-alive done");
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
