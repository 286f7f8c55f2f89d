//! Helpers for candidate-ingest tests: submit as a partner does, wait for a state, read Lever.

use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestHub, TestPartner};

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes that look like a PDF and differ per `seed`, so each file's bytes can be told apart.
pub fn pdf(seed: &str, size: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let filler = format!("{seed} ");
    while out.len() < size {
        out.extend_from_slice(filler.as_bytes());
    }
    out.truncate(size.max(9));
    out
}

/// A partner's answer: status, body, and the `Idempotent-Replayed` / `Location` headers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
    pub location: Option<String>,
}

impl TestHub {
    /// A published posting on the public job site.
    pub fn posting(&self, title: &str) -> String {
        self.sandbox.admin().create_posting(json!({"text": title, "state": "published", "distributionChannels": ["public", "internal"]})).unwrap()
    }

    /// `POST /v1/connections/{id}/candidates` with an `Idempotency-Key`.
    pub async fn submit(&self, p: &TestPartner, connection_id: &str, key: &str, body: &Value) -> Answer {
        self.submit_raw(p, connection_id, Some(key), body.to_string().into_bytes()).await.expect("the hub answers")
    }

    pub async fn submit_raw(&self, p: &TestPartner, connection_id: &str, key: Option<&str>, body: Vec<u8>) -> Result<Answer, reqwest::Error> {
        let mut req = self
            .http
            .post(format!("{}/v1/connections/{connection_id}/candidates", self.base))
            .bearer_auth(&p.key)
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await?;
        let status = res.status();
        let replayed = res.headers().get("idempotent-replayed").is_some();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = res.bytes().await?;
        Ok(Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), replayed, location })
    }

    /// `GET …/candidates/{id}`.
    pub async fn candidate(&self, p: &TestPartner, connection_id: &str, id: &str) -> Value {
        let (status, body) = self.call(p, reqwest::Method::GET, &format!("/v1/connections/{connection_id}/candidates/{id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Waits (up to `within`) until the submission is in `state`; returns it.
    pub async fn wait_candidate(&self, p: &TestPartner, connection_id: &str, id: &str, state: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let c = self.candidate(p, connection_id, id).await;
            if c["state"] == state {
                return c;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("candidate {id} never became {state}: {c}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sets the connection's settings (checked against Lever, as a partner's PATCH is).
    pub async fn settings(&self, p: &TestPartner, connection_id: &str, settings: Value) {
        let (status, body) =
            self.call(p, reqwest::Method::PATCH, &format!("/v1/connections/{connection_id}"), Some(json!({"settings": settings}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
