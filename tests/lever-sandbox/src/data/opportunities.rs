//! `/v1/opportunities`: create (JSON or multipart), read with `expand`, list
//! with filters, stage/archive changes, tag/source/link edits, and the
//! read-only sub-lists (applications, offers, referrals, file actions).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{in_window, multipart, perform_as};
use crate::Shared;
use crate::actions::{self, NewOpportunity};
use crate::error::{ApiError, ApiResult};
use crate::json::{self, OppView};
use crate::pagination::{self, Key};
use crate::respond::{self, Query, json_body, opt_str, str_list};
use crate::state::{Phone, State as Account, canonical_email};

const EXPANDABLE: &[&str] = &["applications", "stage", "owner", "followers", "sourcedBy", "contact"];

/// Opportunity JSON with `expand=` references inlined.
pub(crate) fn render(st: &Account, id: &str, view: OppView, expand: &[String]) -> ApiResult<Value> {
    let o = st.opportunity(id).ok_or_else(|| ApiError::not_found("opportunities", id))?;
    let mut v = json::opportunity(st, o, view);
    for e in expand {
        match e.as_str() {
            "applications" => {
                v["applications"] =
                    json!(o.applications.iter().filter_map(|a| st.applications.get(a)).map(|a| json::application(st, a)).collect::<Vec<_>>())
            }
            "stage" => v["stage"] = st.stages.iter().find(|s| s.id == o.stage).map(json::stage).unwrap_or(Value::Null),
            "owner" => v["owner"] = o.owner.as_deref().and_then(|u| st.user(u)).map(json::user).unwrap_or(Value::Null),
            "sourcedBy" => v["sourcedBy"] = o.sourced_by.as_deref().and_then(|u| st.user(u)).map(json::user).unwrap_or(Value::Null),
            "followers" => v["followers"] = json!(o.followers.iter().filter_map(|u| st.user(u)).map(json::user).collect::<Vec<_>>()),
            "contact" => v["contact"] = st.contacts.get(&o.contact).map(|c| json::contact(c, true)).unwrap_or(Value::Null),
            _ => {}
        }
    }
    Ok(v)
}

fn expand_list(q: &Query) -> ApiResult<Vec<String>> {
    let e = q.all("expand");
    if let Some(bad) = e.iter().find(|x| !EXPANDABLE.contains(&x.as_str())) {
        return Err(ApiError::bad_request(format!("Invalid expand value: {bad}")));
    }
    Ok(e)
}

pub async fn get_one(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let expand = expand_list(&q)?;
    let st = shared.lock();
    Ok(respond::ok(render(&st, &id, OppView::Read, &expand)?))
}

/// The opportunities a `GET /opportunities` (or deprecated `/candidates`) query selects.
pub(crate) fn select<'a>(st: &'a Account, q: &Query) -> ApiResult<Vec<(Key, &'a crate::state::Opportunity)>> {
    let emails: Vec<String> = q.all("email").iter().map(|e| canonical_email(e)).collect();
    let (tags, origins, stages, postings, contacts, sources, reasons) =
        (q.all("tag"), q.all("origin"), q.all("stage_id"), q.all("posting_id"), q.all("contact_id"), q.all("source"), q.all("archive_reason_id"));
    let archived_postings = q.all("archived_posting_id");
    let archived = q.bool("archived")?;
    let snoozed = q.bool("snoozed")?;
    let confidentiality = q.get("confidentiality").unwrap_or("non-confidential");
    let windows = [
        ("updated_at", q.ms("updated_at_start")?, q.ms("updated_at_end")?),
        ("created_at", q.ms("created_at_start")?, q.ms("created_at_end")?),
        ("advanced_at", q.ms("advanced_at_start")?, q.ms("advanced_at_end")?),
    ];
    let archived_window = (q.ms("archived_at_start")?, q.ms("archived_at_end")?);
    let inside = |(s, e): (Option<i64>, Option<i64>), ts: i64| s.is_none_or(|s| ts >= s) && e.is_none_or(|e| ts <= e);
    let mut items = vec![];
    for o in &st.opportunities {
        let c = st.contacts.get(&o.contact);
        if !emails.is_empty() && !c.is_some_and(|c| c.emails.iter().any(|e| emails.contains(&canonical_email(e)))) {
            continue;
        }
        let any = |want: &Vec<String>, have: &[String]| want.is_empty() || have.iter().any(|h| want.contains(h));
        if !any(&tags, &o.tags) || !any(&sources, &o.sources) {
            continue;
        }
        if !origins.is_empty() && !origins.contains(&o.origin) {
            continue;
        }
        if !stages.is_empty() && !stages.contains(&o.stage) {
            continue;
        }
        if !contacts.is_empty() && !contacts.contains(&o.contact) {
            continue;
        }
        if !postings.is_empty() || !archived_postings.is_empty() {
            let on: Vec<String> = o.applications.iter().filter_map(|a| st.applications.get(a)).filter_map(|a| a.posting.clone()).collect();
            if !postings.is_empty() && !on.iter().any(|p| postings.contains(p)) {
                continue;
            }
            let archived_on = o.archived.is_some() && on.iter().any(|p| archived_postings.contains(p));
            if !archived_postings.is_empty() && !archived_on {
                continue;
            }
        }
        if let Some(a) = archived
            && a != o.archived.is_some()
        {
            continue;
        }
        // The sandbox never snoozes anyone.
        if snoozed == Some(true) {
            continue;
        }
        if !reasons.is_empty() && !o.archived.as_ref().is_some_and(|a| reasons.contains(&a.reason)) {
            continue;
        }
        if confidentiality != "all" && o.confidentiality != confidentiality {
            continue;
        }
        let stamps = [o.updated_at, o.created_at, o.last_advanced_at];
        if windows.iter().zip(stamps).any(|((_, s, e), ts)| !inside((*s, *e), ts)) {
            continue;
        }
        if archived_window.0.is_some() || archived_window.1.is_some() {
            match &o.archived {
                Some(a) if inside(archived_window, a.archived_at) => {}
                _ => continue,
            }
        }
        items.push((Key { rank: 3.0, ts: o.created_at, id: o.id.clone() }, o));
    }
    Ok(items)
}

