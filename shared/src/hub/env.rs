//! Configuration from the environment, so the same binary runs in Lambda, locally and in tests.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HUB_STORE` | `dynamodb:<table>` or `embedded:<file>` | `dynamodb:$HUB_TABLE` |
//! | `HUB_SECRETS` | `secretsmanager:<prefix>` or `local:<file>` | `secretsmanager:` |
//! | `HUB_LEVER` | `production`, `lever-sandbox` or a base URL of the Lever sandbox (then, after commas, its other origins that Lever's redirects may lead to: `--eu`'s EU port) | `production` |
//! | `HUB_PUBLIC_URL` | the hub's public base URL (OAuth callback, Lever webhooks) | the request's own host |
//! | `HUB_DELIVERY_QUEUE_URL` | SQS queue of partner deliveries | embedded queue (kept in the embedded store when the store is embedded) |
//! | `HUB_DEAD_LETTER_QUEUE_URL` | SQS queue for deliveries that gave up | embedded queue |
//! | `HUB_JOBS_QUEUE_URL`, `HUB_HIRES_QUEUE_URL` | SQS queues of scheduled flow runs | embedded queue |
//! | `HUB_CANDIDATES_QUEUE_URL` | SQS queue of candidate submissions to write | embedded queue |
//! | `HUB_FILES_BUCKET` | S3 bucket of uploads and submission files | — |
//! | `HUB_FILES_DIR` | a local directory for them instead | `files/` beside an embedded store |
//! | `HUB_PROFILES_DIR` | partner profiles to load instead of the bundled ones | bundled |
//! | `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | region and credentials when any AWS service is used (Lambda sets them; for a profile, `aws configure export-credentials --format env`) | — |
//! | `AWS_ENDPOINT_URL` | DynamoDB Local / moto for local runs | AWS |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::wiring::{CatalogSource, FilesSource, LeverSource, QueueSource};
use super::{Hub, HubError, PortSources, QueueName, Secrets, Wiring, WiringOptions};
use crate::clock::SystemClock;
use crate::flows::delivery::DeliveryPolicy;
use crate::flows::tokens::TokenPolicy;
use crate::queue::Queue;
use crate::queue::embedded::EmbeddedQueue;
use crate::secrets::{LocalSecrets, Secrets as _, SecretsManagerSecrets, names};
use crate::store::dynamo::DynamoStore;
use crate::store::embedded::EmbeddedStore;
use crate::store::{Records, Store, StoreError};

#[derive(Clone, Debug)]
pub enum StoreTarget {
    DynamoDb { table: String },
    Embedded { path: std::path::PathBuf },
}

impl StoreTarget {
    /// `HUB_STORE` (`dynamodb:<table>` or `embedded:<file>`), else `dynamodb:$HUB_TABLE`.
    pub fn from_env() -> Result<Self, HubError> {
        let config = |m: String| HubError::Config(m);
        Ok(match var("HUB_STORE") {
            Some(s) if s.starts_with("embedded:") => StoreTarget::Embedded { path: s["embedded:".len()..].into() },
            Some(s) if s.starts_with("dynamodb:") => StoreTarget::DynamoDb { table: s["dynamodb:".len()..].into() },
            Some(s) => {
                return Err(config(format!("HUB_STORE={s}: expected dynamodb:<table> or embedded:<file>")));
            }
            None => StoreTarget::DynamoDb { table: var("HUB_TABLE").ok_or_else(|| config("HUB_TABLE or HUB_STORE is required".into()))? },
        })
    }

    /// Opens the store; `aws` is needed for DynamoDB.
    pub fn open(&self, aws: Option<&aws_config::SdkConfig>) -> Result<Arc<dyn Store>, HubError> {
        Ok(match self {
            StoreTarget::DynamoDb { table } => {
                let aws = aws.ok_or_else(|| HubError::Config("DynamoDB needs the AWS configuration".into()))?;
                Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), table.clone()))
            }
            StoreTarget::Embedded { path } => Arc::new(EmbeddedStore::open(path).map_err(|e| match e {
                StoreError::InUse(why) => HubError::Config(why),
                e => HubError::Config(format!("embedded store: {e}")),
            })?),
        })
    }
}

