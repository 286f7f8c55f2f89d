//! SQS event source mappings as Lambda runs them: pollers receive up to the template's
//! `BatchSize` (gathering for `MaximumBatchingWindowInSeconds`), invoke the function with the
//! batch, and delete what succeeded. With `ReportBatchItemFailures` only the reported message
//! ids stay (an answer naming an id that was not in the batch fails the whole batch, as AWS
//! does); a function error, timeout or crash keeps every message. What stays comes back after
//! the queue's visibility timeout, and the queue's redrive policy (moto applies it) moves a
//! message to its dead-letter queue after `maxReceiveCount` receives.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use axum::body::Bytes;
use serde::Serialize;

use crate::runtime::{FunctionHost, Outcome};

pub struct Mapping {
    pub name: String,
    pub function: Arc<FunctionHost>,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: usize,
    pub window: Duration,
    pub report_failures: bool,
    pub pollers: usize,
    pub counters: MappingCounters,
}

#[derive(Default)]
pub struct MappingCounters {
    pub received: AtomicU64,
    pub deleted: AtomicU64,
    pub kept: AtomicU64,
    pub failed_batches: AtomicU64,
}

#[derive(Serialize)]
pub struct MappingStats {
    pub function: String,
    pub queue_arn: String,
    pub received: u64,
    pub deleted: u64,
    pub kept: u64,
    pub failed_batches: u64,
}

impl Mapping {
    pub fn stats(&self) -> MappingStats {
        let c = &self.counters;
        MappingStats {
            function: self.function.spec.name.clone(),
            queue_arn: self.queue_arn.clone(),
            received: c.received.load(Ordering::SeqCst),
            deleted: c.deleted.load(Ordering::SeqCst),
            kept: c.kept.load(Ordering::SeqCst),
            failed_batches: c.failed_batches.load(Ordering::SeqCst),
        }
    }
}

/// Starts the mapping's pollers.
pub fn start(mapping: Arc<Mapping>, sqs: aws_sdk_sqs::Client) {
    for _ in 0..mapping.pollers.max(1) {
        let (mapping, sqs) = (mapping.clone(), sqs.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = poll_once(&mapping, &sqs).await {
                    tracing::warn!(mapping = %mapping.name, error = %e, "SQS poll failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
    }
}

async fn poll_once(mapping: &Mapping, sqs: &aws_sdk_sqs::Client) -> anyhow::Result<()> {
    let mut messages = vec![];
    let started = Instant::now();
    loop {
        let want = (mapping.batch_size - messages.len()).min(10) as i32;
        let received = sqs
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages(want)
            .wait_time_seconds(if messages.is_empty() { 2 } else { 0 })
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        let got = received.messages.unwrap_or_default();
        let none = got.is_empty();
        messages.extend(got);
        if messages.len() >= mapping.batch_size || started.elapsed() >= mapping.window || (none && messages.is_empty()) {
            break;
        }
        if none {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    if messages.is_empty() {
        return Ok(());
    }
    mapping.counters.received.fetch_add(messages.len() as u64, Ordering::SeqCst);
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, serde_json::Value> =
                m.attributes().map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), serde_json::json!(v))).collect()).unwrap_or_default();
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": mapping.queue_arn,
                "awsRegion": crate::template::REGION,
            })
        })
        .collect();
    let payload = Bytes::from(serde_json::to_vec(&serde_json::json!({ "Records": records }))?);
    let outcome = mapping.function.invoke(payload).await;
    let ids: HashSet<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let keep: Option<HashSet<String>> = match &outcome {
        Outcome::Response(bytes) if mapping.report_failures => batch_item_failures(bytes, &ids),
        Outcome::Response(_) => Some(HashSet::new()),
        _ => None,
    };
    let Some(keep) = keep else {
        mapping.counters.failed_batches.fetch_add(1, Ordering::SeqCst);
        mapping.counters.kept.fetch_add(messages.len() as u64, Ordering::SeqCst);
        tracing::info!(mapping = %mapping.name, messages = messages.len(), outcome = %outcome.describe(), "batch failed: every message comes back after the visibility timeout");
        return Ok(());
    };
    let done: Vec<_> = messages.iter().filter(|m| !keep.contains(m.message_id().unwrap_or_default())).collect();
    mapping.counters.kept.fetch_add(keep.len() as u64, Ordering::SeqCst);
    for chunk in done.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(m.receipt_handle()?).build().ok())
            .collect::<Vec<_>>();
        let deleted = sqs
            .delete_message_batch()
            .queue_url(&mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        mapping.counters.deleted.fetch_add(deleted.successful.len() as u64, Ordering::SeqCst);
    }
    Ok(())
}

/// The ids to keep from a `ReportBatchItemFailures` answer; `None` when the answer fails the
/// whole batch (an empty or unknown `itemIdentifier`).
pub fn batch_item_failures(answer: &[u8], batch: &HashSet<&str>) -> Option<HashSet<String>> {
    let value: serde_json::Value = serde_json::from_slice(answer).unwrap_or(serde_json::Value::Null);
    let Some(failures) = value.get("batchItemFailures") else {
        return Some(HashSet::new());
    };
    let Some(list) = failures.as_array() else {
        return if failures.is_null() { Some(HashSet::new()) } else { None };
    };
    let mut keep = HashSet::new();
    for failure in list {
        let id = failure.get("itemIdentifier").and_then(|v| v.as_str()).filter(|id| !id.is_empty())?;
        if !batch.contains(id) {
            return None;
        }
        keep.insert(id.to_owned());
    }
    Some(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_failures_keep_their_messages_and_a_bad_report_keeps_all() {
        let batch: HashSet<&str> = ["a", "b", "c"].into_iter().collect();
        assert_eq!(batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#, &batch), Some(HashSet::from(["b".to_owned()])));
        assert_eq!(batch_item_failures(br#"{"batchItemFailures": []}"#, &batch), Some(HashSet::new()));
        assert_eq!(batch_item_failures(b"null", &batch), Some(HashSet::new()));
        assert_eq!(batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#, &batch), None);
        assert_eq!(batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": "z"}]}"#, &batch), None);
    }
}
