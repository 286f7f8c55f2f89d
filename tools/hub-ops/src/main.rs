//! `hub-ops`: what an operator does by hand. Reads the same environment as the functions
//! (`HUB_STORE` or `HUB_TABLE`, `HUB_SECRETS`, the `HUB_*_QUEUE_URL`s; AWS credentials and
//! region as usual; `AWS_ENDPOINT_URL` for DynamoDB Local or moto). API keys are printed once,
//! when issued, and stored only as hashes. `hub-ops <command> --help` explains each command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use std::time::Duration;

use clap::{Parser, Subcommand};
use shared::clock::SystemClock;
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus};
use shared::core::flow_runs::ScheduledFlow;
use shared::flows::delivery::DeliveryStatus;
use shared::flows::partners::Partners;
use shared::flows::status::{health, status_name};
use shared::hub::{HubEnv, StoreTarget, Wiring};
use shared::queue::{Queue as _, SqsQueue};
use shared::secrets::names;
use shared::store::{Records, keys};

#[derive(Parser)]
#[command(about = "Operate the Lever integration hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate partner profiles (the bundled ones, or a folder of them).
    Profiles {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Create the DynamoDB table as the SAM template does (DynamoDB Local, non-SAM set-ups).
    CreateTable,
    /// Register a partner from its profile, or change its return URLs.
    Register {
        profile: String,
        /// Where customers' browsers may be sent back after connecting (repeatable).
        #[arg(long = "return-url", required = true)]
        return_urls: Vec<String>,
    },
    /// Issue an API key for a partner; it is shown this once.
    IssueKey {
        partner: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List a partner's API keys (ids and labels only).
    ListKeys { partner: String },
    /// Revoke one of a partner's API keys at once.
    RevokeKey { partner: String, key_id: String },
    /// Issue a partner a new API key (shown once) and say which older keys to revoke once the
    /// partner has switched; nothing stops working in between.
    RotateKey {
        partner: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// A partner's connections: id, status, health, Lever account.
    Connections {
        partner: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One connection as the partner API shows it (status, health, flows, settings), as JSON.
    Connection { partner: String, connection_id: String },
    /// A connection's activity log, newest first.
    Activity {
        partner: String,
        connection_id: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Start a job sync of a connection now (as the partner's `POST …/jobs/sync`).
    Sync { partner: String, connection_id: String },
    /// Start a hires import of a connection now (as the partner's `POST …/hires/import`).
    ImportHires {
        partner: String,
        connection_id: String,
        /// Every hired candidate, not only those since the last import.
        #[arg(long)]
        all: bool,
        /// Send hires already delivered again.
        #[arg(long)]
        resend: bool,
    },
    /// A partner's dead webhook deliveries (retries exhausted), newest first.
    DeadDeliveries {
        partner: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Deliver one event again (from attempt 1) to the partner's current endpoints.
    Replay { partner: String, event_id: String },
    /// Messages waiting in a dead-letter queue (shown, not removed).
    DeadLetters {
        /// The dead-letter queue's URL (stack outputs list them).
        queue_url: String,
        #[arg(long, default_value_t = 10)]
        max: usize,
    },
    /// Move every message of a dead-letter queue back to the queue it came from.
    Redrive {
        /// The dead-letter queue's URL.
        from: String,
        /// The queue to move them back to.
        to: String,
    },
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn partners() -> Result<(Partners, StoreTarget), Failure> {
    let target = StoreTarget::from_env()?;
    let aws = match target {
        StoreTarget::DynamoDb { .. } => Some(shared::aws::sdk_config(None).await),
        StoreTarget::Embedded { .. } => None,
    };
    let store = target.open(aws.as_ref())?;
    Ok((Partners::new(Records::new(store, Arc::new(SystemClock))), target))
}

/// The hub as the functions build it (every secret: an operator may need any flow).
async fn wiring() -> Result<Wiring, Failure> {
    Ok(HubEnv::from_env()?.wiring(names::ALL).await?)
}

/// The partner's connection, or a clear error (also when it is another partner's).
async fn connection(w: &Wiring, partner: &str, id: &str) -> Result<Connection, Failure> {
    match w.records().get::<Connection>(&keys::connection(id)).await? {
        Some(c) if c.record.partner_id == partner => Ok(c.record),
        _ => Err(format!("{partner} has no connection {id}").into()),
    }
}

async fn sqs_queue(url: &str) -> Result<SqsQueue, Failure> {
    if !url.starts_with("http") {
        return Err(format!("{url}: expected a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)").into());
    }
    Ok(SqsQueue::new(aws_sdk_sqs::Client::new(&shared::aws::sdk_config(None).await), url.to_owned()))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Profiles { dir } => {
            let catalog = match dir {
                Some(d) => ProfileCatalog::from_dir(d)?,
                None => ProfileCatalog::bundled()?,
            };
            for p in catalog.iter() {
                println!("{:<20} {}  scopes: {}", p.id, p.display_name, p.oauth.scopes.join(" "));
            }
        }
        Command::CreateTable => {
            let StoreTarget::DynamoDb { table } = StoreTarget::from_env()? else {
                return Err("create-table needs a DynamoDB store (HUB_TABLE or HUB_STORE=dynamodb:<table>)".into());
            };
            let client = aws_sdk_dynamodb::Client::new(&shared::aws::sdk_config(None).await);
            shared::store::dynamo::DynamoStore::new(client, table.clone()).ensure_table().await?;
            println!("table {table} ready");
        }
        Command::Register { profile, return_urls } => {
            if ProfileCatalog::bundled()?.get(&profile).is_none() {
                return Err(format!("no bundled profile {profile}").into());
            }
            let (partners, _) = partners().await?;
            let p = partners.register(&profile, return_urls).await?;
            println!("partner {} registered; return URLs: {}", p.id, p.return_urls.join(", "));
        }
        Command::IssueKey { partner, label } => {
            let (partners, _) = partners().await?;
            let key = partners.issue_key(&partner, label).await?;
            eprintln!("API key {} for {partner} (shown once; store it in the partner's secret store):", key.key_id);
            println!("{}", key.secret.expose());
        }
        Command::ListKeys { partner } => {
            let (partners, _) = partners().await?;
            for k in partners.list_keys(&partner).await? {
                println!("{}  {}  created {}", k.key_id, k.label.unwrap_or_default(), shared::api::json::time(k.created_at_ms));
            }
        }
        Command::RevokeKey { partner, key_id } => {
            let (partners, _) = partners().await?;
            if !partners.revoke_key(&partner, &key_id).await? {
                return Err(format!("{partner} has no key {key_id}").into());
            }
            println!("key {key_id} of {partner} revoked");
        }
        Command::RotateKey { partner, label } => {
            let (partners, _) = partners().await?;
            let older = partners.list_keys(&partner).await?;
            let key = partners.issue_key(&partner, label).await?;
            eprintln!("new API key {} for {partner} (shown once):", key.key_id);
            println!("{}", key.secret.expose());
            for k in older {
                eprintln!("when the partner has switched: hub-ops revoke-key {partner} {}", k.key_id);
            }
        }
        Command::Connections { partner, limit } => list_connections(&partner, limit).await?,
        Command::Connection { partner, connection_id } => {
            let w = wiring().await?;
            let c = connection(&w, &partner, &connection_id).await?;
            let missing = shared::flows::status::missing_settings(&*w.catalog()?, &c);
            println!("{}", serde_json::to_string_pretty(&shared::api::connections::view(&c, missing))?);
        }
        Command::Activity { partner, connection_id, limit } => {
            let w = wiring().await?;
            connection(&w, &partner, &connection_id).await?;
            let (entries, _) = w.activity().page(&connection_id, limit, None).await?;
            for e in entries {
                println!("{}  {:<24} {}  {}", shared::api::json::time(e.at_ms), e.kind, if e.ok { "ok  " } else { "FAIL" }, e.message);
            }
        }
        Command::Sync { partner, connection_id } => {
            start_now(&partner, &connection_id, ScheduledFlow::Jobs, serde_json::Value::Null).await?;
        }
        Command::ImportHires { partner, connection_id, all, resend } => {
            let options = serde_json::json!({ "all": all, "resend": resend });
            start_now(&partner, &connection_id, ScheduledFlow::Hires, options).await?;
        }
        Command::DeadDeliveries { partner, limit } => {
            let page = wiring().await?.delivery()?.list_deliveries(&partner, DeliveryStatus::Dead, limit, None).await?;
            if page.deliveries.is_empty() {
                println!("{partner} has no dead deliveries");
            }
            for d in page.deliveries {
                println!(
                    "event {}  {:<26} to webhook {}  attempts {}  last error: {}",
                    d.event_id,
                    d.event_type,
                    d.webhook_id,
                    d.attempts,
                    d.last_error.unwrap_or_default()
                );
            }
        }
        Command::Replay { partner, event_id } => {
            let replayed = wiring().await?.delivery()?.replay_event(&partner, &event_id).await?;
            println!("event {event_id} of {partner}: {} deliveries restarted", replayed.len());
        }
        Command::DeadLetters { queue_url, max } => {
            let queue = sqs_queue(&queue_url).await?;
            // Received briefly and left in the queue: they come back after the visibility timeout.
            let messages = queue.receive(max.clamp(1, 10), Duration::from_secs(1)).await?;
            if messages.is_empty() {
                println!("no messages waiting in {queue_url}");
            }
            for m in messages {
                println!("received {} time(s): {}", m.receive_count, m.body);
            }
        }
        Command::Redrive { from, to } => redrive(&from, &to).await?,
    }
    Ok(())
}

/// The partner's connections, one line each.
async fn list_connections(partner: &str, limit: usize) -> Result<(), Failure> {
    let w = wiring().await?;
    let (list, _) = w.connections()?.list(partner, limit, None).await?;
    if list.is_empty() {
        println!("{partner} has no connections");
    }
    for c in list {
        let missing = shared::flows::status::missing_settings(&*w.catalog()?, &c);
        let account = c.lever.as_ref().and_then(|l| l.account_id.clone()).unwrap_or_else(|| "-".into());
        println!(
            "{}  {:<16} {:<7} lever account {account}  created {}",
            c.id,
            status_name(c.status),
            health(c.status, !missing.is_empty()),
            shared::api::json::time(c.created_at_ms)
        );
    }
    Ok(())
}

/// Moves every message of the dead-letter queue `from` back to `to`.
async fn redrive(from: &str, to: &str) -> Result<(), Failure> {
    let (dead, live) = (sqs_queue(from).await?, sqs_queue(to).await?);
    let mut moved = 0;
    loop {
        let batch = dead.receive(10, Duration::from_secs(1)).await?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            // Sent before it is deleted: a crash in between duplicates, never loses (handlers are idempotent).
            live.send(&m.body, Duration::ZERO).await?;
            dead.ack(&m.receipt).await?;
            moved += 1;
        }
    }
    println!("{moved} message(s) moved from {from} to {to}");
    Ok(())
}

/// Enqueues a run of `flow` for the partner's active connection, as the partner API does.
async fn start_now(partner: &str, connection_id: &str, flow: ScheduledFlow, options: serde_json::Value) -> Result<(), Failure> {
    let w = wiring().await?;
    let c = connection(&w, partner, connection_id).await?;
    if c.status != ConnectionStatus::Active {
        return Err(format!("connection {connection_id} is {}: the customer must connect (again) first", status_name(c.status)).into());
    }
    let run = w.dispatcher()?.request_now(connection_id, flow, options).await?;
    println!("{} run of {connection_id} queued", run.flow.as_str());
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub-ops: {e}");
            ExitCode::FAILURE
        }
    }
}
