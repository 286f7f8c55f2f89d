//! Test support (feature `testing`): reaching the real services the test stack
//! (`scripts/test`) starts.
//!
//! A test that needs a service fails when it is missing. Outside CI a developer may opt out
//! with `HUB_SKIP_MISSING_SERVICES=1`, and the skip is printed, never silent.

use std::sync::Arc;

use crate::store::dynamo::DynamoStore;

pub fn service_endpoint(var: &str, what: &str) -> Option<String> {
    if let Ok(url) = std::env::var(var)
        && !url.is_empty()
    {
        return Some(url);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let opted_out = std::env::var("HUB_SKIP_MISSING_SERVICES").is_ok_and(|v| v == "1");
    if opted_out && !in_ci {
        eprintln!("SKIPPED: {what} is not running ({var} unset; HUB_SKIP_MISSING_SERVICES=1)");
        return None;
    }
    panic!("{what} is required but {var} is not set: run the tests with scripts/test, which starts it");
}

/// A DynamoDB client for DynamoDB Local, or `None` when skipping is allowed.
pub async fn dynamodb_client() -> Option<aws_sdk_dynamodb::Client> {
    let endpoint = service_endpoint("HUB_TEST_DYNAMODB_ENDPOINT", "Amazon DynamoDB Local")?;
    Some(aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config(Some(&endpoint)).await))
}

/// A fresh, empty table in DynamoDB Local.
pub async fn dynamo_store() -> Option<Arc<DynamoStore>> {
    let client = dynamodb_client().await?;
    let store = DynamoStore::new(client, format!("hub-test-{}", uuid::Uuid::new_v4()));
    store.ensure_table().await.expect("create table in DynamoDB Local");
    Some(Arc::new(store))
}

pub async fn moto_endpoint() -> Option<String> {
    service_endpoint("HUB_TEST_MOTO_ENDPOINT", "moto server")
}

/// A minimal browser for walking the connect flow in tests and smoke checks: follows redirects
/// one hop at a time and carries cookies per host (including `Secure` ones on loopback, as
/// browsers treat `http://127.0.0.1` and `localhost` as secure contexts).
pub struct ConsentBrowser {
    http: reqwest::Client,
    cookies: std::sync::Mutex<std::collections::BTreeMap<(String, String), String>>,
}

/// One hop of a walk: the URL requested and the status it answered.
#[derive(Clone, Debug)]
pub struct Hop {
    pub url: url::Url,
    pub status: u16,
}

