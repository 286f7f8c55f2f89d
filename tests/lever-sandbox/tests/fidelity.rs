//! Fidelity: replays every recorded Lever exchange against the sandbox and
//! checks the status and the response shape (keys and JSON types, recursively).
//!
//! Recorded ids mean nothing to the sandbox, so each recorded id is mapped to a
//! sandbox id of the same kind. When a recorded id is first seen, candidates of
//! that kind are probed (side-effect-free GETs) and the first one whose response
//! has the recorded shape is chosen; ids in list pages are mapped by position;
//! notes and webhooks that must pre-exist are created through the API.
//! Offsets are never replayed: the sandbox's own `next` from the previous page is used,
//! and each file gets a fresh sandbox seeded with as many opportunities as its
//! recorded list pages held, so `hasNext`/`next` must line up page by page.
//!
//! Shapes are compared per endpoint: the schema is merged from every recorded
//! response of that endpoint (all files), so list elements may take any of the
//! shapes Lever returned (e.g. `sourcedBy` string or null), but nothing else.
//!
//! Allowed differences (documented in the README):
//! - posting keys `salaryRange`, `salaryDescription`, `salaryDescriptionHtml` may be
//!   present or absent (documented, optional; recordings show `salaryRange` on one posting only);
//! - `eeoQuestions` on apply forms may be absent (recordings show both);
//! - `distributionChannels` may be an array where recordings only show `null`
//!   (recordings have no published postings; the docs give the array form).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use common::Api;
use lever_sandbox::client::ClientResponse;
use lever_sandbox::{Admin, Sandbox, SandboxConfig};
use serde_json::{Value, json};

const OPTIONAL_KEYS: &[&str] = &["salaryRange", "salaryDescription", "salaryDescriptionHtml", "eeoQuestions"];
const NULLABLE_KEYS: &[&str] = &["distributionChannels"];

// ---------------------------------------------------------------- shapes

#[derive(Default, Debug)]
struct Schema {
    kinds: BTreeSet<&'static str>,
    /// For objects: key -> (schema, number of objects that had the key).
    keys: BTreeMap<String, (Schema, usize)>,
    objects: usize,
    /// For arrays: merged schema of all elements (None = never saw an element).
    elem: Option<Box<Schema>>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Schema {
    fn add(&mut self, v: &Value) {
        self.kinds.insert(kind(v));
        match v {
            Value::Object(m) => {
                self.objects += 1;
                for (k, x) in m {
                    let e = self.keys.entry(k.clone()).or_default();
                    e.0.add(x);
                    e.1 += 1;
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.elem.get_or_insert_with(Default::default).add(x);
                }
            }
            _ => {}
        }
    }
    fn of(v: &Value) -> Schema {
        let mut s = Schema::default();
        s.add(v);
        s
    }
}

/// Collects every mismatch between `actual` and the recorded `schema`.
fn check(actual: &Value, schema: &Schema, path: &str, loose_nulls: bool, errs: &mut Vec<String>) {
    let k = kind(actual);
    let key = path.rsplit('.').next().unwrap_or("");
    let null_ok = NULLABLE_KEYS.contains(&key) || loose_nulls;
    if !schema.kinds.contains(k) && !(null_ok && (k == "null" || schema.kinds.contains("null"))) {
        errs.push(format!("{path}: sandbox {k}, recorded {:?}", schema.kinds));
        return;
    }
    match actual {
        Value::Object(m) if schema.objects > 0 => {
            for (ak, av) in m {
                match schema.keys.get(ak) {
                    Some((s, _)) => check(av, s, &format!("{path}.{ak}"), loose_nulls, errs),
                    None if OPTIONAL_KEYS.contains(&ak.as_str()) => {}
                    None => errs.push(format!("{path}.{ak}: extra key in sandbox response")),
                }
            }
            for (rk, (_, count)) in &schema.keys {
                if *count == schema.objects && !m.contains_key(rk) && !OPTIONAL_KEYS.contains(&rk.as_str()) {
                    errs.push(format!("{path}.{rk}: missing in sandbox response"));
                }
            }
        }
        Value::Array(a) => {
            if let Some(e) = &schema.elem {
                for (i, x) in a.iter().enumerate() {
                    check(x, e, &format!("{path}[{i}]"), loose_nulls, errs);
                }
            }
        }
        _ => {}
    }
}

fn shape_errors(recorded: &Value, actual: &Value, loose_nulls: bool) -> Vec<String> {
    shape_errors_in(&Schema::of(recorded), recorded, actual, loose_nulls)
}

/// Checks `actual` against `schema` (the endpoint's shape over every recorded
/// response), plus the per-exchange rule that a non-empty recorded list stays non-empty.
fn shape_errors_in(schema: &Schema, recorded: &Value, actual: &Value, loose_nulls: bool) -> Vec<String> {
    let mut errs = vec![];
    check(actual, schema, "$", loose_nulls, &mut errs);
    // Pagination must line up: the sandbox is seeded with as many items as the
    // recorded pages held, so a last page is a last page (no `next`) in both.
    if let Some(h) = recorded.get("hasNext") {
        if actual.get("hasNext") != Some(h) {
            errs.push(format!("$.hasNext: sandbox {:?}, recorded {h}", actual.get("hasNext")));
        }
        if recorded.get("next").is_none() != actual.get("next").is_none() {
            errs.push("$.next: present in one of sandbox/recording only".into());
        }
    }
    // A recorded non-empty list must not come back empty: that would test nothing.
    if let (Some(r), Some(a)) = (recorded.get("data").and_then(Value::as_array), actual.get("data").and_then(Value::as_array))
        && !r.is_empty()
        && a.is_empty()
    {
        errs.push("$.data: recorded a non-empty list, sandbox returned none".into());
    }
    errs
}

// ---------------------------------------------------------------- replay

fn recordings_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/lever-recordings");
    assert!(dir.is_dir(), "recordings folder missing: {} (the repo checkout must sit next to shared/)", dir.display());
    dir
}

