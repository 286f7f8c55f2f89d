//! Logging for Lambda: JSON lines (CloudWatch Logs Insights can query their fields), level from
//! `RUST_LOG` (default `info`), no colours, no timestamps (CloudWatch stamps every line).

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_ansi(false).without_time().try_init();
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
