//! Partners and their API keys.
//!
//! A partner is registered from its profile (the partner id is the profile id). API keys are
//! shown once when issued and stored only as their SHA-256, so a leaked table does not leak
//! keys; a partner may hold several keys at once, which is how keys are rotated without
//! downtime (issue the new one, switch, revoke the old one).

use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::return_url::{ReturnUrlError, check_registrable};
use crate::secrets::SecretString;
use crate::store::{Expect, Key, Record, Records, StoreError, Write, keys};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub id: String,
    pub profile_id: String,
    /// Where the customer's browser may be sent back to after connecting.
    pub return_urls: Vec<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Record for Partner {
    const KIND: &'static str = "partner";
    fn key(&self) -> Key {
        keys::partner(&self.id)
    }
}

/// Entry in the list of all partners (for schedules that visit every partner's connections).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartnerListEntry {
    pub partner_id: String,
}

impl Record for PartnerListEntry {
    const KIND: &'static str = "partner_list_entry";
    fn key(&self) -> Key {
        keys::partner_list_entry(&self.partner_id)
    }
}

/// An API key, found by the hash of the key the partner presents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub hash: String,
    pub key_id: String,
    pub partner_id: String,
    pub label: Option<String>,
    pub created_at_ms: i64,
}

impl Record for ApiKey {
    const KIND: &'static str = "api_key";
    fn key(&self) -> Key {
        keys::api_key(&self.hash)
    }
}

/// The same key, listed under its partner (for listing and revoking by key id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartnerApiKey {
    pub partner_id: String,
    pub key_id: String,
    pub hash: String,
    pub label: Option<String>,
    pub created_at_ms: i64,
}

impl Record for PartnerApiKey {
    const KIND: &'static str = "partner_api_key";
    fn key(&self) -> Key {
        keys::partner_api_key(&self.partner_id, &self.key_id)
    }
}

/// A freshly issued key: the only time the secret is visible.
/// Live API keys a partner may hold at once: enough to rotate and to give each service its own,
/// few enough that a leaked key cannot mint keys without end.
pub const MAX_API_KEYS_PER_PARTNER: usize = 10;

