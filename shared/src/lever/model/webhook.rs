//! Webhook subscriptions (the Webhooks Subscription API).

use serde::{Deserialize, Serialize};

use crate::lever::secret::Secret;
use crate::lever::wire::{Millis, null_default};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    /// `candidateHired`, `candidateStageChange`, ...
    #[serde(default, deserialize_with = "null_default")]
    pub event: String,
    #[serde(default, deserialize_with = "null_default")]
    pub url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub configuration: WebhookConfiguration,
    pub created_at: Option<Millis>,
    pub updated_at: Option<Millis>,
}

impl Webhook {
    /// Only present in the create answer: persist it (encrypted), Lever never shows it again.
    pub fn signature_token(&self) -> Option<&Secret> {
        self.configuration.signature_token.as_ref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<WebhookConditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_token: Option<Secret>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookConditions {
    #[serde(default, deserialize_with = "null_default")]
    pub origins: Vec<String>,
}

/// Body of `POST /webhooks`. Without `configuration` Lever subscribes all six origins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewWebhook {
    pub url: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<NewWebhookConfiguration>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewWebhookConfiguration {
    pub conditions: WebhookConditions,
}
