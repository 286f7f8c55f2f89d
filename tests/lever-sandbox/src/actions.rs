//! Domain operations shared by the Data API handlers and the Admin scripting
//! API, so that a scripted hire behaves exactly like one made through the API
//! (same state changes, same webhooks).

use serde_json::json;

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::state::*;
use crate::webhooks::fire;

/// `contactCreated` / `contactUpdated` (data inferred: contact id and account id).
pub fn contact_event(shared: &Shared, st: &mut State, event: &str, contact_id: &str) {
    let data = json!({"contactId": contact_id, "accountId": shared.config.account_id});
    fire(shared, st, event, None, data);
}

/// `interviewCreated` / `Updated` / `Deleted` (data inferred from the docs' field list).
pub fn interview_event(shared: &Shared, st: &mut State, event: &str, opp_id: &str, panel_id: &str, interview_id: &str) {
    let contact = st.opportunity(opp_id).map(|o| o.contact.clone());
    let now = st.now_ms();
    let data = json!({
        "interviewId": interview_id, "panelId": panel_id, "opportunityId": opp_id,
        "candidateId": opp_id, "contactId": contact, "timestamp": now,
    });
    fire(shared, st, event, None, data);
}

fn opp_mut<'a>(st: &'a mut State, id: &str) -> ApiResult<&'a mut Opportunity> {
    st.opportunity_mut(id).ok_or_else(|| ApiError::not_found("opportunities", id))
}

fn event_ids(st: &State, opp_id: &str) -> (String, Option<String>) {
    let o = st.opportunity(opp_id);
    (o.map(|o| o.contact.clone()).unwrap_or_default(), o.map(|o| o.origin.clone()))
}

pub fn move_stage(shared: &Shared, st: &mut State, opp_id: &str, stage_id: &str, user: Option<String>) -> ApiResult<()> {
    let idx = st.stage_index(stage_id).ok_or_else(|| ApiError::bad_request(format!("Invalid stage: {stage_id}")))?;
    let now = st.now_ms();
    let o = opp_mut(st, opp_id)?;
    let from = o.stage.clone();
    o.stage = stage_id.to_string();
    o.stage_changes.push(StageChange { to_stage_id: stage_id.into(), to_stage_index: idx, user_id: user, updated_at: now });
    o.last_advanced_at = now;
    o.updated_at = now;
    o.last_interaction_at = now;
    let (contact, origin) = event_ids(st, opp_id);
    fire(
        shared,
        st,
        "candidateStageChange",
        origin.as_deref(),
        json!({"opportunityId": opp_id, "candidateId": opp_id, "contactId": contact, "toStageId": stage_id, "fromStageId": from}),
    );
    Ok(())
}

/// Archives (reason = Some) or unarchives (None). A `hired`-type reason is a hire.
pub fn set_archived(shared: &Shared, st: &mut State, opp_id: &str, reason: Option<&str>) -> ApiResult<()> {
    let hired = match reason {
        Some(r) => {
            let ar = st.archive_reason(r).ok_or_else(|| ApiError::bad_request(format!("Invalid archive reason: {r}")))?;
            ar.kind == "hired"
        }
        None => false,
    };
    let now = st.now_ms();
    let o = opp_mut(st, opp_id)?;
    let from = o.archived.clone();
    o.archived = reason.map(|r| Archived { reason: r.to_string(), archived_at: now });
    let to = o.archived.clone();
    o.updated_at = now;
    o.last_interaction_at = now;
    if from == to {
        return Ok(());
    }
    let (contact, origin) = event_ids(st, opp_id);
    let arch = |a: &Option<Archived>| a.as_ref().map(|a| json!({"archivedAt": a.archived_at, "reason": a.reason}));
    fire(
        shared,
        st,
        "candidateArchiveChange",
        origin.as_deref(),
        json!({"opportunityId": opp_id, "candidateId": opp_id, "contactId": contact, "fromArchived": arch(&from), "toArchived": arch(&to)}),
    );
    if hired {
        fire(shared, st, "candidateHired", origin.as_deref(), json!({"opportunityId": opp_id, "candidateId": opp_id, "contactId": contact}));
    }
    Ok(())
}

