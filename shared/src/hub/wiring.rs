//! One process's ports and flows, each built on first use.
//!
//! A Lambda function asks only for what it runs (`wiring.delivery()`, `wiring.tokens()`…), so
//! its cold start pays for nothing else: no Lever HTTP client in the dispatcher, no SQS client
//! where no queue is used, no profile parsing where no profile is read. The secrets a function
//! needs are named up front and read in one round trip. Flows built from one `Wiring` share
//! their dependencies (one cipher, one event publisher, one token cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use std::path::PathBuf;

use super::{HubError, LeverTarget};
use crate::api::cursor::CursorSeal;
use crate::api::{ApiState, CandidateApiState};
use crate::clock::Clock;
use crate::core::catalog::ProfileCatalog;
use crate::core::events::LeverEvent;
use crate::core::flow_runs::ScheduledFlow;
use crate::core::job_sync::SyncPolicy;
use crate::core::oauth_state::StateSigner;
use crate::files::{DirFileStore, FileStore, S3FileStore};
use crate::flows::activity::ActivityLog;
use crate::flows::candidates::{CandidatePolicy, Candidates, LeverDeletions, PendingReferralRelease, StatusReporter};
use crate::flows::connections::{Connections, ConsentConfig, PublicUrls};
use crate::flows::context::FlowContext;
use crate::flows::delivery::{DeliveryPolicy, EventDelivery};
use crate::flows::dispatch::Dispatcher;
use crate::flows::hires::{HireImport, HireOnWebhook, HireReader, Hires, HiresPolicy, HiresWorker};
use crate::flows::jobs::{JobFeed, JobPoller, JobWorker};
use crate::flows::lever_calls::LeverCalls;
use crate::flows::lever_events::{InboxPolicy, LeverEventHandler, LeverEventRouter, LeverWebhookReceiver};
use crate::flows::partners::Partners;
use crate::flows::status::StatusChanges;
use crate::flows::tokens::{TokenPolicy, Tokens};
use crate::lever::environments::{LeverEnvironments, LeverPair};
use crate::lever::http::{LeverConfig, LeverHttpClient};
use crate::lever::port::LeverApi;
use crate::lever::rate::RateGate;
use crate::lever::rate_budget::{RateBudgetPolicy, StoreRateBudget};
use crate::lever::secret::ClientSecret;
use crate::queue::{EmbeddedQueue, Queue, SqsQueue};
use crate::secrets::{SecretString, TokenCipher, names};
use crate::store::{Records, Store};

/// The queues flows hand work over on. Each is an SQS queue in AWS (URL from
/// `HUB_<NAME>_QUEUE_URL`) and an embedded queue locally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    /// Partner webhook deliveries (one message per attempt).
    Deliveries,
    /// Deliveries that gave up, for operators.
    DeliveriesDeadLetter,
    /// Job syncs to run ([`FlowRun`](crate::flows::dispatch::FlowRun) messages).
    Jobs,
    /// Hires imports to run ([`FlowRun`](crate::flows::dispatch::FlowRun) messages).
    Hires,
    /// Verified Lever webhook events for the router.
    LeverEvents,
    /// Candidate submissions to write to Lever (and status polls), for the candidate writer.
    Candidates,
}

impl QueueName {
    pub const ALL: [QueueName; 6] =
        [QueueName::Deliveries, QueueName::DeliveriesDeadLetter, QueueName::Jobs, QueueName::Hires, QueueName::LeverEvents, QueueName::Candidates];

    /// The queue that runs of a scheduled flow go to.
    pub fn of_flow(flow: ScheduledFlow) -> Self {
        match flow {
            ScheduledFlow::Jobs => QueueName::Jobs,
            ScheduledFlow::Hires => QueueName::Hires,
        }
    }

