//! The partner API: an axum router, served by lambda_http in AWS and by axum locally.
//! Routes are thin: parse, authenticate, call a flow, render. See `docs/openapi.yaml`.

pub mod auth;
pub mod callback;
pub mod candidates;
pub mod connect;
mod connect_page;
pub mod connections;
mod consent_page;
pub mod console;
pub mod cursor;
pub mod docs;
pub mod erasures;
pub mod extract;
pub mod hires;
mod html;
pub mod jobs;
pub mod json;
pub mod keys;
pub mod lever_webhooks;
pub mod listener;
pub mod local_uploads;
pub mod problem;
pub mod profile;
pub mod request_span;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use cursor::CursorSeal;

use crate::core::catalog::ProfileCatalog;
use crate::flows::candidates::Candidates;
use crate::flows::connections::Connections;
use crate::flows::delivery::EventDelivery;
use crate::flows::hires::Hires;
use crate::flows::jobs::JobFeed;
use crate::flows::partners::Partners;

/// What the partner routes other than the candidate routes need; built once per process.
pub struct ApiState {
    pub partners: Partners,
    pub connections: Connections,
    pub delivery: EventDelivery,
    pub catalog: Arc<ProfileCatalog>,
    pub hires: Hires,
    pub jobs: JobFeed,
    /// Seals the pagination cursors of every list route.
    pub pages: Arc<CursorSeal>,
}

/// What the candidate routes need. In AWS they are their own function: only it (and the
/// candidate writer) carries the writer, the file store and S3.
pub struct CandidateApiState {
    pub partners: Partners,
    pub candidates: Candidates,
    pub pages: Arc<CursorSeal>,
}

impl auth::PartnerRoutes for ApiState {
    fn partners(&self) -> &Partners {
        &self.partners
    }
}

impl auth::PartnerRoutes for CandidateApiState {
    fn partners(&self) -> &Partners {
        &self.partners
    }
}

/// The partner routes under `/v1` but candidates, and the API's own documentation
/// (`/openapi.json`, `/docs`, the pages of the problem types).
pub fn partner_routes(state: Arc<ApiState>) -> Router {
    as_partner_api(partner_table().with_state(state))
}

/// The candidate routes: submissions, uploads and erasures.
pub fn candidate_routes(state: Arc<CandidateApiState>) -> Router {
    as_partner_api(candidate_table().with_state(state))
}

fn partner_table() -> Router<Arc<ApiState>> {
    use connections as c;
    Router::new()
        .route("/v1/connections", post(c::create).get(c::list))
        .route("/v1/connections/{id}", get(c::get).patch(c::patch).delete(c::delete))
        .route("/v1/connections/{id}/reconnect", post(c::reconnect))
        .route("/v1/connections/{id}/lever/users", get(c::lever_users))
        .route("/v1/connections/{id}/lever/stages", get(c::lever_stages))
        .route("/v1/connections/{id}/activity", get(c::activity))
        .route("/v1/connections/{id}/hires", get(hires::list))
        .route("/v1/connections/{id}/hires/import", post(hires::import))
        .route("/v1/connections/{id}/jobs", get(jobs::list))
        .route("/v1/connections/{id}/jobs/sync", post(jobs::sync))
        .route("/v1/connections/{id}/jobs/resolve", get(jobs::resolve))
        .route("/v1/connections/{id}/jobs/{job_id}", get(jobs::get))
        .route("/v1/connections/{id}/jobs/{job_id}/import", post(jobs::import))
        .route("/v1/profile", get(profile::get))
        .route("/v1/api-keys", post(keys::create).get(keys::list))
        .route("/v1/api-keys/{id}", axum::routing::delete(keys::revoke))
        .route("/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/v1/webhooks/{id}/rotate-secret", post(webhooks::rotate_secret))
        .route("/v1/deliveries", get(webhooks::deliveries))
        .route("/v1/events/{id}/replay", post(webhooks::replay_event))
}

/// The pages people read: the API reference and its document, the problem pages, the partner
/// console, with their files. In AWS the browser's function serves them beside the connect
/// pages, so the partner API's binary carries none of their assets.
pub fn page_routes() -> Router {
    docs::routes()
        .merge(console::routes())
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .layer(axum::middleware::from_fn(request_span::request_span))
}

/// The paths of [`candidate_routes`] (API Gateway sends exactly these to their function).
pub const CANDIDATE_PATHS: [&str; 6] = [
    "/v1/connections/{id}/candidates",
    "/v1/connections/{id}/candidates/{candidate_id}",
    "/v1/connections/{id}/candidates/{candidate_id}/retry",
    "/v1/connections/{id}/uploads",
    "/v1/erasures",
    "/v1/erasures/{id}",
];

fn candidate_table() -> Router<Arc<CandidateApiState>> {
    let [submissions, submission, retry, uploads, erasures_path, erasure] = CANDIDATE_PATHS;
    Router::new()
        .route(submissions, post(candidates::create).get(candidates::list))
        .route(submission, get(candidates::get))
        .route(retry, post(candidates::retry))
        .route(uploads, post(candidates::create_upload))
        // Erasures reach the file store and the writer's records: they live where those do.
        .route(erasures_path, post(erasures::create))
        .route(erasure, get(erasures::get))
}

/// What every set of partner routes shares: problem documents for unknown routes and methods
/// and for every error, the body limit, the request span.
fn as_partner_api(routes: Router) -> Router {
    routes
        .fallback(|| async { connections::problem_for_unknown_route() })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(problem::ProblemType::MethodNotAllowed, "this route does not take this method; see /docs")
        })
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .layer(axum::middleware::from_fn(request_span::request_span))
}

/// The customer's browser during connect: the connect page and the OAuth callback (their own
/// Lambda in AWS, which serves [`page_routes`] too).
pub fn oauth_routes(connections: Connections) -> Router {
    Router::new()
        .route("/oauth/callback", get(callback::oauth_callback))
        .route("/connect/{token}", get(connect::show).post(connect::proceed))
        .method_not_allowed_fallback(|| async { problem::Problem::new(problem::ProblemType::MethodNotAllowed, "browsers come here with GET") })
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .layer(axum::middleware::from_fn(request_span::request_span))
        .with_state(connections)
}

/// Everything the hub serves over HTTP, for local runs and end-to-end tests.
pub fn router(state: Arc<ApiState>, candidates: Arc<CandidateApiState>) -> Router {
    let partner_api = as_partner_api(partner_table().with_state(state.clone()).merge(candidate_table().with_state(candidates)));
    oauth_routes(state.connections.clone()).merge(page_routes()).merge(partner_api).route("/healthz", get(|| async { "ok" }))
}

/// For functions behind API Gateway without `HUB_PUBLIC_URL`: each request's public base URL is
/// `https://<Host>` (API Gateway routes by host, so it is the domain the caller used).
pub fn with_public_base_from_host(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(|req: axum::extract::Request, next: axum::middleware::Next| async move {
        let base = req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|host| url::Url::parse(&format!("https://{host}")).ok())
            .filter(|u| u.path() == "/" && u.query().is_none());
        match base {
            Some(base) => crate::flows::public_urls::with_request_base(base, next.run(req)).await,
            None => next.run(req).await,
        }
    }))
}
