//! The customer's side of connecting: the magic link (the hub's connect page), the OAuth state
//! it starts, and Lever's callback.
//!
//! Only a `POST` of the page starts OAuth, so link scanners and previews (which `GET`) change
//! nothing. That `POST` binds the browser with a cookie to a fresh 10-minute state carrying a
//! PKCE S256 verifier; the first browser to press Continue holds the link until its state
//! expires or its consent fails. The callback checks the cookie before it consumes the state,
//! exchanges the code with the state's verifier, and activates the connection only when Lever
//! granted every scope the profile needs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::connections::{ConnectError, Connections, ConsentToFinish};
use crate::core::connection::{Connection, ConnectionStatus, LeverEnvironment};
use crate::core::oauth_state::{browser_binding_matches, new_browser_binding, pkce_challenge};
use crate::core::plain_words::{flow_lines, scope_line};
use crate::core::profile::Profile;
use crate::store::{Expect, Key, Record, Versioned, keys};

/// How long one press of Continue holds the link: the OAuth state's lifetime.
pub const STATE_LIFETIME: Duration = Duration::from_secs(600);
/// How long a link (and a connect URL of the API) lives unless the partner says otherwise.
pub const DEFAULT_LINK_LIFETIME: Duration = Duration::from_secs(7 * 86_400);
/// The bounds of `expires_in`, in seconds.
pub const LINK_LIFETIME_SECS: std::ops::RangeInclusive<u64> = 600..=604_800;
/// An expired link is kept this long so it can still say it expired (instead of "not valid").
const EXPIRED_LINK_KEPT_MS: i64 = 30 * 86_400_000;

/// A pending consent: which connection the `state` nonce belongs to. Single-use, 10 minutes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OAuthState {
    pub nonce: String,
    pub connection_id: String,
    pub partner_id: String,
    pub return_url: String,
    pub expires_at_ms: i64,
    /// SHA-256 of the cookie given to the browser that pressed Continue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_hash: Option<String>,
    /// The magic link this state was started from (released when the consent fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default)]
    pub environment: LeverEnvironment,
}

impl Record for OAuthState {
    const KIND: &'static str = "oauth_state";
    fn key(&self) -> Key {
        keys::oauth_state(&self.nonce)
    }
    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms)
    }
}

/// A magic link: the connect page of one connection, valid until `expires_at_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectLink {
    pub nonce: String,
    pub connection_id: String,
    pub partner_id: String,
    pub return_url: String,
    pub expires_at_ms: i64,
    /// Fixed by the partner at create; `None` lets the customer choose among the profile's.
    #[serde(default)]
    pub environment: Option<LeverEnvironment>,
    /// The consent under way, started by the first browser to press Continue.
    #[serde(default)]
    pub flow: Option<OpenFlow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenFlow {
    pub state_nonce: String,
    pub browser_hash: String,
    pub expires_at_ms: i64,
}

impl Record for ConnectLink {
    const KIND: &'static str = "connect_link";
    fn key(&self) -> Key {
        keys::connect_link(&self.nonce)
    }
    fn expires_at_ms(&self) -> Option<i64> {
        Some(self.expires_at_ms + EXPIRED_LINK_KEPT_MS)
    }
}

/// The cookie that binds a consent to a browser, one per pending state so a customer may have
/// several consents open at once. `__Host-`: Secure, no Domain, Path=/.
pub fn browser_cookie_name(nonce: &str) -> String {
    format!("__Host-lever-connect-{nonce}")
}

/// What the connect page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkPage {
    pub partner_name: String,
    /// What the integration does, one plain sentence per flow.
    pub does: Vec<String>,
    /// The Lever permissions it asks for, in plain words.
    pub permissions: Vec<String>,
    /// The accounts the customer may choose from; one means no choice.
    pub environments: Vec<LeverEnvironment>,
    /// Cancel: the partner's return URL with `error=access_denied`.
    pub cancel_url: String,
}

