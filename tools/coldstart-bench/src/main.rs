//! Cold start of every hub function, measured as Lambda sees it: from spawning the release binary
//! to its first `GET /2018-06-01/runtime/invocation/next` on a stand-in Lambda Runtime API, with
//! secrets served by moto (Secrets Manager) or from a local file. Each function is compared with
//! `coldstart-reference` (the floor: runtime, one AWS config, a DynamoDB client, three secrets in
//! one `BatchGetSecretValue`) measured in the same run, alternating, so machine noise hits both.
//!
//! ```sh
//! scripts/bench-coldstart                # builds everything in release, starts moto, runs:
//! cargo run --release -p coldstart-bench -- --moto http://127.0.0.1:5000 --runs 25
//! ```
//! Prints a Markdown table: median / p90 ms, ratio of medians to the reference, peak RSS when
//! ready (VmHWM), stripped binary size.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use tokio::io::AsyncReadExt as _;

#[derive(Parser)]
struct Args {
    /// moto's endpoint (Secrets Manager); functions' AWS calls go there.
    #[arg(long)]
    moto: String,
    /// Spawns per function (and as many of the reference, interleaved).
    #[arg(long, default_value_t = 25)]
    runs: usize,
    /// Where the release binaries are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Also measure with secrets from a local file instead of Secrets Manager.
    #[arg(long)]
    local_secrets: bool,
    /// Only these functions (default: every folder under functions/).
    #[arg(long)]
    only: Vec<String>,
}

struct Sample {
    ready: Duration,
    peak_rss_kb: u64,
}

struct Row {
    name: String,
    samples: Vec<Sample>,
    binary_bytes: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let prefix = format!("coldstart-{}/", std::process::id());
    let secrets_file = std::env::temp_dir().join(format!("coldstart-secrets-{}.json", std::process::id()));
    let values = secret_values();
    put_secrets(&args.moto, &prefix, &values).await?;
    shared::secrets::local::write_private(
        &secrets_file,
        &serde_json::to_string(&serde_json::Map::from_iter(values.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))))?,
    )?;

    let functions = function_names(&args)?;
    let mut modes = vec![("Secrets Manager (moto)", format!("secretsmanager:{prefix}"))];
    if args.local_secrets {
        modes.push(("local file", format!("local:{}", secrets_file.display())));
    }
    println!("Machine: {} cores; runs per function: {}; binaries: {}", num_cpus(), args.runs, args.bin_dir.display());
    for (label, secrets) in modes {
        let env = Env { moto: args.moto.clone(), secrets, reference_prefix: prefix.clone() };
        let mut reference = Row { name: "coldstart-reference".into(), samples: vec![], binary_bytes: size(&args.bin_dir, "coldstart-reference")? };
        let mut rows = vec![];
        for f in &functions {
            let mut row = Row { name: f.clone(), samples: vec![], binary_bytes: size(&args.bin_dir, f)? };
            for _ in 0..args.runs {
                // Interleaved with the reference, so both see the same machine.
                reference.samples.push(spawn_until_ready(&args.bin_dir.join("coldstart-reference"), &env).await?);
                row.samples.push(spawn_until_ready(&args.bin_dir.join(f), &env).await?);
            }
            rows.push(row);
        }
        print_table(label, &reference, &rows);
    }
    let _ = std::fs::remove_file(&secrets_file);
    Ok(())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn secret_values() -> Vec<(&'static str, String)> {
    use shared::secrets::names;
    vec![
        (names::TOKEN_KEY, shared::secrets::local::random_key()),
        (names::STATE_KEY, shared::secrets::local::random_key()),
        (names::LEVER_OAUTH, serde_json::json!({"client_id": "coldstart", "client_secret": "coldstart-secret"}).to_string()),
    ]
}

async fn put_secrets(moto: &str, prefix: &str, values: &[(&str, String)]) -> anyhow::Result<()> {
    let config = shared::aws::sdk_config(Some(moto)).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    for (name, value) in values {
        client.create_secret().name(format!("{prefix}{name}")).secret_string(value).send().await.context("moto Secrets Manager")?;
    }
    Ok(())
}

