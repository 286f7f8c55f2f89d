//! `/v1/users`: list (active by default), read, create, replace, (de)activate.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination::{self, Key};
use crate::respond::{self, Query, json_body, opt_str};
use crate::state::{User, canonical_email};

const ROLES: &[&str] = &["super admin", "admin", "team member", "limited team member", "interviewer"];

pub async fn list(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let include_deactivated = q.bool("includeDeactivated")?.unwrap_or(false);
    let roles = q.all("accessRole");
    let email = q.get("email").map(canonical_email);
    let st = shared.lock();
    let items = st
        .users
        .iter()
        .filter(|u| include_deactivated || u.deactivated_at.is_none())
        .filter(|u| roles.is_empty() || roles.contains(&u.access_role))
        .filter(|u| email.as_ref().is_none_or(|e| canonical_email(&u.email) == *e))
        .filter(|u| q.get("external_directory_id").is_none_or(|x| u.external_directory_id.as_deref() == Some(x)))
        .map(|u| (Key { rank: 0.0, ts: u.created_at, id: u.id.clone() }, json::user(u)))
        .collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let u = st.user(&id).ok_or_else(|| ApiError::not_found("users", &id))?;
    Ok(respond::ok(json::user(u)))
}

fn role(body: &serde_json::Value, required: bool) -> ApiResult<Option<String>> {
    match opt_str(body, "accessRole")? {
        Some(r) if ROLES.contains(&r.as_str()) => Ok(Some(r)),
        Some(r) => Err(ApiError::bad_request(format!("Invalid accessRole: {r}"))),
        None if required => Err(ApiError::missing("accessRole")),
        None => Ok(None),
    }
}

fn email_ok(e: &str) -> ApiResult<()> {
    match e.split_once('@') {
        Some((a, b)) if !a.is_empty() && b.contains('.') => Ok(()),
        _ => Err(ApiError::bad_request(format!("Invalid email: {e}"))),
    }
}

pub async fn create(State(shared): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let name = opt_str(&body, "name")?.ok_or_else(|| ApiError::missing("name"))?;
    let email = opt_str(&body, "email")?.ok_or_else(|| ApiError::missing("email"))?;
    email_ok(&email)?;
    let access_role = role(&body, false)?.unwrap_or_else(|| "interviewer".into());
    let mut st = shared.lock();
    if st.users.iter().any(|u| canonical_email(&u.email) == canonical_email(&email)) {
        return Err(ApiError::bad_request(format!("A user with email {email} already exists")));
    }
    let now = st.now_ms();
    let u = User {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        username: email.split('@').next().unwrap_or("").to_string(),
        email,
        access_role,
        photo: None,
        created_at: now,
        deactivated_at: None,
        external_directory_id: opt_str(&body, "externalDirectoryId")?,
        linked_contact_ids: None,
        job_title: opt_str(&body, "jobTitle")?,
        manager_id: opt_str(&body, "managerId")?,
    };
    let v = json::user(&u);
    st.users.push(u);
    Ok(respond::created(v))
}

pub async fn update(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let name = opt_str(&body, "name")?.ok_or_else(|| ApiError::missing("name"))?;
    let email = opt_str(&body, "email")?.ok_or_else(|| ApiError::missing("email"))?;
    email_ok(&email)?;
    let access_role = role(&body, true)?.unwrap_or_default();
    let mut st = shared.lock();
    let u = st.users.iter_mut().find(|u| u.id == id).ok_or_else(|| ApiError::not_found("users", &id))?;
    // PUT replaces: optional fields not sent are cleared.
    u.name = name;
    u.email = email;
    u.access_role = access_role;
    u.job_title = opt_str(&body, "jobTitle")?;
    u.manager_id = opt_str(&body, "managerId")?;
    u.external_directory_id = opt_str(&body, "externalDirectoryId")?;
    Ok(respond::ok(json::user(u)))
}

async fn set_active(shared: Shared, id: String, active: bool) -> ApiResult<Response> {
    let mut st = shared.lock();
    let now = st.now_ms();
    let u = st.users.iter_mut().find(|u| u.id == id).ok_or_else(|| ApiError::not_found("users", &id))?;
    u.deactivated_at = if active { None } else { Some(u.deactivated_at.unwrap_or(now)) };
    Ok(respond::ok(json::user(u)))
}

pub async fn deactivate(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    set_active(shared, id, false).await
}

pub async fn reactivate(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    set_active(shared, id, true).await
}
