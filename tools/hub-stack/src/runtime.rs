//! Each function as Lambda runs it: its own binary in its own OS process, fed through the
//! Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`, `…/{id}/error`,
//! `/runtime/init/error`), one invocation at a time per process, more processes when more
//! invocations arrive at once (up to a cap), the template's timeout and memory size enforced by
//! killing the process, as Lambda does. Written here rather than taken from cargo-lambda's
//! emulator: that one runs one function per watcher, rebuilds it on change, and neither kills on
//! timeout nor enforces memory (see the README).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::sync::{Notify, mpsc, oneshot};

/// What one process is started with.
#[derive(Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub function_name: String,
    pub function_arn: String,
    pub binary: PathBuf,
    /// The template's variables plus the local stand-ins' (see `stack.rs`).
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// stdout and stderr of every process of the function, and the REPORT lines.
    pub log: PathBuf,
    /// How many processes may run at once (Lambda's concurrency, locally bounded).
    pub max_instances: usize,
}

/// How an invocation ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Response(Bytes),
    /// The handler returned an error (`…/error`).
    Error {
        kind: String,
        message: String,
    },
    /// The process did not get as far as asking for the invocation, or reported an init error.
    InitError(String),
    /// The process died during the invocation (killed, crashed, exited).
    Crashed(String),
    TimedOut,
    OutOfMemory,
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Response(_))
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Response(_) => "ok".into(),
            Outcome::Error { kind, message } => format!("function error {kind}: {message}"),
            Outcome::InitError(why) => format!("init error: {why}"),
            Outcome::Crashed(why) => format!("runtime exited: {why}"),
            Outcome::TimedOut => "task timed out".into(),
            Outcome::OutOfMemory => "runtime exited: out of memory (the template's MemorySize)".into(),
        }
    }
}

struct Pending {
    request_id: String,
    payload: Bytes,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

/// One process and its Runtime API endpoint.
struct Instance {
    pid: u32,
    next: mpsc::Sender<Pending>,
    kill: Arc<Notify>,
    exited: tokio::sync::watch::Receiver<Option<String>>,
    ready: tokio::sync::watch::Receiver<bool>,
}

#[derive(Default, Serialize, Clone)]
pub struct Stats {
    pub invocations: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub crashes: u64,
    pub init_errors: u64,
    pub processes_started: u64,
    pub max_memory_mb: u64,
    pub in_flight: usize,
    pub pids: Vec<u32>,
}

pub struct FunctionHost {
    pub spec: FunctionSpec,
    idle: Mutex<Vec<Arc<Instance>>>,
    live: AtomicUsize,
    freed: Notify,
    in_flight: AtomicUsize,
    counters: Mutex<Stats>,
    request_seq: AtomicU64,
    busy: Mutex<HashMap<u32, Arc<Instance>>>,
}

/// Runtime API state of one process.
struct ApiState {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    replies: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    function_arn: String,
    /// Set at the process's first `next`: its init is done.
    ready: tokio::sync::watch::Sender<bool>,
}

const API: &str = "/2018-06-01/runtime";

/// Lambda's limit on a function's init phase.
const INIT_LIMIT: Duration = Duration::from_secs(10);

impl FunctionHost {
    pub fn new(spec: FunctionSpec) -> Arc<Self> {
        Arc::new(Self {
            spec,
            idle: Mutex::new(vec![]),
            live: AtomicUsize::new(0),
            freed: Notify::new(),
            in_flight: AtomicUsize::new(0),
            counters: Mutex::new(Stats::default()),
            request_seq: AtomicU64::new(0),
            busy: Mutex::new(HashMap::new()),
        })
    }

    pub fn stats(&self) -> Stats {
        let mut stats = self.counters.lock().unwrap_or_else(|e| e.into_inner()).clone();
        stats.in_flight = self.in_flight.load(Ordering::SeqCst);
        let mut pids: Vec<u32> = self.idle.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|i| i.pid).collect();
        pids.extend(self.busy.lock().unwrap_or_else(|e| e.into_inner()).keys());
        pids.sort_unstable();
        stats.pids = pids;
        stats
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.counters.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Kills every process of the function that is handling an invocation (a crash in the
    /// middle of a batch); answers how many.
    pub fn kill_busy(&self) -> usize {
        let busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        for instance in busy.values() {
            instance.kill.notify_one();
        }
        busy.len()
    }

    /// Kills every process, idle or busy (the stack stopping).
    pub fn kill_all(&self) {
        self.kill_busy();
        for instance in self.idle.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            instance.kill.notify_one();
        }
    }

