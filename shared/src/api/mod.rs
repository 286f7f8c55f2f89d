//! The partner API: an axum router, served by lambda_http in AWS and by axum locally.
//! Routes are thin: parse, authenticate, call a flow, render. See `docs/openapi.yaml`.

pub mod auth;
pub mod callback;
pub mod connect;
pub mod connections;
pub mod json;
pub mod keys;
pub mod problem;
pub mod webhooks;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::core::catalog::ProfileCatalog;
use crate::flows::connections::Connections;
use crate::flows::delivery::EventDelivery;
use crate::flows::jobs::JobFeed;
use crate::flows::partners::Partners;

/// What the routes need; built once per process.
pub struct ApiState {
    pub partners: Partners,
    pub connections: Connections,
    pub delivery: EventDelivery,
    pub catalog: Arc<ProfileCatalog>,
    pub jobs: JobFeed,
}

/// Partner routes under `/v1`.
pub fn partner_routes(state: Arc<ApiState>) -> Router {
    use connections as c;
    Router::new()
        .route("/v1/connections", post(c::create).get(c::list))
        .route("/v1/connections/{id}", get(c::get).patch(c::patch).delete(c::delete))
        .route("/v1/connections/{id}/reconnect", post(c::reconnect))
        .route("/v1/connections/{id}/lever/users", get(c::lever_users))
        .route("/v1/connections/{id}/lever/stages", get(c::lever_stages))
        .route("/v1/connections/{id}/activity", get(c::activity))
        .route("/v1/api-keys", post(keys::create).get(keys::list))
        .route("/v1/api-keys/{id}", axum::routing::delete(keys::revoke))
        .route("/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/v1/webhooks/{id}/rotate-secret", post(webhooks::rotate_secret))
        .route("/v1/deliveries", get(webhooks::deliveries))
        .route("/v1/events/{id}/replay", post(webhooks::replay_event))
        .fallback(|| async { c::problem_for_unknown_route() })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(problem::ProblemType::MethodNotAllowed, "see the OpenAPI document for the methods of this route")
        })
        .with_state(state)
}

/// The OAuth callback (its own Lambda in AWS).
pub fn oauth_routes(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/oauth/callback", get(callback::oauth_callback))
        .route("/connect/{state}", get(connect::open))
        .with_state(state)
}

/// Everything the hub serves over HTTP, for local runs and end-to-end tests.
pub fn router(state: Arc<ApiState>) -> Router {
    oauth_routes(state.clone()).merge(partner_routes(state)).route("/healthz", get(|| async { "ok" }))
}