    /// The queue's name in local runs (the embedded store keeps its messages under it).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Deliveries => "deliveries",
            QueueName::DeliveriesDeadLetter => "dead-deliveries",
            QueueName::Jobs => "jobs",
            QueueName::Hires => "hires",
            QueueName::LeverEvents => "lever-events",
            QueueName::Candidates => "candidates",
        }
    }

    /// The environment variable holding the queue's URL.
    pub fn env_var(self) -> &'static str {
        match self {
            QueueName::Deliveries => "HUB_DELIVERY_QUEUE_URL",
            QueueName::DeliveriesDeadLetter => "HUB_DEAD_LETTER_QUEUE_URL",
            QueueName::Jobs => "HUB_JOBS_QUEUE_URL",
            QueueName::Hires => "HUB_HIRES_QUEUE_URL",
            QueueName::LeverEvents => "HUB_LEVER_EVENTS_QUEUE_URL",
            QueueName::Candidates => "HUB_CANDIDATES_QUEUE_URL",
        }
    }
}

/// Lever's ports: a Data API client that sends each call to its connection's environment, and
/// both environments' clients (OAuth per environment).
#[derive(Clone)]
pub struct LeverPorts {
    pub api: Arc<dyn LeverApi>,
    pub environments: LeverEnvironments,
}

impl LeverPorts {
    pub fn new(environments: LeverEnvironments) -> Self {
        Self { api: environments.api(), environments }
    }
}

/// Options every deployment sets.
#[derive(Clone)]
pub struct WiringOptions {
    /// The hub's public base URL; `None` = each request's own (behind API Gateway).
    pub public_url: Option<url::Url>,
    pub tokens: TokenPolicy,
    pub delivery: DeliveryPolicy,
    pub lever_inbox: InboxPolicy,
    pub jobs: SyncPolicy,
    pub rate_budget: RateBudgetPolicy,
    pub candidates: CandidatePolicy,
}

/// The secrets this process read at start, by name.
pub struct Secrets {
    values: HashMap<String, SecretString>,
}

impl Secrets {
    pub fn new(values: HashMap<String, SecretString>) -> Self {
        Self { values }
    }

    /// A secret the function named at start; a missing one is a wiring mistake, caught by the
    /// function's own start-up test.
    pub fn get(&self, name: &str) -> Result<&SecretString, HubError> {
        self.values.get(name).ok_or_else(|| HubError::Config(format!("secret {name} was not read at start: add it to the function's SECRETS")))
    }
}

/// Memo of a flow built from other parts of the wiring.
struct Memo<T>(OnceLock<T>);

impl<T: Clone> Memo<T> {
    fn new() -> Self {
        Self(OnceLock::new())
    }

    fn get_or(&self, make: impl FnOnce() -> Result<T, HubError>) -> Result<T, HubError> {
        if let Some(v) = self.0.get() {
            return Ok(v.clone());
        }
        let v = make()?;
        Ok(self.0.get_or_init(|| v).clone())
    }
}

/// Where Lever's ports come from. `Configured` builds the HTTP client from the `hub/lever-oauth`
/// secret on first use, so a function that never calls Lever carries no Lever client at all.
/// `Config` builds the client from a ready configuration (tests, tools). Both build it with
/// [`Wiring::rate_gate`], the rate budget shared through the store; `Ready` ports bring their
/// own (and then share nothing with other processes).
pub enum LeverSource {
    Configured(LeverTarget),
    Config { config: Box<LeverConfig>, sandbox: Option<Box<LeverConfig>> },
    Ready(LeverPorts),
}

/// Where the profile catalog comes from (parsed on first use).
pub enum CatalogSource {
    Bundled,
    Dir(PathBuf),
    Ready(Arc<ProfileCatalog>),
}

/// Where queues come from: SQS for the names with a URL (the client made on first use), the
/// given queues for the others, else a fresh embedded queue per name.
pub struct QueueSource {
    pub sqs_urls: HashMap<QueueName, String>,
    pub aws: Option<aws_config::SdkConfig>,
    pub given: HashMap<QueueName, Arc<dyn Queue>>,
}

