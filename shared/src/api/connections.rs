//! `/v1/connections…`: connect, status and health, settings, disconnect, Lever pickers, activity.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::cursor::{CursorScope, PageParams};
use super::extract::{Body, Id, Query};
use super::json::{opt_time, parse, time};
use super::problem::{FieldError, Problem, ProblemType, lever_problem};
use crate::core::connection::Connection;
use crate::core::connection::LeverEnvironment;
use crate::core::events::LeverEvent;
use crate::core::flow_runs::ScheduledFlow;
use crate::core::settings::ConnectionSettings;
use crate::flows::connections::{ConnectError, ConnectStart, LinkOptions};
use crate::flows::consent::LINK_LIFETIME_SECS;
use crate::flows::status::{health, status_name};

impl From<ConnectError> for Problem {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::NotFound(_) => Problem::not_found("connection"),
            ConnectError::UnknownPartner(p) | ConnectError::UnknownProfile(p) => {
                Problem::new(ProblemType::UnknownProfile, format!("no profile is loaded for partner {p}"))
            }
            ConnectError::ReturnUrl(why) => Problem::new(ProblemType::ReturnUrlNotAllowed, format!("return_url {why}"))
                .with_errors(vec![FieldError { field: "return_url".into(), message: why }]),
            ConnectError::InvalidSettings(issues) => Problem::new(ProblemType::InvalidRequest, "the settings are not valid")
                .with_errors(issues.into_iter().map(|i| FieldError { field: i.field, message: i.reason }).collect()),
            ConnectError::NotActive(status) => {
                Problem::new(ProblemType::ConnectionNotActive, format!("the connection is {status}; the customer must connect (again) in Lever"))
            }
            ConnectError::NotReconnectable(status) => Problem::new(
                ProblemType::Conflict,
                format!("the connection is {status}; only a pending or needs_reconnect connection gets a new connect link"),
            ),
            ConnectError::InvalidField(i) => Problem::new(ProblemType::InvalidRequest, format!("{}: {}", i.field, i.reason))
                .with_errors(vec![FieldError { field: i.field, message: i.reason }]),
            ConnectError::InsufficientScope(missing) => Problem::internal(&format!("Lever did not grant {}", missing.join(", "))),
            ConnectError::Lever(e) => lever_problem(e),
            ConnectError::Store(e) => e.into(),
            ConnectError::Internal(e) => Problem::internal(&e),
        }
    }
}

/// The connection as partners see it, with `flows.jobs` for a partner with a jobs flow.
pub async fn full_view(s: &ApiState, c: &Connection) -> Result<Value, Problem> {
    let mut body = view(c, s.connections.missing_settings(c));
    if let Some(jobs) = s.jobs.health(c).await? {
        body["flows"]["jobs"] = super::jobs::health_view(&jobs);
    }
    Ok(body)
}

pub fn view(c: &Connection, missing_settings: Vec<String>) -> Value {
    let flows: serde_json::Map<String, Value> = c
        .flow_health
        .iter()
        .map(|(flow, h)| {
            (
                flow.clone(),
                json!({
                    "last_success_at": opt_time(h.last_success_at_ms),
                    "last_failure_at": opt_time(h.last_failure_at_ms),
                    "last_error": h.last_error,
                }),
            )
        })
        .collect();
    let mut flows = flows;
    // The daily hires import says when it runs next (the dispatcher's due time for it).
    let hires = ScheduledFlow::Hires.as_str();
    let next_hires = c.schedules.get(&ScheduledFlow::Hires).copied().filter(|_| c.status.is_schedulable());
    if next_hires.is_some() || flows.contains_key(hires) {
        let entry = flows.entry(hires).or_insert_with(|| json!({"last_success_at": null, "last_failure_at": null, "last_error": null}));
        entry["next_run_at"] = json!(opt_time(next_hires));
    }
    if !c.webhooks.events.is_empty() {
        flows.insert("webhooks".into(), webhooks_view(&c.webhooks));
    }
    json!({
        "id": c.id,
        "status": status_name(c.status),
        "health": health(c.status, !missing_settings.is_empty()),
        "status_reason": c.status_reason,
        "reference": c.reference,
        "lever": json!({
            "environment": c.environment.as_str(),
            "account_id": c.lever.as_ref().and_then(|l| l.account_id.clone()),
            "authorized_by_user_id": c.lever.as_ref().and_then(|l| l.authorized_by_user_id.clone()),
        }),
        "scopes": c.lever.as_ref().map(|l| l.scopes.clone()).unwrap_or_default(),
        "settings": c.settings,
        "missing_settings": missing_settings,
        "flows": flows,
        "created_at": time(c.created_at_ms),
        "updated_at": time(c.updated_at_ms),
    })
}

