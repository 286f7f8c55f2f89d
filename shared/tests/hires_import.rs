//! The hires flow against the Lever sandbox over HTTP, on the embedded store: through the
//! partner API, the Lever-event router (the `candidateHired` message as the router's queue
//! carries it) and the hires worker (the `FlowRun` messages of its queue).

mod common;

use std::time::Duration;

use common::{LocalHub, Request};
use lever_sandbox::{ApplicantSpec, FaultRule, OfferSpec, SandboxConfig};
use serde_json::{Value, json};
use shared::flows::delivery::DeliveryStatus;
use shared::flows::hires::HiresMessage;
use shared::flows::lever_events::{InboundLeverEvent, RouteOutcome};
use shared::hub::QueueName;

const DAY: i64 = 86_400_000;
/// `candidateHired` goes to the hires import and to the candidates flow's status reporter (which
/// tells a partner about a candidate it submitted); each handles it on its own.
const HIRED_HANDLERS: usize = 2;

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

struct Hris {
    h: LocalHub,
    key: String,
    id: String,
}

/// An HRIS partner with an event endpoint (never reached: deliveries stay pending and are
/// counted) and one connected account whose seeded hires are days old.
async fn hris() -> Hris {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let h = LocalHub::start_with(SandboxConfig { rate_limit: None, now: Some(now - 3 * DAY), ..SandboxConfig::default() }).await;
    let key = h.partner("hrcloud").await;
    let hook = h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": "http://127.0.0.1:9/hook"}))).await;
    assert_eq!(hook.status, 201);
    let id = h.connect(&key, "hrcloud").await;
    Hris { h, key, id }
}

impl Hris {
    /// A candidate who applied to a new posting (`categories` and manager as given).
    fn applicant(&self, name: &str, posting: Value) -> String {
        let admin = self.h.sandbox.admin();
        let posting = admin.create_posting(posting).unwrap();
        let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
        admin.create_applicant(&posting, ApplicantSpec { name: name.into(), email, ..Default::default() }).unwrap().0
    }

    /// Archived with the hired reason (no offer added).
    fn hire(&self, opp: &str) {
        let admin = self.h.sandbox.admin();
        admin.set_archived(opp, Some(&admin.hired_reason_id())).unwrap();
    }

    fn offer(&self, opp: &str, status: &str, start: &str) {
        let spec = OfferSpec { status: status.into(), anticipated_start_date: Some(ms(start)), ..OfferSpec::default() };
        self.h.sandbox.admin().add_offer(opp, spec).unwrap();
    }

    /// Lever's `candidateHired` for `opp`, as the router's queue hands it over.
    async fn webhook(&self, opp: &str) -> RouteOutcome {
        let event = InboundLeverEvent {
            connection_id: self.id.clone(),
            event: "candidateHired".into(),
            triggered_at_ms: self.h.now_ms(),
            token: uuid::Uuid::new_v4().simple().to_string(),
            received_at_ms: self.h.now_ms(),
            data: json!({"opportunityId": opp, "candidateId": opp, "contactId": "c"}),
        };
        self.h.hub.lever_events.handle(&serde_json::to_string(&event).unwrap()).await
    }

    /// `POST …/hires/import`; returns the queued run's message body.
    async fn import(&self, body: Value) -> String {
        let queued = self.h.send(Request::new("POST", format!("/v1/connections/{}/hires/import", self.id)).key(&self.key).json(&body)).await;
        assert_eq!(queued.status, 202, "{:?}", queued.json());
        let queue = self.h.hub.wiring.queue(QueueName::Hires).unwrap();
        let mut got = queue.receive(1, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1, "the run is on the hires queue");
        let message = got.remove(0);
        queue.ack(&message.receipt).await.unwrap();
        message.body
    }

    async fn run(&self, body: &str) -> HiresMessage {
        self.h.hub.wiring.hires_worker().unwrap().handle(body, None).await
    }

    /// `hire.created` events in the outbox (each has a pending delivery to the endpoint).
    async fn hire_events(&self) -> usize {
        let page = self.h.hub.delivery.list_deliveries("hrcloud", DeliveryStatus::Pending, 100, None).await.unwrap();
        page.deliveries.iter().filter(|d| d.event_type == "hire.created").count()
    }

    /// The connection's hires as the partner lists them.
    async fn hires(&self) -> Vec<Value> {
        let page = self.h.send(Request::new("GET", format!("/v1/connections/{}/hires?limit=100", self.id)).key(&self.key)).await;
        assert_eq!(page.status, 200);
        page.json()["data"].as_array().unwrap().clone()
    }

