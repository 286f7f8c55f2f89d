//! The partner API: an axum router, served by lambda_http in AWS and by axum locally.

pub mod problem;
