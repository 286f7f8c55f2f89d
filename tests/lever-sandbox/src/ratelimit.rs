//! Lever's documented limit: a token bucket per credential, 10 requests/second
//! steady with bursts up to 20.

use std::time::{Duration, Instant};

use crate::state::Bucket;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_second: 10.0, burst: 20 }
    }
}

/// Takes one token; `Err(wait)` says how long until one would be available.
pub fn take(bucket: &mut Bucket, limit: RateLimit, now: Instant) -> Result<(), Duration> {
    let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(limit.burst as f64);
    bucket.last = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Ok(())
    } else {
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limit.per_second.max(0.001)))
    }
}

pub fn fresh(limit: RateLimit, now: Instant) -> Bucket {
    Bucket { tokens: limit.burst as f64, last: now }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let lim = RateLimit::default();
        let t0 = Instant::now();
        let mut b = fresh(lim, t0);
        for _ in 0..20 {
            assert!(take(&mut b, lim, t0).is_ok());
        }
        assert!(take(&mut b, lim, t0).is_err());
        assert!(take(&mut b, lim, t0 + Duration::from_millis(150)).is_ok());
    }
}
