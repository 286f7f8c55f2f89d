//! `/v1/connections/{id}/jobs…`: the connection's job feed (list, one job, import mark, resolve a
//! hosted job URL) and "sync now".

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::cursor::{CursorScope, PageParams};
use super::extract::{Body, Id, MAX_ID_CHARS, Query};
use super::json::{opt_time, parse, time};
use super::problem::{Problem, ProblemType, lever_problem};
use crate::core::connection::Connection;
use crate::core::job_feed::JobView;
use crate::flows::jobs::{FeedError, JobsHealth, ListFilter, Resolved, StatusFilter};

impl From<FeedError> for Problem {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::NotFound => Problem::not_found("job"),
            FeedError::NoJobsFlow => Problem::new(ProblemType::NotFound, "the partner's profile has no jobs flow, so the connection has no job feed"),
            FeedError::NotAJobUrl(why) => Problem::invalid("url", why.to_string()),
            FeedError::Invalid(why) => Problem::invalid("partner_ref", why),
            FeedError::NotActive(status) => {
                Problem::new(ProblemType::ConnectionNotActive, format!("the connection is {status}; the customer must connect (again) in Lever"))
            }
            FeedError::Lever(e) => lever_problem(e),
            FeedError::Store(e) => e.into(),
            FeedError::Internal(e) => Problem::internal(&e),
        }
    }
}

/// The connection view's `flows.jobs`.
pub fn health_view(h: &JobsHealth) -> Value {
    json!({
        "cadence": h.cadence,
        "state": h.state,
        "last_success_at": opt_time(h.last_success_at_ms),
        "last_failure_at": opt_time(h.last_failure_at_ms),
        "last_error": h.last_error,
        "next_run_at": opt_time(h.next_run_at_ms),
        "jobs_open": h.jobs_open,
    })
}

fn json_of(view: &JobView) -> Result<Value, Problem> {
    serde_json::to_value(view).map_err(|e| Problem::internal(&e))
}

/// `{id}` and `{job_id}` of the job routes, length-checked like [`Id`].
pub struct JobPath(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for JobPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path((id, job))) if id.len() > MAX_ID_CHARS || job.len() > MAX_ID_CHARS => {
                Err(Problem::new(ProblemType::NotFound, format!("no such resource: ids are at most {MAX_ID_CHARS} characters")))
            }
            Ok(axum::extract::Path((id, job))) => Ok(JobPath(id, job)),
            Err(e) => Err(Problem::new(ProblemType::BadRequest, format!("the path cannot be read: {}", e.body_text()))),
        }
    }
}

async fn connection(s: &ApiState, caller: &Caller, id: &str) -> Result<Connection, Problem> {
    Ok(s.connections.get(&caller.partner_id, id).await?)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[serde(default)]
    full: bool,
}

/// `POST …/jobs/sync`: a sync now (202); the body is optional.
pub async fn sync(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Response, Problem> {
    let req: SyncRequest = if body.iter().all(u8::is_ascii_whitespace) { SyncRequest::default() } else { parse(&body)? };
    let c = connection(&s, &caller, &id).await?;
    let run = s.jobs.request_sync(&c, req.full).await?;
    let health = s.jobs.health(&c).await?;
    let body = json!({
        "connection_id": c.id,
        "full": req.full,
        "requested_at": time(run.due_at_ms),
        "jobs": health.as_ref().map(health_view),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    status: Option<String>,
    updated_since: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn parse_time(field: &str, text: &str) -> Result<i64, Problem> {
    let t = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| Problem::invalid(field, format!("{text:?} is not an RFC 3339 time like 2026-01-31T09:00:00Z")))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| Problem::invalid(field, "out of range"))
}

/// `GET …/jobs`: the feed, `open` jobs unless `status` says otherwise.
pub async fn list(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Query(p): Query<ListParams>) -> Result<Json<Value>, Problem> {
    let status_text = p.status.as_deref().unwrap_or("open");
    let status =
        StatusFilter::parse(status_text).ok_or_else(|| Problem::invalid("status", format!("{status_text:?} is not one of open, closed, all")))?;
    let updated_since_ms = p.updated_since.as_deref().map(|t| parse_time("updated_since", t)).transpose()?;
    // A cursor only continues the list it came from: same connection, same filters.
    let scope = CursorScope::new("jobs", &caller.partner_id).of(&id).of(status_text).of(&updated_since_ms.map(|m| m.to_string()).unwrap_or_default());
    let page = s.pages.page(&PageParams { limit: p.limit, cursor: p.cursor }, scope)?;
    let c = connection(&s, &caller, &id).await?;
    let filter = ListFilter { status, updated_since_ms };
    let (jobs, next) = s.jobs.list(&c, &filter, page.limit, page.cursor.clone()).await?;
    let data = jobs.iter().map(|j| s.jobs.view(&c, j).map_err(Problem::from).and_then(|v| json_of(&v))).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "data": data, "next_cursor": page.next(next) })))
}

/// `GET …/jobs/{job_id}`: one job with every import detail.
pub async fn get(State(s): State<Arc<ApiState>>, caller: Caller, JobPath(id, job_id): JobPath) -> Result<Json<Value>, Problem> {
    let c = connection(&s, &caller, &id).await?;
    let job = s.jobs.get(&c, &job_id).await?;
    Ok(Json(json_of(&JobView::detailed(&job))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    partner_ref: String,
}

/// `POST …/jobs/{job_id}/import`: the partner imported the job.
pub async fn import(State(s): State<Arc<ApiState>>, caller: Caller, JobPath(id, job_id): JobPath, Body(body): Body) -> Result<Json<Value>, Problem> {
    let req: ImportRequest = parse(&body)?;
    let c = connection(&s, &caller, &id).await?;
    let job = s.jobs.mark_imported(&c, &job_id, &req.partner_ref).await?;
    Ok(Json(json_of(&s.jobs.view(&c, &job)?)?))
}

#[derive(Deserialize)]
pub struct ResolveParams {
    url: Option<String>,
}

/// `GET …/jobs/resolve?url=`: the job behind a Lever-hosted job URL.
pub async fn resolve(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Query(p): Query<ResolveParams>) -> Result<Json<Value>, Problem> {
    let url = p
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| Problem::invalid("url", "give the hosted job URL, e.g. https://jobs.lever.co/<site>/<posting id>"))?;
    let c = connection(&s, &caller, &id).await?;
    let (job, in_feed) = match s.jobs.resolve(&c, &url).await? {
        Resolved::InFeed(job) => (job, true),
        Resolved::FromLever(job) => (job, false),
    };
    let mut body = json_of(&JobView::detailed(&job))?;
    body["in_feed"] = Value::Bool(in_feed);
    Ok(Json(body))
}
