//! Which hub the demo runs against: one already running (`cargo run -p hub-local` in another
//! terminal), or one of its own (`hub-local`, or the deployed shape `hub-stack`: the same flags,
//! the same first line) in a fresh temporary directory on free ports, with the sandbox's consent
//! page on, stopped at the end.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;

/// A hub to run the stories against.
pub struct Target {
    pub hub: String,
    pub lever: String,
    /// Each bundled partner's API key (`local-api-keys.json`).
    pub keys: BTreeMap<String, String>,
    /// The hub the demo started (stopped on drop), if it started one.
    pub own: Option<OwnHub>,
}

/// Which binary a hub of the demo's own is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every handler in one process.
    Local,
    /// The deployed shape: the template's functions as processes on DynamoDB Local and moto.
    Stack,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Local => "hub-local",
            Kind::Stack => "hub-stack",
        }
    }

    /// How long its start may take: the stack's first start installs DynamoDB Local and moto
    /// and builds the functions.
    fn start_limit(self) -> Duration {
        match self {
            Kind::Local => Duration::from_secs(60),
            Kind::Stack => Duration::from_secs(900),
        }
    }
}

/// A hub child process and its temporary directory (its data and its log).
pub struct OwnHub {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Drop for OwnHub {
    fn drop(&mut self) {
        // Our own child, by its handle; its data directory goes with the TempDir.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OwnHub {
    /// Where this hub keeps its partner API keys.
    pub fn keys_file(&self) -> PathBuf {
        self.dir.path().join("data").join("local-api-keys.json")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("hub.log")
    }

    /// The last lines the hub wrote (for a failure report).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Whether a hub answers at `base` (its OpenAPI document is public).
pub async fn reachable(http: &reqwest::Client, base: &str) -> bool {
    let probe = http.get(format!("{base}/openapi.json")).timeout(Duration::from_secs(2)).send().await;
    match probe {
        Ok(res) if res.status().is_success() => res.json::<serde_json::Value>().await.is_ok_and(|d| d.get("openapi").is_some()),
        _ => false,
    }
}

/// The running hub at `hub`, with its sandbox at `lever` and its keys in `keys_file`.
pub async fn attach(http: &reqwest::Client, hub: &str, lever: &str, keys_file: &Path) -> anyhow::Result<Target> {
    let keys = read_keys(keys_file).with_context(|| {
        format!("a hub answers at {hub}, but its partner API keys are not in {}: pass --keys <data dir>/local-api-keys.json", keys_file.display())
    })?;
    let seed = http.get(format!("{lever}/_admin/seed")).timeout(Duration::from_secs(2)).send().await;
    if !seed.is_ok_and(|r| r.status().is_success()) {
        anyhow::bail!("the Lever sandbox's admin API does not answer at {lever}: pass --lever (hub-local prints it: \"Lever at …\")");
    }
    Ok(Target { hub: hub.to_owned(), lever: lever.to_owned(), keys, own: None })
}

fn read_keys(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object of partner keys", path.display()))
}

/// The hub binary: the one given, else the one built beside this binary.
pub fn binary(kind: Kind, given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    let name = kind.name();
    let me = std::env::current_exe().context("locating the demo binary")?;
    let beside = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if beside.exists() {
        return Ok(beside);
    }
    anyhow::bail!("no {name} beside {}: build it with `cargo build -p {name}` (scripts/demo does)", me.display())
}

/// Starts the hub in a fresh temporary directory on free ports with the consent page on, and
/// waits for it to print where it listens.
pub fn start(kind: Kind, binary: &Path) -> anyhow::Result<Target> {
    let name = kind.name();
    let dir = tempfile::Builder::new().prefix("hub-demo-").tempdir().context("temporary directory")?;
    // Its stderr (JSON logs) and its stdout both go to one log, each appending.
    let append = |path: &Path| std::fs::OpenOptions::new().create(true).append(true).open(path);
    let log = append(&dir.path().join("hub.log")).context("the hub's log file")?;
    let mut child = Command::new(binary)
        .args(["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0", "--consent", "page", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("the hub's stdout")?;
    let own = OwnHub { child, dir };
    // The hub's first line says where it and its Lever sandbox listen.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut copy = append(&own.log_path()).ok();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(said) = shared::testing::HubAnnouncement::parse(&line) {
                let _ = tx.send((said.hub, said.lever));
            }
            if let Some(f) = copy.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    let limit = kind.start_limit();
    let Ok((hub, lever)) = rx.recv_timeout(limit) else {
        anyhow::bail!("{name} did not say where it listens within {} s; its log:\n{}", limit.as_secs(), own.log_tail(30));
    };
    let keys = read_keys(&own.keys_file())?;
    Ok(Target { hub, lever, keys, own: Some(own) })
}
