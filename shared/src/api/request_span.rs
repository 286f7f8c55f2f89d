//! Every HTTP request is handled within one `request` span, so each line it logs carries:
//! `request_id` — API Gateway's id for the request (from lambda_http's request context, with
//! the `lambda-http` feature), else the caller's `x-request-id` if it is a plain token, else a
//! new one — echoed as the response's `x-request-id`; `connection_id` when the path names one;
//! `partner_id` once the caller is authenticated ([`crate::telemetry::record_partner`]). One
//! line per request closes it with the status and time taken.
//!
//! Nothing else of the request goes into the span: no query string, no header but the id, and
//! no path (`/connect/{state}` carries a consent state).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use super::extract::MAX_ID_CHARS;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The middleware (`.layer(axum::middleware::from_fn(request_span))` last, so it wraps every
/// route and the fallback).
pub async fn request_span(req: Request, next: Next) -> Response {
    let request_id = gateway_request_id(&req)
        .or_else(|| req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| plain_token(id)).map(str::to_owned))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        connection_id = connection_in_path(req.uri().path()).as_deref(),
        partner_id = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    let status = res.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request done");
        } else {
            tracing::info!(status, elapsed_ms, "request done");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    res
}

/// An id a caller may choose: short, letters, digits and `-_.:=+/` only (it goes into
/// log lines and a response header as it is).
fn plain_token(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/".contains(&b))
}

/// The connection a path names: `/v1/connections/{id}…` or `/lever/webhooks/{id}`.
fn connection_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/connections/").or_else(|| path.strip_prefix("/lever/webhooks/"))?;
    let segment = rest.split('/').next().unwrap_or_default();
    let id = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    plain_token(&id).then(|| id.into_owned())
}

#[cfg(feature = "lambda-http")]
fn gateway_request_id(req: &Request) -> Option<String> {
    match req.extensions().get::<lambda_http::request::RequestContext>()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => context.request_id.clone(),
        _ => None,
    }
}

#[cfg(not(feature = "lambda-http"))]
fn gateway_request_id(_: &Request) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_is_taken_from_the_paths_that_name_one() {
        assert_eq!(connection_in_path("/v1/connections/c-1/jobs").as_deref(), Some("c-1"));
        assert_eq!(connection_in_path("/v1/connections/c-1").as_deref(), Some("c-1"));
        assert_eq!(connection_in_path("/lever/webhooks/c%2D2").as_deref(), Some("c-2"));
        for none in ["/v1/connections", "/v1/connections/", "/v1/webhooks/w-1", "/connect/state", "/v1/connections/a%20b/jobs"] {
            assert_eq!(connection_in_path(none), None, "{none}");
        }
        assert_eq!(connection_in_path(&format!("/v1/connections/{}", "x".repeat(MAX_ID_CHARS + 1))), None);
    }

    #[test]
    fn only_plain_tokens_are_taken_from_the_caller() {
        assert!(plain_token("3f6b2c1e-0d4a-4b7e-9a51-2d8f9c0b1a77") && plain_token("Root=1-abc:def_1.2"));
        for bad in ["", "a b", "a\"b", "a\nb", "ü", &"x".repeat(MAX_ID_CHARS + 1)] {
            assert!(!plain_token(bad), "{bad:?}");
        }
    }
}
