//! `GET /oauth/callback`: where Lever sends the customer's browser after the consent screen.
//!
//! Browsers (which ask for `text/html`) get a small page when the hub refuses the callback;
//! any other client gets the same answer as a problem document.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::connect::{clear_cookie, request_cookie};
use super::consent_page::{failed, refused, unknown, wants_html};
use super::extract::Query;
use crate::flows::connections::Connections;
use crate::flows::consent::{CallbackOutcome, CallbackParams, browser_cookie_name};

pub async fn oauth_callback(State(connections): State<Connections>, headers: HeaderMap, Query(params): Query<CallbackParams>) -> Response {
    let html = wants_html(&headers);
    let cookie_to_clear = params.state.as_deref().and_then(|st| st.split_once('.')).map(|(nonce, _)| browser_cookie_name(nonce));
    let mut res = match connections.complete(params, |name| request_cookie(&headers, name)).await {
        Ok(CallbackOutcome::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Ok(CallbackOutcome::Unknown(why)) => unknown(html, why),
        Ok(CallbackOutcome::Refused(why)) => refused(html, why, None),
        Ok(CallbackOutcome::RefusedWithReturn(why, back)) => refused(html, why, Some(&back)),
        Err(e) => {
            tracing::error!(error = %e, "OAuth callback failed");
            failed(html, &e)
        }
    };
    if let Some(clear) = cookie_to_clear.and_then(clear_cookie) {
        res.headers_mut().append(header::SET_COOKIE, clear);
    }
    res
}
