//! `/v1/api-keys…`: a partner rotates its own keys — issue a new one (shown once), switch,
//! revoke the old one. Keys are listed by id only.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::extract::{Body, Id};
use super::json::{parse, shown_once, time};
use super::problem::{Problem, ProblemType};
use crate::flows::partners::{OwnKeyRevocation, PartnerError};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    label: Option<String>,
}

pub async fn list(State(s): State<Arc<ApiState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    let keys = s.partners.list_keys(&caller.partner_id).await.map_err(|e| Problem::internal(&e))?;
    let data: Vec<Value> = keys.iter().map(|k| json!({"id": k.key_id, "label": k.label, "created_at": time(k.created_at_ms)})).collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn create(State(s): State<Arc<ApiState>>, caller: Caller, Body(body): Body) -> Result<Response, Problem> {
    let req: NewKey = if body.iter().all(u8::is_ascii_whitespace) { NewKey::default() } else { parse(&body)? };
    if req.label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(Problem::invalid("label", "at most 100 characters"));
    }
    let issued = match s.partners.issue_key(&caller.partner_id, req.label.clone()).await {
        Ok(issued) => issued,
        // A limit reached is a conflict with what the partner holds now (as the cap on signing
        // secrets is), not a fault in the request: revoking a key makes the same request succeed.
        Err(e @ PartnerError::TooManyKeys) => return Err(Problem::new(ProblemType::Conflict, e.to_string())),
        Err(e) => return Err(Problem::internal(&e)),
    };
    let body = json!({ "id": issued.key_id, "label": req.label, "key": issued.secret.expose() });
    Ok(shown_once(StatusCode::CREATED, body))
}

pub async fn revoke(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<StatusCode, Problem> {
    match s.partners.revoke_own_key(&caller.partner_id, &id).await.map_err(|e| Problem::internal(&e))? {
        OwnKeyRevocation::Revoked => Ok(StatusCode::NO_CONTENT),
        OwnKeyRevocation::NotFound => Err(Problem::not_found("API key")),
        OwnKeyRevocation::LastKey => {
            Err(Problem::new(ProblemType::LastApiKey, format!("{id} is the partner's only API key; issue a new one with POST /v1/api-keys first")))
        }
    }
}
