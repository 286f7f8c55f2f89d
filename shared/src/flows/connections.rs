//! The life of a connection: connect (authorize URL + signed single-use state), the OAuth
//! callback, reconnect, settings, health, disconnect, and the Lever look-ups a partner's
//! settings screen needs.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::activity::ActivityLog;
use super::context::{ContextError, FlowContext};
use super::lever_calls::LeverCalls;
use super::partners::{Partner, Partners};
pub use super::public_urls::PublicUrls;
use super::records::{ConnectionPurge, LeverWebhook, StatusPoll, lever_webhook_context};
use super::status::StatusChanges;
use super::tokens::Tokens;
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus, LeverAccount, LeverEnvironment};
use crate::core::events::LeverEvent;
use crate::core::flow_runs::{first_runs, rescheduled};
use crate::core::oauth_state::StateSigner;
use crate::core::profile::{FieldIssue, Profile, Retention};
use crate::core::return_url::check_allowed;
use crate::core::scopes::missing_scopes;
use crate::core::settings::ConnectionSettings;
use crate::lever::environments::LeverEnvironments;
use crate::lever::error::LeverError;
use crate::lever::model::{NewWebhook, Stage, User, UsersQuery};
use crate::lever::page::{Page, PageRequest, collect_all};
use crate::lever::port::{LeverApi, LeverAuth, LeverOAuth};
use crate::secrets::TokenCipher;
use crate::store::{Expect, Key, Query, Record, Records, StoreError, keys};

/// A status poll started at connect first runs this long after (the candidate sweeper's cadence).
const FIRST_STATUS_POLL_AFTER_MS: i64 = 15 * 60 * 1000;

/// How the hub asks for consent.
#[derive(Clone, Debug)]
pub struct ConsentConfig {
    pub urls: PublicUrls,
}

/// Pointer from a partner to one of its connections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartnerConnection {
    pub partner_id: String,
    pub connection_id: String,
}

