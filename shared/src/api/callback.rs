//! `GET /oauth/callback`: where Lever sends the customer's browser after the consent screen.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::connect::{clear_cookie, request_cookie};
use super::ApiState;
use crate::flows::connections::{browser_cookie_name, CallbackOutcome, CallbackParams};

pub async fn oauth_callback(State(s): State<Arc<ApiState>>, headers: HeaderMap, Query(params): Query<CallbackParams>) -> Response {
    let cookie_to_clear = params.state.as_deref().and_then(|st| st.split_once('.')).map(|(nonce, _)| browser_cookie_name(nonce));
    let mut res = match s.connections.complete(params, |name| request_cookie(&headers, name)).await {
        Ok(CallbackOutcome::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Ok(CallbackOutcome::Refused(why)) => page(StatusCode::BAD_REQUEST, why),
        Err(e) => {
            tracing::error!(error = %e, "OAuth callback failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try connecting again.")
        }
    };
    if let Some(clear) = cookie_to_clear.and_then(clear_cookie) {
        res.headers_mut().append(header::SET_COOKIE, clear);
    }
    res
}

/// A minimal page for the customer's browser: there is no partner to send them back to.
pub(crate) fn page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Lever connection</title></head>\
         <body><h1>Lever connection</h1><p>{}</p></body></html>",
        message.replace('&', "&amp;").replace('<', "&lt;")
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}
