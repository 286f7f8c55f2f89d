//! Partner webhook endpoints: register (the signing secret is shown once), list, delete, rotate.

use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;

use super::records::{PartnerWebhook, RetiredSecret, webhook_secret_context};
use super::{DeliveryError, EventDelivery};
use crate::core::egress::{AddressClass, classify_host};
use crate::secrets::SecretString;
use crate::store::{Expect, keys};

/// An endpoint's event lists and the publish transaction stay small; a partner fans out itself.
pub const MAX_WEBHOOKS_PER_PARTNER: usize = 10;

/// Most secrets that sign one delivery at once (the current one and those still in overlap).
pub const MAX_SIGNING_SECRETS: usize = 4;

/// Longest overlap a rotation may give the secrets it retires.
pub const MAX_SECRET_OVERLAP: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

#[derive(Clone, Debug, Default)]
pub struct NewWebhook {
    pub url: String,
    /// `None` = every event type.
    pub event_types: Option<Vec<String>>,
}

/// An endpoint as the partner API shows it: everything but the secret.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookInfo {
    pub id: String,
    pub url: String,
    pub event_types: Option<Vec<String>>,
    pub created_at_ms: i64,
    pub secret_rotated_at_ms: i64,
    /// Until when deliveries are also signed with secrets that rotations replaced.
    pub previous_secrets_until_ms: Option<i64>,
}

impl WebhookInfo {
    fn of(w: &PartnerWebhook, now_ms: i64) -> Self {
        Self {
            id: w.id.clone(),
            url: w.url.clone(),
            event_types: w.event_types.clone(),
            created_at_ms: w.created_at_ms,
            secret_rotated_at_ms: w.secret_rotated_at_ms,
            previous_secrets_until_ms: w.retired_secrets_until_ms(now_ms),
        }
    }
}

/// A rotation's new secret (shown once) and until when earlier ones still sign beside it.
#[derive(Debug)]
pub struct RotatedSecret {
    pub secret: SecretString,
    pub previous_secrets_until_ms: Option<i64>,
}

/// A new endpoint and its signing secret: the only time the secret is shown.
#[derive(Debug)]
pub struct RegisteredWebhook {
    pub webhook: WebhookInfo,
    pub secret: SecretString,
}

/// An endpoint must be `https://` to a public host; `http://` only to a loopback host when the
/// policy allows it (local runs and tests). No credentials in the URL: URLs end up in operators'
/// views. Literal addresses are judged here; what a name resolves to is judged at every send
/// ([`super::egress`]).
pub fn check_webhook_url(url: &str, allow_http_loopback: bool) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("webhook URL is not a URL: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("webhook URL must not carry credentials".into());
    }
    let Some(host) = parsed.host() else { return Err("webhook URL has no host".into()) };
    let class = classify_host(&host);
    let loopback = class == AddressClass::Loopback;
    if let AddressClass::NotPublic(range) = class {
        return Err(format!("webhook URL must point at a public host, not {} ({})", range.name, range.cidr));
    }
    if loopback && !allow_http_loopback {
        return Err("webhook URL must not point at a loopback host".into());
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" if allow_http_loopback => Err("webhook URL must be https (http only to a loopback host)".into()),
        _ => Err("webhook URL must be https".into()),
    }
}

/// Event types look like `job.created`: lower-case dotted words.
pub(crate) fn check_event_type(event_type: &str) -> Result<(), String> {
    let word_ok = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if event_type.len() <= 100 && event_type.contains('.') && event_type.split('.').all(word_ok) {
        Ok(())
    } else {
        Err(format!("event type {event_type:?} is not of the form `thing.happened`"))
    }
}

