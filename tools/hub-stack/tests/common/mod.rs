//! A `hub-stack` child process for the tests: started as a newcomer starts it (the binary,
//! free ports, a fresh data directory), read from its printed lines, stopped when dropped.
//! It starts DynamoDB Local and moto itself, so a machine without them fails here, loudly.

#![allow(dead_code)]

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub struct RunningStack {
    child: Child,
    pub dir: tempfile::TempDir,
    pub hub: String,
    pub lever: String,
    pub admin: String,
    pub http: reqwest::Client,
    /// Every line the stack has printed so far. Kept in memory, not in a file the reader
    /// rewrites: a rewrite truncates first, and a read at that moment saw nothing.
    printed: Arc<Mutex<Vec<String>>>,
}

/// The first start of a checkout installs DynamoDB Local and moto and builds the functions.
const START_LIMIT: Duration = Duration::from_secs(900);

impl RunningStack {
    /// Starts the stack with `args` after the address flags; panics with its output when it
    /// does not come up.
    pub fn start(args: &[&str]) -> RunningStack {
        Self::try_start(args).unwrap_or_else(|log| panic!("hub-stack did not come up; its output:\n{log}"))
    }

    pub fn try_start(args: &[&str]) -> Result<RunningStack, String> {
        let dir = tempfile::Builder::new().prefix("hub-stack-test-").tempdir().expect("temporary directory");
        let log_path = dir.path().join("hub-stack.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hub-stack"))
            .args(["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("hub-stack starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let printed = Arc::new(Mutex::new(Vec::<String>::new()));
        let lines = printed.clone();
        std::thread::spawn(move || {
            let (mut hub, mut admin) = (None, None);
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(said) = shared::testing::HubAnnouncement::parse(&line) {
                    hub = Some((said.hub, said.lever));
                }
                if let Some(rest) = line.strip_prefix("Stack admin on ") {
                    admin = rest.split_whitespace().next().map(str::to_owned);
                }
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
                if let (Some((base, lever)), Some(admin)) = (&hub, &admin) {
                    let _ = tx.send((base.clone(), lever.clone(), admin.clone()));
                }
            }
        });
        let started = std::time::Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok((hub, lever, admin)) => {
                    return Ok(RunningStack { child, dir, hub, lever, admin, http: reqwest::Client::new(), printed });
                }
                Err(_) => {
                    let exited = child.try_wait().ok().flatten().is_some();
                    if exited || started.elapsed() > START_LIMIT {
                        let _ = child.kill();
                        let _ = child.wait();
                        let out = printed.lock().map(|lines| lines.join("\n")).unwrap_or_default();
                        let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                        return Err(format!("{out}\n{err}"));
                    }
                }
            }
        }
    }

    pub fn key(&self, partner: &str) -> String {
        let keys: Value = serde_json::from_str(&std::fs::read_to_string(self.dir.path().join("data/local-api-keys.json")).unwrap()).unwrap();
        keys[partner].as_str().unwrap_or_else(|| panic!("no key for {partner}: {keys}")).to_owned()
    }

    /// A customer of `partner` connected through the sandbox's consent (`--consent auto`).
    pub async fn connect(&self, partner: &str) -> (String, String) {
        let key = self.key(partner);
        let id = shared::testing::connect_customer(&self.http, &self.hub, &key, &format!("{}/demo/done", self.hub)).await;
        (key, id)
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.admin)).send().await.unwrap().json().await.unwrap()
    }

    pub async fn report(&self) -> Value {
        self.admin_get("/_stack/report").await
    }

    pub async fn checks(&self) -> Value {
        self.admin_get("/_stack/checks").await
    }

    /// Kills the function's processes that are in the middle of an invocation; how many.
    pub async fn kill(&self, function: &str) -> u64 {
        let answer: Value = self.http.post(format!("{}/_stack/functions/{function}/kill", self.admin)).send().await.unwrap().json().await.unwrap();
        answer["killed"].as_u64().unwrap()
    }

    /// An SQS client on the stack's moto (the queues as the template names them).
    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        let report = self.report().await;
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(report["moto"].as_str().unwrap())
            .credentials_provider(aws_sdk_sqs::config::Credentials::new("ASIATESTS", "local", None, None, "tests"))
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    pub async fn queue_url(&self, logical_id: &str) -> String {
        self.report().await["queues"][logical_id].as_str().unwrap_or_else(|| panic!("no queue {logical_id}")).to_owned()
    }

    pub fn function_log(&self, function: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("data/logs/{function}.log"))).unwrap_or_default()
    }

    pub fn output(&self) -> String {
        self.printed.lock().map(|lines| lines.join("\n")).unwrap_or_default()
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        // SIGTERM first: the stack stops its functions and services itself.
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        for _ in 0..50 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `probe` every 250 ms until it answers `Some`, or panics after `limit` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(started.elapsed() < limit, "{what}: not within {} s", limit.as_secs());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The repository's SAM template with `edit` applied, written into `dir`.
pub fn edited_template(dir: &Path, edit: impl FnOnce(String) -> String) -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let text = std::fs::read_to_string(source).expect("the template");
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed the template");
    let path = dir.join("template.yaml");
    std::fs::write(&path, edited).unwrap();
    path
}
