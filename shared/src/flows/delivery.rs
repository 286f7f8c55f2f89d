//! Outbound partner events: webhook endpoints, publish (outbox), deliver (signed POST with
//! retries and dead-lettering) and replay.
//!
//! How an event travels:
//! 1. [`EventDelivery::publish`] stores the event with the exact body bytes it will be sent
//!    with, and one [`Delivery`] per subscribed endpoint, in one transaction (a second publish
//!    of the same event id finds them and adds nothing); then it enqueues one message each.
//! 2. [`EventDelivery::deliver`] handles one message: one attempt of one delivery. The message
//!    names the run and attempt it is for, so duplicates and messages from before a replay are
//!    recognised; a claim in the delivery record keeps two workers from POSTing the same attempt.
//! 3. A failure records the attempt (compare-and-set) and re-enqueues the next attempt with a
//!    delay; after the last attempt the delivery is dead, kept for [`EventDelivery::replay_delivery`].
//!
//! Delivery is at least once: partners dedupe on `Hub-Event-Id`.

mod deliver;
pub mod egress;
mod policy;
mod publish;
mod records;
mod replay;
pub mod signature;
mod sweep;
mod webhooks;

use std::sync::Arc;

use crate::core::catalog::ProfileCatalog;
use crate::core::egress::EgressPolicy;
use crate::queue::{Queue, QueueError};
use crate::secrets::TokenCipher;
use crate::secrets::token_cipher::CipherError;
use crate::store::{Records, StoreError};

pub use deliver::{DeliveryOutcome, SkipReason};
pub use policy::{DeliveryPolicy, parse_retry_after};
pub use publish::{OutboundEvent, Published, outbox_id};
pub use records::{
    DeadLetter, Delivery, DeliveryClaim, DeliveryMessage, DeliveryStatus, EnqueueCheck, PartnerWebhook, RetiredSecret, StoredEvent,
    webhook_secret_context,
};
pub use replay::DeliveryPage;
pub use sweep::SweepReport;
pub use webhooks::{
    MAX_SECRET_OVERLAP, MAX_SIGNING_SECRETS, MAX_WEBHOOKS_PER_PARTNER, NewWebhook, RegisteredWebhook, RotatedSecret, WebhookInfo, check_webhook_url,
};

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The caller's input is refused (URL, event type, size); the text says why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The request is understood but cannot be done in the current state; the text says why.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("signing secret of webhook {webhook_id} does not open: {source}")]
    Secret { webhook_id: String, source: CipherError },
    #[error("HTTP client: {0}")]
    Http(String),
}

/// The outbound delivery flows and what they need. Cheap to clone; one per process.
#[derive(Clone)]
pub struct EventDelivery {
    records: Records,
    queue: Arc<dyn Queue>,
    dead_letters: Option<Arc<dyn Queue>>,
    cipher: Arc<TokenCipher>,
    http: reqwest::Client,
    policy: DeliveryPolicy,
    /// The partners' profiles, for how long each keeps its events (`retention.grace_days`).
    profiles: Option<Arc<ProfileCatalog>>,
}

/// The client for partner endpoints: every resolved address checked, no redirects, no proxy
/// (a proxy would resolve the host where the guard cannot see), https only outside local runs.
fn webhook_client(policy: &DeliveryPolicy, resolver: Arc<dyn reqwest::dns::Resolve>) -> Result<reqwest::Client, DeliveryError> {
    let egress = EgressPolicy { allow_loopback: policy.allow_http_loopback };
    crate::http::client_builder()
        .timeout(policy.request_timeout)
        // A redirect would send the signed body somewhere the partner did not register.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .https_only(!policy.allow_http_loopback)
        .dns_resolver(Arc::new(egress::GuardedResolver::new(resolver, egress)))
        .user_agent(concat!("lever-integration-hub-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| DeliveryError::Http(e.to_string()))
}

impl EventDelivery {
    pub fn new(records: Records, queue: Arc<dyn Queue>, cipher: Arc<TokenCipher>, policy: DeliveryPolicy) -> Result<Self, DeliveryError> {
        let http = webhook_client(&policy, Arc::new(egress::SystemResolver))?;
        Ok(Self { records, queue, dead_letters: None, cipher, http, policy, profiles: None })
    }

    /// Resolves webhook hosts with `resolver` (still behind the egress guard) instead of the
    /// system's: a test resolver, or a resolver of the operator's choice.
    pub fn with_resolver(mut self, resolver: Arc<dyn reqwest::dns::Resolve>) -> Result<Self, DeliveryError> {
        self.http = webhook_client(&self.policy, resolver)?;
        Ok(self)
    }

    pub(crate) fn egress_policy(&self) -> EgressPolicy {
        EgressPolicy { allow_loopback: self.policy.allow_http_loopback }
    }

    /// Keep each partner's events (and their deliveries) for its profile's retention grace
    /// when that is shorter than the outbox's `retention`: events carry people's data.
    pub fn with_profiles(mut self, profiles: Arc<ProfileCatalog>) -> Self {
        self.profiles = Some(profiles);
        self
    }

    /// How long `partner_id`'s events are kept, in milliseconds.
    pub(crate) fn retention_ms(&self, partner_id: &str) -> i64 {
        let outbox = i64::try_from(self.policy.retention.as_millis()).unwrap_or(i64::MAX);
        let grace = self.profiles.as_ref().and_then(|c| c.get(partner_id)).map(|p| p.retention.grace_ms());
        grace.map_or(outbox, |g| g.min(outbox))
    }

    /// Also send a [`DeadLetter`] to this queue when a delivery gives up (alarms, operators).
    pub fn with_dead_letter_queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.dead_letters = Some(queue);
        self
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.queue
    }
}
