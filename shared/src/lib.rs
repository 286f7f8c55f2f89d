//! The one shared crate of the Lever integration hub.
//!
//! Ports and adapters: `core` is pure (no I/O) and holds the rules; each port (`store`, `secrets`,
//! `lever`, `clock`) is a trait with its adapters beside it. Lambda functions only wire these together.

pub mod api;
pub mod aws;
pub mod clock;
#[cfg(feature = "contract")]
pub mod contract;
pub mod core;
pub mod files;
pub mod flows;
pub mod http;
pub mod hub;
pub mod lever;
pub mod metrics;
pub mod profile_dir;
pub mod queue;
pub mod secrets;
pub mod sqs_batch;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
