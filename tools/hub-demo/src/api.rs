//! The two HTTP APIs the demo talks to: the hub's partner API (as each partner, with its key)
//! and the Lever sandbox (its `/_admin` routes play the customer's recruiters and candidates,
//! and show what Lever holds).

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// One partner's view of the hub: `Authorization: Bearer <its API key>`.
#[derive(Clone)]
pub struct Partner {
    /// The profile id (`hireup`, `outhire`, …).
    pub id: String,
    pub hub: String,
    key: String,
    http: reqwest::Client,
}

/// Reads an answer as JSON (`null` when empty); the text when it is not JSON.
async fn answer(res: reqwest::Response) -> anyhow::Result<(StatusCode, Value)> {
    let status = res.status();
    let bytes = res.bytes().await.context("reading the answer")?;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((status, body))
}

impl Partner {
    pub fn new(id: &str, hub: &str, key: &str, http: reqwest::Client) -> Partner {
        Partner { id: id.to_owned(), hub: hub.to_owned(), key: key.to_owned(), http }
    }

    /// Any partner API call: status and body.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>, idempotency_key: Option<&str>) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.hub)).bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.with_context(|| format!("{method} {path}"))?;
        answer(res).await
    }

    /// A call that must succeed (2xx); otherwise the status and the problem details are the error.
    pub async fn ok(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method.clone(), path, body, None).await?;
        if !status.is_success() {
            anyhow::bail!("{method} {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.ok(Method::GET, path, None).await
    }
}

/// The Lever sandbox's admin API (not part of Lever: what a recruiter or candidate does in
/// Lever's UI, and a look at what Lever holds).
#[derive(Clone)]
pub struct Lever {
    pub base: String,
    http: reqwest::Client,
}

impl Lever {
    pub fn new(base: &str, http: reqwest::Client) -> Lever {
        Lever { base: base.trim_end_matches('/').to_owned(), http }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), format!("{}/_admin{path}", self.base));
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.with_context(|| format!("Lever sandbox {method} /_admin{path}"))?;
        let (status, answer) = answer(res).await?;
        if !status.is_success() {
            anyhow::bail!("Lever sandbox {method} /_admin{path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Creates a posting (the body Lever's `POST /postings` takes); its id.
    pub async fn create_posting(&self, body: &Value) -> anyhow::Result<String> {
        let created = self.post("/postings", body).await?;
        created["id"].as_str().map(str::to_owned).with_context(|| format!("no posting id in {created}"))
    }

    /// A candidate applies on the careers page; the opportunity id.
    pub async fn apply(&self, posting: &str, name: &str, email: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({"posting_id": posting, "name": name, "email": email});
        let created = self.post("/applications", &body).await?;
        created["opportunityId"].as_str().map(str::to_owned).with_context(|| format!("no opportunity id in {created}"))
    }

    /// Everything Lever holds for one opportunity (files with their bytes as `bytes_base64`).
    pub async fn opportunity(&self, id: &str) -> anyhow::Result<Value> {
        self.get(&format!("/opportunities/{id}")).await
    }

    /// Every opportunity with this email.
    pub async fn opportunities_by_email(&self, email: &str) -> anyhow::Result<Vec<Value>> {
        let found = self.get(&format!("/opportunities?email={}", url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>())).await?;
        Ok(found.as_array().cloned().unwrap_or_default())
    }
}

/// The file bytes of a sandbox file snapshot.
pub fn file_bytes(file: &Value) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(file["bytes_base64"].as_str()?).ok()
}
