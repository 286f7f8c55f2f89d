//! `crash-bench`: how fast `hub-local` recovers from `kill -9` in the middle of a burst of
//! submissions, and whether anything was lost or written twice.
//!
//! `cargo build -p hub-local -p lever-sandbox && cargo run --release -p hub-bench --bin crash-bench`
//!
//! The Lever sandbox runs as its own process (Lever does not crash with the hub) with its rate
//! limit off, so the figures are the hub's recovery and not Lever's pace. A customer of HireUp is
//! connected, `--submissions` referrals (each a new opportunity and a note) are sent
//! `--in-flight` at a time with their own Idempotency-Keys, and after `--kill-after` answers the
//! hub gets SIGKILL. It is restarted at once on the same data directory and port; every
//! submission not answered yet is sent again with its key, as a partner's retry would (on 409
//! `idempotency-key-in-use` after its `Retry-After`). Measured from the restart: the hub
//! answering, every submission answered, every submission written to Lever. Then Lever is read:
//! exactly one opportunity with one note per candidate.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt as _;
use serde_json::{Value, json};
use shared::testing::HubAnnouncement;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 200)]
    submissions: usize,
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// SIGKILL the hub after this many answers.
    #[arg(long, default_value_t = 60)]
    kill_after: usize,
    /// The binaries to run (built by `cargo build -p hub-local -p lever-sandbox`).
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Give up waiting for recovery after this long.
    #[arg(long, default_value_t = 900)]
    limit_secs: u64,
}

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Spawns `bin` and waits for the stdout line `found` accepts; the rest of stdout is drained.
fn spawn_until<T: Send + 'static>(bin: &Path, args: &[String], found: fn(&str) -> Option<T>) -> AnyResult<(Child, T)> {
    let mut child = Command::new(bin).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(v) = found(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let value = rx.recv_timeout(Duration::from_secs(120)).map_err(|_| format!("{} did not start", bin.display()))?;
    Ok((child, value))
}

fn free_port() -> AnyResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn referral(i: usize, posting: &str) -> Value {
    json!({
        "kind": "referral",
        "candidate": {"name": format!("Crash Candidate {i}"), "emails": [email(i)]},
        "postings": [posting],
        "referrer": {"name": "Robin Referrer", "email": "robin@partner.example"},
        "endorsement": format!("Referral number {i}."),
    })
}

fn email(i: usize) -> String {
    format!("crash-{i}@candidates.example")
}

/// The partner's side of the run: where the hub is, its key, the customer's connection and the
/// posting the referrals are for.
struct Partner {
    http: reqwest::Client,
    base: String,
    key: String,
    connection: String,
    posting: String,
}

impl Partner {
    /// Sends submission `i` until it has a final answer (2xx), retrying what a partner retries.
    /// `Err` when the hub is gone (connection refused or reset) and `persist` is false.
    async fn submit(&self, i: usize, persist: bool) -> Result<Value, ()> {
        loop {
            let sent = self
                .http
                .post(format!("{}/v1/connections/{}/candidates", self.base, self.connection))
                .bearer_auth(&self.key)
                .header("idempotency-key", format!("crash-bench-{i}"))
                .json(&referral(i, &self.posting))
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_success() => return res.json().await.map_err(|_| ()),
                Ok(res) => {
                    let wait = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                Err(_) if persist => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => return Err(()),
            }
        }
    }

    /// The states of the answered submissions, counted.
    async fn states(&self, answered: &BTreeMap<usize, Value>) -> AnyResult<BTreeMap<String, usize>> {
        let mut states = BTreeMap::new();
        for a in answered.values() {
            let id = a["id"].as_str().unwrap_or_default();
            let url = format!("{}/v1/connections/{}/candidates/{id}", self.base, self.connection);
            let view: Value = self.http.get(url).bearer_auth(&self.key).send().await?.json().await.unwrap_or(Value::Null);
            *states.entry(view["state"].as_str().unwrap_or("unknown").to_owned()).or_default() += 1;
        }
        Ok(states)
    }
}

/// What the burst left: the answered submissions, and those in flight when the hub was killed.
struct Burst {
    answered: BTreeMap<usize, Value>,
    in_flight_at_kill: Vec<usize>,
}

/// Sends every submission, `in_flight` at a time, and kills the hub after `kill_after` answers.
async fn burst(partner: &Partner, args: &Args, hub: &mut Child) -> AnyResult<Burst> {
    let started = Instant::now();
    let (mut answered, mut in_flight_at_kill, mut killed_at) = (BTreeMap::new(), Vec::new(), None::<Instant>);
    let mut sends = futures::stream::iter(0..args.submissions)
        .map(|i| async move {
            let began = Instant::now();
            (i, began, partner.submit(i, false).await)
        })
        .buffer_unordered(args.in_flight);
    while let Some((i, began, answer)) = sends.next().await {
        match answer {
            Ok(a) => {
                answered.insert(i, a);
            }
            Err(()) if killed_at.is_some_and(|k| began < k) => in_flight_at_kill.push(i),
            Err(()) => {}
        }
        if answered.len() == args.kill_after && killed_at.is_none() {
            hub.kill()?; // SIGKILL
            hub.wait()?;
            killed_at = Some(Instant::now());
        }
    }
    println!(
        "burst: {} submissions, {} in flight; SIGKILL after {} answers ({:.1} s in); {} answered before the kill",
        args.submissions,
        args.in_flight,
        args.kill_after,
        started.elapsed().as_secs_f64(),
        answered.len()
    );
    Ok(Burst { answered, in_flight_at_kill })
}

