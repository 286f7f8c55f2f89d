//! Configuration from the environment, so the same binary runs in Lambda, locally and in tests.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HUB_STORE` | `dynamodb:<table>` or `embedded:<file>` | `dynamodb:$HUB_TABLE` |
//! | `HUB_SECRETS` | `secretsmanager:<prefix>` or `local:<file>` | `secretsmanager:` |
//! | `HUB_LEVER` | `production`, `lever-sandbox` or a base URL of the Lever sandbox | `production` |
//! | `HUB_PUBLIC_URL` | the hub's public base URL (OAuth callback, Lever webhooks) | required |
//! | `HUB_DELIVERY_QUEUE_URL` | SQS queue of partner deliveries | embedded queue (kept in the embedded store) |
//! | `HUB_DEAD_LETTER_QUEUE_URL` | SQS queue for deliveries that gave up | none |
//! | `HUB_PROFILES_DIR` | partner profiles to load instead of the bundled ones | bundled |
//! | `AWS_ENDPOINT_URL` | DynamoDB Local / moto for local runs (read by the AWS SDK) | AWS |

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{Hub, HubError, HubOptions, HubPorts};
use crate::clock::SystemClock;
use crate::core::catalog::ProfileCatalog;
use crate::flows::delivery::DeliveryPolicy;
use crate::flows::tokens::TokenPolicy;
use crate::lever::http::{LeverConfig, LeverHttpClient};
use crate::lever::secret::ClientSecret;
use crate::queue::embedded::EmbeddedQueue;
use crate::queue::sqs::SqsQueue;
use crate::queue::Queue;
use crate::secrets::{names, LocalSecrets, Secrets, SecretsManagerSecrets};
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
            Some(s) => return Err(config(format!("HUB_STORE={s}: expected dynamodb:<table> or embedded:<file>"))),
            None => StoreTarget::DynamoDb {
                table: var("HUB_TABLE").ok_or_else(|| config("HUB_TABLE or HUB_STORE is required".into()))?,
            },
        })
    }

    /// Opens the store; `aws` is needed for DynamoDB.
    pub fn open(&self, aws: Option<&aws_config::SdkConfig>) -> Result<Arc<dyn Store>, HubError> {
        Ok(match self {
            StoreTarget::DynamoDb { table } => {
                let aws = aws.ok_or_else(|| HubError::Config("DynamoDB needs the AWS configuration".into()))?;
                Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), table.clone()))
            }
            StoreTarget::Embedded { path } => {
                Arc::new(EmbeddedStore::open(path).map_err(|e| match e {
                    StoreError::InUse(why) => HubError::Config(why),
                    e => HubError::Config(format!("embedded store: {e}")),
                })?)
            }
        })
    }
}

#[derive(Clone, Debug)]
pub enum SecretsSource {
    SecretsManager { prefix: String },
    Local { path: std::path::PathBuf },
}

#[derive(Clone, Debug)]
pub enum LeverTarget {
    Production,
    LeverSandbox,
    /// The project's Lever sandbox (or any stand-in) at this base URL.
    Local(String),
}

#[derive(Clone, Debug)]
pub struct HubEnv {
    pub store: StoreTarget,
    pub secrets: SecretsSource,
    pub lever: LeverTarget,
    pub public_url: url::Url,
    pub delivery_queue_url: Option<String>,
    pub dead_letter_queue_url: Option<String>,
    pub profiles_dir: Option<std::path::PathBuf>,
    /// Deliveries to http://127.0.0.1 partner endpoints (local runs and tests only).
    pub allow_http_loopback: bool,
}

