//! The deprecated `/candidates` family Lever still serves for old clients: a
//! candidate id is an opportunity id, and the object is the opportunity's
//! (plus the legacy `resume: null`). Sub-lists answer like the opportunity ones.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::Value;

use super::opportunities::{render, select};
use crate::Shared;
use crate::error::ApiResult;
use crate::json::OppView;
use crate::pagination;
use crate::respond::{self, Query};

fn candidate(st: &crate::state::State, id: &str) -> ApiResult<Value> {
    let mut v = render(st, id, OppView::Read, &[]).map_err(|_| crate::error::ApiError::not_found("candidates", id))?;
    v["resume"] = Value::Null;
    Ok(v)
}

pub async fn list(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let items = select(&st, &q)?;
    let body = pagination::page_by(items, &q, |o| candidate(&st, &o.id).unwrap_or(Value::Null))?;
    Ok(respond::json(http::StatusCode::OK, &body))
}

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    Ok(respond::ok(candidate(&st, &id)?))
}
