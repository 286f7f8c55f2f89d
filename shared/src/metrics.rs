//! Metrics in CloudWatch's embedded metric format (EMF): one JSON line on stdout per measurement,
//! which CloudWatch Logs turns into metrics without an API call on the hot path (no PutMetricData,
//! no extra latency, no IAM beyond writing logs). Namespace `LeverHub`; every metric is recorded
//! per flow and, where a partner is known, per partner too.
//!
//! Locally (`hub-local`, tests) the lines are written only when `HUB_METRICS=emf`, so a terminal
//! is not flooded; in Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) always. A process may instead hand
//! every line to a sink of its own ([`send_to`]): the end-to-end tests read them with the logs.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "LeverHub";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Hands every metric line of this process to `sink` instead of stdout, whatever the
/// environment. Once per process; `false` if a sink was set before.
pub fn send_to(sink: impl Fn(&str) + Send + Sync + 'static) -> bool {
    SINK.set(Box::new(sink)).is_ok()
}

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() || std::env::var("HUB_METRICS").is_ok_and(|v| v == "emf"))
}

/// The EMF document for one measurement of `name` in `flow`, at `at_ms`.
pub fn document(flow: &str, partner: Option<&str>, name: &str, value: f64, unit: Unit, at_ms: i64) -> Value {
    let mut dimension_sets = vec![json!(["Flow"])];
    let mut root = Map::new();
    root.insert("Flow".into(), json!(flow));
    if let Some(p) = partner {
        dimension_sets.push(json!(["Flow", "Partner"]));
        root.insert("Partner".into(), json!(p));
    }
    root.insert(name.into(), json!(value));
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimension_sets,
                "Metrics": [{ "Name": name, "Unit": unit.as_str() }],
            }],
        }),
    );
    Value::Object(root)
}

/// Records one measurement (a no-op locally unless `HUB_METRICS=emf` or a sink is set).
pub fn record(flow: &str, partner: Option<&str>, name: &str, value: f64, unit: Unit) {
    let sink = SINK.get();
    if sink.is_none() && !enabled() {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let at_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let line = document(flow, partner, name, value, unit, at_ms).to_string();
    match sink {
        Some(sink) => sink(&line),
        // One line, straight to stdout: CloudWatch Logs parses it; tracing's JSON would wrap it.
        None => println!("{line}"),
    }
}

/// `name` took from `since_ms` to `now_ms` (epoch ms; a clock skew below zero is zero).
pub fn lag(flow: &str, partner: Option<&str>, name: &str, since_ms: i64, now_ms: i64) {
    let ms = u64::try_from(now_ms.saturating_sub(since_ms)).unwrap_or(0);
    duration(flow, partner, name, std::time::Duration::from_millis(ms));
}

/// `name` happened `n` times.
pub fn count(flow: &str, partner: Option<&str>, name: &str, n: u64) {
    record(flow, partner, name, n as f64, Unit::Count);
}

/// `name` took `elapsed`.
pub fn duration(flow: &str, partner: Option<&str>, name: &str, elapsed: std::time::Duration) {
    record(flow, partner, name, elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let d = document("jobs", Some("acme"), "JobsWritten", 3.0, Unit::Count, 1_700_000_000_000);
        assert_eq!(d["Flow"], "jobs");
        assert_eq!(d["Partner"], "acme");
        assert_eq!(d["JobsWritten"], 3.0);
        let m = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], NAMESPACE);
        assert_eq!(m["Metrics"][0], json!({"Name": "JobsWritten", "Unit": "Count"}));
        assert_eq!(m["Dimensions"], json!([["Flow"], ["Flow", "Partner"]]));
        assert_eq!(d["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let no_partner = document("delivery", None, "Latency", 12.5, Unit::Milliseconds, 1);
        assert_eq!(no_partner["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Flow"]]));
        assert!(no_partner.get("Partner").is_none());
    }
}
