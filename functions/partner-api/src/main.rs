//! Lambda: the partner API. Wiring only; the routes live in `shared::api`.

use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: tokens at rest, OAuth states and the Lever app.
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn router(env: &HubEnv) -> Result<axum::Router, HubError> {
    Ok(shared::api::with_public_base_from_host(shared::api::partner_routes(env.wiring(SECRETS).await?.api()?)))
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
        let _routes = super::router(&shared::testing::local_env()).await.expect("the partner API wires from its SECRETS");
    }

    /// As API Gateway's HTTP API hands a request to lambda_http: the request id in its context
    /// is the request's id, echoed as `x-request-id` (a caller's own is then not taken).
    #[tokio::test]
    async fn api_gateways_request_id_is_the_requests_id() {
        use tower::ServiceExt as _;
        let headers = serde_json::json!({"x-request-id": "from-the-caller"});
        let request = shared::testing::api_gateway_request("GET", "/v1/connections", "ANY /v1/{proxy+}", "Rk9vQjYZoAMEbXw=", headers);
        let routes = super::router(&shared::testing::local_env()).await.unwrap();
        let response = routes.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 401, "no API key");
        assert_eq!(response.headers()["x-request-id"], "Rk9vQjYZoAMEbXw=");
    }
}
