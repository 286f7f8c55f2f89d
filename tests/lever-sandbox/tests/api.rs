//! Data API behaviour: pagination, rate limiting, fault injection, dedupe,
//! multipart creates, filters and validation.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{Part, multipart};
use lever_sandbox::{FaultRule, SandboxConfig};
use serde_json::{Value, json};

fn unlimited() -> SandboxConfig {
    SandboxConfig { rate_limit: None, ..SandboxConfig::default() }
}

#[tokio::test]
async fn pagination_walks_every_item_once_with_opaque_offsets() {
    let (_sb, api) = common::start(unlimited()).await;
    let mut seen = HashSet::new();
    let mut url = "/v1/opportunities?limit=7".to_string();
    let mut pages = 0;
    loop {
        let b = api.get(&url).await.json();
        pages += 1;
        for o in b["data"].as_array().unwrap() {
            assert!(seen.insert(o["id"].as_str().unwrap().to_string()), "no item twice");
        }
        if b["hasNext"] == true {
            let next = b["next"].as_str().unwrap();
            assert!(next.starts_with("%5B"), "URL-encoded JSON array token like Lever's: {next}");
            url = format!("/v1/opportunities?limit=7&offset={next}");
        } else {
            assert!(b.get("next").is_none(), "last page omits next");
            break;
        }
    }
    assert_eq!(seen.len(), 40);
    assert_eq!(pages, 6);

    let bad = api.get("/v1/opportunities?offset=not-a-token").await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("Invalid offset token"));
    assert_eq!(api.get("/v1/opportunities?limit=0").await.status, 400);
    assert_eq!(api.get("/v1/opportunities?limit=101").await.status, 400);
    let default = api.get("/v1/postings").await.json();
    assert_eq!(default["data"].as_array().unwrap().len(), 25, "default limit is 100");
    assert_eq!(default["hasNext"], false);
}

#[tokio::test]
async fn a_burst_beyond_twenty_is_rate_limited() {
    let (sb, api) = common::start(SandboxConfig::default()).await;
    let calls = (0..30).map(|_| api.get("/v1/stages"));
    let results = futures::future::join_all(calls).await;
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(!limited.is_empty(), "some of 30 quick requests are limited");
    assert!(ok >= 20, "the burst of 20 passes, got {ok}");
    assert_eq!(limited[0].json()["code"], "TooManyRequests");
    assert!(limited[0].header("retry-after").is_none(), "no Retry-After unless scripted");
    assert_eq!(sb.admin().counters().rate_limited, limited.len() as u64);
    // Tokens refill at 10/s.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.get("/v1/stages").await.status, 200);
}

#[tokio::test]
async fn scripted_faults_status_retry_after_rate_latency_and_drops() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();

    admin.fail_next(2, 429, Some(3));
    for _ in 0..2 {
        let r = api.get("/v1/stages").await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("3"));
    }
    assert_eq!(api.get("/v1/stages").await.status, 200);

    admin.inject(FaultRule::error_rate(1.0, 503).on_path("/v1/postings"));
    let r = api.get("/v1/postings").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["code"], "ServiceUnavailable");
    assert_eq!(api.get("/v1/stages").await.status, 200, "scoped to the path prefix");
    admin.clear_faults();
    assert_eq!(api.get("/v1/postings").await.status, 200);

    admin.inject(FaultRule::latency(Duration::from_millis(250)));
    let t = Instant::now();
    assert_eq!(api.get("/v1/stages").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    admin.clear_faults();

    admin.inject(FaultRule::drop_connections(1));
    let auth = format!("Bearer {}", api.token);
    let dropped =
        lever_sandbox::client::send("GET", &format!("{}/v1/stages", api.base), &[("authorization", &auth)], vec![], Duration::from_secs(5)).await;
    assert!(dropped.is_err(), "connection closed without a response");
    assert_eq!(api.get("/v1/stages").await.status, 200);

    let c = admin.counters();
    assert_eq!(c.rate_limited, 2);
    assert!(c.faults_served >= 4);
    assert!(c.data_requests["GET /v1/stages"] >= 5);
}

