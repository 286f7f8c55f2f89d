//! A sealed (encrypted) value as the domain records carry it. Sealing and opening are the token
//! cipher's (`secrets`); the core only holds the text, so that records with secrets in them
//! stay plain data.

use serde::{Deserialize, Serialize};

/// A sealed (encrypted) value, safe to store and to log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// Only the cipher makes these from its output; anything else would not open.
    pub(crate) fn from_text(text: String) -> Self {
        Sealed(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
