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

/// Sends submission `i` until it has a final answer (2xx), retrying what a partner retries.
/// `Err` when the hub is gone (connection refused or reset) and `persist` is false.
async fn submit(http: &reqwest::Client, base: &str, key: &str, connection: &str, posting: &str, i: usize, persist: bool) -> Result<Value, ()> {
    loop {
        let sent = http
            .post(format!("{base}/v1/connections/{connection}/candidates"))
            .bearer_auth(key)
            .header("idempotency-key", format!("crash-bench-{i}"))
            .json(&referral(i, posting))
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

#[tokio::main]
async fn main() -> AnyResult<()> {
    let args = Args::parse();
    let work = std::env::temp_dir().join(format!("crash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;

    // Lever is not killed, so it keeps its account in memory.
    let sandbox_args: Vec<String> = ["--addr", "127.0.0.1:0", "--consent", "auto", "--no-rate-limit"].iter().map(|s| s.to_string()).collect();
    let (mut lever_process, lever) =
        spawn_until(&args.bin_dir.join("lever-sandbox"), &sandbox_args, |l| l.strip_prefix("lever sandbox listening on ").map(str::to_owned))?;

    let port = free_port()?;
    let hub_args: Vec<String> = ["--addr".to_owned(), format!("127.0.0.1:{port}"), "--lever".to_owned(), lever.clone(), "--data-dir".to_owned()]
        .into_iter()
        .chain([work.join("hub").display().to_string()])
        .collect();
    let hub_local = args.bin_dir.join("hub-local");
    let (mut hub_process, said) = spawn_until(&hub_local, &hub_args, HubAnnouncement::parse)?;
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

    // The burst, and the kill in the middle of it.
    let started = Instant::now();
    let mut answered: BTreeMap<usize, Value> = BTreeMap::new();
    let (mut killed_at, mut in_flight_at_kill) = (None::<Instant>, Vec::new());
    {
        let mut burst = futures::stream::iter(0..args.submissions)
            .map(|i| {
                let (http, base, key, connection, posting) = (&http, &base, &key, &connection, &posting);
                async move {
                    let began = Instant::now();
                    (i, began, submit(http, base, key, connection, posting, i, false).await)
                }
            })
            .buffer_unordered(args.in_flight);
        while let Some((i, began, answer)) = burst.next().await {
            match answer {
                Ok(a) => {
                    answered.insert(i, a);
                }
                Err(()) if killed_at.is_some_and(|k| began < k) => in_flight_at_kill.push(i),
                Err(()) => {}
            }
            if answered.len() == args.kill_after && killed_at.is_none() {
                hub_process.kill()?; // SIGKILL
                hub_process.wait()?;
                killed_at = Some(Instant::now());
            }
        }
    }
    let before_kill = answered.len();
    println!(
        "burst: {} submissions, {} in flight; SIGKILL after {} answers ({:.1} s in); {} answered before the kill",
        args.submissions,
        args.in_flight,
        args.kill_after,
        started.elapsed().as_secs_f64(),
        before_kill
    );

    // The restart, and the partner's retries.
    let restarted = Instant::now();
    let (mut hub_process, _) = spawn_until(&hub_local, &hub_args, HubAnnouncement::parse)?;
    let up = restarted.elapsed();
    let missing: Vec<usize> = in_flight_at_kill
        .iter()
        .copied()
        .chain((0..args.submissions).filter(|i| !answered.contains_key(i) && !in_flight_at_kill.contains(i)))
        .collect();
    let retried: Vec<(usize, Result<(Value, Duration), ()>)> = futures::stream::iter(missing.iter().copied())
        .map(|i| {
            let (http, base, key, connection, posting) = (&http, &base, &key, &connection, &posting);
            async move { (i, submit(http, base, key, connection, posting, i, true).await.map(|a| (a, restarted.elapsed()))) }
        })
        .buffer_unordered(args.in_flight)
        .collect()
        .await;
    let all_answered = restarted.elapsed();
    let mut in_flight_answered = Duration::ZERO;
    for (i, a) in retried {
        let (a, at) = a.map_err(|_| "a retried submission got no answer")?;
        if in_flight_at_kill.contains(&i) {
            in_flight_answered = in_flight_answered.max(at);
        }
        answered.insert(i, a);
    }

    // Every submission written to Lever (answered 202 `queued` ones are finished by the workers).
    let limit = Instant::now() + Duration::from_secs(args.limit_secs);
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        states.clear();
        for a in answered.values() {
            let id = a["id"].as_str().unwrap_or_default();
            let view: Value = http
                .get(format!("{base}/v1/connections/{connection}/candidates/{id}"))
                .bearer_auth(&key)
                .send()
                .await?
                .json()
                .await
                .unwrap_or(Value::Null);
            *states.entry(view["state"].as_str().unwrap_or("unknown").to_owned()).or_default() += 1;
        }
        let written = states.get("created").copied().unwrap_or(0) + states.get("updated").copied().unwrap_or(0);
        if written == args.submissions || Instant::now() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_written = restarted.elapsed();

    // Lever's side: one opportunity and one note per candidate.
    let (mut duplicates, mut lost, mut notes_missing) = (0, 0, 0);
    for i in 0..args.submissions {
        let found: Vec<Value> = http.get(format!("{lever}/_admin/opportunities")).query(&[("email", email(i))]).send().await?.json().await?;
        match found.len() {
            0 => lost += 1,
            1 => {}
            _ => duplicates += 1,
        }
        notes_missing += found.iter().filter(|o| o["notes"].as_array().is_none_or(|n| n.len() != 1)).count();
    }
    println!("restart → hub answering: {:.2} s", up.as_secs_f64());
    println!("restart → every submission answered (partner retries with the same keys): {:.1} s", all_answered.as_secs_f64());
    println!(
        "restart → the {} submissions in flight at the kill answered: {:.1} s (they are resent first)",
        in_flight_at_kill.len(),
        in_flight_answered.as_secs_f64()
    );
    println!("restart → every submission written to Lever: {:.1} s; states {states:?}", all_written.as_secs_f64());
    println!("Lever: {lost} candidates lost, {duplicates} with more than one opportunity, {notes_missing} opportunities without exactly one note");

    let _ = hub_process.kill();
    let _ = hub_process.wait();
    let _ = lever_process.kill();
    let _ = lever_process.wait();
    let _ = std::fs::remove_dir_all(&work);
    if lost + duplicates + notes_missing > 0 || states.len() != 1 {
        return Err("the crash lost or duplicated work".into());
    }
    Ok(())
}
