//! `/v1/contacts/:id`: the person behind one or more opportunities.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::respond::{self, json_body, opt_str, str_list};
use crate::state::Phone;

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let c = st.contacts.get(&id).ok_or_else(|| ApiError::not_found("contacts", &id))?;
    Ok(respond::ok(json::contact(c, true)))
}

pub async fn update(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let now = st.now_ms();
    let c = st.contacts.get_mut(&id).ok_or_else(|| ApiError::not_found("contacts", &id))?;
    if let Some(n) = opt_str(&body, "name")? {
        c.name = n;
    }
    if let Some(h) = opt_str(&body, "headline")? {
        c.headline = h;
    }
    if let Some(l) = opt_str(&body, "location")? {
        c.location = l;
    }
    if body.get("emails").is_some() {
        c.emails = str_list(&body, "emails")?;
    }
    if let Some(p) = body.get("phones").and_then(Value::as_array) {
        c.phones = p
            .iter()
            .map(|p| Phone {
                kind: p.get("type").and_then(Value::as_str).map(str::to_string),
                value: p.get("value").and_then(Value::as_str).unwrap_or("").to_string(),
            })
            .collect();
    }
    let v = json::contact(c, false);
    for o in st.opportunities.iter_mut().filter(|o| o.contact == id) {
        o.updated_at = now;
    }
    crate::actions::contact_event(&shared, &mut st, "contactUpdated", &id);
    Ok(respond::ok(v))
}
