//! `GET /v1/profile`: what the caller's profile asks of its submissions — the kinds it sends
//! and the fields of its own (`custom`), each with its type, whether it is required and its
//! limits — so a partner reads its contract from the hub rather than from a copy of its file.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::ApiState;
use super::auth::Caller;
use super::problem::Problem;

pub async fn get(State(s): State<Arc<ApiState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    let partner = s.partners.get(&caller.partner_id).await.map_err(|e| Problem::internal(&e))?.ok_or_else(|| Problem::not_found("partner"))?;
    let profile = s.catalog.get(&partner.profile_id).ok_or_else(|| Problem::internal(&format!("no profile {}", partner.profile_id)))?;
    let candidates = profile.candidates().map(|c| {
        let custom: serde_json::Map<String, Value> = c
            .custom
            .iter()
            .map(|(name, f)| {
                let field = json!({
                    "type": f.kind.as_str(),
                    "required": f.required,
                    "description": f.description,
                    "max_chars": f.max_chars,
                    "max_items": f.max_items,
                    "min": f.min,
                    "max": f.max,
                });
                (name.clone(), field)
            })
            .collect();
        json!({ "accepts": c.accepts, "custom": custom })
    });
    Ok(Json(json!({
        "id": profile.id,
        "display_name": profile.display_name,
        "candidates": candidates,
    })))
}
