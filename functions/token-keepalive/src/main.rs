//! Lambda: on a schedule, refresh every active connection whose Lever grant has been idle long
//! enough to be at risk (refresh tokens die after 90 idle days).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::connections::Connections;
use shared::flows::partners::Partners;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: tokens at rest, the Lever app, and the state key the connection
/// flows are built with.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn flows(env: &HubEnv) -> Result<(Partners, Connections), HubError> {
    let wiring = env.wiring(SECRETS).await?;
    Ok((wiring.partners(), wiring.connections()?))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let (partners, connections) = flows(&HubEnv::from_env()?).await?;
    let (partners, connections) = (&partners, &connections);
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        let report = shared::flows::keepalive::run(partners, connections).await?;
        tracing::info!(checked = report.checked, refreshed = report.refreshed, failed = report.failed, "keep-alive done");
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::flows(&shared::testing::local_env()).await.expect("keep-alive wires from its SECRETS");
    }
}
