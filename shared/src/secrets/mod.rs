//! Secrets port: where keys and client secrets come from. Secrets Manager in AWS; a local file
//! or the environment for local runs. Values never print (`Debug` is redacted) and are wiped
//! from memory when dropped.

pub mod local;
pub mod secrets_manager;
pub mod token_cipher;

use async_trait::async_trait;
use zeroize::Zeroizing;

pub use local::LocalSecrets;
pub use secrets_manager::SecretsManagerSecrets;
pub use token_cipher::{Sealed, TokenCipher};

/// Names of the secrets the hub reads.
pub mod names {
    /// AES-256-GCM keys for tokens at rest: base64 of 32 bytes; several comma-separated keys
    /// form a key ring (the first seals, all open), which is how the key is rotated.
    pub const TOKEN_KEY: &str = "hub/token-key";
    /// The hub's Lever OAuth app: JSON `{"client_id": "...", "client_secret": "..."}`.
    pub const LEVER_OAUTH: &str = "hub/lever-oauth";
    /// HMAC key that signs OAuth `state` values: base64 of 32 bytes.
    pub const STATE_KEY: &str = "hub/state-key";

    /// Every secret the hub knows (tools and tests that build the whole hub read them all).
    pub const ALL: &[&str] = &[TOKEN_KEY, LEVER_OAUTH, STATE_KEY];
}

/// A secret value. Not `Display`, and `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl SecretString {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl std::fmt::Display for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// Reads a plain JSON string (token responses).
impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

/// Writes the real value: only for the hub's own encrypted storage, never for logs.
impl serde::Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("secret {0} does not exist")]
    NotFound(String),
    #[error("secret {name} is not usable: {why}")]
    Invalid { name: String, why: String },
    #[error("secrets unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Secrets: Send + Sync {
    async fn get(&self, name: &str) -> Result<SecretString, SecretsError>;

    /// Several secrets at once (one round trip where the adapter can); all or an error.
    async fn get_many(&self, names: &[&str]) -> Result<std::collections::HashMap<String, SecretString>, SecretsError> {
        let mut out = std::collections::HashMap::with_capacity(names.len());
        for name in names {
            out.insert((*name).to_owned(), self.get(name).await?);
        }
        Ok(out)
    }
}
