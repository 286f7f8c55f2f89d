//! Flows: the hub's use cases, orchestrating the pure core and the ports. Functions (Lambdas)
//! and the partner API call these; these call nothing but the core and the ports.

pub mod activity;
pub mod candidates;
pub mod connections;
pub mod consent;
pub mod context;
pub mod delivery;
pub mod dispatch;
pub mod events;
pub mod hires;
pub mod jobs;
pub mod keepalive;
pub mod lever_calls;
pub mod lever_events;
pub mod partners;
pub mod public_urls;
pub mod ready;
pub mod records;
pub mod status;
pub mod tokens;
