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
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "ANY /v1/{proxy+}", "rawPath": "/v1/connections", "rawQueryString": "",
            "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-request-id": "from-the-caller"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                "requestId": "Rk9vQjYZoAMEbXw=", "routeKey": "ANY /v1/{proxy+}", "stage": "$default", "time": "01/Dec/2026:12:00:00 +0000",
                "timeEpoch": 1_795_000_000_000_i64,
                "http": {"method": "GET", "path": "/v1/connections", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"}
            },
            "isBase64Encoded": false
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event");
        let request = request.map(|body| axum::body::Body::from(body.to_vec()));
        let routes = super::router(&shared::testing::local_env()).await.unwrap();
        let response = routes.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 401, "no API key");
        assert_eq!(response.headers()["x-request-id"], "Rk9vQjYZoAMEbXw=");
    }
}
