//! The stack's own endpoint (not part of the template's API): what each function did, the
//! checks, and a way to kill a function's busy processes for crash tests.
//!
//! - `GET /_stack/report`: per function, invocations, errors, timeouts, crashes, processes and
//!   peak memory; per SQS mapping, messages received, deleted and kept; every AWS call with its
//!   IAM decision; the stand-ins' endpoints and the resources' names.
//! - `GET /_stack/checks`: the environment, IAM and route checks (`checks.rs`), run now.
//! - `POST /_stack/functions/{name}/kill`: kills the function's processes that are handling an
//!   invocation, as a crash would.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::stack::Stack;

pub struct Admin {
    pub stack: Arc<Stack>,
    pub openapi: PathBuf,
}

async fn report(State(admin): State<Arc<Admin>>) -> Response {
    let stack = &admin.stack;
    let functions: serde_json::Map<String, serde_json::Value> =
        stack.functions.iter().map(|(name, host)| (name.clone(), serde_json::json!(host.stats()))).collect();
    let mappings: Vec<_> = stack.mappings.iter().map(|m| m.stats()).collect();
    Json(serde_json::json!({
        "functions": functions,
        "mappings": mappings,
        "aws_calls": stack.calls.calls(),
        "dynamodb": stack.services.dynamodb,
        "moto": stack.services.moto,
        "table": stack.table,
        "bucket": stack.bucket,
        "queues": stack.queue_urls,
        "logs": stack.logs,
    }))
    .into_response()
}

async fn checks(State(admin): State<Arc<Admin>>) -> Response {
    match crate::checks::run(&admin.stack, &admin.openapi).await {
        Ok(checks) => Json(serde_json::json!({"passed": checks.passed(), "checks": checks})).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("the checks did not run: {e:#}")).into_response(),
    }
}

async fn kill(State(admin): State<Arc<Admin>>, Path(name): Path<String>) -> Response {
    match admin.stack.functions.get(&name) {
        Some(host) => Json(serde_json::json!({"killed": host.kill_busy()})).into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, format!("no function {name}")).into_response(),
    }
}

pub fn router(admin: Arc<Admin>) -> axum::Router {
    axum::Router::new()
        .route("/_stack/report", get(report))
        .route("/_stack/checks", get(checks))
        .route("/_stack/functions/{name}/kill", post(kill))
        .with_state(admin)
}
