//! What published Lever clients need (issue 9, items 1-5): API-key auth over
//! HTTP Basic, booleans spelled any case, the routes they read, the fields the
//! recordings show, and seed data in the present.

mod common;

use common::ids;

use common::{Api, basic};
use lever_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

fn unlimited() -> SandboxConfig {
    SandboxConfig { rate_limit: None, ..SandboxConfig::default() }
}

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn api_keys_are_http_basic_and_reach_the_whole_account() {
    let cfg = SandboxConfig { api_keys: vec!["cli-key-1".into()], ..unlimited() };
    let (sb, api) = common::start(cfg).await;
    let admin = sb.admin();

    // The key from the command line, as Python's `requests` sends it: Basic base64("key:").
    let r = api.call_as(Some(&basic("cli-key-1")), "GET", "/v1/stages", None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // No scopes to check: every resource, reads and writes.
    let sa = admin.super_admin_id();
    let opp = admin.seed_ids().opportunities[0].clone();
    for path in ["/v1/users", "/v1/requisitions", "/v1/webhooks", "/v1/archive_reasons"] {
        assert_eq!(api.call_as(Some(&basic("cli-key-1")), "GET", path, None).await.status, 200, "{path}");
    }
    let note = api
        .call_as(Some(&basic("cli-key-1")), "POST", &format!("/v1/opportunities/{opp}/notes?perform_as={sa}"), Some(&json!({"value": "from a key"})))
        .await;
    assert_eq!(note.status, 201);
    let w = admin.writes();
    let last = w.last().unwrap();
    assert_eq!((last.auth.as_str(), last.perform_as.as_deref(), last.status), ("api_key", Some(sa.as_str()), 201));

    // Keys made over the admin API work too, and stop working when revoked.
    let key = admin.create_api_key(Some("ci"));
    assert_eq!(api.call_as(Some(&basic(&key)), "GET", "/v1/postings?limit=1", None).await.status, 200);
    // The password is ignored (Lever's is empty), the scheme name is case-insensitive.
    let with_pw = format!("basic {}", {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:ignored"))
    });
    assert_eq!(api.call_as(Some(&with_pw), "GET", "/v1/stages", None).await.status, 200);
    assert!(admin.revoke_api_key(&key));
    let gone = api.call_as(Some(&basic(&key)), "GET", "/v1/stages", None).await;
    assert_eq!(gone.status, 401);
    assert_eq!(gone.json()["code"], "Unauthorized");
    assert_eq!(api.call_as(Some(&basic("never-issued")), "GET", "/v1/stages", None).await.status, 401);
    assert_eq!(api.call_as(Some("Basic !!!not-base64"), "GET", "/v1/stages", None).await.status, 401);
    // Bearer OAuth is unchanged.
    assert_eq!(api.get("/v1/stages").await.status, 200);
    // Revoking OAuth grants leaves keys alone.
    admin.revoke_all();
    assert_eq!(api.call_as(Some(&basic("cli-key-1")), "GET", "/v1/stages", None).await.status, 200);
}

#[tokio::test]
async fn api_keys_are_rate_limited_per_key() {
    let (_sb, api) = common::start(SandboxConfig { api_keys: vec!["k".into()], ..SandboxConfig::default() }).await;
    let auth = basic("k");
    let results = futures::future::join_all((0..30).map(|_| api.call_as(Some(&auth), "GET", "/v1/stages", None))).await;
    assert!(results.iter().any(|r| r.status == 429), "a key has Lever's bucket too");
    assert!(results.iter().filter(|r| r.status == 200).count() >= 20);
}

#[tokio::test]
async fn booleans_are_accepted_in_any_case() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let active = api.get("/v1/users").await.json()["data"].as_array().unwrap().len();
    for spelling in ["True", "TRUE", "true"] {
        let r = api.get(&format!("/v1/users?includeDeactivated={spelling}")).await;
        assert_eq!(r.status, 200, "includeDeactivated={spelling}");
        assert_eq!(r.json()["data"].as_array().unwrap().len(), active + 1);
    }
    let archived = api.get("/v1/opportunities?archived=False").await;
    assert_eq!(archived.status, 200);
    assert!(archived.json()["data"].as_array().unwrap().iter().all(|o| o["archived"].is_null()));
    let posting = admin.seed_ids().postings[0].clone();
    let owner = admin.posting(&posting).unwrap()["owner"].as_str().unwrap().to_string();
    let sa = admin.super_admin_id();
    let r = api
        .call(
            "POST",
            &format!("/v1/opportunities?perform_as={sa}&perform_as_posting_owner=TRUE"),
            Some(&json!({"name": "Case Test", "postings": [posting]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert_eq!(r.json()["data"]["owner"], owner.as_str());
    let bad = api.get("/v1/users?includeDeactivated=yes").await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("includeDeactivated"));
}

#[tokio::test]
async fn routes_published_clients_read() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let seed = admin.seed_ids();
    let inv = admin.inventory();

    // Interviews, panels and feedback: seeded for candidates in interview stages; empty lists elsewhere.
    let with_interviews = inv["opportunities"].as_array().unwrap().iter().find(|o| o["interviews"].as_u64() > Some(0)).expect("seed has interviews");
    let opp = with_interviews["id"].as_str().unwrap();
    let list = api.get(&format!("/v1/opportunities/{opp}/interviews")).await;
    assert_eq!(list.status, 200);
    let i = &list.json()["data"][0];
    for key in ["id", "panel", "subject", "interviewers", "date", "duration", "stage", "createdAt", "postings"] {
        assert!(i.get(key).is_some(), "interview has {key}: {i}");
    }
    let iid = i["id"].as_str().unwrap();
    assert_eq!(api.get(&format!("/v1/opportunities/{opp}/interviews/{iid}")).await.json()["data"]["id"], iid);
    let panels = api.get(&format!("/v1/opportunities/{opp}/panels")).await.json();
    assert_eq!(panels["data"][0]["id"], i["panel"]);
    assert_eq!(panels["data"][0]["interviews"][0]["id"], iid);
    assert_eq!(panels["hasNext"], false);
    let fb = api.get(&format!("/v1/opportunities/{opp}/feedback")).await;
    assert_eq!(fb.status, 200);
    let quiet = inv["opportunities"].as_array().unwrap().iter().find(|o| o["interviews"] == 0 && o["feedback"] == 0).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for sub in ["interviews", "panels", "feedback", "referrals", "file_actions"] {
        let r = api.get(&format!("/v1/opportunities/{quiet}/{sub}")).await;
        assert_eq!((r.status, r.json()), (200, json!({"data": [], "hasNext": false})), "{sub}: empty, never 404");
    }
    assert_eq!(api.get("/v1/opportunities/00000000-0000-4000-8000-000000000000/interviews").await.status, 404, "unknown parent is 404");

    // Requisitions: one per posting with a requisition code, filterable, with created_at windows.
    let reqs = api.get("/v1/requisitions").await.json();
    assert_eq!(ids(&reqs).len(), seed.requisitions.len());
    assert!(!seed.requisitions.is_empty());
    let r0 = &reqs["data"][0];
    for key in ["requisitionCode", "name", "backfill", "headcountTotal", "headcountHired", "status", "postings", "offerIds", "createdAt", "owner"] {
        assert!(r0.get(key).is_some(), "requisition has {key}");
    }
    assert_eq!(api.get(&format!("/v1/requisitions/{}", r0["id"].as_str().unwrap())).await.json()["data"]["id"], r0["id"]);
    let created = r0["createdAt"].as_i64().unwrap();
    let windowed = api.get(&format!("/v1/requisitions?created_at_start={created}&created_at_end={created}")).await.json();
    assert!(ids(&windowed).contains(&r0["id"].as_str().unwrap().to_string()));
    assert!(ids(&windowed).len() < ids(&reqs).len());
    let open = api.get("/v1/requisitions?status=open").await.json();
    assert!(open["data"].as_array().unwrap().iter().all(|r| r["status"] == "open"));
    assert_eq!(api.get("/v1/requisitions?status=nope").await.status, 400);
    // Recorded: requisition_fields has no hasNext.
    let fields = api.get("/v1/requisition_fields").await.json();
    assert!(fields.get("hasNext").is_none());
    assert!(!fields["data"].as_array().unwrap().is_empty());

    // The deprecated candidates family answers like the opportunities it stands for.
    let candidates = api.get("/v1/candidates?limit=100").await.json();
    assert_eq!(ids(&candidates).len(), seed.opportunities.len());
    let c = &candidates["data"][0];
    assert!(c.get("resume").is_some_and(Value::is_null), "legacy resume key");
    let cid = c["id"].as_str().unwrap();
    let o = api.get(&format!("/v1/opportunities/{cid}")).await.json();
    assert_eq!(c["contact"], o["data"]["contact"], "a candidate id is an opportunity id");
    assert_eq!(api.get(&format!("/v1/candidates/{cid}")).await.json()["data"]["id"], cid);
    for sub in ["applications", "offers", "referrals", "resumes"] {
        let r = api.get(&format!("/v1/candidates/{cid}/{sub}")).await;
        assert_eq!(r.status, 200, "candidates/{sub}");
        assert_eq!(r.json()["hasNext"], false);
    }
    let now = lever_sandbox::state::now_ms();
    let recent = api.get(&format!("/v1/candidates?updated_at_start={}&updated_at_end={now}", now - 3 * DAY)).await.json();
    assert!(!ids(&recent).is_empty() && ids(&recent).len() < seed.opportunities.len(), "updated_at windows apply to candidates");
}

#[tokio::test]
async fn fields_the_recordings_show() {
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let opp = admin.seed_ids().opportunities[0].clone();
    let contact = admin.opportunity(&opp).unwrap().contact;
    let c = api.get(&format!("/v1/contacts/{contact}")).await.json();
    assert_eq!(c["data"]["isAnonymized"], false);
    assert!(c["data"].get("dataProtection").is_some_and(Value::is_null));
    let expanded = api.get(&format!("/v1/opportunities/{opp}?expand=contact")).await.json();
    assert_eq!(expanded["data"]["contact"]["isAnonymized"], false);
    // The recorded PUT answer has neither key.
    let put = api.call("PUT", &format!("/v1/contacts/{contact}"), Some(&json!({"headline": "New headline"}))).await.json();
    assert!(put["data"].get("isAnonymized").is_none());

    // EEO race options carry a description (all but "Decline to self-identify").
    let us = admin.posting_ids().into_iter().find(|p| admin.posting(p).unwrap()["country"] == "US").unwrap();
    let form = api.get(&format!("/v1/postings/{us}/apply")).await.json();
    let options = form["data"]["eeoQuestions"]["race"]["options"].as_array().unwrap().clone();
    assert!(options.len() >= 7);
    assert!(options.iter().filter(|o| o["text"] != "Decline to self-identify").all(|o| o["description"].as_str().is_some_and(|d| !d.is_empty())));
    assert!(form["data"]["eeoQuestions"]["gender"]["options"][0].get("description").is_none());
}

#[tokio::test]
async fn seeded_activity_sits_in_the_weeks_before_now() {
    let now = lever_sandbox::state::now_ms();
    let (sb, api) = common::start(unlimited()).await;
    let admin = sb.admin();
    let all = api.get("/v1/opportunities?limit=100").await.json();
    let opps = all["data"].as_array().unwrap();
    let ts = |o: &Value, k: &str| o[k].as_i64().unwrap();
    assert!(opps.iter().all(|o| ts(o, "createdAt") > now - 70 * DAY && ts(o, "updatedAt") <= now), "within the last ten weeks, none in the future");
    // A client's default "last few days" window sees updates, stage changes and hires.
    let window = format!("updated_at_start={}&updated_at_end={now}", now - 3 * DAY);
    let recent = api.get(&format!("/v1/opportunities?{window}")).await.json();
    assert!(recent["data"].as_array().unwrap().len() >= 5, "recent updates: {}", recent["data"].as_array().unwrap().len());
    let advanced = api.get(&format!("/v1/opportunities?advanced_at_start={}", now - 3 * DAY)).await.json();
    assert!(!advanced["data"].as_array().unwrap().is_empty(), "recent stage changes");
    let hired = admin.hired_reason_id();
    let hires = api.get(&format!("/v1/opportunities?archive_reason_id={hired}&archived_at_start={}", now - 7 * DAY)).await.json();
    assert!(!hires["data"].as_array().unwrap().is_empty(), "hires in the last week");
    let postings = api.get(&format!("/v1/postings?updated_at_start={}", now - 7 * DAY)).await.json();
    assert!(!postings["data"].as_array().unwrap().is_empty(), "postings edited in the last week");

    // --now anchors the spread: same seed and now, same data; another now shifts it.
    let fixed = 1_750_000_000_000;
    let a = Sandbox::start(SandboxConfig { now: Some(fixed), ..unlimited() }).await.unwrap();
    let b = Sandbox::start(SandboxConfig { now: Some(fixed + DAY), ..unlimited() }).await.unwrap();
    let id = a.admin().seed_ids().opportunities[3].clone();
    assert_eq!(id, b.admin().seed_ids().opportunities[3], "ids depend on the seed only");
    let (oa, ob) = (a.admin().opportunity(&id).unwrap(), b.admin().opportunity(&id).unwrap());
    assert_eq!(ob.created_at - oa.created_at, DAY);
    assert!(oa.updated_at <= fixed);
    let api_a = Api { base: a.base_url(), token: a.admin().access_token() };
    let seeded = api_a.get(&format!("/v1/opportunities?updated_at_start={}&updated_at_end={fixed}", fixed - 3 * DAY)).await.json();
    assert!(!seeded["data"].as_array().unwrap().is_empty());
}
