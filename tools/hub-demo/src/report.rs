//! One line per step: `✓` with the fact that was checked, or `✗` with what was seen instead.
//! A failed step ends its story; the demo goes on with the next story and exits non-zero.

use std::future::Future;
use std::time::{Duration, Instant};

/// The longest any one step may take (each wait inside a step has its own, shorter deadline).
const STEP_LIMIT: Duration = Duration::from_secs(45);

/// A step that failed: which story, which step, and what was seen.
#[derive(Debug)]
pub struct Failure {
    pub story: &'static str,
    pub step: &'static str,
    pub seen: String,
}

/// The steps of one story, printed as they finish.
pub struct Story {
    pub name: &'static str,
}

impl Story {
    pub fn begin(name: &'static str, what: &str) -> Story {
        println!("\n{name}: {what}");
        Story { name }
    }

    /// Runs one step. Its future answers the value later steps need and the fact it checked.
    pub async fn step<T>(&self, step: &'static str, run: impl Future<Output = anyhow::Result<(T, String)>>) -> Result<T, Failure> {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(STEP_LIMIT, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow::anyhow!("no outcome within {} s", STEP_LIMIT.as_secs())),
        };
        match outcome {
            Ok((value, fact)) => {
                println!("  ✓ [{}] {step}: {fact} ({})", self.name, took(started));
                Ok(value)
            }
            Err(e) => {
                let seen = format!("{e:#}");
                println!("  ✗ [{}] {step}: {seen}", self.name);
                Err(Failure { story: self.name, step, seen })
            }
        }
    }
}

fn took(since: Instant) -> String {
    let ms = since.elapsed().as_millis();
    if ms < 1000 { format!("{ms} ms") } else { format!("{:.1} s", ms as f64 / 1000.0) }
}

/// Polls `probe` every 50 ms until it answers `Some`, or fails after `within` with the last
/// thing it saw (what `probe` answered as `Err`, or `"nothing yet"`).
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + within;
    let mut last = "nothing yet".to_owned();
    loop {
        match probe().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(seen) => last = seen,
        }
        if Instant::now() >= deadline {
            anyhow::bail!("{what} not seen within {} s; last seen: {last}", within.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Fails with `expected …, saw …` unless `ok`.
pub fn check(ok: bool, expected: impl std::fmt::Display, seen: impl std::fmt::Debug) -> anyhow::Result<()> {
    if ok { Ok(()) } else { anyhow::bail!("expected {expected}, saw {seen:?}") }
}
