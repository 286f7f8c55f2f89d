//! Renders sandbox entities in Lever's wire shapes. Key sets and nullability
//! follow the recordings in `shared/lever-recordings` (they win over the docs).

use serde_json::{Value, json};

use crate::state::*;

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id, "name": u.name, "username": u.username, "email": u.email,
        "accessRole": u.access_role, "photo": u.photo, "createdAt": u.created_at,
        "deactivatedAt": u.deactivated_at, "externalDirectoryId": u.external_directory_id,
        "linkedContactIds": u.linked_contact_ids, "jobTitle": u.job_title, "managerId": u.manager_id,
    })
}

pub fn stage(s: &Stage) -> Value {
    json!({"id": s.id, "text": s.text})
}

pub fn archive_reason(r: &ArchiveReason) -> Value {
    json!({"id": r.id, "text": r.text, "status": r.status, "type": r.kind})
}

pub fn posting_urls(site: &str, p: &Posting) -> Value {
    // Recordings: drafts and closed postings carry `urls: null`; listed ones carry all three.
    match p.state.as_str() {
        "published" | "internal" => json!({
            "list": format!("https://jobs.lever.co/{site}"),
            "show": posting_show_url(site, p),
            "apply": format!("https://jobs.lever.co/{site}/{}/apply", p.id),
        }),
        _ => Value::Null,
    }
}

/// `urls.show` as rendered: some postings carry a trailing `/` (the docs show both forms).
pub fn posting_show_url(site: &str, p: &Posting) -> String {
    let slash = if p.show_url_trailing_slash { "/" } else { "" };
    format!("https://jobs.lever.co/{site}/{}{slash}", p.id)
}

pub fn posting(site: &str, p: &Posting, with_content: bool) -> Value {
    let mut v = json!({
        "id": p.id, "text": p.text, "state": p.state,
        "distributionChannels": p.distribution_channels,
        "user": p.user, "owner": p.owner, "hiringManager": p.hiring_manager,
        "categories": {
            "commitment": p.categories.commitment, "department": p.categories.department,
            "level": Value::Null, "location": p.categories.location, "team": p.categories.team,
            "allLocations": p.categories.all_locations,
        },
        "tags": p.tags,
    });
    let o = v.as_object_mut().expect("object literal");
    if with_content {
        o.insert(
            "content".into(),
            json!({
                "description": p.content.description,
                "descriptionHtml": p.content.description_html,
                "lists": p.content.lists.iter().map(|(t, c)| json!({"text": t, "content": c})).collect::<Vec<_>>(),
                "closing": p.content.closing,
                "closingHtml": p.content.closing_html,
            }),
        );
    }
    o.insert("country".into(), json!(p.country));
    o.insert("followers".into(), json!(p.followers));
    o.insert("reqCode".into(), json!(p.req_code));
    o.insert("requisitionCodes".into(), json!(p.requisition_codes));
    o.insert("urls".into(), posting_urls(site, p));
    o.insert("confidentiality".into(), json!(p.confidentiality));
    o.insert("createdAt".into(), json!(p.created_at));
    o.insert("updatedAt".into(), json!(p.updated_at));
    o.insert("workplaceType".into(), json!(p.workplace_type));
    if let Some(s) = &p.salary_range {
        o.insert("salaryRange".into(), json!({"min": s.min, "max": s.max, "currency": s.currency, "interval": s.interval}));
    }
    if let Some(d) = &p.salary_description {
        o.insert("salaryDescription".into(), json!(d));
        o.insert("salaryDescriptionHtml".into(), json!(format!("<p>{d}</p>")));
    }
    o.insert("transcribeInterviews".into(), json!(false));
    o.insert("screening".into(), json!({"enabled": false}));
    v
}

/// How an opportunity is being rendered: reads include `opportunityLocation`
/// when the opportunity has one, write responses never do (recordings).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OppView {
    Read,
    Write,
}

pub fn opportunity(st: &State, o: &Opportunity, view: OppView) -> Value {
    let c = st.contacts.get(&o.contact);
    let name = c.map(|c| c.name.clone()).unwrap_or_default();
    let headline = c.map(|c| c.headline.clone()).unwrap_or_default();
    let location = c.map(|c| c.location.clone()).unwrap_or_default();
    let emails = c.map(|c| c.emails.clone()).unwrap_or_default();
    let phones = c.map(|c| c.phones.clone()).unwrap_or_default();
    let mut v = json!({
        "id": o.id, "name": name, "contact": o.contact, "headline": headline,
        "stage": o.stage, "confidentiality": o.confidentiality, "location": location,
        "phones": phones, "emails": emails, "links": o.links,
        "archived": o.archived.as_ref().map(|a| json!({"reason": a.reason, "archivedAt": a.archived_at})),
        "tags": o.tags, "sources": o.sources,
        "stageChanges": o.stage_changes.iter().map(|s| json!({
            "toStageId": s.to_stage_id, "toStageIndex": s.to_stage_index,
            "updatedAt": s.updated_at, "userId": s.user_id,
        })).collect::<Vec<_>>(),
        "origin": o.origin, "sourcedBy": o.sourced_by, "owner": o.owner,
        "followers": o.followers, "applications": o.applications,
        "createdAt": o.created_at, "updatedAt": o.updated_at,
        "lastInteractionAt": o.last_interaction_at, "lastAdvancedAt": o.last_advanced_at,
        "snoozedUntil": Value::Null,
        "urls": {
            "list": "https://hire.lever.co/candidates",
            "show": format!("https://hire.lever.co/candidates/{}", o.id),
        },
        "isAnonymized": false,
        "dataProtection": Value::Null,
    });
    // One made without a posting through the API has none (recordings); seeded ones mostly do.
    if view == OppView::Read
        && let Some(loc) = &o.opportunity_location
    {
        v["opportunityLocation"] = json!(loc);
    }
    v
}

