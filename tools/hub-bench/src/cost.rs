//! What a measured day of the hub costs at AWS list prices.
//!
//! The prices are AWS's public on-demand list prices for us-east-1 (N. Virginia), written down
//! on 2026-12-07 from the pricing pages as this project last recorded them; no free tier is
//! taken off. Check them against the pricing pages before quoting a figure: a price change is a
//! change to this table only.

use std::collections::BTreeMap;

/// When the prices below were written down.
pub const PRICES_READ: &str = "2026-12-07";

/// AWS list prices, USD, us-east-1.
pub mod price {
    /// Lambda, arm64: per request, and per GB-second of billed duration (first tier).
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const LAMBDA_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
    /// DynamoDB on-demand: per write request unit and per read request unit.
    pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
    pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
    /// SQS standard queues: per request (each 64 KB of a message is one request).
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// S3 Standard: PUT, COPY, POST, LIST; and GET.
    pub const S3_PUT: f64 = 0.005 / 1e3;
    pub const S3_GET: f64 = 0.000_4 / 1e3;
    /// Secrets Manager: per secret per month, and per API call.
    pub const SECRET_MONTH: f64 = 0.40;
    pub const SECRETS_CALL: f64 = 0.05 / 1e4;
    /// API Gateway HTTP API: per request (first 300 million a month; 512 KB each).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// CloudWatch Logs: per GB ingested (standard class).
    pub const LOGS_GB: f64 = 0.50;
    /// EventBridge Scheduler: per scheduled invocation.
    pub const SCHEDULER_INVOCATION: f64 = 1.00 / 1e6;
}

/// Days in the month the cost is given for (365 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4167;

/// What one function used over the measured period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    pub invocations: u64,
    /// The handler's wall time, summed; each invocation billed in whole milliseconds.
    pub billed_ms: u64,
    pub memory_mb: u32,
    pub read_units: f64,
    pub write_units: f64,
    pub store_calls: u64,
    pub sqs_requests: u64,
    pub s3_puts: u64,
    pub s3_gets: u64,
    pub secrets_calls: u64,
    pub http_api_requests: u64,
    pub scheduler_invocations: u64,
    pub log_bytes: u64,
    /// Invocations that failed, and store writes that failed (a smoke test wants none).
    pub failures: u64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.invocations += other.invocations;
        self.billed_ms += other.billed_ms;
        self.memory_mb = self.memory_mb.max(other.memory_mb);
        self.read_units += other.read_units;
        self.write_units += other.write_units;
        self.store_calls += other.store_calls;
        self.sqs_requests += other.sqs_requests;
        self.s3_puts += other.s3_puts;
        self.s3_gets += other.s3_gets;
        self.secrets_calls += other.secrets_calls;
        self.http_api_requests += other.http_api_requests;
        self.scheduler_invocations += other.scheduler_invocations;
        self.log_bytes += other.log_bytes;
        self.failures += other.failures;
    }
}

/// One function's cost, by service, USD.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cost {
    pub lambda: f64,
    pub dynamodb: f64,
    pub sqs: f64,
    pub s3: f64,
    pub secrets_calls: f64,
    pub http_api: f64,
    pub logs: f64,
    pub scheduler: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.lambda + self.dynamodb + self.sqs + self.s3 + self.secrets_calls + self.http_api + self.logs + self.scheduler
    }

    pub fn add(&mut self, o: &Cost) {
        self.lambda += o.lambda;
        self.dynamodb += o.dynamodb;
        self.sqs += o.sqs;
        self.s3 += o.s3;
        self.secrets_calls += o.secrets_calls;
        self.http_api += o.http_api;
        self.logs += o.logs;
        self.scheduler += o.scheduler;
    }

    pub fn scaled(&self, by: f64) -> Cost {
        Cost {
            lambda: self.lambda * by,
            dynamodb: self.dynamodb * by,
            sqs: self.sqs * by,
            s3: self.s3 * by,
            secrets_calls: self.secrets_calls * by,
            http_api: self.http_api * by,
            logs: self.logs * by,
            scheduler: self.scheduler * by,
        }
    }
}

/// The list price of `usage`.
pub fn price(usage: &Usage) -> Cost {
    let gb_seconds = usage.billed_ms as f64 / 1000.0 * f64::from(usage.memory_mb) / 1024.0;
    Cost {
        lambda: usage.invocations as f64 * price::LAMBDA_REQUEST + gb_seconds * price::LAMBDA_GB_SECOND_ARM64,
        dynamodb: usage.write_units * price::DYNAMODB_WRU + usage.read_units * price::DYNAMODB_RRU,
        sqs: usage.sqs_requests as f64 * price::SQS_REQUEST,
        s3: usage.s3_puts as f64 * price::S3_PUT + usage.s3_gets as f64 * price::S3_GET,
        secrets_calls: usage.secrets_calls as f64 * price::SECRETS_CALL,
        http_api: usage.http_api_requests as f64 * price::HTTP_API_REQUEST,
        logs: usage.log_bytes as f64 / 1e9 * price::LOGS_GB,
        scheduler: usage.scheduler_invocations as f64 * price::SCHEDULER_INVOCATION,
    }
}

/// Memory of each function as `infra/template.yaml` sets it (the global 256 MB unless a
/// function says otherwise).
pub fn memory_mb(function: &str) -> u32 {
    match function {
        "candidate-writer" => 1024,
        _ => 256,
    }
}

/// The secrets a deployment keeps (token key, state key, Lever app): a fixed monthly cost.
pub const SECRETS_KEPT: u32 = 3;

/// The secrets each function reads when its environment starts (`const SECRETS` in its
/// `main.rs`; `tests/secrets_read.rs` holds the two together).
pub fn secrets_read(function: &str) -> u32 {
    match function {
        "dispatcher" => 0,
        "delivery-sweeper" | "event-delivery" | "lever-webhooks" => 1,
        "hires-import" | "job-poller" => 2,
        _ => 3,
    }
}

/// A month of `days_measured` days' usage per function: each function's cost, and the total
/// with the secrets' monthly fee.
pub fn month(per_function: &BTreeMap<String, Usage>, days_measured: f64) -> (BTreeMap<String, Cost>, f64) {
    let by = DAYS_PER_MONTH / days_measured;
    let costs: BTreeMap<String, Cost> = per_function.iter().map(|(f, u)| (f.clone(), price(u).scaled(by))).collect();
    let total = costs.values().map(Cost::total).sum::<f64>() + f64::from(SECRETS_KEPT) * price::SECRET_MONTH;
    (costs, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_invocations_of_a_second_at_a_gigabyte_cost_requests_plus_gb_seconds() {
        let usage = Usage { invocations: 1_000_000, billed_ms: 1_000_000_000, memory_mb: 1024, ..Usage::default() };
        let cost = price(&usage);
        let expected = 0.20 + 1_000_000.0 * price::LAMBDA_GB_SECOND_ARM64;
        assert!((cost.lambda - expected).abs() < 1e-9, "{}", cost.lambda);
        assert_eq!(cost.dynamodb, 0.0);
    }

    #[test]
    fn a_month_scales_the_measured_days_and_adds_the_secrets() {
        let day = BTreeMap::from([("dispatcher".to_owned(), Usage { write_units: 1e6, memory_mb: 256, ..Usage::default() })]);
        let (costs, total) = month(&day, 1.0);
        let dispatcher = costs["dispatcher"].dynamodb;
        assert!((dispatcher - 0.625 * DAYS_PER_MONTH).abs() < 1e-6, "{dispatcher}");
        assert!((total - dispatcher - 1.2).abs() < 1e-6, "{total}");
    }
}
