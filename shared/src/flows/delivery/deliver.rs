//! Deliver: one attempt of one delivery, from one queue message.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use super::egress::{check_literal_host, refusal_in};
use super::policy::parse_retry_after;
use super::records::{DeadLetter, Delivery, DeliveryClaim, DeliveryMessage, DeliveryStatus, PartnerWebhook, StoredEvent, webhook_secret_context};
use super::{DeliveryError, EventDelivery, signature};
use crate::core::egress::Refused;
use crate::queue::MAX_DELAY;
use crate::store::keys;

/// A claim outlives the request it covers by this much, for the record write after it.
const CLAIM_MARGIN_MS: i64 = 30_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The endpoint answered 2xx.
    Delivered { attempt: u32, status: u16 },
    /// Failed (or re-armed); the next attempt is queued with this delay.
    Retrying { attempt: u32, delay: Duration },
    /// The last attempt failed, or the endpoint or event is gone.
    Dead { attempts: u32 },
    /// Another worker holds this attempt: leave the message unacked; it comes back after the
    /// visibility timeout, by when that worker has recorded the outcome (or its claim expired).
    InFlight,
    /// Nothing to do for this message; ack it.
    Skipped(SkipReason),
}

impl DeliveryOutcome {
    /// Whether the queue message is done with (ack it; in Lambda: not a batch item failure).
    pub fn ack(&self) -> bool {
        !matches!(self, DeliveryOutcome::InFlight)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Not a delivery message.
    Malformed,
    /// The delivery no longer exists (expired from the outbox).
    Unknown,
    /// Delivered or dead already.
    Finished,
    /// For an earlier run (before a replay) or an attempt already made.
    Stale,
}

/// What one attempt came to.
enum Attempt {
    Delivered {
        status: u16,
    },
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
    /// No attempt can ever succeed (endpoint deleted, event gone): dead at once.
    Impossible {
        error: String,
    },
}

fn is_for(d: &Delivery, m: &DeliveryMessage) -> bool {
    d.status == DeliveryStatus::Pending && d.run == m.run && d.attempts + 1 == m.attempt
}

impl EventDelivery {
    /// Handles one queue message. `Err` means the store or queue failed: leave the message
    /// unacked so it comes back. Everything else is in the outcome.
    pub async fn deliver(&self, message: &str) -> Result<DeliveryOutcome, DeliveryError> {
        let Ok(msg) = serde_json::from_str::<DeliveryMessage>(message) else {
            tracing::warn!("dropping a queue message that is not a delivery message");
            return Ok(DeliveryOutcome::Skipped(SkipReason::Malformed));
        };
        let key = keys::delivery(&msg.partner_id, &msg.event_id, &msg.webhook_id);
        let Some(current) = self.records.get::<Delivery>(&key).await? else {
            return Ok(DeliveryOutcome::Skipped(SkipReason::Unknown));
        };
        let d = current.record;
        if d.status != DeliveryStatus::Pending {
            return Ok(DeliveryOutcome::Skipped(SkipReason::Finished));
        }
        if d.run != msg.run {
            return Ok(DeliveryOutcome::Skipped(SkipReason::Stale));
        }
        if msg.attempt == d.attempts
            && let Some(next_at_ms) = d.next_attempt_at_ms
        {
            // This attempt's failure is recorded but the message is back: queueing the next
            // attempt must have failed. Queue it again (a duplicate is harmless, see claims).
            let wait = u64::try_from(next_at_ms - self.records.clock().now_ms()).unwrap_or(0);
            let delay = Duration::from_millis(wait).min(MAX_DELAY);
            self.enqueue(&d, delay).await?;
            return Ok(DeliveryOutcome::Retrying { attempt: msg.attempt, delay });
        }
        if !is_for(&d, &msg) {
            return Ok(DeliveryOutcome::Skipped(SkipReason::Stale));
        }

        // Claim the attempt, so a duplicate message does not POST it a second time.
        let now_ms = self.records.clock().now_ms();
        let timeout_ms = i64::try_from(self.policy.request_timeout.as_millis()).unwrap_or(i64::MAX / 4);
        let claim = DeliveryClaim { attempt: msg.attempt, until_ms: now_ms + timeout_ms + CLAIM_MARGIN_MS };
        let mut held_elsewhere = false;
        let claimed = self
            .records
            .update::<Delivery>(&key, |d| {
                held_elsewhere = d.claim.is_some_and(|c| c.attempt == msg.attempt && c.until_ms > now_ms);
                if held_elsewhere || !is_for(d, &msg) {
                    return false;
                }
                d.claim = Some(claim);
                true
            })
            .await?;
        if held_elsewhere {
            return Ok(DeliveryOutcome::InFlight);
        }
        if claimed.is_none_or(|c| c.record.claim != Some(claim)) {
            return Ok(DeliveryOutcome::Skipped(SkipReason::Stale));
        }

        let attempt = self.attempt(&msg).await?;
        self.record_attempt(&msg, attempt).await
    }