/// Where submission files and uploads live (built on first use).
pub enum FilesSource {
    /// An S3 bucket: uploads are PUT to it directly (pre-signed URLs).
    S3 {
        bucket: String,
        aws: Option<Box<aws_config::SdkConfig>>,
    },
    /// A local directory: the hub serves its upload URLs itself (`PUT /uploads/{token}`).
    Dir(PathBuf),
    Ready(Arc<dyn FileStore>),
    /// Nothing configured: every use of a file is an error naming the variable (a submission
    /// without files still works).
    Missing,
}

/// The file store as built.
#[derive(Clone)]
pub enum FilesPort {
    Store(Arc<dyn FileStore>),
    /// A local directory, whose upload URLs the hub's router serves.
    Dir(Arc<DirFileStore>),
}

impl FilesPort {
    pub fn store(&self) -> Arc<dyn FileStore> {
        match self {
            FilesPort::Store(s) => s.clone(),
            FilesPort::Dir(d) => d.clone(),
        }
    }
}

/// What the wiring builds from.
pub struct PortSources {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Secrets,
    pub catalog: CatalogSource,
    pub lever: LeverSource,
    pub queues: QueueSource,
    pub files: FilesSource,
}

/// The hub's Lever OAuth apps, as kept in the `hub/lever-oauth` secret: the production app,
/// and under `sandbox` the app registered with Lever's sandbox (Lever keeps the two apart).
#[derive(serde::Deserialize)]
struct LeverApp {
    client_id: String,
    client_secret: String,
    #[serde(default)]
    sandbox: Option<LeverAppCredentials>,
}

#[derive(serde::Deserialize)]
struct LeverAppCredentials {
    client_id: String,
    client_secret: String,
}

fn lever_ports(target: &LeverTarget, secrets: &Secrets, gate: Arc<dyn RateGate>) -> Result<LeverPorts, HubError> {
    let app: LeverApp = serde_json::from_str(secrets.get(names::LEVER_OAUTH)?.expose()).map_err(|e| {
        HubError::Config(format!("secret {}: expected {{\"client_id\", \"client_secret\", \"sandbox\"?: {{…}}}}: {e}", names::LEVER_OAUTH))
    })?;
    // Without its own entry, the sandbox environment uses the main app's credentials (which
    // Lever's sandbox refuses unless that app is registered there too).
    let (sandbox_id, sandbox_secret) = match app.sandbox {
        Some(s) => (s.client_id, s.client_secret),
        None => (app.client_id.clone(), app.client_secret.clone()),
    };
    let production = || LeverConfig::production(app.client_id.clone(), ClientSecret::new(app.client_secret.clone()));
    let sandbox = || LeverConfig::lever_sandbox(sandbox_id.clone(), ClientSecret::new(sandbox_secret.clone()));
    let environments = match target {
        LeverTarget::Production => LeverEnvironments { production: gated_pair(production(), gate.clone())?, sandbox: gated_pair(sandbox(), gate)? },
        // A deployment on Lever's sandbox alone: both environments there.
        LeverTarget::LeverSandbox => LeverEnvironments::same(gated_pair(sandbox(), gate)?),
        // One local sandbox whose OAuth app serves both environments.
        LeverTarget::Local(base) => {
            let config =
                LeverConfig::local(base, app.client_id, ClientSecret::new(app.client_secret)).map_err(|e| HubError::Config(e.to_string()))?;
            LeverEnvironments::same(gated_pair(config, gate)?)
        }
    };
    Ok(LeverPorts::new(environments))
}

fn gated_pair(config: LeverConfig, gate: Arc<dyn RateGate>) -> Result<LeverPair, HubError> {
    let client = Arc::new(LeverHttpClient::with_rate_gate(config, gate).map_err(|e| HubError::Config(e.to_string()))?);
    Ok(LeverPair { api: client.clone(), oauth: client })
}

