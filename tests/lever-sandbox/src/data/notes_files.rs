//! Opportunity notes, files and resumes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{in_window, multipart, perform_as};
use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination::{self, Key};
use crate::respond::{self, Query, json_body, opt_str};
use crate::state::{Note, NoteComment, StoredFile};

pub async fn list_notes(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let items = o.notes.iter().map(|n| (Key { rank: 0.0, ts: n.created_at, id: n.id.clone() }, json::note(n))).collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn get_note(State(shared): State<Shared>, Path((id, note)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let n = o.notes.iter().find(|n| n.id == note).ok_or_else(|| ApiError::not_found("notes", &note))?;
    Ok(respond::ok(json::note(n)))
}

fn note_input(body: &Value) -> ApiResult<(String, bool, Option<i64>, Option<i64>)> {
    let value = opt_str(body, "value")?.filter(|v| !v.trim().is_empty()).ok_or_else(|| ApiError::missing("value"))?;
    let secret = match body.get("secret") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("secret must be a boolean")),
    };
    let score = match body.get("score") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(s) if (1..=4).contains(&s) => Some(s),
            _ => return Err(ApiError::bad_request("score must be an integer from 1 to 4")),
        },
    };
    let created_at = match body.get("createdAt") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| ApiError::bad_request("createdAt must be a timestamp"))?),
    };
    Ok((value, secret, score, created_at))
}

pub async fn create_note(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let user = perform_as(&st, &q, false)?;
    let (value, secret, score, created_at) = note_input(&body)?;
    let now = st.now_ms();
    if created_at.is_some_and(|c| c > now) {
        return Err(ApiError::bad_request("createdAt must be in the past"));
    }
    let at = created_at.unwrap_or(now);
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let comment = NoteComment { value, score, stage: o.stage.clone(), user: user.clone(), created_at: at };
    let note = match q.get("note_id") {
        // Threaded comment on an existing note.
        Some(parent) => {
            let n = o.notes.iter_mut().find(|n| n.id == parent).ok_or_else(|| ApiError::not_found("notes", parent))?;
            n.comments.push(comment);
            n.clone()
        }
        None => {
            let n = Note { id: uuid::Uuid::new_v4().to_string(), comments: vec![comment], user, secret, created_at: at };
            o.notes.push(n.clone());
            n
        }
    };
    // Notes change neither `updatedAt` nor `lastInteractionAt` (a poller keyed on
    // `updatedAt` must not expect to see them).
    let mut v = json::note(&note);
    // Recorded: the create response is the note plus `noteId`.
    v["noteId"] = json!(note.id);
    Ok(respond::created(v))
}

pub async fn update_note(
    State(shared): State<Shared>,
    Path((id, note)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let user = perform_as(&st, &q, false)?;
    let (value, secret, score, _) = note_input(&body)?;
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let stage = o.stage.clone();
    let n = o.notes.iter_mut().find(|n| n.id == note).ok_or_else(|| ApiError::not_found("notes", &note))?;
    let at = n.created_at;
    n.comments = vec![NoteComment { value, score, stage, user: user.clone(), created_at: at }];
    n.secret = secret;
    n.user = user;
    let v = json::note(n);
    Ok(respond::ok(v))
}

pub async fn delete_note(State(shared): State<Shared>, Path((id, note)): Path<(String, String)>) -> ApiResult<Response> {
    let mut st = shared.lock();
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let before = o.notes.len();
    o.notes.retain(|n| n.id != note);
    if o.notes.len() == before {
        return Err(ApiError::not_found("notes", &note));
    }
    Ok(respond::no_content())
}

pub async fn list_files(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let mut items = vec![];
    for f in &o.files {
        if in_window(&q, "uploaded_at", f.uploaded_at)? {
            items.push((Key { rank: 0.0, ts: f.uploaded_at, id: f.id.clone() }, json::file(&shared.base_url, &id, f)));
        }
    }
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn get_file(State(shared): State<Shared>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let f = o.files.iter().find(|f| f.id == file).ok_or_else(|| ApiError::not_found("files", &file))?;
    Ok(respond::ok(json::file(&shared.base_url, &id, f)))
}

fn download(f: &StoredFile) -> Response {
    let mut r = Response::new(Body::from(f.bytes.clone()));
    let ct = f.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
    if let Ok(v) = ct.parse() {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = format!("attachment; filename=\"{}\"", f.name.replace('"', "")).parse() {
        r.headers_mut().insert(http::header::CONTENT_DISPOSITION, v);
    }
    r
}

pub async fn download_file(State(shared): State<Shared>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let f = o.files.iter().find(|f| f.id == file).ok_or_else(|| ApiError::not_found("files", &file))?;
    Ok(download(f))
}

pub async fn upload_file(State(shared): State<Shared>, Path(id): Path<String>, req: Request) -> ApiResult<Response> {
    let q = Query::parse(req.uri().query());
    {
        let st = shared.lock();
        perform_as(&st, &q, true)?;
        st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    }
    if !multipart::is_multipart(&req) {
        return Err(ApiError::bad_request("Files must be uploaded as multipart/form-data with a `file` field"));
    }
    let now = shared.lock().now_ms();
    let form = multipart::read(req, now).await?;
    let f = form.files.into_iter().find(|(n, _)| n == "file").map(|(_, f)| f).ok_or_else(|| ApiError::missing("file"))?;
    let mut f = f;
    f.processed_at = f.uploaded_at + shared.config.file_processing.as_millis() as i64;
    let mut st = shared.lock();
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let v = json::file(&shared.base_url, &id, &f);
    o.files.push(f);
    Ok(respond::created(v))
}

pub async fn delete_file(State(shared): State<Shared>, Path((id, file)): Path<(String, String)>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let mut st = shared.lock();
    perform_as(&st, &q, true)?;
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let before = o.files.len();
    o.files.retain(|f| f.id != file);
    if o.files.len() == before {
        return Err(ApiError::not_found("files", &file));
    }
    Ok(respond::no_content())
}

pub async fn list_resumes(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let items = o.resumes.iter().map(|f| (Key { rank: 0.0, ts: f.uploaded_at, id: f.id.clone() }, json::resume(&shared.base_url, &id, f))).collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn get_resume(State(shared): State<Shared>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let f = o.resumes.iter().find(|f| f.id == file).ok_or_else(|| ApiError::not_found("resumes", &file))?;
    Ok(respond::ok(json::resume(&shared.base_url, &id, f)))
}

pub async fn download_resume(State(shared): State<Shared>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let f = o.resumes.iter().find(|f| f.id == file).ok_or_else(|| ApiError::not_found("resumes", &file))?;
    Ok(download(f))
}
