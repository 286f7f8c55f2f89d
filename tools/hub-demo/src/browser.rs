//! The customer's browser on the connect link: the hub's connect page `/connect/{token}` (whose
//! Continue binds the browser with a cookie), Lever's consent page, Accept, the hub's callback, and back on the
//! partner's page. The consent form is read from the page and posted as a browser posts it:
//! its action, its hidden fields and the Accept button's name and value, with the page's
//! `Origin` and the browser's cookies.

use anyhow::Context as _;
use shared::testing::ConsentBrowser;

/// What the walk saw: the consent page (if Lever showed one) and where it ended.
pub struct Walk {
    /// `Some((app, account))` as the consent page named them; `None` when Lever consented at
    /// once (`hub-local --consent auto`).
    pub consent_page: Option<(String, String)>,
    /// The partner's page the hub sent the browser back to.
    pub back_at: url::Url,
}

const MAX_HOPS: usize = 8;

pub async fn connect(authorize_url: &str) -> anyhow::Result<Walk> {
    let browser = ConsentBrowser::new();
    let mut url = url::Url::parse(authorize_url).with_context(|| format!("authorize_url {authorize_url}"))?;
    let mut consent_page = None;
    let mut hops = vec![];
    let mut pressed_continue = false;
    for _ in 0..MAX_HOPS {
        let mut res = browser.get(&url).await.with_context(|| format!("GET {url}"))?;
        hops.push(format!("{} {}", res.status().as_u16(), url.path()));
        if location(&res).is_none() && res.status().is_success() {
            let page = res.text().await.context("reading the page")?;
            // The hub's connect page first: Continue (a form POST to the link itself) with the
            // production account, as a customer of the seed stories chooses.
            if page.contains("id=\"connect-form\"") && !pressed_continue {
                pressed_continue = true;
                res = browser.submit_form(&url, "", &[("lever_environment".into(), "production".into())]).await.map_err(anyhow::Error::msg)?;
                hops.push(format!("{} POST {}", res.status().as_u16(), url.path()));
                let Some(next) = location(&res) else { anyhow::bail!("Continue on the connect page did not lead to Lever: {}", res.status()) };
                url = url.join(&next).with_context(|| format!("Location {next}"))?;
                continue;
            }
            // A page with an Accept form is Lever's consent screen (once); any other is the end.
            let Some(form) = ConsentForm::parse(&page).filter(|_| consent_page.is_none()) else {
                return Ok(Walk { consent_page, back_at: url });
            };
            consent_page = Some((form.app.clone(), form.account.clone()));
            res = browser.submit_form(&url, &form.action, &form.fields).await.map_err(anyhow::Error::msg)?;
            hops.push(format!("{} POST {}", res.status().as_u16(), form.action));
        }
        let Some(next) = location(&res) else {
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            anyhow::bail!("the walk stopped at {url} with {status}: {}; hops: {}", text.chars().take(300).collect::<String>(), hops.join(" → "));
        };
        url = url.join(&next).with_context(|| format!("Location {next}"))?;
    }
    anyhow::bail!("more than {MAX_HOPS} hops from the connect link: {}", hops.join(" → "))
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned)
}

/// The consent form as a browser would submit it when Accept is clicked.
struct ConsentForm {
    action: String,
    fields: Vec<(String, String)>,
    app: String,
    account: String,
}

impl ConsentForm {
    fn parse(html: &str) -> Option<ConsentForm> {
        let start = html.find("<form")?;
        let end = start + html[start..].find("</form>")?;
        let form = &html[start..end];
        let action = attr(form, "action").unwrap_or_default();
        let mut fields = vec![];
        let mut accept = None;
        for tag in tags(form, "input").into_iter().chain(tags(form, "button")) {
            let name = attr(tag, "name");
            let value = attr(tag, "value").unwrap_or_default();
            match (attr(tag, "type").as_deref(), name) {
                (Some("hidden"), Some(name)) => fields.push((name, value)),
                (Some("submit"), Some(name)) if value == "accept" => accept = Some((name, value)),
                _ => {}
            }
        }
        fields.push(accept?);
        Some(ConsentForm { action, fields, app: text_of(html, "app-name"), account: text_of(html, "account-name") })
    }
}

/// Each `<name …>` start tag in `html`.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    html.match_indices(open.as_str()).filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..i + end])).collect()
}

/// An attribute's value in a start tag (double-quoted, as the page writes them), unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}

/// The text of the element with this `id`.
fn text_of(html: &str, id: &str) -> String {
    let key = format!("id=\"{id}\">");
    html.find(&key)
        .and_then(|i| {
            let rest = &html[i + key.len()..];
            rest.find('<').map(|end| unescape(&rest[..end]))
        })
        .unwrap_or_default()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_submission_carries_the_hidden_fields_and_the_button() {
        let html = r#"<h1><span id="app-name">A &amp; B</span></h1><strong id="account-name">Co</strong>
            <form id="consent-form" method="post" action="/authorize/consent">
              <input type="hidden" name="consent_request" value="abc123">
              <button type="submit" id="accept" name="decision" value="accept">Accept</button>
              <button type="submit" id="deny" name="decision" value="deny">Deny</button>
            </form>"#;
        let form = ConsentForm::parse(html).unwrap();
        assert_eq!(form.action, "/authorize/consent");
        assert_eq!(form.fields, vec![("consent_request".into(), "abc123".into()), ("decision".into(), "accept".into())]);
        assert_eq!((form.app.as_str(), form.account.as_str()), ("A & B", "Co"));
        assert!(ConsentForm::parse("<form action=\"/x\"></form>").is_none(), "no Accept button, no submission");
    }
}
