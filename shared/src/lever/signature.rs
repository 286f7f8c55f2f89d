//! Verification of Lever's webhook signatures (pure).
//!
//! Lever signs `token + triggeredAt` (string concatenation, `triggeredAt` in decimal ms) with
//! HMAC-SHA256 keyed by the webhook's signature token, and puts the lowercase hex digest in the
//! body's `signature` field. The body itself is not signed, so verify, then re-fetch the objects
//! the event names instead of trusting the payload.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// True when `signature` (hex) is the HMAC of `token + triggered_at` under `signature_token`.
/// The comparison is constant-time; malformed hex is simply "not valid".
pub fn verify_webhook_signature(signature_token: &Secret, token: &str, triggered_at: i64, signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(signature_token.expose().as_bytes()) else {
        return false;
    };
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The lowercase hex signature for `token + triggered_at` (for the sandbox and tests).
pub fn sign_webhook(signature_token: &Secret, token: &str, triggered_at: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(signature_token.expose().as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The envelope of a Lever webhook delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: Option<String>,
    pub event: String,
    pub triggered_at: i64,
    pub token: String,
    pub signature: Option<String>,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl WebhookDelivery {
    /// Verify this delivery; an unsigned delivery is never valid.
    pub fn verify(&self, signature_token: &Secret) -> bool {
        self.signature.as_deref().is_some_and(|sig| verify_webhook_signature(signature_token, &self.token, self.triggered_at, sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5f2b9c0e7a41d3386c0b1e9f24a7d58c6e13b0f9a2d4c7e1";
    const TOKEN: &str = "9e1c4b7a2f5d8036c1e4a7b90d2f5c8e1a4b7d0c3f6e9a2b";
    const AT: i64 = 1_718_035_200_123;
    const SIG: &str = "d480e0888e816d8b47a8c07789c4bf956817333659b10d68061d90b4e39e3331";

    #[test]
    fn worked_example_from_the_fact_sheet() {
        let key = Secret::new(KEY);
        assert_eq!(sign_webhook(&key, TOKEN, AT), SIG);
        assert!(verify_webhook_signature(&key, TOKEN, AT, SIG));
    }

    #[test]
    fn tampered_inputs_fail() {
        let key = Secret::new(KEY);
        assert!(!verify_webhook_signature(&key, TOKEN, AT + 1, SIG), "other triggeredAt");
        assert!(!verify_webhook_signature(&key, &TOKEN.replace('9', "8"), AT, SIG), "other token");
        let mut bad = SIG.to_owned();
        bad.replace_range(0..1, "e");
        assert!(!verify_webhook_signature(&key, TOKEN, AT, &bad), "flipped digit");
        assert!(!verify_webhook_signature(&Secret::new("other-key"), TOKEN, AT, SIG), "other key");
        assert!(!verify_webhook_signature(&key, TOKEN, AT, "not-hex"), "garbage");
        assert!(!verify_webhook_signature(&key, TOKEN, AT, &SIG[..32]), "truncated");
    }

    #[test]
    fn delivery_envelope_from_the_fact_sheet_verifies() {
        let body = format!(
            r#"{{"triggeredAt":{AT},"event":"candidateStageChange","data":{{"opportunityId":"5a1f"}},"token":"{TOKEN}","signature":"{SIG}"}}"#
        );
        let d: WebhookDelivery = serde_json::from_str(&body).unwrap();
        assert!(d.verify(&Secret::new(KEY)));
        let unsigned = WebhookDelivery { signature: None, ..d };
        assert!(!unsigned.verify(&Secret::new(KEY)));
    }
}
