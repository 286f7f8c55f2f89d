//! A partner's webhook endpoint: verifies the hub's signature over the raw body and keeps the
//! events. Also serves the partner's "return URL" pages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;

/// One POST as it arrived: the endpoint (path segment), `Hub-Signature` and the raw body.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub endpoint: String,
    pub signature: String,
    pub body: Bytes,
}

#[derive(Clone, Default)]
struct Inbox {
    secrets: Arc<Mutex<HashMap<String, String>>>,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    bad_signatures: Arc<Mutex<u32>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inbox: Inbox,
}

async fn hook(State(inbox): State<Inbox>, Path(partner): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = inbox.secrets.lock().unwrap().get(&partner).cloned();
    let signature = headers.get("hub-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    inbox.arrivals.lock().unwrap().push(Arrival { endpoint: partner.clone(), signature: signature.to_owned(), body: body.clone() });
    match secret.map(|s| shared::flows::delivery::signature::verify(&s, signature, &body, now, 300)) {
        Some(Ok(())) => {
            inbox.events.lock().unwrap().push((partner, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            StatusCode::NO_CONTENT
        }
        _ => {
            *inbox.bad_signatures.lock().unwrap() += 1;
            StatusCode::UNAUTHORIZED
        }
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Inbox::default();
        let app = Router::new()
            .route("/hooks/{partner}", post(hook))
            .route("/partner/{*rest}", get(|| async { "back at the partner" }))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, inbox }
    }

    pub fn hook_url(&self, partner: &str) -> String {
        format!("{}/hooks/{partner}", self.url)
    }

    pub fn set_secret(&self, partner: &str, secret: &str) {
        self.inbox.secrets.lock().unwrap().insert(partner.to_owned(), secret.to_owned());
    }

    /// Events of `event_type` for `connection_id` received so far.
    pub fn events(&self, event_type: &str, connection_id: &str) -> Vec<Value> {
        self.inbox
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| e["type"] == event_type && e["connection_id"] == connection_id)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Waits until `n` such events arrived (or the time is up) and returns them.
    pub async fn wait_for(&self, event_type: &str, connection_id: &str, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let got = self.events(event_type, connection_id);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.events(event_type, connection_id)
    }

    /// Every POST so far, verified or not, in arrival order.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.inbox.arrivals.lock().unwrap().clone()
    }

    /// The secret this endpoint verifies with.
    pub fn secret(&self, endpoint: &str) -> Option<String> {
        self.inbox.secrets.lock().unwrap().get(endpoint).cloned()
    }

    /// Verified events at one endpoint, in arrival order.
    pub fn events_at(&self, endpoint: &str) -> Vec<Value> {
        self.inbox.events.lock().unwrap().iter().filter(|(e, _)| e == endpoint).map(|(_, v)| v.clone()).collect()
    }

    pub fn bad_signatures(&self) -> u32 {
        *self.inbox.bad_signatures.lock().unwrap()
    }
}
