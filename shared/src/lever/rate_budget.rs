//! Lever's rate limit per connection, shared by every process through the store.
//!
//! Lever allows 10 requests per second with bursts of 20 for one account; the hub's job poller,
//! candidate writer and partner API pickers all call Lever for the same connection, from as many
//! Lambdas as are running. [`StoreRateBudget`] keeps one GCRA ("generic cell rate algorithm",
//! the token bucket as a single timestamp) per connection in the store:
//!
//! - A process **reserves a few send times at once** with one compare-and-set (2, then up to
//!   [`RateBudgetPolicy::max_batch`] while it keeps sending), keeps them in memory and sleeps
//!   until each before sending. One store read and write per batch, not per request.
//! - The bucket the hub spends is Lever's burst **minus a reserve** ([`RateBudgetPolicy::reserve`]):
//!   a send time held a little before it is used, or a request delayed on the wire, can then
//!   never add up to more than Lever's burst on Lever's side. Reserved times older than
//!   [`RateBudgetPolicy::stale_after`] are dropped, not used late.
//! - **A 429 pauses the connection for everyone**: the pause (`Retry-After`, or
//!   [`super::rate::DEFAULT_BACK_OFF`]) is written to the same record, and no send time before it
//!   is handed out. The process that saw the 429 drops the times it holds; the others honour the
//!   pause from their next reservation on (the times they hold span under half a second).
//! - The gate never fails a request: when the store cannot be reached it falls back to the
//!   in-process limiter and logs it.
//!
//! The record (`CONN#<id>` / `RATE`) holds two numbers and is rewritten in place; see
//! `docs/store.md`. Time is the wall clock (the budget is shared between machines).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::rate::{ConnectionLimiter, DEFAULT_BACK_OFF, RateGate, RateLimit};
use crate::clock::{Clock, SystemClock};
use crate::store::{Key, Record, Records, StoreError, keys};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateBudgetPolicy {
    /// Lever's limit for one account.
    pub limit: RateLimit,
    /// Burst slots the hub leaves unused (absorbs send times used late and network jitter).
    pub reserve: u32,
    /// The most send times one process reserves at once.
    pub max_batch: u32,
    /// A reserved send time this far in the past is dropped rather than used.
    pub stale_after: Duration,
}

impl Default for RateBudgetPolicy {
    fn default() -> Self {
        Self { limit: RateLimit::LEVER, reserve: 2, max_batch: 5, stale_after: Duration::from_millis(150) }
    }
}

/// The shared bucket of one connection, in microseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateBudget {
    pub connection_id: String,
    /// GCRA's theoretical arrival time: the bucket is full again at this instant.
    pub tat_us: i64,
    /// No request before this (a 429's back-off).
    #[serde(default)]
    pub paused_until_us: i64,
}

impl Record for RateBudget {
    const KIND: &'static str = "rate_budget";

    fn key(&self) -> Key {
        keys::rate_budget(&self.connection_id)
    }
}

#[derive(Default)]
struct Local {
    /// Reserved send times, oldest first.
    slots: VecDeque<i64>,
    next_batch: u32,
    last_reserved_us: i64,
}

pub struct StoreRateBudget {
    records: Records,
    clock: Arc<dyn Clock>,
    policy: RateBudgetPolicy,
    local: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Local>>>>,
    fallback: ConnectionLimiter,
}

impl StoreRateBudget {
    pub fn new(records: Records, policy: RateBudgetPolicy) -> Self {
        let fallback = ConnectionLimiter::new(policy.limit);
        Self { records, clock: Arc::new(SystemClock), policy, local: Mutex::new(HashMap::new()), fallback }
    }

    fn now_us(&self) -> i64 {
        i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
    }

    fn emission_us(&self) -> i64 {
        1_000_000 / i64::from(self.policy.limit.per_second.max(1))
    }

    /// GCRA tolerance: how far ahead of now the bucket may run.
    fn tolerance_us(&self) -> i64 {
        let burst = self.policy.limit.burst.saturating_sub(self.policy.reserve).max(1);
        i64::from(burst - 1) * self.emission_us()
    }

    fn local(&self, connection: &str) -> Arc<tokio::sync::Mutex<Local>> {
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            // Forget idle connections; a held lock means someone is using it.
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(connection.to_owned()).or_default().clone()
    }

