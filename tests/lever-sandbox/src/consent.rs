//! The consent page `/authorize` shows in `ConsentMode::Page`, like Lever's: the
//! app's name, the account, one plain-words line per requested scope, and
//! Accept / Deny buttons. The form posts to `/authorize/consent` with a hidden
//! single-use `consent_request` value that binds it to this authorize request,
//! so a page on another site cannot forge a decision.
//!
//! Stable hooks for browser tests: form `#consent-form`, buttons `#accept` and
//! `#deny` (`name="decision"`, values `accept` / `deny`), hidden
//! `input[name=consent_request]`, `#app-name`, `#account-name`, and one
//! `#scopes li[data-scope]` per scope.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::Shared;
use crate::oauth::{AuthorizeRequest, approve, refuse};
use crate::respond::Query;
use crate::state::PendingConsent;
use crate::webhooks::random_hex;

/// How long the page stays answerable.
const PAGE_TTL_MS: i64 = 10 * 60 * 1000;

/// What a scope lets the app do, in the words a Super Admin reads.
pub fn describe(scope: &str) -> String {
    if scope == "offline_access" {
        return "Stay connected when you are not using the app (refresh its access)".into();
    }
    if scope == "confidential:access:admin" {
        return "See confidential postings and candidates".into();
    }
    let mut parts = scope.splitn(3, ':');
    let (resource, action) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let what = match resource {
        "applications" => "applications",
        "archive_reasons" => "archive reasons",
        "audit_events" => "audit events",
        "contact" => "candidates' contact details",
        "diversity_surveys" => "diversity surveys",
        "eeo_responses" => "EEO responses",
        "eeo_responses_pii" => "EEO responses with personal details",
        "feedback" => "interview feedback",
        "feedback_templates" => "feedback templates",
        "files" => "candidates' files",
        "forms" => "profile forms",
        "form_templates" => "profile form templates",
        "groups" => "user groups",
        "interviews" => "interviews",
        "notes" => "notes on candidates",
        "offers" => "offers",
        "opportunities" => "candidates and their opportunities",
        "panels" => "interview panels",
        "permissions" => "permissions",
        "postings" => "job postings",
        "referrals" => "referrals",
        "requisitions" => "requisitions",
        "requisition_fields" => "requisition fields",
        "resumes" => "resumes",
        "roles" => "roles",
        "sources" => "sources",
        "stages" => "pipeline stages",
        "tags" => "tags",
        "tasks" => "tasks",
        "uploads" => "uploaded files",
        "users" => "users",
        "webhooks" => "webhooks",
        other => other,
    };
    match action {
        "read" => format!("View {what}"),
        "write" => format!("View, create and change {what}"),
        _ => format!("Access {what}"),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Stores the request and renders the page.
pub(crate) fn page(shared: &Shared, req: AuthorizeRequest) -> Response {
    let id = random_hex(48);
    let mut st = shared.lock();
    let now = st.token_now();
    st.pending_consents.retain(|_, p| p.expires > now);
    let account_id = req.account_id.clone();
    let user = st.user(&shared.seed_ids.super_admin).map(|u| format!("{} ({})", u.name, u.email)).unwrap_or_default();
    st.pending_consents.insert(
        id.clone(),
        PendingConsent {
            client_id: req.client_id,
            redirect_uri: req.redirect_uri,
            state: req.state,
            scope: req.scope.clone(),
            account_id: account_id.clone(),
            code_challenge: req.code_challenge,
            expires: now + PAGE_TTL_MS,
        },
    );
    drop(st);
    let cfg = &shared.config;
    let scopes: String =
        req.scope.split_whitespace().map(|s| format!("      <li data-scope=\"{}\">{}</li>\n", escape(s), escape(&describe(s)))).collect();
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Authorize {app} - Lever</title>
  <style>
    body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
    main {{ max-width: 30rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
    h1 {{ font-size: 1.3rem; margin-top: 0; }}
    ul {{ padding-left: 1.2rem; }}
    li {{ margin: .3rem 0; }}
    .actions {{ display: flex; gap: 1rem; margin-top: 1.5rem; }}
    button {{ font-size: 1rem; padding: .6rem 1.4rem; border-radius: 4px; border: 1px solid #888; cursor: pointer; }}
    #accept {{ background: #2f6fdb; color: #fff; border-color: #2f6fdb; }}
  </style>
</head>
<body>
  <main>
    <h1><span id="app-name">{app}</span> wants to access your Lever account</h1>
    <p>Account: <strong id="account-name">{account}</strong> <small>({account_id})</small><br>
       Signed in as: <span id="user-name">{user}</span></p>
    <p>This will allow {app} to:</p>
    <ul id="scopes">
{scopes}    </ul>
    <form id="consent-form" method="post" action="/authorize/consent">
      <input type="hidden" name="consent_request" value="{id}">
      <div class="actions">
        <button type="submit" id="accept" name="decision" value="accept">Accept</button>
        <button type="submit" id="deny" name="decision" value="deny">Deny</button>
      </div>
    </form>
  </main>
</body>
</html>
"#,
        app = escape(&cfg.app_name),
        account = escape(&cfg.account_name),
        account_id = escape(&account_id),
        user = escape(&user),
    );
    let mut r = (StatusCode::OK, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page must not be framed by another site (clickjacking the Accept button). No
    // `form-action 'self'`: browsers apply it to the redirect after the post too, and the
    // redirect goes to the app's callback on another origin, as Lever's does.
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    r
}

fn html_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization error</title></head><body><h1>Authorization error</h1><p id=\"error\">{}</p></body></html>",
        escape(message)
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

/// `POST /authorize/consent`: the page's Accept / Deny.
pub async fn decide(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    // A browser always sends Origin on a form POST; from another site it differs from our Host.
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let same = origin.to_str().ok().and_then(|o| o.split_once("://")).is_some_and(|(_, rest)| Some(rest) == host.to_str().ok());
        if !same {
            return html_error(StatusCode::FORBIDDEN, "This consent form was submitted from another site.");
        }
    }
    let form = Query::parse(std::str::from_utf8(&body).ok());
    let Some(id) = form.get("consent_request").filter(|s| !s.is_empty()) else {
        return html_error(StatusCode::BAD_REQUEST, "Missing consent_request.");
    };
    let pending = {
        let mut st = shared.lock();
        let now = st.token_now();
        st.pending_consents.remove(id).filter(|p| p.expires > now)
    };
    let Some(p) = pending else {
        return html_error(StatusCode::BAD_REQUEST, "This authorization request has expired or was already answered. Start again from the app.");
    };
    match form.get("decision") {
        Some("accept") => approve(
            &shared,
            AuthorizeRequest {
                client_id: p.client_id,
                redirect_uri: p.redirect_uri,
                state: p.state,
                scope: p.scope,
                code_challenge: p.code_challenge,
                account_id: p.account_id,
            },
        ),
        Some("deny") => refuse(&p.redirect_uri, &p.state, "access_denied", "user_did_not_authorize_the_request"),
        _ => {
            // Put it back: a malformed submission should not burn the user's request.
            let mut st = shared.lock();
            st.pending_consents.insert(id.to_string(), p);
            drop(st);
            html_error(StatusCode::BAD_REQUEST, "decision must be accept or deny.")
        }
    }
}
