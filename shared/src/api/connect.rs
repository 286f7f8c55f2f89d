//! `GET /connect/{state}`: the link a partner gives its customer. The hub binds the customer's
//! browser to the pending consent with a cookie, then sends it to Lever's consent screen; the
//! callback accepts the code only from that browser.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};

use super::consent_page::{failed, refused, wants_html};
use crate::flows::connections::{Connections, ConsentStart};

pub async fn open(State(connections): State<Connections>, headers: HeaderMap, Path(state): Path<String>) -> Response {
    match connections.open_consent(&state).await {
        Ok(ConsentStart::ToLever { lever_url, cookie_name, cookie_value, max_age_secs }) => {
            let cookie = Cookie::build((cookie_name, cookie_value))
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(600)))
                .build();
            let mut res = (StatusCode::FOUND, [(header::LOCATION, lever_url)]).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Ok(ConsentStart::Refused(why)) => refused(wants_html(&headers), why, None),
        Err(e) => {
            tracing::error!(error = %e, "connect link failed");
            failed(wants_html(&headers), &e)
        }
    }
}

/// The value of the request's cookie `name`, if sent.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Removes the binding cookie once the consent is done, whatever the outcome.
pub fn clear_cookie(name: String) -> Option<HeaderValue> {
    let cookie =
        Cookie::build((name, "")).path("/").secure(true).http_only(true).same_site(SameSite::Lax).max_age(cookie::time::Duration::ZERO).build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; __Host-lever-connect-x=secret; b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(request_cookie(&h, "__Host-lever-connect-x").as_deref(), Some("secret"));
        assert_eq!(request_cookie(&h, "c").as_deref(), Some("3"));
        assert_eq!(request_cookie(&h, "missing"), None);
        let mut bad = HeaderMap::new();
        bad.append(header::COOKIE, HeaderValue::from_static(";;=;garbage"));
        assert_eq!(request_cookie(&bad, "garbage"), None);
    }
}