#[tokio::test]
async fn create_dedupes_by_email_and_adds_posting_tags() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let existing = admin.opportunity(&admin.seed_ids().opportunities[2]).unwrap();
    let posting_id = admin.seed_ids().postings[0].clone();
    let posting = admin.posting(&posting_id).unwrap();

    let body = json!({
        "name": "Someone Else", "emails": [existing.emails[0].to_uppercase()], "tags": ["HireUp"],
        "sources": ["HireUp"], "origin": "referred", "postings": [posting_id],
    });
    let r = api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&body)).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let v = r.json();
    assert_eq!(v["deduped"], true);
    assert_eq!(v["data"]["contact"], existing.contact.as_str());
    assert_eq!(v["data"]["name"], existing.name.as_str(), "existing contact data wins");
    assert_ne!(v["data"]["id"], existing.id.as_str(), "a new opportunity for the same person");
    assert_eq!(v["data"]["stage"], "lead-new");
    assert_eq!(v["data"]["stageChanges"][0]["toStageIndex"], 0);
    let tags: Vec<&str> = v["data"]["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let c = &posting["categories"];
    let expected = [
        "HireUp",
        posting["text"].as_str().unwrap(),
        c["department"].as_str().unwrap(),
        c["team"].as_str().unwrap(),
        c["location"].as_str().unwrap(),
        c["commitment"].as_str().unwrap(),
    ];
    assert_eq!(tags, expected);
    assert!(v["data"].get("opportunityLocation").is_none(), "write responses omit it (recordings)");
    let id = v["data"]["id"].as_str().unwrap();
    let snap = admin.opportunity(id).unwrap();
    assert_eq!(snap.postings, vec![posting_id.clone()]);
    assert_eq!(snap.origin, "referred");
    assert_eq!(snap.sources, vec!["HireUp"]);
    assert_eq!(snap.owner.as_deref(), Some(sa.as_str()));

    let fresh = api
        .call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&json!({"name": "New Person", "emails": ["new.person@example.com"]})))
        .await;
    assert_eq!(fresh.json()["deduped"], false);
    let found = api.get("/v1/opportunities?email=NEW.person@example.com").await.json();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);

    // Validation: exactly one posting, perform_as required, bad stage.
    let two = json!({"name": "X", "postings": [posting_id, admin.seed_ids().postings[1]]});
    assert_eq!(api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&two)).await.status, 400);
    let no_pa = api.call("POST", "/v1/opportunities", Some(&json!({"name": "X"}))).await;
    assert_eq!(no_pa.status, 400);
    assert!(no_pa.json()["code"].is_string() && no_pa.json()["message"].is_string());
    assert_eq!(api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&json!({"stage": "nope"}))).await.status, 400);
    assert_eq!(api.raw("POST", &format!("/v1/opportunities?perform_as={sa}"), "application/json", b"{not json".to_vec()).await.status, 400);
}

#[tokio::test]
async fn multipart_create_with_resume_and_files() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let posting = admin.seed_ids().postings[1].clone();
    let pdf = b"%PDF-1.4 pretend resume".to_vec();
    let (ct, body) = multipart(&[
        Part::Text("name", "Mia Multipart"),
        Part::Text("emails[]", "mia@example.com"),
        Part::Text("emails[]", "mia.work@example.com"),
        Part::Text("postings[]", &posting),
        Part::Text("sources[]", "ERC"),
        Part::Text("phones[0][type]", "mobile"),
        Part::Text("phones[0][value]", "+1 555 0199"),
        Part::File { name: "resumeFile", filename: "mia-resume.pdf", content_type: "application/pdf", bytes: &pdf },
        Part::File { name: "files[]", filename: "cover-letter.txt", content_type: "text/plain", bytes: b"Dear team" },
    ]);
    let r = api.raw("POST", &format!("/v1/opportunities?perform_as={sa}"), &ct, body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["data"]["emails"], json!(["mia@example.com", "mia.work@example.com"]));
    assert_eq!(r.json()["data"]["phones"][0]["type"], "mobile");

    let snap = admin.opportunity(&id).unwrap();
    let resume = snap.resume.unwrap();
    assert_eq!((resume.name.as_str(), resume.size), ("mia-resume.pdf", pdf.len()));
    assert_eq!(resume.bytes, pdf);
    assert_eq!(snap.files.len(), 1);
    assert_eq!(snap.files[0].name, "cover-letter.txt");
    assert_eq!(snap.sources, vec!["ERC"]);

    let resumes = api.get(&format!("/v1/opportunities/{id}/resumes")).await.json();
    assert_eq!(resumes["data"][0]["file"]["name"], "mia-resume.pdf");
    let files = api.get(&format!("/v1/opportunities/{id}/files")).await.json();
    let dl = files["data"][0]["downloadUrl"].as_str().unwrap().strip_prefix(&api.base).unwrap().to_string();
    assert_eq!(&api.get(&dl).await.body[..], b"Dear team");

    // Uploading a file later needs perform_as.
    let (ct, body) = multipart(&[Part::File { name: "file", filename: "transcript.pdf", content_type: "application/pdf", bytes: b"abc" }]);
    assert_eq!(api.raw("POST", &format!("/v1/opportunities/{id}/files"), &ct, body.clone()).await.status, 400);
    let up = api.raw("POST", &format!("/v1/opportunities/{id}/files?perform_as={sa}"), &ct, body).await;
    assert_eq!(up.status, 201);
    assert_eq!(up.json()["data"]["size"], 3);
    assert_eq!(admin.opportunity(&id).unwrap().files.len(), 2);
}

