//! The dispatcher over the due index, on DynamoDB Local and on the embedded store: each due
//! (connection, flow) is enqueued exactly once even with dispatchers overlapping, its next run
//! moves forward in the same write, and connections that are not due or not active are left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use shared::clock::ManualClock;
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus};
use shared::core::flow_runs::ScheduledFlow;
use shared::flows::dispatch::{Dispatcher, FlowRun, RunTrigger};
use shared::queue::{EmbeddedQueue, Queue};
use shared::store::embedded::EmbeddedStore;
use shared::store::{Records, Store, keys};
use shared::testing;

// 2026-03-07T12:00:00Z.
const NOW: i64 = 1_772_884_800_000;

struct Fixture {
    records: Records,
    jobs: Arc<EmbeddedQueue>,
    hires: Arc<EmbeddedQueue>,
    catalog: Arc<ProfileCatalog>,
}

impl Fixture {
    fn new(store: Arc<dyn Store>) -> Self {
        let records = Records::new(store, Arc::new(ManualClock::at_ms(NOW)));
        Self {
            records,
            jobs: Arc::new(EmbeddedQueue::new()),
            hires: Arc::new(EmbeddedQueue::new()),
            catalog: Arc::new(ProfileCatalog::bundled().unwrap()),
        }
    }

    fn dispatcher(&self) -> Dispatcher {
        let queues: BTreeMap<ScheduledFlow, Arc<dyn Queue>> =
            [(ScheduledFlow::Jobs, self.jobs.clone() as Arc<dyn Queue>), (ScheduledFlow::Hires, self.hires.clone() as Arc<dyn Queue>)].into();
        Dispatcher::new(self.records.clone(), self.catalog.clone(), queues)
    }

    async fn connection(&self, id: &str, partner: &str, status: ConnectionStatus, runs: &[(ScheduledFlow, i64)]) {
        let mut c = Connection::new(id, partner, NOW - 86_400_000);
        c.status = status;
        c.schedules = runs.iter().copied().collect();
        self.records.create(&c).await.unwrap();
    }

    async fn drain(queue: &EmbeddedQueue) -> Vec<FlowRun> {
        let mut out = vec![];
        loop {
            let got = queue.receive(10, Duration::ZERO).await.unwrap();
            if got.is_empty() {
                return out;
            }
            for m in got {
                out.push(FlowRun::parse(&m.body).unwrap());
                queue.ack(&m.receipt).await.unwrap();
            }
        }
    }

    async fn schedules(&self, id: &str) -> BTreeMap<ScheduledFlow, i64> {
        self.records.get::<Connection>(&keys::connection(id)).await.unwrap().unwrap().record.schedules
    }
}

async fn each_due_flow_is_enqueued_once_and_moves_forward(f: Fixture) {
    for i in 0..12 {
        f.connection(&format!("jobs-due-{i:02}"), "hireup", ConnectionStatus::Active, &[(ScheduledFlow::Jobs, NOW - i * 1000)]).await;
    }
    for i in 0..4 {
        f.connection(&format!("hires-due-{i}"), "hrcloud", ConnectionStatus::Active, &[(ScheduledFlow::Hires, NOW - 5)]).await;
    }
    for i in 0..6 {
        f.connection(&format!("later-{i}"), "hireup", ConnectionStatus::Active, &[(ScheduledFlow::Jobs, NOW + 60_000)]).await;
    }
    f.connection("revoked", "hireup", ConnectionStatus::NeedsReconnect, &[(ScheduledFlow::Jobs, NOW - 1)]).await;

    // Two dispatchers at once, as when one EventBridge invocation overlaps the next.
    let (a, b) = (f.dispatcher(), f.dispatcher());
    let (ra, rb) = futures::join!(a.dispatch_once(NOW), b.dispatch_once(NOW));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.enqueued + rb.enqueued, 16, "{ra:?} {rb:?}");
    assert_eq!(ra.failed + rb.failed, 0);

    let jobs = Fixture::drain(&f.jobs).await;
    let hires = Fixture::drain(&f.hires).await;
    let job_ids: BTreeSet<_> = jobs.iter().map(|r| r.connection_id.clone()).collect();
    assert_eq!((jobs.len(), job_ids.len()), (12, 12), "each due connection once: {job_ids:?}");
    assert!(job_ids.iter().all(|id| id.starts_with("jobs-due-")));
    assert_eq!(hires.len(), 4);
    assert!(jobs.iter().chain(&hires).all(|r| r.trigger == RunTrigger::Schedule));
    assert!(hires.iter().all(|r| r.flow == ScheduledFlow::Hires && r.due_at_ms == NOW - 5));

    // Next runs: one cadence slot later for jobs (within the hour), the next midnight Pacific for hires.
    let next = f.schedules("jobs-due-03").await[&ScheduledFlow::Jobs];
    assert!(next > NOW && next <= NOW + 3_600_000, "{next}");
    assert_eq!(f.schedules("hires-due-0").await[&ScheduledFlow::Hires], 1_772_956_800_000, "2026-03-08T00:00 PST");
    assert_eq!(f.schedules("later-0").await[&ScheduledFlow::Jobs], NOW + 60_000, "not due: untouched");

    // Nothing is due any more at the same instant.
    let again = f.dispatcher().dispatch_once(NOW).await.unwrap();
    assert_eq!(again.enqueued, 0, "{again:?}");
    assert!(Fixture::drain(&f.jobs).await.is_empty());
}

