//! `POST /lever/webhooks/{connection_id}`: where Lever delivers the webhooks the hub registered.
//! Lever treats any 2xx as delivered and retries anything else, so: 200 for accepted, duplicate
//! and test deliveries; 401 for what we refuse (it is never processed); 400 for a body that is not
//! a Lever webhook; 503 when the event could not be queued (Lever's retry is then accepted).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use crate::flows::lever_events::{LeverWebhookReceiver, Receipt, ReceiveError};

/// Lever's deliveries are small envelopes; anything larger is not one.
const MAX_BODY: usize = 256 * 1024;

pub fn lever_webhook_routes(receiver: LeverWebhookReceiver) -> Router {
    Router::new()
        .route("/lever/webhooks/{connection_id}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(super::request_span::request_span))
        .with_state(Arc::new(receiver))
}

async fn receive(
    State(receiver): State<Arc<LeverWebhookReceiver>>,
    Path(connection_id): Path<String>,
    body: Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    match receiver.receive(&connection_id, &body).await {
        Ok(receipt) => {
            let outcome = match receipt {
                Receipt::Accepted => "accepted",
                Receipt::Duplicate => "duplicate",
                Receipt::Test => "test",
            };
            (StatusCode::OK, Json(json!({ "received": outcome })))
        }
        Err(ReceiveError::Refused(why)) => (StatusCode::UNAUTHORIZED, Json(json!({ "error": "refused", "detail": why }))),
        Err(ReceiveError::Malformed(_)) => (StatusCode::BAD_REQUEST, Json(json!({ "error": "malformed", "detail": "not a Lever webhook envelope" }))),
        Err(ReceiveError::Unavailable(e)) => {
            tracing::error!(connection_id, error = %e, "Lever webhook not queued; Lever will retry");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "unavailable" })))
        }
    }
}
