//! `hub-stack`: the SAM template (`infra/template.yaml`), running on this machine. Each function
//! is its own process behind a Lambda Runtime API, fed by API Gateway's HTTP API, the SQS event
//! source mappings and the schedules exactly as the template wires them, with the environment
//! the template gives it, its AWS calls held against the role the template gives it, on Amazon
//! DynamoDB Local and moto. See the README, "Run the deployed shape locally".

pub mod admin;
pub mod checks;
pub mod gateway;
pub mod iam;
pub mod proxy;
pub mod resources;
pub mod runtime;
pub mod schedule;
pub mod services;
pub mod sqs;
pub mod stack;
pub mod template;
