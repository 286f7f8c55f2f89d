//! Lambda: the candidate writer. Two triggers, one flow:
//! - the candidates queue (SQS): each message is one submission to write to Lever (or a status
//!   poll); the batch's messages run concurrently, and those to come back are reported as batch
//!   item failures (SQS redelivers them, and dead-letters them after the redrive limit);
//! - a schedule every minute (`{"sweep": true}`): open submissions whose time has come and status
//!   polls due, found on the due index, are queued.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::flows::candidates::Candidates;
use shared::hub::{HubEnv, HubError};
use shared::secrets::names;
use tracing::Instrument as _;

/// Read at start in one call: Lever tokens, the Lever app, and the state key (a local file store
/// signs its upload URLs with a key derived from it).
const SECRETS: &[&str] = &[names::TOKEN_KEY, names::STATE_KEY, names::LEVER_OAUTH];

async fn candidates(env: &HubEnv) -> Result<Candidates, HubError> {
    env.wiring(SECRETS).await?.candidates()
}

async fn handle(candidates: &Candidates, payload: Value) -> Result<Value, Error> {
    if payload.get("Records").is_none() {
        let now = shared::clock::Clock::now_ms(&shared::clock::SystemClock);
        let report = candidates.sweep_once(now).await?;
        return Ok(serde_json::json!({"submissions": report.submissions, "status_polls": report.status_polls}));
    }
    let event: SqsEvent = serde_json::from_value(payload)?;
    let runs = event.records.into_iter().map(|record| async move {
        let done = match &record.body {
            Some(body) => candidates.work(body).instrument(shared::telemetry::message_span(record.message_id.as_deref(), body)).await,
            None => true,
        };
        (!done).then(|| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            failure
        })
    });
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = futures::future::join_all(runs).await.into_iter().flatten().collect();
    Ok(serde_json::to_value(response)?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let candidates = &candidates(&HubEnv::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { handle(candidates, event.payload).await })).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn starts_with_only_its_secrets_and_sweeps_on_schedule() {
        let candidates = super::candidates(&shared::testing::local_env()).await.expect("the writer wires from its SECRETS");
        let swept = super::handle(&candidates, serde_json::json!({"sweep": true})).await.unwrap();
        assert_eq!(swept, serde_json::json!({"submissions": 0, "status_polls": 0}));
        let batch = serde_json::json!({"Records": [{"messageId": "m1", "body": "{\"type\":\"status_poll\",\"connection_id\":\"nope\"}"}]});
        let answer = super::handle(&candidates, batch).await.unwrap();
        assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "an unknown connection's poll is done, not retried");
    }
}
