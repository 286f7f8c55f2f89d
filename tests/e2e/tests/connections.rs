//! Issue "Connections", driven through the public interface only: the partner API and the
//! OAuth callback over HTTP, the Lever sandbox over HTTP, DynamoDB Local and SQS on moto.

use std::time::Duration;

use e2e::{TestHub, logs};
use lever_sandbox::{ConsentMode, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::testing::ConsentBrowser;

fn strict() -> SandboxConfig {
    SandboxConfig { strict_refresh: true, ..SandboxConfig::default() }
}

/// Presses Continue on the connect page and consents in Lever in `browser`; returns the callback
/// URL Lever sends the browser to (not yet visited) and the Lever URL Continue redirected to.
async fn callback_url(t: &TestHub, browser: &ConsentBrowser, connect: &str) -> (url::Url, url::Url) {
    let page = url::Url::parse(connect).unwrap();
    let to_lever = browser.submit_form(&page, "", &[("lever_environment".into(), "production".into())]).await.unwrap();
    assert_eq!(to_lever.status(), StatusCode::SEE_OTHER, "Continue redirects to Lever");
    assert!(to_lever.headers().get(reqwest::header::SET_COOKIE).is_some(), "and binds the browser with a cookie");
    let lever = e2e::location(&to_lever);
    let to_callback = browser.get(&lever).await.unwrap();
    assert_eq!(to_callback.status(), StatusCode::FOUND, "Lever's consent redirects back");
    let callback = e2e::location(&to_callback);
    assert!(callback.as_str().starts_with(&format!("{}/oauth/callback", t.base)), "{callback}");
    (callback, lever)
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_activates_registers_lever_webhooks_and_announces_it() {
    let t = TestHub::start(strict()).await;
    let hireup = t.partner("hireup").await;
    let id = t.connect(&hireup).await;

    let (status, c) = t.call(&hireup, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((c["status"].as_str(), c["health"].as_str()), (Some("active"), Some("green")));
    assert!(c["scopes"].as_array().unwrap().iter().any(|s| s == "postings:read:admin"), "{c}");
    assert_eq!(c["lever"]["authorized_by_user_id"], t.sandbox.admin().super_admin_id().as_str(), "{c}");

    // The Lever webhooks the profile needs (stage, archive, hire) exist in Lever, pointing at us.
    let hooks = t.sandbox.admin().webhooks();
    let events: std::collections::BTreeSet<_> = hooks.iter().map(|w| w.event.clone()).collect();
    assert!(events.contains("candidateHired") && events.contains("candidateStageChange"), "{events:?}");
    assert!(hooks.iter().all(|w| w.url == format!("{}/lever/webhooks/{id}", t.base)));

    let announced = t.receiver.wait_for("connection.status_changed", &id, 1).await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0]["data"]["to"], "active");
    assert_eq!(t.receiver.bad_signatures(), 0);

    let (_, activity) = t.call(&hireup, Method::GET, &format!("/v1/connections/{id}/activity?limit=50"), None).await;
    let kinds: Vec<_> = activity["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("connect.completed"), "newest first: {kinds:?}");
    assert!(kinds.contains(&"connect.started".to_owned()));
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn denied_consent_goes_back_with_an_error_and_stores_no_tokens() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    t.sandbox.admin().set_consent(ConsentMode::Deny);
    let (_, created) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let id = created["id"].as_str().unwrap();
    let back = t.consent(created["authorize_url"].as_str().unwrap()).await;
    assert!(back.as_str().starts_with(&p.return_url));
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&back, "status").as_deref(), Some("pending"));
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    // Waiting for the customer: yellow, not red (issue 8, item 12).
    assert_eq!((c["status"].as_str(), c["health"].as_str()), (Some("pending"), Some("yellow")));
    assert_eq!(t.sandbox.admin().counters().code_exchanges, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_reused_and_expired_states_are_refused_with_nothing_exchanged() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;

    // Forged: a state we never signed.
    let forged = t.http.get(format!("{}/oauth/callback?code=abc&state=AAAAAAAAAAAAAAAAAAAAAAAA.Zm9yZ2Vk", t.base)).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND, "no sign-in has this state");
    assert!(forged.text().await.unwrap().contains("not valid"));

    // Reused: a real callback URL, replayed after it worked once.
    let (_, created) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let browser = ConsentBrowser::new();
    let (callback, to_lever) = callback_url(&t, &browser, created["authorize_url"].as_str().unwrap()).await;
    assert!(to_lever.as_str().starts_with(&t.sandbox.base_url()), "the connect link sends the browser to Lever: {to_lever}");
    assert_eq!(browser.get(&callback).await.unwrap().status(), StatusCode::FOUND);
    let exchanges = t.sandbox.admin().counters().code_exchanges;
    assert_eq!(exchanges, 1);
    let replay = browser.get(&callback).await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already used or has expired"));

    // Expired: consent given 11 minutes after the state was issued.
    let (_, late) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    let browser = ConsentBrowser::new();
    let (callback, _) = callback_url(&t, &browser, late["authorize_url"].as_str().unwrap()).await;
    t.clock.advance_ms(11 * 60 * 1000);
    let expired = browser.get(&callback).await.unwrap();
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);

    // A connect link that is forged, or opened after it expired.
    let forged = browser.get(&url::Url::parse(&format!("{}/connect/AAAAAAAAAAAAAAAAAAAAAAAA.Zm9yZ2Vk", t.base)).unwrap()).await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND, "no such link");
    assert!(forged.headers().get(reqwest::header::SET_COOKIE).is_none(), "no binding for a forged link");
    let stale = browser.get(&url::Url::parse(late["authorize_url"].as_str().unwrap()).unwrap()).await.unwrap();
    assert_eq!(stale.status(), StatusCode::OK, "the link outlives its expired state: the page is shown again");

    assert_eq!(t.sandbox.admin().counters().code_exchanges, exchanges, "no code exchanged for refused states");
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{late_id}"), None).await;
    assert_eq!(c["status"], "pending", "nothing stored for the refused callback");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consent_finishes_only_in_the_browser_that_pressed_continue() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let (_, created) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let connect = created["authorize_url"].as_str().unwrap().to_owned();

    // A link scanner fetches the link first: a page, no cookie, nothing bound.
    let scanner = t.http.get(&connect).send().await.unwrap();
    assert_eq!(scanner.status(), StatusCode::OK);
    assert!(scanner.headers().get(reqwest::header::SET_COOKIE).is_none(), "a GET binds nothing");

    // The customer's browser presses Continue and consents; the callback URL (with a live code)
    // then reaches another browser, which has no binding cookie.
    let customer = ConsentBrowser::new();
    let page = url::Url::parse(&connect).unwrap();
    let pressed = customer.submit_form(&page, "", &[("lever_environment".into(), "production".into())]).await.unwrap();
    let set_cookie_attrs = pressed.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    for attr in ["__Host-", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie_attrs.contains(attr), "{attr} in {set_cookie_attrs}");
    }
    let to_callback = customer.get(&e2e::location(&pressed)).await.unwrap();
    let callback = e2e::location(&to_callback);

    let stranger = ConsentBrowser::new();
    let refused = stranger.get(&callback).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("different browser"));
    // Another browser pressing Continue meanwhile is told the flow is under way elsewhere.
    let elsewhere = stranger.submit_form(&page, "", &[("lever_environment".into(), "production".into())]).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::CONFLICT);
    assert!(elsewhere.headers().get(reqwest::header::SET_COOKIE).is_none());
    assert!(elsewhere.text().await.unwrap().contains("being set up in another browser"));
    assert_eq!(t.sandbox.admin().counters().code_exchanges, 0, "no code exchanged for an unbound browser");
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["status"], "pending");

    // The refusals used nothing up: the customer's own browser finishes the flow.
    let host = url::Url::parse(&t.base).unwrap().host_str().unwrap().to_owned();
    let cookies_before = customer.cookie_count(&host);
    let back = customer.get(&callback).await.unwrap();
    let back = e2e::location(&back);
    assert_eq!(query(&back, "status").as_deref(), Some("active"), "{back}");
    assert_eq!(customer.cookie_count(&host), cookies_before - 1, "the callback clears the cookie Continue set");
}