/// Where uploads and submission files live.
#[derive(Clone, Debug, Default)]
pub enum FilesTarget {
    S3 {
        bucket: String,
    },
    Dir {
        path: std::path::PathBuf,
    },
    /// `files/` beside an embedded store; none for DynamoDB (set `HUB_FILES_BUCKET`).
    #[default]
    BesideStore,
}

impl FilesTarget {
    /// `HUB_FILES_BUCKET` or `HUB_FILES_DIR`, else beside the store.
    pub fn from_env() -> Self {
        match (var("HUB_FILES_BUCKET"), var("HUB_FILES_DIR")) {
            (Some(bucket), _) => FilesTarget::S3 { bucket },
            (None, Some(dir)) => FilesTarget::Dir { path: dir.into() },
            (None, None) => FilesTarget::BesideStore,
        }
    }
}

#[derive(Clone, Debug)]
pub enum SecretsSource {
    SecretsManager { prefix: String },
    Local { path: std::path::PathBuf },
}

/// Where Lever is (`HUB_LEVER`). Each connection still chooses production or sandbox; this says
/// which hosts those two environments mean.
#[derive(Clone, Debug)]
pub enum LeverTarget {
    /// Lever itself: production connections on Lever's production hosts, sandbox connections on
    /// Lever's sandbox hosts (each with its own OAuth app from `hub/lever-oauth`).
    Production,
    /// Lever's sandbox hosts for both environments.
    LeverSandbox,
    /// The project's Lever sandbox (or any stand-in) at this base URL, for both environments:
    /// its OAuth app serves both.
    Local(String),
}

#[derive(Clone, Debug)]
pub struct HubEnv {
    pub store: StoreTarget,
    pub secrets: SecretsSource,
    pub lever: LeverTarget,
    /// The hub's public base URL (a custom domain registered with Lever); `None` = each
    /// request's own `Host` (behind API Gateway).
    pub public_url: Option<url::Url>,
    /// SQS queues by name (`HUB_<NAME>_QUEUE_URL`); a queue not named here is embedded.
    pub queue_urls: HashMap<QueueName, String>,
    pub profiles_dir: Option<std::path::PathBuf>,
    /// Deliveries to http://127.0.0.1 partner endpoints (local runs and tests only).
    pub allow_http_loopback: bool,
    pub files: FilesTarget,
}

/// Variables for local runs and tests only: a deployed function never needs them (the
/// template sets none of them, and `hub-stack`'s template check knows it).
pub const LOCAL_ONLY_VARS: &[&str] = &["HUB_STORE", "HUB_FILES_DIR", "HUB_PROFILES_DIR", "HUB_ALLOW_HTTP_LOOPBACK"];

/// Set by `hub-stack` (the deployed shape run locally): the name of every variable read here is
/// appended to that file, one a line, so the stack can hold what each function really reads
/// against what the template sets it.
pub const READS_REPORT_VAR: &str = "HUB_STACK_ENV_REPORT";