pub struct Wiring {
    records: Records,
    secrets: Secrets,
    options: WiringOptions,
    catalog_source: CatalogSource,
    catalog: OnceLock<Arc<ProfileCatalog>>,
    lever_source: LeverSource,
    lever: OnceLock<LeverPorts>,
    rate_gate: OnceLock<Arc<dyn RateGate>>,
    queue_source: QueueSource,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    queues: Mutex<HashMap<QueueName, Arc<dyn Queue>>>,
    files_source: FilesSource,
    files: Memo<FilesPort>,
    candidates: Memo<Candidates>,
    cipher: Memo<Arc<TokenCipher>>,
    signer: Memo<Arc<StateSigner>>,
    pages: Memo<Arc<CursorSeal>>,
    delivery: Memo<EventDelivery>,
    status: Memo<StatusChanges>,
    tokens: Memo<Tokens>,
    connections: Memo<Connections>,
    hire_import: Memo<HireImport>,
    job_poller: Memo<JobPoller>,
}

impl Wiring {
    pub fn new(sources: PortSources, options: WiringOptions) -> Self {
        let PortSources { store, clock, secrets, catalog, lever, queues, files } = sources;
        Self {
            records: Records::new(store, clock),
            secrets,
            options,
            catalog_source: catalog,
            catalog: OnceLock::new(),
            lever_source: lever,
            lever: OnceLock::new(),
            rate_gate: OnceLock::new(),
            queue_source: queues,
            sqs: OnceLock::new(),
            queues: Mutex::new(HashMap::new()),
            files_source: files,
            files: Memo::new(),
            candidates: Memo::new(),
            pages: Memo::new(),
            cipher: Memo::new(),
            signer: Memo::new(),
            delivery: Memo::new(),
            status: Memo::new(),
            tokens: Memo::new(),
            connections: Memo::new(),
            hire_import: Memo::new(),
            job_poller: Memo::new(),
        }
    }

    pub fn records(&self) -> Records {
        self.records.clone()
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn options(&self) -> &WiringOptions {
        &self.options
    }

    pub fn catalog(&self) -> Result<Arc<ProfileCatalog>, HubError> {
        if let Some(c) = self.catalog.get() {
            return Ok(c.clone());
        }
        let catalog = match &self.catalog_source {
            CatalogSource::Ready(c) => c.clone(),
            CatalogSource::Bundled => Arc::new(ProfileCatalog::bundled().map_err(|e| HubError::Config(e.to_string()))?),
            CatalogSource::Dir(dir) => Arc::new(ProfileCatalog::from_dir(dir).map_err(|e| HubError::Config(e.to_string()))?),
        };
        Ok(self.catalog.get_or_init(|| catalog).clone())
    }

    /// The Lever ports; every Data API request they send asks [`Wiring::rate_gate`] first.
    pub fn lever(&self) -> Result<LeverPorts, HubError> {
        if let Some(l) = self.lever.get() {
            return Ok(l.clone());
        }
        let ports = match &self.lever_source {
            LeverSource::Ready(ports) => ports.clone(),
            LeverSource::Configured(target) => lever_ports(target, &self.secrets, self.rate_gate())?,
            LeverSource::Config { config, sandbox } => {
                let production = gated_pair(config.as_ref().clone(), self.rate_gate())?;
                LeverPorts::new(match sandbox {
                    Some(s) => LeverEnvironments { production, sandbox: gated_pair(s.as_ref().clone(), self.rate_gate())? },
                    None => LeverEnvironments::same(production),
                })
            }
        };
        Ok(self.lever.get_or_init(|| ports).clone())
    }

    /// Lever's rate limit per connection, shared through the store by every process that
    /// calls Lever (job poller, candidate writer, partner API pickers).
    pub fn rate_gate(&self) -> Arc<dyn RateGate> {
        self.rate_gate.get_or_init(|| Arc::new(StoreRateBudget::new(self.records(), self.options.rate_budget.clone()))).clone()
    }

    pub fn queue(&self, name: QueueName) -> Result<Arc<dyn Queue>, HubError> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = queues.get(&name) {
            return Ok(q.clone());
        }
        let source = &self.queue_source;
        let q: Arc<dyn Queue> = match (source.sqs_urls.get(&name), source.given.get(&name)) {
            (Some(url), _) => {
                let aws = source.aws.as_ref().ok_or_else(|| HubError::Config("SQS needs the AWS configuration".into()))?;
                let client = self.sqs.get_or_init(|| aws_sdk_sqs::Client::new(aws)).clone();
                Arc::new(SqsQueue::new(client, url.clone()))
            }
            (None, Some(given)) => given.clone(),
            (None, None) => Arc::new(EmbeddedQueue::default()),
        };
        queues.insert(name, q.clone());
        Ok(q)
    }

