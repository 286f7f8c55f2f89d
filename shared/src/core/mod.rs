//! The pure core: partner profiles, domain records and the rules between them. No I/O here.
pub mod connection;
pub mod return_url;
