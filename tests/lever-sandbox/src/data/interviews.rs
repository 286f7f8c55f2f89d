//! Interviews, panels and feedback of one opportunity (read-only here; the
//! sandbox's `Admin` schedules, changes and cancels interviews).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::Value;

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination::{self, Key};
use crate::respond::{self, Query};
use crate::state::State as Account;

fn opp<'a>(st: &'a Account, id: &str) -> ApiResult<&'a crate::state::Opportunity> {
    st.opportunity(id).ok_or_else(|| ApiError::not_found("opportunities", id))
}

fn list_of(items: Vec<(Key, Value)>, raw: Option<String>) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn interviews(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let items = st
        .interviews
        .get(&id)
        .map(|l| l.iter().map(|i| (Key { rank: 0.0, ts: i.created_at, id: i.id.clone() }, json::interview(&st, &id, i))).collect());
    list_of(items.unwrap_or_default(), raw)
}

pub async fn interview(State(shared): State<Shared>, Path((id, item)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let i = st.interviews.get(&id).and_then(|l| l.iter().find(|i| i.id == item)).ok_or_else(|| ApiError::not_found("interviews", &item))?;
    Ok(respond::ok(json::interview(&st, &id, i)))
}

pub async fn panels(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let items =
        st.panels.get(&id).map(|l| l.iter().map(|p| (Key { rank: 0.0, ts: p.created_at, id: p.id.clone() }, json::panel(&st, &id, p))).collect());
    list_of(items.unwrap_or_default(), raw)
}

pub async fn panel(State(shared): State<Shared>, Path((id, item)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let p = st.panels.get(&id).and_then(|l| l.iter().find(|p| p.id == item)).ok_or_else(|| ApiError::not_found("panels", &item))?;
    Ok(respond::ok(json::panel(&st, &id, p)))
}

pub async fn feedback_list(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let items = st.feedback.get(&id).map(|l| l.iter().map(|f| (Key { rank: 0.0, ts: f.created_at, id: f.id.clone() }, json::feedback(f))).collect());
    list_of(items.unwrap_or_default(), raw)
}

pub async fn feedback(State(shared): State<Shared>, Path((id, item)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    opp(&st, &id)?;
    let f = st.feedback.get(&id).and_then(|l| l.iter().find(|f| f.id == item)).ok_or_else(|| ApiError::not_found("feedback", &item))?;
    Ok(respond::ok(json::feedback(f)))
}
