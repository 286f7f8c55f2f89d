//! The queue contract: the same cases against the embedded queue and SQS (moto's server).

use shared::testing as support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::queue::{EmbeddedQueue, MAX_DELAY, Queue, QueueError, SqsQueue};

/// Short, so the "comes back when not acked" case runs in seconds. SQS counts in whole seconds.
const VISIBILITY: Duration = Duration::from_secs(1);

async fn sqs() -> Option<Arc<dyn Queue>> {
    let endpoint = support::moto_endpoint().await?;
    let client = aws_sdk_sqs::Client::new(&shared::aws::sdk_config(Some(&endpoint)).await);
    let name = format!("hub-test-{}", uuid::Uuid::new_v4());
    Some(Arc::new(SqsQueue::create(client, &name, VISIBILITY).await.expect("moto creates the queue")))
}

async fn embedded() -> Option<Arc<dyn Queue>> {
    Some(Arc::new(EmbeddedQueue::with_visibility_timeout(VISIBILITY)))
}

/// Receives until `n` messages arrived or `within` passed (long polls return early on SQS).
async fn receive_n(q: &dyn Queue, n: usize, within: Duration) -> Vec<shared::queue::Received> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        got.extend(q.receive(10, Duration::from_secs(1)).await.unwrap());
    }
    got
}

mod cases {
    use super::*;

    pub async fn send_receive_ack(q: Arc<dyn Queue>) {
        q.send(r#"{"n":1}"#, Duration::ZERO).await.unwrap();
        q.send(r#"{"n":2}"#, Duration::ZERO).await.unwrap();
        let got = receive_n(&*q, 2, Duration::from_secs(5)).await;
        let mut bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
        bodies.sort();
        assert_eq!(bodies, [r#"{"n":1}"#, r#"{"n":2}"#]);
        assert!(got.iter().all(|m| m.receive_count == 1));
        for m in &got {
            q.ack(&m.receipt).await.unwrap();
        }
        // Acked messages do not come back, not even after the visibility timeout.
        tokio::time::sleep(VISIBILITY + Duration::from_millis(300)).await;
        assert!(q.receive(10, Duration::from_secs(1)).await.unwrap().is_empty());
    }

    pub async fn delayed_message_is_invisible_until_due(q: Arc<dyn Queue>) {
        let sent = Instant::now();
        q.send("later", Duration::from_secs(2)).await.unwrap();
        assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty(), "visible before its delay");
        let got = receive_n(&*q, 1, Duration::from_secs(6)).await;
        assert_eq!(got.len(), 1);
        assert!(sent.elapsed() >= Duration::from_millis(1_900), "arrived after {:?}", sent.elapsed());
        q.ack(&got[0].receipt).await.unwrap();
    }

    pub async fn unacked_message_comes_back_with_a_higher_count(q: Arc<dyn Queue>) {
        q.send("retry me", Duration::ZERO).await.unwrap();
        let first = receive_n(&*q, 1, Duration::from_secs(5)).await;
        assert_eq!((first.len(), first[0].receive_count), (1, 1));
        // Hidden while another receiver has it…
        assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
        // …and back once the visibility timeout passes without an ack.
        let second = receive_n(&*q, 1, Duration::from_secs(6)).await;
        assert_eq!((second.len(), second[0].body.as_str(), second[0].receive_count), (1, "retry me", 2));
        q.ack(&second[0].receipt).await.unwrap();
        tokio::time::sleep(VISIBILITY + Duration::from_millis(300)).await;
        assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
    }

    pub async fn limits_are_refused_before_sending(q: Arc<dyn Queue>) {
        let too_long = MAX_DELAY + Duration::from_secs(1);
        assert!(matches!(q.send("x", too_long).await, Err(QueueError::Invalid(_))));
        assert!(matches!(q.receive(11, Duration::ZERO).await, Err(QueueError::Invalid(_))));
        assert!(matches!(q.send(&"x".repeat(256 * 1024 + 1), Duration::ZERO).await, Err(QueueError::Invalid(_))));
        assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty(), "nothing was sent");
    }
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded_queue {
            $(
                #[tokio::test]
                async fn $case() {
                    super::cases::$case(super::embedded().await.unwrap()).await
                }
            )*
        }
        mod sqs_on_moto {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(q) = super::sqs().await {
                        super::cases::$case(q).await
                    }
                }
            )*
        }
    };
}

contract!(
    send_receive_ack,
    delayed_message_is_invisible_until_due,
    unacked_message_comes_back_with_a_higher_count,
    limits_are_refused_before_sending,
);