    pub fn cipher(&self) -> Result<Arc<TokenCipher>, HubError> {
        self.cipher.get_or(|| Ok(Arc::new(TokenCipher::from_secret(self.secrets.get(names::TOKEN_KEY)?)?)))
    }

    pub fn state_signer(&self) -> Result<Arc<StateSigner>, HubError> {
        self.signer.get_or(|| Ok(Arc::new(StateSigner::new(self.secrets.get(names::STATE_KEY)?.expose().as_bytes()))))
    }

    /// Seals the partner API's pagination cursors; its key is derived from the state key.
    pub fn pages(&self) -> Result<Arc<CursorSeal>, HubError> {
        self.pages.get_or(|| {
            let state_key = self.secrets.get(names::STATE_KEY)?;
            Ok(Arc::new(CursorSeal::from_state_key(state_key.expose().as_bytes(), self.records.clock().clone())))
        })
    }

    pub fn partners(&self) -> Partners {
        Partners::new(self.records())
    }

    pub fn activity(&self) -> ActivityLog {
        ActivityLog::new(self.records())
    }

    pub fn delivery(&self) -> Result<EventDelivery, HubError> {
        self.delivery.get_or(|| {
            let delivery = EventDelivery::new(self.records(), self.queue(QueueName::Deliveries)?, self.cipher()?, self.options.delivery.clone())
                .map_err(|e| HubError::Config(e.to_string()))?;
            Ok(delivery.with_dead_letter_queue(self.queue(QueueName::DeliveriesDeadLetter)?).with_profiles(self.catalog()?))
        })
    }

    pub fn status(&self) -> Result<StatusChanges, HubError> {
        self.status.get_or(|| Ok(StatusChanges::new(self.records(), Arc::new(self.delivery()?), self.activity(), self.catalog()?)))
    }

    pub fn tokens(&self) -> Result<Tokens, HubError> {
        self.tokens.get_or(|| {
            Ok(Tokens::new(self.records(), self.lever()?.environments, self.cipher()?, self.status()?, self.activity(), self.options.tokens.clone()))
        })
    }

    pub fn connections(&self) -> Result<Connections, HubError> {
        self.connections.get_or(|| {
            let lever = self.lever()?;
            Ok(Connections::new(
                self.records(),
                self.catalog()?,
                lever.environments,
                self.cipher()?,
                self.state_signer()?,
                self.tokens()?,
                self.status()?,
                self.activity(),
                ConsentConfig { urls: PublicUrls { base: self.options.public_url.clone() } },
            ))
        })
    }

    /// The dispatcher, with the queue of every scheduled flow.
    pub fn dispatcher(&self) -> Result<Dispatcher, HubError> {
        let queues = ScheduledFlow::ALL.iter().map(|f| Ok((*f, self.queue(QueueName::of_flow(*f))?))).collect::<Result<_, HubError>>()?;
        Ok(Dispatcher::new(self.records(), self.catalog()?, queues))
    }

    /// The receiving end of Lever's webhooks (`POST /lever/webhooks/{connection}`).
    pub fn lever_webhook_receiver(&self) -> Result<LeverWebhookReceiver, HubError> {
        Ok(LeverWebhookReceiver::new(self.records(), self.cipher()?, self.queue(QueueName::LeverEvents)?, self.options.lever_inbox.clone()))
    }