impl Default for ConsentBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsentBrowser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client");
        Self { http, cookies: Default::default() }
    }

    /// GET `url`, remembering its cookies; returns the response (redirects are not followed).
    pub async fn get(&self, url: &url::Url) -> Result<reqwest::Response, reqwest::Error> {
        self.send(url, self.http.get(url.clone())).await
    }

    /// Submits a form as a browser does when a button on `page` is clicked: the fields
    /// URL-encoded to `action` (relative to the page), with the page's origin as `Origin` and the
    /// cookies held for the action's host. Returns the response (redirects are not followed).
    pub async fn submit_form(&self, page: &url::Url, action: &str, fields: &[(String, String)]) -> Result<reqwest::Response, String> {
        let target = page.join(action).map_err(|e| format!("form action {action}: {e}"))?;
        let req = self.http.post(target.clone()).header(reqwest::header::ORIGIN, page.origin().ascii_serialization()).form(fields);
        self.send(&target, req).await.map_err(|e| format!("POST {target}: {e}"))
    }

    /// Sends `req` (to `url`) with the cookies held for its host and keeps the ones it sets.
    async fn send(&self, url: &url::Url, mut req: reqwest::RequestBuilder) -> Result<reqwest::Response, reqwest::Error> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let header: Vec<String> = {
            let jar = self.cookies.lock().unwrap_or_else(|e| e.into_inner());
            jar.iter().filter(|((h, _), _)| *h == host).map(|((_, n), v)| format!("{n}={v}")).collect()
        };
        if !header.is_empty() {
            req = req.header(reqwest::header::COOKIE, header.join("; "));
        }
        let res = req.send().await?;
        let mut jar = self.cookies.lock().unwrap_or_else(|e| e.into_inner());
        for set in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some(c) = set.to_str().ok().and_then(|s| cookie::Cookie::parse(s.to_owned()).ok()) else {
                continue;
            };
            let key = (host.clone(), c.name().to_owned());
            if c.max_age().is_some_and(|a| a.is_zero() || a.is_negative()) {
                jar.remove(&key);
            } else {
                jar.insert(key, c.value().to_owned());
            }
        }
        Ok(res)
    }

    /// Follows redirects from `start` until a page that does not redirect, or `max_hops`.
    /// Returns every hop and the last response.
    pub async fn walk(&self, start: &str, max_hops: usize) -> Result<(Vec<Hop>, reqwest::Response), String> {
        let mut url = url::Url::parse(start).map_err(|e| format!("{start}: {e}"))?;
        let mut hops = vec![];
        for _ in 0..max_hops {
            let res = self.get(&url).await.map_err(|e| format!("GET {url}: {e}"))?;
            hops.push(Hop { url: url.clone(), status: res.status().as_u16() });
            let Some(next) = res.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()) else {
                return Ok((hops, res));
            };
            url = url.join(next).map_err(|e| format!("Location {next}: {e}"))?;
        }
        Err(format!("more than {max_hops} redirects from {start}"))
    }

    /// Presses Continue on the hub's connect page at `link` (choosing `environment`), then
    /// follows redirects as [`Self::walk`] does. The first hop is the `POST`.
    pub async fn continue_link(&self, link: &str, environment: &str, max_hops: usize) -> Result<(Vec<Hop>, reqwest::Response), String> {
        let page = url::Url::parse(link).map_err(|e| format!("{link}: {e}"))?;
        let res = self.submit_form(&page, "", &[("lever_environment".to_owned(), environment.to_owned())]).await?;
        let first = Hop { url: page.clone(), status: res.status().as_u16() };
        let Some(next) = res.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()) else {
            return Ok((vec![first], res));
        };
        let next = page.join(next).map_err(|e| format!("Location {next}: {e}"))?;
        let (mut hops, last) = self.walk(next.as_str(), max_hops).await?;
        hops.insert(0, first);
        Ok((hops, last))
    }

    /// How many cookies the browser holds for `host`.
    pub fn cookie_count(&self, host: &str) -> usize {
        self.cookies.lock().unwrap_or_else(|e| e.into_inner()).keys().filter(|(h, _)| h == host).count()
    }
}

/// The hub's default policies, for a hub whose public address no one visits (a worker-only
/// hub in a test or bench).
pub fn default_options() -> crate::hub::HubOptions {
    crate::hub::HubOptions {
        public_url: url::Url::parse("http://127.0.0.1:9").expect("a URL"),
        tokens: Default::default(),
        delivery: Default::default(),
        jobs: Default::default(),
        rate_budget: Default::default(),
        candidates: Default::default(),
    }
}

