//! EventBridge schedules (`ScheduleV2`, Scheduler; `Schedule`, a rule): `rate(…)` and
//! `cron(…)` expressions in their `ScheduleExpressionTimezone`, on a clock that
//! `--clock-offset` moves. A `ScheduleV2`'s `Input` is the event, with Scheduler's context
//! attributes (`<aws.scheduler.scheduled-time>`, …) filled in; without `Input` the event is
//! `{}`. A `Schedule` sends EventBridge's "Scheduled Event". Both invoke asynchronously: a
//! failed run is retried up to the schedule's `RetryPolicy.MaximumRetryAttempts` (Lambda's
//! default for asynchronous invocations, two, without one), a minute apart and then longer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail};
use axum::body::Bytes;

use crate::runtime::FunctionHost;

#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    Rate(Duration),
    Cron(Cron),
}

impl Expression {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let (n, unit) = inner.trim().split_once(' ').ok_or_else(|| anyhow!("{text}: expected rate(N unit)"))?;
            let n: u64 = n.parse().map_err(|_| anyhow!("{text}: {n} is not a whole number"))?;
            let seconds = match (unit, n) {
                ("minute", 1) | ("minutes", 2..) => 60,
                ("hour", 1) | ("hours", 2..) => 3600,
                ("day", 1) | ("days", 2..) => 86_400,
                _ => {
                    bail!("{text}: EventBridge takes minute(s), hour(s) or day(s), singular for 1")
                }
            };
            return Ok(Expression::Rate(Duration::from_secs(n * seconds)));
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return Ok(Expression::Cron(Cron::parse(inner)?));
        }
        bail!("{text}: the local stack runs rate(…) and cron(…) schedules")
    }
}

/// EventBridge's six-field cron (minutes hours day-of-month month day-of-week year; `?` in one of
/// the two day fields; 1 = Sunday). Written here because the cron crates read other dialects
/// (five fields, 0 = Sunday); `L`, `W` and `#` are refused rather than misread.
#[derive(Clone, Debug, PartialEq)]
pub struct Cron {
    fields: [Vec<u32>; 6],
}

const RANGES: [(u32, u32); 6] = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)];
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    fn parse(text: &str) -> anyhow::Result<Self> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 6 {
            bail!("cron({text}): EventBridge cron has six fields");
        }
        let mut fields: [Vec<u32>; 6] = Default::default();
        for (i, part) in parts.iter().enumerate() {
            fields[i] = field(part, i).map_err(|e| anyhow!("cron({text}): {e}"))?;
        }
        Ok(Self { fields })
    }

    fn matches(&self, at: &jiff::civil::DateTime) -> bool {
        let day_of_week = at.weekday().to_sunday_one_offset() as u32;
        let values = [at.minute() as u32, at.hour() as u32, at.day() as u32, at.month() as u32, day_of_week, at.year() as u32];
        values.iter().zip(&self.fields).all(|(v, allowed)| allowed.is_empty() || allowed.contains(v))
    }
}

/// One field's allowed values; empty means any (`*`, `?`).
fn field(text: &str, index: usize) -> anyhow::Result<Vec<u32>> {
    if text == "*" || text == "?" {
        return Ok(vec![]);
    }
    if text.contains(['L', 'W', '#']) && !text.chars().all(|c| c.is_ascii_alphabetic() || c == ',' || c == '-') {
        bail!("{text}: L, W and # are not run by the local stack");
    }
    let (low, high) = RANGES[index];
    let number = |s: &str| -> anyhow::Result<u32> {
        let upper = s.to_ascii_uppercase();
        let named = match index {
            3 => MONTHS.iter().position(|m| *m == upper).map(|p| p as u32 + 1),
            4 => DAYS.iter().position(|d| *d == upper).map(|p| p as u32 + 1),
            _ => None,
        };
        let n = match named {
            Some(n) => n,
            None => s.parse().map_err(|_| anyhow!("{s} is not a value of this field"))?,
        };
        if n < low || n > high {
            bail!("{n} is outside {low}-{high}");
        }
        Ok(n)
    };
    let mut values = vec![];
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| anyhow!("{item}: bad step"))?.max(1)),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (low, high),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None if item.contains('/') => (number(r)?, high),
                None => (number(r)?, number(r)?),
            },
        };
        values.extend((from..=to).step_by(step as usize));
    }
    Ok(values)
}

pub struct Schedule {
    pub name: String,
    pub function: Arc<FunctionHost>,
    pub expression: Expression,
    pub timezone: jiff::tz::TimeZone,
    pub input: Option<String>,
    pub v2: bool,
    pub schedule_arn: String,
    /// `--clock-offset`, in milliseconds: the schedule's idea of now.
    pub offset_ms: i64,
    /// Retries of a failed run after the first attempt.
    pub retries: u32,
}

