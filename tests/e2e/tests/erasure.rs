//! Erasure on request on the deployed shape (DynamoDB Local, S3 and SQS on moto, real workers):
//! after `POST /v1/erasures` no store item, stored object or queued message holds the person's
//! email or name, the partner hears `candidate.erased`, a write still queued never reaches
//! Lever; and no log line of the whole run holds any personal data it submitted.

use std::time::Duration;

use e2e::candidates::{b64, pdf};
use e2e::{TestHub, TestPartner, logs};
use lever_sandbox::SandboxConfig;
use lever_sandbox::faults::FaultRule;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::hub::QueueName;

struct Person {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
}

const BY_EMAIL: Person = Person { name: "Augusta Kingsworth", email: "augusta.kingsworth@erase.example", phone: "+1 415 555 0101" };
const BY_OPPORTUNITY: Person = Person { name: "Bartholomew Quillfeather", email: "bart.quillfeather@erase.example", phone: "+1 415 555 0102" };
const KEPT: Person = Person { name: "Cordelia Vantongeren", email: "cordelia.vantongeren@keep.example", phone: "+1 415 555 0103" };

fn file_name(p: &Person) -> String {
    format!("{}-cv.pdf", p.name.replace(' ', "-"))
}

fn referral(p: &Person, posting: &str) -> Value {
    json!({
        "kind": "referral",
        "candidate": {"name": p.name, "emails": [p.email], "phones": [{"type": "mobile", "value": p.phone}]},
        "postings": [posting],
        "referrer": {"name": "Grace Hopper", "email": "grace.hopper@partner.example"},
        "files": [{"name": file_name(p), "content_type": "application/pdf", "role": "resume",
                   "content_base64": b64(&pdf(&format!("{} <{}>", p.name, p.email), 2_000))}],
    })
}

/// Every place the hub keeps data in this shape, as text: each table item, each object of the
/// file bucket (key and bytes), each message visible on the hub's queues.
async fn everything_kept(t: &TestHub) -> Vec<(String, String)> {
    let mut out = vec![];
    let dynamo = shared::testing::dynamodb_client().await.expect("DynamoDB Local");
    let mut start = None;
    loop {
        let page = dynamo.scan().table_name(t.store.table()).set_exclusive_start_key(start).send().await.expect("scan");
        for item in page.items() {
            out.push((format!("item {:?}/{:?}", item.get("pk"), item.get("sk")), format!("{item:?}")));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    // moto's S3 answers unsigned REST calls: list the bucket, read each object.
    let moto = shared::testing::moto_endpoint().await.expect("moto");
    let bucket = format!("{moto}/{}", t.files.bucket());
    let listing = reqwest::get(format!("{bucket}?list-type=2")).await.unwrap().text().await.unwrap();
    for key in listing.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()) {
        let bytes = reqwest::get(format!("{bucket}/{key}")).await.unwrap().bytes().await.unwrap();
        out.push((format!("object {key}"), format!("{key} {}", String::from_utf8_lossy(&bytes))));
    }
    for name in QueueName::ALL {
        let queue = t.hub.wiring.queue(name).expect("the queue");
        for m in queue.receive(10, Duration::ZERO).await.expect("receive") {
            out.push((format!("message on {}", name.as_str()), m.body));
        }
    }
    out
}

fn holding<'a>(kept: &'a [(String, String)], needle: &str) -> Vec<&'a str> {
    let needle = needle.to_lowercase();
    kept.iter().filter(|(_, text)| text.to_lowercase().contains(&needle)).map(|(place, _)| place.as_str()).collect()
}

