//! Secret strings (client secret, access and refresh tokens) that never print.
//!
//! `Debug` and `Display` are redacted, the memory is zeroed on drop, and the only way to the
//! value is the explicit [`Secret::expose`]: grep for it to audit every place a secret leaves.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// A string that must not reach logs, error messages or panics.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for putting on the wire. Never format or log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Deserializes from a plain JSON string (token responses).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Serializes the real value: only for the hub's own encrypted storage, never for logs.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The OAuth app's client secret.
pub type ClientSecret = Secret;
/// A Lever access token (a JWT, 1 h lifetime).
pub type AccessToken = Secret;
/// A Lever refresh token (rotates on every refresh).
pub type RefreshToken = Secret;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("super-sensitive-value");
        assert!(!format!("{s:?}").contains("super-sensitive"));
        assert!(!format!("{s}").contains("super-sensitive"));
        assert!(!format!("{:?}", Some(&s)).contains("super-sensitive"));
        assert_eq!(s.expose(), "super-sensitive-value");
    }
}
