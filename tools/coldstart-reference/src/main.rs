//! The cold-start floor the hub's functions are measured against (`tools/coldstart-bench`): a
//! minimal Rust Lambda that does at init what every hub function must — the runtime, one AWS
//! configuration, a DynamoDB client, and its secrets in one `BatchGetSecretValue` call — and
//! nothing else. Not deployed.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = aws_sdk_dynamodb::Client::new(&config);
    let prefix = std::env::var("REFERENCE_SECRET_PREFIX").unwrap_or_default();
    let ids: Vec<String> = ["hub/token-key", "hub/state-key", "hub/lever-oauth"].iter().map(|n| format!("{prefix}{n}")).collect();
    let secrets = aws_sdk_secretsmanager::Client::new(&config).batch_get_secret_value().set_secret_id_list(Some(ids)).send().await?;
    let held = secrets.secret_values().len();
    let (table, held) = (&table, held);
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        let _ = table;
        Ok::<_, Error>(serde_json::json!({ "secrets": held }))
    }))
    .await
}
