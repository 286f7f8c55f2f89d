//! The seed has what a real account has besides candidacies: notes and referral forms on some
//! candidates, and a location on almost every opportunity (Lever's recordings: 971 of 1,004),
//! read over the Data API as any Lever client reads them.

mod common;

use lever_sandbox::SandboxConfig;
use serde_json::Value;

fn unlimited(seed: u64) -> SandboxConfig {
    SandboxConfig { rate_limit: None, seed, ..SandboxConfig::default() }
}

/// Every item of a paginated list, walking `next`.
async fn all(api: &common::Api, path: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut url = format!("{path}?limit=2");
    loop {
        let r = api.get(&url).await;
        assert_eq!(r.status, 200, "{url}");
        let b = r.json();
        out.extend(b["data"].as_array().unwrap().iter().cloned());
        match b["next"].as_str() {
            Some(next) if b["hasNext"] == true => url = format!("{path}?limit=2&offset={next}"),
            _ => return out,
        }
    }
}

#[tokio::test]
async fn some_seeded_candidates_have_notes_and_referral_forms() {
    let (sb, api) = common::start(unlimited(7)).await;
    let ids = sb.admin().seed_ids();
    let users: Vec<String> = ids.users.clone();
    let (mut with_notes, mut notes, mut with_referrals) = (0, 0, 0);
    for (i, opp) in ids.opportunities.iter().enumerate() {
        let listed_notes = all(&api, &format!("/v1/opportunities/{opp}/notes")).await;
        let referrals = all(&api, &format!("/v1/opportunities/{opp}/referrals")).await;
        let by_candidate = all(&api, &format!("/v1/candidates/{opp}/referrals")).await;
        assert_eq!(referrals, by_candidate, "the legacy candidates route lists the same forms");
        if i < 8 {
            assert!(listed_notes.is_empty() && referrals.is_empty(), "the first candidates, which tests write to, have none");
        }
        let o = api.get(&format!("/v1/opportunities/{opp}")).await.json()["data"].clone();
        let (created, updated) = (o["createdAt"].as_i64().unwrap(), o["updatedAt"].as_i64().unwrap());
        for n in &listed_notes {
            let at = n["createdAt"].as_i64().unwrap();
            assert!(created <= at && at <= updated, "a note falls within the candidate's history: {n}");
            assert_eq!((n["text"].as_str(), n["secret"].as_bool()), (Some("Note"), Some(false)));
            assert!(n["fields"][0]["value"].as_str().is_some_and(|v| !v.is_empty()), "{n}");
            let one = api.get(&format!("/v1/opportunities/{opp}/notes/{}", n["id"].as_str().unwrap())).await;
            assert_eq!(one.json()["data"], *n, "a listed note reads the same alone");
        }
        for r in &referrals {
            assert_eq!(o["origin"], "referred", "referral forms belong to referred candidates");
            let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
            for key in ["id", "type", "text", "instructions", "fields", "baseTemplateId", "user", "referrer", "stage", "createdAt", "completedAt"] {
                assert!(keys.contains(&key), "{key} in {r}");
            }
            assert_eq!(r["type"], "referral");
            assert!(users.iter().any(|u| r["referrer"] == *u.as_str()), "the referrer is a user: {r}");
            for f in r["fields"].as_array().unwrap() {
                assert!(f["value"].is_string() && f["text"].is_string() && f["required"].is_boolean(), "Lever's answers are strings: {f}");
            }
            assert!(r["fields"].as_array().unwrap().iter().any(|f| f["options"].as_array().is_some_and(|o| o.iter().all(|o| o["text"].is_string()))));
        }
        with_notes += usize::from(!listed_notes.is_empty());
        notes += listed_notes.len();
        with_referrals += usize::from(!referrals.is_empty());
    }
    assert!(with_notes >= 5 && notes > with_notes, "several candidates with notes, some with more than one: {with_notes}, {notes}");
    assert!(with_referrals >= 3, "{with_referrals} referred candidates with a form");
    assert!(with_notes < ids.opportunities.len() && with_referrals < ids.opportunities.len(), "some, not all");

    // A client counting what it synced finds the same numbers in the inventory.
    let inv = sb.admin().inventory();
    let sum = |key: &str| inv["opportunities"].as_array().unwrap().iter().map(|o| o[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("notes"), sum("referrals")), (notes as u64, with_referrals as u64));
}

#[tokio::test]
async fn almost_every_seeded_opportunity_has_a_location_as_in_lever() {
    let (sb, api) = common::start(SandboxConfig { opportunities: 120, ..unlimited(7) }).await;
    let listed = all(&api, "/v1/opportunities").await;
    assert_eq!(listed.len(), 120);
    let located = listed.iter().filter(|o| o["opportunityLocation"].as_str().is_some_and(|l| !l.is_empty())).count();
    // Lever's recordings: 971 of 1,004 (96.7%).
    assert!((110..120).contains(&located), "{located} of 120 have a location");
    let without_posting = listed.iter().filter(|o| o["applications"].as_array().unwrap().is_empty()).collect::<Vec<_>>();
    assert!(without_posting.iter().any(|o| o["opportunityLocation"].is_string()), "candidates who applied to no posting have one too");
    // Writes never carry it (recordings), whatever the opportunity has.
    let opp = sb.admin().seed_ids().opportunities[9].clone();
    let moved = api.call("PUT", &format!("/v1/opportunities/{opp}/stage"), Some(&serde_json::json!({"stage": "offer"}))).await;
    assert_eq!(moved.status, 200);
    assert!(moved.json()["data"].get("opportunityLocation").is_none());
}

#[tokio::test]
async fn notes_and_referrals_depend_on_the_seed_only() {
    // Times are spread back from "now": one fixed now for both.
    let at = |seed| SandboxConfig { now: Some(1_790_000_000_000), ..unlimited(seed) };
    let (a, api_a) = common::start(at(7)).await;
    let (_b, api_b) = common::start(at(7)).await;
    let (_c, api_c) = common::start(at(8)).await;
    let ids = a.admin().seed_ids();
    let of = |api: &common::Api, opp: String| {
        let api = api.clone();
        async move { (all(&api, &format!("/v1/opportunities/{opp}/notes")).await, all(&api, &format!("/v1/opportunities/{opp}/referrals")).await) }
    };
    let mut same = 0;
    for opp in &ids.opportunities {
        let (x, y) = (of(&api_a, opp.clone()).await, of(&api_b, opp.clone()).await);
        assert_eq!(x, y, "same seed, same notes and forms (ids included)");
        same += x.0.len() + x.1.len();
    }
    assert!(same > 0);
    let other = api_c.get("/v1/opportunities?limit=100").await.json();
    assert!(
        other["data"].as_array().unwrap().iter().all(|o| !ids.opportunities.contains(&o["id"].as_str().unwrap().to_string())),
        "another seed, other ids"
    );
}
