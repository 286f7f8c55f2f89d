//! Lever's rate limit shared by every process through the store (`lever::rate_budget`): two
//! Lever clients with their own budget instances — two Lambdas — on one store, calling the
//! sandbox (its real limit: 10/s, bursts of 20) for one connection at once, get no 429 and
//! together keep to the limit; a 429 seen by one pauses the other. On the embedded store and
//! on DynamoDB Local.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lever_sandbox::{FaultRule, Sandbox, SandboxConfig};
use shared::clock::SystemClock;
use shared::lever::http::{LeverConfig, LeverHttpClient};
use shared::lever::page::PageRequest;
use shared::lever::port::{LeverApi, LeverAuth};
use shared::lever::rate_budget::{RateBudgetPolicy, StoreRateBudget};
use shared::lever::retry::RetryPolicy;
use shared::lever::secret::{AccessToken, ClientSecret};
use shared::store::embedded::EmbeddedStore;
use shared::store::{Records, Store};
use shared::testing;

fn client(sb: &Sandbox, store: &Arc<dyn Store>) -> LeverHttpClient {
    let defaults = SandboxConfig::default();
    let mut cfg = LeverConfig::local(&sb.base_url(), defaults.client_id, ClientSecret::new(defaults.client_secret)).unwrap();
    // Any 429 would surface as an error instead of being retried away.
    cfg.retry = RetryPolicy::none();
    let budget = StoreRateBudget::new(Records::new(store.clone(), Arc::new(SystemClock)), RateBudgetPolicy::default());
    LeverHttpClient::with_rate_gate(cfg, Arc::new(budget)).unwrap()
}

async fn two_processes_share_one_connections_budget(store: Arc<dyn Store>) {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let auth = LeverAuth::bearer("conn-1", AccessToken::new(sb.admin().access_token()));
    let (a, b) = (client(&sb, &store), client(&sb, &store));
    let start = Instant::now();
    let calls = (0..60).map(|i| {
        let (c, auth) = (if i % 2 == 0 { a.clone() } else { b.clone() }, auth.clone());
        tokio::spawn(async move { c.list_stages(&auth, PageRequest::default()).await.map(|_| ()) })
    });
    let results = futures::future::join_all(calls).await;
    let elapsed = start.elapsed();
    let failed: Vec<String> = results.into_iter().filter_map(|r| r.unwrap().err().map(|e| e.to_string())).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(sb.admin().counters().rate_limited, 0, "no 429 from Lever");
    // 18 at once (Lever's 20 less the reserve), the other 42 at 10 per second.
    assert!(elapsed >= Duration::from_millis(4_000), "the two kept to the limit together: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(6_500), "and did not wait much beyond it: {elapsed:?}");
    println!("60 requests from two processes sharing one budget: {elapsed:?}, 0 × 429");

    // A 429 with Retry-After seen by one client pauses the other as well, from the other's next
    // reservation on (send times it still holds are under half a second's worth).
    tokio::time::sleep(Duration::from_secs(1)).await;
    sb.admin().inject(FaultRule::status(1, 429, Some(2)).on_path("/v1/stages"));
    let err = a.list_stages(&auth, PageRequest::default()).await.unwrap_err();
    assert!(matches!(err, shared::lever::LeverError::RateLimited { .. }), "{err}");
    let paused = Instant::now();
    b.list_stages(&auth, PageRequest::default()).await.unwrap();
    assert!(paused.elapsed() >= Duration::from_millis(1_800), "the other process waited out Lever's Retry-After: {:?}", paused.elapsed());
    // Another connection is not held back.
    let other = LeverAuth::bearer("conn-2", AccessToken::new(sb.admin().access_token()));
    let quick = Instant::now();
    b.list_stages(&other, PageRequest::default()).await.unwrap();
    assert!(quick.elapsed() < Duration::from_millis(500), "{:?}", quick.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_connections_budget_embedded() {
    two_processes_share_one_connections_budget(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_connections_budget_dynamodb() {
    let Some(store) = testing::dynamo_store().await else { return };
    two_processes_share_one_connections_budget(store).await;
}

/// What `rate::send_by` promises a submission tried inside the partner's request: with the
/// connection's budget spent, a request whose send time would come after the task's deadline
/// is refused at once with the wait (nothing sent to Lever), the send time stays for the next
/// request, and the client does not sleep through a `Retry-After` that ends after the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn work_with_a_deadline_is_told_at_once_when_no_send_time_comes_before_it() {
    use shared::lever::rate::send_by;
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let auth = LeverAuth::bearer("conn-1", AccessToken::new(sb.admin().access_token()));
    let c = client(&sb, &store);
    let sent = || sb.admin().counters().data_requests.values().sum::<u64>();
    // Lever's burst less the reserve, at once: the next send time is a tenth of a second away.
    let burst = (0..18).map(|_| {
        let (c, auth) = (c.clone(), auth.clone());
        tokio::spawn(async move { c.list_stages(&auth, PageRequest::default()).await.map(|_| ()) })
    });
    assert!(futures::future::join_all(burst).await.into_iter().all(|r| r.unwrap().is_ok()));
    let before = sent();

    let soon = tokio::time::Instant::now() + Duration::from_millis(20);
    let err = send_by(soon, c.list_stages(&auth, PageRequest::default())).await.unwrap_err();
    match err {
        shared::lever::LeverError::RateLimited { retry_after: Some(wait) } => assert!(wait > Duration::from_millis(20), "{wait:?}"),
        other => panic!("expected the wait for the next send time, got {other}"),
    }
    assert_eq!(sent(), before, "nothing was sent to Lever");
    // Time enough: the request waits for its send time and goes.
    let later = tokio::time::Instant::now() + Duration::from_secs(3);
    send_by(later, c.list_stages(&auth, PageRequest::default())).await.unwrap();
    assert_eq!(sent(), before + 1);
    assert_eq!(sb.admin().counters().rate_limited, 0);

    // A 429 whose Retry-After ends after the deadline is handed back, not slept through.
    let mut cfg =
        LeverConfig::local(&sb.base_url(), SandboxConfig::default().client_id, ClientSecret::new(SandboxConfig::default().client_secret)).unwrap();
    cfg.retry = RetryPolicy::default();
    let budget = StoreRateBudget::new(Records::new(store.clone(), Arc::new(SystemClock)), RateBudgetPolicy::default());
    let retrying = LeverHttpClient::with_rate_gate(cfg, Arc::new(budget)).unwrap();
    let other = LeverAuth::bearer("conn-2", AccessToken::new(sb.admin().access_token()));
    sb.admin().inject(FaultRule::status(1, 429, Some(5)).on_path("/v1/stages"));
    let started = Instant::now();
    let err = send_by(tokio::time::Instant::now() + Duration::from_secs(2), retrying.list_stages(&other, PageRequest::default())).await.unwrap_err();
    assert!(matches!(err, shared::lever::LeverError::RateLimited { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "gave up at once instead of waiting 5 s: {:?}", started.elapsed());
}
