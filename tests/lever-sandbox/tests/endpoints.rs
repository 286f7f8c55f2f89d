//! Less-travelled endpoints: postings writes, apply with an upload, users,
//! contacts, webhooks management, expand, deleted lists.

mod common;

use common::{Part, multipart};
use lever_sandbox::SandboxConfig;
use serde_json::json;

fn unlimited() -> SandboxConfig {
    SandboxConfig { rate_limit: None, ..SandboxConfig::default() }
}

#[tokio::test]
async fn postings_create_update_and_apply_with_an_uploaded_resume() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    assert_eq!(api.call("POST", "/v1/postings", Some(&json!({"text": "X"}))).await.status, 400, "perform_as required");
    let r = api
        .call(
            "POST",
            &format!("/v1/postings?perform_as={sa}"),
            Some(&json!({"text": "Rust Engineer", "state": "published", "categories": {"team": "Platform", "location": "Berlin"},
                "salaryRange": {"min": 1, "max": 2, "currency": "EUR", "interval": "per-year-salary"}, "workplaceType": "remote"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let p = r.json()["data"].clone();
    assert_eq!(p["distributionChannels"], json!(["public", "internal"]));
    assert_eq!(p["categories"]["allLocations"], json!(["Berlin"]));
    let id = p["id"].as_str().unwrap().to_string();
    let bad = api.call("POST", &format!("/v1/postings/{id}?perform_as={sa}"), Some(&json!({"workplaceType": "unspecified"}))).await;
    assert_eq!(bad.status, 400, "workplaceType cannot go back to unspecified");
    let up = api.call("POST", &format!("/v1/postings/{id}?perform_as={sa}"), Some(&json!({"text": "Senior Rust Engineer"}))).await;
    assert_eq!(up.json()["data"]["text"], "Senior Rust Engineer");
    assert!(up.json()["data"]["updatedAt"].as_i64() >= p["updatedAt"].as_i64());

    let (ct, body) = multipart(&[Part::File { name: "file", filename: "cv.pdf", content_type: "application/pdf", bytes: b"%PDF" }]);
    let upload = api.raw("POST", "/v1/uploads", &ct, body).await;
    assert_eq!(upload.status, 201);
    let uri = upload.json()["data"]["uri"].as_str().unwrap().to_string();
    let form = api.get(&format!("/v1/postings/{id}/apply")).await.json();
    assert!(form["data"]["personalInformation"].as_array().unwrap().iter().any(|q| q["name"] == "resume"));
    let apply = json!({"personalInformation": [
        {"name": "fullName", "value": "Ana Applicant"}, {"name": "email", "value": "ana@example.com"}, {"name": "resume", "value": uri}]});
    let a = api.call("POST", &format!("/v1/postings/{id}/apply"), Some(&apply)).await;
    assert_eq!(a.status, 201);
    assert!(a.json()["data"]["applicationId"].is_string());
    let opps = admin.opportunities_by_email("ana@example.com");
    assert_eq!(opps[0].postings, vec![id.clone()]);
    assert_eq!(opps[0].origin, "applied");
    let missing = api.call("POST", &format!("/v1/postings/{id}/apply"), Some(&json!({"personalInformation": []}))).await;
    assert_eq!(missing.status, 400);

    let draft = admin.seed_ids().postings[5].clone();
    assert_eq!(admin.posting(&draft).unwrap()["state"], "draft");
    assert_eq!(api.call("POST", &format!("/v1/postings/{draft}/apply"), Some(&apply)).await.status, 400, "drafts take no applications");

    admin.delete_posting(&id).unwrap();
    assert_eq!(api.get(&format!("/v1/postings/{id}")).await.status, 404);
    assert_eq!(api.get("/v1/postings/deleted").await.json()["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn users_contacts_and_expand() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let r = api.call("POST", "/v1/users", Some(&json!({"name": "New Hire", "email": "new.hire@sandbox.example"}))).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["data"]["accessRole"], "interviewer");
    assert_eq!(r.json()["data"]["username"], "new.hire");
    let uid = r.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(api.call("POST", "/v1/users", Some(&json!({"name": "Dup", "email": "NEW.HIRE@sandbox.example"}))).await.status, 400);
    assert_eq!(api.call("PUT", &format!("/v1/users/{uid}"), Some(&json!({"name": "N"}))).await.status, 400, "PUT needs name, email, accessRole");
    let put = api
        .call("PUT", &format!("/v1/users/{uid}"), Some(&json!({"name": "N H", "email": "new.hire@sandbox.example", "accessRole": "team member"})))
        .await;
    assert_eq!(put.json()["data"]["accessRole"], "team member");
    let by_email = api.get("/v1/users?email=new.hire@sandbox.example").await.json();
    assert_eq!(by_email["data"][0]["id"], uid.as_str());
    let d = api.call("POST", &format!("/v1/users/{uid}/deactivate"), None).await.json();
    assert!(d["data"]["deactivatedAt"].is_i64());
    let re = api.call("POST", &format!("/v1/users/{uid}/reactivate"), None).await.json();
    assert!(re["data"]["deactivatedAt"].is_null());

    let opp = admin.seed_ids().opportunities[0].clone();
    let contact = admin.opportunity(&opp).unwrap().contact;
    let c = api.call("PUT", &format!("/v1/contacts/{contact}"), Some(&json!({"name": "Renamed Person", "location": "Lisbon"}))).await;
    assert_eq!(c.json()["data"]["location"], json!({"name": "Lisbon"}));
    let o = api.get(&format!("/v1/opportunities/{opp}?expand=contact&expand=owner&expand=stage")).await.json();
    assert_eq!(o["data"]["contact"]["name"], "Renamed Person");
    assert!(o["data"]["owner"]["accessRole"].is_string());
    assert!(o["data"]["stage"]["text"].is_string());
    assert_eq!(o["data"]["name"], "Renamed Person");
    assert_eq!(api.get(&format!("/v1/opportunities/{opp}?expand=bogus")).await.status, 400);
    let p = api.get(&format!("/v1/postings/{}?expand=owner", admin.seed_ids().postings[0])).await.json();
    assert!(p["data"]["owner"]["email"].is_string());
}

#[tokio::test]
async fn webhooks_update_and_delete() {
    let (_sb, api) = common::start(unlimited()).await;
    assert_eq!(
        api.call("POST", "/v1/webhooks", Some(&json!({"event": "candidateHired", "url": "http://evil.example/h"}))).await.status,
        400,
        "https only (loopback excepted)"
    );
    assert_eq!(api.call("POST", "/v1/webhooks", Some(&json!({"event": "nope", "url": "https://ok.example/h"}))).await.status, 400);
    let w = api.call("POST", "/v1/webhooks", Some(&json!({"event": "candidateHired", "url": "https://ok.example/h"}))).await.json();
    assert_eq!(w["data"]["configuration"]["conditions"]["origins"].as_array().unwrap().len(), 6);
    let id = w["data"]["id"].as_str().unwrap().to_string();
    let u = api
        .call(
            "PUT",
            "/v1/webhooks",
            Some(&json!({"data": [{"id": id, "url": "https://ok.example/h2", "configuration": {"conditions": {"origins": ["applied"]}}}]})),
        )
        .await;
    assert_eq!(u.status, 200);
    assert_eq!(u.json()["data"][0]["url"], "https://ok.example/h2");
    assert_eq!(u.json()["data"][0]["configuration"]["conditions"]["origins"], json!(["applied"]));
    let del = api.call("DELETE", &format!("/v1/webhooks/{id}"), None).await;
    assert_eq!(del.status, 204);
    assert!(del.body.is_empty());
    assert_eq!(api.call("DELETE", &format!("/v1/webhooks/{id}"), None).await.status, 404);
    assert_eq!(api.get("/v1/webhooks").await.json()["data"], json!([]));
}

#[tokio::test]
async fn opportunity_list_filters() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let hired = admin.hired_reason_id();
    let list = api.get(&format!("/v1/opportunities?archived=true&archive_reason_id={hired}")).await.json();
    let items = list["data"].as_array().unwrap();
    assert!(!items.is_empty(), "seed has hires");
    assert!(items.iter().all(|o| o["archived"]["reason"] == hired.as_str()));
    let active = api.get("/v1/opportunities?archived=false").await.json();
    assert!(active["data"].as_array().unwrap().iter().all(|o| o["archived"].is_null()));
    let posting = admin.seed_ids().postings[0].clone();
    let on = api.get(&format!("/v1/opportunities?posting_id={posting}")).await.json();
    for o in on["data"].as_array().unwrap() {
        assert_eq!(admin.opportunity(o["id"].as_str().unwrap()).unwrap().postings, vec![posting.clone()]);
    }
    let lead = api.get("/v1/opportunities?stage_id=lead-new").await.json();
    assert!(lead["data"].as_array().unwrap().iter().all(|o| o["stage"] == "lead-new"));
    assert_eq!(api.get("/v1/opportunities?archived=maybe").await.status, 400);
    assert_eq!(api.get("/v1/opportunities?updated_at_start=yesterday").await.status, 400);
}
