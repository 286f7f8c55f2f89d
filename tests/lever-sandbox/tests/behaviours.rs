//! The behaviours the jobs, candidates and hires flows will be tested on
//! (issue 9, items 9-13) and the admin calls those tests script them with.

mod common;

use common::ids;

use std::time::Duration;

use common::{Part, multipart};
use lever_sandbox::{ApplicantSpec, FaultRule, OfferSpec, SandboxConfig};
use serde_json::{Value, json};

fn unlimited() -> SandboxConfig {
    SandboxConfig { rate_limit: None, file_processing: Duration::from_millis(300), ..SandboxConfig::default() }
}

#[tokio::test]
async fn create_semantics() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let posting = admin.seed_ids().postings[0].clone();
    let create = |body: Value| {
        let api = api.clone();
        let sa = sa.clone();
        async move { api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&body)).await }
    };
    // No stage: "New lead".
    let first = create(json!({"name": "Robin First", "emails": ["robin@example.com"], "phones": [{"type": "mobile", "value": "+1 555 1000"}], "headline": "First co"})).await;
    assert_eq!(first.status, 201);
    let first = first.json();
    assert_eq!(first["data"]["stage"], "lead-new");
    assert_eq!(first["deduped"], false);
    // Same email: a new opportunity on the same contact; the contact's data wins; new phones merge.
    let second = create(json!({"name": "Someone Else", "headline": "Other", "emails": ["Robin@Example.com"], "phones": [{"value": "+1 555 2000"}], "postings": [posting]})).await.json();
    assert_eq!(second["deduped"], true);
    assert_eq!(second["data"]["contact"], first["data"]["contact"]);
    assert_ne!(second["data"]["id"], first["data"]["id"], "Lever never reuses the opportunity");
    assert_eq!(second["data"]["name"], "Robin First");
    assert_eq!(second["data"]["headline"], "First co");
    assert_eq!(second["data"]["phones"].as_array().unwrap().len(), 2);
    assert_eq!(admin.opportunities_by_email("robin@example.com").len(), 2, "the hub must look up before creating");
    // contact=<id> links and adds emails and tags.
    let contact = first["data"]["contact"].as_str().unwrap();
    let third = create(json!({"contact": contact, "emails": ["robin.work@example.com"], "tags": ["linked"]})).await.json();
    assert_eq!(third["data"]["contact"], contact);
    assert!(third["data"]["emails"].as_array().unwrap().iter().any(|e| e == "robin.work@example.com"));
    assert_eq!(third["data"]["tags"], json!(["linked"]));
    assert_eq!(create(json!({"contact": "00000000-0000-4000-8000-000000000000"})).await.status, 400);
    // perform_as required; exactly one posting.
    assert_eq!(api.call("POST", "/v1/opportunities", Some(&json!({"name": "X"}))).await.json()["code"], "MissingParameter");
    let two = create(json!({"name": "X", "postings": [posting, admin.seed_ids().postings[1]]})).await;
    assert_eq!(two.status, 400);
    // Multipart: resumeFile and files[]; a file over 30 MB is refused with Lever's error.
    let count = admin.opportunity_ids().len();
    let big = vec![b'x'; 30 * 1024 * 1024 + 1];
    let (ct, body) = multipart(&[
        Part::Text("name", "Big File"),
        Part::File { name: "files[]", filename: "huge.pdf", content_type: "application/pdf", bytes: &big },
    ]);
    let r = api.raw("POST", &format!("/v1/opportunities?perform_as={sa}"), &ct, body).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["code"], "RequestTooLarge");
    assert_eq!(admin.opportunity_ids().len(), count, "nothing created");
}