/// Whether Lever is sending the webhooks the hub registered. Lever sends nothing until a Super
/// Admin switches each webhook group on, and the hub cannot do that: say so plainly.
fn webhooks_view(w: &crate::core::connection::WebhookHealth) -> Value {
    let waiting = w.waiting_for_first_delivery();
    json!({
        "events": w.events,
        "registered_at": opt_time(w.registered_at_ms),
        "last_received_at": opt_time(w.last_received_at_ms),
        "state": if waiting { "waiting_for_first_delivery" } else { "receiving" },
        "message": waiting.then(|| format!(
            "Lever webhooks ({}) were registered but nothing has arrived yet: a Super Admin must switch them on in Lever \
             (Settings > Integrations and API > Webhooks).",
            w.events.join(", ")
        )),
        "deletions": deletions_view(w),
    })
}

/// How Lever's deletions reach the hub: `candidateDeleted` within seconds once its group is
/// on, else only the nightly pass. Deletions are rare, so a group can look quiet for weeks:
/// "waiting" is said plainly, and a deletion the nightly pass had to find is counted.
fn deletions_view(w: &crate::core::connection::WebhookHealth) -> Value {
    let event = LeverEvent::CandidateDeleted.as_str();
    if !w.events.iter().any(|e| e == event) {
        return Value::Null;
    }
    let waiting = w.waiting_for(event);
    let message = if w.deletions_missed > 0 {
        Some(format!(
            "The nightly pass found {} deletion(s) in Lever that the candidateDeleted webhook did not bring: a Super Admin has \
             probably not switched that webhook on (Settings > Integrations and API > Webhooks). Until then deletions reach \
             the hub only through the nightly pass, up to a day late.",
            w.deletions_missed
        ))
    } else {
        waiting.then(|| {
            "No candidateDeleted webhook has arrived yet. Unless a Super Admin has switched it on in Lever (Settings > \
             Integrations and API > Webhooks), deletions reach the hub only through the nightly pass, up to a day late."
                .to_owned()
        })
    };
    json!({
        "webhook": if waiting { "waiting_for_first_delivery" } else { "receiving" },
        "missed_by_webhook": w.deletions_missed,
        "last_missed_at": opt_time(w.last_deletion_missed_at_ms),
        "message": message,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    return_url: String,
    #[serde(default)]
    settings: ConnectionSettings,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    lever_environment: Option<LeverEnvironment>,
    #[serde(default)]
    reference: Option<String>,
}

/// Settings, routes and posting overrides are JSON objects. Their Rust types would also read an
/// array (fields by position: `"settings": [null, null]` as empty settings), which the document
/// does not allow; refused here, naming the field.
fn settings_shape(settings: Option<&Value>) -> Result<(), Problem> {
    fn routes<'a>(prefix: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        if let Some(routes) = v.get("result_routes").and_then(Value::as_object) {
            out.extend(routes.iter().map(|(status, route)| (format!("{prefix}.result_routes.{status}"), route)));
        }
    }
    let mut objects: Vec<(String, &Value)> = vec![];
    if let Some(settings) = settings {
        objects.push(("settings".to_owned(), settings));
        routes("settings", settings, &mut objects);
        for (posting, o) in settings.get("posting_overrides").and_then(Value::as_object).into_iter().flatten() {
            let prefix = format!("settings.posting_overrides.{posting}");
            routes(&prefix, o, &mut objects);
            objects.push((prefix, o));
        }
    }
    match objects.into_iter().find(|(_, v)| !v.is_object() && !v.is_null()) {
        Some((field, v)) => Err(Problem::invalid(&field, format!("must be an object, not {}", super::json::kind_of(v)))),
        None => Ok(()),
    }
}

/// Longest `reference` a partner may give a connection, in characters.
const REFERENCE_MAX_CHARS: usize = 200;

/// The partner's reference as given: 1 to 200 characters, no control characters.
fn checked_reference(reference: Option<String>) -> Result<Option<String>, Problem> {
    let Some(reference) = reference else { return Ok(None) };
    let length = reference.chars().count();
    let message = if length == 0 || length > REFERENCE_MAX_CHARS {
        format!("must be 1 to {REFERENCE_MAX_CHARS} characters, not {length}")
    } else if reference.chars().any(char::is_control) {
        "must not hold control characters".to_owned()
    } else {
        return Ok(Some(reference));
    };
    Err(Problem::new(ProblemType::InvalidRequest, format!("reference: {message}"))
        .with_errors(vec![FieldError { field: "reference".into(), message }]))
}

