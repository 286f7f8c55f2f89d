//! Secret strings (client secret, access and refresh tokens) that never print.
//!
//! `Debug` and `Display` are redacted, the memory is zeroed on drop, and the only way to the
//! value is the explicit [`Secret::expose`]: grep for it to audit every place a secret leaves.

/// The hub's one secret-string type (redacted `Debug`/`Display`, zeroed on drop).
pub use crate::secrets::SecretString as Secret;

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
