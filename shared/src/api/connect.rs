//! `/connect/{token}`: the magic link a partner gives its customer. `GET` shows the hub's
//! connect page and changes nothing (link scanners and previews fetch it too); its Continue
//! button `POST`s to the same URL, which binds the browser with a cookie and sends it to Lever's
//! consent screen; the callback accepts the code only from that browser.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};

use super::connect_page;
use super::consent_page::{failed, refused, unknown, wants_html};
use crate::flows::connections::Connections;
use crate::flows::consent::LinkAnswer;

/// `GET`: the page (or what the link says instead: connected, expired, being set up elsewhere).
pub async fn show(State(connections): State<Connections>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    match connections.show_link(&token).await {
        Ok(answer) => answer_with(&connections, answer, wants_html(&headers), &token),
        Err(e) => {
            tracing::error!(error = %e, "connect link failed");
            failed(wants_html(&headers), &e)
        }
    }
}

/// `POST` (Continue): the only way into OAuth.
pub async fn proceed(State(connections): State<Connections>, headers: HeaderMap, Path(token): Path<String>, body: Bytes) -> Response {
    let choice = url::form_urlencoded::parse(&body).find(|(k, _)| k == "lever_environment").map(|(_, v)| v.into_owned());
    match connections.continue_link(&token, choice.as_deref(), |name| request_cookie(&headers, name)).await {
        Ok(answer) => answer_with(&connections, answer, wants_html(&headers), &token),
        Err(e) => {
            tracing::error!(error = %e, "connect link failed");
            failed(wants_html(&headers), &e)
        }
    }
}

fn answer_with(connections: &Connections, answer: LinkAnswer, html: bool, token: &str) -> Response {
    let mut res = match answer {
        LinkAnswer::ToLever { lever_url, cookie_name, cookie_value, max_age_secs } => {
            let cookie = Cookie::build((cookie_name, cookie_value))
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(600)))
                .build();
            // 303: the browser follows a POST's answer with a GET.
            let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, lever_url)]).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        LinkAnswer::Page(page) => connect_page::form(&page, &connections.form_targets(&page.environments)),
        LinkAnswer::Elsewhere { partner_name, until_ms } => connect_page::elsewhere(&partner_name, until_ms, token),
        LinkAnswer::Connected { partner_name } => connect_page::connected(&partner_name),
        LinkAnswer::Expired { partner_name } => connect_page::expired(&partner_name),
        LinkAnswer::Unknown(why) => unknown(html, why),
        LinkAnswer::Refused(why) => refused(html, why, None),
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
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
