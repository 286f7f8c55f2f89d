//! The operator CLI against DynamoDB Local: table, partner, key issue → use → revoke.

use std::process::{Command, Output};
use std::sync::Arc;

use shared::clock::SystemClock;
use shared::flows::partners::Partners;
use shared::store::dynamo::DynamoStore;
use shared::store::Records;

fn ops(table: &str, endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hub-ops"))
        .args(args)
        .env("HUB_TABLE", table)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("hub-ops runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test]
async fn operator_registers_a_partner_and_manages_its_keys() {
    let Some(endpoint) = shared::testing::service_endpoint("HUB_TEST_DYNAMODB_ENDPOINT", "Amazon DynamoDB Local") else { return };
    let table = format!("ops-{}", uuid::Uuid::new_v4().simple());
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", text(&o));
        o
    };
    ok(ops(&table, &endpoint, &["create-table"]));
    ok(ops(&table, &endpoint, &["register", "outhire", "--return-url", "https://app.outhire.example/lever"]));
    let issued = ok(ops(&table, &endpoint, &["issue-key", "outhire", "--label", "prod"]));
    let key = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("lhk_"), "the key alone on stdout: {key}");

    let client = shared::testing::dynamodb_client().await.unwrap();
    let partners = Partners::new(Records::new(Arc::new(DynamoStore::new(client, table.clone())), Arc::new(SystemClock)));
    assert_eq!(partners.authenticate(&key).await.unwrap().as_deref(), Some("outhire"));

    let listed = text(&ok(ops(&table, &endpoint, &["list-keys", "outhire"])));
    assert!(listed.contains("prod") && !listed.contains(&key), "{listed}");
    let key_id = listed.split_whitespace().next().unwrap().to_owned();
    ok(ops(&table, &endpoint, &["revoke-key", "outhire", &key_id]));
    assert_eq!(partners.authenticate(&key).await.unwrap(), None, "revoked at once");

    let again = ops(&table, &endpoint, &["revoke-key", "outhire", &key_id]);
    assert!(!again.status.success() && text(&again).contains("has no key"));
    let unknown = ops(&table, &endpoint, &["register", "nobody", "--return-url", "https://x.example/"]);
    assert!(!unknown.status.success() && text(&unknown).contains("no bundled profile nobody"));
    let insecure = ops(&table, &endpoint, &["register", "outhire", "--return-url", "http://app.outhire.example/"]);
    assert!(!insecure.status.success() && text(&insecure).contains("https"), "{}", text(&insecure));
}

#[test]
fn profile_check_names_the_file_field_and_reason() {
    let good = Command::new(env!("CARGO_BIN_EXE_hub-ops")).arg("profiles").output().unwrap();
    assert!(good.status.success());
    assert_eq!(String::from_utf8_lossy(&good.stdout).lines().count(), 5);
    let broken = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/tests/fixtures/profiles/broken");
    let bad = Command::new(env!("CARGO_BIN_EXE_hub-ops")).args(["profiles", "--dir", broken]).output().unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("bad-cadence.toml") && err.contains("flows.jobs.cadence"), "{err}");
}
