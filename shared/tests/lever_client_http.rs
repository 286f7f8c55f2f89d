//! The Lever client over HTTP against the Lever sandbox (`tests/lever-sandbox`): OAuth with
//! strict single-use refresh, pagination, 429/5xx handling per the retry rule, revoke, multipart
//! creates, and the hub's Data API operations.
//!
//! Counters: `data_requests["METHOD /v1/route"]` counts every Data API request that reached the
//! sandbox, including those answered by a scripted fault (`faults_served`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lever_sandbox::{FaultRule, Sandbox, SandboxConfig};
use shared::lever::*;

const SCOPES: &[&str] = &[
    "opportunities:read:admin",
    "opportunities:write:admin",
    "postings:read:admin",
    "notes:write:admin",
    "files:write:admin",
    "users:read:admin",
    "stages:read:admin",
    "archive_reasons:read:admin",
    "offers:read:admin",
    "contact:read:admin",
    "webhooks:read:admin",
    "webhooks:write:admin",
];
const REDIRECT: &str = "http://127.0.0.1/lever/callback";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        min_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        max_retry_after: Duration::from_secs(5),
    }
}

fn client_for(sb: &Sandbox) -> LeverHttpClient {
    let mut cfg = LeverConfig::local(&sb.base_url(), "sandbox-client", Secret::new("sandbox-secret")).unwrap();
    cfg.retry = fast_retries();
    LeverHttpClient::new(cfg).unwrap()
}

/// Consent through `/authorize` (the sandbox auto-approves) and exchange the code.
async fn connect(client: &LeverHttpClient) -> TokenSet {
    let scopes: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    let url = client.authorize_url(REDIRECT, "state-123", &scopes, None);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302, "authorize redirects back");
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some("state-123"));
    let code = q.get("code").unwrap_or_else(|| panic!("no code in redirect: {location}"));
    client.exchange_code(code, REDIRECT, None).await.expect("code exchange")
}

async fn start(cfg: SandboxConfig) -> (Sandbox, LeverHttpClient, LeverAuth) {
    let sb = Sandbox::start(cfg).await.unwrap();
    let client = client_for(&sb);
    let tokens = connect(&client).await;
    let auth = LeverAuth::bearer("conn-test", tokens.access_token.clone());
    (sb, client, auth)
}

fn reached(sb: &Sandbox, route: &str) -> u64 {
    sb.admin().requests(route)
}

#[tokio::test]
async fn oauth_exchange_rotation_and_strict_single_use_refresh() {
    let sb = Sandbox::start(SandboxConfig { strict_refresh: true, access_token_ttl: Duration::from_secs(2), ..Default::default() }).await.unwrap();
    let client = client_for(&sb);
    let t1 = connect(&client).await;
    let r1 = t1.refresh_token.clone().expect("offline_access gives a refresh token");
    assert!(t1.scopes().any(|s| s == "offline_access"), "scope: {:?}", t1.scope);
    assert!(t1.expires_in <= 2, "sandbox ttl: {}", t1.expires_in);

    let api: Arc<dyn LeverApi> = Arc::new(client.clone());
    let oauth: Arc<dyn LeverOAuth> = Arc::new(client.clone());
    let auth1 = LeverAuth::bearer("conn-oauth", t1.access_token.clone());
    api.list_stages(&auth1, PageRequest::default()).await.expect("fresh token works");

    // Rotation: a new refresh token every time.
    let t2 = oauth.refresh(&r1).await.expect("first refresh");
    let r2 = t2.refresh_token.clone().expect("rotated refresh token");
    assert_ne!(r1.expose(), r2.expose(), "refresh token rotates");
    assert_ne!(t1.access_token.expose(), t2.access_token.expose());

    // Strict single use: the old refresh token is dead.
    let err = oauth.refresh(&r1).await.unwrap_err();
    assert!(matches!(err, LeverError::Revoked { .. }), "{err:?}");
    assert!(err.is_revoked() && !err.is_transient());
    assert!(!err.to_string().contains(r1.expose()), "no token in the error message");

    // Access token expiry (2 s) → 401 Unauthorized; the rotated refresh token recovers.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let err = api.list_stages(&LeverAuth::bearer("conn-oauth", t2.access_token.clone()), PageRequest::default()).await.unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }) && err.needs_reauth(), "{err:?}");
    let t3 = client.refresh(&r2).await.expect("refresh with the newest token");
    api.list_stages(&LeverAuth::bearer("conn-oauth", t3.access_token.clone()), PageRequest::default()).await.unwrap();

    let c = sb.admin().counters();
    assert_eq!(c.token_requests.get("authorization_code"), Some(&1));
    assert_eq!(c.token_requests.get("refresh_token"), Some(&3), "refreshes are never retried: 3 calls, 3 requests");
    assert_eq!((c.refresh_successes, c.refresh_failures), (2, 1));

    // A wrong client secret is our configuration problem, not the customer's.
    let mut bad = LeverConfig::local(&sb.base_url(), "sandbox-client", Secret::new("wrong")).unwrap();
    bad.retry = fast_retries();
    let err = LeverHttpClient::new(bad).unwrap().refresh(&t3.refresh_token.unwrap()).await.unwrap_err();
    assert!(matches!(err, LeverError::InvalidClient { .. }), "{err:?}");
}