/// With PKCE, a code is bound to the consent that asked for it: a code from another consent,
/// pasted into this consent's callback in the browser that started it, is refused by Lever.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_pkce_a_code_from_another_consent_cannot_finish_this_one() {
    let t = TestHub::start(SandboxConfig { require_pkce: true, ..strict() }).await;
    let p = t.partner("outhire").await;
    // Consent works as usual: the hub sends the challenge and, at the exchange, the verifier.
    let connected = t.connect(&p).await;
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{connected}"), None).await;
    assert_eq!(c["status"], "active", "{c}");

    let (_, a) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let (_, b) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": p.return_url}))).await;
    let browser = ConsentBrowser::new();
    let (callback_a, lever_a) = callback_url(&t, &browser, a["authorize_url"].as_str().unwrap()).await;
    assert_eq!(query(&lever_a, "code_challenge_method").as_deref(), Some("S256"));
    assert!(query(&lever_a, "code_challenge").is_some_and(|c| c.len() == 43));
    let (callback_b, _) = callback_url(&t, &browser, b["authorize_url"].as_str().unwrap()).await;

    // A's state with B's code, in the browser bound to A.
    let mut swapped = callback_a.clone();
    swapped
        .query_pairs_mut()
        .clear()
        .append_pair("state", &query(&callback_a, "state").unwrap())
        .append_pair("code", &query(&callback_b, "code").unwrap());
    let res = browser.get(&swapped).await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = e2e::location(&res);
    assert_eq!(query(&back, "error").as_deref(), Some("connect_failed"), "{back}");
    let id_a = a["id"].as_str().unwrap();
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id_a}"), None).await;
    assert_eq!(c["status"], "pending", "A was not connected with B's code: {c}");
    assert!(c["lever"]["account_id"].is_null(), "no Lever account stored for A: {c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_users_of_an_expired_token_cause_one_refresh() {
    let t = TestHub::start(SandboxConfig { strict_refresh: true, rate_limit: None, ..SandboxConfig::default() }).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    // The access token is past its hour for Lever and for the hub alike.
    t.sandbox.admin().expire_access_tokens();
    t.clock.advance_ms(3_600_000);
    let before = t.sandbox.admin().counters();

    let users_path = format!("/v1/connections/{id}/lever/users");
    let calls = (0..50).map(|_| t.call(&p, Method::GET, &users_path, None));
    let results = futures::future::join_all(calls).await;
    let failures: Vec<_> = results.iter().filter(|(s, _)| *s != StatusCode::OK).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(results.iter().all(|(_, b)| !b["data"].as_array().unwrap().is_empty()));

    let after = t.sandbox.admin().counters();
    let refreshes = |c: &lever_sandbox::state::Counters| c.token_requests.get("refresh_token").copied().unwrap_or(0);
    assert_eq!(refreshes(&after) - refreshes(&before), 1, "exactly one refresh reached Lever");
    assert_eq!(after.refresh_failures, before.refresh_failures);
    t.forbid_tokens_of(&id).await;
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_in_lever_means_needs_reconnect_one_event_no_more_refreshes_and_reconnect_restores() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    t.receiver.wait_for("connection.status_changed", &id, 1).await;

    t.sandbox.admin().revoke_all();
    // Ten partner calls at once hit the revocation.
    let users_path = format!("/v1/connections/{id}/lever/users");
    let calls = (0..10).map(|_| t.call(&p, Method::GET, &users_path, None));
    for (status, body) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["type"], "/problems/connection-not-active");
    }
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!((c["status"].as_str(), c["health"].as_str()), (Some("needs_reconnect"), Some("red")));

    t.receiver.wait_for("connection.status_changed", &id, 2).await;
    // Give a duplicate announcement time to arrive, if there were one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = t.receiver.events("connection.status_changed", &id);
    assert_eq!(events.len(), 2, "one for active, exactly one for needs_reconnect");
    assert_eq!(events[1]["data"]["to"], "needs_reconnect");

    // No Lever call at all for a connection that needs reconnecting.
    let before = t.sandbox.admin().counters();
    let (status, _) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/stages"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let after = t.sandbox.admin().counters();
    assert_eq!(after.token_requests, before.token_requests, "0 refresh attempts after revoke");
    assert_eq!(after.data_requests, before.data_requests);

    // Reconnect: same connection id, new consent.
    let (status, again) = t.call(&p, Method::POST, &format!("/v1/connections/{id}/reconnect"), Some(json!({"return_url": p.return_url}))).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let back = t.consent(again["authorize_url"].as_str().unwrap()).await;
    assert_eq!((query(&back, "connection_id").as_deref(), query(&back, "status").as_deref()), (Some(id.as_str()), Some("active")));
    let (status, users) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/users"), None).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    t.forbid_tokens_of(&id).await;
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_partners_connection_is_not_found_and_unchanged() {
    let t = TestHub::start(strict()).await;
    let owner = t.partner("hireup").await;
    let other = t.partner("employeereferrals").await;
    let id = t.connect(&owner).await;
    let (_, before) = t.call(&owner, Method::GET, &format!("/v1/connections/{id}"), None).await;
    let hooks_before = t.sandbox.admin().webhooks().len();

    let attempts = [
        (Method::GET, format!("/v1/connections/{id}"), None),
        (Method::PATCH, format!("/v1/connections/{id}"), Some(json!({"settings": {"default_stage": "lead-new"}}))),
        (Method::DELETE, format!("/v1/connections/{id}"), None),
        (Method::POST, format!("/v1/connections/{id}/reconnect"), Some(json!({"return_url": other.return_url}))),
        (Method::GET, format!("/v1/connections/{id}/lever/users"), None),
        (Method::GET, format!("/v1/connections/{id}/lever/stages"), None),
        (Method::GET, format!("/v1/connections/{id}/activity"), None),
    ];
    for (method, path, body) in attempts {
        let (status, problem) = t.call(&other, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
        assert_eq!(problem["type"], "/problems/not-found");
    }
    // The owner's webhook endpoint and its events are out of reach too.
    let (_, hooks) = t.call(&owner, Method::GET, "/v1/webhooks", None).await;
    let hook_id = hooks["data"][0]["id"].as_str().unwrap().to_owned();
    let event_id = t.receiver.wait_for("connection.status_changed", &id, 1).await[0]["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        (Method::DELETE, format!("/v1/webhooks/{hook_id}")),
        (Method::POST, format!("/v1/webhooks/{hook_id}/rotate-secret")),
        (Method::POST, format!("/v1/events/{event_id}/replay")),
    ] {
        let (status, problem) = t.call(&other, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
    }
    let (_, hooks_after) = t.call(&owner, Method::GET, "/v1/webhooks", None).await;
    assert_eq!(hooks, hooks_after);

    let (_, after) = t.call(&owner, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(before, after, "nothing changed");
    assert_eq!(t.sandbox.admin().webhooks().len(), hooks_before);
    let (_, listed) = t.call(&other, Method::GET, "/v1/connections", None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_are_checked_against_the_profile_and_lever() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["missing_settings"], json!(["settings.perform_as"]), "Outhire asks who candidates are attributed to");

    let (_, users) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/users"), None).await;
    let user = users["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, c) = t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(json!({"settings": {"perform_as": user}}))).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["settings"]["perform_as"], user.as_str());
    assert_eq!(c["missing_settings"], json!([]));

    let stranger = "00000000-0000-4000-8000-000000000000";
    let (status, problem) = t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(json!({"settings": {"perform_as": stranger}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "settings.perform_as", "{problem}");

    // A setting this partner's profile does not let customers change.
    let (status, problem) =
        t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(json!({"settings": {"hire_triggers": ["daily"]}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["settings"]["perform_as"], user.as_str(), "a refused change changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stage_mapping_must_name_stages_of_the_customers_lever() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    let (_, stages) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/stages"), None).await;
    let stage = stages["data"].as_array().unwrap().iter().find(|s| s["id"] == "applicant-new").expect("built-in stage");
    let ok = json!({"settings": {"stage_labels": {"applicant-new": "Applied"}, "default_stage": stage["id"]}});
    let (status, c) = t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(ok)).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let unknown = json!({"settings": {"stage_labels": {"11111111-1111-4111-8111-111111111111": "Ghost"}}});
    let (status, problem) = t.call(&p, Method::PATCH, &format!("/v1/connections/{id}"), Some(unknown)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("not a stage"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disconnect_destroys_tokens_deletes_lever_webhooks_and_is_idempotent() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("hireup").await;
    let id = t.connect(&p).await;
    assert!(!t.sandbox.admin().webhooks().is_empty());

    for _ in 0..2 {
        let (status, _) = t.call(&p, Method::DELETE, &format!("/v1/connections/{id}"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert!(t.sandbox.admin().webhooks().is_empty(), "Lever webhooks deleted");
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(c["status"], "disconnected");
    let item = format!("{:?}", raw_connection_item(&t, &id).await);
    assert!(!item.contains("access_token") && !item.contains("refresh_token"), "tokens destroyed");
    let (status, _) = t.call(&p, Method::GET, &format!("/v1/connections/{id}/lever/users"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "no Lever calls after disconnect");
}

async fn raw_connection_item(t: &TestHub, id: &str) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = shared::testing::dynamodb_client().await.unwrap();
    let key = shared::store::keys::connection(id);
    client
        .get_item()
        .table_name(t.store.table())
        .key("pk", AttributeValue::S(key.pk))
        .key("sk", AttributeValue::S(key.sk))
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_in_the_table_are_ciphertext() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let id = t.connect(&p).await;
    let auth = t.hub.tokens.auth(&id).await.unwrap();
    let shared::lever::port::Credential::Bearer(access) = &auth.credential else { panic!("bearer") };
    let item = format!("{:?}", raw_connection_item(&t, &id).await);
    assert!(item.contains("access_token"), "the item holds the sealed token");
    assert!(!item.contains(access.expose()), "no plaintext access token in DynamoDB");
    assert!(!item.contains(&access.expose()[..24.min(access.expose().len())]), "not even a prefix");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partner_api_errors_are_problem_details() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("outhire").await;
    let no_key = t.http.get(format!("{}/v1/connections", t.base)).send().await.unwrap();
    assert_eq!(no_key.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(no_key.headers()["content-type"], "application/problem+json");
    let wrong = e2e::TestPartner { id: p.id.clone(), key: "lhk_000000000000_nope".into(), return_url: p.return_url.clone() };
    assert_eq!(t.call(&wrong, Method::GET, "/v1/connections", None).await.0, StatusCode::UNAUTHORIZED);

    let bad_json = t
        .http
        .post(format!("{}/v1/connections", t.base))
        .bearer_auth(&p.key)
        .header("content-type", "application/json")
        .body("{\"return_url\": 42}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = bad_json.json().await.unwrap();
    assert_eq!((problem["type"].as_str(), problem["errors"][0]["field"].as_str()), (Some("/problems/invalid-request"), Some("return_url")));

    let (status, problem) = t.call(&p, Method::POST, "/v1/connections", Some(json!({"return_url": "https://evil.example/steal"}))).await;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/return-url-not-allowed")));
    let (status, problem) = t.call(&p, Method::GET, "/v1/nothing-here", None).await;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::NOT_FOUND, Some("/problems/not-found")));
    let (status, _) = t.call(&p, Method::GET, "/v1/connections?cursor=%%%", None).await;
    assert!(status.is_client_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_keep_alive_schedule_refreshes_only_idle_grants() {
    let t = TestHub::start(strict()).await;
    let p = t.partner("hrcloud").await;
    let id = t.connect(&p).await;
    let refreshes = || t.sandbox.admin().counters().token_requests.get("refresh_token").copied().unwrap_or(0);

    let fresh = shared::flows::keepalive::run(&t.hub.partners, &t.hub.connections).await.unwrap();
    assert_eq!((fresh.checked, fresh.refreshed, refreshes()), (1, 0, 0), "a fresh grant is left alone");

    t.clock.advance_ms(21 * 3_600_000);
    let idle = shared::flows::keepalive::run(&t.hub.partners, &t.hub.connections).await.unwrap();
    assert_eq!((idle.refreshed, idle.failed, refreshes()), (1, 0, 1), "an idle grant is refreshed once");
    let again = shared::flows::keepalive::run(&t.hub.partners, &t.hub.connections).await.unwrap();
    assert_eq!((again.refreshed, refreshes()), (0, 1));
    let (_, c) = t.call(&p, Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert!(c["flows"]["tokens"]["last_success_at"].is_string(), "{c}");
    t.forbid_tokens_of(&id).await;
    logs::assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partner_rotates_its_api_key_without_downtime() {
    let t = TestHub::start(strict()).await;
    let old = t.partner("upwage").await;
    let (status, issued) = t.call(&old, Method::POST, "/v1/api-keys", Some(json!({"label": "rotation"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let new = e2e::TestPartner { id: old.id.clone(), key: issued["key"].as_str().unwrap().into(), return_url: old.return_url.clone() };
    logs::forbid(&new.key);

    // Both work during the switch; the listing shows ids, never keys.
    assert_eq!(t.call(&old, Method::GET, "/v1/connections", None).await.0, StatusCode::OK);
    assert_eq!(t.call(&new, Method::GET, "/v1/connections", None).await.0, StatusCode::OK);
    let (_, listed) = t.call(&new, Method::GET, "/v1/api-keys", None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&new.key) && !listed.to_string().contains(&old.key));

    let old_id = listed["data"].as_array().unwrap().iter().find(|k| k["id"] != issued["id"]).unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(t.call(&new, Method::DELETE, &format!("/v1/api-keys/{old_id}"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(t.call(&old, Method::GET, "/v1/connections", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.call(&new, Method::GET, "/v1/connections", None).await.0, StatusCode::OK);
    // Another partner cannot revoke this partner's key.
    let other = t.partner("hrcloud").await;
    let new_id = issued["id"].as_str().unwrap();
    assert_eq!(t.call(&other, Method::DELETE, &format!("/v1/api-keys/{new_id}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.call(&new, Method::GET, "/v1/connections", None).await.0, StatusCode::OK);
    logs::assert_no_secrets();
}

/// Every route and method in `docs/openapi.yaml` is served: without an API key each answers
/// 401 (authentication comes first), never 404 or 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_documented_route_is_served() {
    let t = TestHub::start(strict()).await;
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.yaml")).unwrap();
    let mut checked = 0;
    let mut path: Option<String> = None;
    for line in spec.lines() {
        let indent = line.len() - line.trim_start().len();
        let key = line.trim().trim_end_matches(':');
        match indent {
            0 => path = None, // `components:` and other top-level keys end the paths
            2 if key.starts_with("/v1") => path = Some(key.replace("{id}", "some-id").replace("{job_id}", "some-job")),
            2 => path = None,
            4 => {
                let (Some(p), Ok(method)) = (&path, Method::from_bytes(key.to_uppercase().as_bytes())) else { continue };
                if !["GET", "POST", "PATCH", "DELETE"].contains(&method.as_str()) {
                    continue;
                }
                let res = t.http.request(method.clone(), format!("{}{p}", t.base)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {p}");
                checked += 1;
            }
            _ => {}
        }
    }
    assert_eq!(checked, 32, "documented /v1 operations");
    let res = t.http.get(format!("{}/oauth/callback", t.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p = t.partner("outhire").await;
    let (status, problem) = t.call(&p, Method::PUT, "/v1/connections", None).await;
    assert_eq!((status, problem["type"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("/problems/method-not-allowed")));
}
