//! The contract as strict as the code and no stricter (issue 19): what schemathesis found when
//! it held the hub to docs/openapi.yaml, each through the real router over the embedded store
//! and the in-process Lever sandbox, every answer validated against the document. The whole
//! check runs from `scripts/test` (tests/schemathesis).

mod common;

use common::{LocalHub, Request};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_cursor_is_the_first_page() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    h.connect(&key, "hireup").await;
    let first = h.send(Request::new("GET", "/v1/connections").key(&key)).await;
    let empty = h.send(Request::new("GET", "/v1/connections?cursor=").key(&key)).await;
    assert_eq!((first.status, empty.status), (200, 200));
    assert_eq!(empty.json()["data"], first.json()["data"]);
    let forged = h.send(Request::new("GET", "/v1/connections?cursor=AAAA").key(&key)).await;
    assert_eq!(forged.json()["type"], "/problems/invalid-cursor", "any other unknown cursor is still refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integer_may_be_written_with_a_zero_fraction_and_null_is_the_default() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let hook = h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": "http://127.0.0.1:9/hook", "event_types": null}))).await;
    assert_eq!(hook.status, 201, "{:?}", hook.json());
    let rotate = format!("/v1/webhooks/{}/rotate-secret", hook.json()["id"].as_str().unwrap());
    for ok in [json!({"previous_secret_expires_in": 530.0}), json!({"previous_secret_expires_in": null})] {
        let res = h.send(Request::new("POST", &rotate).key(&key).json(&ok)).await;
        assert_eq!(res.status, 200, "{ok}: {:?}", res.json());
    }
    let fraction = h.send(Request::new("POST", &rotate).key(&key).json(&json!({"previous_secret_expires_in": 530.5}))).await;
    assert_eq!(fraction.status, 422, "530.5 is not an integer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_routes_and_overrides_are_objects_and_override_tags_are_limited_too() {
    let h = LocalHub::start().await;
    let key = h.partner("upwage").await;
    let create = |settings: serde_json::Value| {
        Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/upwage/done", "settings": settings}))
    };
    let as_array = h.send(create(json!([null, null]))).await;
    assert_eq!((as_array.status, as_array.json()["errors"][0]["field"].as_str()), (422, Some("settings")), "{:?}", as_array.json());
    let id = h.connect(&key, "upwage").await;
    let patch = |settings: serde_json::Value| Request::new("PATCH", format!("/v1/connections/{id}")).key(&key).json(&json!({"settings": settings}));
    let route = h.send(patch(json!({"result_routes": {"PASSED": [null, null]}}))).await;
    assert_eq!(route.json()["errors"][0]["field"], "settings.result_routes.PASSED", "{:?}", route.json());
    let posting = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let long_tag = h.send(patch(json!({"posting_overrides": {posting: {"tags": ["x".repeat(201)]}}}))).await;
    assert_eq!(long_tag.status, 422);
    assert_eq!(long_tag.json()["errors"][0]["field"], format!("settings.posting_overrides.{posting}.tags[0]"), "{:?}", long_tag.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_without_a_choice_takes_the_account_the_page_shows_checked() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let created = h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/hireup/done"}))).await;
    let link = url::Url::parse(created.json()["connect_url"].as_str().unwrap()).unwrap();
    let form = || Request::new("POST", link.path()).header("content-type", "application/x-www-form-urlencoded");
    let page = h.send(Request::new("GET", link.path())).await;
    assert!(String::from_utf8_lossy(&page.body).contains("name=\"lever_environment\""), "HireUp's page offers a choice");
    let unoffered = h.send(form().raw("lever_environment=staging")).await;
    assert_eq!(unoffered.status, 400, "an account the link does not offer");
    let none = h.send(form()).await;
    assert_eq!(none.status, 303, "no field: the first account, as the page has it checked");
    assert!(none.header("location").is_some(), "on to Lever's consent screen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_is_leaving_a_field_out_and_caps_are_conflicts() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let erasure =
        h.send(Request::new("POST", "/v1/erasures").key(&key).json(&json!({"email": "nobody@example.com", "lever_opportunity_id": null}))).await;
    assert_eq!(erasure.status, 202, "{:?}", erasure.json());
    let create = h
        .send(
            Request::new("POST", "/v1/connections").key(&key).json(
                &json!({"return_url": "https://partner.example/hireup/done", "reference": null, "lever_environment": null, "expires_in": null}),
            ),
        )
        .await;
    assert_eq!(create.status, 201, "{:?}", create.json());
    let mut answers = vec![];
    for i in 0..11 {
        answers.push(h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": format!("http://127.0.0.1:9/hook{i}")}))).await);
    }
    let over = answers.last().unwrap();
    assert_eq!((over.status, over.json()["type"].as_str()), (409, Some("/problems/conflict")), "{:?}", over.json());
}
