//! The `Admin` API over HTTP (JSON), for scripting a standalone sandbox from
//! another process. Not part of Lever: everything lives under `/_admin`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::admin::{ApplicantSpec, InterviewSpec, OfferSpec};
use crate::faults::FaultRule;
use crate::state::ConsentMode;
use crate::{Admin, Shared};

pub fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/_admin/seed", get(seed))
        .route("/_admin/counters", get(counters))
        .route("/_admin/counters/reset", post(reset_counters))
        .route("/_admin/consent", post(consent))
        .route("/_admin/revoke", post(revoke))
        .route("/_admin/expire-tokens", post(expire))
        .route("/_admin/advance-time", post(advance_time))
        .route("/_admin/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/_admin/opportunities", get(opps_by_email))
        .route("/_admin/opportunities/{id}", get(opportunity).delete(delete_opportunity))
        .route("/_admin/opportunities/{id}/hire", post(hire))
        .route("/_admin/opportunities/{id}/stage", post(stage))
        .route("/_admin/opportunities/{id}/archive", post(archive))
        .route("/_admin/postings/{id}", get(posting).post(update_posting).delete(delete_posting))
        .route("/_admin/postings/{id}/state", post(posting_state))
        .route("/_admin/applications", post(create_application))
        .route("/_admin/opportunities/{id}/offers", get(offers).post(add_offer))
        .route("/_admin/opportunities/{id}/offers/{offer}/status", post(offer_status))
        .route("/_admin/opportunities/{id}/interviews", post(schedule_interview))
        .route("/_admin/opportunities/{id}/interviews/{interview}", post(reschedule_interview).delete(delete_interview))
        .route("/_admin/postings", post(create_posting))
        .route("/_admin/postings/{id}/hiring-manager", post(hiring_manager))
        .route("/_admin/api-keys", get(api_keys).post(create_api_key))
        .route("/_admin/api-keys/{key}", delete(revoke_api_key))
        .route("/_admin/webhook-groups", get(webhook_groups).post(set_webhook_group))
        .route("/_admin/writes", get(writes))
        .route("/_admin/inventory", get(inventory))
        .route("/_admin/deliveries", get(deliveries))
        .route("/_admin/webhooks", get(webhooks))
        .route("/_admin/webhooks/{id}/test", post(test_delivery))
        .with_state(shared)
}

fn admin(shared: &Shared) -> Admin {
    Admin::new(shared.clone())
}

fn result(r: anyhow::Result<Value>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

/// Admin bodies are optional; a missing or malformed one is treated as `{}`.
fn body(b: &axum::body::Bytes) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|_| json!({}))
}

async fn seed(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).seed_ids())).into_response()
}

async fn counters(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).counters())).into_response()
}

async fn reset_counters(State(s): State<Shared>) -> Response {
    admin(&s).reset_counters();
    Json(json!({"ok": true})).into_response()
}

async fn consent(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let mode = match v.get("mode").and_then(Value::as_str) {
        Some("approve") | Some("auto") => ConsentMode::Approve,
        Some("page") => ConsentMode::Page,
        Some("deny") => ConsentMode::Deny,
        _ => return result(Err(anyhow::anyhow!("mode must be auto (or approve), page or deny"))),
    };
    let a = admin(&s);
    a.set_consent(mode);
    if let Some(acc) = v.get("account_id") {
        a.set_consent_account(acc.as_str().map(str::to_string));
    }
    Json(json!({"ok": true})).into_response()
}

async fn revoke(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let a = admin(&s);
    let n = match v.get("account_id").and_then(Value::as_str) {
        Some(acc) => a.revoke_account(acc),
        None => a.revoke_all(),
    };
    Json(json!({"revoked": n})).into_response()
}

async fn expire(State(s): State<Shared>) -> Response {
    admin(&s).expire_access_tokens();
    Json(json!({"ok": true})).into_response()
}

async fn advance_time(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    match body(&b).get("seconds").and_then(Value::as_u64) {
        Some(secs) => {
            admin(&s).advance_time(std::time::Duration::from_secs(secs));
            Json(json!({"ok": true})).into_response()
        }
        None => result(Err(anyhow::anyhow!("seconds is required"))),
    }
}

async fn list_faults(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).faults())).into_response()
}

async fn add_fault(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&b) {
        Ok(rule) => {
            admin(&s).inject(rule);
            Json(json!({"ok": true})).into_response()
        }
        Err(e) => result(Err(anyhow::anyhow!("invalid fault rule: {e}"))),
    }
}

