//! Encryption of tokens at rest: AES-256-GCM with a random 96-bit nonce per value.
//!
//! The additional data binds a ciphertext to where it belongs (e.g. `connection/<id>/refresh`),
//! so a value copied onto another connection or field does not decrypt. The sealed form names
//! its key (`v1.<key id>.<nonce+ciphertext>`), which lets the key ring rotate keys.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::{SecretString, Secrets, SecretsError, names};

pub use crate::core::sealed::Sealed;

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no key {0} in the key ring")]
    UnknownKey(String),
    #[error("sealed value does not open with its key and context")]
    Tampered,
}

pub struct TokenCipher {
    /// (key id, cipher); the first seals.
    ring: Vec<(String, Aes256Gcm)>,
}

impl TokenCipher {
    /// From the key-ring secret: comma-separated keys, the first seals. A key is either base64
    /// of 32 bytes, or a passphrase of at least 40 characters from a random generator (what
    /// CloudFormation's `GenerateSecretString` makes), whose SHA-256 is the key.
    pub fn from_secret(secret: &SecretString) -> Result<Self, SecretsError> {
        let invalid = |why: &str| SecretsError::Invalid { name: names::TOKEN_KEY.into(), why: why.into() };
        let mut ring = vec![];
        for part in secret.expose().split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let raw = base64::engine::general_purpose::STANDARD.decode(part).ok().filter(|k| k.len() == 32);
            let key = zeroize::Zeroizing::new(match raw {
                Some(key) => key,
                None if part.len() >= 40 => Sha256::digest(part.as_bytes()).to_vec(),
                None => return Err(invalid("a key is neither base64 of 32 bytes nor a passphrase of 40+ characters")),
            });
            let id = hex::encode(&Sha256::digest(&*key)[..4]);
            ring.push((id, Aes256Gcm::new_from_slice(&key).expect("32-byte key")));
        }
        if ring.is_empty() {
            return Err(invalid("no key"));
        }
        Ok(Self { ring })
    }

    pub async fn load(secrets: &dyn Secrets) -> Result<Self, SecretsError> {
        Self::from_secret(&secrets.get(names::TOKEN_KEY).await?)
    }

    pub fn seal(&self, plaintext: &str, context: &str) -> Sealed {
        let (id, cipher) = &self.ring[0];
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .expect("AES-GCM encryption of an in-memory value cannot fail");
        let mut packed = nonce.to_vec();
        packed.extend(ciphertext);
        Sealed::from_text(format!("v1.{id}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)))
    }

    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretString, CipherError> {
        let mut parts = sealed.as_str().splitn(3, '.');
        let (Some("v1"), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CipherError::Malformed);
        };
        let (_, cipher) = self.ring.iter().find(|(k, _)| k == id).ok_or_else(|| CipherError::UnknownKey(id.into()))?;
        let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(data).map_err(|_| CipherError::Malformed)?;
        if packed.len() < 12 + 16 {
            return Err(CipherError::Malformed);
        }
        let (nonce, ciphertext) = packed.split_at(12);
        let plain =
            cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() }).map_err(|_| CipherError::Tampered)?;
        String::from_utf8(plain).map(SecretString::new).map_err(|_| CipherError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::local::random_key;

    fn cipher(keys: &[&str]) -> TokenCipher {
        TokenCipher::from_secret(&SecretString::new(keys.join(","))).unwrap()
    }

    #[test]
    fn round_trip_and_no_plaintext_in_sealed_form() {
        let k = random_key();
        let c = cipher(&[&k]);
        let sealed = c.seal("refresh-token-123", "connection/a/refresh");
        assert!(!sealed.as_str().contains("refresh-token-123"));
        assert_eq!(c.open(&sealed, "connection/a/refresh").unwrap().expose(), "refresh-token-123");
        // Same plaintext twice gives different ciphertexts (fresh nonce).
        assert_ne!(sealed, c.seal("refresh-token-123", "connection/a/refresh"));
    }

    #[test]
    fn wrong_context_or_tampering_is_refused() {
        let c = cipher(&[&random_key()]);
        let sealed = c.seal("secret", "connection/a/access");
        assert!(matches!(c.open(&sealed, "connection/b/access"), Err(CipherError::Tampered)));
        let mut text = sealed.as_str().to_owned();
        let last = text.pop().unwrap();
        text.push(if last == 'A' { 'B' } else { 'A' });
        assert!(c.open(&Sealed::from_text(text), "connection/a/access").is_err());
        assert!(matches!(c.open(&Sealed::from_text("v2.x.y".into()), "x"), Err(CipherError::Malformed)));
    }

    #[test]
    fn rotated_ring_opens_old_values_and_seals_with_the_new_key() {
        let (old, new) = (random_key(), random_key());
        let before = cipher(&[&old]).seal("t", "ctx");
        let rotated = cipher(&[&new, &old]);
        assert_eq!(rotated.open(&before, "ctx").unwrap().expose(), "t");
        let after = rotated.seal("t", "ctx");
        assert!(matches!(cipher(&[&old]).open(&after, "ctx"), Err(CipherError::UnknownKey(_))));
    }

    #[test]
    fn bad_key_material_names_the_secret() {
        let err = TokenCipher::from_secret(&SecretString::new("c2hvcnQ=")).err().unwrap();
        assert!(err.to_string().contains(names::TOKEN_KEY) && err.to_string().contains("32 bytes"));
    }

    #[test]
    fn generated_passphrases_are_keys_too() {
        let phrase = "Zq8!rT2vLm9#pX4wKd7$hB3nYc6%jF1sGu5^eA0o";
        let c = cipher(&[phrase]);
        assert_eq!(c.open(&c.seal("t", "ctx"), "ctx").unwrap().expose(), "t");
        assert_ne!(cipher(&[phrase]).ring[0].0, cipher(&[&random_key()]).ring[0].0);
    }
}