fn var(name: &str) -> Option<String> {
    if let Some(report) = std::env::var_os(READS_REPORT_VAR) {
        use std::io::Write as _;
        // Best effort: the report is a check's input, never a reason for the function to fail.
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(report) {
            let _ = writeln!(file, "{name}");
        }
    }
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl HubEnv {
    pub fn from_env() -> Result<Self, HubError> {
        let config = |m: String| HubError::Config(m);
        let store = StoreTarget::from_env()?;
        let secrets = match var("HUB_SECRETS") {
            Some(s) if s.starts_with("local:") => SecretsSource::Local { path: s["local:".len()..].into() },
            Some(s) if s.starts_with("secretsmanager:") => SecretsSource::SecretsManager { prefix: s["secretsmanager:".len()..].into() },
            Some(s) => {
                return Err(config(format!("HUB_SECRETS={s}: expected secretsmanager:<prefix> or local:<file>")));
            }
            None => SecretsSource::SecretsManager { prefix: String::new() },
        };
        let lever = match var("HUB_LEVER").as_deref() {
            None | Some("production") => LeverTarget::Production,
            Some("lever-sandbox") => LeverTarget::LeverSandbox,
            Some(url) if url.starts_with("http") => LeverTarget::Local(url.to_owned()),
            Some(other) => {
                return Err(config(format!("HUB_LEVER={other}: expected production, lever-sandbox or a URL")));
            }
        };
        let public_url = var("HUB_PUBLIC_URL").map(|u| url::Url::parse(&u).map_err(|e| config(format!("HUB_PUBLIC_URL: {e}")))).transpose()?;
        Ok(Self {
            store,
            secrets,
            lever,
            public_url,
            queue_urls: QueueName::ALL.iter().filter_map(|q| var(q.env_var()).map(|url| (*q, url))).collect(),
            profiles_dir: var("HUB_PROFILES_DIR").map(Into::into),
            allow_http_loopback: var("HUB_ALLOW_HTTP_LOOPBACK").is_some_and(|v| v == "1"),
            files: FilesTarget::from_env(),
        })
    }

    /// The whole hub (local runs, tools): every flow, every secret.
    pub async fn build(&self) -> Result<Hub, HubError> {
        Hub::from_wiring(self.wiring(names::ALL).await?)
    }

    /// What one function needs: the store and the named `secrets` (read in one round trip) at
    /// once; Lever, queues and profiles when first asked for. AWS clients are made only for
    /// what the configuration uses.
    pub async fn wiring(&self, secrets: &[&str]) -> Result<Wiring, HubError> {
        let needs_aws = matches!(self.store, StoreTarget::DynamoDb { .. })
            || matches!(self.secrets, SecretsSource::SecretsManager { .. })
            || QueueName::ALL.iter().any(|q| self.queue_urls.contains_key(q))
            || matches!(self.files, FilesTarget::S3 { .. });
        let aws = if needs_aws { Some(crate::aws::from_environment().map_err(HubError::Config)?) } else { None };
        let store = self.store.open(aws.as_ref())?;
        let values = match &self.secrets {
            SecretsSource::SecretsManager { prefix } => {
                let aws = aws.as_ref().ok_or_else(|| HubError::Config("Secrets Manager needs the AWS configuration".into()))?;
                SecretsManagerSecrets::new(aws_sdk_secretsmanager::Client::new(aws), prefix.clone()).get_many(secrets).await?
            }
            SecretsSource::Local { path } => LocalSecrets::open_or_create(path)?.get_many(secrets).await?,
        };
        // With an embedded store, every local queue is kept in it: a restart finds the messages
        // it had not finished (in AWS every queue is SQS).
        let mut given: HashMap<QueueName, Arc<dyn Queue>> = HashMap::new();
        if let StoreTarget::Embedded { .. } = self.store {
            for name in QueueName::ALL.into_iter().filter(|q| !self.queue_urls.contains_key(q)) {
                let records = Records::new(store.clone(), Arc::new(SystemClock));
                let queue =
                    EmbeddedQueue::durable(records, name.as_str(), Duration::from_secs(30)).await.map_err(|e| HubError::Config(e.to_string()))?;
                given.insert(name, Arc::new(queue));
            }
        }
        let sources = PortSources {
            store,
            clock: Arc::new(SystemClock),
            secrets: Secrets::new(values),
            catalog: match &self.profiles_dir {
                Some(dir) => CatalogSource::Dir(dir.clone()),
                None => CatalogSource::Bundled,
            },
            lever: LeverSource::Configured(self.lever.clone()),
            files: match (&self.files, &self.store) {
                (FilesTarget::S3 { bucket }, _) => FilesSource::S3 { bucket: bucket.clone(), aws: aws.clone().map(Box::new) },
                (FilesTarget::Dir { path }, _) => FilesSource::Dir(path.clone()),
                (FilesTarget::BesideStore, StoreTarget::Embedded { path }) => {
                    FilesSource::Dir(path.parent().map(|p| p.join("files")).unwrap_or_else(|| "files".into()))
                }
                (FilesTarget::BesideStore, StoreTarget::DynamoDb { .. }) => FilesSource::Missing,
            },
            queues: QueueSource { sqs_urls: self.queue_urls.clone(), aws, given },
        };
        let options = WiringOptions {
            public_url: self.public_url.clone(),
            tokens: TokenPolicy::default(),
            delivery: DeliveryPolicy { allow_http_loopback: self.allow_http_loopback, ..DeliveryPolicy::default() },
            lever_inbox: Default::default(),
            jobs: Default::default(),
            rate_budget: Default::default(),
            candidates: Default::default(),
        };
        Ok(Wiring::new(sources, options))
    }
}
