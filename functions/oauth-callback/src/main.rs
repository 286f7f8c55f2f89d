//! Lambda: what people open in a browser: the connect page (`/connect/{token}`), the OAuth
//! callback where Lever sends the customer back, and the pages to read — the API reference
//! (`/docs`, `/openapi.json`, `/problems/{name}`) and the partner console (`/console`).

use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: tokens at rest, OAuth states and the Lever app.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn router(env: &HubEnv) -> Result<axum::Router, HubError> {
    Ok(shared::api::with_public_base_from_host(
        shared::api::oauth_routes(env.wiring(SECRETS).await?.connections()?).merge(shared::api::page_routes()),
    ))
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
        let _routes = super::router(&shared::testing::local_env()).await.expect("the OAuth routes wire from their SECRETS");
    }
}
