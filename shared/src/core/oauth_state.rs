//! The OAuth `state` parameter: a random nonce plus an HMAC over it.
//!
//! The signature lets the callback refuse forged states before touching the store; the nonce
//! names a single-use, expiring record that says which connection the consent is for.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

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
}
