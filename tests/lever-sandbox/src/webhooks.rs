//! Outbound webhooks, delivered the way Lever documents them: a JSON POST with
//! `User-Agent: Lever-Webhooks`, the signature inside the body, any non-2xx
//! (3xx included) counted as a failure and retried five more times with growing gaps.

use hmac::{Hmac, Mac};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Shared;
use crate::client;

/// `signature = hex(HMAC-SHA256(key = signatureToken, message = token + triggeredAt))`.
pub fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(signature_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Random lowercase-hex string (Lever's tokens are 48 hex characters).
pub fn random_hex(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| std::char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    pub at_ms: i64,
    /// HTTP status received, `None` when the connection failed.
    pub status: Option<u16>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub url: String,
    pub body: Value,
    pub attempts: Vec<Attempt>,
    pub delivered: bool,
    /// True once no more attempts will be made (delivered or retries exhausted).
    pub finished: bool,
}

pub const EVENTS: &[&str] = &[
    "applicationCreated",
    "candidateHired",
    "candidateStageChange",
    "candidateArchiveChange",
    "candidateDeleted",
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
];

pub const ORIGINS: &[&str] = &["applied", "sourced", "referred", "university", "internal", "agency"];

/// Events whose subscriptions can carry origin conditions (Lever's docs); the
/// others are sent whatever the candidate's origin.
pub const ORIGIN_FILTERED: &[&str] = &["applicationCreated", "candidateArchiveChange", "candidateHired", "candidateStageChange"];

/// Builds one delivery per matching subscription (event name and origin
/// condition), records it, and starts sending in the background. Nothing is
/// sent while a Super Admin has not switched the event's webhook group on.
pub fn fire(shared: &Shared, st: &mut crate::state::State, event: &str, origin: Option<&str>, data: Value) {
    let subscribed = st.webhooks.iter().any(|w| w.event == event);
    if !st.webhooks_enabled(event) {
        if subscribed {
            *st.counters.webhooks_suppressed.entry(event.to_string()).or_default() += 1;
        }
        return;
    }
    let origin = origin.filter(|_| ORIGIN_FILTERED.contains(&event));
    let hooks: Vec<_> =
        st.webhooks.iter().filter(|w| w.event == event).filter(|w| origin.is_none_or(|o| w.origins.iter().any(|x| x == o))).cloned().collect();
    for w in hooks {
        send(shared, st, &w, event, data.clone());
    }
}

/// Signs and sends one event to one subscription (also used for test deliveries).
pub fn send(shared: &Shared, st: &mut crate::state::State, w: &crate::state::Webhook, event: &str, data: Value) {
    let now = st.now_ms();
    let token = random_hex(48);
    let body = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "event": event,
        "triggeredAt": now,
        "token": token,
        "signature": sign(&w.signature_token, &token, now),
        "data": data,
    });
    let d = Delivery {
        id: uuid::Uuid::new_v4().to_string(),
        webhook_id: w.id.clone(),
        event: event.to_string(),
        url: w.url.clone(),
        body,
        attempts: vec![],
        delivered: false,
        finished: false,
    };
    st.deliveries.push(d.clone());
    let rt = shared.runtime.clone();
    let shared = shared.clone();
    rt.spawn(async move { deliver(shared, d).await });
}

async fn deliver(shared: Shared, d: Delivery) {
    let cfg = &shared.config;
    let body = serde_json::to_vec(&d.body).unwrap_or_default();
    let total = 1 + cfg.webhook_retries;
    for attempt in 0..total {
        if attempt > 0 {
            // Growing gaps: base, 2×base, 4×base, ...
            let gap = cfg.webhook_retry_base.saturating_mul(1u32 << (attempt - 1).min(16));
            tokio::time::sleep(gap).await;
        }
        let result = client::post_json(&d.url, &body, &[("user-agent", "Lever-Webhooks")], cfg.webhook_timeout).await;
        let (status, error) = match result {
            Ok(r) => (Some(r.status), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let mut st = shared.lock();
        let at_ms = st.now_ms();
        if let Some(rec) = st.deliveries.iter_mut().find(|x| x.id == d.id) {
            rec.attempts.push(Attempt { at_ms, status, error });
            rec.delivered = ok;
            rec.finished = ok || attempt + 1 == total;
        }
        if ok {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn doc_example_signature() {
        assert_eq!(
            super::sign("5f2b9c0e7a41d3386c0b1e9f24a7d58c6e13b0f9a2d4c7e1", "9e1c4b7a2f5d8036c1e4a7b90d2f5c8e1a4b7d0c3f6e9a2b", 1718035200123),
            "d480e0888e816d8b47a8c07789c4bf956817333659b10d68061d90b4e39e3331"
        );
    }
}
