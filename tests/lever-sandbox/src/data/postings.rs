//! `/v1/postings`: list with Lever's filters, read, create/update (POST), the
//! apply form and application submission.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{in_window, perform_as};
use crate::Shared;
use crate::actions::{self, NewOpportunity};
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::pagination::{self, Key};
use crate::respond::{self, Query, json_body, opt_str, str_list};
use crate::state::{Categories, Phone, Posting, PostingContent, SalaryRange};

const STATES: &[&str] = &["published", "internal", "closed", "draft", "pending", "rejected"];
const EXPANDABLE: &[&str] = &["user", "owner", "hiringManager", "followers"];

fn expand_list(q: &Query) -> ApiResult<Vec<String>> {
    let e = q.all("expand");
    if let Some(bad) = e.iter().find(|x| !EXPANDABLE.contains(&x.as_str())) {
        return Err(ApiError::bad_request(format!("Invalid expand value: {bad}")));
    }
    Ok(e)
}

/// Posting JSON with `expand=` user references inlined.
fn render(site: &str, st: &crate::state::State, p: &Posting, expand: &[String]) -> Value {
    let mut v = json::posting(site, p, true);
    let user = |id: &Option<String>| id.as_deref().and_then(|u| st.user(u)).map(json::user).unwrap_or(Value::Null);
    for e in expand {
        match e.as_str() {
            "user" => v["user"] = user(&p.user),
            "owner" => v["owner"] = user(&Some(p.owner.clone())),
            "hiringManager" => v["hiringManager"] = user(&p.hiring_manager),
            "followers" => v["followers"] = json!(p.followers.iter().filter_map(|f| st.user(f)).map(json::user).collect::<Vec<_>>()),
            _ => {}
        }
    }
    v
}

/// Query parameters `updated_at_start`/`_end` may be combined with (Lever:
/// "only with confidentiality"; paging and rendering parameters are not filters).
const WITH_UPDATED_AT: &[&str] = &["updated_at_start", "updated_at_end", "confidentiality", "limit", "offset", "expand", "include"];

pub async fn list(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let expand = expand_list(&q)?;
    if (q.get("updated_at_start").is_some() || q.get("updated_at_end").is_some())
        && let Some((other, _)) = q.0.iter().find(|(k, _)| !WITH_UPDATED_AT.contains(&k.trim_end_matches("[]")))
    {
        return Err(ApiError::bad_request(format!(
            "updated_at_start and updated_at_end can only be combined with confidentiality, not with {other}"
        )));
    }
    let st = shared.lock();
    let states = q.all("state");
    if let Some(bad) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
        return Err(ApiError::bad_request(format!("Invalid state: {bad}")));
    }
    let channels = q.all("distributionChannel");
    if let Some(bad) = channels.iter().find(|c| *c != "public" && *c != "internal") {
        return Err(ApiError::bad_request(format!("Invalid distributionChannel: {bad}")));
    }
    // Lever gotcha: state=published alone only lists postings on the public job site.
    let channels = if channels.is_empty() && states.len() == 1 && states[0] == "published" { vec!["public".to_string()] } else { channels };
    let confidentiality = q.get("confidentiality").unwrap_or("non-confidential");
    if !["confidential", "non-confidential", "all"].contains(&confidentiality) {
        return Err(ApiError::bad_request(format!("Invalid confidentiality: {confidentiality}")));
    }
    let (teams, departments, commitments, locs, tags) = (q.all("team"), q.all("department"), q.all("commitment"), q.all("location"), q.all("tag"));
    let (start, end) = (q.ms("updated_at_start")?, q.ms("updated_at_end")?);
    let matches = |want: &Vec<String>, val: &Option<String>| want.is_empty() || val.as_ref().is_some_and(|v| want.contains(v));
    let mut items = vec![];
    for p in &st.postings {
        if !states.is_empty() && !states.contains(&p.state) {
            continue;
        }
        if !channels.is_empty() {
            let dc = p.distribution_channels.as_deref().unwrap_or_default();
            if !channels.iter().any(|c| dc.contains(c)) {
                continue;
            }
        }
        if confidentiality != "all" && p.confidentiality != confidentiality {
            continue;
        }
        let c = &p.categories;
        if !(matches(&teams, &c.team) && matches(&departments, &c.department) && matches(&commitments, &c.commitment)) {
            continue;
        }
        if !locs.is_empty() && !c.all_locations.iter().chain(c.location.iter()).any(|l| locs.contains(l)) {
            continue;
        }
        if !tags.is_empty() && !p.tags.iter().any(|t| tags.contains(t)) {
            continue;
        }
        if start.is_some_and(|s| p.updated_at < s) || end.is_some_and(|e| p.updated_at > e) {
            continue;
        }
        items.push((Key { rank: 0.0, ts: p.created_at, id: p.id.clone() }, p));
    }
    let site = &shared.config.site;
    let body = pagination::page_by(items, &q, |p| render(site, &st, p, &expand))?;
    Ok(respond::json(http::StatusCode::OK, &body))
}

