//! The demo's parts: the hub it runs against ([`hub`]), the partner API and the Lever sandbox
//! ([`api`]), the customer's browser ([`browser`]), the partners' signed-webhook endpoint
//! ([`receiver`]), one line per step ([`report`]) and the five seed stories ([`stories`]).
//! `main.rs` strings them together.

pub mod api;
pub mod browser;
pub mod hub;
pub mod receiver;
pub mod report;
pub mod stories;