#[tokio::test]
async fn revoked_connection_gets_typed_errors() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = client_for(&sb);
    let tokens = connect(&client).await;
    let auth = LeverAuth::bearer("conn-revoke", tokens.access_token.clone());
    client.list_stages(&auth, PageRequest::default()).await.unwrap();

    assert!(sb.admin().revoke_all() >= 1);
    let before = sb.admin().counters().data_requests.get("GET /v1/stages").copied().unwrap_or(0);
    let err = client.list_stages(&auth, PageRequest::default()).await.unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }) && err.needs_reauth(), "{err:?}");
    let after = sb.admin().counters().data_requests.get("GET /v1/stages").copied().unwrap_or(0);
    assert_eq!(after - before, 1, "401 is not retried");
    let err = client.refresh(tokens.refresh_token.as_ref().unwrap()).await.unwrap_err();
    assert!(matches!(err, LeverError::Revoked { .. }), "{err:?}");
}

#[tokio::test]
async fn paginates_250_postings_in_three_pages() {
    let (sb, client, auth) = start(SandboxConfig { postings: 250, ..Default::default() }).await;
    let expected: HashSet<String> = sb.admin().posting_ids().into_iter().collect();
    assert!(expected.len() >= 250, "seeded {}", expected.len());
    let api: Arc<dyn LeverApi> = Arc::new(client);

    let mut pager = Pager::new(100);
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    while let Some(req) = pager.next_request() {
        let page = api.list_postings(&auth, &PostingsQuery::default(), req).await.unwrap();
        pager.advance(&page).unwrap();
        sizes.push(page.data.len());
        ids.extend(page.data.into_iter().map(|p| p.id));
    }
    let unique: HashSet<String> = ids.iter().cloned().collect();
    println!("{} postings in pages of {sizes:?}", ids.len());
    assert_eq!(sizes.len(), expected.len().div_ceil(100));
    assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == 100), "{sizes:?}");
    assert_eq!(unique.len(), ids.len(), "no posting twice");
    assert_eq!(unique, expected, "every posting once");
    assert_eq!(sb.admin().requests("GET /v1/postings"), sizes.len() as u64);

    // The collect-all convenience walks the same listing.
    let all = collect_all(100, 50, |req| {
        let (api, auth) = (api.clone(), auth.clone());
        async move { api.list_postings(&auth, &PostingsQuery::default(), req).await }
    })
    .await
    .unwrap();
    assert_eq!(all.len(), expected.len());

    // A filtered listing (state=published) only returns published postings.
    let published = api
        .list_postings(&auth, &PostingsQuery { states: vec![PostingState::Published], ..Default::default() }, PageRequest::first(100))
        .await
        .unwrap();
    assert!(published.data.iter().all(|p| p.state == Some(PostingState::Published)));
}