/// Hire = archive with the account's (first active) hired-type reason, plus an
/// offer carrying `anticipated_start_date` so HRIS imports have a start date.
pub fn hire(shared: &Shared, st: &mut State, opp_id: &str, start_date_ms: Option<i64>) -> ApiResult<()> {
    let reason = st
        .archive_reasons
        .iter()
        .find(|r| r.kind == "hired" && r.status == "active")
        .map(|r| r.id.clone())
        .ok_or_else(|| ApiError::bad_request("No hired archive reason configured"))?;
    let now = st.now_ms();
    let start = start_date_ms.unwrap_or(now + 30 * 86_400_000);
    let o = st.opportunity(opp_id).ok_or_else(|| ApiError::not_found("opportunities", opp_id))?.clone();
    let posting = o.applications.first().and_then(|a| st.applications.get(a)).and_then(|a| a.posting.clone());
    let p = posting.as_deref().and_then(|p| st.posting(p)).cloned();
    let name = st.contacts.get(&o.contact).map(|c| c.name.clone()).unwrap_or_default();
    let creator = o.owner.clone().unwrap_or_default();
    let has_start = o.offers.iter().any(|of| of.fields.iter().any(|f| f.1 == "anticipated_start_date"));
    if !has_start {
        let offer = Offer {
            id: uuid::Uuid::new_v4().to_string(),
            posting: posting.clone(),
            created_at: now,
            status: "signed".into(),
            creator,
            fields: vec![
                ("Job posting".into(), "job_posting".into(), json!(posting)),
                ("Job title".into(), "job_title".into(), json!(p.as_ref().map(|p| p.text.clone()))),
                ("Candidate name".into(), "candidate_name".into(), json!(name)),
                ("Salary amount".into(), "salary_amount".into(), json!(100_000)),
                ("Compensation currency".into(), "compensation_currency".into(), json!("USD")),
                ("Salary interval".into(), "salary_interval".into(), json!("per-year-salary")),
                ("Anticipated start date".into(), "anticipated_start_date".into(), json!(start)),
            ],
            approved_at: Some(now),
            sent_at: Some(now),
        };
        opp_mut(st, opp_id)?.offers.push(offer);
    }
    set_archived(shared, st, opp_id, Some(&reason))
}

#[derive(Debug, Default, Clone)]
pub struct NewOpportunity {
    pub perform_as: String,
    pub name: Option<String>,
    pub headline: Option<String>,
    pub stage: Option<String>,
    pub location: Option<String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<String>,
    pub links: Vec<String>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub origin: Option<String>,
    pub owner: Option<String>,
    pub followers: Vec<String>,
    pub postings: Vec<String>,
    pub archived: Option<(String, Option<i64>)>,
    pub contact: Option<String>,
    pub created_at: Option<i64>,
    pub perform_as_posting_owner: bool,
    pub resume: Option<StoredFile>,
    pub files: Vec<StoredFile>,
    /// `posting` for candidates who applied themselves; `user` otherwise.
    pub application_kind: Option<String>,
}

pub struct Created {
    pub opportunity_id: String,
    pub application_id: Option<String>,
    pub deduped: bool,
}

fn push_unique(v: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for i in items {
        if !i.is_empty() && !v.contains(&i) {
            v.push(i);
        }
    }
}