/// Contact as `GET /contacts/:id` renders it. The `PUT` answer (recorded) has
/// no `isAnonymized`/`dataProtection`; reads carry both.
pub fn contact(c: &Contact, read: bool) -> Value {
    let mut v = json!({
        "id": c.id, "name": c.name, "headline": c.headline,
        "location": {"name": c.location}, "emails": c.emails, "phones": c.phones,
    });
    if read {
        v["isAnonymized"] = json!(false);
        v["dataProtection"] = Value::Null;
    }
    v
}

pub fn application(st: &State, a: &Application) -> Value {
    let p = a.posting.as_deref().and_then(|id| st.posting(id));
    let archived =
        st.opportunity(&a.opportunity_id).and_then(|o| o.archived.as_ref()).map(|a| json!({"reason": a.reason, "archivedAt": a.archived_at}));
    json!({
        "id": a.id, "type": a.kind, "candidateId": a.opportunity_id, "opportunityId": a.opportunity_id,
        "posting": a.posting,
        "postingHiringManager": p.and_then(|p| p.hiring_manager.clone()),
        "postingOwner": p.map(|p| p.owner.clone()),
        "name": a.name, "company": a.company, "phone": a.phone, "email": a.email,
        "links": a.links, "comments": a.comments, "user": a.user,
        "customQuestions": [], "createdAt": a.created_at, "archived": archived,
        "requisitionForHire": Value::Null, "ipAddress": Value::Null, "referer": Value::Null,
        "userAgent": Value::Null, "acceptLanguage": Value::Null, "timezone": Value::Null,
    })
}

/// A referral form as `GET …/referrals` renders it (Lever's documented referral object).
pub fn referral(r: &Referral) -> Value {
    let fields: Vec<Value> = r
        .fields
        .iter()
        .map(|f| {
            let mut v = json!({"type": f.kind, "text": f.text, "description": f.description, "required": f.required, "value": f.value});
            if let Some(prompt) = &f.prompt {
                v["prompt"] = json!(prompt);
            }
            if let Some(options) = &f.options {
                v["options"] = options.iter().map(|o| json!({"text": o})).collect();
            }
            v
        })
        .collect();
    json!({
        "id": r.id, "type": "referral", "text": r.text, "instructions": r.instructions, "fields": fields,
        "baseTemplateId": r.base_template_id, "user": r.user, "referrer": r.referrer, "stage": r.stage,
        "createdAt": r.created_at, "completedAt": r.completed_at,
    })
}

pub fn note(n: &Note) -> Value {
    let fields: Vec<Value> = n
        .comments
        .iter()
        .map(|c| {
            json!({
                "createdAt": c.created_at, "score": c.score, "stage": c.stage,
                "text": "Comment", "type": "note", "user": c.user, "value": c.value,
            })
        })
        .collect();
    json!({
        "id": n.id, "text": "Note", "fields": fields, "user": n.user, "secret": n.secret,
        "completedAt": n.created_at, "deletedAt": Value::Null, "createdAt": n.created_at,
    })
}

fn file_status(f: &StoredFile) -> &'static str {
    if now_ms() < f.processed_at { "processing" } else { "processed" }
}

pub fn file(base: &str, opp: &str, f: &StoredFile) -> Value {
    json!({
        "id": f.id,
        "downloadUrl": format!("{base}/v1/opportunities/{opp}/files/{}/download", f.id),
        "ext": f.ext, "name": f.name, "uploadedAt": f.uploaded_at, "status": file_status(f), "size": f.size,
    })
}

pub fn resume(base: &str, opp: &str, f: &StoredFile) -> Value {
    json!({
        "id": f.id,
        "createdAt": f.uploaded_at,
        "file": {
            "name": f.name, "ext": f.ext,
            "downloadUrl": format!("{base}/v1/opportunities/{opp}/resumes/{}/download", f.id),
            "uploadedAt": f.uploaded_at, "status": file_status(f), "size": f.size,
        },
        "parsedData": {"positions": [], "schools": []},
    })
}