#[derive(Debug)]
pub struct IssuedKey {
    pub key_id: String,
    pub secret: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("no partner {0}")]
    UnknownPartner(String),
    #[error("a partner has at most {MAX_API_KEYS_PER_PARTNER} API keys; revoke one first")]
    TooManyKeys,
    #[error("return URL {url}: {why}")]
    BadReturnUrl { url: String, why: ReturnUrlError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How [`Partners::revoke_own_key`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnKeyRevocation {
    Revoked,
    NotFound,
    /// Refused: it is the partner's only key.
    LastKey,
}

const KEY_PREFIX: &str = "lhk_";

fn hash_key(presented: &str) -> String {
    hex::encode(Sha256::digest(presented.as_bytes()))
}

#[derive(Clone)]
pub struct Partners {
    records: Records,
}

impl Partners {
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// Registers the partner of `profile_id`, or updates its return URLs if it exists.
    pub async fn register(&self, profile_id: &str, return_urls: Vec<String>) -> Result<Partner, PartnerError> {
        for url in &return_urls {
            check_registrable(url).map_err(|why| PartnerError::BadReturnUrl { url: url.clone(), why })?;
        }
        let now = self.records.clock().now_ms();
        if let Some(updated) = self
            .records
            .update::<Partner>(&keys::partner(profile_id), |p| {
                p.return_urls = return_urls.clone();
                p.updated_at_ms = now;
                true
            })
            .await?
        {
            return Ok(updated.record);
        }
        let partner = Partner { id: profile_id.to_owned(), profile_id: profile_id.to_owned(), return_urls, created_at_ms: now, updated_at_ms: now };
        let list = PartnerListEntry { partner_id: partner.id.clone() };
        self.records.transact(vec![Records::put_write(&partner, Expect::Absent)?, Records::put_write(&list, Expect::Any)?]).await?;
        Ok(partner)
    }

    pub async fn get(&self, partner_id: &str) -> Result<Option<Partner>, PartnerError> {
        Ok(self.records.get::<Partner>(&keys::partner(partner_id)).await?.map(|v| v.record))
    }

    /// Every registered partner id.
    pub async fn all_ids(&self) -> Result<Vec<String>, PartnerError> {
        let entries = self.records.query_all::<PartnerListEntry>(keys::PARTNER_LIST_PK, "").await?;
        Ok(entries.into_iter().map(|e| e.partner_id).collect())
    }

    pub async fn issue_key(&self, partner_id: &str, label: Option<String>) -> Result<IssuedKey, PartnerError> {
        if self.get(partner_id).await?.is_none() {
            return Err(PartnerError::UnknownPartner(partner_id.to_owned()));
        }
        if self.list_keys(partner_id).await?.len() >= MAX_API_KEYS_PER_PARTNER {
            return Err(PartnerError::TooManyKeys);
        }
        let mut id_bytes = [0u8; 6];
        let mut secret_bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut id_bytes);
        rand::rng().fill_bytes(&mut secret_bytes);
        let key_id = hex::encode(id_bytes);
        let secret = SecretString::new(format!("{KEY_PREFIX}{key_id}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes)));
        let hash = hash_key(secret.expose());
        let now = self.records.clock().now_ms();
        let key = ApiKey { hash: hash.clone(), key_id: key_id.clone(), partner_id: partner_id.into(), label: label.clone(), created_at_ms: now };
        let listed = PartnerApiKey { partner_id: partner_id.into(), key_id: key_id.clone(), hash, label, created_at_ms: now };
        self.records.transact(vec![Records::put_write(&key, Expect::Absent)?, Records::put_write(&listed, Expect::Absent)?]).await?;
        Ok(IssuedKey { key_id, secret })
    }

    pub async fn list_keys(&self, partner_id: &str) -> Result<Vec<PartnerApiKey>, PartnerError> {
        Ok(self.records.query_all(&keys::partner(partner_id).pk, keys::PARTNER_API_KEY_PREFIX).await?)
    }

    /// Revokes a key at once; `false` if the partner has no such key.
    pub async fn revoke_key(&self, partner_id: &str, key_id: &str) -> Result<bool, PartnerError> {
        let Some(listed) = self.records.get::<PartnerApiKey>(&keys::partner_api_key(partner_id, key_id)).await? else {
            return Ok(false);
        };
        let writes = vec![
            Write::Delete { key: keys::api_key(&listed.record.hash), expect: Expect::Any },
            Write::Delete { key: listed.record.key(), expect: Expect::Exists },
        ];
        match self.records.transact(writes).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes a key at the partner's own request, which never takes its last key: the partner
    /// would lock itself out. Race-free: the revoking transaction also checks that another key
    /// still exists, so of two concurrent revocations of a partner's last two keys one fails.
    /// (Operators revoke any key with [`Partners::revoke_key`], e.g. after a leak.)
    pub async fn revoke_own_key(&self, partner_id: &str, key_id: &str) -> Result<OwnKeyRevocation, PartnerError> {
        for _ in 0..8 {
            let Some(listed) = self.records.get::<PartnerApiKey>(&keys::partner_api_key(partner_id, key_id)).await? else {
                return Ok(OwnKeyRevocation::NotFound);
            };
            let keys = self.list_keys(partner_id).await?;
            let Some(other) = keys.iter().find(|k| k.key_id != key_id) else {
                return Ok(OwnKeyRevocation::LastKey);
            };
            let writes = vec![
                Write::Delete { key: keys::api_key(&listed.record.hash), expect: Expect::Any },
                Write::Delete { key: listed.record.key(), expect: Expect::Exists },
                Write::Check { key: other.key(), expect: Expect::Exists },
            ];
            match self.records.transact(writes).await {
                Ok(()) => return Ok(OwnKeyRevocation::Revoked),
                Err(StoreError::TransactionConditionFailed { index: 1 }) => return Ok(OwnKeyRevocation::NotFound),
                // The other key went meanwhile (or a writer raced us): look again.
                Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// The partner a presented key belongs to, if it is a live key.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<String>, PartnerError> {
        // Cheap shape check first: no store read for obviously wrong keys.
        if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
            return Ok(None);
        }
        // Looked up by hash, so no stored secret is ever compared byte by byte.
        let found = self.records.get::<ApiKey>(&keys::api_key(&hash_key(presented))).await?;
        Ok(found.map(|k| k.record.partner_id))
    }
}