async fn clear_faults(State(s): State<Shared>) -> Response {
    admin(&s).clear_faults();
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct EmailQ {
    email: Option<String>,
}

async fn opps_by_email(State(s): State<Shared>, Query(q): Query<EmailQ>) -> Response {
    let a = admin(&s);
    match q.email {
        Some(e) => Json(json!(a.opportunities_by_email(&e))).into_response(),
        None => Json(json!(a.opportunity_ids())).into_response(),
    }
}

async fn opportunity(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    match admin(&s).opportunity(&id) {
        Some(o) => Json(json!(o)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such opportunity"}))).into_response(),
    }
}

async fn delete_opportunity(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    result(admin(&s).delete_opportunity(&id).map(|_| json!({"ok": true})))
}

async fn hire(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    let start = body(&b).get("start_date_ms").and_then(Value::as_i64);
    result(admin(&s).hire(&id, start).map(|_| json!({"ok": true})))
}

async fn stage(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let Some(stage) = v.get("stage").and_then(Value::as_str) else {
        return result(Err(anyhow::anyhow!("stage is required")));
    };
    result(admin(&s).move_stage(&id, stage).map(|_| json!({"ok": true})))
}

async fn archive(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let reason = v.get("reason").and_then(Value::as_str);
    result(admin(&s).set_archived(&id, reason).map(|_| json!({"ok": true})))
}

async fn posting(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    match admin(&s).posting(&id) {
        Some(p) => Json(p).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such posting"}))).into_response(),
    }
}

async fn update_posting(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    result(admin(&s).update_posting(&id, body(&b)).map(|_| json!({"ok": true})))
}

async fn delete_posting(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    result(admin(&s).delete_posting(&id).map(|_| json!({"ok": true})))
}

async fn posting_state(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let Some(state) = v.get("state").and_then(Value::as_str) else {
        return result(Err(anyhow::anyhow!("state is required")));
    };
    let channels = v.get("distributionChannels").map(|c| c.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()));
    result(admin(&s).set_posting_state(&id, state, channels).map(|_| json!({"ok": true})))
}

async fn create_application(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let posting = v.get("posting_id").and_then(Value::as_str).unwrap_or("").to_string();
    let mut spec: ApplicantSpec = match serde_json::from_value(v.clone()) {
        Ok(spec) => spec,
        Err(e) => return result(Err(anyhow::anyhow!("invalid applicant: {e}"))),
    };
    if let Some(r) = v.get("resume") {
        use base64::Engine;
        let name = r.get("filename").and_then(Value::as_str).unwrap_or("resume.pdf").to_string();
        match base64::engine::general_purpose::STANDARD.decode(r.get("base64").and_then(Value::as_str).unwrap_or("")) {
            Ok(bytes) => spec.resume = Some((name, bytes)),
            Err(e) => return result(Err(anyhow::anyhow!("resume.base64: {e}"))),
        }
    }
    result(admin(&s).create_applicant(&posting, spec).map(|(o, a)| json!({"opportunityId": o, "applicationId": a})))
}

async fn offers(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    match admin(&s).opportunity(&id) {
        Some(o) => Json(json!(o.offers)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such opportunity"}))).into_response(),
    }
}

async fn add_offer(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    match serde_json::from_value::<OfferSpec>(body(&b)) {
        Ok(spec) => result(admin(&s).add_offer(&id, spec).map(|o| json!({"id": o}))),
        Err(e) => result(Err(anyhow::anyhow!("invalid offer: {e}"))),
    }
}

async fn offer_status(State(s): State<Shared>, Path((id, offer)): Path<(String, String)>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let Some(status) = v.get("status").and_then(Value::as_str) else {
        return result(Err(anyhow::anyhow!("status is required")));
    };
    result(admin(&s).set_offer_status(&id, &offer, status).map(|_| json!({"ok": true})))
}

async fn schedule_interview(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    match serde_json::from_value::<InterviewSpec>(body(&b)) {
        Ok(spec) => result(admin(&s).schedule_interview(&id, spec).map(|(p, i)| json!({"panelId": p, "interviewId": i}))),
        Err(e) => result(Err(anyhow::anyhow!("invalid interview: {e}"))),
    }
}

async fn reschedule_interview(State(s): State<Shared>, Path((id, interview)): Path<(String, String)>, b: axum::body::Bytes) -> Response {
    let Some(date) = body(&b).get("date").and_then(Value::as_i64) else {
        return result(Err(anyhow::anyhow!("date (epoch ms) is required")));
    };
    result(admin(&s).reschedule_interview(&id, &interview, date).map(|_| json!({"ok": true})))
}

async fn delete_interview(State(s): State<Shared>, Path((id, interview)): Path<(String, String)>) -> Response {
    result(admin(&s).delete_interview(&id, &interview).map(|_| json!({"ok": true})))
}

async fn create_posting(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    result(admin(&s).create_posting(body(&b)).map(|id| json!({"id": id})))
}

async fn hiring_manager(State(s): State<Shared>, Path(id): Path<String>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    result(admin(&s).set_hiring_manager(&id, v.get("user").and_then(Value::as_str)).map(|_| json!({"ok": true})))
}

async fn api_keys(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).api_keys())).into_response()
}

async fn create_api_key(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    Json(json!({"key": admin(&s).create_api_key(v.get("label").and_then(Value::as_str))})).into_response()
}

async fn revoke_api_key(State(s): State<Shared>, Path(key): Path<String>) -> Response {
    if admin(&s).revoke_api_key(&key) {
        Json(json!({"ok": true})).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"error": "no such key"}))).into_response()
    }
}

async fn webhook_groups(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).webhook_groups())).into_response()
}

/// `{"event": "<event>" | "all", "enabled": true | false}`.
async fn set_webhook_group(State(s): State<Shared>, b: axum::body::Bytes) -> Response {
    let v = body(&b);
    let (Some(event), Some(enabled)) = (v.get("event").and_then(Value::as_str), v.get("enabled").and_then(Value::as_bool)) else {
        return result(Err(anyhow::anyhow!("event (a Lever event name or \"all\") and enabled (bool) are required")));
    };
    let a = admin(&s);
    let r = match (event, enabled) {
        ("all", true) => {
            a.enable_all_webhooks();
            Ok(())
        }
        ("all", false) => {
            a.disable_all_webhooks();
            Ok(())
        }
        (e, on) => a.set_webhooks_enabled(e, on),
    };
    result(r.map(|_| json!(a.webhook_groups())))
}

async fn writes(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).writes())).into_response()
}

async fn inventory(State(s): State<Shared>) -> Response {
    Json(admin(&s).inventory()).into_response()
}

async fn deliveries(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).deliveries())).into_response()
}

async fn webhooks(State(s): State<Shared>) -> Response {
    Json(json!(admin(&s).webhooks())).into_response()
}

async fn test_delivery(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    result(admin(&s).send_test_delivery(&id).map(|d| json!({"delivery_id": d})))
}
