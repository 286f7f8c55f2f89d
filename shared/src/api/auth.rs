//! Partner authentication: `Authorization: Bearer <API key>` on every partner route.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::problem::{Problem, ProblemType};
use super::ApiState;

/// The authenticated partner making the request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub partner_id: String,
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| Problem::new(ProblemType::Unauthorized, "send the API key as `Authorization: Bearer <key>`"))?;
        match state.partners.authenticate(presented).await {
            Ok(Some(partner_id)) => Ok(Caller { partner_id }),
            Ok(None) => Err(Problem::new(ProblemType::Unauthorized, "the API key is not valid or was revoked")),
            Err(e) => Err(Problem::internal(&e)),
        }
    }
}