    /// Loads what the POST needs and makes it.
    async fn attempt(&self, msg: &DeliveryMessage) -> Result<Attempt, DeliveryError> {
        let event = self.records.get::<StoredEvent>(&keys::outbound_event(&msg.partner_id, &msg.event_id)).await?;
        let Some(event) = event.map(|v| v.record) else {
            return Ok(Attempt::Impossible { error: "the event is no longer in the outbox".into() });
        };
        let webhook = self.records.get::<PartnerWebhook>(&keys::partner_webhook(&msg.partner_id, &msg.webhook_id)).await?;
        let Some(webhook) = webhook.map(|v| v.record) else {
            return Ok(Attempt::Impossible { error: "the webhook endpoint was deleted".into() });
        };
        let Ok(target) = url::Url::parse(&webhook.url) else {
            return Ok(Attempt::Impossible { error: "the webhook URL is not a URL".into() });
        };
        if let Err(refused) = check_literal_host(&target, self.egress_policy()) {
            tracing::warn!(partner_id = %webhook.partner_id, webhook_id = %webhook.id, %refused, "webhook address refused");
            return Ok(Attempt::Impossible { error: refusal_message(&refused) });
        }
        let context = webhook_secret_context(&webhook.partner_id, &webhook.id);
        let open = |sealed| self.cipher.open(sealed, &context).map_err(|source| DeliveryError::Secret { webhook_id: webhook.id.clone(), source });
        let now = self.records.clock().now();
        let secrets = webhook.signing_secrets_at(self.records.clock().now_ms()).map(open).collect::<Result<Vec<_>, _>>()?;
        let secrets: Vec<&str> = secrets.iter().map(|s| s.expose()).collect();
        let signature = signature::sign_with_each(&secrets, now.unix_timestamp(), event.body.as_bytes());
        let response = self
            .http
            .post(target)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("Hub-Event-Id", &event.id)
            .header("Hub-Event-Type", &event.event_type)
            .header("Hub-Delivery-Attempt", msg.attempt.to_string())
            .header(signature::HEADER, signature)
            .body(event.body)
            .send()
            .await;
        Ok(match response {
            Ok(r) if r.status().is_success() => Attempt::Delivered { status: r.status().as_u16() },
            Ok(r) => {
                let status = r.status();
                let retry_after = if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
                    r.headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::from(self.records.clock().now())))
                } else {
                    None
                };
                // Status and a fixed phrase only: the body is never read, so nothing the
                // endpoint says (internal details, someone else's data) reaches the listing.
                Attempt::Failed { status: Some(status.as_u16()), error: status_message(status), retry_after }
            }
            Err(e) => match refusal_in(&e) {
                Some(refusal) => {
                    tracing::warn!(partner_id = %webhook.partner_id, webhook_id = %webhook.id, %refusal, "webhook address refused");
                    Attempt::Impossible { error: refusal_message(&refusal.refused) }
                }
                // Without the URL: partners sometimes put a token in it.
                None if e.is_timeout() => {
                    Attempt::Failed { status: None, error: format!("no answer within {:?}", self.policy.request_timeout), retry_after: None }
                }
                None => Attempt::Failed { status: None, error: crate::telemetry::error_chain(&e.without_url()), retry_after: None },
            },
        })
    }

    /// Records the attempt (compare-and-set on the same run and attempt) and queues what follows.
    async fn record_attempt(&self, msg: &DeliveryMessage, attempt: Attempt) -> Result<DeliveryOutcome, DeliveryError> {
        let key = keys::delivery(&msg.partner_id, &msg.event_id, &msg.webhook_id);
        let now_ms = self.records.clock().now_ms();
        let last = msg.attempt >= self.policy.max_attempts;
        let delay = match &attempt {
            Attempt::Failed { retry_after, .. } if !last => Some(self.policy.retry_delay(msg.attempt, *retry_after, rand::random::<f64>())),
            _ => None,
        };
        let mut applied = false;
        let stored = self
            .records
            .update::<Delivery>(&key, |d| {
                applied = false;
                if !is_for(d, msg) {
                    return false;
                }
                d.attempts = msg.attempt;
                d.claim = None;
                d.next_attempt_at_ms = None;
                match &attempt {
                    Attempt::Delivered { status } => {
                        d.status = DeliveryStatus::Delivered;
                        d.status_since_ms = now_ms;
                        d.delivered_at_ms = Some(now_ms);
                        d.last_status_code = Some(*status);
                        d.last_error = None;
                    }
                    Attempt::Failed { status, error, .. } => {
                        d.last_status_code = *status;
                        d.last_error = Some(error.clone());
                        match delay {
                            Some(delay) => d.next_attempt_at_ms = Some(now_ms + delay.as_millis() as i64),
                            None => {
                                d.status = DeliveryStatus::Dead;
                                d.status_since_ms = now_ms;
                            }
                        }
                    }
                    Attempt::Impossible { error } => {
                        d.last_status_code = None;
                        d.last_error = Some(error.clone());
                        d.status = DeliveryStatus::Dead;
                        d.status_since_ms = now_ms;
                    }
                }
                applied = true;
                true
            })
            .await?;
        let Some(stored) = stored.filter(|_| applied).map(|v| v.record) else {
            // Replayed (or deleted) while the request was out; the new run carries on.
            return Ok(DeliveryOutcome::Skipped(SkipReason::Stale));
        };

        let (partner_id, event_id, webhook_id) = (&msg.partner_id, &msg.event_id, &msg.webhook_id);
        match stored.status {
            DeliveryStatus::Delivered => {
                let status = stored.last_status_code.unwrap_or(200);
                tracing::info!(partner_id, event_id, webhook_id, attempt = msg.attempt, status, "webhook delivered");
                crate::metrics::count("delivery", Some(partner_id), "EventsDelivered", 1);
                // From the event's creation to its delivery: retries and queue lag included.
                crate::metrics::lag("delivery", Some(partner_id), "DeliveryLag", stored.created_at_ms, now_ms);
                Ok(DeliveryOutcome::Delivered { attempt: msg.attempt, status })
            }
            DeliveryStatus::Pending => {
                let delay = delay.unwrap_or_default();
                tracing::warn!(
                    partner_id,
                    event_id,
                    webhook_id,
                    attempt = msg.attempt,
                    status = stored.last_status_code,
                    error = stored.last_error.as_deref(),
                    retry_in_ms = delay.as_millis() as u64,
                    "webhook attempt failed; retrying"
                );
                self.enqueue(&stored, delay).await?;
                crate::metrics::count("delivery", Some(partner_id), "DeliveryAttemptsFailed", 1);
                Ok(DeliveryOutcome::Retrying { attempt: msg.attempt, delay })
            }
            DeliveryStatus::Dead => {
                tracing::error!(
                    partner_id,
                    event_id,
                    webhook_id,
                    attempts = stored.attempts,
                    status = stored.last_status_code,
                    error = stored.last_error.as_deref(),
                    "webhook delivery dead; replay to try again"
                );
                self.send_dead_letter(&stored).await;
                crate::metrics::count("delivery", Some(partner_id), "DeliveriesDead", 1);
                Ok(DeliveryOutcome::Dead { attempts: stored.attempts })
            }
        }
    }

    /// Best effort: the delivery record is the truth; the dead-letter queue feeds alarms.
    async fn send_dead_letter(&self, d: &Delivery) {
        let Some(queue) = &self.dead_letters else { return };
        let letter = DeadLetter {
            partner_id: d.partner_id.clone(),
            event_id: d.event_id.clone(),
            webhook_id: d.webhook_id.clone(),
            event_type: d.event_type.clone(),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
        };
        let body = serde_json::to_string(&letter).expect("dead letter serializes");
        if let Err(e) = queue.send(&body, Duration::ZERO).await {
            tracing::warn!(event_id = %d.event_id, webhook_id = %d.webhook_id, error = %e, "could not send dead letter");
        }
    }

    /// Receives up to `max` messages from the delivery queue, delivers each and acks those that
    /// are done. For the local worker and tests; in Lambda the SQS event source does this.
    /// Returns the outcomes; a failed message stays in the queue and is logged.
    pub async fn work_once(&self, max: usize, wait: Duration) -> Result<Vec<DeliveryOutcome>, DeliveryError> {
        let messages = self.queue.receive(max, wait).await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for m in messages {
            let span = crate::telemetry::message_span(None, &m.body);
            match tracing::Instrument::instrument(self.deliver(&m.body), span).await {
                Ok(outcome) => {
                    if outcome.ack() {
                        self.queue.ack(&m.receipt).await?;
                    }
                    outcomes.push(outcome);
                }
                Err(e) => tracing::error!(error = %e, receive_count = m.receive_count, "delivery message failed; it will come back"),
            }
        }
        Ok(outcomes)
    }
}

/// What a delivery records for a non-2xx answer.
fn status_message(status: StatusCode) -> String {
    let reason = status.canonical_reason().unwrap_or("non-standard status");
    if status.is_redirection() {
        format!("HTTP {} {reason}: redirects are not followed; register the final URL", status.as_u16())
    } else {
        format!("HTTP {} {reason}", status.as_u16())
    }
}

/// What a delivery records when the egress guard refused the target (the address stays in the log).
fn refusal_message(refused: &Refused) -> String {
    format!("refused: the webhook host is {refused}")
}
