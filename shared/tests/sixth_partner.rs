//! A sixth partner from a profile file alone: a questionnaire vendor whose candidates carry
//! data no other partner sends (their answers, a score, how they heard of the job). The file
//! declares those fields; the public API takes them in `custom`, checks them against the
//! declaration, and the answers land in a Lever note. No Rust names the partner.

mod common;

use std::path::Path;

use common::{LocalHub, Request, Tuning};
use lever_sandbox::SandboxConfig;
use serde_json::{Value, json};
use shared::core::catalog::ProfileCatalog;

async fn hub() -> LocalHub {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profiles/questionnaire");
    let catalog = ProfileCatalog::from_dir(dir).unwrap_or_else(|e| panic!("{e}"));
    let tuning = Tuning { catalog: Some(catalog), ..Tuning::default() };
    LocalHub::start_tuned(SandboxConfig { rate_limit: None, ..SandboxConfig::default() }, tuning).await
}

fn application(email: &str, posting: &str, custom: Value) -> Value {
    json!({
        "kind": "application",
        "candidate": {"name": "Ada Lovelace", "emails": [email]},
        "postings": [posting],
        "custom": custom,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_questionnaire_partner_from_a_file_alone() {
    let h = hub().await;
    let key = h.partner("quizhire").await;
    let id = h.connect(&key, "quizhire").await;
    // The partner reads what its file declares from the hub.
    let profile = h.send(Request::new("GET", "/v1/profile").key(&key)).await.json();
    assert_eq!(profile["id"], "quizhire");
    let declared = &profile["candidates"]["custom"];
    assert_eq!(declared["answers"]["type"], "answers");
    assert_eq!(declared["answers"]["required"], true);
    assert_eq!(declared["answers"]["max_items"], 30);
    assert_eq!((declared["score"]["min"].as_f64(), declared["score"]["max"].as_f64()), (Some(0.0), Some(100.0)));
    assert_eq!(declared["heard_from"]["max_chars"], 100);

    let posting = h.sandbox.admin().create_posting(json!({"text": "Analyst", "state": "published"})).unwrap();
    let post = |idem: &str, body: Value| {
        Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", idem).json(&body)
    };

    let custom = json!({
        "answers": [
            {"question": "Why this role?", "answer": "I like hard problems."},
            {"question": "Notice period?", "answer": " Two weeks "},
        ],
        "score": 87,
        "heard_from": "a friend",
    });
    let created = h.send(post("q-1", application("ada@quiz.example", &posting, custom))).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let opportunity = created.json()["lever"]["opportunity_id"].as_str().unwrap().to_owned();
    let o = h.sandbox.admin().opportunity(&opportunity).unwrap();
    assert_eq!(o.sources, vec!["QuizHire"]);
    // (Lever adds the posting's own tags beside the partner's.)
    assert!(o.tags.starts_with(&["QuizHire".to_owned(), "Heard from: a friend".to_owned()]), "{:?}", o.tags);
    assert_eq!(o.notes.len(), 1, "one note");
    assert_eq!(o.notes[0].values[0], "QuizHire questionnaire, score 87:\n\nWhy this role?\nI like hard problems.\n\nNotice period?\nTwo weeks");

    // Checked against the declaration, every problem named by its field.
    let wrong = json!({"answers": [{"question": "Why?"}], "score": 101, "heard_from": 3, "shoe_size": 44});
    let refused = h.send(post("q-2", application("bob@quiz.example", &posting, wrong))).await;
    assert_eq!(refused.status, 422, "{:?}", refused.json());
    let fields: Vec<String> = refused.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["custom.shoe_size", "custom.answers[0]", "custom.heard_from", "custom.score"]);
    let missing = h.send(post("q-3", application("cy@quiz.example", &posting, json!({"heard_from": "radio"})))).await;
    assert_eq!(missing.status, 422, "{:?}", missing.json());
    let fields: Vec<String> = missing.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["custom.answers", "custom.score"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_without_custom_fields_refuse_them() {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let body = json!({"kind": "referral", "candidate": {"name": "Ada", "emails": ["ada@x.example"]},
                      "postings": ["3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e"], "referrer": {"name": "G"}, "custom": {"x": 1}});
    let answer = h.send(Request::new("POST", format!("/v1/connections/{id}/candidates")).key(&key).header("idempotency-key", "c").json(&body)).await;
    assert_eq!(answer.status, 422, "{:?}", answer.json());
    assert_eq!(answer.json()["errors"][0]["field"], "custom.x");
}
