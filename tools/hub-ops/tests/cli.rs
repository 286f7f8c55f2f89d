//! The operator CLI against DynamoDB Local: table, partner, key issue → use → revoke.

use std::process::{Command, Output};
use std::sync::Arc;

use shared::clock::SystemClock;
use shared::flows::partners::Partners;
use shared::store::Records;
use shared::store::dynamo::DynamoStore;

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

/// `hub-ops` with a local hub's environment: embedded store and local secrets in `dir`.
fn local_ops(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hub-ops"))
        .args(args)
        .env("HUB_STORE", format!("embedded:{}", dir.join("table.log").display()))
        .env("HUB_SECRETS", format!("local:{}", dir.join("secrets.json").display()))
        .env("HUB_LEVER", "http://127.0.0.1:9")
        .output()
        .expect("hub-ops runs")
}

fn local_records(dir: &std::path::Path) -> Records {
    let store = shared::store::embedded::EmbeddedStore::open(dir.join("table.log")).unwrap();
    Records::new(Arc::new(store), Arc::new(SystemClock))
}

#[tokio::test]
async fn operator_inspects_connections_and_starts_a_sync_or_an_import() {
    use shared::core::connection::{Connection, ConnectionStatus};
    use shared::core::flow_runs::ScheduledFlow;
    use shared::flows::dispatch::{FlowRun, RunTrigger};
    use shared::queue::Queue as _;

    let dir = tempfile::tempdir().unwrap();
    let secrets = serde_json::json!({ "hub/lever-oauth": "{\"client_id\":\"c\",\"client_secret\":\"s\"}" });
    shared::secrets::local::write_private(&dir.path().join("secrets.json"), &secrets.to_string()).unwrap();
    {
        let records = local_records(dir.path());
        let mut active = Connection::new("conn-active", "hrcloud", 1_700_000_000_000);
        active.status = ConnectionStatus::Active;
        records.create(&active).await.unwrap();
        records
            .create(&shared::flows::connections::PartnerConnection { partner_id: "hrcloud".into(), connection_id: "conn-active".into() })
            .await
            .unwrap();
        records.create(&Connection::new("conn-pending", "hrcloud", 1_700_000_000_000)).await.unwrap();
        records
            .create(&shared::flows::connections::PartnerConnection { partner_id: "hrcloud".into(), connection_id: "conn-pending".into() })
            .await
            .unwrap();
    } // the store is closed (unlocked) before hub-ops opens it
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let listed = ok(local_ops(dir.path(), &["connections", "hrcloud"]));
    assert!(listed.contains("conn-active  active") && listed.contains("conn-pending  pending"), "{listed}");
    let shown: serde_json::Value = serde_json::from_str(&ok(local_ops(dir.path(), &["connection", "hrcloud", "conn-active"]))).unwrap();
    assert_eq!(shown["status"], "active");
    let foreign = local_ops(dir.path(), &["connection", "outhire", "conn-active"]);
    assert!(!foreign.status.success() && text(&foreign).contains("outhire has no connection conn-active"), "{}", text(&foreign));

    assert!(ok(local_ops(dir.path(), &["import-hires", "hrcloud", "conn-active", "--all"])).contains("hires run of conn-active queued"));
    let pending = local_ops(dir.path(), &["sync", "hrcloud", "conn-pending"]);
    assert!(!pending.status.success() && text(&pending).contains("is pending"), "{}", text(&pending));

    // The run is on the (durable, local) hires queue as the partner API would have put it.
    let records = local_records(dir.path());
    let hires = shared::queue::EmbeddedQueue::durable(records, "hires", std::time::Duration::from_secs(30)).await.unwrap();
    let got = hires.receive(10, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    let run = FlowRun::parse(&got[0].body).unwrap();
    assert_eq!((run.connection_id.as_str(), run.flow, run.trigger), ("conn-active", ScheduledFlow::Hires, RunTrigger::Manual));
    assert_eq!(run.options["all"], true);
}

#[tokio::test]
async fn operator_lists_and_redrives_a_dead_letter_queue() {
    use shared::queue::Queue as _;
    let Some(moto) = shared::testing::moto_endpoint().await else { return };
    let sqs = aws_sdk_sqs::Client::new(&shared::aws::sdk_config(Some(&moto)).await);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let live = shared::queue::SqsQueue::create(sqs.clone(), &format!("jobs-{run}"), std::time::Duration::from_secs(1)).await.unwrap();
    let dead = shared::queue::SqsQueue::create(sqs, &format!("jobs-dead-{run}"), std::time::Duration::from_secs(1)).await.unwrap();
    for n in 0..3 {
        dead.send(&format!("{{\"n\":{n}}}"), std::time::Duration::ZERO).await.unwrap();
    }
    let sqs_ops = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hub-ops"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &moto)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .unwrap()
    };
    let shown = sqs_ops(&["dead-letters", dead.queue_url()]);
    assert!(shown.status.success() && text(&shown).contains("{\"n\":"), "{}", text(&shown));
    std::thread::sleep(std::time::Duration::from_millis(1500)); // shown, not removed: visible again after the timeout
    let moved = sqs_ops(&["redrive", dead.queue_url(), live.queue_url()]);
    assert!(moved.status.success() && text(&moved).contains("3 message(s) moved"), "{}", text(&moved));
    let mut bodies = vec![];
    for _ in 0..5 {
        for m in live.receive(10, std::time::Duration::from_millis(200)).await.unwrap() {
            bodies.push(m.body);
        }
    }
    bodies.sort();
    assert_eq!(bodies, vec!["{\"n\":0}", "{\"n\":1}", "{\"n\":2}"]);
    assert!(dead.receive(10, std::time::Duration::from_millis(200)).await.unwrap().is_empty(), "the dead-letter queue is empty");
    let bad = sqs_ops(&["redrive", "not-a-url", live.queue_url()]);
    assert!(!bad.status.success() && text(&bad).contains("expected a queue URL"), "{}", text(&bad));
}
