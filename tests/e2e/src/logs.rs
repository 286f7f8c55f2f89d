//! Every log line the hub writes during a test binary's run, and the secrets none may contain.

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
/// and DEBUG for its libraries. The Lever sandbox stands in for Lever: its own logs are not ours.
pub fn capture() {
    INSTALLED.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let filter: tracing_subscriber::filter::Targets =
            "debug,shared=trace,e2e=trace,lever_sandbox=off".parse().expect("a valid filter");
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