/// Resends every unanswered submission (those in flight at the kill first); returns when the
/// last of those in flight was answered.
async fn resend(partner: &Partner, args: &Args, burst: &mut Burst, restarted: Instant) -> AnyResult<Duration> {
    let in_flight = burst.in_flight_at_kill.clone();
    let rest = (0..args.submissions).filter(|i| !burst.answered.contains_key(i) && !in_flight.contains(i));
    let missing: Vec<usize> = in_flight.iter().copied().chain(rest).collect();
    let retried: Vec<(usize, Result<Value, ()>, Duration)> = futures::stream::iter(missing)
        .map(|i| async move {
            let answer = partner.submit(i, true).await;
            (i, answer, restarted.elapsed())
        })
        .buffer_unordered(args.in_flight)
        .collect()
        .await;
    let mut in_flight_answered = Duration::ZERO;
    for (i, answer, at) in retried {
        if in_flight.contains(&i) {
            in_flight_answered = in_flight_answered.max(at);
        }
        burst.answered.insert(i, answer.map_err(|_| "a retried submission got no answer")?);
    }
    Ok(in_flight_answered)
}

/// Lever's side: (lost, with more than one opportunity, without exactly one note).
async fn lever_counts(http: &reqwest::Client, lever: &str, submissions: usize) -> AnyResult<(usize, usize, usize)> {
    let (mut lost, mut duplicates, mut notes_missing) = (0, 0, 0);
    for i in 0..submissions {
        let found: Vec<Value> = http.get(format!("{lever}/_admin/opportunities")).query(&[("email", email(i))]).send().await?.json().await?;
        match found.len() {
            0 => lost += 1,
            1 => {}
            _ => duplicates += 1,
        }
        notes_missing += found.iter().filter(|o| o["notes"].as_array().is_none_or(|n| n.len() != 1)).count();
    }
    Ok((lost, duplicates, notes_missing))
}

/// Lever (its own process, never killed: it keeps its account in memory) and a connected
/// HireUp customer on a `hub-local` at a fixed port.
async fn set_up(args: &Args, work: &Path) -> AnyResult<(Child, String, Child, Vec<String>, Partner)> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let sandbox_args: Vec<String> = ["--addr", "127.0.0.1:0", "--consent", "auto", "--no-rate-limit"].iter().map(|s| s.to_string()).collect();
    let (lever_process, lever) =
        spawn_until(&args.bin_dir.join("lever-sandbox"), &sandbox_args, |l| l.strip_prefix("lever sandbox listening on ").map(str::to_owned))?;
    let port = free_port()?;
    let hub_args: Vec<String> = ["--addr".to_owned(), format!("127.0.0.1:{port}"), "--lever".to_owned(), lever.clone(), "--data-dir".to_owned()]
        .into_iter()
        .chain([work.join("hub").display().to_string()])
        .collect();
    let (hub_process, said) = spawn_until(&args.bin_dir.join("hub-local"), &hub_args, HubAnnouncement::parse)?;
    let base = said.hub;
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(work.join("hub/local-api-keys.json"))?)?;
    let key = keys["hireup"].as_str().ok_or("no HireUp key")?.to_owned();
    let connection = shared::testing::connect_customer(&http, &base, &key, &format!("{base}/demo/done")).await;
    let posting: Value = http
        .post(format!("{lever}/_admin/postings"))
        .json(&json!({"text": "Crash bench", "state": "published", "distributionChannels": ["public", "internal"]}))
        .send()
        .await?
        .json()
        .await?;
    let posting = posting["id"].as_str().ok_or("no posting id")?.to_owned();
    Ok((lever_process, lever, hub_process, hub_args, Partner { http, base, key, connection, posting }))
}

#[tokio::main]
async fn main() -> AnyResult<()> {
    let args = Args::parse();
    let work = std::env::temp_dir().join(format!("crash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let (mut lever_process, lever, mut hub_process, hub_args, partner) = set_up(&args, &work).await?;
    let mut burst = burst(&partner, &args, &mut hub_process).await?;

    // The restart, and the partner's retries.
    let restarted = Instant::now();
    let (mut hub_process, _) = spawn_until(&args.bin_dir.join("hub-local"), &hub_args, HubAnnouncement::parse)?;
    let up = restarted.elapsed();
    let in_flight_answered = resend(&partner, &args, &mut burst, restarted).await?;
    let all_answered = restarted.elapsed();

    // Every submission written to Lever (answered 202 `queued` ones are finished by the workers).
    let limit = Instant::now() + Duration::from_secs(args.limit_secs);
    let states = loop {
        let states = partner.states(&burst.answered).await?;
        let written = states.get("created").copied().unwrap_or(0) + states.get("updated").copied().unwrap_or(0);
        if written == args.submissions || Instant::now() > limit {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let all_written = restarted.elapsed();
    let (lost, duplicates, notes_missing) = lever_counts(&partner.http, &lever, args.submissions).await?;

    println!("restart → hub answering: {:.2} s", up.as_secs_f64());
    println!("restart → every submission answered (partner retries with the same keys): {:.1} s", all_answered.as_secs_f64());
    println!(
        "restart → the {} submissions in flight at the kill answered: {:.1} s (they are resent first)",
        burst.in_flight_at_kill.len(),
        in_flight_answered.as_secs_f64()
    );
    println!("restart → every submission written to Lever: {:.1} s; states {states:?}", all_written.as_secs_f64());
    println!("Lever: {lost} candidates lost, {duplicates} with more than one opportunity, {notes_missing} opportunities without exactly one note");

    for process in [&mut hub_process, &mut lever_process] {
        let _ = process.kill();
        let _ = process.wait();
    }
    let _ = std::fs::remove_dir_all(&work);
    if lost + duplicates + notes_missing > 0 || states.len() != 1 {
        return Err("the crash lost or duplicated work".into());
    }
    Ok(())
}