#[tokio::test]
async fn writes_are_visible_to_admin_and_fire_the_right_changes() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let opp = admin.seed_ids().opportunities[5].clone();

    let n = api.call("POST", &format!("/v1/opportunities/{opp}/notes?perform_as={sa}"), Some(&json!({"value": "Endorsement: great"}))).await;
    assert_eq!(n.status, 201);
    assert_eq!(n.json()["data"]["noteId"], n.json()["data"]["id"]);
    assert_eq!(api.call("POST", &format!("/v1/opportunities/{opp}/notes"), Some(&json!({}))).await.status, 400);
    let r = api.call("POST", &format!("/v1/opportunities/{opp}/addTags"), Some(&json!({"tags": ["UW Screened: PASSED"]}))).await;
    assert_eq!(r.status, 200);
    api.call("POST", &format!("/v1/opportunities/{opp}/addSources"), Some(&json!({"sources": ["ERC"]}))).await;
    let stage = admin.seed_ids().stages[4].clone();
    assert_eq!(api.call("PUT", &format!("/v1/opportunities/{opp}/stage"), Some(&json!({"stage": stage}))).await.status, 200);
    let hired = admin.hired_reason_id();
    assert_eq!(api.call("PUT", &format!("/v1/opportunities/{opp}/archived"), Some(&json!({"reason": hired}))).await.status, 200);

    let s = admin.opportunity(&opp).unwrap();
    assert_eq!(s.notes[0].values, vec!["Endorsement: great"]);
    assert_eq!(s.notes[0].user.as_deref(), Some(sa.as_str()));
    assert!(s.tags.contains(&"UW Screened: PASSED".to_string()));
    assert!(s.sources.contains(&"ERC".to_string()));
    assert_eq!(s.stage, stage);
    assert_eq!(s.archived.unwrap().reason, hired);
    assert_eq!(api.get("/v1/opportunities/00000000-0000-4000-8000-000000000000").await.json()["code"], "ResourceNotFound");
}

