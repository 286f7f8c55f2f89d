//! AWS Secrets Manager adapter. Values are cached per process for a short time: a warm Lambda
//! reuses them instead of paying a Secrets Manager call on every invocation, and a rotated
//! secret is picked up within the cache lifetime.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use tokio::sync::Mutex;

use super::{SecretString, Secrets, SecretsError};

pub struct SecretsManagerSecrets {
    client: Client,
    /// Prepended to every name, so one account can hold several deployments (`prod/`, `staging/`).
    prefix: String,
    ttl: Duration,
    cache: Mutex<HashMap<String, (SecretString, Instant)>>,
}

impl SecretsManagerSecrets {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self { client, prefix: prefix.into(), ttl: Duration::from_secs(300), cache: Mutex::default() }
    }

    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

#[async_trait]
impl Secrets for SecretsManagerSecrets {
    async fn get(&self, name: &str) -> Result<SecretString, SecretsError> {
        let id = format!("{}{name}", self.prefix);
        let mut cache = self.cache.lock().await;
        if let Some((value, at)) = cache.get(&id)
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let out = self.client.get_secret_value().secret_id(&id).send().await.map_err(|e| match e.code() {
            Some("ResourceNotFoundException") => SecretsError::NotFound(id.clone()),
            Some(code) => SecretsError::Unavailable(format!("{id}: {code}")),
            None => SecretsError::Unavailable(format!("{id}: {e}")),
        })?;
        let value =
            out.secret_string().map(SecretString::new).ok_or_else(|| SecretsError::Invalid { name: id.clone(), why: "no string value".into() })?;
        cache.insert(id, (value.clone(), Instant::now()));
        Ok(value)
    }

    /// One `BatchGetSecretValue` call (up to 20 names; Lambda start-up reads 1–3).
    async fn get_many(&self, names: &[&str]) -> Result<HashMap<String, SecretString>, SecretsError> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        if names.len() > 20 {
            return Err(SecretsError::Invalid { name: names.join(","), why: "at most 20 secrets per batch".into() });
        }
        let ids: Vec<String> = names.iter().map(|n| format!("{}{n}", self.prefix)).collect();
        let out = self
            .client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .send()
            .await
            .map_err(|e| SecretsError::Unavailable(format!("{}: {}", ids.join(","), e.code().unwrap_or("request failed"))))?;
        if let Some(err) = out.errors().first() {
            let id = err.secret_id().unwrap_or_default().to_owned();
            return Err(match err.error_code() {
                Some("ResourceNotFoundException") => SecretsError::NotFound(id),
                code => SecretsError::Unavailable(format!("{id}: {}", code.unwrap_or("error"))),
            });
        }
        let now = Instant::now();
        let mut found = HashMap::new();
        let mut cache = self.cache.lock().await;
        for entry in out.secret_values() {
            let (Some(id), Some(value)) = (entry.name(), entry.secret_string()) else { continue };
            let value = SecretString::new(value);
            cache.insert(id.to_owned(), (value.clone(), now));
            found.insert(id.to_owned(), value);
        }
        names
            .iter()
            .zip(&ids)
            .map(|(name, id)| found.remove(id).map(|v| ((*name).to_owned(), v)).ok_or_else(|| SecretsError::NotFound(id.clone())))
            .collect()
    }
}
