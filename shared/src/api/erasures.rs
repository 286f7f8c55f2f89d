//! `/v1/erasures…`: a partner asks the hub to erase one person from what it holds (never from
//! Lever: that copy is the customer's), and reads back what was erased.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::CandidateApiState;
use super::auth::Caller;
use super::extract::{Body, Id, MAX_ID_CHARS};
use super::json::{opt_time, parse, time};
use super::problem::{FieldError, Problem, ProblemType};
use crate::core::submission::normalize_email;
use crate::flows::candidates::{ErasureRecord, ErasureStatus, ErasureTarget};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    lever_opportunity_id: Option<String>,
    #[serde(default)]
    connection_id: Option<String>,
}

fn invalid(field: &str, message: &str) -> Problem {
    Problem::new(ProblemType::InvalidRequest, format!("{field}: {message}"))
        .with_errors(vec![FieldError { field: field.to_owned(), message: message.to_owned() }])
}

/// Lever's ids: letters, digits and `-` (never a key separator of the store).
fn is_lever_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn target_of(request: ErasureRequest) -> Result<(ErasureTarget, Option<String>), Problem> {
    let target = match (request.email, request.lever_opportunity_id) {
        (Some(email), None) => ErasureTarget::Email(normalize_email(&email).ok_or_else(|| invalid("email", "not an email address"))?),
        (None, Some(id)) if is_lever_id(&id) => ErasureTarget::Opportunity(id),
        (None, Some(_)) => return Err(invalid("lever_opportunity_id", "not a Lever opportunity id")),
        _ => return Err(invalid("email", "give exactly one of email and lever_opportunity_id")),
    };
    Ok((target, request.connection_id))
}

pub fn erasure_view(r: &ErasureRecord) -> Value {
    json!({
        "id": r.id,
        "status": match r.status { ErasureStatus::Pending => "pending", ErasureStatus::Completed => "completed" },
        "connection_id": r.connection_id,
        "counts": r.counts,
        "created_at": time(r.created_at_ms),
        "completed_at": opt_time(r.completed_at_ms),
    })
}

pub async fn create(State(s): State<Arc<CandidateApiState>>, caller: Caller, Body(body): Body) -> Result<Response, Problem> {
    let (target, connection_id) = target_of(parse(&body)?)?;
    if connection_id.as_deref().is_some_and(|c| c.is_empty() || c.len() > MAX_ID_CHARS) {
        return Err(Problem::not_found("connection"));
    }
    let record = s.candidates.erasures().erase(&caller.partner_id, target, connection_id.as_deref()).await?;
    let mut response = (StatusCode::ACCEPTED, Json(erasure_view(&record))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/erasures/{}", record.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn get(State(s): State<Arc<CandidateApiState>>, caller: Caller, Id(id): Id) -> Result<Json<Value>, Problem> {
    let record = s.candidates.erasures().erasure(&caller.partner_id, &id).await?;
    Ok(Json(erasure_view(&record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_exactly_one_person() {
        let req = |email: Option<&str>, opp: Option<&str>| ErasureRequest {
            email: email.map(str::to_owned),
            lever_opportunity_id: opp.map(str::to_owned),
            connection_id: None,
        };
        assert!(matches!(target_of(req(Some(" Ada@Example.com "), None)), Ok((ErasureTarget::Email(_), None))));
        assert!(matches!(target_of(req(None, Some("0f3c-aa"))), Ok((ErasureTarget::Opportunity(_), None))));
        for bad in [req(None, None), req(Some("a@b.example"), Some("x")), req(Some("not mail"), None), req(None, Some("a#b"))] {
            assert_eq!(target_of(bad).err().and_then(|p| p.kind()), Some(ProblemType::InvalidRequest));
        }
    }
}
