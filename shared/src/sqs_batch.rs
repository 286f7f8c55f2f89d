//! One SQS batch for a queue-triggered Lambda: each message to the handler, and those it could not
//! finish reported as batch item failures, so SQS redelivers just them (and after the queue's
//! redrive limit, dead-letters them). A message without a body is dropped: keeping it would only
//! poison the queue. Each message is handled in its own span (`telemetry::message_span`).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use tracing::Instrument as _;

/// `handle` answers whether the message is done (`true` = delete it).
pub async fn handle_batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let done = match record.body {
            Some(body) => {
                let span = crate::telemetry::message_span(record.message_id.as_deref(), &body);
                handle(body).instrument(span).await
            }
            None => true,
        };
        if !done {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;

    fn message(id: &str, body: Option<&str>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = body.map(Into::into);
        m
    }

    #[tokio::test]
    async fn only_unfinished_messages_are_reported_for_redelivery() {
        let mut event = SqsEvent::default();
        event.records = vec![message("a", Some("ok")), message("b", Some("retry")), message("c", None)];
        let response = handle_batch(event, |body| async move { body == "ok" }).await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, vec!["b"]);
    }
}