#[tokio::test]
async fn posting_filters_and_seed_facts() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let all = api.get("/v1/postings").await.json()["data"].as_array().unwrap().clone();
    let states: HashSet<&str> = all.iter().map(|p| p["state"].as_str().unwrap()).collect();
    for s in ["published", "internal", "closed", "draft"] {
        assert!(states.contains(s), "seed has a {s} posting");
    }
    let tags: Vec<&str> = all.iter().flat_map(|p| p["tags"].as_array().unwrap()).map(|t| t.as_str().unwrap()).collect();
    assert!(tags.contains(&"referralbonus:3000") && tags.contains(&"referralbonus:Win an iPad"));
    let p0 = &all.iter().find(|p| p["id"] == admin.seed_ids().postings[0].as_str()).unwrap();
    assert_eq!(p0["urls"]["show"].as_str().unwrap(), format!("https://jobs.lever.co/sandbox/{}", p0["id"].as_str().unwrap()));

    // state=published alone lists only public postings; with both channels, all published ones.
    let public: Vec<Value> = api.get("/v1/postings?state=published").await.json()["data"].as_array().unwrap().clone();
    assert!(public.iter().all(|p| p["distributionChannels"].as_array().unwrap().iter().any(|c| c == "public")));
    let both = api.get("/v1/postings?state=published&distributionChannel=public&distributionChannel=internal").await.json();
    assert!(both["data"].as_array().unwrap().len() > public.len());
    let internal_only = api.get("/v1/postings?distributionChannel=internal").await.json();
    assert!(internal_only["data"].as_array().unwrap().iter().all(|p| p["distributionChannels"].as_array().unwrap().iter().any(|c| c == "internal")));

    // Admin changes show up, and updated_at filters see them.
    let pid = admin.seed_ids().postings[2].clone();
    let before = lever_sandbox::state::now_ms();
    admin.set_posting_state(&pid, "closed", Some(None)).unwrap();
    let changed = api.get(&format!("/v1/postings?updated_at_start={before}")).await.json();
    let ids: Vec<&str> = changed["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![pid.as_str()]);

    // Users: one super admin at least, a deactivated one hidden by default.
    let users = api.get("/v1/users").await.json()["data"].as_array().unwrap().clone();
    assert!(users.iter().any(|u| u["id"] == admin.super_admin_id().as_str() && u["accessRole"] == "super admin"));
    assert!(!users.iter().any(|u| u["id"] == admin.seed_ids().deactivated_user.as_str()));
    let with = api.get("/v1/users?includeDeactivated=true").await.json();
    assert_eq!(with["data"].as_array().unwrap().len(), users.len() + 1);
    let hired = api.get("/v1/archive_reasons?type=hired").await.json();
    assert_eq!(hired["data"].as_array().unwrap().len(), 1);
    let stages: Vec<String> =
        api.get("/v1/stages").await.json()["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(&stages[..4], &["lead-new", "lead-reached-out", "lead-responded", "applicant-new"]);
    assert!(stages.contains(&"offer".to_string()));
}

#[tokio::test]
async fn same_seed_same_data() {
    // Same seed and same "now": the same account, ids and timestamps included.
    let now = Some(1_780_000_000_000);
    let (a, _) = common::start(SandboxConfig { now, ..unlimited() }).await;
    let (b, _) = common::start(SandboxConfig { now, ..unlimited() }).await;
    let (c, _) = common::start(SandboxConfig { seed: 8, now, ..unlimited() }).await;
    assert_eq!(a.admin().seed_ids().opportunities, b.admin().seed_ids().opportunities);
    assert_eq!(a.admin().posting(&a.admin().seed_ids().postings[3]), b.admin().posting(&b.admin().seed_ids().postings[3]));
    assert_ne!(a.admin().seed_ids().opportunities, c.admin().seed_ids().opportunities);
}

#[tokio::test]
async fn unknown_routes_and_methods_get_lever_style_errors() {
    let (_sb, api) = common::start(unlimited()).await;
    let r = api.get("/v1/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "ResourceNotFound");
    let m = api.call("DELETE", "/v1/stages", None).await;
    assert_eq!(m.status, 405);
    assert!(m.json()["message"].is_string());
}

#[tokio::test]
async fn a_lost_response_still_applied_the_write() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    admin.inject(FaultRule::lose_responses(1).on_path("/v1/opportunities"));
    let auth = format!("Bearer {}", api.token);
    let body = serde_json::to_vec(&json!({"name": "Lost Response", "emails": ["lost@example.com"]})).unwrap();
    let r = lever_sandbox::client::send(
        "POST",
        &format!("{}/v1/opportunities?perform_as={sa}", api.base),
        &[("authorization", &auth), ("content-type", "application/json")],
        body,
        Duration::from_secs(5),
    )
    .await;
    assert!(r.is_err(), "the client never sees a response");
    assert_eq!(admin.opportunities_by_email("lost@example.com").len(), 1, "but Lever created the candidate");
    assert_eq!(admin.requests("POST /v1/opportunities"), 1);

    // Response latency: the write lands before the (slow) answer.
    admin.inject(FaultRule::response_latency(Duration::from_millis(600)).on_path("/v1/opportunities"));
    let body = serde_json::to_vec(&json!({"name": "Slow Answer", "emails": ["slow@example.com"]})).unwrap();
    let r = lever_sandbox::client::send(
        "POST",
        &format!("{}/v1/opportunities?perform_as={sa}", api.base),
        &[("authorization", &auth), ("content-type", "application/json")],
        body,
        Duration::from_millis(200),
    )
    .await;
    assert!(r.is_err(), "client timed out");
    assert_eq!(admin.opportunities_by_email("slow@example.com").len(), 1);
}
