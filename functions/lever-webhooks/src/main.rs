//! Lambda: `POST /lever/webhooks/{connection_id}`. Verifies Lever's signature with the
//! webhook's own token, dedupes, queues the event for the router and answers at once.

use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start: the key that opens the webhooks' signature tokens.
const SECRETS: &[&str] = &[names::TOKEN_KEY];

async fn router(env: &HubEnv) -> Result<axum::Router, HubError> {
    Ok(shared::api::lever_webhooks::lever_webhook_routes(env.wiring(SECRETS).await?.lever_webhook_receiver()?))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    lambda_http::run(router(&HubEnv::from_env()?).await?).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        let _routes = super::router(&shared::testing::local_env()).await.expect("the receiver wires from its SECRETS");
    }
}
