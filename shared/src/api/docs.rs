//! The API describes itself: `GET /openapi.json` (docs/openapi.yaml, converted at build time),
//! `GET /docs` (the reference, rendered in the browser by Redoc from the hub's own copy: no CDN,
//! no network) and `GET /problems/{name}`, the page each problem `type` URI resolves to.
//!
//! Redoc (pinned in web/package.json, its bundle committed under shared/assets/redoc and compared
//! with the pinned package by scripts/test) is a well-kept renderer of every operation, schema and
//! example; writing our own meant keeping up with OpenAPI ourselves. It styles itself at run time,
//! so `/docs` allows styles by a nonce fresh on every answer rather than by hash.

use axum::Router;
use axum::extract::Path;
use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::problem::{Problem, ProblemType};

/// The OpenAPI document as JSON.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// Redoc's standalone bundle, gzipped by build.rs; the version is in the name, so the file can
/// be cached for good.
const REDOC_BUNDLE: (&str, &[u8]) = ("redoc-2.5.4.standalone.js", include_bytes!(concat!(env!("OUT_DIR"), "/redoc-2.5.4.standalone.js.gz")));
/// The two stylesheets the bundle writes as it loads, before Redoc reads its options and its
/// nonce: an empty one and perfect-scrollbar's rules. Their hashes belong to this bundle; the
/// browser test of `/docs` fails on a refused style, so an upgrade that changes them shows.
const REDOC_LOAD_STYLES: &str = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='";
/// Our start-up script: reads the nonce the page carries and hands it to Redoc.
const DOCS_SCRIPT: (&str, &str) = ("docs.js", include_str!("../../assets/docs.js"));

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/docs", get(page))
        .route("/docs/assets/{name}", get(asset))
        .route("/problems/{name}", get(problem_page))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}\
code{font:13px ui-monospace,monospace;background:#f3f4f7;border-radius:4px;padding:0 .2rem}";

/// The reference page: Redoc draws it from `/openapi.json`. Without scripts, the page still
/// points at the document and the problem pages.
async fn page() -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let problems: String = ProblemType::ALL.iter().map(|t| format!("<li><a href=\"{uri}\"><code>{uri}</code></a></li>", uri = t.uri())).collect();
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner API — Lever integration hub</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="hub-style-nonce" content="{nonce}"><link rel="icon" href="data:,"></head><body>
<main id="reference"><noscript><h1>Partner API</h1><p>The reference needs JavaScript. The machine-readable document is
<a href="openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1); the problem types are:</p><ul>{problems}</ul></noscript></main>
<script src="docs/assets/{redoc}"></script><script src="docs/assets/{start}"></script></body></html>"#,
        redoc = REDOC_BUNDLE.0,
        start = DOCS_SCRIPT.0,
    );
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'nonce-{nonce}' {REDOC_LOAD_STYLES}; img-src 'self' data:; font-src data:; \
         connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    super::html::page_with_policy(StatusCode::OK, body, &policy)
}

/// The page's scripts. Redoc's bundle carries its version in its name and never changes under
/// it; the start-up script may change with a deploy, so browsers check it again.
async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let (content, cache, gzipped) = match name.as_str() {
        n if n == REDOC_BUNDLE.0 => (Cow::Borrowed(REDOC_BUNDLE.1), "public, max-age=31536000, immutable", true),
        n if n == DOCS_SCRIPT.0 => (Cow::Borrowed(DOCS_SCRIPT.1.as_bytes()), "public, max-age=300", false),
        _ => return Problem::new(ProblemType::NotFound, "no such asset; /docs loads its own").into_response(),
    };
    let takes_gzip = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(accepts_gzip);
    let (content, encoded) = match (gzipped, takes_gzip) {
        (true, false) => (Cow::Owned(gunzip(&content)), false),
        (gzipped, _) => (content, gzipped),
    };
    let mut response = ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], content.into_owned()).into_response();
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if gzipped {
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if encoded {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Whether one `Accept-Encoding` value takes gzip (`gzip`, `x-gzip` or `*`, unless `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let weight = parts.find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))).and_then(|q| q.trim().parse::<f32>().ok());
        matches!(name.as_str(), "gzip" | "x-gzip" | "*") && weight.is_none_or(|q| q > 0.0)
    })
}

/// The bundle for a client that takes no gzip (rare: every browser does). Built from our own
/// bytes, so it cannot fail; an empty answer would show as a broken page, not a panic.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::with_capacity(gz.len() * 4);
    let _ = flate2::read::GzDecoder::new(gz).read_to_end(&mut out);
    out
}

async fn problem_page(Path(name): Path<String>) -> Response {
    let Some(kind) = ProblemType::from_name(&name) else {
        return Problem::new(ProblemType::NotFound, "no such problem type; /docs lists them").into_response();
    };
    super::html::page(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\"><title>{title}</title><style>{STYLE}</style></head><body>\
         <p><a href=\"../docs\">Partner API</a> › problem types</p><h1>{title}</h1>\
         <p><code>type: {uri}</code> · HTTP {status}</p><p>{explanation}</p></body></html>",
            title = escape(kind.title()),
            uri = kind.uri(),
            status = kind.status().as_u16(),
            explanation = escape(kind.explanation()),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_taken_unless_refused() {
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "*", "x-gzip"] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in ["", "identity", "br", "gzip;q=0", "gzip; q=0.000", "deflate, *;q=0"] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }
}
