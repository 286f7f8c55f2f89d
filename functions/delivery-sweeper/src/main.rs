//! Lambda: every minute, the partner events that were stored but never queued (a process died
//! between the two) are found on the sweep index (no scan) and their deliveries queued.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::delivery::EventDelivery;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;
use shared::store::Records;

/// Read at start: the key that opens partner webhook secrets (the delivery flow holds it).
const SECRETS: &[&str] = &[names::TOKEN_KEY];

/// One invocation sweeps at most this many rounds; the next minute continues.
const ROUNDS: usize = 10;

async fn sweeper(env: &HubEnv) -> Result<(EventDelivery, Records), HubError> {
    let wiring = env.wiring(SECRETS).await?;
    Ok((wiring.delivery()?, wiring.records()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let (delivery, records) = sweeper(&HubEnv::from_env()?).await?;
    let (delivery, records) = (&delivery, &records);
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        let (mut checks, mut queued) = (0, 0);
        for _ in 0..ROUNDS {
            let report = delivery.sweep_once(records.clock().now_ms()).await?;
            checks += report.checks;
            queued += report.queued;
            if !report.more {
                break;
            }
        }
        if queued > 0 {
            tracing::warn!(checks, queued, "sweeper queued deliveries that were stored but not queued");
        }
        Ok::<_, Error>(serde_json::json!({ "checks": checks, "queued": queued }))
    }))
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::sweeper(&shared::testing::local_env()).await.expect("the sweeper wires from its SECRETS");
    }
}