/// The hub's Lever OAuth app, as kept in the `hub/lever-oauth` secret.
#[derive(Deserialize)]
struct LeverApp {
    client_id: String,
    client_secret: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl HubEnv {
    pub fn from_env() -> Result<Self, HubError> {
        let config = |m: String| HubError::Config(m);
        let store = StoreTarget::from_env()?;
        let secrets = match var("HUB_SECRETS") {
            Some(s) if s.starts_with("local:") => SecretsSource::Local { path: s["local:".len()..].into() },
            Some(s) if s.starts_with("secretsmanager:") => SecretsSource::SecretsManager { prefix: s["secretsmanager:".len()..].into() },
            Some(s) => return Err(config(format!("HUB_SECRETS={s}: expected secretsmanager:<prefix> or local:<file>"))),
            None => SecretsSource::SecretsManager { prefix: String::new() },
        };
        let lever = match var("HUB_LEVER").as_deref() {
            None | Some("production") => LeverTarget::Production,
            Some("lever-sandbox") => LeverTarget::LeverSandbox,
            Some(url) if url.starts_with("http") => LeverTarget::Local(url.to_owned()),
            Some(other) => return Err(config(format!("HUB_LEVER={other}: expected production, lever-sandbox or a URL"))),
        };
        let public_url = var("HUB_PUBLIC_URL").ok_or_else(|| config("HUB_PUBLIC_URL is required".into()))?;
        let public_url = url::Url::parse(&public_url).map_err(|e| config(format!("HUB_PUBLIC_URL: {e}")))?;
        Ok(Self {
            store,
            secrets,
            lever,
            public_url,
            delivery_queue_url: var("HUB_DELIVERY_QUEUE_URL"),
            dead_letter_queue_url: var("HUB_DEAD_LETTER_QUEUE_URL"),
            profiles_dir: var("HUB_PROFILES_DIR").map(Into::into),
            allow_http_loopback: var("HUB_ALLOW_HTTP_LOOPBACK").is_some_and(|v| v == "1"),
        })
    }

    /// Builds the hub. AWS clients are made only for what the configuration uses.
    pub async fn build(&self) -> Result<Hub, HubError> {
        let needs_aws = matches!(self.store, StoreTarget::DynamoDb { .. })
            || matches!(self.secrets, SecretsSource::SecretsManager { .. })
            || self.delivery_queue_url.is_some();
        let aws = if needs_aws { Some(crate::aws::sdk_config(None).await) } else { None };
        let store = self.store.open(aws.as_ref())?;
        let secrets: Arc<dyn Secrets> = match &self.secrets {
            SecretsSource::SecretsManager { prefix } => Arc::new(SecretsManagerSecrets::new(
                aws_sdk_secretsmanager::Client::new(aws.as_ref().expect("aws")),
                prefix.clone(),
            )),
            SecretsSource::Local { path } => Arc::new(LocalSecrets::open_or_create(path)?),
        };
        let app: LeverApp = serde_json::from_str(secrets.get(names::LEVER_OAUTH).await?.expose()).map_err(|e| {
            HubError::Config(format!("secret {}: expected {{\"client_id\", \"client_secret\"}}: {e}", names::LEVER_OAUTH))
        })?;
        let client_secret = ClientSecret::new(app.client_secret);
        let lever_config = match &self.lever {
            LeverTarget::Production => LeverConfig::production(app.client_id, client_secret),
            LeverTarget::LeverSandbox => LeverConfig::lever_sandbox(app.client_id, client_secret),
            LeverTarget::Local(base) => {
                LeverConfig::local(base, app.client_id, client_secret).map_err(|e| HubError::Config(e.to_string()))?
            }
        };
        let lever = Arc::new(LeverHttpClient::new(lever_config).map_err(|e| HubError::Config(e.to_string()))?);
        let sqs = |url: &String| -> Arc<dyn Queue> {
            Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(aws.as_ref().expect("aws")), url.clone()))
        };
        let delivery_queue: Arc<dyn Queue> = match (&self.delivery_queue_url, &self.store) {
            (Some(url), _) => sqs(url),
            // Kept in the embedded store, so a restart finds the deliveries it had not finished.
            (None, StoreTarget::Embedded { .. }) => {
                let records = Records::new(store.clone(), Arc::new(SystemClock));
                Arc::new(EmbeddedQueue::durable(records, "deliveries", Duration::from_secs(30)).await.map_err(|e| HubError::Config(e.to_string()))?)
            }
            (None, StoreTarget::DynamoDb { .. }) => Arc::new(EmbeddedQueue::default()),
        };
        let catalog = match &self.profiles_dir {
            Some(dir) => ProfileCatalog::from_dir(dir),
            None => ProfileCatalog::bundled(),
        }
        .map_err(|e| HubError::Config(e.to_string()))?;
        let ports = HubPorts {
            store,
            clock: Arc::new(SystemClock),
            secrets,
            lever_api: lever.clone(),
            lever_oauth: lever,
            delivery_queue,
            dead_letter_queue: self.dead_letter_queue_url.as_ref().map(sqs),
        };
        let options = HubOptions {
            public_url: self.public_url.clone(),
            tokens: TokenPolicy::default(),
            delivery: DeliveryPolicy { allow_http_loopback: self.allow_http_loopback, ..DeliveryPolicy::default() },
        };
        Hub::build(ports, Arc::new(catalog), options).await
    }
}