pub async fn deleted(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let mut items = vec![];
    for d in &st.deleted_postings {
        if in_window(&q, "deleted_at", d.deleted_at)? {
            let mut v = d.snapshot.clone();
            v["deletedAt"] = json!(d.deleted_at);
            items.push((Key { rank: 0.0, ts: d.deleted_at, id: d.id.clone() }, v));
        }
    }
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let expand = expand_list(&q)?;
    let st = shared.lock();
    let p = st.posting(&id).ok_or_else(|| ApiError::not_found("postings", &id))?;
    Ok(respond::ok(render(&shared.config.site, &st, p, &expand)))
}

pub async fn users(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let p = st.posting(&id).ok_or_else(|| ApiError::not_found("postings", &id))?;
    // Recorded shape: no `data` envelope here.
    Ok(respond::json(
        http::StatusCode::OK,
        &json!({
            "posting": {"id": p.id, "text": p.text},
            "users": [],
            "roles": [
                {"id": "admin", "name": "Admin", "isReadOnly": true},
                {"id": "limited", "name": "Limited Team Member", "isReadOnly": true, "conditions": {}},
                {"id": "owner", "name": "Super Admin", "isReadOnly": true},
                {"id": "team", "name": "Team Member", "isReadOnly": true},
            ],
        }),
    ))
}