fn new_secret() -> SecretString {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(&mut *bytes);
    SecretString::new(format!("whsec_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*bytes)))
}

impl EventDelivery {
    pub async fn register_webhook(&self, partner_id: &str, new: NewWebhook) -> Result<RegisteredWebhook, DeliveryError> {
        let url = check_webhook_url(&new.url, self.policy.allow_http_loopback).map_err(DeliveryError::Invalid)?;
        let event_types = match new.event_types {
            None => None,
            Some(types) if types.is_empty() => return Err(DeliveryError::Invalid("event_types is empty; omit it to receive every type".into())),
            Some(mut types) => {
                for t in &types {
                    check_event_type(t).map_err(DeliveryError::Invalid)?;
                }
                types.sort();
                types.dedup();
                Some(types)
            }
        };
        if self.webhooks(partner_id).await?.len() >= MAX_WEBHOOKS_PER_PARTNER {
            // A conflict with what the partner holds now, as the API-key cap is: removing one makes
            // the same request succeed.
            return Err(DeliveryError::Conflict(format!("a partner has at most {MAX_WEBHOOKS_PER_PARTNER} webhook endpoints; remove one first")));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let secret = new_secret();
        let now_ms = self.records.clock().now_ms();
        let webhook = PartnerWebhook {
            partner_id: partner_id.to_owned(),
            secret: self.cipher.seal(secret.expose(), &webhook_secret_context(partner_id, &id)),
            id,
            url: url.to_string(),
            event_types,
            retired_secrets: Vec::new(),
            created_at_ms: now_ms,
            secret_rotated_at_ms: now_ms,
        };
        self.records.create(&webhook).await?;
        tracing::info!(partner_id, webhook_id = %webhook.id, "webhook endpoint registered");
        Ok(RegisteredWebhook { webhook: WebhookInfo::of(&webhook, now_ms), secret })
    }

    pub async fn list_webhooks(&self, partner_id: &str) -> Result<Vec<WebhookInfo>, DeliveryError> {
        let now_ms = self.records.clock().now_ms();
        Ok(self.webhooks(partner_id).await?.iter().map(|w| WebhookInfo::of(w, now_ms)).collect())
    }

    /// `false` when there was no such endpoint. Pending deliveries to it go dead on their next attempt.
    pub async fn delete_webhook(&self, partner_id: &str, webhook_id: &str) -> Result<bool, DeliveryError> {
        let removed = self.records.remove(&keys::partner_webhook(partner_id, webhook_id), Expect::Exists).await?;
        if removed {
            tracing::info!(partner_id, webhook_id, "webhook endpoint deleted");
        }
        Ok(removed)
    }

    /// A new signing secret, shown once; every earlier one stops signing at once (e.g. after a leak).
    pub async fn rotate_webhook_secret(&self, partner_id: &str, webhook_id: &str) -> Result<SecretString, DeliveryError> {
        Ok(self.rotate_webhook_secret_keeping_previous(partner_id, webhook_id, std::time::Duration::ZERO).await?.secret)
    }

    /// A new signing secret, shown once. The secret it replaces goes on signing beside it for
    /// `keep_previous_for`, time for the partner to deploy the new one; secrets retired by
    /// earlier rotations keep their own time, but never beyond this one's (zero: every earlier
    /// secret stops at once). Refused while [`MAX_SIGNING_SECRETS`] would sign at once.
    pub async fn rotate_webhook_secret_keeping_previous(
        &self,
        partner_id: &str,
        webhook_id: &str,
        keep_previous_for: std::time::Duration,
    ) -> Result<RotatedSecret, DeliveryError> {
        if keep_previous_for > MAX_SECRET_OVERLAP {
            return Err(DeliveryError::Invalid(format!("the previous secret may sign for at most {} seconds", MAX_SECRET_OVERLAP.as_secs())));
        }
        let secret = new_secret();
        let sealed = self.cipher.seal(secret.expose(), &webhook_secret_context(partner_id, webhook_id));
        let now_ms = self.records.clock().now_ms();
        let until_ms = now_ms.saturating_add(i64::try_from(keep_previous_for.as_millis()).unwrap_or(i64::MAX / 2));
        let mut too_many = None;
        let updated = self
            .records
            .update::<PartnerWebhook>(&keys::partner_webhook(partner_id, webhook_id), |w| {
                let mut retired: Vec<RetiredSecret> = std::mem::take(&mut w.retired_secrets);
                retired.push(RetiredSecret { secret: w.secret.clone(), until_ms });
                for r in &mut retired {
                    r.until_ms = r.until_ms.min(until_ms);
                }
                retired.retain(|r| r.until_ms > now_ms);
                if retired.len() + 1 > MAX_SIGNING_SECRETS {
                    too_many = retired.iter().map(|r| r.until_ms).min();
                    return false;
                }
                too_many = None;
                w.retired_secrets = retired;
                w.secret = sealed.clone();
                w.secret_rotated_at_ms = now_ms;
                true
            })
            .await?;
        if let Some(free_at_ms) = too_many {
            let wait_secs = u64::try_from(free_at_ms - now_ms).unwrap_or(0).div_ceil(1000);
            return Err(DeliveryError::Conflict(format!(
                "{MAX_SIGNING_SECRETS} secrets already sign this webhook's deliveries; rotate again in {wait_secs} s, or with an overlap of 0"
            )));
        }
        match updated {
            Some(stored) => {
                tracing::info!(partner_id, webhook_id, "webhook signing secret rotated");
                Ok(RotatedSecret { secret, previous_secrets_until_ms: stored.record.retired_secrets_until_ms(now_ms) })
            }
            None => Err(DeliveryError::NotFound(format!("webhook {webhook_id}"))),
        }
    }

    /// Every endpoint of the partner, records with sealed secrets.
    pub(crate) async fn webhooks(&self, partner_id: &str) -> Result<Vec<PartnerWebhook>, DeliveryError> {
        Ok(self.records.query_all(&keys::partner(partner_id).pk, keys::PARTNER_WEBHOOKS_PREFIX).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback_http_when_allowed() {
        assert!(check_webhook_url("https://partner.example/hooks", false).is_ok());
        assert!(check_webhook_url("http://partner.example/hooks", false).is_err());
        assert!(check_webhook_url("http://partner.example/hooks", true).is_err());
        assert!(check_webhook_url("http://127.0.0.1:8080/h", false).is_err());
        for ok in ["http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9/h", "http://127.9.9.9/h"] {
            assert!(check_webhook_url(ok, true).is_ok(), "{ok}");
        }
        assert!(check_webhook_url("https://user:pw@partner.example/", false).is_err());
        for internal in [
            "https://10.0.0.5/h",
            "https://169.254.169.254/latest",
            "https://192.168.1.1/",
            "https://[fd00::1]/",
            "https://[::ffff:10.1.2.3]/",
            "https://0.0.0.0/",
            "https://127.0.0.1/h",
        ] {
            assert!(check_webhook_url(internal, false).is_err(), "{internal}");
        }
        assert!(check_webhook_url("https://127.0.0.1:8443/h", true).is_ok());
        assert!(check_webhook_url("https://93.184.216.34/h", false).is_ok());
        assert!(check_webhook_url("ftp://partner.example/", true).is_err());
        assert!(check_webhook_url("not a url", true).is_err());
    }

    #[test]
    fn registration_refuses_hosts_that_are_not_public_in_every_spelling() {
        for url in [
            "https://localhost./h",
            "https://api.localhost/h",
            "https://API.LOCALHOST./h",
            "https://metadata/latest",
            "https://db.internal/h",
            "https://printer.local/h",
            "https://100.64.0.1/h",
            "https://198.18.0.1/h",
            "https://198.19.255.255/h",
            "https://224.0.0.1/h",
            "https://240.0.0.1/h",
            "https://255.255.255.255/h",
            "https://192.0.2.10/h",
            "https://[::ffff:a9fe:a9fe]/h",
            "https://[64:ff9b::a00:1]/h",
            "https://[2002:c0a8:101::1]/h",
            "https://[fec0::1]/h",
            "https://[fe80::1]/h",
            "https://[ff02::1]/h",
            "https://[2001:db8::1]/h",
            // The URL parser's other spellings of 127.0.0.1 and 10.0.0.1.
            "https://2130706433/h",
            "https://0x7f.1/h",
            "https://012.0.0.1/h",
        ] {
            assert!(check_webhook_url(url, false).is_err(), "{url}");
        }
        // Local runs allow loopback (any spelling), never the other ranges.
        assert!(check_webhook_url("http://api.localhost:8080/h", true).is_ok());
        assert!(check_webhook_url("http://[::ffff:127.0.0.1]:8080/h", true).is_ok());
        for url in ["https://10.0.0.1/h", "https://100.64.0.1/h", "https://[fd00::1]/h", "https://metadata/h"] {
            assert!(check_webhook_url(url, true).is_err(), "{url}");
        }
        let refused = check_webhook_url("https://100.64.0.1/h", false).unwrap_err();
        assert!(refused.contains("100.64.0.0/10"), "{refused}");
    }

    #[test]
    fn event_types_are_dotted_lowercase() {
        for ok in ["job.created", "connection.status_changed", "hire.created"] {
            assert!(check_event_type(ok).is_ok(), "{ok}");
        }
        for bad in ["", "job", "Job.Created", "job..created", "job.created ", ".x"] {
            assert!(check_event_type(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_random_and_debug_redacted() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_") && a.expose().len() > 40);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
