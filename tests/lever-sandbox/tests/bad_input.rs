//! Bad input never crashes the sandbox: every route answers malformed bodies,
//! wrong types and unknown ids with a Lever-style 4xx JSON error.

mod common;

use lever_sandbox::SandboxConfig;
use serde_json::Value;

#[tokio::test]
async fn malformed_requests_get_4xx_json_errors() {
    let (sb, api) = common::start(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }).await;
    let admin = sb.admin();
    let opp = admin.seed_ids().opportunities[0].clone();
    let posting = admin.seed_ids().postings[0].clone();
    let user = admin.super_admin_id();
    let routes: Vec<(&str, String)> = vec![
        ("POST", format!("/v1/opportunities?perform_as={user}")),
        ("PUT", format!("/v1/opportunities/{opp}/stage")),
        ("PUT", format!("/v1/opportunities/{opp}/archived")),
        ("POST", format!("/v1/opportunities/{opp}/addTags")),
        ("POST", format!("/v1/opportunities/{opp}/removeSources")),
        ("POST", format!("/v1/opportunities/{opp}/addLinks")),
        ("POST", format!("/v1/opportunities/{opp}/notes")),
        ("POST", format!("/v1/opportunities/{opp}/files?perform_as={user}")),
        ("POST", format!("/v1/postings?perform_as={user}")),
        ("POST", format!("/v1/postings/{posting}?perform_as={user}")),
        ("POST", format!("/v1/postings/{posting}/apply")),
        ("POST", "/v1/users".to_string()),
        ("PUT", format!("/v1/users/{user}")),
        ("PUT", format!("/v1/contacts/{}", admin.opportunity(&opp).unwrap().contact)),
        ("POST", "/v1/uploads".to_string()),
        ("POST", "/v1/webhooks".to_string()),
        ("PUT", "/v1/webhooks".to_string()),
    ];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{not json".to_vec()),
        ("application/json", b"[1,2,3]".to_vec()),
        ("application/json", b"\"string\"".to_vec()),
        ("application/json", br#"{"stage": 5, "reason": 7, "tags": {"a": 1}, "sources": 3, "links": [1], "value": 3, "name": [], "emails": 4, "postings": [1], "text": 9, "url": 1, "event": [], "data": "x", "personalInformation": 5, "categories": 3, "salaryRange": {"min": "x"}, "phones": "x", "archived": {"reason": 1}, "createdAt": "soon", "accessRole": 5}"#.to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x01]),
        ("multipart/form-data; boundary=zzz", b"--zzz\r\nContent-Disposition: form-data\r\n\r\nbroken".to_vec()),
        ("multipart/form-data", b"no boundary at all".to_vec()),
    ];
    for (method, path) in &routes {
        for (ct, body) in &bodies {
            let r = api.raw(method, path, ct, body.clone()).await;
            assert!(
                (400..500).contains(&r.status),
                "{method} {path} with {ct} {:?}: got {} {}",
                String::from_utf8_lossy(body),
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            assert!(v["code"].is_string() && v["message"].is_string(), "{method} {path}: Lever error body, got {}", String::from_utf8_lossy(&r.body));
        }
    }
    // Unknown ids everywhere are 404 ResourceNotFound.
    let ghost = "00000000-0000-4000-8000-000000000000";
    for path in [
        format!("/v1/opportunities/{ghost}"),
        format!("/v1/opportunities/{ghost}/notes"),
        format!("/v1/opportunities/{opp}/notes/{ghost}"),
        format!("/v1/opportunities/{opp}/files/{ghost}"),
        format!("/v1/opportunities/{opp}/applications/{ghost}"),
        format!("/v1/postings/{ghost}"),
        format!("/v1/postings/{ghost}/apply"),
        format!("/v1/users/{ghost}"),
        format!("/v1/contacts/{ghost}"),
        format!("/v1/stages/{ghost}"),
        format!("/v1/archive_reasons/{ghost}"),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["code"], "ResourceNotFound");
    }
    // And the server is still healthy.
    assert_eq!(api.get("/v1/stages").await.status, 200);
}
