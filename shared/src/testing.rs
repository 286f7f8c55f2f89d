//! Test support (feature `testing`): reaching the real services the test stack
//! (`scripts/test`) starts.
//!
//! A test that needs a service fails when it is missing. Outside CI a developer may opt out
//! with `HUB_SKIP_MISSING_SERVICES=1`, and the skip is printed, never silent.

use std::sync::Arc;

use crate::store::dynamo::DynamoStore;

pub fn service_endpoint(var: &str, what: &str) -> Option<String> {
    if let Ok(url) = std::env::var(var)
        && !url.is_empty() {
            return Some(url);
        }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let opted_out = std::env::var("HUB_SKIP_MISSING_SERVICES").is_ok_and(|v| v == "1");
    if opted_out && !in_ci {
        eprintln!("SKIPPED: {what} is not running ({var} unset; HUB_SKIP_MISSING_SERVICES=1)");
        return None;
    }
    panic!("{what} is required but {var} is not set: run the tests with scripts/test, which starts it");
}

/// A DynamoDB client for DynamoDB Local, or `None` when skipping is allowed.
pub async fn dynamodb_client() -> Option<aws_sdk_dynamodb::Client> {
    let endpoint = service_endpoint("HUB_TEST_DYNAMODB_ENDPOINT", "Amazon DynamoDB Local")?;
    Some(aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config(Some(&endpoint)).await))
}

/// A fresh, empty table in DynamoDB Local.
pub async fn dynamo_store() -> Option<Arc<DynamoStore>> {
    let client = dynamodb_client().await?;
    let store = DynamoStore::new(client, format!("hub-test-{}", uuid::Uuid::new_v4()));
    store.ensure_table().await.expect("create table in DynamoDB Local");
    Some(Arc::new(store))
}

pub async fn moto_endpoint() -> Option<String> {
    service_endpoint("HUB_TEST_MOTO_ENDPOINT", "moto server")
}
