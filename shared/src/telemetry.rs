//! Logging for Lambda: JSON lines (CloudWatch Logs Insights can query their fields), level from
//! `RUST_LOG` (default `info`), no colours, no timestamps (CloudWatch stamps every line).

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_ansi(false).without_time().try_init();
}