/// Applies the writable fields of a create/update body onto a posting.
pub(crate) fn apply_fields(st: &crate::state::State, p: &mut Posting, body: &Value) -> ApiResult<()> {
    if let Some(t) = opt_str(body, "text")? {
        if t.trim().is_empty() {
            return Err(ApiError::bad_request("text must not be empty"));
        }
        p.text = t;
    }
    if let Some(s) = opt_str(body, "state")? {
        if !STATES.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!("Invalid state: {s}")));
        }
        p.state = s;
    }
    if body.get("distributionChannels").is_some() {
        let dc = str_list(body, "distributionChannels")?;
        if let Some(bad) = dc.iter().find(|c| *c != "public" && *c != "internal") {
            return Err(ApiError::bad_request(format!("Invalid distribution channel: {bad}")));
        }
        p.distribution_channels = Some(dc);
    }
    let user_field = |key: &str| -> ApiResult<Option<String>> {
        match opt_str(body, key)? {
            Some(u) if st.user(&u).is_none() => Err(ApiError::bad_request(format!("Invalid user for {key}: {u}"))),
            other => Ok(other),
        }
    };
    if let Some(u) = user_field("owner")? {
        p.owner = u;
    }
    if let Some(u) = user_field("hiringManager")? {
        p.hiring_manager = Some(u);
    }
    if let Some(c) = body.get("categories").filter(|c| !c.is_null()) {
        let get = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_string);
        p.categories = Categories {
            team: get("team"),
            department: get("department"),
            location: get("location"),
            commitment: get("commitment"),
            all_locations: c
                .get("allLocations")
                .and_then(|a| a.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_else(|| get("location").into_iter().collect()),
        };
    }
    if body.get("tags").is_some() {
        p.tags = str_list(body, "tags")?;
    }
    if let Some(c) = body.get("content").filter(|c| !c.is_null()) {
        let get = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let html = get("descriptionHtml").unwrap_or_else(|| p.content.description_html.clone());
        let closing = get("closingHtml").or_else(|| get("closingPostingHtml")).unwrap_or_else(|| p.content.closing_html.clone());
        let lists = match c.get("lists").and_then(|l| l.as_array()) {
            Some(a) => a.iter().map(|x| (x["text"].as_str().unwrap_or("").to_string(), x["content"].as_str().unwrap_or("").to_string())).collect(),
            None => p.content.lists.clone(),
        };
        p.content =
            PostingContent { description: strip_tags(&html), description_html: html, lists, closing: strip_tags(&closing), closing_html: closing };
    }
    if let Some(w) = opt_str(body, "workplaceType")? {
        if !["onsite", "remote", "hybrid", "unspecified"].contains(&w.as_str()) {
            return Err(ApiError::bad_request(format!("Invalid workplaceType: {w}")));
        }
        if w == "unspecified" && p.workplace_type != "unspecified" {
            return Err(ApiError::bad_request("workplaceType cannot be reset to unspecified"));
        }
        p.workplace_type = w;
    }
    if body.get("requisitionCodes").is_some() {
        p.requisition_codes = str_list(body, "requisitionCodes")?;
    }
    if let Some(s) = body.get("salaryRange").filter(|s| !s.is_null()) {
        let (min, max) = (s.get("min").and_then(Value::as_i64), s.get("max").and_then(Value::as_i64));
        let (cur, int) = (s.get("currency").and_then(Value::as_str), s.get("interval").and_then(Value::as_str));
        match (min, max, cur, int) {
            (Some(min), Some(max), Some(c), Some(i)) => p.salary_range = Some(SalaryRange { min, max, currency: c.into(), interval: i.into() }),
            _ => return Err(ApiError::bad_request("salaryRange needs min, max, currency and interval")),
        }
    }
    if let Some(d) = opt_str(body, "salaryDescriptionHtml")? {
        p.salary_description = Some(strip_tags(&d));
    }
    Ok(())
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A posting built from a create body, as `POST /postings` makes it (not yet stored).
pub(crate) fn new_posting(st: &mut crate::state::State, user: &str, body: &Value) -> ApiResult<Posting> {
    if opt_str(body, "text")?.is_none() {
        return Err(ApiError::missing("text"));
    }
    if body.get("confidentiality").and_then(Value::as_str) == Some("confidential") {
        return Err(ApiError::forbidden("Confidential postings cannot be created through the API"));
    }
    let now = st.now_ms();
    let mut p = Posting {
        id: uuid::Uuid::new_v4().to_string(),
        text: String::new(),
        state: "draft".into(),
        distribution_channels: None,
        user: Some(user.to_string()),
        owner: user.to_string(),
        hiring_manager: None,
        categories: Categories::default(),
        tags: vec![],
        content: PostingContent::default(),
        country: "US".into(),
        followers: vec![user.to_string()],
        req_code: None,
        requisition_codes: vec![],
        salary_range: None,
        salary_description: None,
        confidentiality: "non-confidential".into(),
        created_at: now,
        updated_at: now,
        workplace_type: "unspecified".into(),
        custom_questions: false,
        eeo_questions: false,
        show_url_trailing_slash: false,
    };
    apply_fields(st, &mut p, body)?;
    if p.state == "published" && p.distribution_channels.is_none() {
        p.distribution_channels = Some(vec!["public".into(), "internal".into()]);
    }
    if let Some(hm) = p.hiring_manager.clone()
        && !p.followers.contains(&hm)
    {
        p.followers.push(hm);
    }
    Ok(p)
}

pub async fn create(State(shared): State<Shared>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let user = perform_as(&st, &q, true)?.unwrap_or_default();
    let p = new_posting(&mut st, &user, &body)?;
    let v = json::posting(&shared.config.site, &p, true);
    st.postings.push(p);
    Ok(respond::created(v))
}

pub async fn update(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    perform_as(&st, &q, true)?;
    let mut p = st.posting(&id).cloned().ok_or_else(|| ApiError::not_found("postings", &id))?;
    apply_fields(&st, &mut p, &body)?;
    p.updated_at = st.now_ms();
    let v = json::posting(&shared.config.site, &p, true);
    if let Some(slot) = st.posting_mut(&id) {
        *slot = p;
    }
    Ok(respond::ok(v))
}

fn question(text: &str, name: &str, kind: &str, required: bool) -> Value {
    json!({"text": text, "name": name, "type": kind, "required": required, "value": null})
}

fn eeo(text: &str, options: &[&str]) -> Value {
    json!({
        "description": null, "required": false, "text": text, "type": "dropdown",
        "options": options.iter().map(|o| json!({"text": o, "optionId": o})).collect::<Vec<_>>(),
        "prompt": text, "value": null,
    })
}

