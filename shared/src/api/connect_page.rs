//! The hub's connect page and the pages its link answers with: plain HTML, no external
//! resources, a strict CSP (see [`super::html`]), readable on a phone and usable with the
//! keyboard alone (native controls, a visible focus ring, labels on every control).

use axum::http::StatusCode;
use axum::response::Response;

use super::consent_page::escape;
use crate::flows::consent::LinkPage;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}\
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}\
@media (max-width:36rem){main{margin:0;border-radius:0;padding:1.25rem}}\
h1{font-size:1.35rem;margin-top:0}h2{font-size:1rem;margin:1.25rem 0 .4rem}ul{padding-left:1.2rem;margin:.3rem 0}\
fieldset{border:1px solid #c8ccd4;border-radius:6px;margin:1.25rem 0;padding:.6rem 1rem}legend{font-weight:600}\
label{display:block;padding:.45rem 0;cursor:pointer}input[type=radio]{margin-right:.5rem;width:1.1rem;height:1.1rem;vertical-align:-.2rem}\
.actions{display:flex;gap:1rem;align-items:center;margin-top:1.25rem;flex-wrap:wrap}\
button{font:inherit;font-weight:600;background:#2f6fdb;color:#fff;border:0;border-radius:6px;padding:.65rem 1.4rem;cursor:pointer}\
a{color:#2f6fdb}button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f0a500;outline-offset:2px}";

fn shell(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>{}</title>\
         <style>{STYLE}</style></head><body><main>{main}</main></body></html>",
        escape(title)
    )
}

fn list(id: &str, items: &[String]) -> String {
    let lis: String = items.iter().map(|i| format!("<li>{}</li>", escape(i))).collect();
    format!("<ul id=\"{id}\">{lis}</ul>")
}

/// The connect page: what the integration does, the permissions, the Lever account (when there
/// is a choice), Continue (a `POST` to this same URL) and Cancel. `form_targets` are the Lever
/// origins Continue redirects to (a CSP `form-action` covers the redirect after the `POST`).
pub(crate) fn form(page: &LinkPage, form_targets: &[String]) -> Response {
    let name = escape(&page.partner_name);
    let accounts = match page.environments.as_slice() {
        [only] => format!("<p id=\"account\">Lever account: <strong>{}</strong></p>", escape(only.label())),
        choices => {
            let radios: String = choices
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let checked = if i == 0 { " checked" } else { "" };
                    format!(
                        "<label for=\"env-{v}\"><input type=\"radio\" id=\"env-{v}\" name=\"lever_environment\" value=\"{v}\"{checked}>{}</label>",
                        escape(e.label()),
                        v = e.as_str()
                    )
                })
                .collect();
            format!("<fieldset id=\"accounts\"><legend>Which Lever account should {name} connect to?</legend>{radios}</fieldset>")
        }
    };
    let main = format!(
        "<h1>Connect <span id=\"partner\">{name}</span> to Lever</h1>\
         <p>{name} asks to connect to your Lever account through the Lever integration hub.</p>\
         <h2 id=\"does-title\">What {name} will do</h2>{does}\
         <h2 id=\"permissions-title\">Permissions it will ask Lever for</h2>{perms}\
         <form id=\"connect-form\" method=\"post\">{accounts}\
         <p>After Continue, Lever asks you to sign in and accept these permissions.</p>\
         <div class=\"actions\"><button type=\"submit\" id=\"continue\">Continue</button>\
         <a id=\"cancel\" href=\"{cancel}\">Cancel</a></div></form>",
        does = list("does", &page.does),
        perms = list("permissions", &page.permissions),
        cancel = escape(&page.cancel_url),
    );
    super::html::page_with_form_targets(StatusCode::OK, shell(&format!("Connect {} to Lever", page.partner_name), &main), form_targets)
}

/// Another browser pressed Continue first and its consent is still open.
pub(crate) fn elsewhere(partner_name: &str, until_ms: i64, token: &str) -> Response {
    let until = time::OffsetDateTime::from_unix_timestamp(until_ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::macros::format_description!("[hour]:[minute] UTC")).ok())
        .unwrap_or_else(|| "a few minutes".into());
    let main = format!(
        "<h1>Being set up elsewhere</h1><p id=\"message\">This connection of {} to Lever is being set up in another browser. \
         If that was not you, or it did not finish, you can start over from {} on.</p>\
         <p><a id=\"start-over\" href=\"{}\">Start over</a></p>",
        escape(partner_name),
        escape(&until),
        escape(token)
    );
    super::html::page(StatusCode::CONFLICT, shell("Being set up elsewhere", &main))
}

/// The connection is active: nothing more to do here.
pub(crate) fn connected(partner_name: &str) -> Response {
    let main =
        format!("<h1>Connected</h1><p id=\"message\">{} is connected to your Lever account. You can close this page.</p>", escape(partner_name));
    super::html::page(StatusCode::OK, shell("Connected", &main))
}

/// Past the link's `expires_at`.
pub(crate) fn expired(partner_name: &str) -> Response {
    let main =
        format!("<h1>This link has expired</h1><p id=\"message\">Ask {} for a new link to connect your Lever account.</p>", escape(partner_name));
    super::html::page(StatusCode::GONE, shell("Link expired", &main))
}
