//! Candidate ingest through the public interface: partners POST over HTTP, the hub writes to the
//! Lever sandbox over HTTP (DynamoDB Local, SQS and S3 on moto), and the tests check what Lever
//! received — source, origin, stage, tags, notes, files byte for byte, the attributed user — and
//! what the partner was told.

use std::time::Duration;

use e2e::TestHub;
use e2e::candidates::{b64, pdf};
use lever_sandbox::{ApplicantSpec, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn sandbox() -> SandboxConfig {
    SandboxConfig { webhooks_enabled_by_default: true, webhook_retry_base: Duration::from_millis(20), ..SandboxConfig::default() }
}

fn referral(email: &str, posting: &str, resume: &[u8], letter: &[u8]) -> Value {
    json!({
        "kind": "referral",
        "candidate": {"name": "Ada Lovelace", "emails": [email], "phones": [{"type": "mobile", "value": "+44 20 7946 0000"}],
                      "links": ["https://github.com/ada"], "location": "London", "headline": "Analyst"},
        "postings": [format!("https://jobs.lever.co/sandbox/{posting}")],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
        "endorsement": "The best analyst I have worked with.",
        "files": [
            {"name": "ada-cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(resume)},
            {"name": "ada-letter.pdf", "content_type": "application/pdf", "role": "cover_letter", "content_base64": b64(letter)},
        ],
    })
}

/// Data API requests the sandbox received since `reset_counters`, by route.
fn lever_calls(t: &TestHub) -> Vec<(String, u64)> {
    t.sandbox.admin().counters().data_requests.into_iter().filter(|(_, n)| *n > 0).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hireup_referrals_land_as_the_seed_says_in_three_calls_and_existing_candidates_are_added_to() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();
    let super_admin = admin.super_admin_id();

    let (resume, letter) = (pdf("ada resume", 40_000), pdf("ada letter", 12_345));
    let first = t.submit(&p, &id, "k-1", &referral("ada@candidates.example", &posting, &resume, &letter)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["state"], "created");
    assert_eq!(first.location.as_deref(), Some(format!("/v1/connections/{id}/candidates/{}", first.body["id"].as_str().unwrap()).as_str()));
    let opp_id = first.body["lever"]["opportunity_id"].as_str().unwrap().to_owned();
    assert!(first.body["lever"]["contact_id"].is_string());
    assert_eq!(first.body["stage"]["id"], "applicant-new");

    let o = admin.opportunity(&opp_id).unwrap();
    assert_eq!(o.sources, vec!["HireUp"], "All applications will have 'HireUp' as their source");
    assert_eq!(o.origin, "referred");
    assert_eq!(o.stage, "applicant-new", "synced to the 'New Applicant' stage");
    assert_eq!(o.postings, vec![posting.clone()]);
    assert_eq!(o.owner.as_deref(), Some(super_admin.as_str()), "written as the user who consented");
    assert_eq!(o.emails, vec!["ada@candidates.example"]);
    assert_eq!(o.links, vec!["https://github.com/ada"]);
    assert_eq!(o.resume.as_ref().map(|r| r.bytes.clone()), Some(resume.clone()), "the resume, byte for byte");
    assert_eq!(o.resume.as_ref().map(|r| r.name.as_str()), Some("ada-cv.pdf"));
    assert_eq!(o.files.len(), 1);
    assert_eq!((o.files[0].name.as_str(), &o.files[0].bytes), ("ada-letter.pdf", &letter), "the cover letter, byte for byte");
    assert_eq!(o.notes.len(), 1, "one note");
    let note = &o.notes[0].values[0];
    assert!(note.starts_with("Endorsement from Grace Hopper <grace@partner.example> via HireUp:"), "{note}");
    assert!(note.contains("The best analyst I have worked with."), "{note}");
    assert!(note.ends_with("Referred by Grace Hopper <grace@partner.example> via HireUp."), "{note}");
    for w in admin.writes().iter().filter(|w| w.path.contains(&opp_id) || w.route == "POST /v1/opportunities") {
        assert_eq!(w.perform_as.as_deref(), Some(super_admin.as_str()), "{w:?}");
    }
    let created = t.receiver.wait_for("candidate.created", &id, 1).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["data"]["lever"]["opportunity_id"], opp_id);

    // Benchmark: a referral with resume, cover letter and endorsement takes three Lever calls.
    admin.reset_counters();
    let second = t.submit(&p, &id, "k-2", &referral("alan@candidates.example", &posting, &pdf("alan", 3000), &pdf("alan l", 2000))).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let calls = lever_calls(&t);
    println!("Lever calls for a new referral with resume, cover letter and endorsement: {calls:?}");
    assert_eq!(
        calls,
        vec![("GET /v1/opportunities".to_owned(), 1), ("POST /v1/opportunities".to_owned(), 1), ("POST /v1/opportunities/{id}/notes".to_owned(), 1),]
    );

    // The same person referred again for the same posting: added to, not duplicated (lookup +
    // one call per addition: the note, two files; HireUp's source is there already).
    admin.reset_counters();
    let again = t.submit(&p, &id, "k-3", &referral("ada@candidates.example", &posting, &pdf("ada resume 2", 5000), &pdf("ada letter 2", 700))).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["state"], "updated");
    assert_eq!(again.body["lever"]["opportunity_id"], opp_id);
    assert_eq!(admin.opportunities_by_email("ada@candidates.example").len(), 1, "no second opportunity");
    let calls = lever_calls(&t);
    println!("Lever calls for an existing candidate: {calls:?}");
    assert_eq!(
        calls,
        vec![
            ("GET /v1/opportunities".to_owned(), 1),
            ("POST /v1/opportunities/{id}/files".to_owned(), 2),
            ("POST /v1/opportunities/{id}/notes".to_owned(), 1),
        ]
    );
    let o = admin.opportunity(&opp_id).unwrap();
    assert_eq!(o.files.len(), 3, "both new files added: {:?}", o.files.iter().map(|f| &f.name).collect::<Vec<_>>());
    assert_eq!(o.notes.len(), 2);
    assert!(t.receiver.wait_for("candidate.updated", &id, 1).await.len() == 1);

    // A careers-page applicant referred through HireUp gets the HireUp source added.
    let posting2 = t.posting("Engineer");
    let (applicant, _) = admin
        .create_applicant(&posting2, ApplicantSpec { name: "Linus".into(), email: "linus@candidates.example".into(), ..Default::default() })
        .unwrap();
    admin.reset_counters();
    let mut body = referral("linus@candidates.example", &posting2, &pdf("linus", 100), &pdf("linus l", 100));
    body["files"] = json!([]);
    let added = t.submit(&p, &id, "k-4", &body).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(added.body["lever"]["opportunity_id"], applicant);
    let o = admin.opportunity(&applicant).unwrap();
    assert_eq!(o.sources, vec!["Job site", "HireUp"]);
    assert_eq!(o.origin, "applied", "Lever has no origin change");
    assert_eq!(
        lever_calls(&t),
        vec![
            ("GET /v1/opportunities".to_owned(), 1),
            ("POST /v1/opportunities/{id}/addSources".to_owned(), 1),
            ("POST /v1/opportunities/{id}/notes".to_owned(), 1),
        ]
    );

    // The partner's list, newest first.
    let (status, list) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/candidates?limit=2"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"][0]["id"], added.body["id"]);
    assert_eq!(list["data"][1]["id"], again.body["id"]);
    let next = list["next_cursor"].as_str().unwrap();
    let (_, rest) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/candidates?limit=2&cursor={next}"), None).await;
    assert_eq!(rest["data"][0]["id"], second.body["id"]);
    assert_eq!(rest["data"][1]["id"], first.body["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outhire_pushes_only_applications_as_leads_owned_by_the_chosen_user() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Designer");
    let admin = t.sandbox.admin();
    let chosen = admin.seed_ids().team_member;
    admin.reset_counters();

    // Saves and questions are not applications: a referral is refused and nothing reaches Lever.
    let body = json!({"kind": "referral", "candidate": {"name": "Bea", "emails": ["bea@candidates.example"]}, "postings": [posting],
                      "referrer": {"name": "Someone"}});
    let refused = t.submit(&p, &id, "o-1", &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.body["type"], "/problems/invalid-request");
    let kind = refused.body["errors"].as_array().unwrap().iter().find(|e| e["field"] == "kind").expect("names the kind");
    assert!(kind["message"].as_str().unwrap().contains("this partner sends application"), "{kind}");
    assert!(admin.writes().is_empty(), "nothing written to Lever");
    assert!(lever_calls(&t).is_empty(), "not even read");

    // No user chosen yet: the application is refused with the setting named, nothing written.
    let application = json!({"kind": "application", "candidate": {"name": "Bea Ray", "emails": ["bea@candidates.example"]},
                             "postings": [posting],
                             "files": [{"name": "bea.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&pdf("bea", 999))}]});
    let no_user = t.submit(&p, &id, "o-2", &application).await;
    assert_eq!(no_user.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_user.body);
    assert_eq!(no_user.body["errors"][0]["field"], "settings.perform_as", "{}", no_user.body);
    assert!(admin.opportunities_by_email("bea@candidates.example").is_empty());

    t.settings(&p, &id, json!({"perform_as": chosen})).await;
    let created = t.submit(&p, &id, "o-3", &application).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let o = admin.opportunity(created.body["lever"]["opportunity_id"].as_str().unwrap()).unwrap();
    assert_eq!(o.stage, "lead-new", "Applicants will appear in your New Leads");
    assert!(o.tags.contains(&"Outhire".to_owned()), "with an Outhire tag: {:?}", o.tags);
    assert_eq!(o.sources, vec!["Outhire"]);
    assert_eq!(o.origin, "applied");
    assert_eq!(o.owner.as_deref(), Some(chosen.as_str()), "attributed to the user chosen at setup");
    assert_eq!(o.resume.as_ref().map(|r| r.bytes.clone()), Some(pdf("bea", 999)));
    let create = admin.writes().into_iter().find(|w| w.route == "POST /v1/opportunities").unwrap();
    assert_eq!(create.perform_as.as_deref(), Some(chosen.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erc_referrals_update_careers_page_applicants_and_wait_for_the_rest_to_apply() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("employeereferrals").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Support");
    let admin = t.sandbox.admin();

    // A careers-page applicant referred by someone who is not a Lever user: updated, not duplicated.
    let (applicant, _) =
        admin.create_applicant(&posting, ApplicantSpec { name: "Ken".into(), email: "ken@candidates.example".into(), ..Default::default() }).unwrap();
    let body = json!({"kind": "referral", "candidate": {"name": "Ken Thompson", "emails": ["Ken@Candidates.example"]}, "postings": [posting],
                      "referrer": {"name": "Sam Employee", "email": "sam@customer.example"}});
    let updated = t.submit(&p, &id, "e-1", &body).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["state"], "updated");
    assert_eq!(updated.body["lever"]["opportunity_id"], applicant);
    assert_eq!(admin.opportunities_by_email("ken@candidates.example").len(), 1, "not duplicated");
    let o = admin.opportunity(&applicant).unwrap();
    assert_eq!(o.sources, vec!["Job site", "ERC"], "the source update process for careers-page applicants");
    assert_eq!(
        o.notes.iter().map(|n| n.values[0].clone()).collect::<Vec<_>>(),
        vec![
            "Referred by Sam Employee <sam@customer.example> through EmployeeReferrals.com.\n\nThe referrer is not a Lever user; their name and email are above."
        ]
    );

    // A referrer who is a Lever user is named as Lever knows them.
    let users: Value = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/users"), None).await.1;
    let user = users["data"].as_array().unwrap().iter().find(|u| u["email"].is_string()).unwrap().clone();
    let (applicant2, _) = admin
        .create_applicant(&posting, ApplicantSpec { name: "Radia".into(), email: "radia@candidates.example".into(), ..Default::default() })
        .unwrap();
    let body = json!({"kind": "referral", "candidate": {"name": "Radia P", "emails": ["radia@candidates.example"]}, "postings": [posting],
                      "referrer": {"name": "Nickname", "email": user["email"]}});
    assert_eq!(t.submit(&p, &id, "e-2", &body).await.status, StatusCode::OK);
    let note = admin.opportunity(&applicant2).unwrap().notes[0].values[0].clone();
    assert_eq!(note, format!("Referred by {} <{}> through EmployeeReferrals.com.", user["name"].as_str().unwrap(), user["email"].as_str().unwrap()));

    // Referral before application: held, nothing in Lever, until the candidate applies.
    let body = json!({"kind": "referral", "candidate": {"name": "Frances Allen", "emails": ["frances@candidates.example"]}, "postings": [posting],
                      "referrer": {"name": "Sam Employee", "email": "sam@customer.example"}});
    let held = t.submit(&p, &id, "e-3", &body).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.body);
    assert_eq!(held.body["state"], "pending");
    assert!(held.body["pending_until"].is_string());
    assert!(admin.opportunities_by_email("frances@candidates.example").is_empty(), "the candidate applies on Lever's job page first");
    let sub = held.body["id"].as_str().unwrap().to_owned();
    let (applied, _) = admin
        .create_applicant(&posting, ApplicantSpec { name: "Frances Allen".into(), email: "frances@candidates.example".into(), ..Default::default() })
        .unwrap();
    let done = t.wait_candidate(&p, &id, &sub, "updated", Duration::from_secs(15)).await;
    assert_eq!(done["lever"]["opportunity_id"], applied, "applied to the application Lever reported");
    assert_eq!(t.routed(&id, "applicationCreated").len(), 3, "every application was routed; only the held one was written to");
    let o = admin.opportunity(&applied).unwrap();
    assert_eq!(o.sources, vec!["Job site", "ERC"]);
    assert_eq!(o.notes.len(), 1);
    assert_eq!(admin.opportunities_by_email("frances@candidates.example").len(), 1);
    let events = t.receiver.wait_for("candidate.updated", &id, 3).await;
    assert!(events.iter().any(|e| e["data"]["id"] == sub.as_str()), "the partner is told when the held referral is written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn held_referrals_are_found_by_the_poll_without_webhooks_and_expire_with_an_event() {
    let t = TestHub::start(SandboxConfig { webhooks_enabled_by_default: false, ..sandbox() }).await;
    let p = t.partner("employeereferrals").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Ops");
    let admin = t.sandbox.admin();
    let refer = |email: &str| json!({"kind": "referral", "candidate": {"name": "Someone", "emails": [email]}, "postings": [posting], "referrer": {"name": "Sam"}});
    let polled = t.submit(&p, &id, "p-1", &refer("edsger@candidates.example")).await;
    let expiring = t.submit(&p, &id, "p-2", &refer("barbara@candidates.example")).await;
    assert_eq!((polled.body["state"].as_str(), expiring.body["state"].as_str()), (Some("pending"), Some("pending")));
    let (applied, _) = admin
        .create_applicant(&posting, ApplicantSpec { name: "Edsger".into(), email: "edsger@candidates.example".into(), ..Default::default() })
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(t.routed(&id, "applicationCreated").is_empty(), "webhook groups are off");

    // Half an hour later the sweeper finds both due; the poll finds the application.
    t.clock.advance_ms(31 * 60 * 1000);
    let report = t.hub.candidates.sweep_once(t.now_ms()).await.unwrap();
    assert_eq!(report.submissions, 2, "{report:?}");
    let done = t.wait_candidate(&p, &id, polled.body["id"].as_str().unwrap(), "updated", Duration::from_secs(15)).await;
    assert_eq!(done["lever"]["opportunity_id"], applied);
    let still = t.candidate(&p, &id, expiring.body["id"].as_str().unwrap()).await;
    assert_eq!(still["state"], "pending");

    // Thirty days on, the other expires: failed, referral_expired, and the partner is told.
    t.clock.advance_ms(30 * 24 * 3600 * 1000);
    t.hub.candidates.sweep_once(t.now_ms()).await.unwrap();
    let expired = t.wait_candidate(&p, &id, expiring.body["id"].as_str().unwrap(), "failed", Duration::from_secs(15)).await;
    assert_eq!(expired["error"]["code"], "referral_expired");
    // The partner's receiver checks signatures against the real clock: back to it, so the
    // delivery's retry is signed with a time the receiver accepts.
    t.clock.advance_ms(-(30 * 24 * 3600 * 1000 + 31 * 60 * 1000));
    let failed = t.receiver.wait_for("submission.failed", &id, 1).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["error"]["code"], "referral_expired");
    assert!(admin.opportunities_by_email("barbara@candidates.example").is_empty());
    // Nothing more is due: the expired one left the index.
    t.clock.advance_ms(40 * 24 * 3600 * 1000);
    assert_eq!(t.hub.candidates.sweep_once(t.now_ms()).await.unwrap().submissions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upwage_screenings_tag_move_and_attach_the_transcript_and_create_missing_candidates() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("upwage").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Cashier");
    let admin = t.sandbox.admin();
    let phone_screen = admin.seed_ids().stages.into_iter().find(|s| s.len() == 36).expect("a custom stage");
    t.settings(&p, &id, json!({"result_routes": {"PASSED": {"stage": phone_screen}}})).await;

    let (applicant, _) = admin
        .create_applicant(&posting, ApplicantSpec { name: "Dennis".into(), email: "dennis@candidates.example".into(), ..Default::default() })
        .unwrap();
    let transcript = pdf("superscreener transcript", 70_001);
    let screening = |email: &str, status: &str, transcript: &[u8]| {
        json!({"kind": "screening", "candidate": {"name": "Dennis Ritchie", "emails": [email]},
               // "The Lever Job ID can be found at the end of the Lever-hosted job posting URL"
               "postings": [format!("https://jobs.lever.co/sandbox/{posting}/")],
               "screening": {"status": status, "score": 91, "summary": "Clear and friendly."},
               "files": [{"name": "SuperScreener.pdf", "content_type": "application/pdf", "role": "transcript", "content_base64": b64(transcript)}]})
    };
    let result = t.submit(&p, &id, "u-1", &screening("dennis@candidates.example", "passed", &transcript)).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    assert_eq!(result.body["stage"]["id"], phone_screen.as_str());
    let o = admin.opportunity(&applicant).unwrap();
    assert!(o.tags.contains(&"UW Screened: PASSED".to_owned()), "{:?}", o.tags);
    assert_eq!(o.stage, phone_screen, "moved per the customer's result route");
    assert_eq!(o.files.len(), 1);
    assert_eq!((o.files[0].name.as_str(), &o.files[0].bytes), ("SuperScreener.pdf", &transcript));
    assert_eq!(o.notes[0].values[0], "Upwage SuperScreener result: PASSED. Clear and friendly.");
    assert_eq!(o.sources, vec!["Job site"], "a screening does not claim the candidate as Upwage's");

    // "If the screener does not have a candidate already in Lever, the Upwage integration will
    // create a new candidate opportunity": no route for FAILED, so the default stage.
    let new = t.submit(&p, &id, "u-2", &screening("margaret@candidates.example", "FAILED", &pdf("other", 5))).await;
    assert_eq!(new.status, StatusCode::CREATED, "{}", new.body);
    let o = admin.opportunity(new.body["lever"]["opportunity_id"].as_str().unwrap()).unwrap();
    assert_eq!((o.stage.as_str(), o.origin.as_str()), ("applicant-new", "applied"));
    assert_eq!(o.sources, vec!["Upwage"]);
    assert!(o.tags.contains(&"UW Screened: FAILED".to_owned()));
    assert_eq!(o.files[0].bytes, pdf("other", 5), "the transcript goes in with the create");
    assert!(o.resume.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookalike_emails_are_one_person_and_hidden_characters_are_refused() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let person = |email: &str, name: &str| {
        let mut body = referral(email, &posting, &pdf("cv", 100), &pdf("letter", 100));
        body["candidate"]["name"] = json!(name);
        body["files"] = json!([]);
        body
    };
    let first = t.submit(&p, &id, "look-1", &person("dupe@candidates.example", "Ada Lovelace")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);

    // Full-width letters and an upper-case domain are the same address (NFKC, case-folded
    // domain): the same opportunity, added to.
    let wide = t.submit(&p, &id, "look-2", &person("ｄｕｐｅ@CANDIDATES.example", "Ada Lovelace")).await;
    assert_eq!(wide.status, StatusCode::OK, "{}", wide.body);
    assert_eq!(wide.body["lever"]["opportunity_id"], first.body["lever"]["opportunity_id"]);

    // A zero-width space cannot be in an address: refused, naming the field, nothing written.
    let hidden = t.submit(&p, &id, "look-3", &person("dupe\u{200b}@candidates.example", "Ada Lovelace")).await;
    assert_eq!(hidden.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", hidden.body);
    assert_eq!(hidden.body["type"], "/problems/invalid-request");
    assert_eq!(hidden.body["errors"][0]["field"], "candidate.emails[0]", "{}", hidden.body);
    assert_eq!(t.sandbox.admin().opportunities_by_email("dupe@candidates.example").len(), 1, "one person, one opportunity");

    // Names with a NUL or a right-to-left override are refused the same way, referrer's too.
    for (name, what) in [("Ada\0Lovelace", "U+0000"), ("Ada \u{202e}ecalevoL", "U+202E")] {
        let refused = t.submit(&p, &id, &format!("look-{what}"), &person("ada2@candidates.example", name)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], "candidate.name", "{}", refused.body);
        assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains(what), "{}", refused.body);
    }
    let mut referrer = person("ada3@candidates.example", "Ada Lovelace");
    referrer["referrer"]["name"] = json!("Grace\u{2066}Hopper");
    let refused = t.submit(&p, &id, "look-referrer", &referrer).await;
    assert_eq!(refused.body["errors"][0]["field"], "referrer.name", "{}", refused.body);
    for email in ["ada2@candidates.example", "ada3@candidates.example"] {
        assert!(t.sandbox.admin().opportunities_by_email(email).is_empty(), "nothing reached Lever for {email}");
    }
    // A name written with a zero-width joiner (Persian, Indic scripts) is a name.
    let joined = t.submit(&p, &id, "look-zwj", &person("ada4@candidates.example", "Mehr\u{200c}dad")).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_runs_once_however_many_times_it_is_sent_and_another_body_is_refused() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let body = referral("grace@candidates.example", &posting, &pdf("g", 2_000), &pdf("gl", 1_000));

    // Each sender does what the API tells a partner to: on 409 `idempotency-key-in-use` it waits
    // for `Retry-After` and sends the same request again. However long the first one takes, every
    // sender ends with the first answer.
    let send = || async {
        for _ in 0..60 {
            let a = t.submit(&p, &id, "same-key", &body).await;
            if a.status != StatusCode::CONFLICT {
                return a;
            }
            assert_eq!(a.body["type"], "/problems/idempotency-key-in-use", "{}", a.body);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("the first request with the key never finished");
    };
    let answers = futures::future::join_all((0..100).map(|_| send())).await;
    let firsts: Vec<_> = answers.iter().filter(|a| !a.replayed).collect();
    assert_eq!(firsts.len(), 1, "one request ran: {:?}", answers.iter().map(|a| (a.status, a.replayed)).collect::<Vec<_>>());
    for a in &answers {
        assert_eq!(a.status, StatusCode::CREATED, "every request gets the first answer: {}", a.body);
        assert_eq!(a.body, firsts[0].body);
    }
    let opportunities = t.sandbox.admin().opportunities_by_email("grace@candidates.example");
    assert_eq!(opportunities.len(), 1, "100 identical requests, 1 opportunity");
    assert_eq!(opportunities[0].notes.len(), 1);

    // The same request re-encoded — keys in another order, other whitespace — is the same
    // request: the first answer again, nothing written.
    let Value::Object(fields) = &body else { panic!("a referral is an object") };
    let reordered = format!(
        "{{\n  {}\n}}",
        fields.iter().rev().map(|(k, v)| format!("{}: {}", json!(k), serde_json::to_string_pretty(v).unwrap())).collect::<Vec<_>>().join(",\n  ")
    );
    assert_ne!(reordered.as_bytes(), body.to_string().as_bytes());
    let again = t.submit_raw(&p, &id, Some("same-key"), reordered.into_bytes()).await.unwrap();
    assert_eq!((again.status, again.replayed), (StatusCode::CREATED, true), "{}", again.body);
    assert_eq!(again.body, firsts[0].body);
    assert_eq!(t.sandbox.admin().opportunities_by_email("grace@candidates.example")[0].notes.len(), 1);

    // The same key with another body is another request: refused, and nothing is written.
    let mut other = body.clone();
    other["endorsement"] = json!("Changed my mind.");
    let refused = t.submit(&p, &id, "same-key", &other).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.body["type"], "/problems/idempotency-key-reused");
    assert_eq!(t.sandbox.admin().opportunities_by_email("grace@candidates.example")[0].notes.len(), 1);

    // Without a key: refused (400), naming the header.
    let none = t.submit_raw(&p, &id, None, body.to_string().into_bytes()).await.unwrap();
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.body);
    assert_eq!(none.body["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stage_changes_archives_and_hires_reach_the_partner_with_stage_names() {
    let t = TestHub::start(sandbox()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let posting = t.posting("Analyst");
    let admin = t.sandbox.admin();
    let custom = admin.seed_ids().stages.into_iter().find(|s| s.len() == 36).expect("a custom stage");
    t.settings(&p, &id, json!({"stage_labels": {custom.clone(): "Culture chat"}})).await;
    let created = t.submit(&p, &id, "s-1", &referral("barbara@candidates.example", &posting, &pdf("b", 10), &pdf("bl", 10))).await;
    let opp = created.body["lever"]["opportunity_id"].as_str().unwrap().to_owned();
    let sub = created.body["id"].as_str().unwrap().to_owned();

    // A careers-page applicant the hub never touched moves too: not the partner's business.
    let (other, _) =
        admin.create_applicant(&posting, ApplicantSpec { name: "X".into(), email: "x@candidates.example".into(), ..Default::default() }).unwrap();
    admin.move_stage(&other, "offer").unwrap();
    admin.move_stage(&opp, &custom).unwrap();
    let moved = t.receiver.wait_for("candidate.stage_changed", &id, 1).await;
    assert_eq!(moved.len(), 1, "{moved:?}");
    let data = &moved[0]["data"];
    assert_eq!(data["submission_id"], sub.as_str());
    assert_eq!(data["opportunity_id"], opp.as_str());
    assert_eq!(data["stage"]["id"], custom.as_str());
    assert!(data["stage"]["name"].as_str().is_some_and(|n| !n.is_empty()), "Lever's name for the stage: {data}");
    assert_eq!(data["stage"]["label"], "Culture chat", "the customer's label");
    assert_eq!(data["previous_stage"]["id"], "applicant-new");
    assert_eq!(t.candidate(&p, &id, &sub).await["stage"]["id"], custom.as_str(), "GET shows the current stage");

    // Hired: archived with the hired reason, then candidateHired; each told once.
    admin.hire(&opp, None).unwrap();
    let archived = t.receiver.wait_for("candidate.archived", &id, 1).await;
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0]["data"]["hired"], true);
    assert_eq!(archived[0]["data"]["archive_reason"]["id"], admin.hired_reason_id().as_str());
    let hired = t.receiver.wait_for("candidate.hired", &id, 1).await;
    assert_eq!(hired.len(), 1);
    t.wait_routed(&id, "candidateHired", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.receiver.events("candidate.hired", &id).len(), 1, "the archive webhook and the hire webhook announce it once");
    assert_eq!(t.receiver.events("candidate.stage_changed", &id).len(), 1);
}