/// The race question: each category carries a `description` (recordings).
fn race() -> Value {
    let options: &[(&str, Option<&str>)] = &[
        (
            "Hispanic or Latino",
            Some("Of Cuban, Mexican, Puerto Rican, South or Central American, or other Spanish culture or origin, whatever the race."),
        ),
        ("White (Not Hispanic or Latino)", Some("With origins in the first peoples of Europe, the Middle East or North Africa.")),
        ("Black or African American (Not Hispanic or Latino)", Some("With origins in any of the Black racial groups of Africa.")),
        (
            "Native Hawaiian or Other Pacific Islander (Not Hispanic or Latino)",
            Some("With origins in the first peoples of Hawaii, Guam, Samoa or other Pacific Islands."),
        ),
        ("Asian (Not Hispanic or Latino)", Some("With origins in the first peoples of the Far East, Southeast Asia or the Indian subcontinent.")),
        (
            "American Indian or Alaska Native (Not Hispanic or Latino)",
            Some("With origins in the first peoples of North, Central or South America, keeping tribal ties or community attachment."),
        ),
        ("Two or More Races (Not Hispanic or Latino)", Some("Identifying with more than one of the races above.")),
        ("Decline to self-identify", None),
    ];
    let mut q = eeo("Race", &[]);
    q["options"] = json!(
        options
            .iter()
            .map(|(t, d)| match d {
                Some(d) => json!({"text": t, "optionId": t, "description": d}),
                None => json!({"text": t, "optionId": t}),
            })
            .collect::<Vec<_>>()
    );
    q
}

pub async fn apply_form(State(shared): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = shared.lock();
    let p = st.posting(&id).ok_or_else(|| ApiError::not_found("postings", &id))?;
    let custom: Vec<Value> = if p.custom_questions {
        vec![json!({
            "id": format!("{}-cq", &p.id[..8]),
            "text": "Additional questions",
            "distribution": ["external", "internal"],
            "fields": [
                {"description": "", "required": true, "text": "Highest education", "type": "multiple-choice",
                 "options": [{"text": "High school"}, {"text": "Bachelor"}, {"text": "Master"}, {"text": "PhD"}],
                 "id": format!("{}-f1", &p.id[..8]), "prompt": "Highest education", "value": null},
                {"description": "", "required": false, "text": "Anything else?", "type": "textarea",
                 "id": format!("{}-f2", &p.id[..8]), "prompt": "Anything else?", "value": null},
            ],
        })]
    } else {
        vec![]
    };
    let mut data = json!({
        "id": p.id, "text": p.text, "customQuestions": custom,
    });
    if p.eeo_questions {
        data["eeoQuestions"] = json!({
            "gender": eeo("Gender", &["Female", "Male", "Decline to self-identify"]),
            "race": race(),
            "veteran": eeo("Veteran status", &["I am a veteran", "I am not a veteran", "Decline to self-identify"]),
        });
    }
    data["personalInformation"] = json!([
        question("Full name", "fullName", "text", true),
        question("Email", "email", "text", true),
        question("Current company", "currentCompany", "text", false),
        question("Current location", "currentLocation", "text", false),
        question("Phone", "phone", "text", false),
        question("Resume", "resume", "file-upload", false),
        question("Additional information", "additionalInformation", "textarea", false),
    ]);
    data["urls"] = json!([question("LinkedIn", "LinkedIn", "text", false), question("Other", "Other", "text", false)]);
    data["consentDisclosures"] = Value::Null;
    Ok(respond::ok(data))
}

pub async fn apply(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let p = st.posting(&id).cloned().ok_or_else(|| ApiError::not_found("postings", &id))?;
    if p.state != "published" && p.state != "internal" {
        return Err(ApiError::bad_request(format!("Posting {id} is not accepting applications (state {})", p.state)));
    }
    let info = body.get("personalInformation").and_then(Value::as_array).cloned().unwrap_or_default();
    let field = |name: &str| {
        info.iter()
            .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = field("fullName").ok_or_else(|| ApiError::missing("personalInformation fullName"))?;
    let email = field("email").ok_or_else(|| ApiError::missing("personalInformation email"))?;
    if let Some(resume) = field("resume") {
        let known = st.uploads.values().any(|u| u.uri == resume);
        if !known {
            return Err(ApiError::bad_request("resume must be a uri returned by POST /uploads"));
        }
    }
    let links: Vec<String> = body
        .get("urls")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|u| u.get("value").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    let n = NewOpportunity {
        perform_as: p.owner.clone(),
        name: Some(name),
        headline: field("currentCompany"),
        stage: Some("applicant-new".into()),
        location: field("currentLocation"),
        phones: field("phone").map(|v| vec![Phone { kind: None, value: v }]).unwrap_or_default(),
        emails: vec![email],
        links,
        sources: vec!["Job site".into()],
        origin: Some("applied".into()),
        postings: vec![id],
        application_kind: Some("posting".into()),
        ..Default::default()
    };
    let created = actions::create_opportunity(&shared, &mut st, n)?;
    Ok(respond::created(json!({"applicationId": created.application_id})))
}