pub fn create_opportunity(shared: &Shared, st: &mut State, n: NewOpportunity) -> ApiResult<Created> {
    if n.postings.len() > 1 {
        return Err(ApiError::bad_request("Opportunities can only be created for one posting at a time"));
    }
    let posting = match n.postings.first() {
        Some(pid) => Some(st.posting(pid).cloned().ok_or_else(|| ApiError::bad_request(format!("Invalid posting: {pid}")))?),
        None => None,
    };
    let stage = n.stage.clone().unwrap_or_else(|| "lead-new".into());
    let stage_index = st.stage_index(&stage).ok_or_else(|| ApiError::bad_request(format!("Invalid stage: {stage}")))?;
    let origin = n.origin.clone().unwrap_or_else(|| "sourced".into());
    if !crate::webhooks::ORIGINS.contains(&origin.as_str()) {
        return Err(ApiError::bad_request(format!("Invalid origin: {origin}")));
    }
    for u in n.owner.iter().chain(n.followers.iter()) {
        if st.user(u).is_none() {
            return Err(ApiError::bad_request(format!("Invalid user: {u}")));
        }
    }
    if let Some((reason, _)) = &n.archived
        && st.archive_reason(reason).is_none()
    {
        return Err(ApiError::bad_request(format!("Invalid archive reason: {reason}")));
    }
    let now = st.now_ms();
    if n.created_at.is_some_and(|c| c > now) {
        return Err(ApiError::bad_request("createdAt must be in the past"));
    }
    let created_at = n.created_at.unwrap_or(now);

    // Contact resolution: explicit contact, else email dedupe, else a new person.
    let (contact_id, deduped) = match &n.contact {
        Some(c) => {
            if !st.contacts.contains_key(c) {
                return Err(ApiError::bad_request(format!("Invalid contact: {c}")));
            }
            (c.clone(), false)
        }
        None => match st.contact_by_email(&n.emails) {
            Some(c) => (c, true),
            None => (uuid::Uuid::new_v4().to_string(), false),
        },
    };
    let new_contact = !st.contacts.contains_key(&contact_id);
    let contact = st.contacts.entry(contact_id.clone()).or_insert_with(|| Contact {
        id: contact_id.clone(),
        name: n.name.clone().unwrap_or_default(),
        headline: n.headline.clone().unwrap_or_default(),
        location: n.location.clone().unwrap_or_default(),
        emails: vec![],
        phones: vec![],
    });
    // Existing contact data wins; new emails and phones are merged in.
    let known = (contact.emails.len(), contact.phones.len());
    if contact.name.is_empty() {
        contact.name = n.name.clone().unwrap_or_default();
    }
    if contact.headline.is_empty() {
        contact.headline = n.headline.clone().unwrap_or_default();
    }
    for e in &n.emails {
        if !contact.emails.iter().any(|x| canonical_email(x) == canonical_email(e)) {
            contact.emails.push(e.clone());
        }
    }
    for p in &n.phones {
        if !contact.phones.iter().any(|x| x.value == p.value) {
            contact.phones.push(p.clone());
        }
    }
    let contact_changed = !new_contact && known != (contact.emails.len(), contact.phones.len());

    let owner = if n.perform_as_posting_owner {
        posting.as_ref().map(|p| p.owner.clone()).or(n.owner.clone()).unwrap_or(n.perform_as.clone())
    } else {
        n.owner.clone().unwrap_or(n.perform_as.clone())
    };
    let mut tags = vec![];
    push_unique(&mut tags, n.tags.clone());
    if let Some(p) = &posting {
        push_unique(&mut tags, crate::seed::posting_tags(p));
    }
    let mut sources = vec![];
    push_unique(&mut sources, n.sources.clone());
    let mut followers = vec![];
    push_unique(&mut followers, n.followers.clone());
    // Recordings: with a posting, the posting's owner follows; otherwise the creator.
    push_unique(&mut followers, [posting.as_ref().map(|p| p.owner.clone()).unwrap_or(n.perform_as.clone())]);

    let opp_id = uuid::Uuid::new_v4().to_string();
    let mut application_id = None;
    if let Some(p) = &posting {
        let id = uuid::Uuid::new_v4().to_string();
        let kind = n.application_kind.clone().unwrap_or_else(|| "user".into());
        let applied = kind == "posting";
        let c = &st.contacts[&contact_id];
        st.applications.insert(
            id.clone(),
            Application {
                id: id.clone(),
                opportunity_id: opp_id.clone(),
                posting: Some(p.id.clone()),
                user: (!applied).then(|| n.perform_as.clone()),
                name: applied.then(|| c.name.clone()),
                email: if applied { c.emails.first().cloned() } else { None },
                phone: if applied { c.phones.first().map(|p| p.value.clone()) } else { None },
                company: None,
                links: if applied { n.links.clone() } else { vec![] },
                comments: None,
                created_at: now,
                kind,
            },
        );
        application_id = Some(id);
    }
    let archived = n.archived.as_ref().map(|(r, at)| Archived { reason: r.clone(), archived_at: at.unwrap_or(now) });
    let mut resumes = vec![];
    if let Some(r) = n.resume.clone() {
        resumes.push(r);
    }
    st.opportunities.push(Opportunity {
        id: opp_id.clone(),
        contact: contact_id.clone(),
        stage: stage.clone(),
        confidentiality: "non-confidential".into(),
        links: n.links.clone(),
        archived,
        tags,
        sources,
        stage_changes: vec![StageChange {
            to_stage_id: stage,
            to_stage_index: stage_index,
            user_id: Some(n.perform_as.clone()),
            updated_at: created_at,
        }],
        origin: origin.clone(),
        sourced_by: Some(n.perform_as.clone()),
        owner: Some(owner),
        followers,
        applications: application_id.iter().cloned().collect(),
        created_at,
        updated_at: now,
        last_interaction_at: now,
        last_advanced_at: created_at,
        opportunity_location: posting.as_ref().and_then(|p| p.categories.location.clone()),
        notes: vec![],
        files: n.files.clone(),
        resumes,
        offers: vec![],
        referrals: vec![],
    });
    if new_contact {
        contact_event(shared, st, "contactCreated", &contact_id);
    } else if contact_changed {
        contact_event(shared, st, "contactUpdated", &contact_id);
    }
    if let Some(app) = &application_id {
        fire(
            shared,
            st,
            "applicationCreated",
            Some(&origin),
            json!({
                "applicationId": app, "opportunityId": opp_id, "candidateId": opp_id,
                "contactId": contact_id, "postingId": posting.as_ref().map(|p| p.id.clone()),
            }),
        );
    }
    Ok(Created { opportunity_id: opp_id, application_id, deduped })
}
