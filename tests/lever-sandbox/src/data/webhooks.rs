//! `/v1/webhooks`: the Webhooks Subscription API. The signature token is only
//! returned on creation; the list has no `hasNext` (recordings).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::respond::{self, json_body, opt_str};
use crate::state::Webhook;
use crate::webhooks::{EVENTS, ORIGINS, random_hex};

fn check_url(u: &str) -> ApiResult<()> {
    let parsed = url::Url::parse(u).map_err(|_| ApiError::bad_request(format!("Invalid url: {u}")))?;
    let local = matches!(parsed.host_str(), Some("127.0.0.1") | Some("localhost"));
    // Lever only delivers over HTTPS; plain HTTP is allowed for local receivers so tests can listen.
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && local) { Ok(()) } else { Err(ApiError::bad_request("Webhook url must use https")) }
}

fn origins(conf: Option<&Value>) -> ApiResult<Option<Vec<String>>> {
    let Some(o) = conf.and_then(|c| c.get("conditions")).and_then(|c| c.get("origins")) else {
        return Ok(None);
    };
    let list: Vec<String> = o
        .as_array()
        .ok_or_else(|| ApiError::bad_request("configuration.conditions.origins must be an array"))?
        .iter()
        .map(|x| x.as_str().map(str::to_string).ok_or_else(|| ApiError::bad_request("origins must be strings")))
        .collect::<ApiResult<_>>()?;
    if let Some(bad) = list.iter().find(|o| !ORIGINS.contains(&o.as_str())) {
        return Err(ApiError::bad_request(format!("Invalid origin: {bad}")));
    }
    Ok(Some(list))
}

pub async fn list(State(shared): State<Shared>) -> ApiResult<Response> {
    let st = shared.lock();
    let data: Vec<Value> = st.webhooks.iter().map(|w| json::webhook(w, false)).collect();
    Ok(respond::json(http::StatusCode::OK, &json!({"data": data})))
}

pub async fn create(State(shared): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let url = opt_str(&body, "url")?.ok_or_else(|| ApiError::missing("url"))?;
    let event = opt_str(&body, "event")?.ok_or_else(|| ApiError::missing("event"))?;
    check_url(&url)?;
    if !EVENTS.contains(&event.as_str()) {
        return Err(ApiError::bad_request(format!("Invalid event: {event}")));
    }
    let origins = origins(body.get("configuration"))?.unwrap_or_else(|| ORIGINS.iter().map(|s| s.to_string()).collect());
    let mut st = shared.lock();
    let now = st.now_ms();
    let w = Webhook { id: uuid::Uuid::new_v4().to_string(), event, url, origins, signature_token: random_hex(48), created_at: now, updated_at: now };
    let v = json::webhook(&w, true);
    st.webhooks.push(w);
    Ok(respond::created(v))
}

pub async fn update(State(shared): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let items = body.get("data").and_then(Value::as_array).ok_or_else(|| ApiError::missing("data"))?;
    let mut st = shared.lock();
    let now = st.now_ms();
    // Validate everything first so a bad entry changes nothing.
    let mut changes = vec![];
    for it in items {
        let id = opt_str(it, "id")?.ok_or_else(|| ApiError::missing("data[].id"))?;
        if !st.webhooks.iter().any(|w| w.id == id) {
            return Err(ApiError::not_found("webhooks", &id));
        }
        let url = opt_str(it, "url")?;
        if let Some(u) = &url {
            check_url(u)?;
        }
        changes.push((id, url, origins(it.get("configuration"))?));
    }
    let mut out = vec![];
    for (id, url, origins) in changes {
        if let Some(w) = st.webhooks.iter_mut().find(|w| w.id == id) {
            if let Some(u) = url {
                w.url = u;
            }
            if let Some(o) = origins {
                w.origins = o;
            }
            w.updated_at = now;
            out.push(json::webhook(w, false));
        }
    }
    Ok(respond::ok(json!(out)))
}

pub async fn remove(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let mut st = shared.lock();
    let before = st.webhooks.len();
    st.webhooks.retain(|w| w.id != id);
    if st.webhooks.len() == before {
        return Err(ApiError::not_found("webhooks", &id));
    }
    Ok(respond::no_content())
}
