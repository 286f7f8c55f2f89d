//! `/v1/connections/{id}/candidates…` and `/v1/connections/{id}/uploads`: a partner's referrals,
//! applications and screening results into Lever.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::CandidateApiState;
use super::auth::Caller;
use super::cursor::{CursorScope, PageParams};
use super::extract::{Body, Id, IdPair, Query};
use super::json::{parse, time};
use super::problem::{FieldError, Problem, ProblemType};
use crate::core::submission::{MAX_INLINE_BYTES, Submission};
use crate::flows::candidates::{CandidateError, NewUpload, RefusalKind, SubmitAnswer, SubmitOutcome, submission_view};

/// The largest `POST …/candidates` body: 4 MiB of files is 5.6 MB in base64, and the rest fits
/// beside it inside Lambda's 6 MB request limit.
pub const MAX_CANDIDATE_BODY_BYTES: usize = 5_800_000;

const _: () = assert!((MAX_INLINE_BYTES as usize).div_ceil(3) * 4 + 100_000 < MAX_CANDIDATE_BODY_BYTES);

impl From<CandidateError> for Problem {
    fn from(e: CandidateError) -> Self {
        match e {
            CandidateError::NotFound(what) => Problem::not_found(what),
            CandidateError::Invalid(fields) => {
                Problem::new(ProblemType::InvalidRequest, fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))
                    .with_errors(fields)
            }
            CandidateError::BadKey(why) => Problem::new(ProblemType::BadRequest, format!("Idempotency-Key: {why}"))
                .with_errors(vec![FieldError { field: "Idempotency-Key".into(), message: why }]),
            CandidateError::KeyReused => Problem::new(
                ProblemType::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request; use a new key for a new submission",
            ),
            CandidateError::KeyInUse => {
                Problem::new(ProblemType::IdempotencyKeyInUse, "the first request with this Idempotency-Key is still being handled").retry_after(1)
            }
            CandidateError::NotActive(status) => Problem::new(
                ProblemType::ConnectionNotActive,
                format!("the connection is {status}; the customer must connect (again) in Lever before candidates can be sent"),
            ),
            CandidateError::Conflict(why) => Problem::new(ProblemType::Conflict, why),
            CandidateError::UploadUsed(fields) => {
                Problem::new(ProblemType::UploadUsed, fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))
                    .with_errors(fields)
            }
            CandidateError::NoCandidatesFlow => Problem::new(ProblemType::InvalidRequest, "this partner's profile pushes no candidates"),
            CandidateError::Store(e) => e.into(),
            other @ (CandidateError::Files(_) | CandidateError::Queue(_)) => Problem::internal(&other),
        }
    }
}

fn with_location(mut response: Response, location: Option<&str>) -> Response {
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// The HTTP answer for a submission's outcome (the same for a replay: the outcome is stored).
fn render(a: SubmitAnswer) -> Response {
    let answer = a.answer;
    let status = match &answer.outcome {
        SubmitOutcome::Created => StatusCode::CREATED,
        SubmitOutcome::Updated => StatusCode::OK,
        SubmitOutcome::Accepted => StatusCode::ACCEPTED,
        SubmitOutcome::Refused(p) => {
            let kind = match p.kind {
                RefusalKind::ConnectionNotActive => ProblemType::ConnectionNotActive,
                RefusalKind::InvalidRequest => ProblemType::InvalidRequest,
                RefusalKind::LeverRejected => ProblemType::LeverRejected,
            };
            let errors = p.errors.iter().map(|(field, message)| FieldError { field: field.clone(), message: message.clone() }).collect();
            return replayed(Problem::new(kind, p.detail.clone()).with_errors(errors).into_response(), a.replayed);
        }
    };
    replayed(with_location((status, Json(answer.body)).into_response(), answer.location.as_deref()), a.replayed)
}

fn replayed(mut response: Response, replayed: bool) -> Response {
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// `POST /v1/connections/{id}/candidates`.
pub async fn create(
    State(s): State<Arc<CandidateApiState>>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, Problem> {
    let bytes = axum::body::to_bytes(body, MAX_CANDIDATE_BODY_BYTES).await.map_err(|_| {
        Problem::new(
            ProblemType::PayloadTooLarge,
            format!(
                "the body is larger than {} bytes: files over {} MiB in all go through POST /v1/connections/{{id}}/uploads (upload_id)",
                MAX_CANDIDATE_BODY_BYTES,
                MAX_INLINE_BYTES / (1024 * 1024)
            ),
        )
    })?;
    let Some(key) = headers.get("idempotency-key") else {
        return Err(CandidateError::BadKey("required: one key per submission, reused on every retry of it".into()).into());
    };
    let key = key.to_str().map_err(|_| Problem::from(CandidateError::BadKey("must be visible ASCII".into())))?.to_owned();
    let submission: Submission = parse(&bytes)?;
    let answer = s.candidates.intake().submit(&caller.partner_id, &id, Some(&key), &submission, &bytes).await?;
    Ok(render(answer))
}

/// `GET /v1/connections/{id}/candidates`: newest first.
pub async fn list(State(s): State<Arc<CandidateApiState>>, caller: Caller, Id(id): Id, Query(p): Query<PageParams>) -> Result<Json<Value>, Problem> {
    let page = s.pages.page(&p, CursorScope::new("candidates", &caller.partner_id).of(&id))?;
    let (items, next, connection) = s.candidates.submissions().list(&caller.partner_id, &id, page.limit, page.cursor.clone()).await?;
    let data: Vec<Value> = items.iter().map(|r| submission_view(r, Some(&connection.settings))).collect();
    Ok(Json(json!({ "data": data, "next_cursor": page.next(next) })))
}

/// `GET /v1/connections/{id}/candidates/{candidate_id}`.
pub async fn get(State(s): State<Arc<CandidateApiState>>, caller: Caller, IdPair(id, candidate): IdPair) -> Result<Json<Value>, Problem> {
    let (r, connection) = s.candidates.submissions().get(&caller.partner_id, &id, &candidate).await?;
    Ok(Json(submission_view(&r, Some(&connection.settings))))
}

/// `POST /v1/connections/{id}/candidates/{candidate_id}/retry`.
pub async fn retry(State(s): State<Arc<CandidateApiState>>, caller: Caller, IdPair(id, candidate): IdPair, _body: Body) -> Result<Response, Problem> {
    let (r, connection) = s.candidates.submissions().retry(&caller.partner_id, &id, &candidate).await?;
    let location = format!("/v1/connections/{id}/candidates/{candidate}");
    Ok(with_location((StatusCode::ACCEPTED, Json(submission_view(&r, Some(&connection.settings)))).into_response(), Some(&location)))
}

/// `POST /v1/connections/{id}/uploads`.
pub async fn create_upload(State(s): State<Arc<CandidateApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Response, Problem> {
    let req: NewUpload = parse(&body)?;
    let ticket = s.candidates.uploads().create_upload(&caller.partner_id, &id, req).await?;
    let u = &ticket.upload;
    let headers: serde_json::Map<String, Value> = ticket.put.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": u.id,
            "name": u.name,
            "content_type": u.content_type,
            "size_bytes": u.size_bytes,
            "upload_url": ticket.put.url,
            "method": "PUT",
            "headers": headers,
            "url_expires_at": time(ticket.url_expires_at_ms),
            "expires_at": time(u.expires_at_ms),
        })),
    )
        .into_response())
}
