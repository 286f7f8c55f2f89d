//! The partner API's contract (issue 8, items 9–14): every answer is one `docs/openapi.yaml`
//! documents — status, media type and JSON Schema — and every 4xx is a problem document a
//! partner can act on. Driven through the real router over the embedded store and the
//! in-process Lever sandbox.

mod common;

use common::{LocalHub, Request};
use serde_json::{Value, json};
use shared::contract::contract;

const HUGE: usize = 200 * 1024;

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn problem_type(a: &common::Answer) -> String {
    a.json()["type"].as_str().unwrap_or_default().to_owned()
}

/// Every documented operation, once with a success and once with an error, each answer
/// validated against the document; then no operation is left unexercised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_documented() {
    let h = LocalHub::start().await;
    let key = h.partner("outhire").await;
    let get = |path: &str| Request::new("GET", path).key(&key);

    // Webhooks first, so the connection's status event has a delivery to list and replay.
    let hook = h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": "http://127.0.0.1:9/hook"}))).await;
    assert_eq!(hook.status, 201);
    let hook_id = hook.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(h.send(Request::new("POST", "/v1/webhooks").key(&key).json(&json!({"url": "ftp://x"}))).await.status, 422);
    assert_eq!(h.send(get("/v1/webhooks")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/v1/webhooks")).await.status, 401);

    let profile = h.send(get("/v1/profile")).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.json()["candidates"]["accepts"], json!(["application"]), "{:?}", profile.json());
    assert_eq!(h.send(Request::new("GET", "/v1/profile")).await.status, 401);

    let id = h.connect(&key, "outhire").await;
    let pending = h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/outhire/x"}))).await;
    assert_eq!(pending.status, 201);
    let pending = pending.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://evil.example/"}))).await.status, 422);

    let first = h.send(get("/v1/connections?limit=1")).await;
    assert_eq!(first.status, 200);
    let cursor = first.json()["next_cursor"].as_str().expect("two connections, pages of one").to_owned();
    let second = h.send(get(&format!("/v1/connections?limit=1&cursor={cursor}"))).await;
    assert_eq!(second.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(h.send(get("/v1/connections?limit=abc")).await.status, 422);

    assert_eq!(h.send(get(&format!("/v1/connections/{id}"))).await.status, 200);
    assert_eq!(h.send(get("/v1/connections/nope")).await.status, 404);

    let users = h.send(get(&format!("/v1/connections/{id}/lever/users"))).await;
    assert_eq!(users.status, 200);
    let user = users.json()["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(h.send(get(&format!("/v1/connections/{pending}/lever/users"))).await.status, 409);
    // Outhire's grant has no stage scope (Lever refuses: 422); HireUp's has.
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/lever/stages"))).await.status, 422);
    let hireup = h.partner("hireup").await;
    let mapped = h.connect(&hireup, "hireup").await;
    assert_eq!(h.send(Request::new("GET", format!("/v1/connections/{mapped}/lever/stages")).key(&hireup)).await.status, 200);
    assert_eq!(h.send(get("/v1/connections/nope/lever/stages")).await.status, 404);

    let patch = |cid: &str, settings: Value| Request::new("PATCH", format!("/v1/connections/{cid}")).key(&key).json(&json!({"settings": settings}));
    let patched = h.send(patch(&id, json!({"perform_as": user}))).await;
    assert_eq!(patched.status, 200, "{:?}", patched.json());
    assert_eq!(h.send(patch(&id, json!({"perform_as": "00000000-0000-4000-8000-000000000000"}))).await.status, 422);

    // The job feed: a sync now, the jobs queue worked as the job poller Lambda would.
    let sync = h.send(Request::new("POST", format!("/v1/connections/{id}/jobs/sync")).key(&key)).await;
    assert_eq!(sync.status, 202, "{:?}", sync.json());
    assert_eq!(sync.json()["jobs"]["state"], "queued");
    assert_eq!(h.send(Request::new("POST", format!("/v1/connections/{pending}/jobs/sync")).key(&key)).await.status, 409);
    let ran = h.hub.jobs.work_once(10, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(ran, 1);
    let jobs = h.send(get(&format!("/v1/connections/{id}/jobs?limit=2"))).await;
    assert_eq!(jobs.status, 200);
    let job = jobs.json()["data"][0].clone();
    let next = jobs.json()["next_cursor"].as_str().expect("more than two jobs").to_owned();
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/jobs?limit=2&cursor={next}"))).await.status, 200);
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/jobs?status=closed&cursor={next}"))).await.status, 400, "a cursor of other filters");
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/jobs?status=gone"))).await.status, 422);
    let job_id = job["id"].as_str().unwrap().to_owned();
    let one = h.send(get(&format!("/v1/connections/{id}/jobs/{job_id}"))).await;
    assert_eq!((one.status, one.json()["details"].is_object()), (200, true));
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/jobs/00000000-0000-4000-8000-000000000000"))).await.status, 404);
    let import = |body: Value| Request::new("POST", format!("/v1/connections/{id}/jobs/{job_id}/import")).key(&key).json(&body);
    let imported = h.send(import(json!({"partner_ref": "JD-1"}))).await;
    assert_eq!((imported.status, imported.json()["imported"]["partner_ref"].as_str()), (200, Some("JD-1")));
    assert_eq!(h.send(import(json!({"partner_ref": ""}))).await.status, 422);
    let hosted = job["hosted_url"].as_str().unwrap().to_owned();
    let resolved = h
        .send(get(&format!("/v1/connections/{id}/jobs/resolve?url={}", urlencode(&format!("{}/apply?lever-source=x", hosted.trim_end_matches('/'))))))
        .await;
    assert_eq!((resolved.status, resolved.json()["id"].as_str()), (200, Some(job_id.as_str())));
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/jobs/resolve?url={}", urlencode("https://example.com/jobs/1")))).await.status, 422);
    let with_jobs = h.send(get(&format!("/v1/connections/{id}"))).await;
    assert_eq!(with_jobs.json()["flows"]["jobs"]["state"], "idle");
    assert!(with_jobs.json()["flows"]["jobs"]["jobs_open"].as_u64().unwrap() > 2);

    let activity = h.send(get(&format!("/v1/connections/{id}/activity?limit=1"))).await;
    assert_eq!(activity.status, 200);
    let next = activity.json()["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/activity?cursor={next}"))).await.status, 200);
    assert_eq!(h.send(get(&format!("/v1/connections/{pending}/activity?cursor={next}"))).await.status, 400, "another list's cursor");

    let reconnect =
        |cid: &str, url: &str| Request::new("POST", format!("/v1/connections/{cid}/reconnect")).key(&key).json(&json!({"return_url": url}));
    assert_eq!(h.send(reconnect(&pending, "https://partner.example/outhire/again")).await.status, 200);
    assert_eq!(h.send(reconnect(&id, "https://partner.example/outhire/again")).await.status, 409, "an active connection needs no new link");
    assert_eq!(h.send(reconnect(&pending, "https://evil.example/")).await.status, 422);

    let deliveries = h.send(get("/v1/deliveries?status=pending")).await;
    assert_eq!(deliveries.status, 200);
    let event_id = deliveries.json()["data"][0]["event_id"].as_str().expect("the status event's delivery").to_owned();
    assert_eq!(h.send(get("/v1/deliveries?status=lost")).await.status, 422);
    assert_eq!(h.send(Request::new("POST", format!("/v1/events/{event_id}/replay")).key(&key)).await.status, 200);
    assert_eq!(h.send(Request::new("POST", "/v1/events/nope/replay").key(&key)).await.status, 404);

    assert_eq!(h.send(Request::new("POST", format!("/v1/webhooks/{hook_id}/rotate-secret")).key(&key)).await.status, 200);
    assert_eq!(h.send(Request::new("POST", "/v1/webhooks/nope/rotate-secret").key(&key)).await.status, 404);
    assert_eq!(h.send(Request::new("DELETE", format!("/v1/webhooks/{hook_id}")).key(&key)).await.status, 204);
    assert_eq!(h.send(Request::new("DELETE", format!("/v1/webhooks/{hook_id}")).key(&key)).await.status, 404);

    let issued = h.send(Request::new("POST", "/v1/api-keys").key(&key).json(&json!({"label": "rotation"}))).await;
    assert_eq!(issued.status, 201);
    assert_eq!(h.send(Request::new("POST", "/v1/api-keys").key(&key).json(&json!({"label": "x".repeat(101)}))).await.status, 422);
    assert_eq!(h.send(get("/v1/api-keys")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/v1/api-keys").key("lhk_wrong")).await.status, 401);
    let new_id = issued.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(h.send(Request::new("DELETE", format!("/v1/api-keys/{new_id}")).key(&key)).await.status, 204);
    assert_eq!(h.send(Request::new("DELETE", format!("/v1/api-keys/{new_id}")).key(&key)).await.status, 404);

    // Hires: an HRIS partner imports every hire of the account, then lists them.
    let hris = h.partner("hrcloud").await;
    let hris_id = h.connect(&hris, "hrcloud").await;
    let import = |cid: &str, body: Option<Value>| {
        let r = Request::new("POST", format!("/v1/connections/{cid}/hires/import")).key(&hris);
        match body {
            Some(b) => r.json(&b),
            None => r,
        }
    };
    let queued = h.send(import(&hris_id, Some(json!({"all": true})))).await;
    assert_eq!(queued.status, 202, "{:?}", queued.json());
    assert_eq!(h.send(import(&hris_id, None)).await.status, 202, "no body is {{}}");
    assert_eq!(h.send(import(&hris_id, Some(json!({"everything": true})))).await.status, 422);
    assert_eq!(h.send(import("nope", None)).await.status, 404);
    let worker = h.hub.wiring.hires_worker().unwrap();
    while !worker.work_once(10, std::time::Duration::from_millis(10)).await.unwrap().is_empty() {}
    let hires = h.send(Request::new("GET", format!("/v1/connections/{hris_id}/hires?limit=2")).key(&hris)).await;
    assert_eq!(hires.status, 200);
    assert_eq!(hires.json()["data"].as_array().map(Vec::len), Some(2), "the seeded account has hires: {:?}", hires.json());
    assert_eq!(h.send(Request::new("GET", "/v1/connections/nope/hires").key(&hris)).await.status, 404);

    assert_eq!(h.send(Request::new("DELETE", format!("/v1/connections/{pending}")).key(&key)).await.status, 204);
    assert_eq!(h.send(Request::new("DELETE", "/v1/connections/nope").key(&key)).await.status, 404);

    assert_eq!(h.send(Request::new("GET", "/oauth/callback")).await.status, 400);
    // A link or state the hub never issued is not there: 404, as any unknown resource.
    assert_eq!(h.send(Request::new("GET", "/connect/not-a-link")).await.status, 404);
    assert_eq!(h.send(Request::new("POST", "/connect/not-a-link")).await.status, 404);
    assert_eq!(h.send(Request::new("GET", "/openapi.json")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/docs")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/docs/assets/docs.js")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/docs/assets/redoc.js")).await.status, 404);
    let console = h.send(Request::new("GET", "/console")).await;
    assert_eq!(console.status, 200);
    let html = String::from_utf8_lossy(&console.body).into_owned();
    let app = html.split("src=\"").nth(1).and_then(|r| r.split('"').next()).expect("the console page loads its entry module");
    assert_eq!(h.send(Request::new("GET", format!("/{app}"))).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/console/assets/0000000000000000/app.js")).await.status, 404);
    assert_eq!(h.send(Request::new("GET", "/problems/invalid-cursor")).await.status, 200);
    assert_eq!(h.send(Request::new("GET", "/problems/no-such-type")).await.status, 404);

    // Candidate ingest: an upload (PUT to the hub's own upload URL, as hub-local serves it), a
    // submission naming it, the list, one candidate, a retry.
    let upload = h
        .send(Request::new("POST", format!("/v1/connections/{id}/uploads")).key(&key).json(&json!({
            "name": "cv.pdf", "content_type": "application/pdf", "size_bytes": 9
        })))
        .await;
    assert_eq!(upload.status, 201, "{:?}", upload.json());
    let put_to = upload.json()["upload_url"].as_str().unwrap().strip_prefix(common::PUBLIC_URL).unwrap().to_owned();
    let put = h.send_to_hub(Request::new("PUT", put_to).header("content-type", "application/pdf").raw(b"%PDF-1.4\n".to_vec())).await;
    assert_eq!(put.status, 200);
    let bad_upload = Request::new("POST", format!("/v1/connections/{id}/uploads")).key(&key).json(&json!({
        "name": "cv.exe", "content_type": "application/x-msdownload", "size_bytes": 9
    }));
    assert_eq!(h.send(bad_upload).await.status, 422);
    let posting = h.sandbox.admin().create_posting(json!({"text": "Contract", "state": "published"})).unwrap();
    // The first submission takes the upload (an upload serves one submission); others send the file inline.
    let application = |posting: &str| {
        let file = if posting.starts_with("00000000") {
            json!({"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": "JVBERi0xLjQK"})
        } else {
            json!({"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": upload.json()["id"]})
        };
        json!({
            "kind": "application", "candidate": {"name": "Ada", "emails": ["ada@contract.example"]}, "postings": [posting],
            "files": [file],
        })
    };
    let submit =
        |k: &str, body: Value| Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", k).json(&body);
    let created = h.send(submit("contract-1", application(&posting))).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let candidate = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        h.send(Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).json(&application(&posting))).await.status,
        400,
        "no Idempotency-Key"
    );
    let unknown_posting = h.send(submit("contract-2", application("00000000-0000-4000-8000-000000000000"))).await;
    assert_eq!(unknown_posting.status, 422, "Lever refuses an unknown posting: {:?}", unknown_posting.json());
    let failed = h.send(get(&format!("/v1/connections/{id}/candidates?limit=1"))).await;
    assert_eq!(failed.status, 200);
    let failed = failed.json()["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(h.send(get("/v1/connections/nope/candidates")).await.status, 404);
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/candidates/{candidate}"))).await.status, 200);
    assert_eq!(h.send(get(&format!("/v1/connections/{id}/candidates/nope"))).await.status, 404);
    let retry = |c: &str| Request::new("POST", format!("/v1/connections/{id}/candidates/{c}/retry")).key(&key);
    assert_eq!(h.send(retry(&failed)).await.status, 202);
    assert_eq!(h.send(retry(&candidate)).await.status, 409, "already in Lever");
    let erase = |body: Value| Request::new("POST", "/v1/erasures").key(&key).json(&body);
    let erased = h.send(erase(json!({"email": "ada@contract.example"}))).await;
    assert_eq!(erased.status, 202, "{:?}", erased.json());
    assert_eq!(h.send(erase(json!({}))).await.status, 422);
    assert_eq!(h.send(get(&format!("/v1/erasures/{}", erased.json()["id"].as_str().unwrap()))).await.status, 200);
    assert_eq!(h.send(get("/v1/erasures/nope")).await.status, 404);

    let uncovered = contract().uncovered(|_| true);
    assert!(uncovered.is_empty(), "documented but never checked: {uncovered:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_string_errors_are_problems_and_limits_are_checked_not_clamped() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    for limit in ["abc", "0", "101", "-1", "1.5", ""] {
        let a = h.send(Request::new("GET", format!("/v1/connections?limit={limit}")).key(&key)).await;
        assert_eq!((a.status, problem_type(&a)), (422, "/problems/invalid-request".into()), "limit={limit}");
        assert_eq!(a.json()["errors"][0]["field"], "limit");
    }
    for limit in ["1", "100"] {
        assert_eq!(h.send(Request::new("GET", format!("/v1/connections?limit={limit}")).key(&key)).await.status, 200);
    }
    let twice = h.send(Request::new("GET", "/v1/connections?limit=1&limit=2").key(&key)).await;
    assert_eq!((twice.status, problem_type(&twice)), (400, "/problems/bad-request".into()));
    let deliveries = h.send(Request::new("GET", "/v1/deliveries?limit=500").key(&key)).await;
    assert_eq!(deliveries.status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_paths_bodies_and_methods_are_problems() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let bad_path = h.send(Request::new("GET", "/v1/connections/%FF%FE").key(&key)).await;
    assert_eq!((bad_path.status, problem_type(&bad_path)), (400, "/problems/bad-request".into()));

    let big = format!("{{\"return_url\": \"https://partner.example/hireup/{}\"}}", "x".repeat(HUGE));
    let too_large = h.send(Request::new("POST", "/v1/connections").key(&key).header("content-type", "application/json").raw(big)).await;
    assert_eq!((too_large.status, problem_type(&too_large)), (413, "/problems/payload-too-large".into()));

    let post_callback = h.send(Request::new("POST", "/oauth/callback")).await;
    assert_eq!((post_callback.status, problem_type(&post_callback)), (405, "/problems/method-not-allowed".into()));
    let put = h.send(Request::new("PUT", "/v1/connections").key(&key)).await;
    assert_eq!(put.status, 405);

    let trailing =
        h.send(Request::new("POST", "/v1/connections").key(&key).raw(r#"{"return_url": "https://partner.example/hireup/x"} trailing"#)).await;
    assert_eq!((trailing.status, problem_type(&trailing)), (400, "/problems/bad-request".into()));
    assert!(trailing.json()["detail"].as_str().unwrap().contains("line 1 column"), "names the position: {:?}", trailing.json());
    for wrong in ["[]", "\"text\"", "42", "null"] {
        let a = h.send(Request::new("POST", "/v1/connections").key(&key).raw(wrong)).await;
        assert_eq!((a.status, problem_type(&a)), (400, "/problems/bad-request".into()), "{wrong}");
        assert!(a.json()["detail"].as_str().unwrap().contains("must be a JSON object"));
    }
    let broken = h.send(Request::new("PATCH", "/v1/connections/x").key(&key).raw("{\"settings\": {\n  \"tags\": [1,}")).await;
    assert_eq!(broken.status, 400);
    assert!(broken.json()["detail"].as_str().unwrap().contains("line 2 column"), "{:?}", broken.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_answers_challenge_and_the_scheme_is_case_insensitive() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let none = h.send(Request::new("GET", "/v1/connections")).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some(r#"Bearer realm="partner-api""#));
    let wrong = h.send(Request::new("GET", "/v1/connections").key("lhk_000000000000_nope")).await;
    assert_eq!(wrong.header("www-authenticate"), Some(r#"Bearer realm="partner-api", error="invalid_token""#));
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let a = h.send(Request::new("GET", "/v1/connections").header("authorization", &format!("{scheme} {key}"))).await;
        assert_eq!(a.status, 200, "{scheme}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_cannot_revoke_its_last_api_key_even_racing() {
    let h = LocalHub::start().await;
    let key = h.partner("upwage").await;
    let keys = h.send(Request::new("GET", "/v1/api-keys").key(&key)).await.json();
    let only = keys["data"][0]["id"].as_str().unwrap().to_owned();
    let last = h.send(Request::new("DELETE", format!("/v1/api-keys/{only}")).key(&key)).await;
    assert_eq!((last.status, problem_type(&last)), (409, "/problems/last-api-key".into()));
    assert_eq!(h.send(Request::new("GET", "/v1/connections").key(&key)).await.status, 200, "still in");

    // Two keys revoked at once: one goes, one stays.
    let second = h.send(Request::new("POST", "/v1/api-keys").key(&key)).await.json();
    let (second_key, second_id) = (second["key"].as_str().unwrap().to_owned(), second["id"].as_str().unwrap().to_owned());
    let (a, b) = tokio::join!(
        h.send(Request::new("DELETE", format!("/v1/api-keys/{only}")).key(&key)),
        h.send(Request::new("DELETE", format!("/v1/api-keys/{second_id}")).key(&second_key)),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [204, 409]);
    let left = h.hub.partners.list_keys("upwage").await.unwrap();
    assert_eq!(left.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_over_their_limits_are_refused() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let create = |settings: Value| {
        Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/hireup/x", "settings": settings}))
    };
    let labels: serde_json::Map<String, Value> = (0..201).map(|i| (format!("stage-{i}"), json!("Label"))).collect();
    let cases = [
        (json!({"stage_labels": labels}), "settings.stage_labels"),
        (json!({"stage_labels": {"applicant-new": "x".repeat(201)}}), "settings.stage_labels.applicant-new"),
    ];
    for (settings, field) in cases {
        let a = h.send(create(settings)).await;
        assert_eq!(a.status, 422, "{field}");
        let fields: Vec<String> = a.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    // Within the limits is fine (HireUp lets customers map stages).
    assert_eq!(h.send(create(json!({"stage_labels": {"applicant-new": "Applied"}}))).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_keeps_the_partners_reference_and_refuses_a_bad_one() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let create = |reference: Value| {
        Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/hireup/x", "reference": reference}))
    };
    let created = h.send(create(json!("acme-42"))).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let read = h.send(Request::new("GET", format!("/v1/connections/{id}")).key(&key)).await;
    assert_eq!(read.json()["reference"], "acme-42");
    let unnamed = h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/hireup/x"}))).await;
    assert_eq!(unnamed.json()["reference"], Value::Null);
    for bad in [json!(""), json!("x".repeat(201)), json!("line\nbreak"), json!(42)] {
        let a = h.send(create(bad.clone())).await;
        assert_eq!(a.status, 422, "{bad}: {:?}", a.json());
        assert_eq!(a.json()["type"], "/problems/invalid-request", "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_tells_the_truth() {
    let h = LocalHub::start().await;
    let key = h.partner("outhire").await;
    let created =
        h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/outhire/x"}))).await.json();
    assert_eq!((created["status"].as_str(), created["health"].as_str()), (Some("pending"), Some("yellow")), "pending is not red");

    let id = h.connect(&key, "outhire").await;
    let get = || Request::new("GET", format!("/v1/connections/{id}")).key(&key);
    let c = h.send(get()).await.json();
    assert_eq!(c["missing_settings"], json!(["settings.perform_as"]));
    assert_eq!(c["health"], "yellow", "active but missing a required setting is not green");
    let user = h.send(Request::new("GET", format!("/v1/connections/{id}/lever/users")).key(&key)).await.json()["data"][0]["id"].clone();
    let patched = h.send(Request::new("PATCH", format!("/v1/connections/{id}")).key(&key).json(&json!({"settings": {"perform_as": user}}))).await;
    assert_eq!(patched.json()["health"], "green");

    // A refused refresh: the customer revoked the app in Lever.
    h.sandbox.admin().revoke_all();
    h.sandbox.admin().expire_access_tokens();
    h.clock.advance_ms(3_600_000);
    let refused = h.send(Request::new("GET", format!("/v1/connections/{id}/lever/users")).key(&key)).await;
    assert_eq!(refused.status, 409);
    let c = h.send(get()).await.json();
    assert_eq!((c["status"].as_str(), c["health"].as_str()), (Some("needs_reconnect"), Some("red")));
    assert!(c["flows"]["tokens"]["last_failure_at"].is_string(), "refused refresh recorded: {c}");
    assert!(c["flows"]["tokens"]["last_error"].as_str().unwrap().contains("refused"), "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_say_what_is_wrong_and_point_at_served_documents() {
    let h = LocalHub::start().await;
    let key = h.partner("outhire").await;
    let id = h.connect(&key, "outhire").await;
    let patch = |settings: Value| Request::new("PATCH", format!("/v1/connections/{id}")).key(&key).json(&json!({"settings": settings}));

    let deactivated = h.sandbox.admin().seed_ids().deactivated_user;
    let a = h.send(patch(json!({"perform_as": deactivated}))).await;
    assert_eq!(a.status, 422);
    assert!(a.json()["errors"][0]["message"].as_str().unwrap().contains("deactivated"), "{:?}", a.json());

    let unknown = h.send(patch(json!({"tagz": ["x"]}))).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.json()["errors"][0]["field"], "settings.tagz", "{:?}", unknown.json());
    let unknown_at_create = h
        .send(
            Request::new("POST", "/v1/connections")
                .key(&key)
                .json(&json!({"return_url": "https://partner.example/outhire/x", "settings": {"colour": 1}})),
        )
        .await;
    assert_eq!(unknown_at_create.json()["errors"][0]["field"], "settings.colour", "{:?}", unknown_at_create.json());

    // A 404 points at documents the hub serves, and every problem type resolves to a page.
    let missing = h.send(Request::new("GET", "/v1/nothing-here").key(&key)).await;
    assert_eq!(missing.status, 404);
    assert!(missing.json()["detail"].as_str().unwrap().contains("/docs"));
    for served in ["/docs", "/openapi.json", missing.json()["type"].as_str().unwrap()] {
        assert_eq!(h.send(Request::new("GET", served)).await.status, 200, "{served}");
    }
    for kind in shared::api::problem::ProblemType::ALL {
        let page = h.send(Request::new("GET", kind.uri())).await;
        assert_eq!(page.status, 200, "{kind:?}");
        assert!(String::from_utf8_lossy(&page.body).contains(kind.title()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_error_pages_link_back_to_the_partner_when_the_state_was_ours() {
    let h = LocalHub::start().await;
    let key = h.partner("outhire").await;
    let created =
        h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/outhire/done"}))).await.json();
    let (callback, cookie) = h.to_callback(created["authorize_url"].as_str().unwrap()).await;
    h.clock.advance_ms(11 * 60 * 1000);
    let page = h.send(Request::new("GET", callback).header("cookie", &cookie).header("accept", "text/html,application/xhtml+xml")).await;
    assert_eq!(page.status, 400);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("expired"), "{html}");
    let link = format!(
        "href=\"https://partner.example/outhire/done?connection_id={}&amp;status=pending&amp;error=state_expired\"",
        created["id"].as_str().unwrap()
    );
    assert!(html.contains(&link), "{html}");

    // A forged state has no trustworthy way back: no link.
    let forged = h.send(Request::new("GET", "/oauth/callback?code=x&state=AAAAAAAAAAAAAAAAAAAAAAAA.Zm9v").header("accept", "text/html")).await;
    assert_eq!(forged.status, 404);
    let forged_html = String::from_utf8_lossy(&forged.body).into_owned();
    assert!(!forged_html.contains("<a ") && !forged_html.contains("http"), "no link anywhere: {forged_html}");
    // Clients that do not ask for HTML get a problem document.
    let api = h.send(Request::new("GET", "/oauth/callback?code=x&state=AAAAAAAAAAAAAAAAAAAAAAAA.Zm9v")).await;
    assert_eq!((api.status, api.header("content-type")), (404, Some("application/problem+json")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_is_served_and_self_contained() {
    let h = LocalHub::start().await;
    let doc = h.send(Request::new("GET", "/openapi.json")).await.json();
    assert_eq!(&doc, contract().document());
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/connections/{id}/activity"]["get"].is_object());
    let page = h.send(Request::new("GET", "/docs")).await;
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("src=\"docs/assets/redoc-") && html.contains("openapi.json"), "Redoc draws the served document");
    for external in ["src=\"http", "href=\"http", "@import", "src=\"//", "href=\"//"] {
        assert!(!html.contains(external), "no external resource ({external})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_expire_after_a_day() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    for _ in 0..2 {
        h.send(Request::new("POST", "/v1/connections").key(&key).json(&json!({"return_url": "https://partner.example/hireup/x"}))).await;
    }
    let cursor = h.send(Request::new("GET", "/v1/connections?limit=1").key(&key)).await.json()["next_cursor"].as_str().unwrap().to_owned();
    h.clock.advance_ms(23 * 3_600_000);
    assert_eq!(h.send(Request::new("GET", format!("/v1/connections?limit=1&cursor={cursor}")).key(&key)).await.status, 200);
    h.clock.advance_ms(3_600_000);
    let expired = h.send(Request::new("GET", format!("/v1/connections?limit=1&cursor={cursor}")).key(&key)).await;
    assert_eq!((expired.status, problem_type(&expired)), (400, "/problems/invalid-cursor".into()));
    assert!(expired.json()["detail"].as_str().unwrap().contains("expired"));
}

/// The oracle itself: answers the document does not allow are refused, so a green run means
/// something.
#[test]
fn the_contract_refuses_what_the_document_does_not_allow() {
    use shared::contract::Observed;
    let check = |method: &str, path: &str, status: u16, content_type: &str, body: &str| {
        contract().check(&Observed { method, path, status, content_type: Some(content_type), headers: &[], body: body.as_bytes() })
    };
    let page = r#"{"data": [], "next_cursor": null}"#;
    assert!(check("GET", "/v1/connections?limit=5", 200, "application/json", page).is_ok());
    for (status, ct, body, why) in [
        (200, "application/json", r#"{"data": [{"id": 1}], "next_cursor": null}"#, "wrong item shape"),
        (200, "application/json", r#"{"data": [], "next_cursor": null, "extra": 1}"#, "undocumented field"),
        (200, "text/plain", page, "undocumented media type"),
        (418, "application/problem+json", r#"{"type": "/problems/x", "title": "t", "status": 418}"#, "undocumented status"),
        (401, "text/plain", "no", "a 401 that is not a problem"),
    ] {
        assert!(check("GET", "/v1/connections", status, ct, body).is_err(), "{why}");
    }
    // A hire item: the documented keys only, values of the documented types.
    let hire = r#"{"id": "o", "connection_id": "c", "fields": {"Email": null}, "missing": ["Email"],
        "lever": {"opportunity_id": "o", "contact_id": null, "posting_id": null, "offer_id": null, "offer_status": null, "hiring_manager_id": null, "archive_reason_id": null},
        "hired_at": null, "found_by": "daily", "found_at": "2026-01-01T00:00:00Z", "sends": 1, "last_sent_at": null}"#;
    let hires = |item: &str| format!(r#"{{"data": [{item}], "next_cursor": null}}"#);
    assert!(check("GET", "/v1/connections/c/hires", 200, "application/json", &hires(hire)).is_ok());
    let with_extra = hire.replacen("\"sends\": 1", "\"sends\": 1, \"send\": 1", 1);
    assert!(check("GET", "/v1/connections/c/hires", 200, "application/json", &hires(&with_extra)).is_err(), "an event-only key in a list item");
    let bad_trigger = hire.replacen("\"daily\"", "\"cron\"", 1);
    assert!(check("GET", "/v1/connections/c/hires", 200, "application/json", &hires(&bad_trigger)).is_err(), "an undocumented trigger");
    let drafted = hire.replacen("\"offer_id\": null, \"offer_status\": null", "\"offer_id\": \"of\", \"offer_status\": \"draft\"", 1);
    assert!(drafted.contains("draft"));
    assert!(check("GET", "/v1/connections/c/hires", 200, "application/json", &hires(&drafted)).is_err(), "a draft never gives the start date");
    let sent = drafted.replacen("\"draft\"", "\"sent-manually\"", 1);
    assert!(check("GET", "/v1/connections/c/hires", 200, "application/json", &hires(&sent)).is_ok(), "an offer sent without e-signature");
    let unauthorized = r#"{"type": "/problems/unauthorized", "title": "t", "status": 401}"#;
    assert!(check("GET", "/v1/connections", 401, "application/problem+json", unauthorized).is_err(), "WWW-Authenticate missing");
    assert!(check("PUT", "/v1/connections", 405, "text/plain", "").is_err(), "a 405 must be a problem");
    let not_found = r#"{"type": "/problems/not-found", "title": "t", "status": 404}"#;
    assert!(check("GET", "/v2/nothing", 404, "application/problem+json", not_found).is_ok());
    assert!(check("GET", "/v2/nothing", 200, "application/json", "{}").is_err(), "an undocumented route that answers");
}
