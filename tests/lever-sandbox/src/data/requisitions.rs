//! `GET /requisitions[/:id]` and `GET /requisition_fields[/:id]` (read-only).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::in_window;
use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination::{self, Key};
use crate::respond::{self, Query};

const STATUSES: &[&str] = &["open", "onHold", "closed", "draft"];

pub async fn list(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let statuses = q.all("status");
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(ApiError::bad_request(format!("Invalid status: {bad}")));
    }
    let codes = q.all("requisition_code");
    let st = shared.lock();
    let mut items = vec![];
    for r in &st.requisitions {
        if (!statuses.is_empty() && !statuses.contains(&r.status)) || (!codes.is_empty() && !codes.contains(&r.code)) {
            continue;
        }
        if !in_window(&q, "created_at", r.created_at)? {
            continue;
        }
        items.push((Key { rank: 0.0, ts: r.created_at, id: r.id.clone() }, r));
    }
    let body = pagination::page_by(items, &q, |r| json::requisition(r))?;
    Ok(respond::json(http::StatusCode::OK, &body))
}

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let r = st.requisitions.iter().find(|r| r.id == id).ok_or_else(|| ApiError::not_found("requisitions", &id))?;
    Ok(respond::ok(json::requisition(r)))
}

/// The account's custom requisition fields (fixed in the sandbox).
fn fields() -> Vec<Value> {
    vec![
        json!({"id": "cost_center", "text": "Cost center", "type": "text", "isRequired": false}),
        json!({"id": "hiring_reason", "text": "Hiring reason", "type": "dropdown", "isRequired": true,
               "options": [{"text": "New headcount"}, {"text": "Backfill"}]}),
        json!({"id": "target_start", "text": "Target start date", "type": "date", "isRequired": false}),
    ]
}

/// Recorded: this list has no `hasNext`, only `data`.
pub async fn fields_list() -> ApiResult<Response> {
    Ok(respond::json(http::StatusCode::OK, &json!({"data": fields()})))
}

pub async fn field(Path(id): Path<String>) -> ApiResult<Response> {
    let f = fields().into_iter().find(|f| f["id"] == id.as_str()).ok_or_else(|| ApiError::not_found("requisition_fields", &id))?;
    Ok(respond::ok(f))
}
