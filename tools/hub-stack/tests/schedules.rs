//! The template's schedules as EventBridge runs them: `--clock-offset 25h` moves the
//! dispatcher's scheduled time (its `Input`) past tonight's daily hires run, so the import runs
//! through the dispatcher, the hires queue and the hires-import function within a minute, and
//! finds a hire that only the daily run could find (Lever's webhooks are off).

mod common;

use std::time::Duration;

use common::{RunningStack, wait_for};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_hires_import_runs_from_the_schedule_through_the_stack() {
    let stack = RunningStack::start(&["--consent", "auto", "--lever-webhooks-off", "--clock-offset", "25h"]);
    assert!(stack.output().contains("Schedules run 25h ahead of the real time"), "{}", stack.output());
    let (key, connection) = stack.connect("hrcloud").await;
    let hired = shared::testing::hire_a_seeded_candidate(&stack.http, &stack.lever).await;
    // The dispatcher runs each minute: within two of them the import has run.
    let hire = wait_for("the hire found by the daily import", Duration::from_secs(150), || async {
        let page: Value =
            stack.http.get(format!("{}/v1/connections/{connection}/hires", stack.hub)).bearer_auth(&key).send().await.ok()?.json().await.ok()?;
        page["data"].as_array()?.iter().find(|h| h["lever"]["opportunity_id"] == hired.as_str()).cloned()
    })
    .await;
    assert_eq!(hire["found_by"], "daily", "{hire}");
    // The import's invocation ends after it has recorded the hire.
    let report = wait_for("the import's invocation over", Duration::from_secs(60), || async {
        let report = stack.report().await;
        (report["functions"]["hires-import"]["in_flight"] == 0).then_some(report)
    })
    .await;
    for function in ["dispatcher", "hires-import"] {
        let stats = &report["functions"][function];
        assert!(stats["invocations"].as_u64() >= Some(1) && stats["errors"] == 0 && stats["crashes"] == 0, "{function}: {stats}");
    }
    let hires_mapping = report["mappings"].as_array().unwrap().iter().find(|m| m["function"] == "hires-import").unwrap();
    assert!(hires_mapping["deleted"].as_u64() >= Some(1), "the run came through the hires queue: {hires_mapping}");
    let checks = stack.checks().await;
    assert_eq!(checks["passed"], true, "{checks}");
    assert_eq!(checks["checks"]["not_started"], json!([]), "every function started: {checks}");
}