async fn erase(t: &TestHub, p: &TestPartner, body: Value) -> Value {
    let (status, answer) = t.call(p, Method::POST, "/v1/erasures", Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "completed", "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_is_in_no_item_object_message_or_log_line() {
    let t = TestHub::start(SandboxConfig::default()).await;
    for p in [&BY_EMAIL, &BY_OPPORTUNITY, &KEPT] {
        for secret in [p.name, p.email, p.phone, &file_name(p)] {
            logs::forbid(secret);
        }
    }
    let partner = t.partner("hireup").await;
    let id = t.connect(&partner).await;
    let posting = t.posting("Analyst");

    let kept = t.submit(&partner, &id, "kept-1", &referral(&KEPT, &posting)).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.body);
    let written = t.submit(&partner, &id, "by-opportunity-1", &referral(&BY_OPPORTUNITY, &posting)).await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    let opportunity = written.body["lever"]["opportunity_id"].as_str().unwrap().to_owned();
    t.receiver.wait_for("candidate.created", &id, 2).await;
    // Lever refuses for a while: this one goes round the queue with its resume in the bucket.
    t.sandbox.admin().inject(FaultRule::status(10_000, 503, None).on_path("/v1/opportunities"));
    // This partner builds its Idempotency-Key from the email (the docs ask it not to): the key is
    // stored as a digest, so the erasure leaves it nowhere either.
    let queued = t.submit(&partner, &id, &format!("referral:{}", BY_EMAIL.email), &referral(&BY_EMAIL, &posting)).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let queued_id = queued.body["id"].as_str().unwrap().to_owned();
    let before = everything_kept(&t).await;
    assert!(!holding(&before, BY_EMAIL.email).is_empty(), "the search finds the person before the erasure");

    let by_email = erase(&t, &partner, json!({"email": BY_EMAIL.email})).await;
    assert_eq!((by_email["counts"]["submissions"].as_u64(), by_email["counts"]["files"].as_u64()), (Some(1), Some(1)), "{by_email}");
    let by_opportunity = erase(&t, &partner, json!({"lever_opportunity_id": opportunity})).await;
    assert_eq!(by_opportunity["counts"]["submissions"], 1, "{by_opportunity}");
    let erased = t.receiver.wait_for("candidate.erased", &id, 2).await;
    let named: Vec<&Value> = erased.iter().flat_map(|e| e["data"]["submission_ids"].as_array().unwrap()).collect();
    assert!(named.contains(&&json!(queued_id)) && named.contains(&&written.body["id"]), "{erased:?}");

    // Lever answers again; the queued write finds its submission gone and writes nothing.
    t.sandbox.admin().reset_counters();
    t.sandbox.admin().clear_faults();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let writes: Vec<String> = t.sandbox.admin().writes().iter().map(|w| w.route.clone()).collect();
    assert!(!writes.iter().any(|r| r.starts_with("POST /v1/opportunities")), "nothing written for an erased submission: {writes:?}");
    let (status, _) = t.call(&partner, Method::GET, &format!("/v1/connections/{id}/candidates/{queued_id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let after = everything_kept(&t).await;
    for p in [&BY_EMAIL, &BY_OPPORTUNITY] {
        for needle in [p.email, p.name] {
            assert_eq!(holding(&after, needle), Vec::<&str>::new(), "{needle} is still kept");
        }
    }
    assert!(!holding(&after, KEPT.email).is_empty(), "the search finds what was not erased");
    let scanned = logs::assert_no_secrets();
    assert!(scanned > 10_000, "the run logged ({scanned} bytes scanned)");
}

const DELETED_IN_LEVER: Person = Person { name: "Desmond Harrowgate", email: "desmond.harrowgate@erase.example", phone: "+1 415 555 0104" };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_in_lever_erases_the_hubs_copies_and_tells_the_partner() {
    let t = TestHub::start(SandboxConfig::default()).await;
    for secret in [DELETED_IN_LEVER.name, DELETED_IN_LEVER.email, DELETED_IN_LEVER.phone, &file_name(&DELETED_IN_LEVER)] {
        logs::forbid(secret);
    }
    let partner = t.partner("hireup").await;
    let id = t.connect(&partner).await;
    let posting = t.posting("Analyst");
    let written = t.submit(&partner, &id, "deleted-1", &referral(&DELETED_IN_LEVER, &posting)).await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    let opportunity = written.body["lever"]["opportunity_id"].as_str().unwrap().to_owned();
    t.receiver.wait_for("candidate.created", &id, 1).await;
    assert!(!holding(&everything_kept(&t).await, DELETED_IN_LEVER.email).is_empty(), "kept before the deletion");

    // The customer's Super Admin has the group on; deleting the candidate in Lever sends
    // candidateDeleted to the hub.
    t.sandbox.admin().set_webhooks_enabled("candidateDeleted", true).unwrap();
    t.sandbox.admin().delete_opportunity(&opportunity).unwrap();
    t.wait_routed(&id, "candidateDeleted", 1).await;
    let (_, connection) = t.call(&partner, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let deletions = &connection["flows"]["webhooks"]["deletions"];
    assert_eq!((deletions["webhook"].as_str(), &deletions["message"]), (Some("receiving"), &Value::Null), "the group is on: {deletions}");
    let deleted = t.receiver.wait_for("candidate.deleted", &id, 1).await;
    assert_eq!(deleted[0]["data"]["submission_ids"], json!([written.body["id"]]), "{deleted:?}");
    assert_eq!(deleted[0]["data"]["lever"]["opportunity_ids"], json!([opportunity]), "{deleted:?}");
    let (status, _) = t.call(&partner, Method::GET, &format!("/v1/connections/{id}/candidates/{}", written.body["id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let after = everything_kept(&t).await;
    for needle in [DELETED_IN_LEVER.email, DELETED_IN_LEVER.name] {
        assert_eq!(holding(&after, needle), Vec::<&str>::new(), "{needle} is still kept");
    }
    logs::assert_no_secrets();
}
