//! The partner console at `GET /console`: a small app the browser runs against the partner API
//! with the partner's own API key (kept in the tab's `sessionStorage`, never sent to the page's
//! server but as the API's bearer token). The hub only serves its files.
//!
//! Its framework is htm's Preact build (one ES module, pinned in web/package.json, committed
//! under shared/assets/console/vendor and compared with the pinned package by scripts/test): no
//! build step, so a fresh clone serves it as committed. Every file is served under one version,
//! a hash of all of them, so a deploy that changes any file changes every address and the files
//! can be cached for good; the page itself is checked again on every load.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::problem::{Problem, ProblemType};

/// The console's files: name, content type, content. Modules import each other by these names.
const FILES: [(&str, &str, &str); 10] = [
    ("app.js", JS, include_str!("../../assets/console/app.js")),
    ("api.js", JS, include_str!("../../assets/console/api.js")),
    ("ui.js", JS, include_str!("../../assets/console/ui.js")),
    ("connections.js", JS, include_str!("../../assets/console/connections.js")),
    ("connection.js", JS, include_str!("../../assets/console/connection.js")),
    ("deliveries.js", JS, include_str!("../../assets/console/deliveries.js")),
    ("settings.js", JS, include_str!("../../assets/console/settings.js")),
    ("keys.js", JS, include_str!("../../assets/console/keys.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../assets/console/console.css")),
    (VENDOR, JS, include_str!("../../assets/console/vendor/htm-preact-3.1.1.standalone.module.js")),
];
const JS: &str = "text/javascript; charset=utf-8";
/// htm 3.1.1's standalone Preact build; its version is in its name.
const VENDOR: &str = "htm-preact-3.1.1.standalone.module.js";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The files' version: the first 16 hex digits of the SHA-256 over every name and content.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for (name, _, content) in FILES {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(content.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
});

/// Nothing but the console's own files and the partner API; no inline code, no framing.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/console", get(page)).route("/console/assets/{version}/{name}", get(asset))
}

/// The page: the app's stylesheet and entry module under the current version. Without
/// scripts it says where the API and its reference are.
async fn page() -> Response {
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner console — Lever integration hub</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="console/assets/{v}/console.css"></head><body>
<div id="app"><main><h1>Partner console</h1><noscript><p>The console needs JavaScript. The same answers come from the
partner API; see <a href="docs">its reference</a>.</p></noscript></main></div>
<script type="module" src="console/assets/{v}/app.js"></script></body></html>"#,
        v = VERSION.as_str()
    );
    let mut response = super::html::page_with_policy(StatusCode::OK, body, POLICY);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A file of the current version, cached for good; any other name or version is a 404 problem
/// (an old page asking for files of a version gone with a deploy reloads to the new one).
async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let file = FILES.iter().find(|(n, _, _)| *n == name).filter(|_| version == *VERSION);
    let Some((_, content_type, content)) = file else {
        return Problem::new(ProblemType::NotFound, "no such console file; /console loads its own").into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, *content_type)], *content).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_imports_only_files_the_console_serves() {
        for (name, _, content) in super::FILES.iter().filter(|(n, _, _)| n.ends_with(".js") && *n != super::VENDOR) {
            for import in content.split("from './").skip(1) {
                let target = import.split('\'').next().unwrap_or_default();
                assert!(super::FILES.iter().any(|(n, _, _)| *n == target), "{name} imports {target}, which is not served");
            }
        }
    }
}
