//! Logging for Lambda: JSON lines (CloudWatch Logs Insights can query their fields), level from
//! `RUST_LOG` (default `info`), no colours, no timestamps (CloudWatch stamps every line).
//!
//! `RUST_LOG` takes `level` and `target=level` directives (`info,shared=debug`): a target filter
//! without regular expressions, which keeps the regex engine out of every function's binary.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

pub fn init() {
    let json = tracing_subscriber::fmt::layer().json().with_ansi(false).without_time();
    let _ = tracing_subscriber::registry().with(json).with(filter()).try_init();
}

/// An error and its causes in one line (`outer: cause: root cause`): SDK and HTTP errors say
/// little at the top ("service error") and name the cause further down.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