/// What the link answers the customer's browser.
#[derive(Debug, PartialEq)]
pub enum LinkAnswer {
    Page(LinkPage),
    /// Set the cookie `name=value`, then go to Lever's consent screen.
    ToLever {
        lever_url: String,
        cookie_name: String,
        cookie_value: String,
        max_age_secs: u64,
    },
    /// Another browser pressed Continue first; it holds the link until `until_ms`.
    Elsewhere {
        partner_name: String,
        until_ms: i64,
    },
    /// The connection is active: nothing to do.
    Connected {
        partner_name: String,
    },
    /// Past the link's `expires_at`: the partner must send a new one.
    Expired {
        partner_name: String,
    },
    /// Not a link of ours, or its connection is gone: there is no such link (404); nothing changed.
    Unknown(&'static str),
    /// A link of ours that cannot go on as asked (a Lever account it does not offer); nothing changed.
    Refused(&'static str),
}

/// Query parameters Lever sends to the callback.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How the callback ends for the customer's browser.
#[derive(Debug, PartialEq)]
pub enum CallbackOutcome {
    /// Back to the partner, with `connection_id`, `status` and (on failure) `error`.
    Redirect(String),
    /// A state the hub never signed: there is no such sign-in (404); nothing stored.
    Unknown(&'static str),
    /// No trustworthy place to send the browser: an error page, nothing stored.
    Refused(&'static str),
    /// Refused, but the state was ours: the error page links back to the partner (this URL
    /// carries `connection_id`, `status` and `error`).
    RefusedWithReturn(&'static str, String),
}

/// A link the hub can act on: the link, its connection and the partner's profile.
struct OpenLink {
    link: Versioned<ConnectLink>,
    profile: std::sync::Arc<Profile>,
    /// The connection's status (`pending` or `needs_reconnect`), as Cancel reports it.
    status: &'static str,
}

const NOT_A_LINK: &str = "This connect link is not valid. Ask for a new link in the partner's app.";

/// `return_url` with `connection_id`, `status` and `error` added.
fn back_to(return_url: &str, connection_id: &str, status: &str, error: Option<&str>) -> Option<String> {
    let mut url = url::Url::parse(return_url).ok()?;
    url.query_pairs_mut().append_pair("connection_id", connection_id).append_pair("status", status);
    if let Some(e) = error {
        url.query_pairs_mut().append_pair("error", e);
    }
    Some(url.to_string())
}

impl Connections {
    /// Stores a new magic link for the connection; its signed token and expiry.
    pub(super) async fn new_link(
        &self,
        c: &Connection,
        return_url: &str,
        lifetime: Option<Duration>,
        environment: Option<LeverEnvironment>,
    ) -> Result<(String, i64), ConnectError> {
        let lifetime = lifetime.unwrap_or(DEFAULT_LINK_LIFETIME);
        let (token, nonce) = self.signer.issue();
        let expires_at_ms = self.records.clock().now_ms() + i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX / 2);
        let link = ConnectLink {
            nonce,
            connection_id: c.id.clone(),
            partner_id: c.partner_id.clone(),
            return_url: return_url.to_owned(),
            expires_at_ms,
            environment,
            flow: None,
        };
        self.records.create(&link).await?;
        Ok((token, expires_at_ms))
    }

    /// The link behind `token`, or what to answer instead (forged, gone, connected, expired).
    async fn open_link(&self, token: &str) -> Result<Result<OpenLink, LinkAnswer>, ConnectError> {
        let Some(nonce) = self.signer.verify(token) else { return Ok(Err(LinkAnswer::Unknown(NOT_A_LINK))) };
        let Some(link) = self.records.get::<ConnectLink>(&keys::connect_link(nonce)).await? else {
            return Ok(Err(LinkAnswer::Unknown(NOT_A_LINK)));
        };
        let connection = self.records.get::<Connection>(&keys::connection(&link.record.connection_id)).await?;
        let Some(connection) = connection.filter(|c| c.record.partner_id == link.record.partner_id) else {
            return Ok(Err(LinkAnswer::Unknown("This connection no longer exists. Ask for a new link in the partner's app.")));
        };
        let partner = self.partner(&link.record.partner_id).await?;
        let profile = self.profile(&partner)?;
        let partner_name = profile.display_name.clone();
        match connection.record.status {
            ConnectionStatus::Active => return Ok(Err(LinkAnswer::Connected { partner_name })),
            ConnectionStatus::Disconnected => {
                return Ok(Err(LinkAnswer::Unknown("This connection was removed. Ask for a new link in the partner's app.")));
            }
            ConnectionStatus::Pending | ConnectionStatus::NeedsReconnect => {}
        }
        if link.record.expires_at_ms <= self.records.clock().now_ms() {
            return Ok(Err(LinkAnswer::Expired { partner_name }));
        }
        Ok(Ok(OpenLink { link, profile, status: super::status::status_name(connection.record.status) }))
    }

    fn choices(link: &ConnectLink, profile: &Profile) -> Vec<LeverEnvironment> {
        match link.environment {
            Some(fixed) => vec![fixed],
            None => profile.oauth.environments.clone(),
        }
    }

    /// `GET` of the link: the page, changing nothing.
    pub async fn show_link(&self, token: &str) -> Result<LinkAnswer, ConnectError> {
        let open = match self.open_link(token).await? {
            Ok(open) => open,
            Err(answer) => return Ok(answer),
        };
        let (link, profile) = (&open.link.record, &open.profile);
        let cancel_url =
            back_to(&link.return_url, &link.connection_id, open.status, Some("access_denied")).unwrap_or_else(|| link.return_url.clone());
        let mut permissions: Vec<String> = profile.oauth.scopes.iter().map(|s| scope_line(s)).collect();
        permissions.dedup();
        Ok(LinkAnswer::Page(LinkPage {
            partner_name: profile.display_name.clone(),
            does: flow_lines(profile),
            permissions,
            environments: Self::choices(link, profile),
            cancel_url,
        }))
    }

    /// `POST` of the link (Continue): binds this browser to a fresh state and answers where
    /// Lever's consent screen is, unless another browser holds the link.
    pub async fn continue_link(
        &self,
        token: &str,
        choice: Option<&str>,
        browser_cookie: impl Fn(&str) -> Option<String> + Send,
    ) -> Result<LinkAnswer, ConnectError> {
        let open = match self.open_link(token).await? {
            Ok(open) => open,
            Err(answer) => return Ok(answer),
        };
        let (link, profile) = (&open.link.record, open.profile.clone());
        let choices = Self::choices(link, &profile);
        let environment = match (choices.as_slice(), choice.and_then(LeverEnvironment::parse)) {
            ([only], _) => *only,
            (_, Some(chosen)) if choices.contains(&chosen) => chosen,
            // No field at all: the account the page shows checked (the first), as a browser
            // would send it; a value that is not offered is still refused.
            ([first, ..], None) if choice.is_none() => *first,
            _ => return Ok(LinkAnswer::Refused("Choose the Lever account to connect, then press Continue.")),
        };
        let now = self.records.clock().now_ms();
        // The browser holding the link may press Continue again (a new state replaces its own).
        let holder = link.flow.as_ref().filter(|f| f.expires_at_ms > now).map(|f| {
            let same = browser_binding_matches(&f.browser_hash, browser_cookie(&browser_cookie_name(&f.state_nonce)).as_deref());
            (f.state_nonce.clone(), same, f.expires_at_ms)
        });
        let (cookie_value, hash) = new_browser_binding();
        let (state, state_nonce) = self.signer.issue();
        let expires_at_ms = now + STATE_LIFETIME.as_millis() as i64;
        let mut blocked_until = None;
        let mut replaced = None;
        self.records
            .update::<ConnectLink>(&open.link.record.key(), |l| {
                blocked_until = None;
                replaced = None;
                if let Some(f) = l.flow.as_ref().filter(|f| f.expires_at_ms > now) {
                    let mine = holder.as_ref().is_some_and(|(nonce, same, _)| *same && *nonce == f.state_nonce);
                    if !mine {
                        blocked_until = Some(f.expires_at_ms);
                        return false;
                    }
                    replaced = Some(f.state_nonce.clone());
                }
                l.flow = Some(OpenFlow { state_nonce: state_nonce.clone(), browser_hash: hash.clone(), expires_at_ms });
                true
            })
            .await?;
        if let Some(until_ms) = blocked_until {
            return Ok(LinkAnswer::Elsewhere { partner_name: profile.display_name.clone(), until_ms });
        }
        if let Some(old) = replaced {
            self.records.remove(&keys::oauth_state(&old), Expect::Any).await?;
        }
        let record = OAuthState {
            nonce: state_nonce.clone(),
            connection_id: link.connection_id.clone(),
            partner_id: link.partner_id.clone(),
            return_url: link.return_url.clone(),
            expires_at_ms,
            browser_hash: Some(hash),
            link: Some(link.nonce.clone()),
            environment,
        };
        self.records.create(&record).await?;
        let challenge = pkce_challenge(&self.signer.pkce_verifier(&state_nonce));
        let callback = self.consent.urls.oauth_callback().map_err(super::connections::url_unknown)?;
        let lever_url = self.oauth_for(environment).authorize_url(&callback, &state, &profile.oauth.scopes, Some(&challenge));
        self.activity
            .note(&link.connection_id, "connect.continued", true, format!("the customer continued to Lever ({})", environment.as_str()))
            .await;
        Ok(LinkAnswer::ToLever {
            lever_url: lever_url.to_string(),
            cookie_name: browser_cookie_name(&state_nonce),
            cookie_value,
            max_age_secs: STATE_LIFETIME.as_secs(),
        })
    }

    /// The origins Continue may send the browser to (Lever's authorize pages), for the page's
    /// CSP.
    pub fn form_targets(&self, environments: &[LeverEnvironment]) -> Vec<String> {
        let mut out: Vec<String> = environments
            .iter()
            .map(|e| self.oauth_for(*e).authorize_url("https://hub.invalid/", "s", &[], None).origin().ascii_serialization())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Frees the link a failed consent held, so the customer (in any browser) may start over.
    async fn release_link(&self, state: &OAuthState) {
        let Some(link) = &state.link else { return };
        let released = self
            .records
            .update::<ConnectLink>(&keys::connect_link(link), |l| {
                if l.flow.as_ref().is_some_and(|f| f.state_nonce == state.nonce) {
                    l.flow = None;
                    return true;
                }
                false
            })
            .await;
        if let Err(e) = released {
            tracing::warn!(connection_id = %state.connection_id, error = %e, "connect link not released");
        }
    }

    /// The OAuth callback. Forged, reused or expired states, and callbacks from a browser other
    /// than the one that pressed Continue, are refused before anything is exchanged or stored;
    /// a foreign browser does not even use the state up. `browser_cookie` reads the request's
    /// cookie of the given name.
    pub async fn complete(
        &self,
        params: CallbackParams,
        browser_cookie: impl Fn(&str) -> Option<String> + Send,
    ) -> Result<CallbackOutcome, ConnectError> {
        let Some(given) = params.state.as_deref() else {
            return Ok(CallbackOutcome::Refused("This sign-in link is incomplete. Start connecting again from the partner's app."));
        };
        let Some(nonce) = self.signer.verify(given) else {
            tracing::warn!("OAuth callback with a forged or malformed state refused");
            return Ok(CallbackOutcome::Unknown("This sign-in link is not valid. Start connecting again from the partner's app."));
        };
        let used = "This sign-in link was already used or has expired. Start connecting again from the partner's app.";
        let Some((peek, _)) = self.records.get_with_liveness::<OAuthState>(&keys::oauth_state(nonce)).await? else {
            tracing::warn!("OAuth callback with a used or expired state refused");
            return Ok(CallbackOutcome::Refused(used));
        };
        crate::telemetry::record_partner(&peek.record.partner_id);
        crate::telemetry::record_connection(&peek.record.connection_id);
        // The browser binding comes first: a foreign browser learns nothing, not even where to
        // go back, and leaves the state for the browser it belongs to.
        let bound = peek
            .record
            .browser_hash
            .as_deref()
            .is_some_and(|hash| browser_binding_matches(hash, browser_cookie(&browser_cookie_name(nonce)).as_deref()));
        if !bound {
            tracing::warn!(connection_id = %peek.record.connection_id, "OAuth callback from a browser that did not start the consent refused");
            self.activity
                .note(
                    &peek.record.connection_id,
                    "connect.refused",
                    false,
                    "the consent came back to a different browser than the one that started it",
                )
                .await;
            return Ok(CallbackOutcome::Refused(
                "This sign-in was finished in a different browser from the one that started it. Open the connect link again in this browser.",
            ));
        }
        let Some((state, live)) = self.records.take_with_liveness::<OAuthState>(&keys::oauth_state(nonce)).await? else {
            return Ok(CallbackOutcome::Refused(used));
        };
        let finished = self.finish(&state, live, &params).await;
        if !matches!(finished, Ok((_, true))) {
            self.release_link(&state).await;
        }
        finished.map(|(outcome, _)| outcome)
    }

    /// The callback once the state is taken by the browser it belongs to; whether the
    /// connection was activated.
    async fn finish(&self, state: &OAuthState, live: bool, params: &CallbackParams) -> Result<(CallbackOutcome, bool), ConnectError> {
        let back = |status: &str, error: Option<&str>| match back_to(&state.return_url, &state.connection_id, status, error) {
            Some(url) => CallbackOutcome::Redirect(url),
            None => CallbackOutcome::Refused("The partner's return address is not usable. Start connecting again from the partner's app."),
        };
        let refused_back =
            |message: &'static str, status: &str, error: &str| match back_to(&state.return_url, &state.connection_id, status, Some(error)) {
                Some(url) => CallbackOutcome::RefusedWithReturn(message, url),
                None => CallbackOutcome::Refused(message),
            };
        if !live {
            tracing::warn!("OAuth callback with an expired state refused");
            return Ok((refused_back("This sign-in link has expired. Open the connect link again.", "pending", "state_expired"), false));
        }
        let current = self.records.get::<Connection>(&keys::connection(&state.connection_id)).await?;
        let Some(current) = current.filter(|c| c.record.partner_id == state.partner_id) else {
            return Ok((refused_back("The connection no longer exists.", "disconnected", "connection_gone"), false));
        };
        let current_status = super::status::status_name(current.record.status);
        if let Some(error) = params.error.as_deref() {
            let error = if error == "access_denied" { "access_denied" } else { "lever_error" };
            self.activity.note(&state.connection_id, "connect.denied", false, "the customer did not accept in Lever").await;
            return Ok((back(current_status, Some(error)), false));
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return Ok((back(current_status, Some("missing_code")), false));
        };
        let finishing = ConsentToFinish {
            nonce: &state.nonce,
            connection_id: &state.connection_id,
            partner_id: &state.partner_id,
            environment: state.environment,
        };
        match self.activate(&finishing, code).await {
            Ok(()) => Ok((back("active", None), true)),
            Err(ConnectError::InsufficientScope(missing)) => {
                let why = format!("Lever granted fewer permissions than the integration needs (missing {})", missing.join(", "));
                tracing::warn!(connection_id = %state.connection_id, "consent refused: {why}");
                let now = self.records.clock().now_ms();
                self.records
                    .update::<Connection>(&keys::connection(&state.connection_id), |c| {
                        c.status_reason = Some(why.clone());
                        c.flow_health.entry("tokens".into()).or_default().failed(now, why.clone());
                        c.updated_at_ms = now;
                        true
                    })
                    .await?;
                self.activity.note(&state.connection_id, "connect.failed", false, why.clone()).await;
                Ok((back(current_status, Some("insufficient_scope")), false))
            }
            Err(e) => {
                tracing::warn!(connection_id = %state.connection_id, error = %e, "connect failed after consent");
                self.activity.note(&state.connection_id, "connect.failed", false, e.to_string()).await;
                Ok((back(current_status, Some("connect_failed")), false))
            }
        }
    }
}
