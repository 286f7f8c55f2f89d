//! Every log line the hub writes during a test binary's run (tracing's JSON lines and the EMF
//! metric lines), and the secrets none may contain.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static FORBIDDEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capture (JSON lines, as in Lambda) once per test binary, at TRACE for the hub
/// and DEBUG for its libraries, with the hub's metric lines among them. The Lever sandbox stands
/// in for Lever: its own logs are not ours.
pub fn capture() {
    INSTALLED.get_or_init(|| {
        shared::metrics::send_to(|line| {
            let mut lines = LINES.lock().unwrap();
            lines.extend_from_slice(line.as_bytes());
            lines.push(b'\n');
        });
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let filter: tracing_subscriber::filter::Targets = "debug,shared=trace,e2e=trace,lever_sandbox=off".parse().expect("a valid filter");
        let json = tracing_subscriber::fmt::layer().json().with_writer(|| Capture);
        tracing_subscriber::registry().with(json).with(filter).init();
    });
}

/// Remembers a secret that must never appear in any log line.
pub fn forbid(secret: &str) {
    assert!(secret.len() >= 8, "too short to scan for meaningfully");
    FORBIDDEN.lock().unwrap().push(secret.to_owned());
}

/// Fails if any captured line contains any forbidden secret; returns how many bytes were scanned.
pub fn assert_no_secrets() -> usize {
    let lines = LINES.lock().unwrap();
    let text = String::from_utf8_lossy(&lines);
    for secret in FORBIDDEN.lock().unwrap().iter() {
        assert!(!text.contains(secret.as_str()), "a secret appeared in the logs");
    }
    lines.len()
}

/// Every captured line that is JSON, parsed.
pub fn lines() -> Vec<serde_json::Value> {
    let lines = LINES.lock().unwrap();
    String::from_utf8_lossy(&lines).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The EMF documents of metric `name` captured so far for `partner` (the `Partner` dimension).
pub fn metrics(name: &str, partner: &str) -> Vec<serde_json::Value> {
    lines().into_iter().filter(|d| d.get("_aws").is_some() && d.get(name).is_some() && d["Partner"] == partner).collect()
}

/// Waits (up to 10 s) for at least one document of metric `name` for `partner`.
pub async fn wait_metric(name: &str, partner: &str) -> Vec<serde_json::Value> {
    for _ in 0..200 {
        let found = metrics(name, partner);
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {name} metric for partner {partner} was written");
}

/// The sum of metric `name`'s values captured so far for `partner`.
pub fn metric_sum(name: &str, partner: &str) -> f64 {
    metrics(name, partner).iter().filter_map(|d| d[name].as_f64()).sum()
}