async fn a_manual_run_is_enqueued_without_moving_the_schedule(f: Fixture) {
    f.connection("c1", "hireup", ConnectionStatus::Active, &[(ScheduledFlow::Jobs, NOW + 60_000)]).await;
    let run = f.dispatcher().request_now("c1", ScheduledFlow::Jobs, serde_json::json!({"full": true})).await.unwrap();
    assert_eq!(run.trigger, RunTrigger::Manual);
    let got = Fixture::drain(&f.jobs).await;
    assert_eq!(got, vec![run]);
    assert_eq!(f.schedules("c1").await[&ScheduledFlow::Jobs], NOW + 60_000);
}

#[tokio::test]
async fn embedded_each_due_flow_is_enqueued_once_and_moves_forward() {
    let dir = std::env::temp_dir().join(format!("dispatch-{}", uuid::Uuid::new_v4().simple()));
    each_due_flow_is_enqueued_once_and_moves_forward(Fixture::new(Arc::new(EmbeddedStore::open(dir.join("t.log")).unwrap()))).await;
}

#[tokio::test]
async fn dynamodb_each_due_flow_is_enqueued_once_and_moves_forward() {
    let Some(store) = testing::dynamo_store().await else { return };
    each_due_flow_is_enqueued_once_and_moves_forward(Fixture::new(store)).await;
}

#[tokio::test]
async fn dynamodb_a_manual_run_is_enqueued_without_moving_the_schedule() {
    let Some(store) = testing::dynamo_store().await else { return };
    a_manual_run_is_enqueued_without_moving_the_schedule(Fixture::new(store)).await;
}

/// A queue that cannot take the run (here: an SQS queue that does not exist on moto) leaves the
/// flow due, so the next minute's dispatcher enqueues it.
#[tokio::test]
async fn a_run_that_cannot_be_enqueued_stays_due() {
    let Some(store) = testing::dynamo_store().await else { return };
    let Some(moto) = testing::moto_endpoint().await else { return };
    let sqs = aws_sdk_sqs::Client::new(&shared::aws::sdk_config(Some(&moto)).await);
    let missing = shared::queue::SqsQueue::new(sqs, format!("{moto}/123456789012/no-such-queue-{}", uuid::Uuid::new_v4().simple()));
    let f = Fixture::new(store);
    f.connection("c1", "hireup", ConnectionStatus::Active, &[(ScheduledFlow::Jobs, NOW - 1)]).await;
    let queues: BTreeMap<ScheduledFlow, Arc<dyn Queue>> = [(ScheduledFlow::Jobs, Arc::new(missing) as Arc<dyn Queue>)].into();
    let report = Dispatcher::new(f.records.clone(), f.catalog.clone(), queues).dispatch_once(NOW).await.unwrap();
    assert_eq!((report.enqueued, report.failed), (0, 1), "{report:?}");
    assert_eq!(f.schedules("c1").await[&ScheduledFlow::Jobs], NOW - 1, "put back at its old time");
    let later = f.dispatcher().dispatch_once(NOW + 60_000).await.unwrap();
    assert_eq!(later.enqueued, 1, "the next minute enqueues it");
}
