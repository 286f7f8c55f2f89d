//! When to try again: the retry schedule and `Retry-After`, as pure functions.

use std::time::{Duration, SystemTime};

use crate::queue::MAX_DELAY;

/// How outbound deliveries are attempted. The defaults suit production; tests shorten them.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryPolicy {
    /// Attempts before a delivery is dead (the first attempt counts).
    pub max_attempts: u32,
    /// Whole-request limit for one POST, connect included.
    pub request_timeout: Duration,
    /// Delay after the first failed attempt; doubles after each further failure.
    pub first_retry_delay: Duration,
    /// Longest backoff delay. At most the queue's 15-minute delay limit.
    pub max_retry_delay: Duration,
    /// Longest `Retry-After` honoured; a partner asking for more gets this.
    pub max_retry_after: Duration,
    /// How long published events (and their deliveries) stay in the outbox for replay.
    pub retention: Duration,
    /// Accept `http://` endpoints on loopback hosts (local runs and tests only).
    pub allow_http_loopback: bool,
    /// How long after an event is stored its deliveries must be queued; the sweeper queues
    /// those that are not by then (the process stopped between the outbox and the queue).
    pub sweep_after: Duration,
}

impl Default for DeliveryPolicy {
    /// 8 attempts over about 45 minutes: 30 s, 1, 2, 4, 8, 15, 15 min (±jitter).
    fn default() -> Self {
        Self {
            max_attempts: 8,
            request_timeout: Duration::from_secs(10),
            first_retry_delay: Duration::from_secs(30),
            max_retry_delay: MAX_DELAY,
            max_retry_after: MAX_DELAY,
            retention: Duration::from_secs(30 * 24 * 3600),
            allow_http_loopback: false,
            sweep_after: Duration::from_secs(60),
        }
    }
}

impl DeliveryPolicy {
    /// Delay before the attempt after failed attempt `failed_attempt` (1-based).
    ///
    /// Exponential with "equal jitter" (half fixed, half random, `jitter` in `[0, 1)`), so
    /// endpoints that failed together do not get retried in lockstep. A `Retry-After` from the
    /// partner is a floor: never earlier than asked, never faster than the backoff (a server
    /// answering `Retry-After: 0` to every request is not hammered). Never over the queue's limit.
    pub fn retry_delay(&self, failed_attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = failed_attempt.saturating_sub(1).min(30);
        let backoff = self.first_retry_delay.saturating_mul(1 << exponent).min(self.max_retry_delay);
        let jittered = backoff / 2 + backoff.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
        let asked = retry_after.map_or(Duration::ZERO, |d| d.min(self.max_retry_after));
        jittered.max(asked).min(MAX_DELAY)
    }
}

/// `Retry-After` as seconds or an HTTP-date (RFC 9110 §10.2.3); a past date means now.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DeliveryPolicy {
        DeliveryPolicy { first_retry_delay: Duration::from_secs(30), ..DeliveryPolicy::default() }
    }

    #[test]
    fn doubles_from_the_first_delay_and_caps_at_the_queue_limit() {
        let p = policy();
        let no_jitter: Vec<u64> = (1..=8).map(|n| p.retry_delay(n, None, 0.999_999).as_secs()).collect();
        assert_eq!(no_jitter, [29, 59, 119, 239, 479, 899, 899, 899]);
        assert_eq!(p.retry_delay(1, None, 0.0), Duration::from_secs(15));
        assert_eq!(p.retry_delay(u32::MAX, None, 0.5), Duration::from_secs(675));
    }

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        let p = policy();
        for j in [0.0, 0.25, 0.5, 0.75, 0.99] {
            let d = p.retry_delay(3, None, j);
            assert!(d >= Duration::from_secs(60) && d < Duration::from_secs(120), "{d:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let p = DeliveryPolicy { max_retry_after: Duration::from_secs(600), ..policy() };
        assert_eq!(p.retry_delay(1, Some(Duration::from_secs(120)), 0.0), Duration::from_secs(120));
        assert_eq!(p.retry_delay(1, Some(Duration::from_secs(5)), 0.0), Duration::from_secs(15));
        assert_eq!(p.retry_delay(1, Some(Duration::from_secs(86_400)), 0.0), Duration::from_secs(600));
    }

    #[test]
    fn parses_retry_after_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
