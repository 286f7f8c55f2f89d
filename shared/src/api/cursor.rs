//! Pagination cursors as partners see them: the store's [`Cursor`] sealed with AES-256-GCM,
//! bound to the list that made it and expiring after [`CURSOR_LIFETIME`].
//!
//! The additional data of the seal is the list's [`CursorScope`] — route, calling partner and the
//! list's parameters (a connection id, a status) — so a cursor only opens for the list and the
//! partner it was issued to: a forged, changed, truncated or foreign cursor does not decrypt,
//! and a partner learns nothing of the table's keys from one. The key is derived from the state
//! key (`hub/state-key`), see [`CursorSeal::from_state_key`] and `docs/store.md`.
//!
//! A list route pages with two calls:
//!
//! ```text
//! let page = s.pages.page(&params, CursorScope::new("jobs", &caller.partner_id).of(&id))?;
//! let (items, next) = flow.jobs(&id, page.limit, page.cursor.clone()).await?;
//! Ok(Json(json!({ "data": items, "next_cursor": page.next(next) })))
//! ```

use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::problem::{Problem, ProblemType};
use crate::clock::Clock;
use crate::store::Cursor;

/// How long a cursor may be used after the page that returned it.
pub const CURSOR_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Page sizes partners may ask for.
pub const PAGE_LIMITS: std::ops::RangeInclusive<usize> = 1..=100;
pub const DEFAULT_PAGE_LIMIT: usize = 50;

/// Longer than any cursor this module writes; anything longer is refused unread.
const MAX_CURSOR_CHARS: usize = 2_048;
const VERSION: u8 = 1;
/// Domain separation of the derived key: the state key signs OAuth states with plain HMAC.
const KEY_LABEL: &[u8] = b"lever-hub/pagination-cursor/v1";

/// Which list a cursor belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorScope(String);

impl CursorScope {
    /// `list` names the route (`connections`, `activity`, `deliveries`, …); the partner is the
    /// caller's, so another partner's cursor never opens.
    pub fn new(list: &str, partner_id: &str) -> Self {
        Self(String::from("cursor/v1")).of(list).of(partner_id)
    }

    /// A parameter that selects the list's items (the connection of `…/{id}/activity`, the
    /// `status` of deliveries). Length-prefixed, so parts cannot run into each other.
    pub fn of(mut self, part: &str) -> Self {
        self.0.push_str(&format!("\n{}:{part}", part.len()));
        self
    }
}

/// Why a cursor was refused; partners see `invalid-cursor` either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor was not returned by this list for this API key, or it was changed")]
    Unreadable,
    #[error("the cursor expired; start again from the first page")]
    Expired,
}

impl From<CursorError> for Problem {
    fn from(e: CursorError) -> Self {
        Problem::new(ProblemType::InvalidCursor, e.to_string())
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(rename = "c")]
    cursor: Cursor,
    #[serde(rename = "x")]
    expires_at_ms: i64,
}

/// Seals and opens cursors. One per process.
pub struct CursorSeal {
    cipher: Aes256Gcm,
    clock: Arc<dyn Clock>,
}

