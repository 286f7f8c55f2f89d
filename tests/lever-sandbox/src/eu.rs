//! Lever's EU data centre. With [`SandboxConfig::eu`](crate::SandboxConfig::eu) the account
//! lives in the EU: the sandbox serves it on a second listener (its own port, so a client that
//! follows Lever's redirect really changes origin), and the start address, which plays Lever's
//! global hosts, answers the account's Data API and token calls with `301 Moved Permanently` and
//! a `Location` on the EU origin, as Lever documents. The consent page (`/authorize`) stays on
//! both: the customer's browser follows any redirect of Lever's by itself.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::LOCATION;

use crate::Shared;

/// Whether the global hosts send `path` on to the account's data centre.
fn moves(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/") || path == "/oauth/token"
}

/// In front of the global origin's routes: the account's calls move to the EU origin.
pub async fn global_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let Some(eu) = shared.eu_base_url.as_deref().filter(|_| moves(req.uri().path())) else {
        return next.run(req).await;
    };
    let target = format!("{eu}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    shared.lock().counters.eu_redirects += 1;
    let body = axum::Json(serde_json::json!({"code": "MovedPermanently", "message": "This account is served by another data centre"}));
    (StatusCode::MOVED_PERMANENTLY, [(LOCATION, target)], body).into_response()
}
