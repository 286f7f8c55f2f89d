//! `POST /lever/webhooks/{connection_id}`: where Lever delivers the webhooks the hub registered.
//! Lever treats any 2xx as delivered and retries anything else, so: 200 for accepted, duplicate
//! and test deliveries; 401 for what we refuse (it is never processed), one answer whatever the
//! reason; 400 for a body that is not a Lever webhook, 413 for one over 256 KiB; 503 when the
//! event could not be queued (Lever's retry is then accepted). Every refusal is a problem document.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::problem::{Problem, ProblemType};
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
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Problem::new(ProblemType::PayloadTooLarge, format!("a Lever delivery is at most {} KiB", MAX_BODY / 1024)).into_response();
        }
        Err(rejection) => return Problem::new(ProblemType::BadRequest, rejection.body_text()).into_response(),
    };
    match receiver.receive(&connection_id, &body).await {
        Ok(receipt) => {
            let outcome = match receipt {
                Receipt::Accepted => "accepted",
                Receipt::Duplicate => "duplicate",
                Receipt::Test => "test",
            };
            (StatusCode::OK, Json(json!({ "received": outcome }))).into_response()
        }
        Err(ReceiveError::Refused(why)) => {
            // Why goes to the log only: the answer is the same for an unknown connection and a
            // bad signature, so it cannot be used to find which connections exist.
            tracing::info!(connection_id, why, "Lever webhook delivery refused");
            Problem::new(ProblemType::WebhookNotVerified, "not a delivery this hub can verify").into_response()
        }
        Err(ReceiveError::Malformed(_)) => Problem::new(ProblemType::BadRequest, "not a Lever webhook envelope").into_response(),
        Err(ReceiveError::Unavailable(e)) => {
            tracing::error!(connection_id, error = %e, "Lever webhook not queued; Lever will retry");
            Problem::new(ProblemType::Unavailable, "the delivery was not stored; Lever retries it").into_response()
        }
    }
}
