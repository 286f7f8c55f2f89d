//! What runs on triggers in AWS runs here as loops: each queue's consumer (an SQS-triggered
//! Lambda there) and each schedule (EventBridge there), all in the one process.

use std::time::Duration;

use shared::hub::{Hub, HubError, QueueName};

/// How often the dispatcher looks for due connections (every minute in AWS; more often here, so
/// jobs show up soon after a connect). The first run is at start.
const DISPATCH_EVERY: Duration = Duration::from_secs(5);

/// How often the delivery and candidate sweeps run (the first run is at start).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Starts every worker and schedule. `schedule_offset_ms` moves the dispatcher's idea of now
/// (`--clock-offset`): schedules fall due that much earlier, everything else keeps the real time.
pub fn spawn_all(hub: &Hub, schedule_offset_ms: i64) -> Result<(), HubError> {
    let delivery = hub.delivery.clone();
    consume(move || {
        let delivery = delivery.clone();
        async move { delivery.work_once(10, Duration::from_millis(500)).await.map(drop).map_err(|e| e.to_string()) }
    });
    // Lever's webhooks, once verified and queued, go to the flows' handlers.
    let (lever_events, router) = (hub.wiring.queue(QueueName::LeverEvents)?, hub.lever_events.clone());
    consume(move || {
        let (lever_events, router) = (lever_events.clone(), router.clone());
        async move {
            shared::queue::work_once(lever_events.as_ref(), 10, Duration::from_millis(500), |body| {
                let router = router.clone();
                async move { router.handle(&body).await.ack() }
            })
            .await
            .map(drop)
            .map_err(|e| e.to_string())
        }
    });
    // Hires imports, daily and manual; the dispatcher starts the daily runs at each account's
    // local time.
    let hires = std::sync::Arc::new(hub.wiring.hires_worker()?);
    consume(move || {
        let hires = hires.clone();
        async move { hires.work_once(10, Duration::from_millis(500)).await.map(drop).map_err(|e| e.to_string()) }
    });
    let jobs = hub.jobs.clone();
    consume(move || {
        let jobs = jobs.clone();
        async move { jobs.work_once(1, Duration::from_millis(500)).await.map(drop).map_err(|e| e.to_string()) }
    });
    let writer = hub.candidates.clone();
    consume(move || {
        let writer = writer.clone();
        async move { writer.work_once(10, Duration::from_millis(500)).await.map(drop).map_err(|e| e.to_string()) }
    });

    let clock = hub.records.clock().clone();
    let dispatcher = std::sync::Arc::new(hub.wiring.dispatcher()?);
    every(DISPATCH_EVERY, "dispatch", {
        let clock = clock.clone();
        move || {
            let (dispatcher, now) = (dispatcher.clone(), clock.now_ms().saturating_add(schedule_offset_ms));
            async move { dispatcher.dispatch_once(now).await.map(drop).map_err(|e| e.to_string()) }
        }
    });
    let candidates = hub.candidates.clone();
    every(SWEEP_EVERY, "candidate sweep", {
        let clock = clock.clone();
        move || {
            let (candidates, now) = (candidates.clone(), clock.now_ms());
            async move { candidates.sweep_once(now).await.map(drop).map_err(|e| e.to_string()) }
        }
    });
    // Events stored but never queued get queued.
    let sweeper = hub.delivery.clone();
    every(SWEEP_EVERY, "delivery sweep", move || {
        let (sweeper, now) = (sweeper.clone(), clock.now_ms());
        async move { sweeper.sweep_once(now).await.map(drop).map_err(|e| e.to_string()) }
    });
    Ok(())
}

/// A queue consumer: takes work as it comes, and backs off a second after an error.
fn consume<F, Fut>(mut round: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        loop {
            if round().await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}

/// A schedule: one run per period; a failed run is logged and the next one retries.
fn every<F, Fut>(period: Duration, what: &'static str, mut run: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            if let Err(e) = run().await {
                tracing::warn!(error = %e, "{what} failed; the next one retries");
            }
        }
    });
}