#[tokio::test]
async fn mutations_answer_in_lever_shapes_and_files_finish_processing() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let opp = admin.seed_ids().opportunities[2].clone();
    let note = api.call("POST", &format!("/v1/opportunities/{opp}/notes?perform_as={sa}"), Some(&json!({"value": "Referral: strong"}))).await;
    assert_eq!(note.status, 201);
    assert!(note.json()["data"]["noteId"].is_string());

    let (ct, body) =
        multipart(&[Part::File { name: "file", filename: "scorecard.pdf", content_type: "application/pdf", bytes: b"%PDF-1.7 scorecard" }]);
    let up = api.raw("POST", &format!("/v1/opportunities/{opp}/files?perform_as={sa}"), &ct, body).await;
    assert_eq!(up.status, 201);
    assert_eq!(up.json()["data"]["status"], "processing");
    let fid = up.json()["data"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(api.get(&format!("/v1/opportunities/{opp}/files/{fid}")).await.json()["data"]["status"], "processed");
    let snap = admin.opportunity(&opp).unwrap();
    assert_eq!(snap.files.last().unwrap().bytes, b"%PDF-1.7 scorecard", "exact bytes");

    for (path, body) in [("addTags", json!({"tags": ["hub:synced"]})), ("addSources", json!({"sources": ["HireUp"]}))] {
        let r = api.call("POST", &format!("/v1/opportunities/{opp}/{path}?perform_as={sa}"), Some(&body)).await;
        assert_eq!(r.status, 200);
        assert!(r.json()["data"]["id"] == opp.as_str(), "full opportunity back");
    }
    let stage = admin.seed_ids().stages[5].clone();
    assert_eq!(
        api.call("PUT", &format!("/v1/opportunities/{opp}/stage?perform_as={sa}"), Some(&json!({"stage": stage}))).await.json()["data"]["stage"],
        stage.as_str()
    );
    let hired = admin.hired_reason_id();
    let a = api.call("PUT", &format!("/v1/opportunities/{opp}/archived?perform_as={sa}"), Some(&json!({"reason": hired}))).await.json();
    assert_eq!(a["data"]["archived"]["reason"], hired.as_str());

    // Look-ups the hub makes.
    let email = snap.emails[0].to_uppercase();
    let posting = snap.postings.first().cloned().unwrap_or_default();
    let found = api.get(&format!("/v1/opportunities?email={}&posting_id={posting}&expand=stage", urlenc(&email))).await.json();
    assert_eq!(ids(&found), vec![opp.clone()]);
    assert_eq!(found["data"][0]["stage"]["id"], stage.as_str(), "expanded stage");
    let users = api.get("/v1/users?email=SAM@sandbox.example").await.json();
    assert_eq!(ids(&users), vec![sa.clone()], "canonicalised exact match");
    assert!(api.get("/v1/users?email=sam@sandbox").await.json()["data"].as_array().unwrap().is_empty(), "exact, not prefix");

    // Every write is recorded with the user it was performed as.
    let w = admin.writes();
    let routes: Vec<&str> = w.iter().map(|w| w.route.as_str()).collect();
    for r in [
        "POST /v1/opportunities/{id}/notes",
        "POST /v1/opportunities/{id}/files",
        "POST /v1/opportunities/{id}/addTags",
        "PUT /v1/opportunities/{id}/archived",
    ] {
        assert!(routes.contains(&r), "{r} in {routes:?}");
    }
    assert!(w.iter().all(|w| w.perform_as.as_deref() == Some(sa.as_str())));
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn what_moves_updated_at_and_what_does_not() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let opp = admin.seed_ids().opportunities[6].clone();
    let updated = |admin: &lever_sandbox::Admin| admin.opportunity(&opp).unwrap().updated_at;
    let before = updated(&admin);
    let t0 = lever_sandbox::state::now_ms();

    api.call("POST", &format!("/v1/opportunities/{opp}/notes?perform_as={sa}"), Some(&json!({"value": "n"}))).await;
    let (ct, body) = multipart(&[Part::File { name: "file", filename: "f.txt", content_type: "text/plain", bytes: b"f" }]);
    api.raw("POST", &format!("/v1/opportunities/{opp}/files?perform_as={sa}"), &ct, body).await;
    let offer =
        admin.add_offer(&opp, OfferSpec { status: "sent".into(), anticipated_start_date: Some(1_900_000_000_000), ..Default::default() }).unwrap();
    admin.set_offer_status(&opp, &offer, "signed").unwrap();
    assert_eq!(updated(&admin), before, "notes, files and offers leave updatedAt alone");

    // A poller trusting updatedAt misses the new offer; the offers list has it.
    let polled = api.get(&format!("/v1/opportunities?updated_at_start={t0}")).await.json();
    assert!(!ids(&polled).contains(&opp), "an updatedAt poller does not see offers");
    let offers = api.get(&format!("/v1/opportunities/{opp}/offers")).await.json();
    assert!(offers["data"].as_array().unwrap().iter().any(|o| o["id"] == offer.as_str() && o["status"] == "signed"));

    let mut last = before;
    for step in ["tags", "sources", "stage", "archive"] {
        match step {
            "tags" => _ = api.call("POST", &format!("/v1/opportunities/{opp}/addTags"), Some(&json!({"tags": ["t"]}))).await,
            "sources" => _ = api.call("POST", &format!("/v1/opportunities/{opp}/addSources"), Some(&json!({"sources": ["s"]}))).await,
            "stage" => admin.move_stage(&opp, "offer").unwrap(),
            _ => admin.set_archived(&opp, Some(&admin.seed_ids().archive_reasons[0])).unwrap(),
        }
        let now = updated(&admin);
        assert!(now > last, "{step} moves updatedAt");
        last = now;
    }
    assert!(ids(&api.get(&format!("/v1/opportunities?updated_at_start={t0}")).await.json()).contains(&opp));
}