    /// Up to `n` send times for `connection`, taken from the shared bucket in one
    /// compare-and-set. The first may lie in the future (bucket empty or paused); the others
    /// only if they come within a few emission intervals of it.
    pub async fn reserve(&self, connection: &str, n: u32) -> Result<Vec<i64>, StoreError> {
        let key = keys::rate_budget(connection);
        let (t, tau) = (self.emission_us(), self.tolerance_us());
        for attempt in 0..16u64 {
            let now = self.now_us();
            let current = self.records.get::<RateBudget>(&key).await?;
            let mut budget = current
                .as_ref()
                .map(|c| c.record.clone())
                .unwrap_or_else(|| RateBudget { connection_id: connection.to_owned(), ..RateBudget::default() });
            let mut slots = Vec::new();
            let mut tat = budget.tat_us;
            for j in 0..n.max(1) {
                let at = now.max(budget.paused_until_us).max(tat - tau);
                if j > 0 && at > slots.first().copied().unwrap_or(now) + 4 * t {
                    break;
                }
                slots.push(at);
                tat = tat.max(at) + t;
            }
            budget.tat_us = tat;
            let written = match &current {
                Some(c) => self.records.replace(&budget, c.version).await,
                None => self.records.create(&budget).await,
            };
            match written {
                Ok(_) => return Ok(slots),
                Err(StoreError::ConditionFailed) => {
                    // Another process took slots first: read again, after a breath of jitter.
                    let ms = rand::random_range(0..=attempt.min(8) + 1);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Writes a pause until `until_us` (never shortening one already there).
    async fn pause(&self, connection: &str, until_us: i64) -> Result<(), StoreError> {
        let key = keys::rate_budget(connection);
        for _ in 0..16 {
            let current = self.records.get::<RateBudget>(&key).await?;
            let mut budget = current
                .as_ref()
                .map(|c| c.record.clone())
                .unwrap_or_else(|| RateBudget { connection_id: connection.to_owned(), ..RateBudget::default() });
            if budget.paused_until_us >= until_us {
                return Ok(());
            }
            budget.paused_until_us = until_us;
            budget.tat_us = budget.tat_us.max(until_us);
            let written = match &current {
                Some(c) => self.records.replace(&budget, c.version).await,
                None => self.records.create(&budget).await,
            };
            match written {
                Ok(_) => return Ok(()),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }
}

impl StoreRateBudget {
    /// The next send time this process holds for `connection`, reserving more when it holds
    /// none; `None` when the store cannot be reached (the caller falls back to this process's
    /// limiter).
    async fn next_slot(&self, connection: &str, local: &tokio::sync::Mutex<Local>) -> Option<i64> {
        let mut held = local.lock().await;
        let stale_us = i64::try_from(self.policy.stale_after.as_micros()).unwrap_or(i64::MAX);
        loop {
            let now = self.now_us();
            while held.slots.front().is_some_and(|s| *s < now - stale_us) {
                held.slots.pop_front();
            }
            if let Some(slot) = held.slots.pop_front() {
                return Some(slot);
            }
            // A connection that keeps sending gets bigger batches; an idle one starts small.
            let batch = if now - held.last_reserved_us < 2_000_000 { held.next_batch.max(2) } else { 2 };
            match self.reserve(connection, batch.min(self.policy.max_batch)).await {
                Ok(slots) => {
                    held.slots.extend(slots);
                    held.last_reserved_us = now;
                    held.next_batch = (batch * 2).min(self.policy.max_batch);
                }
                Err(e) => {
                    tracing::warn!(connection, error = %e, "shared Lever rate budget unavailable; limiting in this process only");
                    return None;
                }
            }
        }
    }

    async fn wait_for(&self, slot: i64) {
        let wait_us = slot - self.now_us();
        if wait_us > 0 {
            tokio::time::sleep(Duration::from_micros(wait_us.unsigned_abs())).await;
        }
    }
}

#[async_trait]
impl RateGate for StoreRateBudget {
    async fn acquire(&self, connection: &str) {
        let local = self.local(connection);
        match self.next_slot(connection, &local).await {
            Some(slot) => self.wait_for(slot).await,
            None => self.fallback.acquire(connection).await,
        }
    }

    async fn acquire_by(&self, connection: &str, deadline: tokio::time::Instant) -> Result<(), Duration> {
        let local = self.local(connection);
        let Some(slot) = self.next_slot(connection, &local).await else {
            self.fallback.acquire(connection).await;
            return Ok(());
        };
        let wait_us = (slot - self.now_us()).max(0).unsigned_abs();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if Duration::from_micros(wait_us) > left {
            // Not this request's: the next request of this process for the connection uses it.
            local.lock().await.slots.push_front(slot);
            return Err(Duration::from_micros(wait_us));
        }
        self.wait_for(slot).await;
        Ok(())
    }

    async fn back_off(&self, connection: &str, wait: Option<Duration>) {
        let wait = wait.unwrap_or(DEFAULT_BACK_OFF);
        // Times reserved before the 429 are not to be trusted any more.
        self.local(connection).lock().await.slots.clear();
        RateGate::back_off(&self.fallback, connection, Some(wait)).await;
        let until = self.now_us().saturating_add(i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 2));
        if let Err(e) = self.pause(connection, until).await {
            tracing::warn!(connection, error = %e, "Lever back-off not shared (store unavailable); this process waits alone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

    fn budget() -> StoreRateBudget {
        StoreRateBudget::new(Records::new(Arc::new(EmbeddedStore::in_memory()), Arc::new(SystemClock)), RateBudgetPolicy::default())
    }

    #[tokio::test]
    async fn reservations_follow_the_bucket_less_the_reserve() {
        let b = budget();
        let start = b.now_us();
        let mut slots = vec![];
        while slots.len() < 30 {
            slots.extend(b.reserve("c", 5).await.unwrap());
        }
        // 18 at once (20 less the reserve of 2), then one per 100 ms.
        let immediate = slots.iter().filter(|s| **s < start + 50_000).count();
        assert_eq!(immediate, 18, "{slots:?}");
        for w in slots[18..].windows(2) {
            assert!(w[1] - w[0] >= 99_000, "{slots:?}");
        }
        assert!(*slots.last().unwrap() - start >= 1_100_000);
    }

    #[tokio::test]
    async fn a_pause_holds_every_process_back() {
        let store: Arc<dyn crate::store::Store> = Arc::new(EmbeddedStore::in_memory());
        let records = Records::new(store, Arc::new(SystemClock));
        let (a, b) = (StoreRateBudget::new(records.clone(), RateBudgetPolicy::default()), StoreRateBudget::new(records, RateBudgetPolicy::default()));
        let start = a.now_us();
        a.back_off("c", Some(Duration::from_secs(3))).await;
        let slots = b.reserve("c", 2).await.unwrap();
        assert!(slots[0] >= start + 3_000_000, "the other process waits out the Retry-After: {slots:?}");
        assert_eq!(slots.len(), 2);
        // Another connection is not paused.
        assert!(b.reserve("d", 1).await.unwrap()[0] < start + 100_000);
    }
}