impl Schedule {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_millis(self.offset_ms)).unwrap_or_else(|_| jiff::Timestamp::now())
    }

    /// The event for a run due at `at`.
    pub fn event(&self, at: jiff::Timestamp, attempt: u32) -> serde_json::Value {
        let time = at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        if !self.v2 {
            return serde_json::json!({
                "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Scheduled Event",
                "source": "aws.events", "account": crate::template::ACCOUNT, "time": time,
                "region": crate::template::REGION, "resources": [self.schedule_arn], "detail": {}
            });
        }
        let Some(input) = &self.input else {
            return serde_json::json!({});
        };
        let filled = input
            .replace("<aws.scheduler.scheduled-time>", &time)
            .replace("<aws.scheduler.execution-id>", &uuid::Uuid::new_v4().to_string())
            .replace("<aws.scheduler.attempt-number>", &attempt.to_string())
            .replace("<aws.scheduler.schedule-arn>", &self.schedule_arn);
        serde_json::from_str(&filled).unwrap_or(serde_json::Value::String(filled))
    }

    /// The next time the schedule fires after `after` (rate schedules: the next period from
    /// the stack's start).
    fn next_cron(&self, cron: &Cron, after: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let zoned = jiff::ZonedDateTime::new(after, self.timezone.clone());
        let mut minute = zoned.datetime().with().second(0).subsec_nanosecond(0).build().ok()?;
        // A year of minutes is the most a six-field expression can need to find its next run.
        for _ in 0..(366 * 24 * 60) {
            minute = minute.checked_add(jiff::SignedDuration::from_secs(60)).ok()?;
            if cron.matches(&minute) {
                return minute.to_zoned_datetime(self.timezone.clone()).ok().map(|z| z.timestamp());
            }
        }
        None
    }
}

/// Runs the schedule until the stack stops: a rate schedule first at start, then every
/// period; a cron schedule at each matching minute of its time zone.
pub fn start(schedule: Arc<Schedule>) {
    tokio::spawn(async move {
        let mut due = schedule.now();
        loop {
            let wait = match &schedule.expression {
                Expression::Rate(_) => Duration::ZERO,
                Expression::Cron(cron) => match schedule.next_cron(cron, due) {
                    Some(next) => {
                        due = next;
                        Duration::from_millis(next.duration_since(schedule.now()).as_millis().max(0) as u64)
                    }
                    None => return,
                },
            };
            tokio::time::sleep(wait).await;
            fire(schedule.clone(), due);
            if let Expression::Rate(period) = schedule.expression {
                tokio::time::sleep(period).await;
                due = schedule.now();
            }
        }
    });
}

/// One asynchronous invocation and the schedule's retries of a failed one.
fn fire(schedule: Arc<Schedule>, due: jiff::Timestamp) {
    tokio::spawn(async move {
        for attempt in 1..=schedule.retries + 1 {
            tokio::time::sleep(Duration::from_secs(60 * u64::from(attempt - 1))).await;
            let payload = Bytes::from(serde_json::to_vec(&schedule.event(due, attempt)).unwrap_or_default());
            let outcome = schedule.function.invoke(payload).await;
            if outcome.is_success() {
                return;
            }
            tracing::warn!(schedule = %schedule.name, attempt, outcome = %outcome.describe(), "scheduled run failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_crons_parse_as_eventbridge_reads_them() {
        assert_eq!(Expression::parse("rate(1 minute)").unwrap(), Expression::Rate(Duration::from_secs(60)));
        assert_eq!(Expression::parse("rate(6 hours)").unwrap(), Expression::Rate(Duration::from_secs(6 * 3600)));
        assert!(Expression::parse("rate(1 minutes)").is_err());
        assert!(Expression::parse("rate(5 seconds)").is_err());
        let Expression::Cron(cron) = Expression::parse("cron(30 2 ? * MON-FRI *)").unwrap() else { panic!("a cron") };
        let monday = jiff::civil::date(2026, 12, 7).at(2, 30, 0, 0);
        assert!(cron.matches(&monday));
        assert!(!cron.matches(&jiff::civil::date(2026, 12, 6).at(2, 30, 0, 0)), "Sunday");
        assert!(Expression::parse("cron(0 12 L * ? *)").is_err());
        assert!(Expression::parse("cron(0 12 * *)").is_err());
    }

    #[test]
    fn a_cron_fires_at_its_time_zones_minute() {
        let Expression::Cron(cron) = Expression::parse("cron(0 9 * * ? *)").unwrap() else { panic!("a cron") };
        let schedule = Schedule {
            name: "s".into(),
            function: FunctionHost::new(crate::runtime::FunctionSpec {
                name: "f".into(),
                function_name: "f".into(),
                function_arn: "arn".into(),
                binary: "/bin/false".into(),
                environment: Default::default(),
                timeout: Duration::from_secs(1),
                memory_mb: 128,
                log: "/dev/null".into(),
                max_instances: 1,
            }),
            expression: Expression::Cron(cron.clone()),
            timezone: jiff::tz::TimeZone::get("America/New_York").unwrap(),
            input: Some(r#"{"scheduled_time": "<aws.scheduler.scheduled-time>"}"#.into()),
            v2: true,
            schedule_arn: "arn:s".into(),
            offset_ms: 0,
            retries: 0,
        };
        let after: jiff::Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let next = schedule.next_cron(&cron, after).unwrap();
        assert_eq!(next.to_string(), "2026-12-07T14:00:00Z", "09:00 in New York is 14:00 UTC in December");
        assert_eq!(schedule.event(next, 1)["scheduled_time"], "2026-12-07T14:00:00Z");
    }
}