    async fn hire_of(&self, opp: &str) -> Value {
        self.hires().await.into_iter().find(|h| h["id"] == opp).unwrap_or_else(|| panic!("{opp} is not listed"))
    }

    async fn patch(&self, settings: Value) {
        let patched =
            self.h.send(Request::new("PATCH", format!("/v1/connections/{}", self.id)).key(&self.key).json(&json!({"settings": settings}))).await;
        assert_eq!(patched.status, 200, "{:?}", patched.json());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_lever_does_not_have_is_missing_never_guessed() {
    let t = hris().await;
    // No department and no hiring manager on the posting; only a denied and a draft offer.
    let opp =
        t.applicant("山田 太郎", json!({"text": "Analyst", "state": "published", "categories": {"location": "Tokyo", "commitment": "Part-time"}}));
    t.offer(&opp, "denied", "2026-04-01T00:00:00Z");
    t.offer(&opp, "draft", "2026-04-15T00:00:00Z");
    t.hire(&opp);
    assert_eq!(t.webhook(&opp).await, RouteOutcome::Done { handlers: HIRED_HANDLERS });
    let hire = t.hire_of(&opp).await;
    let f = &hire["fields"];
    assert_eq!((f["First Name"].as_str(), f["Last Name"].as_str()), (Some("太郎"), Some("山田")), "family name first: {hire}");
    assert_eq!((f["Position"].as_str(), f["Location"].as_str(), f["Employment Type"].as_str()), (Some("Analyst"), Some("Tokyo"), Some("Part-time")));
    assert_eq!(hire["missing"], json!(["Department", "Manager", "Middle Name", "Start Date"]), "no offer anyone agreed to: no start date: {hire}");
    assert!(f["Start Date"].is_null() && f["Manager"].is_null());
    assert_eq!((&hire["lever"]["offer_id"], &hire["lever"]["offer_status"]), (&Value::Null, &Value::Null));
    assert_eq!(t.hire_events().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_sent_without_e_signature_gives_the_start_date_and_a_draft_does_not() {
    let t = hris().await;
    let posting = json!({"text": "Nurse", "state": "published"});
    let admin = t.h.sandbox.admin();
    // A customer without Lever's e-signature: the offer was sent and stays `sent`.
    let sent = t.applicant("Florence Nightingale", posting.clone());
    t.offer(&sent, "sent", "2026-05-04T00:00:00Z");
    let sent_offer = admin.opportunity(&sent).unwrap().offers[0]["id"].clone();
    // Only a draft: nobody agreed to it.
    let draft = t.applicant("Mary Seacole", posting.clone());
    t.offer(&draft, "draft", "2026-05-11T00:00:00Z");
    // A signed offer beats a later one sent without e-signature.
    let both = t.applicant("Clara Barton", posting);
    t.offer(&both, "signed", "2026-06-01T00:00:00Z");
    let signed_offer = admin.opportunity(&both).unwrap().offers[0]["id"].clone();
    t.offer(&both, "sent", "2026-07-01T00:00:00Z");
    for opp in [&sent, &draft, &both] {
        t.hire(opp);
    }
    // Found by an import over the partner API as well as by the webhook: the same rule.
    t.webhook(&sent).await;
    let ran = t.run(&t.import(json!({"all": true})).await).await;
    assert!(matches!(&ran, HiresMessage::Ran(r) if r.complete && r.failed == 0), "{ran:?}");

    let hire = t.hire_of(&sent).await;
    assert_eq!(hire["fields"]["Start Date"], "2026-05-04", "the sent offer's date: {hire}");
    assert_eq!((&hire["lever"]["offer_id"], hire["lever"]["offer_status"].as_str()), (&sent_offer, Some("sent")));
    assert!(!hire["missing"].as_array().unwrap().iter().any(|m| m == "Start Date"));

    let hire = t.hire_of(&draft).await;
    assert!(hire["fields"]["Start Date"].is_null(), "a draft gives no start date: {hire}");
    assert!(hire["missing"].as_array().unwrap().iter().any(|m| m == "Start Date"));
    assert_eq!((&hire["lever"]["offer_id"], &hire["lever"]["offer_status"]), (&Value::Null, &Value::Null));

    let hire = t.hire_of(&both).await;
    assert_eq!(hire["fields"]["Start Date"], "2026-06-01", "the signed offer, not the later sent one: {hire}");
    assert_eq!((&hire["lever"]["offer_id"], hire["lever"]["offer_status"].as_str()), (&signed_offer, Some("signed")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_date_is_a_calendar_date_in_the_accounts_time_zone() {
    let t = hris().await;
    let posting = json!({"text": "Engineer", "state": "published"});
    // 03:00 UTC on 2 March is still 1 March in Los Angeles.
    let utc = t.applicant("Grace Hopper", posting.clone());
    t.offer(&utc, "signed", "2026-03-02T03:00:00Z");
    t.hire(&utc);
    t.webhook(&utc).await;
    assert_eq!(t.hire_of(&utc).await["fields"]["Start Date"], "2026-03-02", "UTC unless the customer sets a zone");

    t.patch(json!({"timezone": "America/Los_Angeles"})).await;
    let la = t.applicant("Ada Lovelace", posting);
    t.offer(&la, "signed", "2026-03-02T03:00:00Z");
    t.hire(&la);
    t.webhook(&la).await;
    assert_eq!(t.hire_of(&la).await["fields"]["Start Date"], "2026-03-01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_webhook_and_imports_at_once_send_the_hire_once() {
    let t = hris().await;
    let opp = t.applicant("Alan Mathison Turing", json!({"text": "Researcher", "state": "published"}));
    t.offer(&opp, "signed", "2026-07-01T00:00:00Z");
    t.hire(&opp);
    let daily = t.import(json!({})).await;
    let all = t.import(json!({"all": true})).await;
    let (w1, w2, r1, r2, w3) = tokio::join!(t.webhook(&opp), t.webhook(&opp), t.run(&daily), t.run(&all), t.webhook(&opp));
    for w in [w1, w2, w3] {
        assert!(w.ack(), "{w:?}");
    }
    for r in [&r1, &r2] {
        assert!(matches!(r, HiresMessage::Ran(report) if report.complete), "{r:?}");
    }
    let hire = t.hire_of(&opp).await;
    assert_eq!(hire["sends"], 1, "{hire}");
    let seeded_hires = t.hires().await.len() - 1;
    assert_eq!(t.hire_events().await, 1 + seeded_hires, "one event per hire, the racing ones included");
    // Again, later: nothing new.
    assert!(matches!(t.run(&all).await, HiresMessage::Ran(r) if r.sent == 0 && r.already_sent == seeded_hires + 1));
    assert_eq!(t.hire_events().await, 1 + seeded_hires);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_is_one_more_send_even_when_its_run_is_retried() {
    let t = hris().await;
    let opp = t.applicant("Barbara Liskov", json!({"text": "Architect", "state": "published"}));
    t.offer(&opp, "signed", "2026-07-01T00:00:00Z");
    t.hire(&opp);
    t.webhook(&opp).await;
    let resend = t.import(json!({"resend": true})).await;
    // SQS hands the same message out again (the first invocation timed out after its work).
    for _ in 0..2 {
        assert!(matches!(t.run(&resend).await, HiresMessage::Ran(_)));
    }
    assert_eq!(t.hire_of(&opp).await["sends"], 2, "one resend, not two");
    assert_eq!(t.hire_events().await, 2);
    let again = t.import(json!({"resend": true})).await;
    t.run(&again).await;
    assert_eq!(t.hire_of(&opp).await["sends"], 3, "another request, another send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_by_its_deadline_goes_on_where_it_stopped() {
    let t = hris().await;
    let all = t.import(json!({"all": true})).await;
    let worker = t.h.hub.wiring.hires_worker().unwrap();
    let stopped = worker.handle(&all, Some(tokio::time::Instant::now())).await;
    assert!(matches!(&stopped, HiresMessage::Continued(r) if !r.complete && r.sent == 0), "{stopped:?}");
    assert!(stopped.ack(), "the message is done: its continuation is queued");
    let outcomes = worker.work_once(10, Duration::ZERO).await.unwrap();
    let sent = match outcomes.as_slice() {
        [HiresMessage::Ran(r)] if r.complete => r.sent,
        other => panic!("the continuation ran to the end: {other:?}"),
    };
    assert!(sent > 0, "the seeded account has hires");
    assert_eq!(t.hire_events().await, sent);
    assert!(worker.work_once(10, Duration::ZERO).await.unwrap().is_empty(), "nothing left on the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_unavailable_retries_the_run_and_one_unreadable_hire_holds_up_no_other() {
    let t = hris().await;
    let ok = t.applicant("Edsger Dijkstra", json!({"text": "Scientist", "state": "published"}));
    let refused = t.applicant("Tony Hoare", json!({"text": "Scientist", "state": "published"}));
    for opp in [&ok, &refused] {
        t.offer(opp, "signed", "2026-07-01T00:00:00Z");
        t.hire(opp);
    }
    let run = t.import(json!({})).await;
    // Lever answers 503 to everything for a while: the run is retried, nothing is lost.
    t.h.sandbox.admin().inject(FaultRule::status(100, 503, None).on_path("/v1/"));
    let failed = t.run(&run).await;
    assert!(matches!(&failed, HiresMessage::Retry(_)) && !failed.ack(), "{failed:?}");
    t.h.sandbox.admin().clear_faults();
    // One hire's offers cannot be read (a 403, say): the other goes, the failed one is named.
    t.h.sandbox.admin().inject(FaultRule::status(100, 403, None).on_path(format!("/v1/opportunities/{refused}/offers")));
    let outcome = t.run(&run).await;
    assert!(matches!(&outcome, HiresMessage::Ran(r) if r.sent == 1 && r.failed == 1), "{outcome:?}");
    assert_eq!(t.hire_of(&ok).await["sends"], 1);
    assert!(t.hires().await.iter().all(|h| h["id"] != refused));
    let activity = t.h.send(Request::new("GET", format!("/v1/connections/{}/activity?limit=100", t.id)).key(&t.key)).await.json();
    assert!(
        activity["data"].as_array().unwrap().iter().any(|e| e["kind"] == "hire.failed" && e["message"].as_str().unwrap().contains(&refused)),
        "{activity}"
    );
    // Lever answers again: the next run sends the one left, and only it.
    t.h.sandbox.admin().clear_faults();
    let again = t.import(json!({})).await;
    assert!(matches!(t.run(&again).await, HiresMessage::Ran(r) if r.sent == 1 && r.already_sent == 1));
    assert_eq!(t.hire_events().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_the_customer_switched_off_do_nothing() {
    let t = hris().await;
    let opp = t.applicant("Frances Allen", json!({"text": "Fellow", "state": "published"}));
    t.hire(&opp);
    t.patch(json!({"hire_triggers": ["daily"]})).await;
    assert_eq!(t.webhook(&opp).await, RouteOutcome::Done { handlers: HIRED_HANDLERS }, "acknowledged, not acted on");
    let refused = t.h.send(Request::new("POST", format!("/v1/connections/{}/hires/import", t.id)).key(&t.key)).await;
    assert_eq!((refused.status, refused.json()["type"].as_str()), (409, Some("/problems/flow-not-enabled")));
    assert_eq!(t.hire_events().await, 0);
    let view = t.h.send(Request::new("GET", format!("/v1/connections/{}", t.id)).key(&t.key)).await.json();
    assert!(view["flows"]["hires"]["next_run_at"].is_string(), "the daily run stays: {view}");

    t.patch(json!({"hire_triggers": ["on_demand"]})).await;
    let view = t.h.send(Request::new("GET", format!("/v1/connections/{}", t.id)).key(&t.key)).await.json();
    assert!(view["flows"].get("hires").is_none_or(|h| h["next_run_at"].is_null()), "no daily run: {view}");
    // A daily run queued before the switch is skipped.
    let scheduled = json!({"connection_id": t.id, "flow": "hires", "trigger": "schedule", "due_at_ms": t.h.now_ms()}).to_string();
    assert!(matches!(t.run(&scheduled).await, HiresMessage::Ran(r) if r.skipped));
    let manual = t.import(json!({})).await;
    assert!(matches!(t.run(&manual).await, HiresMessage::Ran(r) if r.sent == 1));
    assert_eq!(t.hire_events().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_for_a_candidate_lever_does_not_have_as_hired_sends_nothing() {
    let t = hris().await;
    let applied = t.applicant("Radia Perlman", json!({"text": "Engineer", "state": "published"}));
    assert_eq!(t.webhook(&applied).await, RouteOutcome::Done { handlers: HIRED_HANDLERS }, "not archived: not a hire");
    let gone = t.applicant("Ken Thompson", json!({"text": "Engineer", "state": "published"}));
    t.hire(&gone);
    t.h.sandbox.admin().delete_opportunity(&gone).unwrap();
    assert_eq!(t.webhook(&gone).await, RouteOutcome::Done { handlers: HIRED_HANDLERS }, "deleted since: nothing to send");
    assert_eq!(t.webhook("00000000-0000-4000-8000-000000000000").await, RouteOutcome::Done { handlers: HIRED_HANDLERS });
    assert_eq!(t.hire_events().await, 0);
    assert!(t.hires().await.is_empty());
    let unknown = InboundLeverEvent {
        connection_id: "no-such-connection".into(),
        event: "candidateHired".into(),
        triggered_at_ms: 1,
        token: "t".into(),
        received_at_ms: 1,
        data: json!({"opportunityId": applied}),
    };
    let outcome = t.h.hub.lever_events.handle(&serde_json::to_string(&unknown).unwrap()).await;
    assert!(matches!(outcome, RouteOutcome::Dropped(_)), "{outcome:?}");
}

/// Retention: a hire sent longer ago than the profile's grace (30 days for HR Cloud) keeps its
/// ids and sends after the next import, and loses the person's HRIS fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hire_past_the_grace_keeps_its_ids_and_loses_the_persons_fields() {
    let t = hris().await;
    let opp = t.applicant("Imogen Sallowfield", json!({"text": "Analyst", "state": "published"}));
    t.hire(&opp);
    assert_eq!(t.webhook(&opp).await, RouteOutcome::Done { handlers: HIRED_HANDLERS });
    assert_eq!(t.hire_of(&opp).await["fields"]["Last Name"], "Sallowfield");

    // Within the grace, an import leaves it as it is.
    t.h.clock.advance_ms(29 * DAY);
    let body = t.import(json!({})).await;
    assert!(matches!(t.run(&body).await, HiresMessage::Ran(_)));
    assert_eq!(t.hire_of(&opp).await["fields"]["Last Name"], "Sallowfield");

    // Past it: the next import's sweep clears the fields; the hire and its send stay.
    t.h.clock.advance_ms(2 * DAY);
    let body = t.import(json!({})).await;
    assert!(matches!(t.run(&body).await, HiresMessage::Ran(_)));
    let hire = t.hire_of(&opp).await;
    assert!(hire["fields"].as_object().unwrap().values().all(Value::is_null), "{hire}");
    assert_eq!((hire["id"].as_str(), hire["lever"]["opportunity_id"].as_str()), (Some(opp.as_str()), Some(opp.as_str())), "{hire}");
    assert!(!hire.to_string().contains("Sallowfield"), "{hire}");
}

/// A connection that only imports hires gets Lever's deletions too: its status poll starts at
/// connect, and with `candidateDeleted` off the daily pass finds the deletion of a hire's
/// opportunity, erases the hire's fields and tells the partner — without polling Lever for the
/// status changes of candidates it never submitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hires_only_connection_hears_of_lever_deletions_from_the_daily_pass() {
    let t = hris().await;
    let opp = t.applicant("Ambrose Kettleworth", json!({"text": "Analyst", "state": "published"}));
    t.hire(&opp);
    assert_eq!(t.webhook(&opp).await, RouteOutcome::Done { handlers: HIRED_HANDLERS });
    assert_eq!(t.hire_of(&opp).await["fields"]["Last Name"], "Kettleworth");
    let admin = t.h.sandbox.admin();
    admin.set_webhooks_enabled("candidateDeleted", false).unwrap();
    admin.delete_opportunity(&opp).unwrap();
    let queue = t.h.hub.wiring.queue(QueueName::Candidates).unwrap();
    let drain = || async {
        for _ in 0..5 {
            t.h.hub.candidates.work_once(10, Duration::ZERO).await.unwrap();
        }
    };

    // The polls of the day ask Lever nothing: nothing was submitted.
    admin.reset_counters();
    t.h.clock.advance_ms(20 * 60 * 1000);
    assert_eq!(t.h.hub.candidates.sweep_once(t.h.now_ms()).await.unwrap().status_polls, 1, "the poll started at connect");
    drain().await;
    assert_eq!(admin.counters().data_requests.get("GET /v1/opportunities").copied().unwrap_or(0), 0, "{:?}", admin.counters().data_requests);
    assert_eq!(t.hire_of(&opp).await["fields"]["Last Name"], "Kettleworth", "the day is not over");

    // A day on, the pass reads Lever's deleted opportunities and erases the hire's fields.
    t.h.clock.advance_ms(DAY);
    assert_eq!(t.h.hub.candidates.sweep_once(t.h.now_ms()).await.unwrap().status_polls, 1);
    drain().await;
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty(), "all handled");
    let hire = t.hire_of(&opp).await;
    assert!(hire["fields"].as_object().unwrap().values().all(Value::is_null), "{hire}");
    let pending = t.h.hub.delivery.list_deliveries("hrcloud", DeliveryStatus::Pending, 100, None).await.unwrap();
    assert_eq!(pending.deliveries.iter().filter(|d| d.event_type == "candidate.deleted").count(), 1);
}
