//! Wiring: builds every flow once from the ports. A Lambda's `main` (or the local hub) calls
//! [`HubEnv::from_env`] and [`HubEnv::build`], then hands the handler what it needs.

mod env;

use std::sync::Arc;

use async_trait::async_trait;

pub use env::{HubEnv, LeverTarget, SecretsSource, StoreTarget};

use crate::api::cursor::CursorSeal;
use crate::api::ApiState;
use crate::clock::Clock;
use crate::core::catalog::ProfileCatalog;
use crate::core::oauth_state::StateSigner;
use crate::flows::activity::ActivityLog;
use crate::flows::connections::{Connections, PublicUrls};
use crate::flows::delivery::{DeliveryPolicy, EventDelivery, OutboundEvent};
use crate::flows::events::{EventPublisher, NewEvent, PublishError};
use crate::flows::partners::Partners;
use crate::flows::status::StatusChanges;
use crate::flows::tokens::{TokenPolicy, Tokens};
use crate::lever::port::{LeverApi, LeverOAuth};
use crate::queue::Queue;
use crate::secrets::{names, Secrets, SecretsError, TokenCipher};
use crate::store::{Records, Store};

/// The adapters the hub runs on.
pub struct HubPorts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn Secrets>,
    pub lever_api: Arc<dyn LeverApi>,
    pub lever_oauth: Arc<dyn LeverOAuth>,
    pub delivery_queue: Arc<dyn Queue>,
    pub dead_letter_queue: Option<Arc<dyn Queue>>,
}

pub struct HubOptions {
    pub public_url: url::Url,
    pub tokens: TokenPolicy,
    pub delivery: DeliveryPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Every flow of the hub, built once per process. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pub records: Records,
    pub catalog: Arc<ProfileCatalog>,
    pub partners: Partners,
    pub connections: Connections,
    pub tokens: Tokens,
    pub delivery: EventDelivery,
    pub activity: ActivityLog,
    pub pages: Arc<CursorSeal>,
}

impl Hub {
    pub async fn build(ports: HubPorts, catalog: Arc<ProfileCatalog>, options: HubOptions) -> Result<Self, HubError> {
        let records = Records::new(ports.store, ports.clock);
        let cipher = Arc::new(TokenCipher::load(ports.secrets.as_ref()).await?);
        let state_key = ports.secrets.get(names::STATE_KEY).await?;
        let signer = Arc::new(StateSigner::new(state_key.expose().as_bytes()));
        let pages = Arc::new(CursorSeal::from_state_key(state_key.expose().as_bytes(), records.clock().clone()));
        let mut delivery = EventDelivery::new(records.clone(), ports.delivery_queue, cipher.clone(), options.delivery)
            .map_err(|e| HubError::Config(e.to_string()))?;
        if let Some(dlq) = ports.dead_letter_queue {
            delivery = delivery.with_dead_letter_queue(dlq);
        }
        let activity = ActivityLog::new(records.clone());
        let status = StatusChanges::new(records.clone(), Arc::new(delivery.clone()), activity.clone(), catalog.clone());
        let tokens =
            Tokens::new(records.clone(), ports.lever_oauth.clone(), cipher.clone(), status.clone(), activity.clone(), options.tokens);
        let connections = Connections::new(
            records.clone(),
            catalog.clone(),
            ports.lever_oauth,
            ports.lever_api,
            cipher,
            signer,
            tokens.clone(),
            status,
            activity.clone(),
            PublicUrls { base: options.public_url },
        );
        Ok(Self { partners: Partners::new(records.clone()), records, catalog, connections, tokens, delivery, activity, pages })
    }

    pub fn api(&self) -> Arc<ApiState> {
        Arc::new(ApiState {
            partners: self.partners.clone(),
            connections: self.connections.clone(),
            delivery: self.delivery.clone(),
            catalog: self.catalog.clone(),
            pages: self.pages.clone(),
        })
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
