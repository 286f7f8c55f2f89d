//! One flow context: what every flow does before and while it works on a connection — load the
//! connection, check it is active and its partner's profile is loaded, and call Lever with its
//! token — and one vocabulary for what can go wrong there ([`ContextError`]). A flow states once
//! what that trouble means to it (`impl From<ContextError>` beside its error type) instead of
//! repeating the preamble and a conversion per port.

use std::future::Future;
use std::sync::Arc;

use super::lever_calls::LeverCalls;
use super::ready::{NotReady, active_profile};
use super::tokens::TokenError;
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::profile::Profile;
use crate::lever::error::{LeverError, LeverResult};
use crate::lever::port::{LeverApi, LeverAuth};
use crate::store::{Records, StoreError, keys};

/// Why a flow cannot work on a connection now, or why its Lever call failed.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("no connection {0}")]
    UnknownConnection(String),
    /// Its status, as the API names it.
    #[error("the connection is {0}")]
    NotActive(&'static str),
    /// No profile is loaded for this partner id.
    #[error("no profile is loaded for partner {0}")]
    NoProfile(String),
    #[error("Lever: {0}")]
    Lever(LeverError),
    #[error("stored token unreadable: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TokenError> for ContextError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::UnknownConnection(id) => Self::UnknownConnection(id),
            TokenError::NotActive(status) => Self::NotActive(status),
            TokenError::Lever(e) => Self::Lever(e),
            TokenError::Unreadable(e) => Self::Unreadable(e),
            TokenError::Store(e) => Self::Store(e),
        }
    }
}

impl From<NotReady> for ContextError {
    fn from(e: NotReady) -> Self {
        match e {
            NotReady::NotActive(status) => Self::NotActive(status),
            NotReady::NoProfile(partner) => Self::NoProfile(partner),
        }
    }
}

/// An active connection with its partner's profile.
#[derive(Clone, Debug)]
pub struct ReadyConnection {
    pub connection: Connection,
    pub profile: Arc<Profile>,
}

/// The store, the profiles and Lever with the connection's token. Cheap to clone.
#[derive(Clone)]
pub struct FlowContext {
    records: Records,
    catalog: Arc<ProfileCatalog>,
    calls: LeverCalls,
}

impl FlowContext {
    pub fn new(records: Records, catalog: Arc<ProfileCatalog>, calls: LeverCalls) -> Self {
        Self { records, catalog, calls }
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    pub fn catalog(&self) -> &Arc<ProfileCatalog> {
        &self.catalog
    }

    /// The connection as stored.
    pub async fn connection(&self, connection_id: &str) -> Result<Connection, ContextError> {
        self.records
            .get::<Connection>(&keys::connection(connection_id))
            .await?
            .map(|v| v.record)
            .ok_or_else(|| ContextError::UnknownConnection(connection_id.to_owned()))
    }

    /// The connection, if it is active and its partner's profile is loaded.
    pub async fn ready(&self, connection_id: &str) -> Result<ReadyConnection, ContextError> {
        let connection = self.connection(connection_id).await?;
        let profile = self.profile_of(&connection)?;
        Ok(ReadyConnection { connection, profile })
    }

    /// The profile of a connection the caller holds already, if it is active.
    pub fn profile_of(&self, connection: &Connection) -> Result<Arc<Profile>, ContextError> {
        Ok(active_profile(&self.catalog, connection)?)
    }

    /// One Lever call with the connection's token (refreshed once on a 401).
    pub async fn call<T, F, Fut>(&self, connection_id: &str, op: F) -> Result<T, ContextError>
    where
        T: Send,
        F: Fn(Arc<dyn LeverApi>, LeverAuth) -> Fut + Send + Sync,
        Fut: Future<Output = LeverResult<T>> + Send,
    {
        Ok(self.calls.call(connection_id, op).await?)
    }

    /// [`FlowContext::call`] for an object that may have been deleted: `None` then.
    pub async fn find<T, F, Fut>(&self, connection_id: &str, op: F) -> Result<Option<T>, ContextError>
    where
        T: Send,
        F: Fn(Arc<dyn LeverApi>, LeverAuth) -> Fut + Send + Sync,
        Fut: Future<Output = LeverResult<T>> + Send,
    {
        unless_gone(self.call(connection_id, op).await)
    }
}

/// A Lever object that may have been deleted since it was named: `None` then.
pub fn unless_gone<T>(read: Result<T, ContextError>) -> Result<Option<T>, ContextError> {
    match read {
        Ok(found) => Ok(Some(found)),
        Err(ContextError::Lever(LeverError::NotFound { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}
