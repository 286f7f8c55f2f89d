//! What `hub-bench`'s subcommands share with their tests: the fleet simulation, the cost model
//! it is priced with, and the queues a bench runs the hub on.

pub mod cost;
pub mod fleet;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shared::hub::QueueName;
use shared::queue::{EmbeddedQueue, Queue, SqsQueue};
use shared::store::{Records, Store};

/// The queues the hub runs on: durable ones kept in the embedded store (as `hub-local` has
/// them), or real SQS queues on moto beside DynamoDB Local.
pub async fn queues(store: &Arc<dyn Store>, kind: &str) -> HashMap<QueueName, Arc<dyn Queue>> {
    let mut out: HashMap<QueueName, Arc<dyn Queue>> = HashMap::new();
    match kind {
        "embedded" => {
            let records = Records::new(store.clone(), Arc::new(shared::clock::SystemClock));
            for name in QueueName::ALL {
                let q = EmbeddedQueue::durable(records.clone(), name.as_str(), Duration::from_secs(30)).await.unwrap();
                out.insert(name, Arc::new(q));
            }
        }
        _ => {
            let moto = shared::testing::moto_endpoint().await.expect("moto (HUB_TEST_MOTO_ENDPOINT) beside DynamoDB Local");
            let sqs = aws_sdk_sqs::Client::new(&shared::aws::sdk_config(Some(&moto)).await);
            let run = uuid::Uuid::new_v4().simple().to_string();
            for name in QueueName::ALL {
                let q = SqsQueue::create(sqs.clone(), &format!("bench-{}-{run}", name.as_str()), Duration::from_secs(30)).await.unwrap();
                out.insert(name, Arc::new(q));
            }
        }
    }
    out
}
