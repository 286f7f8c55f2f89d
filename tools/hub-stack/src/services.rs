//! The AWS stand-ins: Amazon DynamoDB Local and moto's server (SQS, S3, Secrets Manager),
//! installed on first use by `scripts/install-services` (the same installs `scripts/test`
//! uses) and started on free loopback ports. They stop with the stack.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

pub struct Services {
    pub dynamodb: String,
    pub moto: String,
    _children: Vec<Child>,
}

/// The child is killed when the stack's process dies, however it dies (a test's timeout, a
/// SIGKILL): no DynamoDB Local, moto or function process outlives the stack.
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// A free loopback port (bound and released: the usual race is acceptable for local runs).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Services {
    /// DynamoDB Local keeps its table in `data_dir/dynamodb` (a restart finds it); moto keeps
    /// its queues, objects and secrets in memory.
    pub async fn start(repo: &Path, data_dir: &Path, logs: &Path) -> anyhow::Result<Self> {
        let installed = Command::new("bash")
            .arg(repo.join("scripts/install-services"))
            .stderr(Stdio::inherit())
            .output()
            .await
            .context("running scripts/install-services")?;
        if !installed.status.success() {
            bail!("scripts/install-services failed (it needs Java 17+, npm and python3)");
        }
        let text = String::from_utf8_lossy(&installed.stdout);
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .map(PathBuf::from)
                .with_context(|| format!("install-services did not print {name}"))
        };
        let (ddb_dir, moto_server) = (value("DYNAMODB_LOCAL_DIR")?, value("MOTO_SERVER")?);

        let db_path = data_dir.join("dynamodb");
        std::fs::create_dir_all(&db_path)?;
        let (ddb_port, moto_port) = (free_port()?, free_port()?);
        // The stack's own AWS settings point at its operator proxy; DynamoDB Local's SDK would
        // follow AWS_ENDPOINT_URL there and wait for a proxy that waits for it.
        let aws_vars: Vec<String> = std::env::vars().map(|(k, _)| k).filter(|k| k.starts_with("AWS_")).collect();
        let log = |name: &str| std::fs::File::create(logs.join(name)).with_context(|| format!("log {name}"));
        let dynamodb = die_with_parent(&mut Command::new("java"))
            .env_remove_all(&aws_vars)
            .current_dir(&ddb_dir)
            .args(["-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath"])
            .arg(&db_path)
            .args(["-port", &ddb_port.to_string()])
            .stdout(log("dynamodb-local.log")?)
            .stderr(log("dynamodb-local.err")?)
            .kill_on_drop(true)
            .spawn()
            .context("starting DynamoDB Local (java)")?;
        let moto = die_with_parent(&mut Command::new(&moto_server))
            .env_remove_all(&aws_vars)
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(log("moto.log")?)
            .stderr(log("moto.err")?)
            .kill_on_drop(true)
            .spawn()
            .context("starting moto_server")?;
        let services =
            Self { dynamodb: format!("http://127.0.0.1:{ddb_port}"), moto: format!("http://127.0.0.1:{moto_port}"), _children: vec![dynamodb, moto] };
        wait_http("DynamoDB Local", &services.dynamodb).await?;
        wait_http("moto", &format!("{}/moto-api/", services.moto)).await?;
        Ok(services)
    }
}

trait EnvRemoveAll {
    fn env_remove_all(&mut self, names: &[String]) -> &mut Self;
}

impl EnvRemoveAll for Command {
    fn env_remove_all(&mut self, names: &[String]) -> &mut Self {
        names.iter().fold(self, |command, name| command.env_remove(name))
    }
}

/// Any HTTP answer means the server is up.
async fn wait_http(what: &str, url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut last = String::new();
    for _ in 0..240 {
        match http.get(url).timeout(Duration::from_secs(1)).send().await {
            Ok(_) => return Ok(()),
            Err(e) => last = shared::telemetry::error_chain(&e),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("{what} did not answer at {url} within 60 s ({last}; its log is in the stack's logs directory)")
}
