//! Read-only reference lists: stages, archive reasons, sources, tags.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::json;

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination;
use crate::respond::{self, Query};

pub async fn stages(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let items = pagination::positional(st.stages.iter().map(|s| (s.id.clone(), json::stage(s))).collect());
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn stage(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let s = st.stages.iter().find(|s| s.id == id).ok_or_else(|| ApiError::not_found("stages", &id))?;
    Ok(respond::ok(json::stage(s)))
}

pub async fn archive_reasons(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let kind = q.get("type");
    if let Some(k) = kind
        && k != "hired"
        && k != "non-hired"
    {
        return Err(ApiError::bad_request(format!("Invalid type: {k}")));
    }
    let st = shared.lock();
    let items = pagination::positional(
        st.archive_reasons.iter().filter(|r| kind.is_none_or(|k| r.kind == k)).map(|r| (r.id.clone(), json::archive_reason(r))).collect(),
    );
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn archive_reason(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let r = st.archive_reason(&id).ok_or_else(|| ApiError::not_found("archive_reasons", &id))?;
    Ok(respond::ok(json::archive_reason(r)))
}

/// `{text, count}` over all opportunities, alphabetical like the recordings.
fn counted(values: impl Iterator<Item = String>, extra: &[String], q: &Query) -> ApiResult<Response> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    for e in extra {
        counts.entry(e.clone()).or_default();
    }
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| a.0.to_lowercase().cmp(&b.0.to_lowercase()).then(a.0.cmp(&b.0)));
    let items = pagination::positional(sorted.into_iter().map(|(t, c)| (t.clone(), json!({"count": c, "text": t}))).collect());
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, q)?))
}

pub async fn sources(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    counted(st.opportunities.iter().flat_map(|o| o.sources.clone()), &st.known_sources, &q)
}

pub async fn tags(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    counted(st.opportunities.iter().flat_map(|o| o.tags.clone()), &[], &q)
}
