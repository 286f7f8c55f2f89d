//! Wiring: builds ports and flows from configuration. A Lambda's `main` calls
//! [`HubEnv::from_env`] and [`HubEnv::wiring`] with the secrets it needs, then asks the
//! [`Wiring`] for the flows it runs (nothing else is built). Tools and tests that run the whole
//! hub in one process use [`Hub`], every flow at once.

mod env;
mod wiring;

use std::collections::HashMap;
use std::sync::Arc;

pub use env::{FilesTarget, LOCAL_ONLY_VARS, READS_REPORT_VAR};
pub use env::{HubEnv, LeverTarget, SecretsSource, StoreTarget};
pub use wiring::{
    CatalogSource, FilesPort, FilesSource, LeverPorts, LeverSource, PortSources, QueueName, QueueSource, Secrets, Wiring, WiringOptions,
};

use crate::api::{ApiState, CandidateApiState};
use crate::clock::Clock;
use crate::core::catalog::ProfileCatalog;
use crate::core::job_sync::SyncPolicy;
use crate::flows::activity::ActivityLog;
use crate::flows::candidates::{CandidatePolicy, Candidates};
use crate::flows::connections::Connections;
use crate::flows::delivery::{DeliveryPolicy, EventDelivery};
use crate::flows::jobs::{JobFeed, JobWorker};
use crate::flows::lever_events::{LeverEventRouter, LeverWebhookReceiver};
use crate::flows::partners::Partners;
use crate::flows::tokens::{TokenPolicy, Tokens};
use crate::lever::http::LeverConfig;
use crate::lever::rate_budget::RateBudgetPolicy;
use crate::queue::Queue;
use crate::secrets::{Secrets as SecretsPort, SecretsError, names};
use crate::store::{Records, Store};

/// Ready-made adapters (tests, tools): everything [`Hub::build`] needs.
pub struct HubPorts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn SecretsPort>,
    /// Where Lever is; the client is built with the hub's shared rate budget.
    pub lever: LeverConfig,
    /// Lever's sandbox environment when it is not `lever` too (one local sandbox serves both).
    pub lever_sandbox: Option<LeverConfig>,
    /// Queues by name; a name not given gets an embedded queue of its own.
    pub queues: HashMap<QueueName, Arc<dyn Queue>>,
    /// The file store: a ready one (S3 on moto in tests) or a local directory.
    pub files: FilesSource,
}

pub struct HubOptions {
    pub public_url: url::Url,
    pub tokens: TokenPolicy,
    pub delivery: DeliveryPolicy,
    pub jobs: SyncPolicy,
    pub rate_budget: RateBudgetPolicy,
    pub candidates: CandidatePolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Every flow of the hub, built once per process (local runs, tests). Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pub wiring: Arc<Wiring>,
    pub records: Records,
    pub catalog: Arc<ProfileCatalog>,
    pub partners: Partners,
    pub connections: Connections,
    pub tokens: Tokens,
    pub delivery: EventDelivery,
    pub activity: ActivityLog,
    pub lever_webhooks: LeverWebhookReceiver,
    pub lever_events: LeverEventRouter,
    pub jobs: JobWorker,
    pub job_feed: JobFeed,
    pub candidates: Candidates,
    api: Arc<ApiState>,
    candidate_api: Arc<CandidateApiState>,
}

impl Hub {
    /// The whole hub on ready-made adapters; every known secret is read at once.
    pub async fn build(ports: HubPorts, catalog: Arc<ProfileCatalog>, options: HubOptions) -> Result<Self, HubError> {
        let secrets = Secrets::new(ports.secrets.get_many(names::ALL).await?);
        let sources = PortSources {
            store: ports.store,
            clock: ports.clock,
            secrets,
            catalog: wiring::CatalogSource::Ready(catalog),
            lever: wiring::LeverSource::Config { config: Box::new(ports.lever), sandbox: ports.lever_sandbox.map(Box::new) },
            queues: wiring::QueueSource { sqs_urls: HashMap::new(), aws: None, given: ports.queues },
            files: ports.files,
        };
        let options = WiringOptions {
            public_url: Some(options.public_url),
            tokens: options.tokens,
            delivery: options.delivery,
            lever_inbox: Default::default(),
            jobs: options.jobs,
            rate_budget: options.rate_budget,
            candidates: options.candidates,
        };
        Self::from_wiring(Wiring::new(sources, options))
    }

    /// Every flow of `wiring`.
    pub fn from_wiring(wiring: Wiring) -> Result<Self, HubError> {
        Ok(Self {
            records: wiring.records(),
            catalog: wiring.catalog()?,
            partners: wiring.partners(),
            connections: wiring.connections()?,
            tokens: wiring.tokens()?,
            delivery: wiring.delivery()?,
            activity: wiring.activity(),
            lever_webhooks: wiring.lever_webhook_receiver()?,
            lever_events: wiring.lever_event_router()?,
            jobs: wiring.job_worker()?,
            job_feed: wiring.job_feed()?,
            candidates: wiring.candidates()?,
            api: wiring.api()?,
            candidate_api: wiring.candidate_api()?,
            wiring: Arc::new(wiring),
        })
    }

    pub fn api(&self) -> Arc<ApiState> {
        self.api.clone()
    }

    pub fn candidate_api(&self) -> Arc<CandidateApiState> {
        self.candidate_api.clone()
    }

    /// Everything the hub serves over HTTP in one router: partner API, connect and callback,
    /// Lever's webhooks, `/healthz`, and a local file store's upload URLs (local runs and
    /// end-to-end tests; in AWS each is its own Lambda, and S3 takes the uploads).
    pub fn router(&self) -> axum::Router {
        let router =
            crate::api::router(self.api(), self.candidate_api()).merge(crate::api::lever_webhooks::lever_webhook_routes(self.lever_webhooks.clone()));
        match self.wiring.local_upload_routes() {
            Some(uploads) => router.merge(uploads),
            None => router,
        }
    }
}
