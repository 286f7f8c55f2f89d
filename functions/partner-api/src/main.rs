//! Lambda: the partner API. Wiring only; the routes live in `shared::api`.

use shared::hub::HubEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let hub = HubEnv::from_env()?.build().await?;
    lambda_http::run(shared::api::partner_routes(hub.api())).await
}
