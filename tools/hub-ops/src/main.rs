//! `hub-ops`: what an operator does by hand. Reads the same environment as the functions
//! (`HUB_STORE` or `HUB_TABLE`; AWS credentials and region as usual; `AWS_ENDPOINT_URL` for
//! DynamoDB Local). API keys are printed once, when issued, and stored only as hashes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use shared::clock::SystemClock;
use shared::core::catalog::ProfileCatalog;
use shared::flows::partners::Partners;
use shared::hub::StoreTarget;
use shared::store::Records;

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
    }
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