    /// One invocation, as Lambda runs it: a free process of the function, else a new one, else
    /// a wait for one to come free.
    pub async fn invoke(self: &Arc<Self>, payload: Bytes) -> Outcome {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let outcome = self.invoke_inner(payload).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.count(|s| {
            s.invocations += 1;
            match &outcome {
                Outcome::Response(_) => {}
                Outcome::Error { .. } => s.errors += 1,
                Outcome::TimedOut => s.timeouts += 1,
                Outcome::InitError(_) => s.init_errors += 1,
                Outcome::Crashed(_) | Outcome::OutOfMemory => s.crashes += 1,
            }
        });
        outcome
    }

    async fn instance(self: &Arc<Self>) -> Result<Arc<Instance>, String> {
        loop {
            let freed = self.freed.notified();
            if let Some(instance) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
                if instance.exited.borrow().is_none() {
                    return Ok(instance);
                }
                self.live.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let live = self.live.load(Ordering::SeqCst);
            if live < self.spec.max_instances && self.live.compare_exchange(live, live + 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return match self.spawn().await {
                    Ok(i) => Ok(i),
                    Err(e) => {
                        self.live.fetch_sub(1, Ordering::SeqCst);
                        Err(e)
                    }
                };
            }
            freed.await;
        }
    }

    async fn invoke_inner(self: &Arc<Self>, payload: Bytes) -> Outcome {
        let instance = match self.instance().await {
            Ok(i) => i,
            Err(e) => return Outcome::InitError(e),
        };
        let started = Instant::now();
        let seq = self.request_seq.fetch_add(1, Ordering::SeqCst);
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline_ms = epoch_ms() + self.spec.timeout.as_millis();
        let (reply, answer) = oneshot::channel();
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).insert(instance.pid, instance.clone());
        let sent = instance.next.send(Pending { request_id: request_id.clone(), payload, deadline_ms, reply }).await;
        let mut exited = instance.exited.clone();
        let outcome = if sent.is_err() {
            Outcome::Crashed("the process's Runtime API is gone".into())
        } else {
            let memory_limit = self.spec.memory_mb * 1024 * 1024;
            let watch_memory = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if rss_bytes(instance.pid).is_some_and(|rss| rss > memory_limit) {
                        return;
                    }
                }
            };
            tokio::select! {
                answer = answer => answer.unwrap_or_else(|_| Outcome::Crashed("no answer".into())),
                why = exited.wait_for(Option::is_some) => {
                    Outcome::Crashed(why.map(|w| w.clone().unwrap_or_default()).unwrap_or_default())
                }
                _ = tokio::time::sleep(self.spec.timeout) => Outcome::TimedOut,
                _ = watch_memory => Outcome::OutOfMemory,
            }
        };
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&instance.pid);
        let max_memory_mb = peak_rss_bytes(instance.pid).unwrap_or(0) / (1024 * 1024);
        self.count(|s| s.max_memory_mb = s.max_memory_mb.max(max_memory_mb));
        let keep = match &outcome {
            Outcome::Response(_) | Outcome::Error { .. } => instance.exited.borrow().is_none(),
            _ => false,
        };
        if keep {
            self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(instance);
        } else {
            instance.kill.notify_one();
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
        self.freed.notify_one();
        self.report(&request_id, seq, started.elapsed(), max_memory_mb, &outcome);
        outcome
    }

    /// Starts one process and waits for its init to finish (its first `next`), as a deploy's
    /// first invocation would: an init that fails or takes longer than Lambda's 10 s shows at
    /// start, and the process's environment reads are on record before anything is invoked.
    pub async fn warm(self: &Arc<Self>) -> Result<(), String> {
        self.live.fetch_add(1, Ordering::SeqCst);
        let instance = match self.spawn().await {
            Ok(i) => i,
            Err(e) => {
                self.live.fetch_sub(1, Ordering::SeqCst);
                return Err(e);
            }
        };
        let (mut ready, mut exited) = (instance.ready.clone(), instance.exited.clone());
        let outcome = tokio::select! {
            _ = ready.wait_for(|r| *r) => Ok(()),
            why = exited.wait_for(Option::is_some) => Err(why.map(|w| w.clone().unwrap_or_default()).unwrap_or_default()),
            _ = tokio::time::sleep(INIT_LIMIT) => Err(format!("init did not finish within {} s", INIT_LIMIT.as_secs())),
        };
        match outcome {
            Ok(()) => {
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(instance);
                self.freed.notify_one();
                Ok(())
            }
            Err(why) => {
                instance.kill.notify_one();
                self.live.fetch_sub(1, Ordering::SeqCst);
                self.count(|s| s.init_errors += 1);
                Err(why)
            }
        }
    }

    /// Lambda's REPORT line, in the function's log.
    fn report(&self, request_id: &str, _seq: u64, took: Duration, memory_mb: u64, outcome: &Outcome) {
        use std::io::Write as _;
        if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(&self.spec.log) {
            let status = if outcome.is_success() { String::new() } else { format!("\tStatus: {}", outcome.describe()) };
            let _ = writeln!(
                log,
                "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tMemory Size: {} MB\tMax Memory Used: {memory_mb} MB{status}",
                took.as_secs_f64() * 1000.0,
                self.spec.memory_mb
            );
        }
    }

    async fn spawn(self: &Arc<Self>) -> Result<Arc<Instance>, String> {
        let (tx, rx) = mpsc::channel::<Pending>(1);
        let state = Arc::new(ApiState {
            queue: tokio::sync::Mutex::new(rx),
            replies: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            function_arn: self.spec.function_arn.clone(),
            ready: tokio::sync::watch::Sender::new(false),
        });
        let ready = state.ready.subscribe();
        let api = axum::Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(response))
            .route(&format!("{API}/invocation/{{id}}/error"), post(error))
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("Runtime API listener: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let server = tokio::spawn(async move { axum::serve(listener, api).await });

        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.spec.log).map_err(|e| format!("log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = crate::services::die_with_parent(&mut tokio::process::Command::new(&self.spec.binary))
            .env_clear()
            .envs(&self.spec.environment)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.spec.binary.display()))?;
        let pid = child.id().unwrap_or_default();
        self.count(|s| s.processes_started += 1);
        let kill = Arc::new(Notify::new());
        let (exited_tx, exited) = tokio::sync::watch::channel(None);
        let kill_signal = kill.clone();
        let waiter_state = state.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_signal.notified() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let why = match (status, waiter_state.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone()) {
                (_, Some(init)) => format!("init error: {init}"),
                (Ok(s), None) => format!("{s}"),
                (Err(e), None) => e.to_string(),
            };
            // Whatever was waiting on this process learns it is gone.
            waiter_state.replies.lock().unwrap_or_else(|e| e.into_inner()).clear();
            let _ = exited_tx.send(Some(why));
            server.abort();
        });
        Ok(Arc::new(Instance { pid, next: tx, kill, exited, ready }))
    }
}