/// The link's lifetime and environment as asked; `expires_in` outside its bounds is refused.
fn link_options(expires_in: Option<u64>, environment: Option<LeverEnvironment>) -> Result<LinkOptions, Problem> {
    if let Some(secs) = expires_in.filter(|s| !LINK_LIFETIME_SECS.contains(s)) {
        let message = format!("{secs} is not between {} and {} seconds", LINK_LIFETIME_SECS.start(), LINK_LIFETIME_SECS.end());
        return Err(Problem::new(ProblemType::InvalidRequest, format!("expires_in: {message}"))
            .with_errors(vec![FieldError { field: "expires_in".into(), message }]));
    }
    Ok(LinkOptions { lifetime: expires_in.map(Duration::from_secs), environment })
}

/// The link fields of an answer: `connect_url`, the same URL as `authorize_url` (its older
/// name, kept for partners that use it), and `expires_at`.
fn link_fields(body: &mut Value, started: &ConnectStart) {
    body["authorize_url"] = Value::String(started.connect_url.clone());
    body["connect_url"] = Value::String(started.connect_url.clone());
    body["expires_at"] = json!(time(started.expires_at_ms));
}

pub async fn create(State(s): State<Arc<ApiState>>, caller: Caller, Body(body): Body) -> Result<Response, Problem> {
    settings_shape(parse::<Value>(&body)?.get("settings"))?;
    let req: CreateConnection = parse(&body)?;
    let link = link_options(req.expires_in, req.lever_environment)?;
    let reference = checked_reference(req.reference)?;
    let started = s.connections.start(&caller.partner_id, &req.return_url, req.settings, reference, link).await?;
    let mut body = full_view(&s, &started.connection).await?;
    link_fields(&mut body, &started);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list(State(s): State<Arc<ApiState>>, caller: Caller, Query(p): Query<PageParams>) -> Result<Json<Value>, Problem> {
    let page = s.pages.page(&p, CursorScope::new("connections", &caller.partner_id))?;
    let (items, next) = s.connections.list(&caller.partner_id, page.limit, page.cursor.clone()).await?;
    let mut data: Vec<Value> = Vec::with_capacity(items.len());
    for c in &items {
        data.push(full_view(&s, c).await?);
    }
    Ok(Json(json!({ "data": data, "next_cursor": page.next(next) })))
}

pub async fn get(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<Json<Value>, Problem> {
    let c = s.connections.get(&caller.partner_id, &id).await?;
    Ok(Json(full_view(&s, &c).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchConnection {
    settings: Value,
}

pub async fn patch(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Json<Value>, Problem> {
    let req: PatchConnection = parse(&body)?;
    settings_shape(Some(&req.settings))?;
    let c = s.connections.update_settings(&caller.partner_id, &id, req.settings).await?;
    Ok(Json(full_view(&s, &c).await?))
}

pub async fn delete(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<StatusCode, Problem> {
    s.connections.disconnect(&caller.partner_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reconnect {
    return_url: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    lever_environment: Option<LeverEnvironment>,
}

pub async fn reconnect(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Body(body): Body) -> Result<Json<Value>, Problem> {
    let req: Reconnect = parse(&body)?;
    let link = link_options(req.expires_in, req.lever_environment)?;
    let started = s.connections.reconnect(&caller.partner_id, &id, &req.return_url, link).await?;
    let mut body = json!({ "id": id });
    link_fields(&mut body, &started);
    Ok(Json(body))
}

pub async fn lever_users(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<Json<Value>, Problem> {
    s.connections.get(&caller.partner_id, &id).await?;
    let users = s.connections.lever_users(&id).await?;
    let data: Vec<Value> = users
        .iter()
        .filter(|u| u.deactivated_at.is_none())
        .map(|u| json!({ "id": u.id, "name": u.name, "email": u.email, "access_role": u.access_role }))
        .collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn lever_stages(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id) -> Result<Json<Value>, Problem> {
    s.connections.get(&caller.partner_id, &id).await?;
    let stages = s.connections.lever_stages(&id).await?;
    let data: Vec<Value> = stages.iter().map(|st| json!({ "id": st.id, "text": st.text })).collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn activity(State(s): State<Arc<ApiState>>, caller: Caller, Id(id): Id, Query(p): Query<PageParams>) -> Result<Json<Value>, Problem> {
    let page = s.pages.page(&p, CursorScope::new("activity", &caller.partner_id).of(&id))?;
    s.connections.get(&caller.partner_id, &id).await?;
    let (entries, next) = s.connections.activity().page(&id, page.limit, page.cursor.clone()).await?;
    let data: Vec<Value> =
        entries.iter().map(|e| json!({ "id": e.id, "at": time(e.at_ms), "kind": e.kind, "ok": e.ok, "message": e.message })).collect();
    Ok(Json(json!({ "data": data, "next_cursor": page.next(next) })))
}

pub fn problem_for_unknown_route() -> Problem {
    Problem::new(ProblemType::NotFound, "no such route; the routes are listed at /docs and in /openapi.json")
}
