//! `/v1/connections/{id}/hires…`: the connection's hires (newest first) and "import now".

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::cursor::{CursorScope, PageParams};
use super::extract::{Body, Id, Query};
use super::json::{parse, time};
use super::problem::{Problem, ProblemType};
use crate::flows::hires::{HireImportRequest, HiresError};

impl From<HiresError> for Problem {
    fn from(e: HiresError) -> Self {
        match e {
            HiresError::UnknownConnection(_) => Problem::not_found("connection"),
            HiresError::NotActive(status) => {
                Problem::new(ProblemType::ConnectionNotActive, format!("the connection is {status}; the customer must connect (again) in Lever"))
            }
            HiresError::NotEnabled(why) => Problem::new(ProblemType::FlowNotEnabled, why),
            HiresError::Store(e) => e.into(),
            other => Problem::internal(&other),
        }
    }
}

pub async fn list(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Query(p): Query<PageParams>) -> Result<Json<Value>, Problem> {
    let page = s.pages.page(&p, CursorScope::new("hires", &caller.partner_id).of(&id))?;
    s.connections.get(&caller.partner_id, &id).await?;
    let (hires, next) = s.hires.page(&id, page.limit, page.cursor.clone()).await?;
    let data: Vec<Value> = hires.iter().map(|h| json!(h.view())).collect();
    Ok(Json(json!({ "data": data, "next_cursor": page.next(next) })))
}

pub async fn import(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Response, Problem> {
    // The body is optional: no body is `{}`.
    let request: HireImportRequest = if body.iter().all(u8::is_ascii_whitespace) { HireImportRequest::default() } else { parse(&body)? };
    let connection = s.connections.get(&caller.partner_id, &id).await?;
    let run = s.hires.request_import(&connection, request).await?;
    let answer = json!({
        "connection_id": run.connection_id,
        "status": "queued",
        "requested_at": time(run.due_at_ms),
        "all": request.all,
        "resend": request.resend,
    });
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}
