//! The life of a connection: connect (authorize URL + signed single-use state), the OAuth
//! callback, reconnect, settings, health, disconnect, and the Lever look-ups a partner's
//! settings screen needs.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::activity::ActivityLog;
use super::partners::{Partner, Partners};
pub use super::public_urls::PublicUrls;
use super::records::{LeverWebhook, lever_webhook_context};
use super::status::StatusChanges;
use super::tokens::{TokenError, Tokens};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::{Connection, ConnectionStatus, LeverAccount};
use crate::core::flow_runs::{first_runs, rescheduled};
use crate::core::oauth_state::StateSigner;
use crate::core::profile::{FieldIssue, Profile};
use crate::core::return_url::check_allowed;
use crate::core::settings::ConnectionSettings;
use crate::lever::error::LeverError;
use crate::lever::model::{NewWebhook, Stage, User, UsersQuery};
use crate::lever::page::{Page, PageRequest, collect_all};
use crate::lever::port::{LeverApi, LeverAuth, LeverOAuth};
use crate::secrets::TokenCipher;
use crate::store::{Expect, Key, Query, Record, Records, StoreError, keys};

const STATE_LIFETIME: Duration = Duration::from_secs(600);

/// How the hub asks for consent.
#[derive(Clone, Debug)]
pub struct ConsentConfig {
    pub urls: PublicUrls,
    /// Send PKCE (S256) to Lever: on when the hub's Lever app is configured for it.
    pub pkce: bool,
}

/// A pending consent: which connection the `state` nonce belongs to. Single-use, 10 minutes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OAuthState {
    pub nonce: String,
    pub connection_id: String,
    pub partner_id: String,
    pub return_url: String,
    pub expires_at_ms: i64,
    /// SHA-256 of the cookie given to the browser that opened the connect link (the latest one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_hash: Option<String>,
}

/// The cookie that binds a consent to a browser, one per pending state so a customer may have
/// several consents open at once. `__Host-`: Secure, no Domain, Path=/.
pub fn browser_cookie_name(nonce: &str) -> String {
    format!("__Host-lever-connect-{nonce}")
}

impl Record for OAuthState {
    const KIND: &'static str = "oauth_state";
    fn key(&self) -> Key {
        keys::oauth_state(&self.nonce)
    }
    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
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
    #[error("Lever: {0}")]
    Lever(LeverError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<TokenError> for ConnectError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::UnknownConnection(id) => ConnectError::NotFound(id),
            TokenError::NotActive(s) => ConnectError::NotActive(s),
            TokenError::Lever(l) => ConnectError::Lever(l),
            TokenError::Store(s) => ConnectError::Store(s),
            TokenError::Unreadable(e) => ConnectError::Internal(e),
        }
    }
}

/// What `POST /v1/connections` answers.
#[derive(Debug)]
pub struct ConnectStart {
    pub connection: Connection,
    pub authorize_url: String,
}