fn function_names(args: &Args) -> anyhow::Result<Vec<String>> {
    if !args.only.is_empty() {
        return Ok(args.only.clone());
    }
    let mut names: Vec<String> = std::fs::read_dir("functions")
        .context("run from the repository root")?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn size(dir: &Path, bin: &str) -> anyhow::Result<u64> {
    let path = dir.join(bin);
    Ok(std::fs::metadata(&path).with_context(|| format!("{}: build it in release first", path.display()))?.len())
}

struct Env {
    moto: String,
    secrets: String,
    reference_prefix: String,
}

/// Spawns `bin` against a fresh stand-in Runtime API and returns when it first asks for work.
async fn spawn_until_ready(bin: &Path, env: &Env) -> anyhow::Result<Sample> {
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = api.local_addr()?;
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", bin.file_name().unwrap_or_default())
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "coldstart")
        .env("AWS_SECRET_ACCESS_KEY", "coldstart")
        .env("AWS_ENDPOINT_URL", &env.moto)
        .env("HUB_TABLE", "coldstart")
        .env("HUB_SECRETS", &env.secrets)
        .env("HUB_LEVER", "production")
        .env("HUB_DELIVERY_QUEUE_URL", format!("{}/123456789012/deliveries", env.moto))
        .env("HUB_DEAD_LETTER_QUEUE_URL", format!("{}/123456789012/dead-deliveries", env.moto))
        .env("HUB_JOBS_QUEUE_URL", format!("{}/123456789012/jobs", env.moto))
        .env("HUB_HIRES_QUEUE_URL", format!("{}/123456789012/hires", env.moto))
        .env("HUB_LEVER_EVENTS_QUEUE_URL", format!("{}/123456789012/lever-events", env.moto))
        .env("HUB_CANDIDATES_QUEUE_URL", format!("{}/123456789012/candidates", env.moto))
        .env("REFERENCE_SECRET_PREFIX", &env.reference_prefix)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))?;
    let pid = child.id();
    let wait = async {
        loop {
            let (mut conn, _) = api.accept().await?;
            let mut buf = vec![0u8; 1024];
            let n = conn.read(&mut buf).await?;
            if String::from_utf8_lossy(&buf[..n]).starts_with("GET /2018-06-01/runtime/invocation/next") {
                return anyhow::Ok((started.elapsed(), conn));
            }
        }
    };
    let outcome = tokio::time::timeout(Duration::from_secs(20), wait).await;
    let peak_rss_kb = peak_rss_kb(pid);
    let _ = child.kill();
    let status = child.wait();
    match outcome {
        Ok(Ok((ready, _conn))) => Ok(Sample { ready, peak_rss_kb }),
        _ => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            bail!("{} never polled the Runtime API ({status:?}): {}", bin.display(), err.lines().last().unwrap_or_default())
        }
    }
}

/// The process's peak resident set so far (`VmHWM`), in KiB.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn stats(samples: &[Sample]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = samples.iter().map(|s| s.ready.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    let rss = samples.iter().map(|s| s.peak_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    (at(0.5), at(0.9), rss)
}

fn print_table(label: &str, reference: &Row, rows: &[Row]) {
    let (ref_median, ref_p90, ref_rss) = stats(&reference.samples);
    let mb = |b: u64| b as f64 / 1_000_000.0;
    println!("\nSecrets from {label}:\n");
    println!("| function | ready p50 ms | ready p90 ms | ratio to reference (p50) | peak RSS MB | binary MB |");
    println!("|---|---|---|---|---|---|");
    println!("| reference (floor) | {ref_median:.1} | {ref_p90:.1} | 1.00 | {ref_rss:.1} | {:.1} |", mb(reference.binary_bytes));
    for row in rows {
        let (median, p90, rss) = stats(&row.samples);
        println!("| {} | {median:.1} | {p90:.1} | {:.2} | {rss:.1} | {:.1} |", row.name, median / ref_median, mb(row.binary_bytes));
    }
}