fn epoch_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// Resident memory of a process (Linux `/proc`).
fn rss_bytes(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmRSS:").map(|kb| kb * 1024)
}

fn peak_rss_bytes(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmHWM:").map(|kb| kb * 1024)
}

fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    state.ready.send_replace(true);
    let pending = state.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return (StatusCode::GONE, "the stack is stopping").into_response();
    };
    state.replies.lock().unwrap_or_else(|e| e.into_inner()).insert(pending.request_id.clone(), pending.reply);
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        (epoch_ms() / 1000) as u32,
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = value.parse() {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", pending.request_id);
    set("lambda-runtime-deadline-ms", pending.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", state.function_arn.clone());
    set("lambda-runtime-trace-id", trace);
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, pending.payload).into_response()
}

fn answer(state: &ApiState, id: &str, outcome: Outcome) -> Response {
    match state.replies.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
        Some(reply) => {
            let _ = reply.send(outcome);
            (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"status": "OK"}))).into_response()
        }
        None => (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"errorType": "InvalidRequestID", "errorMessage": "no such invocation"})))
            .into_response(),
    }
}

async fn response(State(state): State<Arc<ApiState>>, UrlPath(id): UrlPath<String>, body: Bytes) -> Response {
    answer(&state, &id, Outcome::Response(body))
}

/// The handler's error: `{"errorType", "errorMessage"}` as the runtime reports it.
async fn error(State(state): State<Arc<ApiState>>, UrlPath(id): UrlPath<String>, body: Bytes) -> Response {
    let reported: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = |k: &str| reported.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    answer(&state, &id, Outcome::Error { kind: text("errorType"), message: text("errorMessage") })
}

async fn init_error(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    *state.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(String::from_utf8_lossy(&body).into_owned());
    (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"status": "OK"}))).into_response()
}
