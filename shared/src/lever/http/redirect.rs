//! Lever's redirects, followed by hand.
//!
//! Lever sends an account's calls to its own data centre: an EU account's calls to the global
//! hosts answer `301` with a `Location` there. reqwest's own policy would turn a redirected
//! `POST` into a `GET` without its body, and drop the `Authorization` header on the change of
//! host, so the client follows no redirect itself. Instead it follows 301/302/307/308 only to
//! Lever's own hosts ([`LEVER_HOSTS`], HTTPS on the default port) and the origins the
//! configuration trusts (the project's sandbox in local runs), with the same method, body and
//! token, at most [`MAX_REDIRECTS`] times. Any other target is refused before a byte is sent
//! there ([`LeverError::RedirectRefused`]).
//!
//! When a redirect keeps the part of the path below the Data API root, the new root is what
//! the account's calls should use from now on: the client notes it on the [`LeverAuth`], and the
//! caller remembers it on the connection, so later calls go straight there.
//!
//! [`LeverAuth`]: crate::lever::port::LeverAuth

use reqwest::header::{HeaderMap, LOCATION};
use url::{Origin, Url};

use crate::lever::error::{LeverError, LeverResult};

/// Redirects one request may take before the client gives up.
pub const MAX_REDIRECTS: u32 = 5;

/// Lever's own hosts: production (global and EU data centres) and Lever's sandbox. The EU hosts
/// are Lever's EU domain as its public APIs use it (the fact sheet, section 1.1).
pub const LEVER_HOSTS: &[&str] =
    &["api.lever.co", "auth.lever.co", "api.eu.lever.co", "auth.eu.lever.co", "api.sandbox.lever.co", "sandbox-lever.auth0.com"];

pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 307 | 308)
}

/// Whether the client may send a token to `url`: one of Lever's hosts over HTTPS, or a trusted
/// origin. Never a URL with credentials of its own.
pub fn is_lever(url: &Url, trusted: &[Origin]) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if trusted.contains(&url.origin()) {
        return true;
    }
    url.scheme() == "https" && url.port().is_none() && url.host_str().is_some_and(|h| LEVER_HOSTS.contains(&h))
}

/// Where the redirect answered to a request for `current` leads, if the client may follow it.
pub(super) fn target(current: &Url, headers: &HeaderMap, trusted: &[Origin]) -> LeverResult<Url> {
    let unreadable = || LeverError::RedirectRefused { target: "no readable Location".into() };
    let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(unreadable)?;
    let next = current.join(location).map_err(|_| unreadable())?;
    if is_lever(&next, trusted) { Ok(next) } else { Err(LeverError::RedirectRefused { target: next.origin().ascii_serialization() }) }
}

/// The root a redirect from `from` (under `root`) to `to` moved the call to: `to` without the
/// part of the path below the root. `None` when `to` does not keep that part.
pub(super) fn moved_root(root: &Url, from: &Url, to: &Url) -> Option<Url> {
    let rest = from.path().strip_prefix(root.path().trim_end_matches('/')).filter(|r| r.starts_with('/'))?;
    let new_root = to.path().strip_suffix(rest)?.to_owned();
    let mut base = to.clone();
    base.set_path(&new_root);
    base.set_query(None);
    base.set_fragment(None);
    Some(base)
}

/// `url`, built under the configured root, moved under `base`.
pub(super) fn rebase(url: &Url, configured: &Url, base: &Url) -> Option<Url> {
    let rest = url.as_str().strip_prefix(configured.as_str().trim_end_matches('/')).filter(|r| r.starts_with(['/', '?']) || r.is_empty())?;
    Url::parse(&format!("{}{rest}", base.as_str().trim_end_matches('/'))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_lever_hosts_and_trusted_origins_get_the_token() {
        let trusted = [u("http://127.0.0.1:4001").origin()];
        for ok in [
            "https://api.eu.lever.co/v1/postings",
            "https://api.lever.co/v1/x",
            "https://sandbox-lever.auth0.com/oauth/token",
            "http://127.0.0.1:4001/v1",
        ] {
            assert!(is_lever(&u(ok), &trusted), "{ok}");
        }
        for no in [
            "http://api.eu.lever.co/v1",         // no downgrade to plain HTTP
            "https://api.eu.lever.co:8443/v1",   // another port
            "https://api.lever.co.evil.test/v1", // a look-alike
            "https://evil.test/v1",
            "https://user:pw@api.lever.co/v1",
            "http://127.0.0.1:4002/v1", // another local port than the trusted one
        ] {
            assert!(!is_lever(&u(no), &trusted), "{no}");
        }
    }

    #[test]
    fn a_redirect_teaches_the_root_when_it_keeps_the_path() {
        let root = u("https://api.lever.co/v1");
        let from = u("https://api.lever.co/v1/opportunities?perform_as=u1");
        assert_eq!(moved_root(&root, &from, &u("https://api.eu.lever.co/v1/opportunities?perform_as=u1")), Some(u("https://api.eu.lever.co/v1")));
        assert_eq!(moved_root(&root, &from, &u("https://api.eu.lever.co/elsewhere")), None);
        let moved = rebase(&from, &root, &u("https://api.eu.lever.co/v1")).unwrap();
        assert_eq!(moved.as_str(), "https://api.eu.lever.co/v1/opportunities?perform_as=u1");
        assert_eq!(rebase(&u("https://auth.lever.co/oauth/token"), &root, &u("https://api.eu.lever.co/v1")), None);
    }

    #[test]
    fn refused_targets_name_the_origin_only() {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, "https://evil.test/v1/opportunities?email=a@b.c".parse().unwrap());
        match target(&u("https://api.lever.co/v1/opportunities"), &h, &[]) {
            Err(LeverError::RedirectRefused { target }) => assert_eq!(target, "https://evil.test"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(target(&u("https://api.lever.co/v1/x"), &HeaderMap::new(), &[]), Err(LeverError::RedirectRefused { .. })));
        h.insert(LOCATION, "/v1/elsewhere".parse().unwrap());
        assert_eq!(target(&u("https://api.lever.co/v1/x"), &h, &[]).unwrap().as_str(), "https://api.lever.co/v1/elsewhere");
    }
}