pub fn offer(base: &str, opp: &str, o: &Offer) -> Value {
    json!({
        "id": o.id, "posting": o.posting, "createdAt": o.created_at, "status": o.status,
        "creator": o.creator,
        "fields": o.fields.iter().map(|(t, i, v)| json!({"text": t, "identifier": i, "value": v})).collect::<Vec<_>>(),
        "signatures": {"candidate": Value::Null, "additional": []},
        "approved": o.approved_at.is_some(), "approvedAt": o.approved_at, "sentAt": o.sent_at,
        "sentDocument": o.sent_at.map(|s| json!({
            "fileName": "offer.pdf", "uploadedAt": s,
            "downloadUrl": format!("{base}/v1/opportunities/{opp}/offers/{}/download?status=sent", o.id),
        })),
        "signedDocument": Value::Null,
    })
}

pub fn webhook(w: &Webhook, with_token: bool) -> Value {
    let mut conf = json!({"conditions": {"origins": w.origins}});
    if with_token {
        conf["signatureToken"] = json!(w.signature_token);
    }
    json!({
        "id": w.id, "event": w.event, "url": w.url, "configuration": conf,
        "createdAt": w.created_at, "updatedAt": w.updated_at,
    })
}

pub fn user_ref(st: &State, id: &str) -> Value {
    st.user(id).map(|u| json!({"id": u.id, "name": u.name, "email": u.email})).unwrap_or(Value::Null)
}

pub fn interview(st: &State, opp: &str, i: &Interview) -> Value {
    let postings: Vec<String> = st
        .opportunity(opp)
        .map(|o| o.applications.iter().filter_map(|a| st.applications.get(a)).filter_map(|a| a.posting.clone()).collect())
        .unwrap_or_default();
    json!({
        "id": i.id, "panel": i.panel, "subject": i.subject, "note": Value::Null,
        "interviewers": i.interviewers.iter().map(|u| {
            let mut r = user_ref(st, u);
            if r.is_object() { r["feedbackTemplate"] = Value::Null; }
            r
        }).collect::<Vec<_>>(),
        "timezone": "America/Los_Angeles", "createdAt": i.created_at, "date": i.date,
        "duration": i.duration_minutes, "location": i.location, "feedbackTemplate": Value::Null,
        "feedbackForms": [], "feedbackReminder": "frequently", "user": i.user, "stage": i.stage,
        "canceledAt": i.canceled_at, "postings": postings, "gcalEventUrl": Value::Null,
    })
}

pub fn panel(st: &State, opp: &str, p: &Panel) -> Value {
    let interviews: Vec<Value> = st
        .interviews
        .get(opp)
        .map(|l| {
            l.iter()
                .filter(|i| i.panel == p.id)
                .map(|i| {
                    json!({
                        "id": i.id, "interviewers": i.interviewers.iter().map(|u| user_ref(st, u)).collect::<Vec<_>>(),
                        "subject": i.subject, "note": Value::Null, "location": i.location, "date": i.date,
                        "duration": i.duration_minutes, "feedbackTemplate": Value::Null, "feedbackForms": [],
                        "feedbackReminder": "frequently",
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": p.id, "applications": p.applications, "canceledAt": p.canceled_at, "createdAt": p.created_at,
        "start": p.start, "end": p.end, "timezone": p.timezone, "feedbackReminder": "frequently",
        "user": p.user, "stage": p.stage, "note": p.note, "interviews": interviews,
        "externallyManaged": false, "externalUrl": Value::Null,
    })
}

pub fn feedback(f: &Feedback) -> Value {
    json!({
        "id": f.id, "type": "interview", "text": "Interview feedback",
        "instructions": "Rate the candidate and say why.", "baseTemplateId": Value::Null,
        "interview": f.interview, "panel": f.panel, "user": f.user,
        "fields": [
            {"type": "score-system", "text": "Rating", "description": "", "required": true, "value": f.rating,
             "options": [{"text": "4 - Strong Hire"}, {"text": "3 - Hire"}, {"text": "2 - No Hire"}, {"text": "1 - Strong No Hire"}]},
            {"type": "textarea", "text": "Comments", "description": "", "required": false, "value": f.comment},
        ],
        "createdAt": f.created_at, "completedAt": f.completed_at, "updatedAt": f.completed_at, "deletedAt": Value::Null,
    })
}

pub fn requisition(r: &Requisition) -> Value {
    json!({
        "id": r.id, "requisitionCode": r.code, "name": r.name, "backfill": r.backfill,
        "confidentiality": "non-confidential", "createdAt": r.created_at, "updatedAt": r.updated_at,
        "creator": r.creator, "headcountHired": r.headcount_hired, "headcountInfinite": false,
        "headcountTotal": r.headcount_total, "status": r.status, "hiringManager": r.hiring_manager,
        "owner": r.owner,
        "compensationBand": r.compensation.as_ref().map(|c| json!({"currency": c.currency, "interval": c.interval, "min": c.min, "max": c.max})),
        "employmentStatus": r.employment_status, "location": r.location, "internalNotes": r.internal_notes,
        "postings": r.postings, "department": r.department, "team": r.team, "offerIds": r.offer_ids,
        "approval": Value::Null, "customFields": {}, "timeToFillStartAt": r.created_at, "timeToFillEndAt": Value::Null,
    })
}
