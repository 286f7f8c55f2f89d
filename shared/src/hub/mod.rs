//! Wiring: builds ports and flows from configuration. A Lambda's `main` calls
//! [`HubEnv::from_env`] and [`HubEnv::wiring`] with the secrets it needs, then asks the
//! [`Wiring`] for the flows it runs (nothing else is built). Tools and tests that run the whole
//! hub in one process use [`Hub`], every flow at once.

mod env;
mod wiring;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use env::{HubEnv, LeverTarget, SecretsSource, StoreTarget};
pub use wiring::{LeverPorts, MakeLever, PortSources, QueueName, Secrets, Wiring, WiringOptions};

use crate::api::ApiState;
use crate::clock::Clock;
use crate::core::catalog::ProfileCatalog;
use crate::flows::activity::ActivityLog;
use crate::flows::connections::Connections;
use crate::flows::delivery::{DeliveryPolicy, EventDelivery, OutboundEvent};
use crate::flows::events::{EventPublisher, NewEvent, PublishError};
use crate::flows::partners::Partners;
use crate::flows::tokens::{TokenPolicy, Tokens};
use crate::core::job_sync::SyncPolicy;
use crate::flows::jobs::{JobFeed, JobWorker};
use crate::lever::http::{LeverConfig, LeverHttpClient};
use crate::lever::rate_budget::RateBudgetPolicy;
use crate::queue::{EmbeddedQueue, Queue};
use crate::secrets::{names, Secrets as SecretsPort, SecretsError};
use crate::store::{Records, Store};

/// Ready-made adapters (tests, tools): everything [`Hub::build`] needs.
pub struct HubPorts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn SecretsPort>,
    /// Where Lever is; the client is built with the hub's shared rate budget.
    pub lever: LeverConfig,
    /// Queues by name; a name not given gets an embedded queue of its own.
    pub queues: HashMap<QueueName, Arc<dyn Queue>>,
}

pub struct HubOptions {
    pub public_url: url::Url,
    /// Send PKCE to Lever (the `pkce` flag of the `hub/lever-oauth` secret).
    pub lever_pkce: bool,
    pub tokens: TokenPolicy,
    pub delivery: DeliveryPolicy,
    pub jobs: SyncPolicy,
    pub rate_budget: RateBudgetPolicy,
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
    pub jobs: JobWorker,
    pub job_feed: JobFeed,
    api: Arc<ApiState>,
}

impl Hub {
    /// The whole hub on ready-made adapters; every known secret is read at once.
    pub async fn build(ports: HubPorts, catalog: Arc<ProfileCatalog>, options: HubOptions) -> Result<Self, HubError> {
        let secrets = Secrets::new(ports.secrets.get_many(names::ALL).await?);
        let (lever, pkce) = (ports.lever, options.lever_pkce);
        let given = ports.queues;
        let sources = PortSources {
            store: ports.store,
            clock: ports.clock,
            secrets,
            catalog: Box::new(|| Err(HubError::Config("the catalog is given".into()))),
            lever: Box::new(move |_, gate| {
                let client = Arc::new(LeverHttpClient::with_rate_gate(lever.clone(), gate).map_err(|e| HubError::Config(e.to_string()))?);
                Ok(LeverPorts { api: client.clone(), oauth: client, pkce })
            }),
            queue: Box::new(move |name| Ok(given.get(&name).cloned().unwrap_or_else(|| Arc::new(EmbeddedQueue::default())))),
        };
        let options = WiringOptions {
            public_url: options.public_url,
            tokens: options.tokens,
            delivery: options.delivery,
            jobs: options.jobs,
            rate_budget: options.rate_budget,
        };
        Self::from_wiring(Wiring::new(sources, options).with_catalog(catalog))
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
            jobs: wiring.job_worker()?,
            job_feed: wiring.job_feed()?,
            api: wiring.api()?,
            wiring: Arc::new(wiring),
        })
    }

    pub fn api(&self) -> Arc<ApiState> {
        self.api.clone()
    }
}

/// Namespace of event ids derived from names (UUIDv5); fixed forever.
const EVENT_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c65_7665_722d_6875_622d_6576_656e_7473);

#[async_trait]
impl EventPublisher for EventDelivery {
    async fn publish(&self, event: NewEvent) -> Result<(), PublishError> {
        let now = time::OffsetDateTime::now_utc();
        let mut outbound = OutboundEvent::new(&event.partner_id, &event.event_type, now, event.data);
        // Flows name events by what happened (stable across retries); the outbox keys by UUID.
        outbound.id = uuid::Uuid::parse_str(&event.id)
            .unwrap_or_else(|_| uuid::Uuid::new_v5(&EVENT_ID_NAMESPACE, event.id.as_bytes()));
        if let Some(c) = &event.connection_id {
            outbound = outbound.for_connection(c);
        }
        EventDelivery::publish(self, &outbound).await.map(|_| ()).map_err(|e| PublishError(e.to_string()))
    }
}
