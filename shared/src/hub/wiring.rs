//! One process's ports and flows, each built on first use.
//!
//! A Lambda function asks only for what it runs (`wiring.delivery()`, `wiring.tokens()`…), so
//! its cold start pays for nothing else: no Lever HTTP client in the dispatcher, no SQS client
//! where no queue is used, no profile parsing where no profile is read. The secrets a function
//! needs are named up front and read in one round trip. Flows built from one `Wiring` share
//! their dependencies (one cipher, one event publisher, one token cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::HubError;
use crate::api::cursor::CursorSeal;
use crate::api::ApiState;
use crate::clock::Clock;
use crate::core::catalog::ProfileCatalog;
use crate::core::flow_runs::ScheduledFlow;
use crate::core::oauth_state::StateSigner;
use crate::flows::activity::ActivityLog;
use crate::flows::connections::{Connections, ConsentConfig, PublicUrls};
use crate::flows::delivery::{DeliveryPolicy, EventDelivery};
use crate::flows::dispatch::Dispatcher;
use crate::flows::hires::{HireImport, HireOnWebhook, HireReader, Hires, HiresPolicy, HiresWorker};
use crate::flows::lever_events::{InboxPolicy, LeverEventRouter, LeverWebhookReceiver};
use crate::flows::partners::Partners;
use crate::flows::status::StatusChanges;
use crate::flows::tokens::{TokenPolicy, Tokens};
use crate::lever::port::{LeverApi, LeverOAuth};
use crate::queue::Queue;
use crate::secrets::{names, SecretString, TokenCipher};
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
}

impl QueueName {
    pub const ALL: [QueueName; 5] =
        [QueueName::Deliveries, QueueName::DeliveriesDeadLetter, QueueName::Jobs, QueueName::Hires, QueueName::LeverEvents];

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
        }
    }
}

/// Lever's two ports, and whether the hub's Lever app uses PKCE.
#[derive(Clone)]
pub struct LeverPorts {
    pub api: Arc<dyn LeverApi>,
    pub oauth: Arc<dyn LeverOAuth>,
    pub pkce: bool,
}

/// Options every deployment sets.
#[derive(Clone)]
pub struct WiringOptions {
    /// The hub's public base URL; `None` = each request's own (behind API Gateway).
    pub public_url: Option<url::Url>,
    pub tokens: TokenPolicy,
    pub delivery: DeliveryPolicy,
    pub lever_inbox: InboxPolicy,
}

/// Builds a port from the secrets read at start.
pub type Make<T> = Box<dyn Fn(&Secrets) -> Result<T, HubError> + Send + Sync>;
type MakeQueue = Box<dyn Fn(QueueName) -> Result<Arc<dyn Queue>, HubError> + Send + Sync>;

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
        self.values
            .get(name)
            .ok_or_else(|| HubError::Config(format!("secret {name} was not read at start: add it to the function's SECRETS")))
    }
}

/// A value built once, on first use.
struct Lazy<T> {
    cell: OnceLock<T>,
    make: Make<T>,
}

impl<T: Clone> Lazy<T> {
    fn new(make: Make<T>) -> Self {
        Self { cell: OnceLock::new(), make }
    }

    fn ready(value: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        Self { cell, make: Box::new(|_| Err(HubError::Config("already built".into()))) }
    }

