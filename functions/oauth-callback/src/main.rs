//! Lambda: `GET /oauth/callback`, where Lever sends the customer back after consent.

use shared::hub::HubEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let hub = HubEnv::from_env()?.build().await?;
    lambda_http::run(shared::api::oauth_routes(hub.api())).await
}
