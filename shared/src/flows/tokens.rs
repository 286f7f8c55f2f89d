//! Lever access tokens in use.
//!
//! An access token is reused until shortly before it expires. Refreshing rotates the refresh
//! token (the old one may die at once), so across every concurrent Lambda exactly one refresh
//! per connection may run: it happens under a lease in the store, and the others wait and
//! re-read the connection. The new tokens are stored with a compare-and-set.
//! A refused refresh (`invalid_grant`) or a 401 that a fresh token does not cure means the
//! customer revoked the app: the connection moves to `needs_reconnect` and no further Lever
//! call is made for it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::activity::ActivityLog;
use super::status::StatusChanges;
use crate::core::connection::{Connection, ConnectionStatus, SealedTokens, TokenKind, token_context};
use crate::lever::environments::LeverEnvironments;
use crate::lever::error::LeverError;
use crate::lever::oauth::TokenSet;
use crate::lever::port::LeverAuth;
use crate::lever::secret::{AccessToken, RefreshToken};
use crate::secrets::TokenCipher;
use crate::store::{Leases, Records, StoreError, Versioned, keys};

#[derive(Clone, Debug)]
pub struct TokenPolicy {
    /// Refresh this long before the access token expires.
    pub refresh_margin: Duration,
    /// How long one refresh may hold the lease.
    pub lease_ttl: Duration,
    /// A waiting caller first re-reads the connection after this, then twice as long each time
    /// (up to 16×): quick when the refresh is quick, few reads when Lever is slow.
    pub wait_step: Duration,
    /// Refresh tokens die after 90 idle days; refresh anything idle longer than this.
    pub keep_alive_after: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            lease_ttl: Duration::from_secs(20),
            wait_step: Duration::from_millis(20),
            keep_alive_after: Duration::from_secs(20 * 3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no connection {0}")]
    UnknownConnection(String),
    #[error("connection is {0}; the customer must reconnect")]
    NotActive(&'static str),
    #[error("Lever: {0}")]
    Lever(#[from] LeverError),
    #[error("stored token unreadable: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Tokens {
    records: Records,
    lever: LeverEnvironments,
    cipher: Arc<TokenCipher>,
    leases: Leases,
    status: StatusChanges,
    activity: ActivityLog,
    policy: TokenPolicy,
}

impl Tokens {
    /// The cipher tokens are sealed with, for the flows' other short-lived secrets.
    pub(crate) fn cipher(&self) -> &TokenCipher {
        &self.cipher
    }

    pub fn new(
        records: Records,
        lever: LeverEnvironments,
        cipher: Arc<TokenCipher>,
        status: StatusChanges,
        activity: ActivityLog,
        policy: TokenPolicy,
    ) -> Self {
        let leases = Leases::new(records.clone());
        Self { records, lever, cipher, leases, status, activity, policy }
    }

    /// Seals a token set for `connection_id`.
    pub fn seal(&self, connection_id: &str, set: &TokenSet, refresh: &RefreshToken, now_ms: i64) -> SealedTokens {
        SealedTokens {
            access_token: self.cipher.seal(set.access_token.expose(), &token_context(connection_id, TokenKind::Access)),
            refresh_token: self.cipher.seal(refresh.expose(), &token_context(connection_id, TokenKind::Refresh)),
            access_expires_at_ms: set.expires_at_ms(now_ms),
            refreshed_at_ms: now_ms,
        }
    }

    fn open(&self, c: &Connection, kind: TokenKind) -> Result<String, TokenError> {
        let tokens = c.tokens.as_ref().ok_or(TokenError::NotActive("without tokens"))?;
        let sealed = match kind {
            TokenKind::Access => &tokens.access_token,
            TokenKind::Refresh => &tokens.refresh_token,
        };
        self.cipher.open(sealed, &token_context(&c.id, kind)).map(|s| s.expose().to_owned()).map_err(|e| TokenError::Unreadable(e.to_string()))
    }

    async fn load(&self, connection_id: &str) -> Result<Versioned<Connection>, TokenError> {
        let c = self
            .records
            .get::<Connection>(&keys::connection(connection_id))
            .await?
            .ok_or_else(|| TokenError::UnknownConnection(connection_id.to_owned()))?;
        if c.record.status != ConnectionStatus::Active {
            return Err(TokenError::NotActive(super::status::status_name(c.record.status)));
        }
        Ok(c)
    }

    fn fresh_enough(&self, c: &Connection, now_ms: i64) -> bool {
        let margin = self.policy.refresh_margin.as_millis() as i64;
        c.tokens.as_ref().is_some_and(|t| t.access_expires_at_ms - margin > now_ms)
    }

    /// Credentials for one Lever call on behalf of the connection.
    pub async fn auth(&self, connection_id: &str) -> Result<LeverAuth, TokenError> {
        let c = self.load(connection_id).await?;
        self.auth_of(&c.record).await
    }

    /// Credentials from a connection just read: its access token, or a refreshed one.
    async fn auth_of(&self, c: &Connection) -> Result<LeverAuth, TokenError> {
        if self.fresh_enough(c, self.records.clock().now_ms()) {
            return self.bearer(c);
        }
        let refreshed = self.refresh(&c.id, c.tokens.as_ref().map(|t| t.refreshed_at_ms)).await?;
        self.bearer(&refreshed)
    }

    /// Credentials from a connection the caller has just read, without a store read: `None`
    /// when it is not active or its access token is due for a refresh (then read and refresh).
    pub fn auth_from(&self, c: &Connection) -> Option<LeverAuth> {
        let usable = c.status == ConnectionStatus::Active && self.fresh_enough(c, self.records.clock().now_ms());
        usable.then(|| self.bearer(c).ok()).flatten()
    }

    fn bearer(&self, c: &Connection) -> Result<LeverAuth, TokenError> {
        // The account's own API root, when an earlier redirect taught it (the client checks it
        // is one of Lever's hosts before sending the token there).
        let base = c.lever.as_ref().and_then(|l| l.api_base.as_deref()).and_then(|b| url::Url::parse(b).ok());
        Ok(LeverAuth::bearer(c.id.clone(), AccessToken::new(self.open(c, TokenKind::Access)?)).in_environment(c.environment).at(base))
    }

    /// Keeps on the connection the Data API root Lever redirected `auth`'s calls to (an account
    /// in Lever's EU data centre), so later calls go straight there. Best effort: a lost write
    /// only costs the next call a redirect.
    pub async fn remember_base(&self, auth: &LeverAuth) {
        let Some(base) = auth.learned_base().map(String::from) else { return };
        if auth.api_base.as_ref().map(url::Url::as_str) == Some(base.as_str()) {
            return;
        }
        let connection_id = auth.connection.as_str();
        let kept = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| match c.lever.as_mut() {
                Some(lever) if lever.api_base.as_deref() != Some(base.as_str()) => {
                    lever.api_base = Some(base.clone());
                    true
                }
                _ => false,
            })
            .await;
        match kept {
            Ok(_) => tracing::info!(connection_id, "the account's Lever API root remembered"),
            Err(e) => tracing::warn!(connection_id, error = %e, "the account's Lever API root not remembered"),
        }
    }

    /// Refreshes unless someone else already did since `seen_refreshed_at_ms`; returns the
    /// connection with tokens newer than that.
    pub async fn refresh(&self, connection_id: &str, seen_refreshed_at_ms: Option<i64>) -> Result<Connection, TokenError> {
        let lease_name = format!("refresh/{connection_id}");
        let holder = uuid::Uuid::new_v4().to_string();
        // Waiting is measured in real time (the injected clock is for expiries, and may stand still).
        let deadline = tokio::time::Instant::now() + 3 * self.policy.lease_ttl;
        let mut step = self.policy.wait_step;
        loop {
            let c = self.load(connection_id).await?;
            let newer = c.record.tokens.as_ref().map(|t| t.refreshed_at_ms) > seen_refreshed_at_ms;
            if newer {
                return Ok(c.record);
            }
            if let Some(held) = self.leases.acquire(&lease_name, &holder, self.policy.lease_ttl).await? {
                let outcome = self.refresh_holding_lease(connection_id, seen_refreshed_at_ms).await;
                if let Err(e) = self.leases.release(held).await {
                    tracing::warn!(connection_id, error = %e, "refresh lease not released; it expires by itself");
                }
                return outcome;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(TokenError::Store(StoreError::Unavailable("token refresh did not finish in time".into())));
            }
            // Up to half a step of jitter, so fifty waiters do not re-read in lockstep.
            let jitter = step.mul_f64(rand::random::<f64>() / 2.0);
            tokio::time::sleep(step + jitter).await;
            step = (step * 2).min(self.policy.wait_step * 16);
        }
    }

    async fn refresh_holding_lease(&self, connection_id: &str, seen: Option<i64>) -> Result<Connection, TokenError> {
        // Re-read under the lease: the previous holder may have refreshed just before we got it.
        let c = self.load(connection_id).await?;
        if c.record.tokens.as_ref().map(|t| t.refreshed_at_ms) > seen {
            return Ok(c.record);
        }
        let refresh_token = RefreshToken::new(self.open(&c.record, TokenKind::Refresh)?);
        // Each environment has its own OAuth app: the refresh goes to the connection's.
        let set = match self.lever.get(c.record.environment).oauth.refresh(&refresh_token).await {
            Ok(set) => set,
            Err(LeverError::Revoked { .. }) => {
                self.status.needs_reconnect(connection_id, "Lever refused the refresh token (app revoked or idle too long)").await?;
                return Err(TokenError::NotActive("needs_reconnect"));
            }
            Err(e) => {
                self.activity.note(connection_id, "token.refresh_failed", false, e.to_string()).await;
                self.note_failure(connection_id, &format!("refresh failed: {e}")).await;
                return Err(e.into());
            }
        };
        let now = self.records.clock().now_ms();
        // Lever rotates the refresh token; keep the old one only if none came back.
        let next_refresh = set.refresh_token.clone().unwrap_or(refresh_token);
        let sealed = self.seal(connection_id, &set, &next_refresh, now);
        let stored = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| {
                c.tokens = Some(sealed.clone());
                c.flow_health.entry("tokens".into()).or_default().succeeded(now);
                c.updated_at_ms = now;
                true
            })
            .await?
            .ok_or_else(|| TokenError::UnknownConnection(connection_id.to_owned()))?;
        tracing::info!(connection_id, "Lever tokens refreshed");
        self.activity.note(connection_id, "token.refreshed", true, "access token refreshed").await;
        Ok(stored.record)
    }

    /// Records a failed refresh in the connection's `tokens` flow health. Best effort: the
    /// refresh error itself is what the caller gets.
    async fn note_failure(&self, connection_id: &str, error: &str) {
        let now = self.records.clock().now_ms();
        let noted = self
            .records
            .update::<Connection>(&keys::connection(connection_id), |c| {
                c.flow_health.entry("tokens".into()).or_default().failed(now, error);
                true
            })
            .await;
        if let Err(e) = noted {
            tracing::warn!(connection_id, error = %e, "token failure not recorded");
        }
    }

    /// Runs one Lever call with the connection's token. A 401 gets one forced refresh and one
    /// retry; if Lever still refuses, the connection needs reconnecting.
    pub async fn call<T, F, Fut>(&self, connection_id: &str, op: F) -> Result<T, TokenError>
    where
        F: Fn(LeverAuth) -> Fut + Send,
        Fut: Future<Output = Result<T, LeverError>> + Send,
    {
        // One read of the connection: its status, its tokens, and what a refresh compares with.
        let c = self.load(connection_id).await?;
        let seen = c.record.tokens.as_ref().map(|t| t.refreshed_at_ms);
        let auth = self.auth_of(&c.record).await?;
        let first = op(auth.clone()).await;
        self.remember_base(&auth).await;
        match first {
            Err(LeverError::Unauthorized { .. }) => {}
            other => return other.map_err(Into::into),
        }
        let refreshed = self.refresh(connection_id, seen).await?;
        let auth = self.bearer(&refreshed)?;
        let second = op(auth.clone()).await;
        self.remember_base(&auth).await;
        match second {
            Err(LeverError::Unauthorized { message }) => {
                self.status.needs_reconnect(connection_id, "Lever refused a fresh access token (401)").await?;
                Err(LeverError::Unauthorized { message }.into())
            }
            other => other.map_err(Into::into),
        }
    }

    /// Refreshes the connection if its tokens have been idle longer than the keep-alive age
    /// (refresh tokens die after 90 idle days). Returns whether it refreshed.
    pub async fn keep_alive(&self, connection_id: &str) -> Result<bool, TokenError> {
        let c = self.load(connection_id).await?;
        let idle_since = c.record.tokens.as_ref().map(|t| t.refreshed_at_ms).unwrap_or(0);
        let now = self.records.clock().now_ms();
        if now - idle_since < self.policy.keep_alive_after.as_millis() as i64 {
            return Ok(false);
        }
        self.refresh(connection_id, Some(idle_since)).await?;
        Ok(true)
    }
}