    /// Where submission files and uploads live.
    pub fn files(&self) -> Result<FilesPort, HubError> {
        self.files.get_or(|| {
            Ok(match &self.files_source {
                FilesSource::Ready(store) => FilesPort::Store(store.clone()),
                FilesSource::S3 { bucket, aws } => {
                    let aws = aws.as_ref().ok_or_else(|| HubError::Config("S3 needs the AWS configuration".into()))?;
                    FilesPort::Store(Arc::new(S3FileStore::new(aws, bucket.clone())))
                }
                FilesSource::Dir(dir) => {
                    let state_key = self.secrets.get(names::STATE_KEY)?;
                    let store = DirFileStore::new(dir, self.options.public_url.clone(), state_key.expose().as_bytes(), self.records.clock().clone())
                        .map_err(|e| HubError::Config(e.to_string()))?;
                    FilesPort::Dir(Arc::new(store))
                }
                FilesSource::Missing => FilesPort::Store(Arc::new(crate::files::Unconfigured)),
            })
        })
    }

    /// The upload URL a local file store serves (in AWS, S3 takes the PUT): `None` otherwise.
    pub fn local_upload_routes(&self) -> Option<axum::Router> {
        match self.files().ok()? {
            FilesPort::Dir(dir) => Some(crate::api::local_uploads::local_upload_routes(dir)),
            FilesPort::Store(_) => None,
        }
    }

    /// Candidate ingest: the partner routes, the writer (queue consumer) and the sweeper.
    pub fn candidates(&self) -> Result<Candidates, HubError> {
        self.candidates.get_or(|| {
            Ok(Candidates::new(
                self.records(),
                self.catalog()?,
                self.lever()?.api,
                self.tokens()?,
                self.files()?.store(),
                self.queue(QueueName::Candidates)?,
                Arc::new(self.delivery()?),
                self.activity(),
                self.options.candidates.clone(),
            ))
        })
    }

    /// Imports hires (webhook, daily and manual runs) and hands them to the partner.
    pub fn hire_import(&self) -> Result<HireImport, HubError> {
        self.hire_import.get_or(|| {
            let ctx = FlowContext::new(self.records(), self.catalog()?, LeverCalls::new(self.lever()?.api, self.tokens()?));
            Ok(HireImport::new(ctx.clone(), HireReader::new(ctx), Arc::new(self.delivery()?), self.activity(), HiresPolicy::default()))
        })
    }

    /// Candidates' status to partners (no file store: the Lever-events function needs none).
    fn candidate_status(&self) -> Result<StatusReporter, HubError> {
        Ok(StatusReporter::new(
            self.records(),
            self.catalog()?,
            self.lever()?.api,
            self.tokens()?,
            Arc::new(self.delivery()?),
            self.options.candidates.clone(),
        ))
    }

    /// The hires queue's consumer around [`Wiring::hire_import`].
    pub fn hires_worker(&self) -> Result<HiresWorker, HubError> {
        Ok(HiresWorker::new(self.hire_import()?, self.queue(QueueName::Hires)?))
    }

    /// The hires flow as the partner API serves it (the list, "import now").
    pub fn hires(&self) -> Result<Hires, HubError> {
        Ok(Hires::new(self.records(), self.catalog()?, self.dispatcher()?))
    }

    /// The consumer of verified Lever events, with every flow's handlers registered.
    pub fn lever_event_router(&self) -> Result<LeverEventRouter, HubError> {
        let status: Arc<dyn LeverEventHandler> = Arc::new(self.candidate_status()?);
        let referrals =
            PendingReferralRelease::new(self.records(), self.catalog()?, self.lever()?.api, self.tokens()?, self.queue(QueueName::Candidates)?);
        Ok(LeverEventRouter::new()
            .on(LeverEvent::CandidateStageChange, status.clone())
            .on(LeverEvent::CandidateArchiveChange, status.clone())
            .on(LeverEvent::CandidateHired, status)
            .on(LeverEvent::CandidateHired, Arc::new(HireOnWebhook::new(self.hire_import()?)))
            .on(LeverEvent::ApplicationCreated, Arc::new(referrals))
            .on(LeverEvent::CandidateDeleted, Arc::new(LeverDeletions::new(self.queue(QueueName::Candidates)?))))
    }