impl Record for PartnerConnection {
    const KIND: &'static str = "partner_connection";
    fn key(&self) -> Key {
        keys::partner_connection(&self.partner_id, &self.connection_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no connection {0}")]
    NotFound(String),
    #[error("partner {0} is not registered")]
    UnknownPartner(String),
    #[error("partner profile {0} is not loaded")]
    UnknownProfile(String),
    #[error("return_url: {0}")]
    ReturnUrl(String),
    #[error("invalid settings")]
    InvalidSettings(Vec<FieldIssue>),
    #[error("connection is {0}")]
    NotActive(&'static str),
    #[error("connection is {0}; only a pending or needs_reconnect connection gets a new link")]
    NotReconnectable(&'static str),
    #[error("invalid request")]
    InvalidField(FieldIssue),
    #[error("Lever did not grant {0:?}")]
    InsufficientScope(Vec<String>),
    #[error("Lever: {0}")]
    Lever(LeverError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<ContextError> for ConnectError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::UnknownConnection(id) => ConnectError::NotFound(id),
            ContextError::NotActive(s) => ConnectError::NotActive(s),
            ContextError::NoProfile(p) => ConnectError::UnknownProfile(p),
            ContextError::Lever(l) => ConnectError::Lever(l),
            ContextError::Store(s) => ConnectError::Store(s),
            ContextError::Unreadable(e) => ConnectError::Internal(e),
        }
    }
}

/// What `POST /v1/connections` answers.
#[derive(Debug)]
pub struct ConnectStart {
    pub connection: Connection,
    /// The magic link (the hub's connect page); partners may also know it as `authorize_url`.
    pub connect_url: String,
    pub expires_at_ms: i64,
}

/// The consent the callback finishes: its state's nonce (the PKCE verifier's seed), connection,
/// partner and Lever environment.
pub struct ConsentToFinish<'a> {
    pub nonce: &'a str,
    pub connection_id: &'a str,
    pub partner_id: &'a str,
    pub environment: LeverEnvironment,
}

/// How a partner starts (or restarts) a connection.
#[derive(Clone, Debug, Default)]
pub struct LinkOptions {
    /// How long the link lives; seven days when `None`.
    pub lifetime: Option<Duration>,
    /// The Lever environment, fixed by the partner; the customer chooses when `None`.
    pub environment: Option<LeverEnvironment>,
}

#[derive(Clone)]
pub struct Connections {
    pub(super) records: Records,
    catalog: Arc<ProfileCatalog>,
    partners: Partners,
    environments: LeverEnvironments,
    lever: Arc<dyn LeverApi>,
    cipher: Arc<TokenCipher>,
    pub(super) signer: Arc<StateSigner>,
    tokens: Tokens,
    /// Lever with the connection's token, for the settings screen's look-ups.
    ctx: FlowContext,
    status: StatusChanges,
    pub(super) activity: ActivityLog,
    pub(super) consent: ConsentConfig,
}

impl Connections {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        records: Records,
        catalog: Arc<ProfileCatalog>,
        environments: LeverEnvironments,
        cipher: Arc<TokenCipher>,
        signer: Arc<StateSigner>,
        tokens: Tokens,
        status: StatusChanges,
        activity: ActivityLog,
        consent: ConsentConfig,
    ) -> Self {
        let partners = Partners::new(records.clone());
        let lever = environments.api();
        let ctx = FlowContext::new(records.clone(), catalog.clone(), LeverCalls::new(lever.clone(), tokens.clone()));
        Self { records, catalog, partners, environments, lever, cipher, signer, tokens, ctx, status, activity, consent }
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    pub(super) fn profile(&self, partner: &Partner) -> Result<Arc<Profile>, ConnectError> {
        self.catalog.get(&partner.profile_id).cloned().ok_or_else(|| ConnectError::UnknownProfile(partner.profile_id.clone()))
    }

    pub(super) async fn partner(&self, partner_id: &str) -> Result<Partner, ConnectError> {
        self.partners
            .get(partner_id)
            .await
            .map_err(|e| ConnectError::Internal(e.to_string()))?
            .ok_or_else(|| ConnectError::UnknownPartner(partner_id.to_owned()))
    }

    /// The partner's connection, or `NotFound` — also when it belongs to another partner.
    pub async fn get(&self, partner_id: &str, connection_id: &str) -> Result<Connection, ConnectError> {
        match self.records.get::<Connection>(&keys::connection(connection_id)).await? {
            Some(c) if c.record.partner_id == partner_id => Ok(c.record),
            _ => Err(ConnectError::NotFound(connection_id.to_owned())),
        }
    }

    pub async fn list(
        &self,
        partner_id: &str,
        limit: usize,
        cursor: Option<crate::store::Cursor>,
    ) -> Result<(Vec<Connection>, Option<crate::store::Cursor>), ConnectError> {
        let q = Query {
            pk: keys::partner(partner_id).pk,
            sk_prefix: Some(keys::PARTNER_CONNECTIONS_PREFIX.into()),
            limit: limit.clamp(1, 100),
            cursor,
            ..Default::default()
        };
        let (pointers, next) = self.records.query::<PartnerConnection>(&q).await?;
        let mut out = Vec::with_capacity(pointers.len());
        for p in pointers {
            if let Some(c) = self.records.get::<Connection>(&keys::connection(&p.record.connection_id)).await? {
                out.push(c.record);
            }
        }
        Ok((out, next))
    }

    /// Starts a connection: stores it as pending with a magic link for the customer.
    pub async fn start(
        &self,
        partner_id: &str,
        return_url: &str,
        settings: ConnectionSettings,
        reference: Option<String>,
        link: LinkOptions,
    ) -> Result<ConnectStart, ConnectError> {
        let partner = self.partner(partner_id).await?;
        let profile = self.profile(&partner)?;
        check_allowed(return_url, &partner.return_urls).map_err(|e| ConnectError::ReturnUrl(e.to_string()))?;
        let issues: Vec<_> = settings.validate(&profile).into_iter().filter(|i| !is_missing_required(i)).collect();
        if !issues.is_empty() {
            return Err(ConnectError::InvalidSettings(issues));
        }
        check_environment(&profile, link.environment)?;
        let now = self.records.clock().now_ms();
        let mut connection = Connection::new(uuid::Uuid::new_v4().to_string(), partner_id, now);
        connection.settings = settings;
        connection.reference = reference;
        if let Some(environment) = link.environment {
            connection.environment = environment;
        }
        let pointer = PartnerConnection { partner_id: partner_id.into(), connection_id: connection.id.clone() };
        self.records.transact(vec![Records::put_write(&connection, Expect::Absent)?, Records::put_write(&pointer, Expect::Absent)?]).await?;
        let (token, expires_at_ms) = self.new_link(&connection, return_url, link.lifetime, link.environment).await?;
        let connect_url = self.consent.urls.connect(&token).map_err(url_unknown)?;
        self.activity.note(&connection.id, "connect.started", true, "waiting for the customer's consent in Lever").await;
        Ok(ConnectStart { connection, connect_url, expires_at_ms })
    }

    /// A new magic link for a pending or needs-reconnect connection (same id), e.g. after a
    /// revoke in Lever or an expired link.
    pub async fn reconnect(&self, partner_id: &str, connection_id: &str, return_url: &str, link: LinkOptions) -> Result<ConnectStart, ConnectError> {
        let connection = self.get(partner_id, connection_id).await?;
        if !matches!(connection.status, ConnectionStatus::Pending | ConnectionStatus::NeedsReconnect) {
            return Err(ConnectError::NotReconnectable(super::status::status_name(connection.status)));
        }
        let partner = self.partner(partner_id).await?;
        let profile = self.profile(&partner)?;
        check_allowed(return_url, &partner.return_urls).map_err(|e| ConnectError::ReturnUrl(e.to_string()))?;
        check_environment(&profile, link.environment)?;
        let (token, expires_at_ms) = self.new_link(&connection, return_url, link.lifetime, link.environment).await?;
        let connect_url = self.consent.urls.connect(&token).map_err(url_unknown)?;
        self.activity.note(connection_id, "connect.restarted", true, "waiting for the customer's consent in Lever").await;
        Ok(ConnectStart { connection, connect_url, expires_at_ms })
    }

    /// The OAuth client of a Lever environment.
    pub(super) fn oauth_for(&self, environment: LeverEnvironment) -> &Arc<dyn LeverOAuth> {
        &self.environments.get(environment).oauth
    }

    /// Exchanges the code (with the state's PKCE verifier) and activates the connection when
    /// Lever granted every scope the profile needs.
    pub(super) async fn activate(&self, state: &ConsentToFinish<'_>, code: &str) -> Result<(), ConnectError> {
        let verifier = self.signer.pkce_verifier(state.nonce);
        let set = self
            .oauth_for(state.environment)
            .exchange_code(code, &self.consent.urls.oauth_callback().map_err(url_unknown)?, Some(&verifier))
            .await
            .map_err(ConnectError::Lever)?;
        let partner = self.partner(state.partner_id).await?;
        let profile = self.profile(&partner)?;
        // A token response without `scope` granted what was asked (RFC 6749 §5.1).
        let granted: Vec<&str> = if set.scope.is_some() { set.scopes().collect() } else { profile.oauth.scopes.iter().map(String::as_str).collect() };
        let missing = missing_scopes(&profile.oauth.scopes, &granted);
        if !missing.is_empty() {
            return Err(ConnectError::InsufficientScope(missing.into_iter().map(str::to_owned).collect()));
        }
        let refresh =
            set.refresh_token.clone().ok_or_else(|| ConnectError::Internal("Lever granted no refresh token (offline_access missing)".into()))?;
        let now = self.records.clock().now_ms();
        let connection_id = state.connection_id.to_owned();
        let sealed = self.tokens.seal(&connection_id, &set, &refresh, now);
        let account = account_from_token(set.access_token.expose(), set.scopes().map(str::to_owned).collect());
        let environment = state.environment;
        let auth = LeverAuth::bearer(connection_id.clone(), set.access_token.clone()).in_environment(environment);
        let hooks = self.replace_lever_webhooks(&auth, &connection_id, &profile).await?;
        // Lever may have redirected those calls to the account's data centre: remember where. (A
        // consent starts from the configured root, not a remembered one: the account consenting
        // now need not be the one connected before.)
        let account = LeverAccount { api_base: auth.learned_base().map(String::from), ..account };

        self.status
            .apply(&connection_id, None, |c| {
                c.status = ConnectionStatus::Active;
                c.environment = environment;
                c.tokens = Some(sealed.clone());
                c.lever = Some(account.clone());
                // Jobs due at once (the first sync runs right after consent), daily runs at their time.
                c.schedules = first_runs(&profile, &c.settings, &c.id, now);
                c.webhooks.events = hooks.clone();
                c.webhooks.registered_at_ms = Some(now);
                c.flow_health.entry("tokens".into()).or_default().succeeded(now);
            })
            .await?;
        if hooks.iter().any(|e| e == LeverEvent::CandidateDeleted.as_str()) {
            self.start_status_poll(&connection_id, now).await?;
        }
        self.activity.note(&connection_id, "connect.completed", true, format!("connected to Lever ({})", environment.as_str())).await;
        self.check_settings_after_consent(&connection_id).await;
        Ok(())
    }

    /// The connection's status poll, so that Lever's deletions are read once a day even where
    /// the hub only imports hires (the candidate writer starts it with a first submitted
    /// opportunity otherwise). Nothing of the connection was in the hub before now to be deleted.
    async fn start_status_poll(&self, connection_id: &str, now: i64) -> Result<(), ConnectError> {
        let poll = StatusPoll {
            connection_id: connection_id.to_owned(),
            next_at_ms: now + FIRST_STATUS_POLL_AFTER_MS,
            polled_up_to_ms: now,
            deletions_checked_at_ms: Some(now),
        };
        match self.records.create(&poll).await {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Settings given at create could not be checked against Lever before consent (no token
    /// yet); now they can be, as `PATCH` checks them. The consent stands whatever the outcome:
    /// problems are recorded on the connection (`missing_settings`, `flows.settings`, activity)
    /// for the partner to fix with a `PATCH`.
    async fn check_settings_after_consent(&self, connection_id: &str) {
        let key = keys::connection(connection_id);
        let Ok(Some(current)) = self.records.get::<Connection>(&key).await else { return };
        let settings = current.record.settings;
        if !needs_lever_check(&settings) {
            return;
        }
        let outcome = self.check_against_lever(connection_id, &settings).await;
        let now = self.records.clock().now_ms();
        let recorded = self
            .records
            .update::<Connection>(&key, |c| {
                if c.settings != settings {
                    return false; // changed since, by a PATCH that checked them itself
                }
                let health = c.flow_health.entry(SETTINGS_FLOW.into()).or_default();
                match &outcome {
                    Ok(issues) if issues.is_empty() => {
                        c.settings_issues.clear();
                        health.succeeded(now);
                    }
                    Ok(issues) => {
                        c.settings_issues = issues.iter().map(|i| (i.field.clone(), i.reason.clone())).collect();
                        health.failed(now, describe(issues));
                    }
                    Err(e) => health.failed(now, format!("the settings could not be checked against Lever: {e}")),
                }
                true
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!(connection_id, error = %e, "settings check after consent not recorded");
        }
        let (ok, message) = match &outcome {
            Ok(issues) if issues.is_empty() => (true, "settings checked against Lever".to_owned()),
            Ok(issues) => (false, describe(issues)),
            Err(e) => (false, format!("the settings could not be checked against Lever: {e}")),
        };
        self.activity.note(connection_id, "settings.checked", ok, message).await;
    }

    /// Registers the Lever webhooks the profile needs, removing the connection's earlier ones.
    async fn replace_lever_webhooks(&self, auth: &LeverAuth, connection_id: &str, profile: &Profile) -> Result<Vec<String>, ConnectError> {
        self.remove_lever_webhooks(Some(auth), connection_id).await?;
        let mut registered = vec![];
        for event in profile.lever_webhooks() {
            let event = event.as_str();
            let body = NewWebhook {
                url: self.consent.urls.lever_webhook(connection_id).map_err(url_unknown)?,
                event: event.to_owned(),
                configuration: None,
            };
            let created = self.lever.create_webhook(auth, &body).await.map_err(ConnectError::Lever)?;
            let token = created.signature_token().ok_or_else(|| ConnectError::Internal(format!("Lever returned no signature token for {event}")))?;
            let record = LeverWebhook {
                connection_id: connection_id.to_owned(),
                event: event.to_owned(),
                webhook_id: created.id.clone(),
                signature_token: self.cipher.seal(token.expose(), &lever_webhook_context(connection_id, event)),
            };
            self.records.put(&record).await?;
            registered.push(event.to_owned());
        }
        Ok(registered)
    }

    /// Deletes the connection's webhooks in Lever (when a token is at hand) and in the store.
    async fn remove_lever_webhooks(&self, auth: Option<&LeverAuth>, connection_id: &str) -> Result<(), ConnectError> {
        let hooks = self.records.query_all::<LeverWebhook>(&keys::connection(connection_id).pk, keys::LEVER_WEBHOOK_PREFIX).await?;
        for hook in hooks {
            if let Some(auth) = auth {
                match self.lever.delete_webhook(auth, &hook.webhook_id).await {
                    Ok(()) | Err(LeverError::NotFound { .. }) => {}
                    Err(e) => tracing::warn!(connection_id, webhook = %hook.webhook_id, error = %e, "Lever webhook not deleted"),
                }
            }
            self.records.remove(&hook.key(), Expect::Any).await?;
        }
        Ok(())
    }

    /// Disconnects (partner side): tokens destroyed, Lever webhooks deleted, no more scheduled
    /// work; imported data stays. Idempotent.
    pub async fn disconnect(&self, partner_id: &str, connection_id: &str) -> Result<(), ConnectError> {
        let c = self.get(partner_id, connection_id).await?;
        if c.status == ConnectionStatus::Disconnected {
            return Ok(());
        }
        let auth = match c.status {
            ConnectionStatus::Active => self.tokens.auth(connection_id).await.ok(),
            _ => None,
        };
        self.remove_lever_webhooks(auth.as_ref(), connection_id).await?;
        // Scheduled before the status changes: a disconnect that fails half-way is retried,
        // and a purge of a connection that is not disconnected is dropped by the sweeper.
        let grace_ms = self.profile(&self.partner(partner_id).await?).map_or(Retention::default().grace_ms(), |p| p.retention.grace_ms());
        let now = self.records.clock().now_ms();
        let purge = ConnectionPurge {
            connection_id: connection_id.to_owned(),
            partner_id: partner_id.to_owned(),
            purge_at_ms: now + grace_ms,
            created_at_ms: now,
        };
        match self.records.create(&purge).await {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
        self.status
            .apply(connection_id, Some("disconnected by the partner".into()), |c| {
                c.status = ConnectionStatus::Disconnected;
                c.tokens = None;
                c.schedules.clear();
                c.webhooks.events.clear();
            })
            .await?;
        Ok(())
    }

    /// Changes settings (a JSON merge of what is given), checked against the profile and, for
    /// Lever users and stages, against the customer's Lever.
    pub async fn update_settings(&self, partner_id: &str, connection_id: &str, patch: serde_json::Value) -> Result<Connection, ConnectError> {
        let c = self.get(partner_id, connection_id).await?;
        let partner = self.partner(partner_id).await?;
        let profile = self.profile(&partner)?;
        let serde_json::Value::Object(mut merged) = serde_json::to_value(&c.settings).map_err(|e| ConnectError::Internal(e.to_string()))? else {
            return Err(ConnectError::Internal("stored settings are not an object".into()));
        };
        let serde_json::Value::Object(patch) = patch else {
            return Err(ConnectError::InvalidSettings(vec![FieldIssue::new("settings", "must be a JSON object")]));
        };
        merged.extend(patch);
        let settings = read_settings(serde_json::Value::Object(merged)).map_err(|i| ConnectError::InvalidSettings(vec![i]))?;
        let mut issues: Vec<_> = settings.validate(&profile).into_iter().filter(|i| !is_missing_required(i)).collect();
        if issues.is_empty() {
            issues = self.check_against_lever(connection_id, &settings).await?;
        }
        if !issues.is_empty() {
            return Err(ConnectError::InvalidSettings(issues));
        }
        let now = self.records.clock().now_ms();
        let stored = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| {
                c.settings = settings.clone();
                if c.status == ConnectionStatus::Active {
                    c.schedules = rescheduled(&c.schedules, &profile, &c.settings, &c.id, now);
                }
                c.updated_at_ms = now;
                // Checked in full against Lever just now: earlier findings no longer hold.
                c.settings_issues.clear();
                c.flow_health.entry(SETTINGS_FLOW.into()).or_default().succeeded(now);
                true
            })
            .await?
            .ok_or_else(|| ConnectError::NotFound(connection_id.to_owned()))?;
        self.activity.note(connection_id, "settings.changed", true, "settings updated").await;
        Ok(stored.record)
    }

    async fn check_against_lever(&self, connection_id: &str, s: &ConnectionSettings) -> Result<Vec<FieldIssue>, ConnectError> {
        let mut issues = vec![];
        if let Some(user) = &s.perform_as {
            // Deactivated users too, so that one is named as such rather than as a stranger.
            let users = self.lever_users_including_deactivated(connection_id).await?;
            match users.iter().find(|u| &u.id == user) {
                None => issues.push(FieldIssue::new("settings.perform_as", format!("{user} is not a user in this Lever account"))),
                Some(u) if u.deactivated_at.is_some() => {
                    issues.push(FieldIssue::new("settings.perform_as", format!("{user} is deactivated in Lever")))
                }
                Some(_) => {}
            }
        }
        let mut stages: BTreeSet<(String, String)> = BTreeSet::new();
        if let Some(stage) = &s.default_stage {
            stages.insert(("settings.default_stage".into(), stage.as_str().to_owned()));
        }
        for stage in s.stage_labels.keys() {
            stages.insert((format!("settings.stage_labels.{stage}"), stage.clone()));
        }
        for (status, route) in &s.result_routes {
            if let Some(stage) = &route.stage {
                stages.insert((format!("settings.result_routes.{status}.stage"), stage.as_str().to_owned()));
            }
        }
        if !stages.is_empty() {
            let known: BTreeSet<String> = self.lever_stages(connection_id).await?.into_iter().map(|s| s.id).collect();
            for (field, stage) in stages {
                if !known.contains(&stage) {
                    issues.push(FieldIssue::new(field, format!("{stage} is not a stage in this Lever account")));
                }
            }
        }
        Ok(issues)
    }

    /// Active Lever users, for the partner's "attribute candidates to" picker.
    pub async fn lever_users(&self, connection_id: &str) -> Result<Vec<User>, ConnectError> {
        self.lever_list(connection_id, |lever, auth, page| async move { lever.list_users(&auth, &UsersQuery::default(), page).await }).await
    }

    async fn lever_users_including_deactivated(&self, connection_id: &str) -> Result<Vec<User>, ConnectError> {
        let query = UsersQuery { include_deactivated: true, ..UsersQuery::default() };
        self.lever_list(connection_id, move |lever, auth, page| {
            let query = query.clone();
            async move { lever.list_users(&auth, &query, page).await }
        })
        .await
    }

    /// The customer's pipeline stages, for stage mapping.
    pub async fn lever_stages(&self, connection_id: &str) -> Result<Vec<Stage>, ConnectError> {
        self.lever_list(connection_id, |lever, auth, page| async move { lever.list_stages(&auth, page).await }).await
    }

    /// Every page of a small Lever listing, with the connection's token (refreshed if needed).
    async fn lever_list<T, F, Fut>(&self, connection_id: &str, fetch: F) -> Result<Vec<T>, ConnectError>
    where
        T: Send,
        F: Fn(Arc<dyn LeverApi>, LeverAuth, PageRequest) -> Fut + Clone + Send + Sync,
        Fut: Future<Output = Result<Page<T>, LeverError>> + Send,
    {
        Ok(self
            .ctx
            .call(connection_id, move |lever, auth| {
                let fetch = fetch.clone();
                async move { collect_all(100, 100, |page| fetch(lever.clone(), auth.clone(), page)).await }
            })
            .await?)
    }

    /// Settings the partner must (re)choose: those the profile requires that are not chosen
    /// yet, and those Lever refused when they were checked after consent.
    pub fn missing_settings(&self, c: &Connection) -> Vec<String> {
        super::status::missing_settings(&self.catalog, c)
    }

    pub fn activity(&self) -> &ActivityLog {
        &self.activity
    }
}

/// The flow name under which settings checks show in a connection's `flows`.
const SETTINGS_FLOW: &str = "settings";

/// Whether any setting names something in the customer's Lever (a user, a stage).
fn needs_lever_check(s: &ConnectionSettings) -> bool {
    s.perform_as.is_some() || s.default_stage.is_some() || !s.stage_labels.is_empty() || s.result_routes.values().any(|r| r.stage.is_some())
}

fn describe(issues: &[FieldIssue]) -> String {
    issues.iter().map(|i| format!("{}: {}", i.field, i.reason)).collect::<Vec<_>>().join("; ")
}

/// Settings from JSON; an unknown or mistyped field is named by its path (`settings.tagz`).
pub fn read_settings(value: serde_json::Value) -> Result<ConnectionSettings, FieldIssue> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "settings".to_owned() } else { format!("settings.{path}") };
        FieldIssue::new(field, e.into_inner().to_string())
    })
}

pub(super) fn url_unknown(e: super::public_urls::NoPublicUrl) -> ConnectError {
    ConnectError::Internal(e.to_string())
}

/// A partner's `lever_environment` must be one its profile allows.
fn check_environment(profile: &Profile, environment: Option<LeverEnvironment>) -> Result<(), ConnectError> {
    match environment {
        Some(e) if !profile.oauth.environments.contains(&e) => Err(ConnectError::InvalidField(FieldIssue::new(
            "lever_environment",
            format!(
                "{} is not one of the Lever environments this profile allows ({})",
                e.as_str(),
                profile.oauth.environments.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ))),
        _ => Ok(()),
    }
}

fn is_missing_required(issue: &FieldIssue) -> bool {
    issue.reason.starts_with("required by")
}

/// Lever's access token is a JWT whose claims name the account and the consenting user.
/// It comes straight from Lever's token endpoint over TLS, so its claims are read, not verified.
fn account_from_token(token: &str, scopes: Vec<String>) -> LeverAccount {
    use base64::Engine as _;
    let claims: serde_json::Value = token
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let claim = |name: &str| claims.get(format!("https://oauth.lever.co/{name}")).and_then(|v| v.as_str()).map(str::to_owned);
    LeverAccount { account_id: claim("accountId"), authorized_by_user_id: claim("userId"), scopes, api_base: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_mistyped_settings_are_named_by_path() {
        let unknown = read_settings(serde_json::json!({"tagz": ["x"]})).unwrap_err();
        assert_eq!(unknown.field, "settings.tagz", "{unknown:?}");
        assert!(unknown.reason.contains("unknown field `tagz`"), "{unknown:?}");
        let nested = read_settings(serde_json::json!({"posting_overrides": {"p": {"colour": 1}}})).unwrap_err();
        assert_eq!(nested.field, "settings.posting_overrides.p.colour", "{nested:?}");
        let mistyped = read_settings(serde_json::json!({"tags": "x"})).unwrap_err();
        assert_eq!(mistyped.field, "settings.tags", "{mistyped:?}");
    }
}