/// `GET /v1/opportunities/{id}/notes/{id}`: the endpoint an exchange belongs to.
fn endpoint(method: &str, path: &str) -> String {
    let t: Vec<&str> = path.split('/').map(|s| if is_id(s) { "{id}" } else { s }).collect();
    format!("{method} {}", t.join("/"))
}

/// One schema per endpoint, merged over every successful recorded response of
/// it in every file: list elements are compared with all the shapes Lever returned.
fn endpoint_schemas(files: &[PathBuf]) -> HashMap<String, Schema> {
    let mut m: HashMap<String, Schema> = HashMap::new();
    for f in files {
        let rec: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for e in rec["exchanges"].as_array().unwrap() {
            let key = format!("{} {}", endpoint(e["method"].as_str().unwrap(), e["path"].as_str().unwrap()), e["status"]);
            m.entry(key).or_default().add(&e["response_body"]);
        }
    }
    m
}

fn is_id(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

struct Replay {
    schemas: std::sync::Arc<HashMap<String, Schema>>,
    api: Api,
    admin: Admin,
    ids: HashMap<String, String>,
    /// Sandbox `next` of the last page served per path.
    next: HashMap<String, String>,
    /// How recorded ids got their sandbox stand-ins (printed at the end).
    stats: BTreeMap<&'static str, usize>,
}

impl Replay {
    fn note(&mut self, how: &'static str) {
        *self.stats.entry(how).or_default() += 1;
    }
}

impl Replay {
    fn query_string(&self, path: &str, q: &serde_json::Map<String, Value>) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let mut offset = None;
        for (k, v) in q {
            let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            match k.as_str() {
                // Opaque token: use the sandbox's own, appended verbatim as Lever clients do.
                "offset" => offset = Some(self.next.get(path).cloned().unwrap_or(v)),
                "perform_as" => {
                    ser.append_pair(k, self.ids.get(&v).map(String::as_str).unwrap_or(&self.admin.super_admin_id()));
                }
                _ => {
                    ser.append_pair(k, &v);
                }
            }
        }
        let mut s = ser.finish();
        if let Some(o) = offset {
            if !s.is_empty() {
                s.push('&');
            }
            s.push_str("offset=");
            s.push_str(&o);
        }
        if s.is_empty() { s } else { format!("?{s}") }
    }

    fn map_path(&self, path: &str) -> String {
        path.split('/').map(|seg| self.ids.get(seg).cloned().unwrap_or_else(|| seg.to_string())).collect::<Vec<_>>().join("/")
    }

    /// Unknown ids in `path`, each with the collection segment before it.
    fn unknown(&self, path: &str) -> Vec<(String, String)> {
        let segs: Vec<&str> = path.split('/').collect();
        (1..segs.len())
            .filter(|&i| is_id(segs[i]) && !self.ids.contains_key(segs[i]))
            .map(|i| (segs[i - 1].to_string(), segs[i].to_string()))
            .collect()
    }

    async fn users(&self) -> Vec<String> {
        let r = self.api.get("/v1/users?includeDeactivated=true").await;
        r.json()["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
    }

    /// Candidate sandbox ids for one recorded id of collection `coll` (nested under `parent`).
    async fn candidates(&self, coll: &str, parent: Option<&str>) -> Vec<String> {
        match coll {
            "postings" => self.admin.posting_ids(),
            "opportunities" => self.admin.opportunity_ids(),
            "users" => self.users().await,
            "contacts" => {
                let mut c: Vec<String> = self.admin.opportunity_ids().iter().filter_map(|o| self.admin.opportunity(o)).map(|o| o.contact).collect();
                c.dedup();
                c
            }
            "applications" => parent.and_then(|p| self.admin.opportunity(p)).map(|o| o.applications).unwrap_or_default(),
            "notes" => {
                let p = parent.expect("notes are nested under an opportunity");
                let sa = self.admin.super_admin_id();
                let r = self.api.call("POST", &format!("/v1/opportunities/{p}/notes?perform_as={sa}"), Some(&json!({"value": "fixture note"}))).await;
                assert_eq!(r.status, 201, "creating a fixture note: {:?}", r.json());
                vec![r.json()["data"]["id"].as_str().unwrap().to_string()]
            }
            other => panic!("no candidate source for recorded ids under /{other}/"),
        }
    }

    /// Does the mapped request (a GET) answer with the recorded status and shape?
    async fn probe_matches(&self, e: &Value, loose: bool) -> bool {
        let path = e["path"].as_str().unwrap();
        let url = format!("{}{}", self.map_path(path), self.query_string(path, e["query"].as_object().unwrap()));
        let r = self.api.get(&url).await;
        r.status == e["status"].as_u64().unwrap() as u16 && self.errors(e, &r.json(), loose).is_empty()
    }

    fn errors(&self, e: &Value, actual: &Value, loose: bool) -> Vec<String> {
        let key = format!("{} {}", endpoint(e["method"].as_str().unwrap(), e["path"].as_str().unwrap()), e["status"]);
        shape_errors_in(&self.schemas[&key], &e["response_body"], actual, loose)
    }

    /// Picks sandbox ids for the unknown ids of one request.
    async fn resolve(&mut self, e: &Value) {
        let path = e["path"].as_str().unwrap();
        let unknown = self.unknown(path);
        if unknown.is_empty() {
            return;
        }
        if e["method"] == "GET" {
            // Reads are side-effect free: try assignments until one answers like the recording.
            assert!(unknown.len() <= 2, "deeper nesting than the recordings use: {path}");
            for loose in [false, true] {
                let (coll, rec) = &unknown[0];
                let parent = self.parent_of(path, rec);
                for c in self.candidates(coll, parent.as_deref()).await {
                    self.ids.insert(rec.clone(), c.clone());
                    if let Some((coll2, rec2)) = unknown.get(1) {
                        for c2 in self.candidates(coll2, Some(&c)).await {
                            self.ids.insert(rec2.clone(), c2);
                            if self.probe_matches(e, loose).await {
                                self.note(if loose { "probe (nulls relaxed)" } else { "probe" });
                                return;
                            }
                        }
                        self.ids.remove(rec2);
                    } else if self.probe_matches(e, loose).await {
                        self.note(if loose { "probe (nulls relaxed)" } else { "probe" });
                        return;
                    }
                }
            }
            // Nothing matched: keep a first choice so the replay reports the difference.
            self.note("no shape match (first candidate)");
            for (coll, rec) in &unknown {
                let parent = self.parent_of(path, rec);
                let c = self.candidates(coll, parent.as_deref()).await;
                assert!(!c.is_empty(), "no sandbox {coll} to stand in for {rec}");
                self.ids.insert(rec.clone(), c[0].clone());
            }
            return;
        }
        for (coll, rec) in unknown {
            let parent = self.parent_of(path, &rec);
            let cands = self.candidates(&coll, parent.as_deref()).await;
            assert!(!cands.is_empty(), "no sandbox {coll} to stand in for {rec}");
            let recorded = &e["response_body"];
            // Writes that return the object: pick one whose current state has the recorded shape.
            let mut chosen = None;
            if recorded.get("data").and_then(|d| d.get("id")).and_then(Value::as_str) == Some(rec.as_str()) {
                let mut want = recorded.clone();
                if let Some(d) = want.get_mut("data").and_then(Value::as_object_mut) {
                    d.remove("opportunityLocation");
                }
                'outer: for loose in [false, true] {
                    for c in &cands {
                        let r = self.api.get(&format!("/v1/{coll}/{c}")).await;
                        let mut got = r.json();
                        if let Some(d) = got.get_mut("data").and_then(Value::as_object_mut) {
                            d.remove("opportunityLocation");
                        }
                        if r.status == 200 && shape_errors(&want, &got, loose).is_empty() {
                            chosen = Some(c.clone());
                            break 'outer;
                        }
                    }
                }
            }
            let c = match chosen {
                Some(c) => {
                    self.note("probe of written object");
                    c
                }
                None => {
                    self.note("default usable candidate");
                    self.usable(&coll, &cands).await
                }
            };
            self.ids.insert(rec, c);
        }
    }

    fn parent_of(&self, path: &str, rec: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        let i = segs.iter().position(|s| *s == rec)?;
        (i >= 2).then(|| segs[i - 2]).and_then(|p| self.ids.get(p).cloned())
    }

    /// A default candidate able to take writes (postings must accept applications).
    async fn usable(&self, coll: &str, cands: &[String]) -> String {
        if coll == "postings" {
            for c in cands {
                let st = self.admin.posting(c).unwrap()["state"].as_str().unwrap().to_string();
                if st == "internal" || st == "published" {
                    return c.clone();
                }
            }
        }
        if coll == "users" {
            return self.admin.super_admin_id();
        }
        cands[0].clone()
    }

    /// Maps ids inside a request body (`postings`, `postId`).
    async fn map_body(&mut self, body: &Value) -> Value {
        let mut b = body.clone();
        if let Some(obj) = b.as_object_mut() {
            for key in ["postings", "postId"] {
                let ids: Vec<String> = match obj.get(key) {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                    _ => continue,
                };
                for id in &ids {
                    if !self.ids.contains_key(id) {
                        let c = self.usable("postings", &self.admin.posting_ids()).await;
                        self.ids.insert(id.clone(), c);
                    }
                }
                let mapped: Vec<Value> = ids.iter().map(|i| json!(self.ids[i])).collect();
                obj.insert(key.into(), if key == "postId" { mapped[0].clone() } else { Value::Array(mapped) });
            }
        }
        b
    }

    /// Pre-existing state some recordings assume (e.g. webhooks to list).
    async fn prepare(&mut self, e: &Value) {
        let path = e["path"].as_str().unwrap();
        if e["method"] == "GET" && path == "/v1/webhooks" && self.admin.webhooks().is_empty() {
            for ev in ["candidateHired", "candidateStageChange"] {
                let r = self.api.call("POST", "/v1/webhooks", Some(&json!({"event": ev, "url": "https://example.com/hooks/fixture"}))).await;
                assert_eq!(r.status, 201);
            }
        }
    }

    async fn replay(&mut self, e: &Value) -> (ClientResponse, String) {
        self.prepare(e).await;
        self.resolve(e).await;
        let path = e["path"].as_str().unwrap();
        let url = format!("{}{}", self.map_path(path), self.query_string(path, e["query"].as_object().unwrap()));
        let method = e["method"].as_str().unwrap();
        let r = match &e["request_body"] {
            Value::Null => self.api.call(method, &url, None).await,
            b => {
                let body = self.map_body(b).await;
                self.api.call(method, &url, Some(&body)).await
            }
        };
        let got = r.json();
        if let Some(n) = got.get("next").and_then(Value::as_str) {
            self.next.insert(path.to_string(), n.to_string());
        }
        // Map list items by position so later per-item requests hit sandbox items.
        if method == "GET"
            && path == "/v1/opportunities"
            && let (Some(rec), Some(act)) = (e["response_body"]["data"].as_array(), got["data"].as_array())
        {
            for (r, a) in rec.iter().zip(act) {
                if let (Some(r), Some(a)) = (r["id"].as_str(), a["id"].as_str())
                    && !self.ids.contains_key(r)
                {
                    self.ids.insert(r.to_string(), a.to_string());
                    self.note("list position");
                }
            }
        }
        (r, url)
    }
}