#[tokio::test]
async fn reads_retry_429_honouring_retry_after_and_5xx() {
    let (sb, client, auth) = start(SandboxConfig::default()).await;
    let admin = sb.admin();

    // 3 × 429 with Retry-After: 1 → the read succeeds on the 4th request, after ≥ 3 s.
    admin.reset_counters();
    admin.inject(FaultRule::status(3, 429, Some(1)).on_path("/v1/stages"));
    let t = Instant::now();
    let stages = client.list_stages(&auth, PageRequest::default()).await.expect("read survives 429s");
    let waited = t.elapsed();
    assert!(!stages.data.is_empty());
    let c = admin.counters();
    println!("3x429 (Retry-After 1): {waited:?}, faults served {}, rate_limited {}", c.faults_served, c.rate_limited);
    assert_eq!(c.faults_served, 3);
    assert_eq!(c.data_requests.get("GET /v1/stages"), Some(&4), "3 retries + the success");
    assert!(waited >= Duration::from_millis(2_900), "Retry-After honoured: {waited:?}");
    assert!(waited < Duration::from_secs(12), "Retry-After 1 s must not turn into long waits: {waited:?}");

    // 2 × 429 without Retry-After → exponential backoff (50 ms base): quick.
    admin.reset_counters();
    admin.inject(FaultRule::status(2, 429, None).on_path("/v1/stages"));
    let t = Instant::now();
    client.list_stages(&auth, PageRequest::default()).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "without Retry-After the backoff starts small: {:?}", t.elapsed());
    assert_eq!(reached(&sb, "GET /v1/stages"), 3);

    // 503 and 502 on a read are retried too.
    admin.reset_counters();
    admin.inject(FaultRule::status(1, 503, None).on_path("/v1/archive_reasons"));
    admin.inject(FaultRule::status(1, 502, None).on_path("/v1/archive_reasons"));
    let reasons = client.list_archive_reasons(&auth, Some(ArchiveReasonType::Hired), PageRequest::default()).await.unwrap();
    assert!(!reasons.data.is_empty() && reasons.data.iter().all(ArchiveReason::is_hired));
    assert_eq!(reached(&sb, "GET /v1/archive_reasons"), 3);

    // A Retry-After longer than we wait in-process: give up at once with the hint.
    admin.reset_counters();
    admin.inject(FaultRule::status(1, 429, Some(120)).on_path("/v1/stages"));
    let err = client.list_stages(&auth, PageRequest::default()).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)), "{err:?}");
    assert_eq!(reached(&sb, "GET /v1/stages"), 1);

    // Bounded attempts: endless 429 → RateLimited after 1 + max_retries requests.
    admin.reset_counters();
    admin.inject(FaultRule::status(100, 429, None).on_path("/v1/stages"));
    let err = client.list_stages(&auth, PageRequest::default()).await.unwrap_err();
    admin.clear_faults();
    assert!(matches!(err, LeverError::RateLimited { .. }), "{err:?}");
    assert_eq!(reached(&sb, "GET /v1/stages"), 1 + fast_retries().max_retries as u64);
}