#[tokio::test]
async fn postings_listing_rules() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let all = api.get("/v1/postings").await.json();
    let published: Vec<&Value> = all["data"].as_array().unwrap().iter().filter(|p| p["state"] == "published").collect();
    let public_only = ids(&api.get("/v1/postings?state=published").await.json());
    let expected: Vec<String> = published
        .iter()
        .filter(|p| p["distributionChannels"].as_array().unwrap().iter().any(|c| c == "public"))
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sorted(public_only), sorted(expected), "state=published alone: public postings only");
    let both = ids(&api.get("/v1/postings?state=published&distributionChannel=public&distributionChannel=internal").await.json());
    assert_eq!(both.len(), published.len(), "both channels: every published posting");
    assert_eq!(api.get("/v1/postings?distributionChannel=Public").await.status, 400, "camelCase name, lowercase values");

    // updated_at_* combine with confidentiality (and paging) only.
    let now = lever_sandbox::state::now_ms();
    assert_eq!(api.get(&format!("/v1/postings?updated_at_start={}&confidentiality=all&limit=10", now - 86_400_000 * 400)).await.status, 200);
    let mixed = api.get(&format!("/v1/postings?updated_at_start={now}&state=published")).await;
    assert_eq!(mixed.status, 400);
    assert!(mixed.json()["message"].as_str().unwrap().contains("confidentiality"));

    // Hosted URLs: https://jobs.lever.co/<site>/<id>, some with a trailing slash.
    let shows: Vec<&str> = all["data"].as_array().unwrap().iter().filter_map(|p| p["urls"]["show"].as_str()).collect();
    assert!(shows.iter().all(|u| u.starts_with("https://jobs.lever.co/sandbox/")));
    assert!(shows.iter().any(|u| u.ends_with('/')) && shows.iter().any(|u| !u.ends_with('/')));

    // Admin posting lifecycle: create (tags, channels, salary, workplace), change, unlist, close, delete.
    let id = admin
        .create_posting(json!({
            "text": "Data Engineer", "state": "published", "distributionChannels": ["public"], "tags": ["referralbonus:500"],
            "categories": {"team": "Data", "location": "Remote", "commitment": "Full-time"},
            "salaryRange": {"min": 100000, "max": 130000, "currency": "USD", "interval": "per-year-salary"},
            "workplaceType": "remote", "hiringManager": admin.seed_ids().admin,
        }))
        .unwrap();
    let p = api.get(&format!("/v1/postings/{id}")).await.json()["data"].clone();
    assert_eq!(
        (p["state"].as_str(), p["workplaceType"].as_str(), p["salaryRange"]["max"].as_i64()),
        (Some("published"), Some("remote"), Some(130000))
    );
    assert_eq!(p["hiringManager"], admin.seed_ids().admin.as_str());
    assert!(ids(&api.get("/v1/postings?state=published").await.json()).contains(&id));
    let t = lever_sandbox::state::now_ms();
    admin.update_posting(&id, json!({"text": "Senior Data Engineer", "tags": ["referralbonus:1000"]})).unwrap();
    let changed = ids(&api.get(&format!("/v1/postings?updated_at_start={t}")).await.json());
    assert_eq!(changed, vec![id.clone()], "a change moves updatedAt");
    admin.set_hiring_manager(&id, Some(&admin.seed_ids().team_member)).unwrap();
    assert_eq!(admin.posting(&id).unwrap()["hiringManager"], admin.seed_ids().team_member.as_str());
    admin.unlist_posting(&id).unwrap();
    assert_eq!(admin.posting(&id).unwrap()["state"], "internal");
    assert!(!ids(&api.get("/v1/postings?state=published").await.json()).contains(&id));
    admin.close_posting(&id).unwrap();
    assert_eq!(admin.posting(&id).unwrap()["urls"], Value::Null);
    admin.delete_posting(&id).unwrap();
    assert!(ids(&api.get("/v1/postings/deleted").await.json()).contains(&id));
    assert!(admin.create_posting(json!({"state": "draft"})).is_err(), "text is required");
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn offers_carry_fields_statuses_and_several_per_opportunity() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    // Seeded hires already have a signed offer; some an earlier, superseded one.
    let inv = admin.inventory();
    let many = inv["opportunities"].as_array().unwrap().iter().find(|o| o["offers"].as_u64() >= Some(2)).expect("a seeded hire with two offers");
    let offers = api.get(&format!("/v1/opportunities/{}/offers", many["id"].as_str().unwrap())).await.json();
    let statuses: Vec<&str> = offers["data"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"signed"), "{statuses:?}");

    let opp = admin.seed_ids().opportunities[0].clone();
    let before = api.get(&format!("/v1/opportunities/{opp}/offers")).await.json()["data"].as_array().unwrap().len();
    let a = admin
        .add_offer(
            &opp,
            OfferSpec { status: "draft".into(), anticipated_start_date: Some(1_893_456_000_000), salary_amount: Some(120_000), ..Default::default() },
        )
        .unwrap();
    let b = admin
        .add_offer(
            &opp,
            OfferSpec {
                status: "signed".into(),
                anticipated_start_date: Some(1_894_000_000_000),
                fields: vec![("Equity".into(), "custom_equity".into(), json!("0.1%"))],
                ..Default::default()
            },
        )
        .unwrap();
    let list = api.get(&format!("/v1/opportunities/{opp}/offers?expand=creator")).await.json();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), before + 2);
    let signed = data.iter().find(|o| o["id"] == b.as_str()).unwrap();
    let field = |o: &Value, id: &str| o["fields"].as_array().unwrap().iter().find(|f| f["identifier"] == id).map(|f| f["value"].clone());
    assert_eq!(field(signed, "anticipated_start_date"), Some(json!(1_894_000_000_000i64)), "epoch ms");
    assert_eq!(field(signed, "custom_equity"), Some(json!("0.1%")));
    assert!(signed["creator"]["id"].is_string(), "expand=creator");
    assert!(signed["sentAt"].is_i64() && signed["approved"] == true);
    let draft = data.iter().find(|o| o["id"] == a.as_str()).unwrap();
    assert!(draft["sentAt"].is_null() && draft["approved"] == false);
    assert!(admin.add_offer(&opp, OfferSpec { status: "accepted".into(), ..Default::default() }).is_err(), "Lever's statuses only");
    assert!(admin.set_offer_status(&opp, &a, "approval-sent").is_ok());
}

