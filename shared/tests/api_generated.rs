//! The generated-input run of issue 8: requests generated from `docs/openapi.yaml` — every
//! documented operation and some undocumented ones, with real, foreign and garbage ids, good
//! and bad API keys, query strings in and out of range, bodies guided by the request schemas
//! and broken on purpose (trailing garbage, wrong top-level types, non-JSON, truncated, too
//! large) — thrown at the real router over the embedded store and the in-process Lever
//! sandbox. No answer may be a panic or a 5xx, every 4xx must be a problem document, and every
//! answer must be one the document allows (status, media type, schema).
//!
//! Deterministic by default (`HUB_GENERATED_SEED` changes the seed, `HUB_GENERATED_CASES` the
//! count); the counts are printed and recorded in the README.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use common::{Answer, LocalHub, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Map, Value, json};
use shared::contract::contract;

/// What the generator can put in a request, known once the hub is set up.
struct World {
    own_key: String,
    other_key: String,
    /// Ids that exist: the caller's active and pending connection, another partner's, a webhook.
    ids: Vec<String>,
    /// A real cursor of the caller's connection list.
    cursor: String,
    operations: Vec<(String, String, Value)>,
}

#[derive(Clone, Debug)]
enum Auth {
    Own,
    OwnLowercase,
    Other,
    Missing,
    Wrong,
    Basic,
}

#[derive(Clone, Debug)]
enum IdChoice {
    Real(usize),
    Text(String),
    Raw(&'static str),
}

#[derive(Clone, Debug)]
enum BodyChoice {
    /// Built from the operation's request schema with this seed.
    FromSchema(u64),
    /// From the schema, then broken.
    Broken(u64, Breakage),
    None,
    Raw(Vec<u8>),
    Huge,
}

#[derive(Clone, Copy, Debug)]
enum Breakage {
    TrailingGarbage,
    Truncated,
    WrongTopLevel,
    FieldOfWrongType,
    UnknownField,
}

#[derive(Clone, Debug)]
struct Generated {
    /// Index into the documented operations, or `None` for an undocumented method/path.
    operation: Option<usize>,
    undocumented: (String, String),
    id: IdChoice,
    auth: Auth,
    query: Vec<(String, String)>,
    duplicate_query: bool,
    body: BodyChoice,
    accept_html: bool,
    content_type: Option<&'static str>,
}

fn generated(operations: usize) -> impl Strategy<Value = Generated> {
    let operation = prop_oneof![9 => (0..operations).prop_map(Some), 1 => Just(None)];
    let undocumented = (
        prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]),
        prop_oneof![
            Just("/".to_owned()),
            Just("/v1".to_owned()),
            Just("/v2/connections".to_owned()),
            Just("/v1/connections/x/y/z".to_owned()),
            Just("/problems/".to_owned()),
            "/[a-z0-9%._~-]{0,30}",
            "/v1/[a-z-]{1,12}(/[a-zA-Z0-9%]{0,8}){0,3}",
        ],
    )
        .prop_map(|(m, p)| (m.to_owned(), p));
    let id = prop_oneof![
        4 => (0..4usize).prop_map(IdChoice::Real),
        3 => "[a-zA-Z0-9_.~-]{1,40}".prop_map(IdChoice::Text),
        2 => prop::sample::select(vec!["%FF", "%C3%28", "%00", "..%2F..", "%2Fetc%2Fpasswd", "%E2%82", "a%20b", "%F0%9F%98%80"]).prop_map(IdChoice::Raw),
        1 => "[a-z]{200,300}".prop_map(IdChoice::Text),
    ];
    let auth = prop_oneof![
        6 => Just(Auth::Own), 1 => Just(Auth::OwnLowercase), 2 => Just(Auth::Other), 1 => Just(Auth::Missing),
        1 => Just(Auth::Wrong), 1 => Just(Auth::Basic),
    ];
    let value = prop_oneof![
        "-?[0-9]{1,4}",
        Just("abc".to_owned()),
        Just(String::new()),
        Just("1e3".to_owned()),
        Just("dead".to_owned()),
        Just("delivered".to_owned()),
        Just("pending".to_owned()),
        Just("@cursor".to_owned()),
        Just("@forged".to_owned()),
        Just("@truncated".to_owned()),
        "[ -~]{0,20}",
    ];
    let name = prop_oneof![
        4 => Just("limit".to_owned()), 3 => Just("cursor".to_owned()), 2 => Just("status".to_owned()),
        1 => Just("state".to_owned()), 1 => Just("code".to_owned()), 1 => "[a-z_]{1,8}",
    ];
    let query = prop::collection::vec((name, value), 0..4);
    let body = prop_oneof![
        5 => any::<u64>().prop_map(BodyChoice::FromSchema),
        4 => (any::<u64>(), prop_oneof![
            Just(Breakage::TrailingGarbage), Just(Breakage::Truncated), Just(Breakage::WrongTopLevel),
            Just(Breakage::FieldOfWrongType), Just(Breakage::UnknownField),
        ]).prop_map(|(s, b)| BodyChoice::Broken(s, b)),
        2 => Just(BodyChoice::None),
        2 => prop::collection::vec(any::<u8>(), 0..64).prop_map(BodyChoice::Raw),
        1 => Just(BodyChoice::Raw(b"{}".to_vec())),
        1 => Just(BodyChoice::Raw(b"  ".to_vec())),
        // Rare: a body over the limit.
        1 => Just(BodyChoice::Huge),
    ];
    let content_type = prop_oneof![Just(Some("application/json")), Just(Some("text/plain")), Just(None)];
    (operation, undocumented, id, auth, query, any::<bool>(), body, prop::bool::weighted(0.2), content_type).prop_map(
        |(operation, undocumented, id, auth, query, duplicate_query, body, accept_html, content_type)| Generated {
            operation,
            undocumented,
            id,
            auth,
            query,
            duplicate_query,
            body,
            accept_html,
            content_type,
        },
    )
}

