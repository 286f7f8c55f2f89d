//! Lever's EU data centre: the Lever client follows Lever's redirects to Lever's own hosts with
//! the method, body and token intact, remembers the account's API root, and refuses any other
//! target before a byte goes there. Against the Lever sandbox over HTTP with an account in its
//! EU data centre (a second port, which the start address redirects to with a 301), first the
//! client alone, then the whole hub over the embedded store (`tests/e2e/tests/eu.rs` runs the
//! hub's part on DynamoDB Local).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{LocalHub, Request};
use lever_sandbox::{FaultRule, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use shared::core::connection::Connection;
use shared::lever::*;
use shared::store::keys;

const REDIRECT: &str = "http://127.0.0.1/lever/callback";

/// A host that is not Lever's: counts every connection made to it (none may be).
struct Foreign {
    url: String,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Foreign {
    async fn start() -> Foreign {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Foreign { url, accepted, task }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn eu_sandbox() -> SandboxConfig {
    SandboxConfig { eu: true, rate_limit: None, ..SandboxConfig::default() }
}

/// A client of the sandbox's global origin that may follow Lever's redirects to `trusted`.
fn lever_client(sb: &Sandbox, trusted: Option<String>) -> LeverHttpClient {
    let mut cfg = LeverConfig::local(&sb.base_url(), "sandbox-client", Secret::new("sandbox-secret")).unwrap();
    cfg.retry = RetryPolicy::none();
    if let Some(origin) = trusted {
        cfg.trust(&origin).unwrap();
    }
    LeverHttpClient::new(cfg).unwrap()
}

/// The sandbox's consent (auto-approved) in a browser; the code, for the client to exchange.
async fn consent_code(client: &LeverHttpClient) -> String {
    let scopes: Vec<String> =
        ["opportunities:write:admin", "postings:read:admin", "notes:write:admin", "files:write:admin"].iter().map(|s| s.to_string()).collect();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = browser.get(client.authorize_url(REDIRECT, "s", &scopes, None)).send().await.unwrap();
    let location = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code")
}

fn file(name: &str, bytes: &[u8]) -> FileUpload {
    FileUpload { file_name: name.into(), content_type: "application/pdf".into(), bytes: bytes.to_vec().into() }
}

#[tokio::test]
async fn the_client_follows_an_eu_account_to_its_data_centre_with_method_body_and_token() {
    let sb = Sandbox::start(eu_sandbox()).await.unwrap();
    let eu = sb.eu_base_url().expect("an EU origin");
    assert_ne!(eu, sb.base_url(), "a second origin: the redirect changes host and port");
    let client = lever_client(&sb, Some(eu.clone()));
    let admin = sb.admin();

    // The token endpoint's 301: a form POST that must stay a POST with its body.
    let tokens = client.exchange_code(&consent_code(&client).await, REDIRECT, None).await.expect("the code exchange follows the 301");
    assert_eq!(admin.counters().eu_redirects, 1, "the token request was redirected once");

    // A read learns the account's root.
    let auth = LeverAuth::bearer("eu-conn", tokens.access_token.clone());
    let page = client.list_postings(&auth, &PostingsQuery::default(), PageRequest::default()).await.expect("postings from the EU");
    assert!(!page.data.is_empty());
    let root = auth.learned_base().expect("the account's root learned from the 301");
    assert_eq!(root.as_str(), format!("{eu}/v1"));

    // A multipart create through a 301, and a JSON POST: method, body and token kept.
    admin.reset_counters();
    let fresh = LeverAuth::bearer("eu-conn", tokens.access_token.clone());
    let resume = b"%PDF-1.4\n% the resume of Ada, EU\n%%EOF\n".to_vec();
    let body = NewOpportunity {
        name: Some("Ada Europa".into()),
        emails: vec!["ada.europa@example.com".into()],
        postings: vec![admin.posting_ids()[0].clone()],
        sources: vec!["HireUp".into()],
        ..Default::default()
    };
    let created = client
        .create_opportunity_with_files(
            &fresh,
            &admin.super_admin_id(),
            &body,
            Some(file("ada.pdf", &resume)),
            vec![file("letter.pdf", b"%PDF letter")],
        )
        .await
        .expect("the multipart create follows the 301");
    let note = NewNote { value: "Moved with its body".into(), ..Default::default() };
    client.create_note(&fresh, &created.data.id, &note, Some(&admin.super_admin_id())).await.expect("the note goes straight to the EU");
    let c = admin.counters();
    assert_eq!(c.eu_redirects, 1, "only the first call was redirected; the note went straight to the learned root");
    assert_eq!(c.data_requests.get("POST /v1/opportunities"), Some(&1), "one create: the redirect answered nothing of its own");
    let stored = admin.opportunity(&created.data.id).expect("created in the EU account");
    assert_eq!(stored.emails, ["ada.europa@example.com"]);
    assert_eq!(stored.resume.map(|r| r.bytes), Some(resume), "the resume, byte for byte, after the redirect");
    assert_eq!(stored.files.len(), 1);
    assert_eq!(stored.notes[0].values, ["Moved with its body"]);
    assert!(admin.writes().iter().all(|w| w.auth == "oauth" && w.status < 300), "every write carried the token: {:?}", admin.writes());

    // A remembered root: straight there, no redirect at all.
    admin.reset_counters();
    let remembered = LeverAuth::bearer("eu-conn", tokens.access_token).at(Some(root));
    client.list_postings(&remembered, &PostingsQuery::default(), PageRequest::default()).await.unwrap();
    assert_eq!(admin.counters().eu_redirects, 0);
    assert_eq!(remembered.learned_base(), None, "nothing new to learn");
}

#[tokio::test]
async fn a_redirect_off_lever_is_refused_before_the_token_or_body_go_there() {
    let sb = Sandbox::start(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }).await.unwrap();
    let foreign = Foreign::start().await;
    let client = lever_client(&sb, None);
    let admin = sb.admin();
    let tokens = client.exchange_code(&consent_code(&client).await, REDIRECT, None).await.unwrap();
    let auth = LeverAuth::bearer("c", tokens.access_token.clone());

    // A Data API POST redirected to a host that is not Lever's.
    admin.inject(FaultRule::redirect(1, 301, format!("{}/v1/opportunities?perform_as=u", foreign.url)).on_path("/v1/opportunities"));
    let body = NewOpportunity { name: Some("Eve".into()), emails: vec!["eve@example.com".into()], ..Default::default() };
    match client.create_opportunity(&auth, &admin.super_admin_id(), &body).await {
        Err(LeverError::RedirectRefused { target }) => assert_eq!(target, foreign.url, "the origin only, no path or query"),
        other => panic!("{other:?}"),
    }
    assert_eq!(auth.learned_base(), None, "nothing learned from a refused redirect");

    // The token endpoint's redirect too: the client secret and the refresh token stay home.
    admin.inject(FaultRule::redirect(1, 308, format!("{}/oauth/token", foreign.url)).on_path("/oauth/token"));
    let refresh = tokens.refresh_token.clone().unwrap();
    let refused = client.refresh(&refresh).await.unwrap_err();
    assert!(matches!(refused, LeverError::RedirectRefused { .. }), "{refused:?}");
    assert!(refused.to_string().contains("not one of Lever's hosts"), "{refused}");
    assert_eq!(foreign.accepted(), 0, "not one connection to the foreign host");

    // An origin the configuration does not trust is foreign too (the EU port of another sandbox).
    let eu = Sandbox::start(eu_sandbox()).await.unwrap();
    let untrusting = lever_client(&eu, None);
    let eu_auth = LeverAuth::bearer("c", AccessToken::new(eu.admin().access_token()));
    let err = untrusting.list_postings(&eu_auth, &PostingsQuery::default(), PageRequest::default()).await;
    assert!(matches!(err, Err(LeverError::RedirectRefused { ref target }) if Some(target.clone()) == eu.eu_base_url()), "{err:?}");
    assert_eq!(eu.admin().counters().data_requests.values().sum::<u64>(), 0, "the EU origin never saw the request");

    // Redirects are bounded.
    admin.inject(FaultRule::redirect(50, 307, format!("{}/v1/postings", sb.base_url())).on_path("/v1/postings"));
    let looped = client.list_postings(&auth, &PostingsQuery::default(), PageRequest::default()).await;
    assert!(matches!(looped, Err(LeverError::TooManyRedirects { hops: 5 })), "{looped:?}");
}

fn referral(email: &str, posting: &str, resume: &[u8]) -> Value {
    use base64::Engine as _;
    json!({
        "kind": "referral",
        "candidate": {"name": "Ada Europa", "emails": [email]},
        "postings": [posting],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
        "files": [{"name": "ada-cv.pdf", "content_type": "application/pdf", "role": "resume",
                   "content_base64": base64::engine::general_purpose::STANDARD.encode(resume)}],
    })
}

async fn api_base(h: &LocalHub, id: &str) -> Option<String> {
    let c = h.hub.records.get::<Connection>(&keys::connection(id)).await.unwrap().unwrap().record;
    c.lever.and_then(|l| l.api_base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eu_account_connects_syncs_jobs_and_takes_candidates_on_the_embedded_store() {
    let h = LocalHub::start_with(eu_sandbox()).await;
    let eu = h.sandbox.eu_base_url().unwrap();
    let admin = h.sandbox.admin();
    let key = h.partner("hireup").await;

    // Connect: the code exchange and the webhook registrations (POSTs with bodies) followed.
    let id = h.connect(&key, "hireup").await;
    let view = h.send(Request::new("GET", format!("/v1/connections/{id}")).key(&key)).await.json();
    assert_eq!(view["status"], "active", "{view}");
    assert!(admin.counters().eu_redirects >= 2, "{:?}", admin.counters());
    assert!(!admin.webhooks().is_empty(), "webhooks registered in the EU account");
    assert_eq!(api_base(&h, &id).await, Some(format!("{eu}/v1")), "the account's root remembered at connect");

    // A job sync goes straight to the EU data centre.
    admin.reset_counters();
    let posting =
        admin.create_posting(json!({"text": "Analyst, Dublin", "state": "published", "distributionChannels": ["public", "internal"]})).unwrap();
    assert_eq!(h.send(Request::new("POST", format!("/v1/connections/{id}/jobs/sync")).key(&key)).await.status, 202);
    assert!(h.hub.jobs.work_once(10, Duration::ZERO).await.unwrap() > 0);
    let jobs = h.send(Request::new("GET", format!("/v1/connections/{id}/jobs?limit=100")).key(&key)).await.json();
    let ids: Vec<&str> = jobs["data"].as_array().unwrap().iter().filter_map(|j| j["id"].as_str()).collect();
    assert!(ids.contains(&posting.as_str()), "the EU account's new posting synced: {ids:?}");
    assert_eq!(admin.counters().eu_redirects, 0, "no redirect: the remembered root is used");

    // A connection that does not know its root (made before the hub remembered roots): the
    // candidate write is redirected, its multipart create lands whole, the root is learned.
    h.hub
        .records
        .update::<Connection>(&keys::connection(&id), |c| {
            c.lever.as_mut().unwrap().api_base = None;
            true
        })
        .await
        .unwrap();
    let resume = b"%PDF-1.4\n% Ada's resume, kept whole through a redirect\n".to_vec();
    let a = h
        .send(Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", "eu-1").json(&referral(
            "ada@eu.example",
            &posting,
            &resume,
        )))
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let opp = admin.opportunity(a.json()["lever"]["opportunity_id"].as_str().unwrap()).expect("written to the EU account");
    assert_eq!(opp.resume.map(|r| r.bytes), Some(resume), "the resume, byte for byte");
    assert_eq!(opp.sources, ["HireUp"]);
    assert!(admin.counters().eu_redirects >= 1, "the first call was redirected");
    assert_eq!(api_base(&h, &id).await, Some(format!("{eu}/v1")), "learned again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_off_lever_is_a_clear_problem_and_health_reason_never_a_500() {
    let h = LocalHub::start().await;
    let foreign = Foreign::start().await;
    let admin = h.sandbox.admin();
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;

    // A partner route that asks Lever at once: a 503 problem naming the refused origin.
    admin.inject(FaultRule::redirect(10, 301, format!("{}/v1/stages", foreign.url)).on_path("/v1/stages"));
    let stages = h.send(Request::new("GET", format!("/v1/connections/{id}/lever/stages")).key(&key)).await;
    assert_eq!(stages.status, 503, "{:?}", stages.json());
    let problem = stages.json();
    assert!(problem["type"].as_str().unwrap().ends_with("lever-unavailable"), "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&foreign.url) && detail.contains("not one of Lever's hosts"), "{detail}");

    // A job sync: the reason shows in the connection's health.
    admin.inject(FaultRule::redirect(10, 301, format!("{}/v1/postings", foreign.url)).on_path("/v1/postings"));
    assert_eq!(h.send(Request::new("POST", format!("/v1/connections/{id}/jobs/sync")).key(&key)).await.status, 202);
    h.hub.jobs.work_once(10, Duration::ZERO).await.unwrap();
    let view = h.send(Request::new("GET", format!("/v1/connections/{id}")).key(&key)).await.json();
    let reason = view["flows"]["jobs"]["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("not one of Lever's hosts") && reason.contains(&foreign.url), "{view}");
    assert_eq!(foreign.accepted(), 0, "the token never went to the foreign host");
}

/// A local run's hub from its configuration: `HUB_LEVER` names the sandbox's start address and,
/// after a comma, the EU origin its redirects may lead to.
async fn hub_from_env(lever: String) -> shared::hub::Hub {
    let mut env = shared::testing::local_env();
    env.lever = shared::hub::LeverTarget::Local(lever);
    let shared::hub::SecretsSource::Local { path } = &env.secrets else { panic!("local secrets") };
    let app = json!({"client_id": "sandbox-client", "client_secret": "sandbox-secret"}).to_string();
    shared::secrets::local::write_private(path, &json!({ shared::secrets::names::LEVER_OAUTH: app }).to_string()).unwrap();
    env.build().await.unwrap()
}

#[tokio::test]
async fn a_local_run_follows_the_sandboxs_eu_redirects_only_to_the_origins_hub_lever_names() {
    let sb = Sandbox::start(eu_sandbox()).await.unwrap();
    let eu = sb.eu_base_url().unwrap();
    let auth = || LeverAuth::bearer("local", AccessToken::new(sb.admin().access_token()));

    let named = hub_from_env(format!("{},{eu}", sb.base_url())).await;
    let api = named.wiring.lever().unwrap().api;
    let page = api.list_postings(&auth(), &PostingsQuery::default(), PageRequest::default()).await.expect("followed to the named EU origin");
    assert!(!page.data.is_empty());

    let unnamed = hub_from_env(sb.base_url()).await;
    let refused = unnamed.wiring.lever().unwrap().api.list_postings(&auth(), &PostingsQuery::default(), PageRequest::default()).await;
    assert!(matches!(refused, Err(LeverError::RedirectRefused { ref target }) if *target == eu), "{refused:?}");
}
