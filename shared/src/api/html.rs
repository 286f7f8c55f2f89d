//! Every HTML page the hub serves (the API docs, the problem pages, the customer's connect and
//! callback pages) goes out through [`page`]: a strict Content-Security-Policy that allows only
//! the page's own inline styles and scripts, by hash (nothing external, nothing injected),
//! no framing, no MIME sniffing and no referrer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The page with its security headers.
pub(crate) fn page(status: StatusCode, body: String) -> Response {
    page_with_form_targets(status, body, &[])
}

/// [`page`] for a form whose submission is answered by a redirect to one of `targets` (origins):
/// browsers hold that redirect to `form-action` too.
pub(crate) fn page_with_form_targets(status: StatusCode, body: String, targets: &[String]) -> Response {
    let mut policy = content_security_policy(&body);
    if !targets.is_empty() {
        policy = policy.replace("form-action 'self'", &format!("form-action 'self' {}", targets.join(" ")));
    }
    page_with_policy(status, body, &policy)
}

/// The page with its security headers and a policy of its own: for a page whose allowed code
/// cannot be hashed from its body (the API reference's styles are written at run time).
pub(crate) fn page_with_policy(status: StatusCode, body: String, policy: &str) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `default-src 'none'`, with the page's inline `<style>` blocks and executable `<script>`
/// blocks allowed by their SHA-256 (a `<script type="application/json">` is data, not code).
pub(crate) fn content_security_policy(html: &str) -> String {
    let hashes = |blocks: Vec<&str>| {
        blocks.into_iter().map(|b| format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b)))).collect::<String>()
    };
    let styles = hashes(inline_blocks(html, "style", |_| true));
    let scripts = hashes(inline_blocks(html, "script", |attributes| !attributes.contains("application/json")));
    let style_src = if styles.is_empty() { " 'none'".to_owned() } else { styles };
    let script_src = if scripts.is_empty() { " 'none'".to_owned() } else { scripts };
    format!(
        "default-src 'none'; style-src{style_src}; script-src{script_src}; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The contents of every `<tag …>…</tag>` whose attributes pass `keep`.
fn inline_blocks<'a>(html: &'a str, tag: &str, keep: impl Fn(&str) -> bool) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = vec![];
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end_of_open) = after.find('>') else { break };
        let attributes = &after[..end_of_open];
        let content = &after[end_of_open + 1..];
        let Some(end) = content.find(&close) else { break };
        if (attributes.is_empty() || attributes.starts_with(' ')) && keep(attributes) {
            out.push(&content[..end]);
        }
        rest = &content[end + close.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn only_the_pages_own_blocks_are_allowed() {
        let policy = content_security_policy("<style>a{}</style><script type=\"application/json\">{}</script><script>go()</script>");
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert_eq!(policy.matches("'sha256-").count(), 2, "one style, one script; the JSON is data: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(content_security_policy("<p>plain</p>").contains("style-src 'none'; script-src 'none'"));
    }
}
