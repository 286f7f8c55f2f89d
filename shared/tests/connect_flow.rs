//! The magic link and the OAuth flow bound end to end (issue 20), through the router: the
//! connect page, Continue, Lever's consent (the sandbox over HTTP) and the callback. Every case
//! runs on both store adapters: the embedded store and Amazon DynamoDB Local.

mod common;

use std::sync::Arc;

use common::{LocalHub, PUBLIC_URL, Request, Tuning};
use lever_sandbox::SandboxConfig;
use serde_json::{Value, json};

/// The two store adapters; DynamoDB Local must be running (scripts/test starts it).
async fn hubs() -> Vec<(&'static str, LocalHub)> {
    let dynamo = shared::testing::dynamo_store().await.expect("DynamoDB Local (run the tests with scripts/test)");
    let config = || SandboxConfig { rate_limit: None, ..SandboxConfig::default() };
    vec![
        ("embedded", LocalHub::start_tuned(config(), Tuning::default()).await),
        ("dynamodb", LocalHub::start_tuned(config(), Tuning { store: Some(dynamo as Arc<dyn shared::store::Store>), ..Tuning::default() }).await),
    ]
}

async fn create(h: &LocalHub, key: &str, body: Value) -> Value {
    let created = h.send(Request::new("POST", "/v1/connections").key(key).json(&body)).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()
}