pub async fn list(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let expand = expand_list(&q)?;
    let st = shared.lock();
    let items = select(&st, &q)?;
    let body = pagination::page_by(items, &q, |o| render(&st, &o.id, OppView::Read, &expand).unwrap_or(Value::Null))?;
    Ok(respond::json(http::StatusCode::OK, &body))
}

fn deleted_list(list: &[crate::state::Deleted], q: &Query) -> ApiResult<Response> {
    let mut items = vec![];
    for d in list {
        if in_window(q, "deleted_at", d.deleted_at)? {
            let mut v = d.snapshot.clone();
            v["deletedAt"] = json!(d.deleted_at);
            v["deletedBy"] = json!(d.deleted_by);
            items.push((Key { rank: 0.0, ts: d.deleted_at, id: d.id.clone() }, v));
        }
    }
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, q)?))
}

pub async fn deleted(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    deleted_list(&st.deleted_opportunities, &q)
}

pub async fn applications_deleted(State(shared): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    deleted_list(&st.deleted_applications, &q)
}

fn phones(body: &Value) -> ApiResult<Vec<Phone>> {
    match body.get("phones") {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| match p {
                Value::String(s) => Ok(Phone { kind: None, value: s.clone() }),
                Value::Object(o) => Ok(Phone {
                    kind: o.get("type").and_then(Value::as_str).map(str::to_string),
                    value: o.get("value").and_then(Value::as_str).unwrap_or("").to_string(),
                }),
                _ => Err(ApiError::bad_request("phones must be an array of {type, value}")),
            })
            .collect(),
        Some(_) => Err(ApiError::bad_request("phones must be an array of {type, value}")),
    }
}

pub async fn create(State(shared): State<Shared>, req: Request) -> ApiResult<Response> {
    let q = Query::parse(req.uri().query());
    let now = shared.lock().now_ms();
    let (body, files) = if multipart::is_multipart(&req) {
        let f = multipart::read(req, now).await?;
        (f.fields, f.files)
    } else {
        let bytes =
            axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await.map_err(|e| ApiError::bad_request(format!("Could not read body: {e}")))?;
        (json_body(&bytes)?, vec![])
    };
    let mut st = shared.lock();
    let user = perform_as(&st, &q, true)?.unwrap_or_default();
    // The docs' multipart example says `archive[...]`; the JSON field is `archived`. Accept both.
    let archived = body.get("archived").or_else(|| body.get("archive")).filter(|a| !a.is_null());
    let archived = match archived {
        Some(a) => {
            let reason = a.get("reason").and_then(Value::as_str).ok_or_else(|| ApiError::missing("archived.reason"))?;
            let at = match a.get("archivedAt") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => Some(s.parse().map_err(|_| ApiError::bad_request("archived.archivedAt must be a timestamp"))?),
                _ => None,
            };
            Some((reason.to_string(), at))
        }
        None => None,
    };
    let created_at = match body.get("createdAt") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => Some(s.parse().map_err(|_| ApiError::bad_request("createdAt must be a timestamp"))?),
        _ => None,
    };
    let mut resume = None;
    let mut other_files = vec![];
    let processing = shared.config.file_processing.as_millis() as i64;
    for (name, mut f) in files {
        f.processed_at = f.uploaded_at + processing;
        match name.as_str() {
            "resumeFile" if resume.is_none() => resume = Some(f),
            "resumeFile" => return Err(ApiError::bad_request("Only one resumeFile may be given")),
            "files" | "files[]" => other_files.push(f),
            other => return Err(ApiError::bad_request(format!("Unexpected file field: {other}"))),
        }
    }
    let n = NewOpportunity {
        perform_as: user,
        name: opt_str(&body, "name")?,
        headline: opt_str(&body, "headline")?,
        stage: opt_str(&body, "stage")?,
        location: opt_str(&body, "location")?,
        phones: phones(&body)?,
        emails: str_list(&body, "emails")?,
        links: str_list(&body, "links")?,
        tags: str_list(&body, "tags")?,
        sources: str_list(&body, "sources")?,
        origin: opt_str(&body, "origin")?,
        owner: opt_str(&body, "owner")?,
        followers: str_list(&body, "followers")?,
        postings: str_list(&body, "postings")?,
        archived,
        contact: opt_str(&body, "contact")?,
        created_at,
        perform_as_posting_owner: q.bool("perform_as_posting_owner")?.unwrap_or(false),
        resume,
        files: other_files,
        application_kind: None,
    };
    let created = actions::create_opportunity(&shared, &mut st, n)?;
    let data = render(&st, &created.opportunity_id, OppView::Write, &[])?;
    Ok(respond::json(http::StatusCode::CREATED, &json!({"deduped": created.deduped, "data": data})))
}