/// A customer connected as a partner does it through a running hub at `base`: the connection
/// created with the partner's `key` (coming back to `return_url`), Lever's consent accepted in a
/// [`ConsentBrowser`]. The connection's id.
pub async fn connect_customer(http: &reqwest::Client, base: &str, key: &str, return_url: &str) -> String {
    let created: serde_json::Value = http
        .post(format!("{base}/v1/connections"))
        .bearer_auth(key)
        .json(&serde_json::json!({"return_url": return_url}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("POST /v1/connections answered 201")
        .json()
        .await
        .expect("a connection");
    let connect_url = created["connect_url"].as_str().expect("a connect_url");
    ConsentBrowser::new().continue_link(connect_url, "production", 6).await.expect("the consent walk");
    created["id"].as_str().expect("a connection id").to_owned()
}

/// A configuration for one local process in a fresh temporary directory: embedded store, local
/// secrets (with a Lever app), a Lever that is never reached. For start-up tests of functions.
pub fn local_env() -> crate::hub::HubEnv {
    use crate::hub::{HubEnv, LeverTarget, SecretsSource, StoreTarget};
    let dir = std::env::temp_dir().join(format!("hub-env-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let secrets = dir.join("secrets.json");
    let app = serde_json::json!({"client_id": "test-client", "client_secret": "test-secret"}).to_string();
    let values = serde_json::json!({ crate::secrets::names::LEVER_OAUTH: app });
    crate::secrets::local::write_private(&secrets, &values.to_string()).expect("secrets file");
    HubEnv {
        store: StoreTarget::Embedded { path: dir.join("table.log") },
        secrets: SecretsSource::Local { path: secrets },
        lever: LeverTarget::Local("http://127.0.0.1:9".into()),
        public_url: Some(url::Url::parse("https://hub.example.test").expect("static URL")),
        queue_urls: Default::default(),
        profiles_dir: None,
        allow_http_loopback: false,
        files: Default::default(),
    }
}

/// A request as API Gateway's HTTP API hands it to `lambda_http` (payload 2.0), through
/// lambda_http's own parser: its `requestContext.requestId` is `request_id`.
#[cfg(feature = "lambda-http")]
pub fn api_gateway_request(method: &str, path: &str, route_key: &str, request_id: &str, headers: serde_json::Value) -> axum::extract::Request {
    let mut all = serde_json::json!({"host": "abc123.execute-api.us-east-1.amazonaws.com"});
    if let (Some(all), Some(more)) = (all.as_object_mut(), headers.as_object()) {
        all.extend(more.clone());
    }
    let event = serde_json::json!({
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": "",
        "headers": all,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "requestId": request_id, "routeKey": route_key, "stage": "$default", "time": "01/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"}
        },
        "isBase64Encoded": false
    });
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event");
    request.map(|body| axum::body::Body::from(body.to_vec()))
}

/// The first line `hub-local` and `hub-stack` print, which scripts, the demo and the tests
/// read to find the hub and its Lever sandbox: one format for the side that prints it and the
/// sides that read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubAnnouncement {
    pub hub: String,
    pub lever: String,
    pub data_dir: String,
}

const ANNOUNCEMENT_PREFIX: &str = "Lever integration hub on ";

impl std::fmt::Display for HubAnnouncement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{ANNOUNCEMENT_PREFIX}{} (Lever at {}); data in {}", self.hub, self.lever, self.data_dir)
    }
}

impl HubAnnouncement {
    /// The announcement in `line`, if it is one.
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix(ANNOUNCEMENT_PREFIX)?;
        let (hub, rest) = rest.split_once(" (Lever at ")?;
        let (lever, data_dir) = rest.split_once("); data in ")?;
        Some(Self { hub: hub.to_owned(), lever: lever.to_owned(), data_dir: data_dir.to_owned() })
    }
}

#[cfg(test)]
mod announcement_tests {
    use super::HubAnnouncement;

    #[test]
    fn the_printed_line_parses_back() {
        let line = HubAnnouncement { hub: "http://127.0.0.1:8080".into(), lever: "http://127.0.0.1:8089".into(), data_dir: "/tmp/x y".into() };
        assert_eq!(line.to_string(), "Lever integration hub on http://127.0.0.1:8080 (Lever at http://127.0.0.1:8089); data in /tmp/x y");
        assert_eq!(HubAnnouncement::parse(&line.to_string()), Some(line));
        assert_eq!(HubAnnouncement::parse("Partner API keys (local only) in x:"), None);
    }
}

/// Hires the first of the Lever sandbox's seeded opportunities that is still open (its admin
/// API at `lever`); the opportunity's id.
pub async fn hire_a_seeded_candidate(http: &reqwest::Client, lever: &str) -> String {
    let seed: serde_json::Value = http.get(format!("{lever}/_admin/seed")).send().await.expect("the sandbox's seed").json().await.expect("seed JSON");
    for o in seed["opportunities"].as_array().expect("seeded opportunities") {
        let Some(o) = o.as_str() else { continue };
        let hired = http.post(format!("{lever}/_admin/opportunities/{o}/hire")).json(&serde_json::json!({})).send().await;
        if hired.is_ok_and(|r| r.status().is_success()) {
            return o.to_owned();
        }
    }
    panic!("no seeded opportunity is open to hire")
}
