//! A small simulated day of a fleet: 50 connections, 24 simulated hours, on DynamoDB Local with
//! SQS on moto (`scripts/test` starts both; without them the test fails). Asserts the counts fit
//! the profiles' schedules and that nothing failed; the figures themselves are the bench's
//! (`hub-bench fleet`, README). 50, not more: the debug build runs a day of 200 connections'
//! 16,000 job syncs in about 8 minutes on a 2-core machine, too much of CI's time.

use hub_bench::fleet::{FleetConfig, PROFILES, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_day_of_50_connections_runs_every_schedule_and_nothing_fails() {
    let report = run(FleetConfig { connections: 50, hours: 24, store: "dynamodb".into(), postings: 20 }).await;
    let f = &report.per_function;
    for (name, usage) in f {
        assert_eq!(usage.failures, 0, "{name}: {usage:?}");
    }
    assert_eq!(f["dispatcher"].invocations, 24 * 60, "one a minute");
    assert_eq!(f["delivery-sweeper"].invocations, 24 * 60);
    assert_eq!(f["token-keepalive"].invocations, 4, "every six hours");
    // 10 connections a profile; ERC syncs every 5 minutes, Outhire every 15, HireUp hourly,
    // each once at connection too; UpWage has no jobs flow and HR Cloud imports hires daily.
    assert_eq!(report.connections_per_profile.values().sum::<usize>(), 50);
    assert!(report.connections_per_profile.keys().all(|p| PROFILES.contains(&p.as_str())));
    let syncs = f["job-poller"].invocations;
    let expected = 10 * (24 * 60 / 5) + 10 * (24 * 60 / 15) + 10 * 24;
    assert!(syncs >= expected * 9 / 10 && syncs <= expected * 11 / 10 + 30, "{syncs} job syncs, about {expected} expected");
    assert!(
        f.get("hires-import").is_some_and(|h| (10..=20).contains(&h.invocations)),
        "one daily import per HR Cloud connection: {:?}",
        f.get("hires-import")
    );
    // The dispatcher's work follows the due connections: one due flow per job sync or import.
    let runs = syncs + f["hires-import"].invocations;
    assert!(report.dispatched <= runs && report.dispatched * 10 >= runs * 9, "{} dispatched for {runs} runs", report.dispatched);
    assert!(f["job-poller"].write_units > 0.0 && f["dispatcher"].read_units > 0.0, "capacity reported by DynamoDB Local");
    assert!(f["dispatcher"].sqs_requests >= report.dispatched, "one send per due flow at least");
    // The due index holds keys only, so a dispatch writes the connection (3 units for its
    // 2-3 KB) and moves its index entry (2 small writes); an index of whole items made it 8.2.
    let per_dispatch = f["dispatcher"].write_units / report.dispatched.max(1) as f64;
    assert!(per_dispatch <= 6.0, "{per_dispatch:.2} write units per dispatched flow");
    // Secrets are read once per environment start (each assumed to live an hour), not per
    // invocation; the dispatcher reads none.
    assert_eq!(f["dispatcher"].secrets_calls, 0);
    let poller_reads = f["job-poller"].secrets_calls;
    assert!((24 * 2..=24 * 16 * 2).contains(&poller_reads), "{poller_reads} job-poller secret reads");
    assert!(f["job-poller"].log_bytes > 0 && f["job-poller"].store_calls >= syncs * 2);
}