fn resolve<'v>(doc: &'v Value, mut v: &'v Value) -> &'v Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(t) => v = t,
            None => break,
        }
    }
    v
}

/// A JSON value shaped by `schema` (types, enums, properties, lengths), sometimes off the edge.
fn from_schema(doc: &Value, schema: &Value, rng: &mut rand::rngs::StdRng, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(o) = from_schema(doc, part, rng, depth) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        if !choices.is_empty() && rng.random_bool(0.9) {
            return choices[rng.random_range(0..choices.len())].clone();
        }
        return json!("not-in-the-enum");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec!["object"],
    };
    let ty = types.get(rng.random_range(0..types.len().max(1))).copied().unwrap_or("null");
    match ty {
        "null" => Value::Null,
        "boolean" => json!(rng.random_bool(0.5)),
        "integer" | "number" => json!(rng.random_range(-5i64..200)),
        "string" => {
            let samples = [
                "https://partner.example/outhire/done".to_owned(),
                "https://partner.example/hireup/x".to_owned(),
                "http://127.0.0.1:9/hook".to_owned(),
                "https://evil.example/".to_owned(),
                "00000000-0000-4000-8000-000000000000".to_owned(),
                "applicant-new".to_owned(),
                "job.created".to_owned(),
                "connection.status_changed".to_owned(),
                "Europe/Berlin".to_owned(),
                "{posting.team}".to_owned(),
                String::new(),
                "x".repeat(rng.random_range(1..300)),
                "ünïcødé ✓ 履歴書".to_owned(),
            ];
            json!(samples[rng.random_range(0..samples.len())])
        }
        "array" => {
            if depth > 3 {
                return json!([]);
            }
            let n = rng.random_range(0..4);
            Value::Array((0..n).map(|_| from_schema(doc, &schema["items"], rng, depth + 1)).collect())
        }
        _ => {
            if depth > 3 {
                return json!({});
            }
            let mut out = Map::new();
            let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                if required.contains(&name.as_str()) || rng.random_bool(0.5) {
                    out.insert(name.clone(), from_schema(doc, prop, rng, depth + 1));
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for i in 0..rng.random_range(0..3) {
                    let key = ["applicant-new", "lead-new", "passed", "00000000-0000-4000-8000-00000000000a", "k"][i % 5];
                    out.insert(key.to_owned(), from_schema(doc, extra, rng, depth + 1));
                }
            }
            Value::Object(out)
        }
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl World {
    fn request(&self, g: &Generated) -> Request {
        let doc = contract().document();
        let (method, template, op) = match g.operation {
            Some(i) => self.operations[i].clone(),
            None => (g.undocumented.0.clone(), g.undocumented.1.clone(), Value::Null),
        };
        let id = match &g.id {
            IdChoice::Real(i) => self.ids[*i % self.ids.len()].clone(),
            IdChoice::Text(t) => encode(t),
            IdChoice::Raw(r) => (*r).to_owned(),
        };
        let name = if template.starts_with("/problems/") { ["not-found", "invalid-cursor", "nope", "%FF"][id.len() % 4].to_owned() } else { id };
        let mut uri = template
            .replace("{id}", &name)
            .replace("{name}", &name)
            .replace("{state}", &name)
            .replace("{job_id}", &name)
            .replace("{candidate_id}", &name);
        let mut pairs: Vec<String> = g
            .query
            .iter()
            .map(|(k, v)| {
                let v = match v.as_str() {
                    "@cursor" => self.cursor.clone(),
                    "@forged" => "eyJrZXkiOnsicGsiOiJQQVJUTkVSI2hpcmV1cCIsInNrIjoiQ09OTiMifX0".to_owned(),
                    "@truncated" => self.cursor[..self.cursor.len() / 2].to_owned(),
                    other => other.to_owned(),
                };
                format!("{}={}", encode(k), encode(&v))
            })
            .collect();
        if g.duplicate_query && !pairs.is_empty() {
            pairs.push(pairs[0].clone());
        }
        if !pairs.is_empty() {
            uri = format!("{uri}?{}", pairs.join("&"));
        }
        let mut req = Request::new(&method, uri);
        req = match g.auth {
            Auth::Own => req.key(&self.own_key),
            Auth::OwnLowercase => req.header("authorization", &format!("bearer {}", self.own_key)),
            Auth::Other => req.key(&self.other_key),
            Auth::Missing => req,
            Auth::Wrong => req.key("lhk_000000000000_wrong"),
            Auth::Basic => req.header("authorization", "Basic dXNlcjpwdw=="),
        };
        if g.accept_html {
            req = req.header("accept", "text/html");
        }
        if let Some(ct) = g.content_type {
            req = req.header("content-type", ct);
        }
        let schema = op.pointer("/requestBody/content/application~1json/schema");
        let body = match (&g.body, schema) {
            (BodyChoice::FromSchema(seed), Some(schema)) => {
                from_schema(doc, schema, &mut rand::rngs::StdRng::seed_from_u64(*seed), 0).to_string().into_bytes()
            }
            (BodyChoice::Broken(seed, how), Some(schema)) => {
                let mut rng = rand::rngs::StdRng::seed_from_u64(*seed);
                let mut value = from_schema(doc, schema, &mut rng, 0);
                match how {
                    Breakage::TrailingGarbage => format!("{value} }}garbage").into_bytes(),
                    Breakage::Truncated => {
                        let text = value.to_string();
                        text.as_bytes()[..text.len() / 2].to_vec()
                    }
                    Breakage::WrongTopLevel => json!([value]).to_string().into_bytes(),
                    Breakage::FieldOfWrongType => {
                        if let Some(o) = value.as_object_mut() {
                            for v in o.values_mut() {
                                *v = json!({"nested": [1, 2, 3]});
                            }
                        }
                        value.to_string().into_bytes()
                    }
                    Breakage::UnknownField => {
                        if let Some(o) = value.as_object_mut() {
                            o.insert("surprise".into(), json!(true));
                        }
                        value.to_string().into_bytes()
                    }
                }
            }
            (BodyChoice::FromSchema(_) | BodyChoice::Broken(..), None) | (BodyChoice::None, _) => vec![],
            (BodyChoice::Raw(bytes), _) => bytes.clone(),
            (BodyChoice::Huge, _) => format!("{{\"label\": \"{}\"}}", "x".repeat(200 * 1024)).into_bytes(),
        };
        req.raw(body)
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    by_status: BTreeMap<u16, usize>,
    operations_hit: std::collections::BTreeSet<String>,
    panics: usize,
    server_errors: usize,
    non_problem_4xx: usize,
    outside_schema: usize,
    examples: Vec<String>,
}

fn is_problem(a: &Answer) -> bool {
    a.header("content-type").is_some_and(|c| c.starts_with("application/problem+json"))
        && a.json().get("type").and_then(Value::as_str).is_some_and(|t| t.starts_with("/problems/"))
}

#[test]
fn generated_requests_get_documented_answers() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (hub, world) = rt.block_on(async {
        let h = LocalHub::start().await;
        let own_key = h.partner("outhire").await;
        let other_key = h.partner("hireup").await;
        let hook = h.send(Request::new("POST", "/v1/webhooks").key(&own_key).json(&json!({"url": "http://127.0.0.1:9/hook"}))).await;
        let active = h.connect(&own_key, "outhire").await;
        let pending = h
            .send(Request::new("POST", "/v1/connections").key(&own_key).json(&json!({"return_url": "https://partner.example/outhire/x"})))
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let foreign = h.connect(&other_key, "hireup").await;
        let cursor = h.send(Request::new("GET", "/v1/connections?limit=1").key(&own_key)).await.json()["next_cursor"].as_str().unwrap().to_owned();
        let operations = contract().operations().map(|(op, v)| (op.method.to_uppercase(), op.path.clone(), v.clone())).collect();
        let ids = vec![active, pending, foreign, hook.json()["id"].as_str().unwrap().to_owned()];
        (h, World { own_key, other_key, ids, cursor, operations })
    });

    let cases: u32 = std::env::var("HUB_GENERATED_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let seed: u64 = std::env::var("HUB_GENERATED_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let tally = Mutex::new(Tally::default());
    let started = std::time::Instant::now();

    let strategy = generated(world.operations.len());
    let outcome = runner.run(&strategy, |g| {
        let req = world.request(&g);
        let (method, uri) = (req.method.clone(), req.uri.clone());
        let answer = rt.block_on(hub.try_send(req));
        let mut t = tally.lock().unwrap();
        t.cases += 1;
        if let Some(i) = g.operation {
            t.operations_hit.insert(format!("{} {}", world.operations[i].0, world.operations[i].1));
        }
        let note = |t: &mut Tally, what: String| {
            if t.examples.len() < 15 {
                t.examples.push(what);
            }
        };
        match answer {
            Err(e) => {
                t.panics += 1;
                note(&mut t, format!("{method} {uri}: {e}"));
            }
            Ok(a) => {
                *t.by_status.entry(a.status).or_default() += 1;
                if a.status >= 500 {
                    t.server_errors += 1;
                    note(&mut t, format!("{method} {uri} → {} {}", a.status, String::from_utf8_lossy(&a.body)));
                }
                let html_page = a.header("content-type").is_some_and(|c| c.starts_with("text/html")) && g.accept_html;
                if (400..500).contains(&a.status) && !is_problem(&a) && !html_page {
                    t.non_problem_4xx += 1;
                    note(&mut t, format!("{method} {uri} → {} {:?}", a.status, a.header("content-type")));
                }
                if let Err(v) = common::check(&method, &uri, &a) {
                    t.outside_schema += 1;
                    note(&mut t, v);
                }
            }
        }
        Ok(())
    });
    outcome.unwrap();
    let t = tally.into_inner().unwrap();
    let class = |lo: u16, hi: u16| t.by_status.iter().filter(|(s, _)| (lo..hi).contains(*s)).map(|(_, n)| n).sum::<usize>();
    println!(
        "generated-input run (seed {seed}): {} cases in {:.1} s over {} of {} documented operations and undocumented routes; \
         2xx {}, 3xx {}, 4xx {}, 5xx {}; by status {:?}; panics {}, 5xx {}, non-problem 4xx {}, outside the documented schema {}",
        t.cases,
        started.elapsed().as_secs_f64(),
        t.operations_hit.len(),
        world.operations.len(),
        class(200, 300),
        class(300, 400),
        class(400, 500),
        class(500, 600),
        t.by_status,
        t.panics,
        t.server_errors,
        t.non_problem_4xx,
        t.outside_schema,
    );
    assert!(t.examples.is_empty(), "violations (first {}):\n{}", t.examples.len(), t.examples.join("\n"));
    assert!(t.cases >= 1_000 || cases < 1_000, "a run of at least 1,000 cases");
    assert_eq!((t.panics, t.server_errors, t.non_problem_4xx, t.outside_schema), (0, 0, 0, 0));
    assert_eq!(t.operations_hit.len(), world.operations.len(), "every documented operation was generated");
    assert!(class(200, 300) > 50, "enough requests get through to exercise the routes: {:?}", t.by_status);
}
