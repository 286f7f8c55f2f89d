//! One Lever call with a connection's token, as every flow makes it. The token is read from the
//! store for the call, or — for a flow that makes many calls in a row, with
//! [`LeverCalls::reusing_tokens`] — kept in this process for a minute; a 401 forgets it and
//! goes through `Tokens::call`, which refreshes once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::tokens::{TokenError, Tokens};
use crate::core::connection::Connection;
use crate::lever::error::{LeverError, LeverResult};
use crate::lever::port::{LeverApi, LeverAuth};

/// How long a reused access token is kept without reading the store.
const REUSE_FOR: Duration = Duration::from_secs(60);

/// Tokens kept past this many connections are all forgotten (a bound, not a cache policy).
const MAX_KEPT: usize = 10_000;

#[derive(Clone)]
pub struct LeverCalls {
    lever: Arc<dyn LeverApi>,
    tokens: Tokens,
    kept: Option<Arc<Mutex<HashMap<String, (LeverAuth, Instant)>>>>,
}

impl LeverCalls {
    /// Each call reads the token.
    pub fn new(lever: Arc<dyn LeverApi>, tokens: Tokens) -> Self {
        Self { lever, tokens, kept: None }
    }

    /// Tokens kept for a minute: a submission makes several calls, and reading the token from
    /// the store for each would double the store's work.
    pub fn reusing_tokens(lever: Arc<dyn LeverApi>, tokens: Tokens) -> Self {
        Self { lever, tokens, kept: Some(Default::default()) }
    }

    /// Keeps the token of a connection the caller has just read (when it is usable as it is),
    /// so that the calls that follow read nothing. Only for [`LeverCalls::reusing_tokens`].
    pub fn keep(&self, connection: &Connection) {
        let Some(kept) = &self.kept else { return };
        let Some(auth) = self.tokens.auth_from(connection) else { return };
        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() > MAX_KEPT {
            kept.clear();
        }
        kept.insert(connection.id.clone(), (auth, Instant::now()));
    }

    pub async fn call<T, F, Fut>(&self, connection_id: &str, op: F) -> Result<T, TokenError>
    where
        T: Send,
        F: Fn(Arc<dyn LeverApi>, LeverAuth) -> Fut + Send + Sync,
        Fut: Future<Output = LeverResult<T>> + Send,
    {
        let lever = self.lever.clone();
        let Some(kept) = &self.kept else {
            return self.tokens.call(connection_id, |auth| op(lever.clone(), auth)).await;
        };
        let known = {
            let kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            kept.get(connection_id).filter(|(_, at)| at.elapsed() < REUSE_FOR).map(|(a, _)| a.clone())
        };
        let auth = match known {
            Some(a) => a,
            None => {
                let a = self.tokens.auth(connection_id).await?;
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() > MAX_KEPT {
                    kept.clear();
                }
                kept.insert(connection_id.to_owned(), (a.clone(), Instant::now()));
                a
            }
        };
        let outcome = op(lever.clone(), auth.clone()).await;
        self.tokens.remember_base(&auth).await;
        match outcome {
            Err(LeverError::Unauthorized { .. }) => {
                kept.lock().unwrap_or_else(|e| e.into_inner()).remove(connection_id);
                self.tokens.call(connection_id, |auth| op(lever.clone(), auth)).await
            }
            other => other.map_err(TokenError::from),
        }
    }
}
