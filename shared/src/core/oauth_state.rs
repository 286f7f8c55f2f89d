//! The OAuth `state` parameter: a random nonce plus an HMAC over it.
//!
//! The signature lets the callback refuse forged states before touching the store; the nonce
//! names a single-use, expiring record that says which connection the consent is for.
//!
//! Two more values hang off a state, so a code can only finish the flow it was meant for:
//! - a **browser binding**: a random cookie value given to the browser that opened the hub's
//!   connect link; the state record keeps only its SHA-256, and the callback requires the cookie.
//!   A code obtained elsewhere (another partner's consent, an attacker's account) cannot be
//!   replayed through someone else's browser.
//! - a **PKCE verifier** (RFC 7636, S256), derived from the nonce with the signing key, so it is
//!   never stored and never leaves the hub except in the token request.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub struct StateSigner {
    key: Vec<u8>,
}

impl StateSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// A new state value and the nonce it carries.
    pub fn issue(&self) -> (String, String) {
        let mut bytes = [0u8; 18];
        rand::rng().fill_bytes(&mut bytes);
        let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut mac = self.mac();
        mac.update(nonce.as_bytes());
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("{nonce}.{tag}"), nonce)
    }

    /// The PKCE `code_verifier` of the state carrying `nonce`: 43 URL-safe characters.
    pub fn pkce_verifier(&self, nonce: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"pkce-verifier:");
        mac.update(nonce.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The nonce of a state this signer issued; `None` for anything else. Constant-time.
    pub fn verify<'s>(&self, state: &'s str) -> Option<&'s str> {
        let (nonce, tag) = state.split_once('.')?;
        if nonce.len() != 24 {
            return None;
        }
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(nonce.as_bytes());
        mac.verify_slice(&tag).ok().map(|_| nonce)
    }
}

/// The `code_challenge` for a verifier (method `S256`).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh browser binding: the cookie value to hand out and the hash to store.
pub fn new_browser_binding() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let cookie = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = browser_binding_hash(&cookie);
    (cookie, hash)
}

pub fn browser_binding_hash(cookie: &str) -> String {
    hex::encode(Sha256::digest(cookie.as_bytes()))
}

/// Whether `cookie` is the binding whose hash was stored. Constant-time in the hash.
pub fn browser_binding_matches(stored_hash: &str, cookie: Option<&str>) -> bool {
    use subtle::ConstantTimeEq as _;
    let Some(cookie) = cookie else { return false };
    let presented = browser_binding_hash(cookie);
    presented.len() == stored_hash.len() && bool::from(presented.as_bytes().ct_eq(stored_hash.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_states_verify_and_forgeries_do_not() {
        let signer = StateSigner::new(b"k1");
        let (state, nonce) = signer.issue();
        assert_eq!(signer.verify(&state), Some(nonce.as_str()));
        assert_eq!(StateSigner::new(b"k2").verify(&state), None, "other key");
        let forged = format!("{nonce}.AAAA");
        assert_eq!(signer.verify(&forged), None);
        let (other, _) = signer.issue();
        let swapped = format!("{}.{}", other.split('.').next().unwrap(), state.split('.').nth(1).unwrap());
        assert_eq!(signer.verify(&swapped), None);
        assert_eq!(signer.verify("garbage"), None);
        assert_eq!(signer.verify(""), None);
    }

    #[test]
    fn pkce_verifier_is_stable_per_nonce_and_key_and_well_formed() {
        let signer = StateSigner::new(b"k1");
        let v = signer.pkce_verifier("nonce-a");
        assert_eq!(v, signer.pkce_verifier("nonce-a"));
        assert_ne!(v, signer.pkce_verifier("nonce-b"));
        assert_ne!(v, StateSigner::new(b"k2").pkce_verifier("nonce-a"));
        // RFC 7636: 43..128 characters of [A-Z a-z 0-9 - . _ ~].
        assert!((43..=128).contains(&v.len()), "{v}");
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)), "{v}");
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn browser_binding_matches_only_its_own_cookie() {
        let (cookie, hash) = new_browser_binding();
        assert!(browser_binding_matches(&hash, Some(&cookie)));
        let (other, _) = new_browser_binding();
        assert!(!browser_binding_matches(&hash, Some(&other)));
        assert!(!browser_binding_matches(&hash, None));
        assert!(!browser_binding_matches(&hash, Some("")));
    }
}
