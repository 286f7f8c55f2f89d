//! The pure core: partner profiles, domain records and the rules between them. No I/O here.

pub mod candidate;
pub mod catalog;
pub mod connection;
pub mod custom;
pub mod egress;
pub mod environment;
pub mod events;
pub mod field_error;
pub mod flow_runs;
pub mod hire;
pub mod ids;
pub mod job;
pub mod job_feed;
pub mod job_sync;
pub mod oauth_state;
pub mod placeholders;
pub mod plain_words;
pub mod profile;
pub mod return_url;
pub mod schedule;
pub mod scopes;
pub mod sealed;
pub mod settings;
pub mod submission;
pub mod template;
pub mod timestamp;
