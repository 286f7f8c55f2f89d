//! The Lever client: the hub's only way to talk to Lever.
//!
//! - [`port`]: the [`LeverApi`] and [`LeverOAuth`] traits (object-safe, `Arc<dyn LeverApi>`).
//! - [`http`]: [`LeverHttpClient`], the reqwest adapter pointing at real Lever or the sandbox.
//! - [`model`]: typed, tolerant Lever objects; [`page`]: cursor pagination with a loop guard.
//! - [`retry`]: **which requests are retried** (reads yes; creates only when surely unprocessed);
//!   [`rate`]: the per-connection rate gate the client asks before every request;
//!   [`rate_budget`]: that gate shared by every process through the store.
//! - [`oauth`]: authorize URL, token set, token errors; [`signature`]: webhook signature check.
//! - [`secret`]: redacted secret strings; [`error`]: [`LeverError`].

pub mod environments;
pub mod error;
pub mod http;
pub mod model;
pub mod oauth;
pub mod page;
pub mod port;
pub mod rate;
pub mod rate_budget;
pub mod retry;
pub mod secret;
pub mod signature;
pub mod wire;

pub use error::{LeverError, LeverResult};
pub use http::{LeverConfig, LeverHttpClient};
pub use model::*;
pub use oauth::{TokenSet, authorize_url};
pub use page::{Page, PageRequest, Pager, collect_all};
pub use port::{Credential, LeverApi, LeverAuth, LeverOAuth};
pub use rate::{RateGate, RateLimit};
pub use retry::{RetryClass, RetryPolicy};
pub use secret::{AccessToken, ClientSecret, RefreshToken, Secret};
pub use signature::{WebhookDelivery, sign_webhook, verify_webhook_signature};
pub use wire::{Expandable, HasId, Millis};