    /// Syncs one connection's postings (the job poller Lambda's flow).
    pub fn job_poller(&self) -> Result<JobPoller, HubError> {
        self.job_poller.get_or(|| {
            Ok(JobPoller::new(
                self.records(),
                self.catalog()?,
                self.lever()?.api,
                self.tokens()?,
                Arc::new(self.delivery()?),
                self.activity(),
                self.queue(QueueName::Jobs)?,
                self.options.jobs.clone(),
            ))
        })
    }

    /// The jobs queue's consumer around [`Wiring::job_poller`].
    pub fn job_worker(&self) -> Result<JobWorker, HubError> {
        Ok(JobWorker::new(self.job_poller()?, self.queue(QueueName::Jobs)?))
    }

    /// The job feed as the partner API serves it.
    pub fn job_feed(&self) -> Result<JobFeed, HubError> {
        Ok(JobFeed::new(self.records(), self.catalog()?, self.lever()?.api, self.tokens()?, self.dispatcher()?))
    }

    /// What the partner API (but its candidate routes) needs.
    pub fn api(&self) -> Result<Arc<ApiState>, HubError> {
        Ok(Arc::new(ApiState {
            partners: self.partners(),
            connections: self.connections()?,
            delivery: self.delivery()?,
            catalog: self.catalog()?,
            hires: self.hires()?,
            pages: self.pages()?,
            jobs: self.job_feed()?,
        }))
    }

    /// What the candidate routes need.
    pub fn candidate_api(&self) -> Result<Arc<CandidateApiState>, HubError> {
        Ok(Arc::new(CandidateApiState { partners: self.partners(), candidates: self.candidates()?, pages: self.pages()? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flow_whose_secret_was_not_read_at_start_is_a_clear_error() {
        let wiring = crate::testing::local_env().wiring(&[names::TOKEN_KEY]).await.unwrap();
        assert!(wiring.delivery().is_ok(), "delivery needs only the token key");
        let err = wiring.connections().err().expect("connections need the state key and the Lever app");
        assert!(err.to_string().contains("was not read at start"), "{err}");
    }

    #[tokio::test]
    async fn every_lever_event_the_hub_registers_has_a_handler() {
        let wiring = crate::testing::local_env().wiring(names::ALL).await.unwrap();
        let router = wiring.lever_event_router().unwrap();
        for event in LeverEvent::ALL {
            assert!(router.handles(event.as_str()), "{event} is registered by some profile but handled by no flow");
        }
        // And what the bundled profiles register is among them (typed, so it cannot be anything else).
        let catalog = crate::core::catalog::ProfileCatalog::bundled().unwrap();
        for profile in catalog.iter() {
            for event in profile.lever_webhooks() {
                assert!(router.handles(event.as_str()), "{}: {event} has no handler", profile.id);
            }
        }
    }

    #[tokio::test]
    async fn flows_of_one_wiring_share_their_parts() {
        let wiring = crate::testing::local_env().wiring(names::ALL).await.unwrap();
        let (a, b) = (wiring.cipher().unwrap(), wiring.cipher().unwrap());
        assert!(Arc::ptr_eq(&a, &b), "one cipher per process");
        let (q1, q2) = (wiring.queue(QueueName::Deliveries).unwrap(), wiring.queue(QueueName::Deliveries).unwrap());
        assert!(Arc::ptr_eq(&q1, &q2), "one queue per name");
        let dl = wiring.queue(QueueName::DeliveriesDeadLetter).unwrap();
        assert!(!Arc::ptr_eq(&q1, &dl), "another name, another queue");
    }
}