#[tokio::test]
async fn an_applicant_through_the_careers_page() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let posting = admin.seed_ids().postings[0].clone();
    let (opp, app) = admin
        .create_applicant(
            &posting,
            ApplicantSpec {
                name: "Casey Careers".into(),
                email: "casey@example.com".into(),
                phone: Some("+1 555 3000".into()),
                links: vec!["https://linkedin.example/casey".into()],
                resume: Some(("casey.pdf".into(), b"%PDF casey".to_vec())),
                ..Default::default()
            },
        )
        .unwrap();
    let o = api.get(&format!("/v1/opportunities/{opp}?expand=applications")).await.json()["data"].clone();
    assert_eq!((o["origin"].as_str(), o["stage"].as_str()), (Some("applied"), Some("applicant-new")));
    assert_eq!(o["applications"][0]["id"], app.as_str());
    assert_eq!(o["applications"][0]["type"], "posting");
    assert_eq!(o["applications"][0]["posting"], posting.as_str());
    assert_eq!(o["sources"], json!(["Job site"]));
    let resumes = api.get(&format!("/v1/opportunities/{opp}/resumes")).await.json();
    assert_eq!(resumes["data"][0]["file"]["name"], "casey.pdf");
    assert_eq!(admin.opportunity(&opp).unwrap().resume.unwrap().bytes, b"%PDF casey");
    assert!(admin.create_applicant(&posting, ApplicantSpec { name: "No Email".into(), ..Default::default() }).is_err());
}

