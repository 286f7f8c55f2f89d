//! The partners' webhook endpoint, as a partner would write it from the API docs: one path per
//! partner, `Hub-Signature: t=<unix seconds>,v1=<hex>[,v1=…]` checked as HMAC-SHA256 with the
//! endpoint's secret over `"<t>.<raw body>"` (any `v1` may match, compared in constant time), `t`
//! within five minutes, and events deduplicated on `Hub-Event-Id`. A request that fails the check
//! is answered 401 and counted; only verified events are kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How far a signature's timestamp may be from our clock.
const TOLERANCE_SECS: i64 = 300;

#[derive(Default)]
struct Inbox {
    secrets: BTreeMap<String, String>,
    /// Verified events per partner, in arrival order, once per `Hub-Event-Id`.
    events: Vec<(String, Value, std::time::Instant)>,
    seen_ids: BTreeSet<String>,
    verified: usize,
    rejected: Vec<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
}

/// Checks a `Hub-Signature` header against the raw body at `now` (unix seconds); `Err` says why not.
fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    let mut t = None;
    let mut macs = vec![];
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => macs.push(hex::decode(v).map_err(|_| "v1 is not hex")?),
            _ => {}
        }
    }
    let t = t.ok_or("no t=")?;
    if macs.is_empty() {
        return Err("no v1=");
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err("t is more than 5 minutes away");
    }
    let expected = || {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac
    };
    // `verify_slice` compares in constant time.
    if macs.iter().any(|m| expected().verify_slice(m).is_ok()) { Ok(()) } else { Err("no v1 matches") }
}

async fn hook(State(inbox): State<Arc<Mutex<Inbox>>>, Path(partner): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut inbox = inbox.lock().unwrap_or_else(|e| e.into_inner());
    let Some(secret) = inbox.secrets.get(&partner).cloned() else {
        inbox.rejected.push(format!("{partner}: no endpoint registered here"));
        return StatusCode::NOT_FOUND;
    };
    if let Err(why) = verify(&secret, &header("hub-signature"), &body, now) {
        inbox.rejected.push(format!("{partner} {}: {why}", header("hub-event-type")));
        return StatusCode::UNAUTHORIZED;
    }
    inbox.verified += 1;
    let id = header("hub-event-id");
    if inbox.seen_ids.insert(id) {
        let event = serde_json::from_slice(&body).unwrap_or(Value::Null);
        inbox.events.push((partner, event, std::time::Instant::now()));
    }
    StatusCode::NO_CONTENT
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Receiver> {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = axum::Router::new().route("/hooks/{partner}", post(hook)).with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { url, inbox })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn hook_url(&self, partner: &str) -> String {
        format!("{}/hooks/{partner}", self.url)
    }

    pub fn set_secret(&self, partner: &str, secret: &str) {
        self.lock().secrets.insert(partner.to_owned(), secret.to_owned());
    }

    /// The first verified event for `partner` of `event_type` that `matches`, and when it arrived.
    pub fn find(&self, partner: &str, event_type: &str, matches: impl Fn(&Value) -> bool) -> Option<(Value, std::time::Instant)> {
        self.lock().events.iter().find(|(p, e, _)| p == partner && e["type"] == event_type && matches(e)).map(|(_, e, at)| (e.clone(), *at))
    }

    /// Verified deliveries (retries included) and every refused one with why.
    pub fn tally(&self) -> (usize, Vec<String>) {
        let inbox = self.lock();
        (inbox.verified, inbox.rejected.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_docs_signature_is_checked_with_every_v1_and_the_time() {
        let body = br#"{"id":"e1"}"#;
        let good = sign("s3cret", 1_000, body);
        assert_eq!(verify("s3cret", &format!("t=1000,v1={good}"), body, 1_100), Ok(()));
        assert_eq!(verify("s3cret", &format!("t=1000,v1={},v1={good}", sign("old", 1_000, body)), body, 1_000), Ok(()), "any v1 may match");
        assert_eq!(verify("s3cret", &format!("t=1000,v1={good}"), b"{\"id\":\"e2\"}", 1_000), Err("no v1 matches"));
        assert_eq!(verify("s3cret", &format!("t=1001,v1={good}"), body, 1_000), Err("no v1 matches"), "t is inside the MAC");
        assert_eq!(verify("s3cret", &format!("t=1000,v1={good}"), body, 1_301), Err("t is more than 5 minutes away"));
        assert_eq!(verify("s3cret", "v1=00", body, 1_000), Err("no t="));
        assert_eq!(verify("s3cret", "t=1000", body, 1_000), Err("no v1="));
    }
}