fn path_of(link: &str) -> String {
    link.strip_prefix(PUBLIC_URL).expect("a link of the hub").to_owned()
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Presses Continue (choosing `env`) with the browser's `cookie`; the answer.
async fn press_continue(h: &LocalHub, link: &str, env: &str, cookie: Option<&str>) -> common::Answer {
    let mut req = Request::new("POST", path_of(link)).header("content-type", "application/x-www-form-urlencoded").header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    h.send(req.raw(format!("lever_environment={env}"))).await
}

/// Continue, then Lever's consent: the browser's cookie, the Lever URL and the callback path.
async fn consent(h: &LocalHub, link: &str, env: &str) -> (String, String, String) {
    let pressed = press_continue(h, link, env, None).await;
    assert_eq!(pressed.status, 303, "{:?}", pressed.body);
    let cookie = pressed.header("set-cookie").expect("Continue binds the browser").split(';').next().unwrap().to_owned();
    let lever = pressed.header("location").unwrap().to_owned();
    let to_callback = h.http.get(&lever).send().await.unwrap();
    assert_eq!(to_callback.status(), 302, "the sandbox consents");
    let callback = to_callback.headers()["location"].to_str().unwrap().to_owned();
    (cookie, lever, path_of(&callback))
}

async fn callback(h: &LocalHub, path: &str, cookie: Option<&str>) -> common::Answer {
    let mut req = Request::new("GET", path).header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    h.send(req).await
}

async fn connection(h: &LocalHub, key: &str, id: &str) -> Value {
    h.send(Request::new("GET", format!("/v1/connections/{id}")).key(key)).await.json()
}

fn text(a: &common::Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

/// Hole 3: the last opener owned the flow. Now a GET binds nothing, the first Continue wins, a
/// second browser is told the flow is under way elsewhere, and a callback from a browser that
/// did not press Continue neither finishes nor uses up the state.
#[tokio::test]
async fn a_get_binds_nothing_and_the_first_continue_owns_the_flow() {
    for (store, h) in hubs().await {
        let key = h.partner("hireup").await;
        let before = h.now_ms();
        let c = create(&h, &key, json!({"return_url": "https://partner.example/hireup/done"})).await;
        let (id, link) = (c["id"].as_str().unwrap(), c["connect_url"].as_str().unwrap());
        assert_eq!(c["authorize_url"], c["connect_url"], "{store}: authorize_url stays the same URL");
        let expires = time::OffsetDateTime::parse(c["expires_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
        let lifetime_s = expires.unix_timestamp() - before / 1000;
        assert!((604_799..=604_801).contains(&lifetime_s), "{store}: seven days by default, {lifetime_s}");

        // A link scanner and a preview: the page, no cookie, twice.
        for _ in 0..2 {
            let page = h.send(Request::new("GET", path_of(link))).await;
            assert_eq!(page.status, 200, "{store}");
            assert!(page.header("set-cookie").is_none(), "{store}: a GET binds nothing");
            let html = text(&page);
            for needle in [
                "HireUp",
                "Reads your published external jobs every hour",
                "Create and change notes",
                "name=\"lever_environment\"",
                "value=\"sandbox\"",
            ] {
                assert!(html.contains(needle), "{store}: {needle} on the page");
            }
            assert!(page.header("content-security-policy").is_some_and(|p| p.contains("default-src 'none'")), "{store}");
        }

        let (cookie, lever, back) = consent(&h, link, "production").await;
        assert_eq!(query(&lever, "code_challenge_method").as_deref(), Some("S256"), "{store}: PKCE on every authorization");
        // Another browser presses Continue while the flow is open.
        let second = press_continue(&h, link, "production", None).await;
        assert_eq!(second.status, 409, "{store}");
        assert!(text(&second).contains("being set up in another browser") && text(&second).contains("Start over"), "{store}");
        assert!(second.header("set-cookie").is_none(), "{store}");
        // Callbacks without the cookie, or with the second browser's: refused, nothing used up.
        assert_eq!(callback(&h, &back, None).await.status, 400, "{store}");
        assert_eq!(callback(&h, &back, Some("__Host-lever-connect-x=y")).await.status, 400, "{store}");
        assert_eq!(h.sandbox.admin().counters().code_exchanges, 0, "{store}");
        // The browser that pressed Continue finishes.
        let done = callback(&h, &back, Some(&cookie)).await;
        assert_eq!(done.status, 302, "{store}: {}", text(&done));
        assert_eq!(query(done.header("location").unwrap(), "status").as_deref(), Some("active"), "{store}");
        assert_eq!(connection(&h, &key, id).await["status"], "active", "{store}");
        // The link now says so, with no form.
        let page = h.send(Request::new("GET", path_of(link))).await;
        assert_eq!(page.status, 200, "{store}");
        assert!(text(&page).contains("is connected") && !text(&page).contains("<form"), "{store}");
    }
}

/// Hole 1: a code from another partner's consent, with this connection's state and cookie.
/// PKCE (on for every authorization) makes Lever refuse the exchange; B's own callback works.
#[tokio::test]
async fn a_code_from_another_consent_cannot_finish_this_one() {
    for (store, h) in hubs().await {
        let (ka, kb) = (h.partner("hireup").await, h.partner("outhire").await);
        let a = create(&h, &ka, json!({"return_url": "https://partner.example/hireup/done"})).await;
        let b = create(&h, &kb, json!({"return_url": "https://partner.example/outhire/done"})).await;
        let (cookie_a, _, back_a) = consent(&h, a["connect_url"].as_str().unwrap(), "production").await;
        let (cookie_b, _, back_b) = consent(&h, b["connect_url"].as_str().unwrap(), "production").await;
        let injected = format!(
            "/oauth/callback?state={}&code={}",
            query(&format!("{PUBLIC_URL}{back_a}"), "state").unwrap(),
            query(&format!("{PUBLIC_URL}{back_b}"), "code").unwrap()
        );
        let res = callback(&h, &injected, Some(&cookie_a)).await;
        assert_eq!(res.status, 302, "{store}");
        assert_eq!(query(res.header("location").unwrap(), "error").as_deref(), Some("connect_failed"), "{store}");
        let a_now = connection(&h, &ka, a["id"].as_str().unwrap()).await;
        assert_eq!(a_now["status"], "pending", "{store}: A not connected with B's code: {a_now}");
        assert!(a_now["lever"]["account_id"].is_null(), "{store}");
        // B's browser still finishes its own flow (Lever burnt the code on the failed exchange:
        // B is told so, and B's link is free to start over).
        let b_done = callback(&h, &back_b, Some(&cookie_b)).await;
        assert_eq!(query(b_done.header("location").unwrap(), "connection_id").as_deref(), b["id"].as_str(), "{store}");
        assert_eq!(press_continue(&h, b["connect_url"].as_str().unwrap(), "production", None).await.status, 303, "{store}");
    }
}

/// Hole 2: Lever granted less than the profile needs. The connection is not activated, the
/// partner hears `insufficient_scope`, the connection says why, and the link is free again.
#[tokio::test]
async fn missing_scopes_leave_the_connection_unactivated_and_say_why() {
    for (store, h) in hubs().await {
        let key = h.partner("hireup").await;
        let c = create(&h, &key, json!({"return_url": "https://partner.example/hireup/done"})).await;
        let (id, link) = (c["id"].as_str().unwrap(), c["connect_url"].as_str().unwrap());
        let narrowed = ["offline_access", "postings:read:admin", "opportunities:read:admin", "opportunities:write:admin", "users:read:admin"];
        h.sandbox.admin().set_granted_scopes(Some(narrowed.iter().map(|s| s.to_string()).collect()));
        let (cookie, _, back) = consent(&h, link, "production").await;
        let res = callback(&h, &back, Some(&cookie)).await;
        let to = res.header("location").unwrap().to_owned();
        assert_eq!(query(&to, "error").as_deref(), Some("insufficient_scope"), "{store}: {to}");
        assert_eq!(query(&to, "status").as_deref(), Some("pending"), "{store}");
        let now = connection(&h, &key, id).await;
        assert_eq!(now["status"], "pending", "{store}: {now}");
        let reason = now["status_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("notes:write:admin") && reason.contains("stages:read:admin"), "{store}: {reason}");
        assert!(h.sandbox.admin().webhooks().is_empty(), "{store}: no Lever webhooks for a refused consent");
        // The failed flow freed the link: Continue works again at once, and with every scope it connects.
        h.sandbox.admin().set_granted_scopes(None);
        let (cookie, _, back) = consent(&h, link, "production").await;
        let done = callback(&h, &back, Some(&cookie)).await;
        assert_eq!(query(done.header("location").unwrap(), "status").as_deref(), Some("active"), "{store}");
    }
}

/// Cancel, expiry (410), `expires_in` bounds, and a new link from reconnect.
#[tokio::test]
async fn cancel_expiry_and_reconnect() {
    for (store, h) in hubs().await {
        let key = h.partner("outhire").await;
        let too_short = h
            .send(
                Request::new("POST", "/v1/connections")
                    .key(&key)
                    .json(&json!({"return_url": "https://partner.example/outhire/done", "expires_in": 599})),
            )
            .await;
        assert_eq!(too_short.status, 422, "{store}");
        assert_eq!(too_short.json()["errors"][0]["field"], "expires_in", "{store}");
        let c = create(&h, &key, json!({"return_url": "https://partner.example/outhire/done", "expires_in": 600})).await;
        let (id, link) = (c["id"].as_str().unwrap(), c["connect_url"].as_str().unwrap());
        let html = text(&h.send(Request::new("GET", path_of(link))).await);
        let cancel = html.split("id=\"cancel\" href=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().replace("&amp;", "&");
        assert!(cancel.starts_with("https://partner.example/outhire/done?"), "{store}: {cancel}");
        assert_eq!(query(&cancel, "error").as_deref(), Some("access_denied"), "{store}");
        assert_eq!(query(&cancel, "connection_id").as_deref(), Some(id), "{store}");

        h.clock.advance_ms(601_000);
        for method in ["GET", "POST"] {
            let gone = h.send(Request::new(method, path_of(link)).header("accept", "text/html")).await;
            assert_eq!(gone.status, 410, "{store}: {method}");
            assert!(text(&gone).contains("Ask Outhire for a new link"), "{store}: {}", text(&gone));
        }
        let again = h
            .send(
                Request::new("POST", format!("/v1/connections/{id}/reconnect"))
                    .key(&key)
                    .json(&json!({"return_url": "https://partner.example/outhire/done"})),
            )
            .await;
        assert_eq!(again.status, 200, "{store}: {:?}", again.json());
        let fresh = again.json()["connect_url"].as_str().unwrap().to_owned();
        assert_ne!(fresh, link, "{store}");
        assert_eq!(h.send(Request::new("GET", path_of(&fresh))).await.status, 200, "{store}");
        let (cookie, _, back) = consent(&h, &fresh, "production").await;
        callback(&h, &back, Some(&cookie)).await;
        let active = h
            .send(
                Request::new("POST", format!("/v1/connections/{id}/reconnect"))
                    .key(&key)
                    .json(&json!({"return_url": "https://partner.example/outhire/done"})),
            )
            .await;
        assert_eq!(active.status, 409, "{store}: an active connection gets no new link");
    }
}

/// The environment: chosen on the page, or fixed by the partner; shown on the connection.
#[tokio::test]
async fn the_lever_environment_is_chosen_on_the_page_or_fixed_by_the_partner() {
    for (store, h) in hubs().await {
        let key = h.partner("upwage").await;
        let chosen = create(&h, &key, json!({"return_url": "https://partner.example/upwage/done"})).await;
        let (cookie, lever, back) = consent(&h, chosen["connect_url"].as_str().unwrap(), "sandbox").await;
        assert!(lever.starts_with(&h.sandbox.base_url()), "{store}: {lever}");
        callback(&h, &back, Some(&cookie)).await;
        let c = connection(&h, &key, chosen["id"].as_str().unwrap()).await;
        assert_eq!((c["status"].as_str(), c["lever"]["environment"].as_str()), (Some("active"), Some("sandbox")), "{store}: {c}");

        let fixed = create(&h, &key, json!({"return_url": "https://partner.example/upwage/done", "lever_environment": "sandbox"})).await;
        let page = text(&h.send(Request::new("GET", path_of(fixed["connect_url"].as_str().unwrap()))).await);
        assert!(!page.contains("name=\"lever_environment\"") && page.contains("Lever Sandbox Account"), "{store}: no choice when fixed");
        let (cookie, _, back) = consent(&h, fixed["connect_url"].as_str().unwrap(), "production").await;
        callback(&h, &back, Some(&cookie)).await;
        let c = connection(&h, &key, fixed["id"].as_str().unwrap()).await;
        assert_eq!(c["lever"]["environment"], "sandbox", "{store}: the partner's choice stands: {c}");

        let bad = h
            .send(
                Request::new("POST", "/v1/connections")
                    .key(&key)
                    .json(&json!({"return_url": "https://partner.example/upwage/done", "lever_environment": "staging"})),
            )
            .await;
        assert_eq!(bad.status, 422, "{store}");
    }
}

/// A connection on Lever's sandbox uses the sandbox environment for everything: its consent,
/// the code exchange (that environment's OAuth app), the Lever webhooks it registers, Data API
/// calls and token refreshes; the production environment sees none of it.
#[tokio::test]
async fn a_sandbox_connection_uses_lever_sandbox_for_every_call() {
    let dynamo: Arc<dyn shared::store::Store> = shared::testing::dynamo_store().await.expect("DynamoDB Local (run the tests with scripts/test)");
    let stores: [(&str, Option<Arc<dyn shared::store::Store>>); 2] = [("embedded", None), ("dynamodb", Some(dynamo))];
    for (store, backing) in stores {
        let lever_sandbox =
            lever_sandbox::Sandbox::start(SandboxConfig { rate_limit: None, account_id: "sandbox-env-account".into(), ..SandboxConfig::default() })
                .await
                .expect("the second Lever sandbox");
        let defaults = SandboxConfig::default();
        let sandbox_config = shared::lever::http::LeverConfig::local(
            &lever_sandbox.base_url(),
            defaults.client_id.clone(),
            shared::lever::secret::ClientSecret::new(defaults.client_secret.clone()),
        )
        .unwrap();
        let tuning = Tuning { store: backing, lever_sandbox: Some(sandbox_config), ..Tuning::default() };
        let h = LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await;
        let key = h.partner("hireup").await;
        let c = create(&h, &key, json!({"return_url": "https://partner.example/hireup/done"})).await;
        let id = c["id"].as_str().unwrap();
        let (cookie, lever, back) = consent(&h, c["connect_url"].as_str().unwrap(), "sandbox").await;
        assert!(lever.starts_with(&lever_sandbox.base_url()), "{store}: the sandbox environment's consent: {lever}");
        let done = callback(&h, &back, Some(&cookie)).await;
        assert_eq!(query(done.header("location").unwrap(), "status").as_deref(), Some("active"), "{store}: {}", text(&done));
        let now = connection(&h, &key, id).await;
        assert_eq!(
            (now["lever"]["environment"].as_str(), now["lever"]["account_id"].as_str()),
            (Some("sandbox"), Some("sandbox-env-account")),
            "{store}"
        );
        assert!(!lever_sandbox.admin().webhooks().is_empty(), "{store}: webhooks registered in the sandbox environment");
        assert!(h.sandbox.admin().webhooks().is_empty(), "{store}: none in production");

        // Data API calls, and a refresh once the access token is past its hour.
        assert_eq!(h.send(Request::new("GET", format!("/v1/connections/{id}/lever/stages")).key(&key)).await.status, 200, "{store}");
        lever_sandbox.admin().expire_access_tokens();
        h.clock.advance_ms(3_600_000);
        assert_eq!(h.send(Request::new("GET", format!("/v1/connections/{id}/lever/users")).key(&key)).await.status, 200, "{store}");
        let (sandbox_env, production_env) = (lever_sandbox.admin().counters(), h.sandbox.admin().counters());
        assert_eq!((sandbox_env.code_exchanges, sandbox_env.refresh_successes), (1, 1), "{store}");
        assert!(sandbox_env.data_requests.keys().any(|k| k.contains("/v1/stages")), "{store}: {:?}", sandbox_env.data_requests);
        assert_eq!((production_env.code_exchanges, production_env.refresh_successes), (0, 0), "{store}");
        assert!(production_env.data_requests.is_empty(), "{store}: production untouched: {:?}", production_env.data_requests);

        let activity = h.send(Request::new("GET", format!("/v1/connections/{id}/activity?limit=50")).key(&key)).await.json();
        let said: Vec<&str> = activity["data"].as_array().unwrap().iter().filter_map(|e| e["message"].as_str()).collect();
        assert!(said.contains(&"connected to Lever (sandbox)"), "{store}: {said:?}");
    }
}
