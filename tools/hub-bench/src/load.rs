//! The partner API under load: `GET /v1/connections/{id}`, `GET …/jobs` and
//! `POST …/candidates` at 1, 16, 64 and 256 requests in flight, against the hub's router on a
//! loopback port (what `hub-local` serves) on either store.
//!
//! `cargo run --release -p hub-bench -- load --store embedded|dynamodb [--requests N]`
//!
//! Each level sends a fixed number of requests (no time-boxed loops) from as many client tasks
//! as the level says, in the same process as the hub: client and server share the machine's
//! cores, so the figures are a floor for the hub alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::core::flow_runs::ScheduledFlow;
use shared::flows::dispatch::{FlowRun, RunTrigger};
use shared::store::Store;

use crate::{Local, ms};

const LEVELS: [usize; 4] = [1, 16, 64, 256];

/// What one level measured.
struct Level {
    requests: usize,
    seconds: f64,
    latencies: Vec<Duration>,
    errors: usize,
    /// Statuses seen, e.g. 201 and 202 for submissions.
    statuses: std::collections::BTreeMap<u16, usize>,
}

type Build = Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;

async fn level(build: Build, concurrency: usize, requests: usize) -> Level {
    let next = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<(Vec<Duration>, usize, std::collections::BTreeMap<u16, usize>)>> = Arc::default();
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, seen, build) = (next.clone(), seen.clone(), build.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let t = Instant::now();
                    let answer = build(i).send().await;
                    let status = match answer {
                        // The body is read: a request is done when its answer is.
                        Ok(res) => {
                            let status = res.status();
                            res.bytes().await.ok().map(|_| status)
                        }
                        Err(_) => None,
                    };
                    let took = t.elapsed();
                    let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
                    s.0.push(took);
                    match status {
                        Some(st) if st.is_success() => *s.2.entry(st.as_u16()).or_default() += 1,
                        Some(st) => {
                            s.1 += 1;
                            *s.2.entry(st.as_u16()).or_default() += 1;
                        }
                        None => s.1 += 1,
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("a client task");
    }
    let seconds = started.elapsed().as_secs_f64();
    let (mut latencies, errors, statuses) = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
    latencies.sort();
    Level { requests, seconds, latencies, errors, statuses }
}

fn at(sorted: &[Duration], q: f64) -> f64 {
    sorted.get(((sorted.len().saturating_sub(1)) as f64 * q) as usize).map_or(0.0, |d| ms(*d))
}

pub async fn run(store: Arc<dyn Store>, kind: &str, requests: usize) {
    let clock = Arc::new(ManualClock::at_ms(SystemClock.now_ms()));
    // HireUp: a jobs feed and referrals, the API's busiest partner kind.
    let local = Local::start_for(store, kind, clock.clone(), "hireup").await;
    let id = shared::testing::connect_customer(&local.http, &local.base, &local.key, &format!("{}/done", local.base)).await;
    let sync = FlowRun {
        connection_id: id.clone(),
        flow: ScheduledFlow::Jobs,
        trigger: RunTrigger::Schedule,
        due_at_ms: clock.now_ms(),
        options: Value::Null,
    };
    local.hub.jobs.poller().run(&sync, None).await.expect("the feed synced");
    let jobs: Value = local
        .http
        .get(format!("{}/v1/connections/{id}/jobs", local.base))
        .bearer_auth(&local.key)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("GET …/jobs")
        .json()
        .await
        .expect("a page of jobs");
    let posting = jobs["data"][0]["id"].as_str().expect("a job in the feed").to_owned();
    let shown = jobs["data"].as_array().map_or(0, Vec::len);
    println!(
        "\n| {kind} store, {requests} requests a level (at least 4 per client) | in flight | requests/s | p50 ms | p99 ms | errors | statuses |\n|---|---|---|---|---|---|---|"
    );
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (base, key, http) = (local.base.clone(), local.key.clone(), local.http.clone());
    let routes: Vec<(String, Build)> = vec![
        ("`GET /v1/connections/{id}`".into(), {
            let (http, key, url) = (http.clone(), key.clone(), format!("{base}/v1/connections/{id}"));
            Arc::new(move |_| http.get(&url).bearer_auth(&key))
        }),
        (format!("`GET …/jobs` ({shown} jobs a page)"), {
            let (http, key, url) = (http.clone(), key.clone(), format!("{base}/v1/connections/{id}/jobs"));
            Arc::new(move |_| http.get(&url).bearer_auth(&key))
        }),
        ("`POST …/candidates` (a new referral each)".into(), {
            let (http, key, url) = (http.clone(), key.clone(), format!("{base}/v1/connections/{id}/candidates"));
            Arc::new(move |i| {
                let body = json!({"kind": "referral", "candidate": {"name": format!("Load {i}"), "emails": [format!("load-{run}-{i}@candidates.example")]},
                                  "postings": [posting], "referrer": {"name": "Sam Employee", "email": "sam@customer.example"}});
                http.post(&url).bearer_auth(&key).header("idempotency-key", format!("load-{run}-{i}")).json(&body)
            })
        }),
    ];
    let mut submitted = 0;
    for (name, build) in routes {
        for concurrency in LEVELS {
            // Submissions go to Lever (three requests each, 10 a second per account): fewer of them.
            let n = if name.contains("POST") { (requests / 4).max(4 * concurrency) } else { requests.max(4 * concurrency) };
            let build: Build = if name.contains("POST") {
                let (inner, offset) = (build.clone(), submitted);
                Arc::new(move |i| inner(offset + i))
            } else {
                build.clone()
            };
            if name.contains("POST") {
                submitted += n;
            }
            let l = level(build, concurrency, n).await;
            let statuses: Vec<String> = l.statuses.iter().map(|(s, c)| format!("{c} × {s}")).collect();
            println!(
                "| {name} | {concurrency} | {:.0} | {:.2} | {:.2} | {} | {} |",
                l.requests as f64 / l.seconds,
                at(&l.latencies, 0.5),
                at(&l.latencies, 0.99),
                l.errors,
                statuses.join(", ")
            );
        }
    }
}
