//! Lambda: one batch of verified Lever events (SQS). Each event goes to the handlers of its type;
//! messages a handler wants retried are reported as batch item failures, so SQS redelivers them
//! (and after the redrive limit, dead-letters them).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::flows::lever_events::LeverEventRouter;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: the handlers call Lever with the connection's tokens.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn router(env: &HubEnv) -> Result<LeverEventRouter, HubError> {
    env.wiring(SECRETS).await?.lever_event_router()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let router = &router(&HubEnv::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(shared::sqs_batch::handle_batch(event.payload, |body| async move { router.handle(&body).await.ack() }).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        super::router(&shared::testing::local_env()).await.expect("the router wires from its SECRETS");
    }
}