    fn get(&self, secrets: &Secrets) -> Result<T, HubError> {
        if let Some(v) = self.cell.get() {
            return Ok(v.clone());
        }
        let v = (self.make)(secrets)?;
        Ok(self.cell.get_or_init(|| v).clone())
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

/// Where the lazily built ports come from.
pub struct PortSources {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Secrets,
    pub catalog: Box<dyn Fn() -> Result<ProfileCatalog, HubError> + Send + Sync>,
    pub lever: Make<LeverPorts>,
    pub queue: MakeQueue,
}

pub struct Wiring {
    records: Records,
    secrets: Secrets,
    options: WiringOptions,
    catalog: Lazy<Arc<ProfileCatalog>>,
    lever: Lazy<LeverPorts>,
    make_queue: MakeQueue,
    queues: Mutex<HashMap<QueueName, Arc<dyn Queue>>>,
    cipher: Memo<Arc<TokenCipher>>,
    signer: Memo<Arc<StateSigner>>,
    pages: Memo<Arc<CursorSeal>>,
    delivery: Memo<EventDelivery>,
    status: Memo<StatusChanges>,
    tokens: Memo<Tokens>,
    connections: Memo<Connections>,
    hire_import: Memo<HireImport>,
}

impl Wiring {
    pub fn new(sources: PortSources, options: WiringOptions) -> Self {
        let PortSources { store, clock, secrets, catalog, lever, queue } = sources;
        Self {
            records: Records::new(store, clock),
            secrets,
            options,
            catalog: Lazy::new(Box::new(move |_| catalog().map(Arc::new))),
            lever: Lazy::new(lever),
            make_queue: queue,
            queues: Mutex::new(HashMap::new()),
            cipher: Memo::new(),
            signer: Memo::new(),
            pages: Memo::new(),
            delivery: Memo::new(),
            status: Memo::new(),
            tokens: Memo::new(),
            connections: Memo::new(),
            hire_import: Memo::new(),
        }
    }

    /// Uses an already parsed catalog (tests, tools that hold one).
    pub fn with_catalog(mut self, catalog: Arc<ProfileCatalog>) -> Self {
        self.catalog = Lazy::ready(catalog);
        self
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
        self.catalog.get(&self.secrets)
    }

    pub fn lever(&self) -> Result<LeverPorts, HubError> {
        self.lever.get(&self.secrets)
    }

    pub fn queue(&self, name: QueueName) -> Result<Arc<dyn Queue>, HubError> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = queues.get(&name) {
            return Ok(q.clone());
        }
        let q = (self.make_queue)(name)?;
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
            let delivery = EventDelivery::new(
                self.records(),
                self.queue(QueueName::Deliveries)?,
                self.cipher()?,
                self.options.delivery.clone(),
            )
            .map_err(|e| HubError::Config(e.to_string()))?;
            Ok(delivery.with_dead_letter_queue(self.queue(QueueName::DeliveriesDeadLetter)?))
        })
    }

    pub fn status(&self) -> Result<StatusChanges, HubError> {
        self.status.get_or(|| Ok(StatusChanges::new(self.records(), Arc::new(self.delivery()?), self.activity(), self.catalog()?)))
    }

    pub fn tokens(&self) -> Result<Tokens, HubError> {
        self.tokens.get_or(|| {
            Ok(Tokens::new(
                self.records(),
                self.lever()?.oauth,
                self.cipher()?,
                self.status()?,
                self.activity(),
                self.options.tokens.clone(),
            ))
        })
    }

    pub fn connections(&self) -> Result<Connections, HubError> {
        self.connections.get_or(|| {
            let lever = self.lever()?;
            Ok(Connections::new(
                self.records(),
                self.catalog()?,
                lever.oauth,
                lever.api,
                self.cipher()?,
                self.state_signer()?,
                self.tokens()?,
                self.status()?,
                self.activity(),
                ConsentConfig { urls: PublicUrls { base: self.options.public_url.clone() }, pkce: lever.pkce },
            ))
        })
    }

    /// The dispatcher, with the queue of every scheduled flow.
    pub fn dispatcher(&self) -> Result<Dispatcher, HubError> {
        let queues =
            ScheduledFlow::ALL.iter().map(|f| Ok((*f, self.queue(QueueName::of_flow(*f))?))).collect::<Result<_, HubError>>()?;
        Ok(Dispatcher::new(self.records(), self.catalog()?, queues))
    }

    /// The receiving end of Lever's webhooks (`POST /lever/webhooks/{connection}`).
    pub fn lever_webhook_receiver(&self) -> Result<LeverWebhookReceiver, HubError> {
        Ok(LeverWebhookReceiver::new(
            self.records(),
            self.cipher()?,
            self.queue(QueueName::LeverEvents)?,
            self.options.lever_inbox.clone(),
        ))
    }

    /// Imports hires (webhook, daily and manual runs) and hands them to the partner.
    pub fn hire_import(&self) -> Result<HireImport, HubError> {
        self.hire_import.get_or(|| {
            Ok(HireImport::new(
                self.records(),
                self.catalog()?,
                HireReader::new(self.lever()?.api, self.tokens()?),
                Arc::new(self.delivery()?),
                self.activity(),
                HiresPolicy::default(),
            ))
        })
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
        Ok(LeverEventRouter::new().on(crate::flows::hires::webhook::CANDIDATE_HIRED, Arc::new(HireOnWebhook::new(self.hire_import()?))))
    }

    /// What the partner API and the OAuth routes need.
    pub fn api(&self) -> Result<Arc<ApiState>, HubError> {
        Ok(Arc::new(ApiState {
            partners: self.partners(),
            connections: self.connections()?,
            delivery: self.delivery()?,
            catalog: self.catalog()?,
            hires: self.hires()?,
            pages: self.pages()?,
        }))
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