#[tokio::test]
async fn ambiguous_creates_are_applied_but_answered_with_an_error() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    admin.inject(FaultRule::error_after_commit(1, 502).on_path("/v1/opportunities"));
    let r =
        api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&json!({"name": "Amb Iguous", "emails": ["amb@example.com"]}))).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.json()["code"], "BadGateway");
    assert_eq!(admin.opportunities_by_email("amb@example.com").len(), 1, "the create happened");
    // A retry without a look-up makes a duplicate candidacy: what the hub must avoid.
    let again =
        api.call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&json!({"name": "Amb Iguous", "emails": ["amb@example.com"]}))).await;
    assert_eq!((again.status, again.json()["deduped"].as_bool()), (201, Some(true)));
    assert_eq!(admin.opportunities_by_email("amb@example.com").len(), 2);
    assert_eq!(admin.requests("POST /v1/opportunities"), 2);
    assert_eq!(admin.counters().faults_served, 1);
}

#[tokio::test]
async fn ten_thousand_postings_page_through_in_linear_time() {
    let t = std::time::Instant::now();
    let (sb, api) = common::start(SandboxConfig { postings: 10_000, opportunities: 200, ..unlimited() }).await;
    let seeded = t.elapsed();
    assert_eq!(sb.admin().posting_ids().len(), 10_000);
    let t = std::time::Instant::now();
    let mut seen = std::collections::HashSet::new();
    let mut url = "/v1/postings?limit=100".to_string();
    let mut pages = 0;
    loop {
        let b = api.get(&url).await.json();
        pages += 1;
        for id in ids(&b) {
            assert!(seen.insert(id), "no posting twice");
        }
        match b["next"].as_str() {
            Some(n) => url = format!("/v1/postings?limit=100&offset={n}"),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (10_000, 100));
    println!("scale: seeded 10,000 postings in {seeded:?}; listed all 100 pages in {:?}", t.elapsed());
}
