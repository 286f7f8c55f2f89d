//! Every response body recorded from real Lever (`shared/lever-recordings/*.json`, next to the
//! repositories) must deserialize into the client's types, and the fields the hub uses must come
//! through unchanged (checked against the raw JSON, not against hand-picked constants only).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::lever::*;

fn recordings_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/lever-recordings");
    assert!(dir.is_dir(), "Lever recordings missing at {} — they are required for this test", dir.display());
    dir
}

struct Exchange {
    file: String,
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    status: u16,
    body: Value,
}

fn load() -> Vec<Exchange> {
    let mut files: Vec<_> =
        std::fs::read_dir(recordings_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    assert!(!files.is_empty(), "no recordings found");
    let mut out = Vec::new();
    for f in &files {
        let doc: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let exchanges = doc["exchanges"].as_array().unwrap_or_else(|| panic!("{} has no exchanges[]", f.display()));
        for e in exchanges {
            out.push(Exchange {
                file: f.file_name().unwrap().to_string_lossy().into_owned(),
                method: e["method"].as_str().unwrap().to_owned(),
                path: e["path"].as_str().unwrap().to_owned(),
                query: serde_json::from_value(e["query"].clone()).unwrap_or_default(),
                status: e["status"].as_u64().unwrap() as u16,
                body: e["response_body"].clone(),
            });
        }
    }
    out
}

/// `/v1/opportunities/<uuid>/notes/<uuid>` → `/opportunities/:id/notes/:id`.
fn route(path: &str) -> String {
    path.trim_start_matches("/v1")
        .split('/')
        .map(|s| if s.len() == 36 && s.matches('-').count() == 4 { ":id" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn decode<T: DeserializeOwned>(x: &Exchange) -> Result<T, String> {
    serde_path_to_error::deserialize::<_, T>(x.body.clone()).map_err(|e| format!("{} {} {} at {}: {}", x.file, x.method, x.path, e.path(), e.inner()))
}

/// Which client type reads which recorded endpoint. `None` = endpoints the hub does not call
/// (application form questions, apply, posting team users); those are still checked to be JSON
/// objects, but not typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    PostingPage,
    Posting,
    DeletedPostingPage,
    OpportunityPage,
    Opportunity,
    CreatedOpportunity,
    Note,
    Application,
    ArchiveReasonPage,
    StagePage,
    TextCountPage,
    UserPage,
    User,
    Contact,
    WebhookPage,
    Webhook,
    /// A list the hub doesn't read (referrals, resumes, file actions, deleted applications).
    GenericPage,
    NoContent,
    Untyped,
}

fn shape(method: &str, route: &str) -> Shape {
    use Shape::*;
    match (method, route) {
        ("GET", "/postings") => PostingPage,
        ("GET" | "POST", "/postings/:id") => Posting,
        ("GET", "/postings/deleted") => DeletedPostingPage,
        ("GET", "/opportunities") => OpportunityPage,
        ("GET", "/opportunities/:id") => Opportunity,
        ("POST", "/opportunities") => CreatedOpportunity,
        ("POST", "/opportunities/:id/addLinks" | "/opportunities/:id/addSources" | "/opportunities/:id/addTags") => Opportunity,
        ("PUT", "/opportunities/:id/stage" | "/opportunities/:id/archived") => Opportunity,
        ("POST", "/opportunities/:id/notes") | ("GET", "/opportunities/:id/notes/:id") => Note,
        ("DELETE", _) => NoContent,
        ("GET", "/opportunities/:id/applications/:id") => Application,
        ("GET", "/opportunities/:id/referrals" | "/opportunities/:id/resumes" | "/opportunities/:id/file_actions" | "/applications/deleted") => {
            GenericPage
        }
        ("GET", "/archive_reasons") => ArchiveReasonPage,
        ("GET", "/stages") => StagePage,
        ("GET", "/sources" | "/tags") => TextCountPage,
        ("GET", "/users") => UserPage,
        ("GET" | "PUT", "/users/:id") | ("POST", "/users" | "/users/:id/deactivate" | "/users/:id/reactivate") => User,
        ("GET" | "PUT", "/contacts/:id") => Contact,
        ("GET", "/webhooks") => WebhookPage,
        ("POST", "/webhooks") => Webhook,
        ("GET", "/postings/:id/apply" | "/postings/:id/users") | ("POST", "/postings/:id/apply") => Untyped,
        other => panic!("recorded endpoint {other:?} has no mapping: add one"),
    }
}

fn ms(v: &Value) -> Option<Millis> {
    v.as_i64().map(Millis)
}

fn check_opportunity(o: &Opportunity, raw: &Value, ctx: &str) {
    assert_eq!(o.id, raw["id"].as_str().unwrap(), "{ctx}");
    assert_eq!(o.contact_id(), raw["contact"].as_str(), "{ctx} contact");
    assert_eq!(o.stage_id(), raw["stage"].as_str(), "{ctx} stage");
    let emails: Vec<String> = serde_json::from_value(raw["emails"].clone()).unwrap();
    assert_eq!(o.emails, emails, "{ctx} emails");
    assert_eq!(o.tags.len(), raw["tags"].as_array().unwrap().len(), "{ctx} tags");
    assert_eq!(o.sources.len(), raw["sources"].as_array().unwrap().len(), "{ctx} sources");
    assert_eq!(o.created_at, ms(&raw["createdAt"]), "{ctx} createdAt");
    assert_eq!(o.updated_at, ms(&raw["updatedAt"]), "{ctx} updatedAt");
    assert_eq!(o.origin.as_ref().map(|x| x.as_str()), raw["origin"].as_str(), "{ctx} origin");
    match (&o.archived, &raw["archived"]) {
        (None, Value::Null) => {}
        (Some(a), Value::Object(r)) => {
            assert_eq!(a.reason.as_deref(), r["reason"].as_str(), "{ctx} archive reason");
            assert_eq!(a.archived_at, ms(&r["archivedAt"]), "{ctx} archivedAt");
        }
        (a, r) => panic!("{ctx}: archived {a:?} vs raw {r}"),
    }
    assert_eq!(o.stage_changes.len(), raw["stageChanges"].as_array().unwrap().len(), "{ctx} stageChanges");
    assert_eq!(o.applications.len(), raw["applications"].as_array().unwrap().len(), "{ctx} applications");
}

fn check_posting(p: &Posting, raw: &Value, ctx: &str) {
    assert_eq!(p.id, raw["id"].as_str().unwrap(), "{ctx}");
    assert_eq!(p.text, raw["text"].as_str().unwrap(), "{ctx}");
    assert_eq!(p.state.as_ref().map(|s| s.as_str()), raw["state"].as_str(), "{ctx} state");
    assert_eq!(p.distribution_channels.len(), raw["distributionChannels"].as_array().map_or(0, Vec::len), "{ctx}");
    assert_eq!(p.categories.location.as_deref(), raw["categories"]["location"].as_str(), "{ctx}");
    assert_eq!(p.categories.team.as_deref(), raw["categories"]["team"].as_str(), "{ctx}");
    assert_eq!(p.tags.len(), raw["tags"].as_array().unwrap().len(), "{ctx}");
    assert_eq!(p.content.description_html.as_deref(), raw["content"]["descriptionHtml"].as_str(), "{ctx}");
    assert_eq!(p.urls.as_ref().and_then(|u| u.show.as_deref()), raw["urls"]["show"].as_str(), "{ctx} urls.show");
    assert_eq!(p.workplace_type.as_ref().map(|w| w.as_str()), raw["workplaceType"].as_str(), "{ctx}");
    assert_eq!(p.salary_range.is_some(), raw["salaryRange"].is_object(), "{ctx}");
    assert_eq!(p.updated_at, ms(&raw["updatedAt"]), "{ctx}");
    assert_eq!(p.owner.as_ref().map(|o| o.id()), raw["owner"].as_str(), "{ctx}");
}

#[test]
fn every_recorded_response_deserializes_into_the_client_types() {
    let exchanges = load();
    let files: HashSet<&str> = exchanges.iter().map(|x| x.file.as_str()).collect();
    let mut failures = Vec::new();
    let mut per_shape: BTreeMap<Shape, usize> = BTreeMap::new();
    let (mut opportunities, mut archived, mut postings) = (0usize, 0usize, 0usize);

    for x in &exchanges {
        let r = route(&x.path);
        let s = shape(&x.method, &r);
        *per_shape.entry(s).or_default() += 1;
        let ctx = format!("{} {} {}", x.file, x.method, x.path);
        let res: Result<(), String> = (|| {
            match s {
                Shape::PostingPage => {
                    let p: Page<Posting> = decode(x)?;
                    for (p, raw) in p.data.iter().zip(x.body["data"].as_array().unwrap()) {
                        check_posting(p, raw, &ctx);
                        postings += 1;
                    }
                    assert_eq!(p.is_last(), x.body.get("next").is_none(), "{ctx}");
                }
                Shape::Posting => check_posting(&decode::<Data<Posting>>(x)?.data, &x.body["data"], &ctx),
                Shape::DeletedPostingPage => {
                    decode::<Page<DeletedPosting>>(x)?;
                }
                Shape::OpportunityPage => {
                    let p: Page<Opportunity> = decode(x)?;
                    let raw = x.body["data"].as_array().unwrap();
                    assert_eq!(p.data.len(), raw.len(), "{ctx}");
                    for (o, raw) in p.data.iter().zip(raw) {
                        check_opportunity(o, raw, &ctx);
                        opportunities += 1;
                        archived += o.is_archived() as usize;
                    }
                    assert_eq!(p.next.as_deref(), x.body["next"].as_str(), "{ctx} next verbatim");
                    assert_eq!(p.has_next, x.body["hasNext"].as_bool().unwrap(), "{ctx}");
                }
                Shape::Opportunity => check_opportunity(&decode::<Data<Opportunity>>(x)?.data, &x.body["data"], &ctx),
                Shape::CreatedOpportunity => {
                    let c: Created<Opportunity> = decode(x)?;
                    assert_eq!(c.deduped, x.body["deduped"].as_bool().unwrap(), "{ctx} deduped kept");
                    check_opportunity(&c.data, &x.body["data"], &ctx);
                }
                Shape::Note => {
                    let n = decode::<Data<Note>>(x)?.data;
                    assert!(n.any_id().is_some(), "{ctx}");
                    assert_eq!(n.fields.len(), x.body["data"]["fields"].as_array().unwrap().len());
                }
                Shape::Application => {
                    let a = decode::<Data<Application>>(x)?.data;
                    assert_eq!(a.posting.as_deref(), x.body["data"]["posting"].as_str(), "{ctx}");
                    assert_eq!(a.archived.is_some(), x.body["data"]["archived"].is_object(), "{ctx}");
                }
                Shape::ArchiveReasonPage => {
                    let p: Page<ArchiveReason> = decode(x)?;
                    for (a, raw) in p.data.iter().zip(x.body["data"].as_array().unwrap()) {
                        assert_eq!(a.kind.as_ref().map(|k| k.as_str()), raw["type"].as_str(), "{ctx}");
                        assert!(!matches!(a.kind, Some(ArchiveReasonType::Other(_))), "{ctx}: unknown type {:?}", a.kind);
                    }
                    assert!(p.data.iter().any(ArchiveReason::is_hired), "{ctx}: a hired-type reason exists");
                }
                Shape::StagePage => {
                    let p: Page<Stage> = decode(x)?;
                    assert!(p.data.iter().any(|s| s.id == "applicant-new" && s.text == "New applicant"), "{ctx}");
                }
                Shape::TextCountPage => {
                    let p: Page<TextCount> = decode(x)?;
                    assert!(p.data.iter().all(|t| !t.text.is_empty() && t.count.is_some()), "{ctx}");
                }
                Shape::UserPage => {
                    let p: Page<User> = decode(x)?;
                    for (u, raw) in p.data.iter().zip(x.body["data"].as_array().unwrap()) {
                        assert_eq!(u.email.as_deref(), raw["email"].as_str(), "{ctx}");
                        assert_eq!(u.access_role.as_deref(), raw["accessRole"].as_str(), "{ctx}");
                    }
                }
                Shape::User => {
                    let u = decode::<Data<User>>(x)?.data;
                    assert_eq!(u.deactivated_at, ms(&x.body["data"]["deactivatedAt"]), "{ctx}");
                    assert_eq!(u.is_active(), !x.path.ends_with("/deactivate"), "{ctx}");
                }
                Shape::Contact => {
                    let c = decode::<Data<Contact>>(x)?.data;
                    assert_eq!(c.location.as_deref(), x.body["data"]["location"]["name"].as_str(), "{ctx}");
                    assert!(!c.emails.is_empty(), "{ctx}");
                }
                Shape::WebhookPage => {
                    let p: Page<Webhook> = decode(x)?;
                    assert!(!p.has_next && p.is_last(), "{ctx}: no hasNext on /webhooks reads as last page");
                    assert!(p.data.iter().all(|w| w.signature_token().is_none()), "{ctx}: token only on create");
                }
                Shape::Webhook => {
                    let w = decode::<Data<Webhook>>(x)?.data;
                    let token = w.signature_token().expect("signatureToken on create");
                    assert_eq!(Some(token.expose()), x.body["data"]["configuration"]["signatureToken"].as_str(), "{ctx}");
                    assert!(!format!("{w:?}").contains(token.expose()), "{ctx}: Debug must redact the token");
                }
                Shape::GenericPage => {
                    let p: Page<Value> = decode(x)?;
                    assert!(p.is_last(), "{ctx}");
                }
                Shape::NoContent => {
                    assert_eq!(x.status, 204, "{ctx}");
                    assert!(x.body.is_null() || x.body == Value::String(String::new()), "{ctx}");
                }
                Shape::Untyped => {
                    assert!(x.body.is_object(), "{ctx}");
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            failures.push(e);
        }
    }

    println!("recordings: {} files, {} exchanges", files.len(), exchanges.len());
    for (s, n) in &per_shape {
        println!("  {s:?}: {n}");
    }
    println!("  opportunities checked field by field: {opportunities} ({archived} archived); postings: {postings}");
    assert!(failures.is_empty(), "{} of {} bodies failed:\n{}", failures.len(), exchanges.len(), failures.join("\n"));
    assert_eq!(files.len(), 40, "recording files");
    assert_eq!(exchanges.len(), 1068, "recorded exchanges");
    assert_eq!(opportunities, 2005);
    assert_eq!(archived, 692);
    assert_eq!(postings, 18);
    let untyped = per_shape.get(&Shape::Untyped).copied().unwrap_or(0);
    assert_eq!(untyped, 8, "only the apply form / apply / posting users endpoints stay untyped");
}

/// Lever's `next` tokens arrive percent-encoded; the client must send them back byte for byte,
/// exactly as the recorded follow-up request did (no `%25` double encoding).
#[test]
fn recorded_next_tokens_are_sent_back_verbatim() {
    let exchanges = load();
    let mut checked = 0;
    for file in ["opportunities.json", "opportunities-referrals.json"] {
        let pages: Vec<&Exchange> = exchanges.iter().filter(|x| x.file == file && x.method == "GET" && x.path == "/v1/opportunities").collect();
        assert!(pages.len() >= 10, "{file}: {} pages", pages.len());
        let mut pager = Pager::new(100);
        for (i, x) in pages.iter().enumerate() {
            let req = pager.next_request().expect("pager wants another page");
            assert_eq!(req.offset.as_deref(), x.query.get("offset").map(String::as_str), "{file} page {i}: request offset");
            if let Some(off) = &req.offset {
                assert_eq!(shared::lever::http::offset_param(off), *off, "{file} page {i}: no re-encoding");
                assert!(off.starts_with("%5B") && !off.contains("%25"), "{file}: recorded token looks encoded once");
            }
            let page: Page<Opportunity> = decode(x).unwrap();
            pager.advance(&page).unwrap();
            checked += 1;
        }
        assert!(pager.is_done(), "{file}: last recorded page ends the walk");
    }
    println!("walked {checked} recorded opportunity pages with the pager");
    assert_eq!(checked, 22);
}