pub async fn stage(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    let user = perform_as(&st, &q, false)?;
    st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let stage = opt_str(&body, "stage")?.ok_or_else(|| ApiError::missing("stage"))?;
    actions::move_stage(&shared, &mut st, &id, &stage, user)?;
    Ok(respond::ok(render(&st, &id, OppView::Write, &[])?))
}

pub async fn archived(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let mut st = shared.lock();
    perform_as(&st, &q, false)?;
    st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    if body.get("reason").is_none() {
        return Err(ApiError::missing("reason"));
    }
    let reason = opt_str(&body, "reason")?;
    actions::set_archived(&shared, &mut st, &id, reason.as_deref())?;
    Ok(respond::ok(render(&st, &id, OppView::Write, &[])?))
}

#[derive(Clone, Copy)]
enum Field {
    Tags,
    Sources,
    Links,
}

async fn edit_list(shared: Shared, id: String, raw: Option<String>, body: Bytes, field: Field, add: bool) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let body = json_body(&body)?;
    let key = match field {
        Field::Tags => "tags",
        Field::Sources => "sources",
        Field::Links => "links",
    };
    let values = str_list(&body, key)?;
    if body.get(key).is_none() {
        return Err(ApiError::missing(key));
    }
    let mut st = shared.lock();
    perform_as(&st, &q, false)?;
    let now = st.now_ms();
    let o = st.opportunity_mut(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let list = match field {
        Field::Tags => &mut o.tags,
        Field::Sources => &mut o.sources,
        Field::Links => &mut o.links,
    };
    for v in values {
        if add {
            if !v.is_empty() && !list.contains(&v) {
                list.push(v);
            }
        } else {
            list.retain(|x| *x != v);
        }
    }
    o.updated_at = now;
    o.last_interaction_at = now;
    Ok(respond::ok(render(&st, &id, OppView::Write, &[])?))
}

macro_rules! list_edit {
    ($name:ident, $field:expr, $add:expr) => {
        pub async fn $name(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> ApiResult<Response> {
            edit_list(shared, id, raw, body, $field, $add).await
        }
    };
}
list_edit!(add_tags, Field::Tags, true);
list_edit!(remove_tags, Field::Tags, false);
list_edit!(add_sources, Field::Sources, true);
list_edit!(remove_sources, Field::Sources, false);
list_edit!(add_links, Field::Links, true);
list_edit!(remove_links, Field::Links, false);

pub async fn applications(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let items = o
        .applications
        .iter()
        .filter_map(|a| st.applications.get(a))
        .map(|a| (Key { rank: 0.0, ts: a.created_at, id: a.id.clone() }, json::application(&st, a)))
        .collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn application(State(shared): State<Shared>, Path((id, app)): Path<(String, String)>) -> ApiResult<Response> {
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    if !o.applications.contains(&app) {
        return Err(ApiError::not_found("applications", &app));
    }
    let a = st.applications.get(&app).ok_or_else(|| ApiError::not_found("applications", &app))?;
    Ok(respond::ok(json::application(&st, a)))
}

pub async fn offers(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let expand_creator = q.all("expand").iter().any(|e| e == "creator");
    let items = o
        .offers
        .iter()
        .map(|of| {
            let mut v = json::offer(&shared.base_url, &o.id, of);
            if expand_creator {
                v["creator"] = st.user(&of.creator).map(json::user).unwrap_or(Value::Null);
            }
            (Key { rank: 0.0, ts: of.created_at, id: of.id.clone() }, v)
        })
        .collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

/// Referral forms cannot be created through the API: only seeded opportunities have any.
pub async fn referrals(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    let o = st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    let items = o.referrals.iter().map(|r| (Key { rank: 0.0, ts: r.created_at, id: r.id.clone() }, json::referral(r))).collect();
    Ok(respond::json(http::StatusCode::OK, &pagination::page(items, &q)?))
}

pub async fn file_actions(State(shared): State<Shared>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    empty_sub_list(shared, id, raw)
}

fn empty_sub_list(shared: Shared, id: String, raw: Option<String>) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let st = shared.lock();
    st.opportunity(&id).ok_or_else(|| ApiError::not_found("opportunities", &id))?;
    Ok(respond::json(http::StatusCode::OK, &pagination::page(vec![], &q)?))
}
