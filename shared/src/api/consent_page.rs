//! The answers of the browser-facing consent routes (`/connect/{state}`, `/oauth/callback`):
//! browsers (which ask for `text/html`) get a small page, any other client the same answer as
//! a problem document.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::problem::{Problem, ProblemType};

/// Browsers ask for HTML; anything else gets problem documents.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

pub(crate) fn refused(html: bool, why: &str, back: Option<&str>) -> Response {
    if html { page(StatusCode::BAD_REQUEST, why, back) } else { Problem::new(ProblemType::BadRequest, why).into_response() }
}

/// A link or state the hub never issued (or whose connection is gone): there is nothing there,
/// so a 404, as for any other unknown resource.
pub(crate) fn unknown(html: bool, why: &str) -> Response {
    if html { page(StatusCode::NOT_FOUND, why, None) } else { Problem::new(ProblemType::NotFound, why).into_response() }
}

/// Text for HTML content and double-quoted attributes.
pub(crate) fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A minimal page for the customer's browser, with a link back to the partner when the hub
/// knows a trustworthy one (the return URL stored with a state it signed).
pub(crate) fn page(status: StatusCode, message: &str, back: Option<&str>) -> Response {
    let link = back
        .map(|url| {
            let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            format!("<p><a href=\"{}\">Back to {}</a></p>", escape(url), escape(&host))
        })
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>Lever connection</title>\
         <style>body{{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}}\
         main{{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}}\
         h1{{font-size:1.3rem;margin-top:0}}a{{color:#2f6fdb}}</style></head>\
         <body><main><h1>Lever connection</h1><p id=\"message\">{}</p>{link}</main></body></html>",
        escape(message)
    );
    super::html::page(status, body)
}

/// An error on our side, after it has been logged by the caller.
pub(crate) fn failed(html: bool, e: &dyn std::fmt::Display) -> Response {
    if html {
        page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try connecting again.", None)
    } else {
        Problem::internal(e).into_response()
    }
}
