//! Partner authentication: `Authorization: Bearer <API key>` on every partner route.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::problem::{Problem, ProblemType};
use crate::flows::partners::Partners;

/// The state of a set of partner routes: whatever else they need, they know the partners.
pub trait PartnerRoutes: Send + Sync {
    fn partners(&self) -> &Partners;
}

/// The authenticated partner making the request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub partner_id: String,
}

impl<S: PartnerRoutes> FromRequestParts<Arc<S>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<S>) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| Problem::new(ProblemType::Unauthorized, "send the API key as `Authorization: Bearer <key>`"))?;
        match state.partners().authenticate(presented).await {
            Ok(Some(partner_id)) => {
                crate::telemetry::record_partner(&partner_id);
                Ok(Caller { partner_id })
            }
            Ok(None) => Err(Problem::invalid_token("the API key is not valid or was revoked")),
            Err(e) => Err(Problem::internal(&e)),
        }
    }
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for ok in ["Bearer k", "bearer k", "BEARER  k ", " Bearer k"] {
            assert_eq!(super::bearer_token(ok), Some("k"), "{ok:?}");
        }
        for bad in ["Basic k", "Bearer", "Bearer ", "Bearerk", ""] {
            assert_eq!(super::bearer_token(bad), None, "{bad:?}");
        }
    }
}