#[tokio::test]
async fn creates_are_not_retried_unless_surely_unprocessed() {
    let (sb, client, auth) = start(SandboxConfig::default()).await;
    let admin = sb.admin();
    let perform_as = admin.super_admin_id();
    let new = |email: &str| NewOpportunity {
        name: Some("Retry Rule".into()),
        emails: vec![email.into()],
        sources: vec!["HubTest".into()],
        ..Default::default()
    };

    // 500 on a create: one request, typed error, nothing created.
    admin.reset_counters();
    admin.inject(FaultRule::status(1, 500, None).on_path("/v1/opportunities"));
    let err = client.create_opportunity(&auth, &perform_as, &new("five-hundred@example.com")).await.unwrap_err();
    assert!(matches!(err, LeverError::Server { status: 500 }), "{err:?}");
    assert_eq!(reached(&sb, "POST /v1/opportunities"), 1, "a 500 on a create is not retried");
    assert!(admin.opportunities_by_email("five-hundred@example.com").is_empty());

    // 429 on a create: not processed, so retried; exactly one opportunity.
    admin.reset_counters();
    admin.inject(FaultRule::status(1, 429, Some(0)).on_path("/v1/opportunities"));
    let created = client.create_opportunity(&auth, &perform_as, &new("four-two-nine@example.com")).await.unwrap();
    assert!(!created.deduped);
    assert_eq!(reached(&sb, "POST /v1/opportunities"), 2);
    assert_eq!(admin.opportunities_by_email("four-two-nine@example.com").len(), 1);

    // Timeout on a create: outcome unknown → typed error, no retry; the caller looks up by email.
    let mut cfg = client.config().clone();
    cfg.timeout = Duration::from_millis(500);
    let impatient = LeverHttpClient::new(cfg).unwrap();
    admin.reset_counters();
    let mut slow = FaultRule::latency(Duration::from_millis(1_500)).on_path("/v1/opportunities");
    slow.remaining = Some(1);
    admin.inject(slow);
    let err = impatient.create_opportunity(&auth, &perform_as, &new("slow@example.com")).await.unwrap_err();
    assert!(matches!(err, LeverError::Transport { sent: true, .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // The one-shot latency rule was consumed by exactly one request, and no second (undelayed)
    // attempt went through: a retry would have created the opportunity.
    assert!(admin.faults().is_empty(), "the slow request arrived once");
    assert_eq!(reached(&sb, "POST /v1/opportunities"), 1, "no retry reached the API");
    // What the caller does next per the rule: look up by email before creating again.
    let found = client
        .list_opportunities(&auth, &OpportunitiesQuery { emails: vec!["slow@example.com".into()], ..Default::default() }, PageRequest::default())
        .await
        .unwrap();
    assert!(found.data.is_empty(), "the sandbox drops a request whose client went away, so nothing exists yet");

    // A dropped connection on a create: sent, unknown outcome, not retried.
    admin.reset_counters();
    admin.inject(FaultRule::drop_connections(1).on_path("/v1/opportunities"));
    let err = client.create_opportunity(&auth, &perform_as, &new("dropped@example.com")).await.unwrap_err();
    assert!(matches!(err, LeverError::Transport { .. }), "{err:?}");
    assert_eq!(reached(&sb, "POST /v1/opportunities"), 1);
}

#[tokio::test]
async fn multipart_create_with_resume_and_files() {
    let (sb, client, auth) = start(SandboxConfig::default()).await;
    let admin = sb.admin();
    let posting = admin.posting_ids()[0].clone();
    let resume_bytes = b"%PDF-1.4\n% resume of Ada\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let body = NewOpportunity {
        name: Some("Ada Multipart".into()),
        headline: Some("Example Corp".into()),
        emails: vec!["ada.multipart@example.com".into()],
        phones: vec![Phone { kind: Some("mobile".into()), value: "+49 30 1234567".into() }],
        links: vec!["https://github.com/ada-example".into()],
        tags: vec!["Referral bonus".into()],
        sources: vec!["HireUp".into()],
        origin: Some(Origin::Referred),
        postings: vec![posting.clone()],
        stage: Some("applicant-new".into()),
        ..Default::default()
    };
    let resume = FileUpload { file_name: "ada.pdf".into(), content_type: "application/pdf".into(), bytes: resume_bytes.clone().into() };
    let cover = FileUpload { file_name: "cover.txt".into(), content_type: "text/plain".into(), bytes: b"Dear team".to_vec().into() };
    let created =
        client.create_opportunity_with_files(&auth, &admin.super_admin_id(), &body, Some(resume), vec![cover]).await.expect("multipart create");
    assert!(!created.deduped);
    let opp = &created.data;
    assert_eq!(opp.emails, ["ada.multipart@example.com"]);
    assert_eq!(opp.origin, Some(Origin::Referred));
    assert_eq!(opp.stage_id(), Some("applicant-new"));

    let snap = admin.opportunity(&opp.id).expect("stored");
    let stored_resume = snap.resume.expect("resume stored");
    assert_eq!(stored_resume.bytes, resume_bytes, "resume bytes arrive intact");
    assert_eq!(stored_resume.name, "ada.pdf");
    assert_eq!(snap.files.len(), 1);
    assert_eq!(snap.files[0].bytes, b"Dear team");
    assert!(snap.tags.contains(&"Referral bonus".to_string()), "{:?}", snap.tags);
    assert!(snap.sources.contains(&"HireUp".to_string()));
    assert_eq!(snap.postings, [posting]);
    assert_eq!(snap.phones, ["+49 30 1234567"]);

    // expand=applications inlines the application, which names the posting.
    let expanded = client.get_opportunity(&auth, &opp.id, &[OpportunityExpand::Applications]).await.unwrap();
    let app = expanded.applications.first().and_then(|a| a.expanded()).expect("expanded application");
    assert_eq!(app.posting.as_deref(), Some(snap.postings[0].as_str()));

    // Same email again (JSON create): Lever dedupes the contact and says so.
    let again = client
        .create_opportunity(
            &auth,
            &admin.super_admin_id(),
            &NewOpportunity { emails: vec!["ada.multipart@example.com".into()], ..Default::default() },
        )
        .await
        .unwrap();
    assert!(again.deduped, "deduped flag surfaced");
    assert_eq!(again.data.contact_id(), opp.contact_id());
    assert_ne!(again.data.id, opp.id);
}

#[tokio::test]
async fn hub_operations_round_trip() {
    let (sb, client, auth) = start(SandboxConfig::default()).await;
    let admin = sb.admin();
    let me = admin.super_admin_id();
    let api: Arc<dyn LeverApi> = Arc::new(client.clone());

    // Postings: get one, deleted list.
    let pid = admin.posting_ids()[1].clone();
    let posting = api.get_posting(&auth, &pid).await.unwrap();
    assert_eq!(posting.id, pid);
    admin.delete_posting(&pid).unwrap();
    let deleted = api.list_deleted_postings(&auth, None, PageRequest::default()).await.unwrap();
    assert!(deleted.data.iter().any(|d| d.id == pid));
    assert!(matches!(api.get_posting(&auth, &pid).await, Err(LeverError::NotFound { .. })));

    // Users: list, by email.
    let users = api.list_users(&auth, &UsersQuery::default(), PageRequest::default()).await.unwrap();
    let admin_user = users.data.iter().find(|u| u.id == me).expect("super admin listed");
    let email = admin_user.email.clone().unwrap();
    let found = api.find_user_by_email(&auth, &email.to_uppercase()).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(me.clone()));
    assert!(api.find_user_by_email(&auth, "nobody@nowhere.invalid").await.unwrap().is_none());

    // Stages and archive reasons.
    let stages = api.list_stages(&auth, PageRequest::default()).await.unwrap();
    assert!(stages.data.iter().any(|s| s.id == "applicant-new"));
    let stage = stages.data.iter().find(|s| s.id != "lead-new" && s.id != "applicant-new").unwrap().id.clone();
    let hired = api.list_archive_reasons(&auth, Some(ArchiveReasonType::Hired), PageRequest::default()).await.unwrap();
    assert!(hired.data.iter().any(|r| r.id == admin.hired_reason_id()));
    let all_reasons = api.list_archive_reasons(&auth, None, PageRequest::default()).await.unwrap();
    let non_hired = all_reasons.data.iter().find(|r| !r.is_hired()).unwrap().id.clone();

    // Opportunity: create, stage, tags, sources, links, note, file, archive, get with expand.
    let created = api
        .create_opportunity(
            &auth,
            &me,
            &NewOpportunity { name: Some("Grace Hub".into()), emails: vec!["grace.hub@example.com".into()], ..Default::default() },
        )
        .await
        .unwrap();
    let id = created.data.id.clone();
    let o = api.change_stage(&auth, &id, &stage, Some(&me)).await.unwrap();
    assert_eq!(o.stage_id(), Some(stage.as_str()));
    let o = api.add_tags(&auth, &id, &["UW Screened: PASSED".into()], Some(&me)).await.unwrap();
    assert!(o.tags.contains(&"UW Screened: PASSED".to_string()));
    let o = api.add_sources(&auth, &id, &["ERC".into()], Some(&me)).await.unwrap();
    assert!(o.sources.contains(&"ERC".to_string()));
    let o = api.add_links(&auth, &id, &["https://example.com/grace".into()], Some(&me)).await.unwrap();
    assert!(o.links.contains(&"https://example.com/grace".to_string()));
    let note =
        api.create_note(&auth, &id, &NewNote { value: "Referred by a non-Lever employee".into(), ..Default::default() }, Some(&me)).await.unwrap();
    assert!(note.any_id().is_some());
    let file = api
        .upload_file(
            &auth,
            &id,
            &me,
            FileUpload { file_name: "transcript.pdf".into(), content_type: "application/pdf".into(), bytes: b"%PDF-1.4 transcript".to_vec().into() },
        )
        .await
        .unwrap();
    assert_eq!(file.name.as_deref(), Some("transcript.pdf"));
    let snap = admin.opportunity(&id).unwrap();
    assert_eq!(snap.notes.len(), 1);
    assert_eq!(snap.notes[0].values, ["Referred by a non-Lever employee"]);
    assert_eq!(snap.files[0].bytes, b"%PDF-1.4 transcript");

    let o = api.archive_opportunity(&auth, &id, &ArchiveRequest { reason: Some(non_hired.clone()), ..Default::default() }, Some(&me)).await.unwrap();
    assert_eq!(o.archived.as_ref().and_then(|a| a.reason.as_deref()), Some(non_hired.as_str()));
    let o = api.archive_opportunity(&auth, &id, &ArchiveRequest::default(), Some(&me)).await.unwrap();
    assert!(o.archived.is_none(), "null reason unarchives");

    let full = api.get_opportunity(&auth, &id, &[OpportunityExpand::Stage, OpportunityExpand::Contact]).await.unwrap();
    assert_eq!(full.stage_id(), Some(stage.as_str()));
    assert!(full.stage.as_ref().unwrap().expanded().is_some(), "expand=stage inlines the stage");
    let contact_id = full.contact_id().unwrap().to_owned();
    let contact = api.get_contact(&auth, &contact_id).await.unwrap();
    assert_eq!(contact.emails, ["grace.hub@example.com"]);

    // Listing by email and by archived.
    let by_email = api
        .list_opportunities(&auth, &OpportunitiesQuery { emails: vec!["grace.hub@example.com".into()], ..Default::default() }, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(by_email.data.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let archived =
        api.list_opportunities(&auth, &OpportunitiesQuery { archived: Some(true), ..Default::default() }, PageRequest::default()).await.unwrap();
    assert!(archived.data.iter().all(Opportunity::is_archived));

    // Hire → offer with the anticipated start date.
    let start = 1_767_225_600_000_i64;
    admin.hire(&id, Some(start)).unwrap();
    let offers = api.list_offers(&auth, &id, PageRequest::default()).await.unwrap();
    assert_eq!(offers.data.len(), 1);
    assert_eq!(offers.data[0].anticipated_start_date(), Some(Millis(start)));
    let hired_opp = api.get_opportunity(&auth, &id, &[]).await.unwrap();
    assert_eq!(hired_opp.archived.and_then(|a| a.reason), Some(admin.hired_reason_id()));

    // Unknown opportunity → NotFound.
    assert!(matches!(api.get_opportunity(&auth, "00000000-0000-4000-8000-000000000000", &[]).await, Err(LeverError::NotFound { .. })));
}

#[tokio::test]
async fn webhooks_create_list_delete_and_signed_delivery() {
    // Lever sends nothing until a Super Admin switches the group on; this test is about delivery.
    let (sb, client, auth) = start(SandboxConfig { webhooks_enabled_by_default: true, ..SandboxConfig::default() }).await;
    let admin = sb.admin();

    // A local receiver for the delivery.
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hooks/lever",
            axum::routing::post(|axum::extract::State(r): axum::extract::State<Arc<Mutex<Vec<Vec<u8>>>>>, body: axum::body::Bytes| async move {
                r.lock().unwrap().push(body.to_vec());
                "ok"
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hooks/lever", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let hook =
        client.create_webhook(&auth, &NewWebhook { url: hook_url.clone(), event: "candidateHired".into(), configuration: None }).await.unwrap();
    let token = hook.signature_token().expect("signatureToken on create").clone();
    assert!(!format!("{hook:?}").contains(token.expose()), "webhook Debug redacts the token");
    assert_eq!(hook.configuration.conditions.as_ref().map(|c| c.origins.len()), Some(6), "default: all six origins");

    let listed = client.list_webhooks(&auth, PageRequest::default()).await.unwrap();
    let mine = listed.data.iter().find(|w| w.id == hook.id).expect("listed");
    assert!(mine.signature_token().is_none(), "token only on create");
    assert!(listed.is_last());

    // Hire fires candidateHired; the signature verifies with the stored token.
    let opp = admin.opportunity_ids()[0].clone();
    admin.hire(&opp, None).unwrap();
    admin.wait_for_deliveries(1, Duration::from_secs(10)).await;
    let bodies = received.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "delivery received");
    let delivery: WebhookDelivery = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(delivery.event, "candidateHired");
    assert!(delivery.verify(&token), "signature from the sandbox verifies");
    assert!(!delivery.verify(&Secret::new("another-token")));

    client.delete_webhook(&auth, &hook.id).await.unwrap();
    let listed = client.list_webhooks(&auth, PageRequest::default()).await.unwrap();
    assert!(listed.data.iter().all(|w| w.id != hook.id));
    assert!(matches!(client.delete_webhook(&auth, &hook.id).await, Err(LeverError::NotFound { .. })));
}

/// 45 concurrent reads on one connection: the client's bucket (10/s, burst 20) paces them so
/// they all succeed; measured wall time reflects the pacing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_of_one_connection_share_the_rate_limit() {
    let (sb, client, auth) = start(SandboxConfig::default()).await;
    sb.admin().reset_counters();
    let api: Arc<dyn LeverApi> = Arc::new(client);
    let t = Instant::now();
    let tasks: Vec<_> = (0..45)
        .map(|_| {
            let (api, auth) = (api.clone(), auth.clone());
            tokio::spawn(async move { api.list_stages(&auth, PageRequest::default()).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every read succeeds");
    }
    let elapsed = t.elapsed();
    let c = sb.admin().counters();
    println!("45 reads on one connection: {elapsed:?}, sandbox 429s: {}", c.rate_limited);
    assert!(elapsed >= Duration::from_millis(2_300), "25 beyond the burst at 10/s: {elapsed:?}");
    // Without client pacing ~25 of the 45 would hit 429; arrival jitter may cost one or two.
    assert!(c.rate_limited <= 2, "client-side pacing keeps Lever's bucket from overflowing: {}", c.rate_limited);
}

/// Everything the client logs (down to TRACE, including reqwest/hyper) while it retries, fails
/// and refreshes must be free of access tokens, refresh tokens and the client secret.
#[tokio::test]
async fn logs_never_contain_tokens_or_secrets() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sb = Sandbox::start(SandboxConfig { strict_refresh: true, ..Default::default() }).await.unwrap();
    let client = client_for(&sb);
    let tokens = connect(&client).await;
    let refresh = tokens.refresh_token.clone().unwrap();
    let auth = LeverAuth::bearer("conn-logs", tokens.access_token.clone());
    sb.admin().inject(FaultRule::status(2, 429, None).on_path("/v1/stages"));
    client.list_stages(&auth, PageRequest::default()).await.unwrap();
    sb.admin().inject(FaultRule::status(1, 500, None).on_path("/v1/opportunities"));
    let _ = client.create_opportunity(&auth, &sb.admin().super_admin_id(), &NewOpportunity::default()).await;
    let newer = client.refresh(&refresh).await.unwrap();
    let _ = client.refresh(&refresh).await.unwrap_err();
    sb.admin().revoke_all();
    let _ = client.list_stages(&auth, PageRequest::default()).await.unwrap_err();

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying Lever request"), "retries are logged");
    assert!(logs.contains("conn-logs"), "with the connection id");
    for secret in [
        tokens.access_token.expose(),
        refresh.expose(),
        newer.access_token.expose(),
        newer.refresh_token.as_ref().unwrap().expose(),
        "sandbox-secret",
    ] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    println!("{} log lines checked", logs.lines().count());
}

/// Lever's answers are input too: a `Retry-After` too large for a `Duration` (or not a number
/// at all) is a rate-limit error with no hint, never a panic (issue 8, item 2).
#[tokio::test]
async fn absurd_retry_after_values_do_not_panic() {
    for value in ["1e30", "1e400", "-3", "NaN", "soon", "18446744073709551616"] {
        let app = axum::Router::new().fallback(move || async move { (axum::http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", value)], "{}") });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut cfg = LeverConfig::local(&base, "c", Secret::new("s")).unwrap();
        cfg.retry = RetryPolicy { max_retries: 1, ..fast_retries() };
        let client = LeverHttpClient::new(cfg).unwrap();
        let auth = LeverAuth::bearer("conn", Secret::new("token"));
        let err = client.list_stages(&auth, PageRequest::default()).await.unwrap_err();
        assert!(matches!(err, LeverError::RateLimited { .. }), "{value}: {err:?}");
        server.abort();
    }
}