/// Query parameters Lever sends to the callback.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What the connect link does for the customer's browser.
#[derive(Debug, PartialEq)]
pub enum ConsentStart {
    /// Set the cookie `name=value` (10 minutes), then go to Lever's consent screen.
    ToLever { lever_url: String, cookie_name: String, cookie_value: String, max_age_secs: u64 },
    /// The link is forged, used or expired: an error page, nothing changed.
    Refused(&'static str),
}

/// How the callback ends for the customer's browser.
#[derive(Debug, PartialEq)]
pub enum CallbackOutcome {
    /// Back to the partner, with `connection_id`, `status` and (on failure) `error`.
    Redirect(String),
    /// No trustworthy place to send the browser: an error page, nothing stored.
    Refused(&'static str),
    /// Refused, but the state was ours: the error page links back to the partner (this URL
    /// carries `connection_id`, `status` and `error`).
    RefusedWithReturn(&'static str, String),
}

#[derive(Clone)]
pub struct Connections {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    partners: Partners,
    oauth: Arc<dyn LeverOAuth>,
    lever: Arc<dyn LeverApi>,
    cipher: Arc<TokenCipher>,
    signer: Arc<StateSigner>,
    tokens: Tokens,
    status: StatusChanges,
    activity: ActivityLog,
    consent: ConsentConfig,
}

impl Connections {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        records: Records,
        catalog: Arc<ProfileCatalog>,
        oauth: Arc<dyn LeverOAuth>,
        lever: Arc<dyn LeverApi>,
        cipher: Arc<TokenCipher>,
        signer: Arc<StateSigner>,
        tokens: Tokens,
        status: StatusChanges,
        activity: ActivityLog,
        consent: ConsentConfig,
    ) -> Self {
        let partners = Partners::new(records.clone());
        Self { records, catalog, partners, oauth, lever, cipher, signer, tokens, status, activity, consent }
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    fn profile(&self, partner: &Partner) -> Result<Arc<Profile>, ConnectError> {
        self.catalog.get(&partner.profile_id).cloned().ok_or_else(|| ConnectError::UnknownProfile(partner.profile_id.clone()))
    }

    async fn partner(&self, partner_id: &str) -> Result<Partner, ConnectError> {
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

    /// Starts a connection: stores it as pending and returns Lever's consent URL.
    pub async fn start(&self, partner_id: &str, return_url: &str, settings: ConnectionSettings) -> Result<ConnectStart, ConnectError> {
        let partner = self.partner(partner_id).await?;
        let profile = self.profile(&partner)?;
        check_allowed(return_url, &partner.return_urls).map_err(|e| ConnectError::ReturnUrl(e.to_string()))?;
        let issues: Vec<_> = settings.validate(&profile).into_iter().filter(|i| !is_missing_required(i)).collect();
        if !issues.is_empty() {
            return Err(ConnectError::InvalidSettings(issues));
        }
        let now = self.records.clock().now_ms();
        let mut connection = Connection::new(uuid::Uuid::new_v4().to_string(), partner_id, now);
        connection.settings = settings;
        let pointer = PartnerConnection { partner_id: partner_id.into(), connection_id: connection.id.clone() };
        self.records.transact(vec![Records::put_write(&connection, Expect::Absent)?, Records::put_write(&pointer, Expect::Absent)?]).await?;
        let authorize_url = self.consent_url(&connection, return_url).await?;
        self.activity.note(&connection.id, "connect.started", true, "waiting for the customer's consent in Lever").await;
        Ok(ConnectStart { connection, authorize_url })
    }

    /// A new consent for an existing connection (same id), e.g. after a revoke in Lever.
    pub async fn reconnect(&self, partner_id: &str, connection_id: &str, return_url: &str) -> Result<String, ConnectError> {
        let connection = self.get(partner_id, connection_id).await?;
        let partner = self.partner(partner_id).await?;
        self.profile(&partner)?;
        check_allowed(return_url, &partner.return_urls).map_err(|e| ConnectError::ReturnUrl(e.to_string()))?;
        let url = self.consent_url(&connection, return_url).await?;
        self.activity.note(connection_id, "connect.restarted", true, "waiting for the customer's consent in Lever").await;
        Ok(url)
    }

    /// Stores a pending state and returns the hub's connect link for it (not Lever's URL: the
    /// browser must pass through the hub first to be bound to the state).
    async fn consent_url(&self, c: &Connection, return_url: &str) -> Result<String, ConnectError> {
        let (state, nonce) = self.signer.issue();
        let record = OAuthState {
            nonce,
            connection_id: c.id.clone(),
            partner_id: c.partner_id.clone(),
            return_url: return_url.to_owned(),
            expires_at_ms: self.records.clock().now_ms() + STATE_LIFETIME.as_millis() as i64,
            browser_hash: None,
        };
        self.records.create(&record).await?;
        self.consent.urls.connect(&state).map_err(url_unknown)
    }

    /// The connect link opened in the customer's browser: binds this browser to the state (the
    /// latest browser to open it wins) and answers where Lever's consent screen is.
    pub async fn open_consent(&self, state: &str) -> Result<ConsentStart, ConnectError> {
        let Some(nonce) = self.signer.verify(state) else {
            return Ok(ConsentStart::Refused("This connect link is not valid. Start connecting again from the partner's app."));
        };
        let (cookie_value, hash) = crate::core::oauth_state::new_browser_binding();
        let now = self.records.clock().now_ms();
        let bound = self
            .records
            .update::<OAuthState>(&keys::oauth_state(nonce), |s| {
                s.browser_hash = Some(hash.clone());
                true
            })
            .await?;
        let Some(bound) = bound else {
            return Ok(ConsentStart::Refused("This connect link was already used or has expired. Start connecting again from the partner's app."));
        };
        let partner = self.partner(&bound.record.partner_id).await?;
        let profile = self.profile(&partner)?;
        let challenge = self.consent.pkce.then(|| crate::core::oauth_state::pkce_challenge(&self.signer.pkce_verifier(nonce)));
        let lever_url =
            self.oauth.authorize_url(&self.consent.urls.oauth_callback().map_err(url_unknown)?, state, &profile.oauth.scopes, challenge.as_deref());
        Ok(ConsentStart::ToLever {
            lever_url: lever_url.to_string(),
            cookie_name: browser_cookie_name(nonce),
            cookie_value,
            max_age_secs: u64::try_from((bound.record.expires_at_ms - now).max(0) / 1000).unwrap_or(0),
        })
    }

    /// The OAuth callback. Forged, reused or expired states, and callbacks from a browser other
    /// than the one that opened the connect link, are refused before anything is exchanged or
    /// stored. `browser_cookie` reads the request's cookie of the given name.
    pub async fn complete(
        &self,
        params: CallbackParams,
        browser_cookie: impl Fn(&str) -> Option<String> + Send,
    ) -> Result<CallbackOutcome, ConnectError> {
        let Some(nonce) = params.state.as_deref().and_then(|s| self.signer.verify(s)) else {
            tracing::warn!("OAuth callback with a forged or malformed state refused");
            return Ok(CallbackOutcome::Refused("This sign-in link is not valid. Start connecting again from the partner's app."));
        };
        let Some((state, live)) = self.records.take_with_liveness::<OAuthState>(&keys::oauth_state(nonce)).await? else {
            tracing::warn!("OAuth callback with a used or expired state refused");
            return Ok(CallbackOutcome::Refused("This sign-in link was already used or has expired. Start connecting again from the partner's app."));
        };
        crate::telemetry::record_partner(&state.partner_id);
        crate::telemetry::record_connection(&state.connection_id);
        // The browser binding comes first: a foreign browser learns nothing, not even where to go back.
        let bound = state
            .browser_hash
            .as_deref()
            .is_some_and(|hash| crate::core::oauth_state::browser_binding_matches(hash, browser_cookie(&browser_cookie_name(nonce)).as_deref()));
        if !bound {
            tracing::warn!(connection_id = %state.connection_id, "OAuth callback from a browser that did not open the connect link refused");
            self.activity
                .note(&state.connection_id, "connect.refused", false, "the consent came back to a different browser than the one that started it")
                .await;
            return Ok(CallbackOutcome::Refused(
                "This sign-in was finished in a different browser from the one that started it. Start connecting again from the partner's app.",
            ));
        }
        let return_to = |status: &str, error: Option<&str>| {
            // Checked against the partner's registered URLs when the state was stored.
            let mut url = url::Url::parse(&state.return_url).ok()?;
            url.query_pairs_mut().append_pair("connection_id", &state.connection_id).append_pair("status", status);
            if let Some(e) = error {
                url.query_pairs_mut().append_pair("error", e);
            }
            Some(url.to_string())
        };
        let back = |status: &str, error: Option<&str>| match return_to(status, error) {
            Some(url) => CallbackOutcome::Redirect(url),
            None => CallbackOutcome::Refused("The partner's return address is not usable. Start connecting again from the partner's app."),
        };
        let refused_back = |message: &'static str, status: &str, error: &str| match return_to(status, Some(error)) {
            Some(url) => CallbackOutcome::RefusedWithReturn(message, url),
            None => CallbackOutcome::Refused(message),
        };
        if !live {
            tracing::warn!("OAuth callback with an expired state refused");
            return Ok(refused_back("This sign-in link has expired. Start connecting again from the partner's app.", "pending", "state_expired"));
        }
        let current = self.records.get::<Connection>(&keys::connection(&state.connection_id)).await?;
        let Some(current) = current.filter(|c| c.record.partner_id == state.partner_id) else {
            return Ok(refused_back("The connection no longer exists.", "disconnected", "connection_gone"));
        };
        let current_status = super::status::status_name(current.record.status);
        if let Some(error) = params.error.as_deref() {
            let error = if error == "access_denied" { "access_denied" } else { "lever_error" };
            self.activity.note(&state.connection_id, "connect.denied", false, "the customer did not accept in Lever").await;
            return Ok(back(current_status, Some(error)));
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(back(current_status, Some("missing_code")));
        };
        match self.activate(&state, code).await {
            Ok(()) => Ok(back("active", None)),
            Err(e) => {
                tracing::warn!(connection_id = %state.connection_id, error = %e, "connect failed after consent");
                self.activity.note(&state.connection_id, "connect.failed", false, e.to_string()).await;
                Ok(back(current_status, Some("connect_failed")))
            }
        }
    }

    async fn activate(&self, state: &OAuthState, code: &str) -> Result<(), ConnectError> {
        let verifier = self.consent.pkce.then(|| self.signer.pkce_verifier(&state.nonce));
        let set = self
            .oauth
            .exchange_code(code, &self.consent.urls.oauth_callback().map_err(url_unknown)?, verifier.as_deref())
            .await
            .map_err(ConnectError::Lever)?;
        let refresh =
            set.refresh_token.clone().ok_or_else(|| ConnectError::Internal("Lever granted no refresh token (offline_access missing)".into()))?;
        let now = self.records.clock().now_ms();
        let connection_id = state.connection_id.clone();
        let sealed = self.tokens.seal(&connection_id, &set, &refresh, now);
        let account = account_from_token(set.access_token.expose(), set.scopes().map(str::to_owned).collect());
        let auth = LeverAuth::bearer(connection_id.clone(), set.access_token.clone());

        let partner = self.partner(&state.partner_id).await?;
        let profile = self.profile(&partner)?;
        let hooks = self.replace_lever_webhooks(&auth, &connection_id, &profile).await?;
        // Lever may have redirected those calls to the account's data centre: remember where. (A
        // consent starts from the configured root, not a remembered one: the account consenting
        // now need not be the one connected before.)
        let account = LeverAccount { api_base: auth.learned_base().map(String::from), ..account };

        self.status
            .apply(&connection_id, None, |c| {
                c.status = ConnectionStatus::Active;
                c.tokens = Some(sealed.clone());
                c.lever = Some(account.clone());
                // Jobs due at once (the first sync runs right after consent), daily runs at their time.
                c.schedules = first_runs(&profile, &c.settings, &c.id, now);
                c.webhooks.events = hooks.clone();
                c.webhooks.registered_at_ms = Some(now);
                c.flow_health.entry("tokens".into()).or_default().succeeded(now);
            })
            .await?;
        self.activity.note(&connection_id, "connect.completed", true, "connected to Lever").await;
        self.check_settings_after_consent(&connection_id).await;
        Ok(())
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
        let lever = self.lever.clone();
        Ok(self
            .tokens
            .call(connection_id, move |auth| {
                let (lever, fetch) = (lever.clone(), fetch.clone());
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

fn url_unknown(e: super::public_urls::NoPublicUrl) -> ConnectError {
    ConnectError::Internal(e.to_string())
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
