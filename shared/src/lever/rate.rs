//! Per-connection request rate limit (Lever: token bucket, 10 req/s steady, bursts of 20).
//!
//! One keyed GCRA limiter (`governor`) per client; the key is the connection id, so every task of
//! one connection in this process shares a bucket while connections don't slow each other down.
//! Across processes (many Lambdas) this only shapes our own traffic; Lever's 429 plus backoff
//! (`retry`) is what bounds the rest.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl RateLimit {
    /// Lever's documented limit.
    pub const LEVER: RateLimit = RateLimit {
        per_second: 10,
        burst: 20,
    };
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::LEVER
    }
}

pub struct ConnectionLimiter {
    inner: DefaultKeyedRateLimiter<String>,
}

impl ConnectionLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let per_second = NonZeroU32::new(limit.per_second.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(limit.burst.max(1)).expect("non-zero");
        Self {
            inner: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    /// Wait until `connection` may send one more request.
    pub async fn acquire(&self, connection: &str) {
        // Keys are owned Strings; a lookup allocates once per request, negligible next to HTTP.
        self.inner.until_key_ready(&connection.to_owned()).await;
        if self.inner.len() > 10_000 {
            // Forget idle connections so a long-lived process doesn't grow without bound.
            self.inner.retain_recent();
        }
    }
}

impl std::fmt::Debug for ConnectionLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLimiter")
            .field("connections", &self.inner.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// 40 requests at 10/s with a burst of 20: the first 20 pass at once, the other 20 need ≈ 2 s.
    /// A second connection is not slowed by the first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn burst_then_steady_rate_per_connection() {
        let limiter = Arc::new(ConnectionLimiter::new(RateLimit::LEVER));
        let start = Instant::now();
        for _ in 0..20 {
            limiter.acquire("conn-a").await;
        }
        let burst_time = start.elapsed();
        assert!(
            burst_time < Duration::from_millis(200),
            "burst of 20 took {burst_time:?}"
        );

        // Shared across concurrent tasks of the same connection.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire("conn-a").await })
            })
            .collect();
        let other = Instant::now();
        limiter.acquire("conn-b").await;
        assert!(
            other.elapsed() < Duration::from_millis(100),
            "conn-b must not wait for conn-a"
        );
        for t in tasks {
            t.await.unwrap();
        }
        let total = start.elapsed();
        println!("40 requests on one connection: burst {burst_time:?}, total {total:?}");
        assert!(
            total >= Duration::from_millis(1_800),
            "20 beyond the burst at 10/s need ~2 s, took {total:?}"
        );
        assert!(total < Duration::from_millis(3_500), "took {total:?}");
    }
}
