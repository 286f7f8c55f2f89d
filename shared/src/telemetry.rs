//! Logging for Lambda: JSON lines (CloudWatch Logs Insights can query their fields), level from
//! `RUST_LOG` (default `info`), no colours, no timestamps (CloudWatch stamps every line).
//!
//! `RUST_LOG` takes `level` and `target=level` directives (`info,shared=debug`): a target filter
//! without regular expressions, which keeps the regex engine out of every function's binary.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub fn filter() -> Targets {
    std::env::var("RUST_LOG").ok().and_then(|v| v.parse::<Targets>().ok()).unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
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

/// Names the partner on the span of the request or message being handled (a no-op outside one,
/// or in a span without the field): every line logged from then on in it carries `partner_id`.
pub fn record_partner(partner_id: &str) {
    tracing::Span::current().record("partner_id", partner_id);
}

/// Names the connection on the span being handled, like [`record_partner`].
pub fn record_connection(connection_id: &str) {
    tracing::Span::current().record("connection_id", connection_id);
}

/// The span one queue message is handled in: its SQS message id (when there is one) and the
/// connection and partner the message names (`connection_id`, `partner_id` at its top level),
/// so every line its handling logs carries them. Other fields of the body are not read.
pub fn message_span(message_id: Option<&str>, body: &str) -> tracing::Span {
    #[derive(serde::Deserialize, Default)]
    struct Ids {
        #[serde(default)]
        connection_id: Option<String>,
        #[serde(default)]
        partner_id: Option<String>,
    }
    let ids: Ids = serde_json::from_str(body).unwrap_or_default();
    let short = |id: Option<String>| id.filter(|i| i.len() <= crate::core::ids::MAX_ID_CHARS);
    tracing::info_span!("message", message_id, connection_id = short(ids.connection_id).as_deref(), partner_id = short(ids.partner_id).as_deref(),)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_span_names_the_connection_and_partner_of_any_message() {
        let span = super::message_span(Some("m-1"), r#"{"type":"submission","connection_id":"c-1","partner_id":"p-1","secret":"x"}"#);
        let fields: Vec<String> = span.metadata().map(|m| m.fields().iter().map(|f| f.name().to_owned()).collect()).unwrap_or_default();
        assert_eq!(fields, ["message_id", "connection_id", "partner_id"], "only the ids are fields");
        // Not JSON, or without ids: a span all the same.
        let _ = super::message_span(None, "not json");
    }
}