impl CursorSeal {
    /// The cursor key is HMAC-SHA256(state key, `lever-hub/pagination-cursor/v1`): no secret to
    /// provision, and rotating the state key invalidates outstanding cursors (partners restart
    /// from the first page), which is all a cursor is worth.
    pub fn from_state_key(state_key: &[u8], clock: Arc<dyn Clock>) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state_key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(KEY_LABEL);
        let key = zeroize::Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        let cipher = Aes256Gcm::new_from_slice(key.as_slice()).unwrap_or_else(|_| unreachable!("HMAC-SHA256 gives 32 bytes"));
        Self { cipher, clock }
    }

    pub fn seal(&self, cursor: &Cursor, scope: &CursorScope) -> String {
        let lifetime_ms = i64::try_from(CURSOR_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let sealed = Sealed { cursor: cursor.clone(), expires_at_ms: self.clock.now_ms().saturating_add(lifetime_ms) };
        // Strings only: serializing cannot fail.
        let plaintext = serde_json::to_vec(&sealed).unwrap_or_default();
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = vec![VERSION];
        out.extend_from_slice(&nonce);
        // AES-GCM fails only for messages of gigabytes; a cursor is a few hundred bytes.
        let ciphertext = self.cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: &plaintext, aad: scope.0.as_bytes() }).unwrap_or_default();
        out.extend(ciphertext);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    pub fn open(&self, text: &str, scope: &CursorScope) -> Result<Cursor, CursorError> {
        if text.len() > MAX_CURSOR_CHARS {
            return Err(CursorError::Unreadable);
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError::Unreadable)?;
        let (version, rest) = bytes.split_first().ok_or(CursorError::Unreadable)?;
        if *version != VERSION || rest.len() < 12 {
            return Err(CursorError::Unreadable);
        }
        let (nonce, ciphertext) = rest.split_at(12);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: scope.0.as_bytes() })
            .map_err(|_| CursorError::Unreadable)?;
        let sealed: Sealed = serde_json::from_slice(&plaintext).map_err(|_| CursorError::Unreadable)?;
        if sealed.expires_at_ms <= self.clock.now_ms() {
            return Err(CursorError::Expired);
        }
        Ok(sealed.cursor)
    }

    /// Checks a list route's `limit` and `cursor` for the list `scope`.
    pub fn page(self: &Arc<Self>, params: &PageParams, scope: CursorScope) -> Result<PageRequest, Problem> {
        let limit = match params.limit.as_deref() {
            None => DEFAULT_PAGE_LIMIT,
            Some(text) => text.trim().parse::<usize>().ok().filter(|n| PAGE_LIMITS.contains(n)).ok_or_else(|| {
                Problem::invalid("limit", format!("{text:?} is not a page size: an integer from {} to {}", PAGE_LIMITS.start(), PAGE_LIMITS.end()))
            })?,
        };
        // `cursor=` (empty) is the first page, as no cursor is: a partner's loop that sends
        // `?cursor=${next_cursor ?? ""}` starts at the beginning instead of failing.
        let cursor = match params.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(self.open(text, &scope)?),
        };
        Ok(PageRequest { limit, cursor, scope, seal: self.clone() })
    }
}

/// The query parameters of every list route. Both arrive as text so that a bad value is a
/// problem naming the parameter, not a rejection of the whole query string.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked page request: what to ask the flow for, and how to hand back its next cursor.
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<Cursor>,
    scope: CursorScope,
    seal: Arc<CursorSeal>,
}

impl PageRequest {
    /// `next_cursor` for the response: the flow's cursor, sealed for this list.
    pub fn next(&self, cursor: Option<Cursor>) -> Option<String> {
        cursor.map(|c| self.seal.seal(&c, &self.scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::Key;

    fn seal(key: &[u8]) -> (CursorSeal, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::at_ms(1_000_000));
        (CursorSeal::from_state_key(key, clock.clone()), clock)
    }

    #[test]
    fn cursors_open_only_for_their_list_key_and_lifetime() {
        let (s, clock) = seal(b"state key");
        let cursor = Cursor { key: Key::new("PARTNER#a", "CONN#1"), due: None };
        let scope = CursorScope::new("connections", "a");
        let text = s.seal(&cursor, &scope);
        assert!(
            !text.contains("PARTNER")
                && !String::from_utf8_lossy(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&text).unwrap()).contains("CONN#")
        );
        assert_eq!(s.open(&text, &scope), Ok(cursor.clone()));
        assert_eq!(s.open(&text, &CursorScope::new("connections", "b")), Err(CursorError::Unreadable), "other partner");
        assert_eq!(s.open(&text, &CursorScope::new("activity", "a")), Err(CursorError::Unreadable), "other list");
        assert_eq!(s.open(&text, &CursorScope::new("connections", "a").of("x")), Err(CursorError::Unreadable));
        assert_eq!(seal(b"other key").0.open(&text, &scope), Err(CursorError::Unreadable), "other hub");
        assert_eq!(s.open(&text[..text.len() - 3], &scope), Err(CursorError::Unreadable), "truncated");
        for garbage in ["", "%%%", "AQ", &"A".repeat(5000)] {
            assert_eq!(s.open(garbage, &scope), Err(CursorError::Unreadable), "{garbage:?}");
        }
        // Scope parts cannot be shifted between each other.
        assert_ne!(CursorScope::new("a", "b").of("c"), CursorScope::new("a", "b\n1:c"));
        clock.advance_ms(CURSOR_LIFETIME.as_millis() as i64);
        assert_eq!(s.open(&text, &scope), Err(CursorError::Expired));
    }
}
