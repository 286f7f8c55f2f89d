//! `/v1/webhooks…` and `/v1/deliveries…`: where a partner receives events, and replays.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::cursor::{CursorScope, PageParams};
use super::extract::{Body, Id, Query};
use super::json::{opt_time, parse, shown_once, time};
use super::problem::{FieldError, Problem, ProblemType};
use crate::flows::delivery::{Delivery, DeliveryError, DeliveryStatus, MAX_SECRET_OVERLAP, NewWebhook, WebhookInfo};

impl From<DeliveryError> for Problem {
    fn from(e: DeliveryError) -> Self {
        match e {
            DeliveryError::Invalid(why) => Problem::new(ProblemType::InvalidRequest, why),
            DeliveryError::NotFound(what) => Problem::not_found(&what),
            DeliveryError::Conflict(why) => Problem::new(ProblemType::Conflict, why),
            DeliveryError::Store(s) => s.into(),
            other => Problem::internal(&other),
        }
    }
}

fn webhook_view(w: &WebhookInfo) -> Value {
    json!({
        "id": w.id,
        "url": w.url,
        "event_types": w.event_types,
        "created_at": time(w.created_at_ms),
        "secret_rotated_at": time(w.secret_rotated_at_ms),
        "previous_secrets_expire_at": opt_time(w.previous_secrets_until_ms),
    })
}

fn delivery_view(d: &Delivery) -> Value {
    json!({
        "event_id": d.event_id,
        "webhook_id": d.webhook_id,
        "event_type": d.event_type,
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": time(d.created_at_ms),
        "delivered_at": opt_time(d.delivered_at_ms),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    #[serde(default)]
    event_types: Option<Vec<String>>,
}

pub async fn create(State(s): State<Arc<ApiState>>, caller: Caller, Body(body): Body) -> Result<Response, Problem> {
    let req: CreateWebhook = parse(&body)?;
    if let Some(types) = &req.event_types {
        let profile = s.catalog.get(&caller.partner_id);
        let known = |t: &str| profile.is_some_and(|p| p.events.subscribe.iter().any(|e| e.as_str() == t));
        let unknown: Vec<FieldError> = types
            .iter()
            .enumerate()
            .filter(|(_, t)| !known(t))
            .map(|(i, t)| FieldError { field: format!("event_types[{i}]"), message: format!("{t} is not an event of this partner's profile") })
            .collect();
        if !unknown.is_empty() {
            return Err(Problem::new(ProblemType::InvalidRequest, "unknown event types").with_errors(unknown));
        }
    }
    let registered = s.delivery.register_webhook(&caller.partner_id, NewWebhook { url: req.url, event_types: req.event_types }).await?;
    let mut body = webhook_view(&registered.webhook);
    // Shown once: the partner verifies `Hub-Signature` with it.
    body["secret"] = Value::String(registered.secret.expose().to_owned());
    Ok(shown_once(StatusCode::CREATED, body))
}

pub async fn list(State(s): State<Arc<ApiState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    let hooks = s.delivery.list_webhooks(&caller.partner_id).await?;
    Ok(Json(json!({ "data": hooks.iter().map(webhook_view).collect::<Vec<_>>() })))
}

pub async fn delete(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<StatusCode, Problem> {
    if s.delivery.delete_webhook(&caller.partner_id, &id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(Problem::not_found("webhook")) }
}

/// How long the replaced secret goes on signing when the partner does not say: a day to deploy.
const DEFAULT_SECRET_OVERLAP_SECS: u64 = 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Seconds the replaced secret goes on signing beside the new one; 0 after a leak.
    previous_secret_expires_in: Option<u64>,
}

pub async fn rotate_secret(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Response, Problem> {
    let req: RotateSecret = if body.is_empty() { RotateSecret { previous_secret_expires_in: None } } else { parse(&body)? };
    let overlap = req.previous_secret_expires_in.unwrap_or(DEFAULT_SECRET_OVERLAP_SECS);
    if overlap > MAX_SECRET_OVERLAP.as_secs() {
        return Err(Problem::invalid("previous_secret_expires_in", format!("at most {} seconds (7 days)", MAX_SECRET_OVERLAP.as_secs())));
    }
    let rotated = s.delivery.rotate_webhook_secret_keeping_previous(&caller.partner_id, &id, std::time::Duration::from_secs(overlap)).await?;
    let body = json!({
        "id": id,
        "secret": rotated.secret.expose(),
        "previous_secrets_expire_at": opt_time(rotated.previous_secrets_until_ms),
    });
    Ok(shown_once(StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct DeliveryParams {
    status: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

pub async fn deliveries(State(s): State<Arc<ApiState>>, caller: Caller, Query(p): Query<DeliveryParams>) -> Result<Json<Value>, Problem> {
    let status = match p.status.as_deref().unwrap_or("dead") {
        "dead" => DeliveryStatus::Dead,
        "pending" => DeliveryStatus::Pending,
        "delivered" => DeliveryStatus::Delivered,
        other => return Err(Problem::invalid("status", format!("{other} is not one of dead, pending, delivered"))),
    };
    let page = s.pages.page(&p.page, CursorScope::new("deliveries", &caller.partner_id).of(status.as_str()))?;
    let listed = s.delivery.list_deliveries(&caller.partner_id, status, page.limit, page.cursor.clone()).await?;
    Ok(Json(json!({
        "data": listed.deliveries.iter().map(delivery_view).collect::<Vec<_>>(),
        "next_cursor": page.next(listed.cursor),
    })))
}

pub async fn replay_event(State(s): State<Arc<ApiState>>, caller: Caller, Id(event_id): Id, _body: Body) -> Result<Json<Value>, Problem> {
    let replayed = s.delivery.replay_event(&caller.partner_id, &event_id).await?;
    Ok(Json(json!({ "data": replayed.iter().map(delivery_view).collect::<Vec<_>>() })))
}
