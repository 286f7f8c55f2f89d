//! Lambda: the partner API's candidate routes (submissions, uploads). Wiring only; the routes
//! live in `shared::api`. Apart from the other partner routes because only these write to Lever
//! inline and hand out upload URLs: the candidate writer, the file store and S3 are carried by
//! this function and the candidate writer alone.

use shared::hub::{HubEnv, HubError};
use shared::secrets::names;

/// Read at start in one call: Lever tokens and the Lever app (a submission is written to Lever
/// inline), and the state key (pagination cursors, a local file store's upload URLs).
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn router(env: &HubEnv) -> Result<axum::Router, HubError> {
    Ok(shared::api::with_public_base_from_host(shared::api::candidate_routes(env.wiring(SECRETS).await?.candidate_api()?)))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    lambda_http::run(router(&HubEnv::from_env()?).await?).await
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt as _;

    fn api_gateway_request(method: &str, path: &str, route_key: &str) -> axum::extract::Request {
        shared::testing::api_gateway_request(method, path, route_key, "Rk9vQjYZoAMEbXx=", serde_json::json!({}))
    }

    #[tokio::test]
    async fn starts_with_only_its_secrets() {
        let _routes = super::router(&shared::testing::local_env()).await.expect("the candidate routes wire from their SECRETS");
    }

    /// Every path API Gateway sends here is served (a partner's key is asked for), and a path of
    /// the other partner routes is not: it belongs to the partner-API function.
    #[tokio::test]
    async fn serves_the_candidate_paths_and_no_others() {
        let routes = super::router(&shared::testing::local_env()).await.unwrap();
        for (method, path, route_key) in [
            ("POST", "/v1/connections/c1/candidates", "POST /v1/connections/{id}/candidates"),
            ("GET", "/v1/connections/c1/candidates", "GET /v1/connections/{id}/candidates"),
            ("GET", "/v1/connections/c1/candidates/s1", "GET /v1/connections/{id}/candidates/{candidate_id}"),
            ("POST", "/v1/connections/c1/candidates/s1/retry", "POST /v1/connections/{id}/candidates/{candidate_id}/retry"),
            ("POST", "/v1/connections/c1/uploads", "POST /v1/connections/{id}/uploads"),
        ] {
            let response = routes.clone().oneshot(api_gateway_request(method, path, route_key)).await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path}: no API key");
            assert_eq!(response.headers()["x-request-id"], "Rk9vQjYZoAMEbXx=");
        }
        let response = routes.oneshot(api_gateway_request("GET", "/v1/connections/c1/jobs", "ANY /v1/{proxy+}")).await.unwrap();
        assert_eq!(response.status(), 404);
    }

    /// The template routes exactly the candidate paths to this function (the rest of `/v1`
    /// goes to the partner API's `/v1/{proxy+}`).
    #[test]
    fn the_template_routes_the_candidate_paths_here() {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml")).expect("infra/template.yaml");
        // The resource's lines: from its name to the next line indented less than its body.
        let block = template.lines().skip_while(|l| *l != "  CandidatesApiFunction:").skip(1).take_while(|l| l.is_empty() || l.starts_with("    "));
        let mut paths: Vec<&str> = block.filter_map(|l| l.trim().strip_prefix("Path: ")).collect();
        paths.sort_unstable();
        let mut expected = shared::api::CANDIDATE_PATHS.to_vec();
        expected.sort_unstable();
        assert_eq!(paths, expected);
    }
}