/// Opportunities the recorded list pages of one file return, so the sandbox
/// can be seeded with as many and page the same way.
fn listed_opportunities(exchanges: &[Value]) -> usize {
    exchanges
        .iter()
        .filter(|e| e["method"] == "GET" && e["path"] == "/v1/opportunities")
        .map(|e| e["response_body"]["data"].as_array().map(Vec::len).unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_exchange_replays_with_the_same_status_and_shape() {
    let dir = recordings_dir();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    assert!(!files.is_empty(), "no recordings in {}", dir.display());

    let schemas = std::sync::Arc::new(endpoint_schemas(&files));
    let mut failures = vec![];
    let mut stats: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut n_files, mut n_exchanges) = (0, 0);
    for f in &files {
        let rec: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let exchanges = rec["exchanges"].as_array().expect("exchanges[]");
        assert!(!exchanges.is_empty(), "{} has no exchanges", f.display());
        let config = SandboxConfig { opportunities: listed_opportunities(exchanges).max(40), rate_limit: None, ..SandboxConfig::default() };
        let sb = Sandbox::start(config).await.unwrap();
        let admin = sb.admin();
        let api = Api { base: sb.base_url(), token: admin.access_token() };
        let mut rp = Replay { schemas: schemas.clone(), api, admin, ids: HashMap::new(), next: HashMap::new(), stats: BTreeMap::new() };
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let mut covered = 0;
        for (i, e) in exchanges.iter().enumerate() {
            let (r, url) = rp.replay(e).await;
            let want = e["status"].as_u64().unwrap() as u16;
            let label = format!("{name}#{i} {} {url}", e["method"].as_str().unwrap());
            covered += 1;
            if r.status != want {
                failures.push(format!("{label}: status {} (recorded {want}): {}", r.status, String::from_utf8_lossy(&r.body)));
                continue;
            }
            if want == 204 {
                if !r.body.is_empty() {
                    failures.push(format!("{label}: 204 with a body"));
                }
            } else {
                for err in rp.errors(e, &r.json(), false) {
                    failures.push(format!("{label}: {err}"));
                }
                // Lever's own headers (recorded) must be there too.
                for (h, v) in e["response_headers"].as_object().unwrap() {
                    if r.header(h) != v.as_str() {
                        failures.push(format!("{label}: header {h} = {:?}, recorded {v}", r.header(h)));
                    }
                }
            }
        }
        assert_eq!(covered, exchanges.len(), "{name}: not every exchange was replayed");
        n_files += 1;
        n_exchanges += exchanges.len();
        for (k, v) in rp.stats {
            *stats.entry(k).or_default() += v;
        }
    }
    println!("fidelity: {n_files} recording files, {n_exchanges} exchanges replayed");
    println!("fidelity: recorded ids mapped by {stats:?}");
    assert_eq!(n_files, files.len(), "every recording file must be covered");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn shape_check_catches_differences() {
    let rec = json!({"data": [{"a": 1, "b": "x", "c": null}, {"a": 2, "b": "y", "c": null}], "hasNext": false});
    assert!(shape_errors(&rec, &json!({"data": [{"a": 5, "b": "z", "c": null}], "hasNext": false}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [{"a": "5", "b": "z", "c": null}], "hasNext": false}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [{"a": 5, "b": "z"}], "hasNext": false}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [{"a": 5, "b": "z", "c": null, "d": 1}], "hasNext": false}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [], "hasNext": false}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [{"a": 5, "b": "z", "c": null}], "hasNext": true, "next": "x"}), false).is_empty());
    assert!(!shape_errors(&rec, &json!({"data": [{"a": 5, "b": "z", "c": 3}], "hasNext": false}), false).is_empty());
}
