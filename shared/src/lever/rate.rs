//! Per-connection request rate limit (Lever: token bucket, 10 req/s steady, bursts of 20).
//!
//! The Lever client asks a [`RateGate`] before every request it sends (each retry included) and
//! tells it about every 429. Two gates:
//! - [`ConnectionLimiter`]: one keyed GCRA limiter (`governor`) in this process; the key is the
//!   connection id, so every task of one connection in this process shares a bucket while
//!   connections don't slow each other down. For tools and tests that run one process.
//! - `rate_budget::StoreRateBudget`: the same budget kept in the store, so every Lambda
//!   that calls Lever for one connection (job poller, candidate writer, partner API pickers)
//!   stays under Lever's limit together, and a 429 seen by one pauses them all.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Asked before every Lever request of a connection. Implementations must be cheap when
/// there is budget, and must never fail the request: a gate that cannot decide waits by its
/// own means (e.g. an in-process limiter) and lets the request go.
#[async_trait]
pub trait RateGate: Send + Sync {
    /// Waits until one more request may be sent for `connection`.
    async fn acquire(&self, connection: &str);

    /// Like [`RateGate::acquire`], but only for a send time before `deadline`; `Err` carries how
    /// long from now the next one is. Gates that cannot tell wait as `acquire` does.
    async fn acquire_by(&self, connection: &str, deadline: tokio::time::Instant) -> Result<(), Duration> {
        let _ = deadline;
        self.acquire(connection).await;
        Ok(())
    }

    /// Lever answered 429 for `connection`: no request of it goes out for `wait` (Lever's
    /// `Retry-After`, or the gate's own guess when Lever sent none).
    async fn back_off(&self, connection: &str, wait: Option<Duration>);
}

tokio::task_local! {
    /// The latest moment a Lever request of the current task may still be sent: work that must
    /// finish within a budget (a submission tried inside the partner's request) does not wait
    /// for a send time it cannot use. See [`send_by`].
    static SEND_BY: tokio::time::Instant;
}

/// Runs `work` with every Lever request it makes sent by `deadline` or not at all: a gate that
/// could only let one go later answers at once with the wait (the client's
/// [`super::error::LeverError::RateLimited`]) and keeps the send time for a later request, and
/// the client does not sleep through a retry that would end after it. Without this, a request
/// waits for its send time however far off, and work cancelled meanwhile wastes the time it
/// reserved.
pub async fn send_by<F: std::future::Future>(deadline: tokio::time::Instant, work: F) -> F::Output {
    SEND_BY.scope(deadline, work).await
}

/// The current task's send deadline, if [`send_by`] set one.
pub fn send_deadline() -> Option<tokio::time::Instant> {
    SEND_BY.try_with(|d| *d).ok()
}

/// The pause after a 429 without `Retry-After`: ten requests' worth of Lever's steady rate.
pub const DEFAULT_BACK_OFF: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl RateLimit {
    /// Lever's documented limit.
    pub const LEVER: RateLimit = RateLimit { per_second: 10, burst: 20 };
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::LEVER
    }
}

pub struct ConnectionLimiter {
    inner: DefaultKeyedRateLimiter<String>,
    /// Connections told to wait after a 429, until when.
    paused: Mutex<HashMap<String, Instant>>,
}

impl ConnectionLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let per_second = NonZeroU32::new(limit.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self { inner: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)), paused: Mutex::new(HashMap::new()) }
    }

    /// Wait until `connection` may send one more request.
    pub async fn acquire(&self, connection: &str) {
        let paused_until = self.paused.lock().unwrap_or_else(|e| e.into_inner()).get(connection).copied();
        if let Some(until) = paused_until {
            tokio::time::sleep_until(until.into()).await;
        }
        // Keys are owned Strings; a lookup allocates once per request, negligible next to HTTP.
        self.inner.until_key_ready(&connection.to_owned()).await;
        if self.inner.len() > 10_000 {
            // Forget idle connections so a long-lived process doesn't grow without bound.
            self.inner.retain_recent();
            self.paused.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > Instant::now());
        }
    }

    fn pause(&self, connection: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let slot = paused.entry(connection.to_owned()).or_insert(until);
        *slot = (*slot).max(until);
    }
}

#[async_trait]
impl RateGate for ConnectionLimiter {
    async fn acquire(&self, connection: &str) {
        ConnectionLimiter::acquire(self, connection).await;
    }

    async fn back_off(&self, connection: &str, wait: Option<Duration>) {
        self.pause(connection, wait.unwrap_or(DEFAULT_BACK_OFF));
    }
}

impl std::fmt::Debug for ConnectionLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLimiter").field("connections", &self.inner.len()).finish()
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
        assert!(burst_time < Duration::from_millis(200), "burst of 20 took {burst_time:?}");

        // Shared across concurrent tasks of the same connection.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire("conn-a").await })
            })
            .collect();
        let other = Instant::now();
        limiter.acquire("conn-b").await;
        assert!(other.elapsed() < Duration::from_millis(100), "conn-b must not wait for conn-a");
        for t in tasks {
            t.await.unwrap();
        }
        let total = start.elapsed();
        println!("40 requests on one connection: burst {burst_time:?}, total {total:?}");
        assert!(total >= Duration::from_millis(1_800), "20 beyond the burst at 10/s need ~2 s, took {total:?}");
        assert!(total < Duration::from_millis(3_500), "took {total:?}");
    }

    #[tokio::test]
    async fn a_429_pauses_the_connection_only() {
        let limiter = ConnectionLimiter::new(RateLimit::LEVER);
        RateGate::back_off(&limiter, "conn-a", Some(Duration::from_millis(300))).await;
        let start = Instant::now();
        RateGate::acquire(&limiter, "conn-b").await;
        assert!(start.elapsed() < Duration::from_millis(100), "another connection goes on");
        RateGate::acquire(&limiter, "conn-a").await;
        assert!(start.elapsed() >= Duration::from_millis(290), "waited out the Retry-After: {:?}", start.elapsed());
    }
}
