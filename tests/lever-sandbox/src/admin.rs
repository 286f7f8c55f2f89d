//! In-process scripting and inspection of a running sandbox. Everything here is
//! also reachable over HTTP under `/_admin/...` (see `admin_http`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Shared;
use crate::actions;
use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::seed::SeedIds;
use crate::state::{ApiKey, Archived, ConsentMode, Counters, Deleted, Interview, Offer, Opportunity, Panel, State, StoredFile, Webhook, WriteRecord};
use crate::webhooks::{Delivery, EVENTS};

#[derive(Clone)]
pub struct Admin {
    shared: Shared,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileSnapshot {
    pub id: String,
    pub name: String,
    pub ext: String,
    pub size: usize,
    pub content_type: Option<String>,
    /// The exact bytes received (base64 over the HTTP admin API, as `bytes_base64`).
    #[serde(rename = "bytes_base64", serialize_with = "as_base64")]
    pub bytes: Vec<u8>,
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[derive(Clone, Debug, Serialize)]
pub struct NoteSnapshot {
    pub id: String,
    /// Text of the note, then of each threaded comment.
    pub values: Vec<String>,
    pub user: Option<String>,
    pub secret: bool,
    pub score: Option<i64>,
}

/// Everything the hub may have written to one opportunity (and its contact).
#[derive(Clone, Debug, Serialize)]
pub struct OpportunitySnapshot {
    pub id: String,
    pub contact: String,
    pub name: String,
    pub headline: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub links: Vec<String>,
    pub stage: String,
    pub owner: Option<String>,
    pub sourced_by: Option<String>,
    pub followers: Vec<String>,
    pub origin: String,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub archived: Option<Archived>,
    /// Posting ids of the candidacy's applications.
    pub postings: Vec<String>,
    pub applications: Vec<String>,
    pub notes: Vec<NoteSnapshot>,
    pub files: Vec<FileSnapshot>,
    pub resume: Option<FileSnapshot>,
    /// Offers as `GET /opportunities/:id/offers` renders them, oldest first.
    pub offers: Vec<Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_advanced_at: i64,
}

/// A candidate applying on the careers page (`Admin::create_applicant`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApplicantSpec {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub links: Vec<String>,
    /// Defaults to `["Job site"]`.
    pub sources: Vec<String>,
    /// `(file name, bytes)` of a resume sent with the application.
    #[serde(skip)]
    pub resume: Option<(String, Vec<u8>)>,
}

/// An offer added by the recruiter (`Admin::add_offer`). Offers never move the
/// opportunity's `updatedAt`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct OfferSpec {
    /// One of `draft`, `approval-sent`, `approved`, `sent`, `sent-manually`, `opened`, `denied`, `signed`.
    pub status: String,
    /// Epoch milliseconds, as Lever's `anticipated_start_date` field carries it.
    pub anticipated_start_date: Option<i64>,
    pub salary_amount: Option<i64>,
    pub currency: String,
    /// Extra `{text, identifier, value}` fields (e.g. `custom_equity`).
    pub fields: Vec<(String, String, Value)>,
    /// Defaults to now.
    pub created_at: Option<i64>,
}

impl Default for OfferSpec {
    fn default() -> Self {
        OfferSpec {
            status: "signed".into(),
            anticipated_start_date: None,
            salary_amount: None,
            currency: "USD".into(),
            fields: vec![],
            created_at: None,
        }
    }
}

/// An interview on a new panel (`Admin::schedule_interview`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct InterviewSpec {
    pub subject: String,
    /// User ids; default the seeded interviewer.
    pub interviewers: Vec<String>,
    /// Epoch milliseconds; default one day from now.
    pub date: Option<i64>,
    pub duration_minutes: i64,
    pub location: Option<String>,
}

impl Default for InterviewSpec {
    fn default() -> Self {
        InterviewSpec { subject: "Interview".into(), interviewers: vec![], date: None, duration_minutes: 60, location: Some("Video call".into()) }
    }
}

pub const OFFER_STATUSES: &[&str] = &["draft", "approval-sent", "approved", "sent", "sent-manually", "opened", "denied", "signed"];

fn file(f: &StoredFile) -> FileSnapshot {
    FileSnapshot {
        id: f.id.clone(),
        name: f.name.clone(),
        ext: f.ext.clone(),
        size: f.size,
        content_type: f.content_type.clone(),
        bytes: f.bytes.clone(),
    }
}

fn snapshot(st: &State, o: &Opportunity, base: &str) -> OpportunitySnapshot {
    let c = st.contacts.get(&o.contact);
    OpportunitySnapshot {
        id: o.id.clone(),
        contact: o.contact.clone(),
        name: c.map(|c| c.name.clone()).unwrap_or_default(),
        headline: c.map(|c| c.headline.clone()).unwrap_or_default(),
        emails: c.map(|c| c.emails.clone()).unwrap_or_default(),
        phones: c.map(|c| c.phones.iter().map(|p| p.value.clone()).collect()).unwrap_or_default(),
        links: o.links.clone(),
        stage: o.stage.clone(),
        owner: o.owner.clone(),
        sourced_by: o.sourced_by.clone(),
        followers: o.followers.clone(),
        origin: o.origin.clone(),
        tags: o.tags.clone(),
        sources: o.sources.clone(),
        archived: o.archived.clone(),
        postings: o.applications.iter().filter_map(|a| st.applications.get(a)).filter_map(|a| a.posting.clone()).collect(),
        applications: o.applications.clone(),
        notes: o
            .notes
            .iter()
            .map(|n| NoteSnapshot {
                id: n.id.clone(),
                values: n.comments.iter().map(|c| c.value.clone()).collect(),
                user: n.user.clone(),
                secret: n.secret,
                score: n.comments.first().and_then(|c| c.score),
            })
            .collect(),
        files: o.files.iter().map(file).collect(),
        resume: o.resumes.last().map(file),
        offers: o.offers.iter().map(|of| crate::json::offer(base, &o.id, of)).collect(),
        created_at: o.created_at,
        updated_at: o.updated_at,
        last_advanced_at: o.last_advanced_at,
    }
}

fn bad(msg: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!(msg.into())
}

fn api(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{} {}: {}", e.status.as_u16(), e.code, e.message)
}

impl Admin {
    pub(crate) fn new(shared: Shared) -> Self {
        Admin { shared }
    }

    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Runs `f` on the account and writes the state file afterwards.
    fn mutate<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = {
            let mut st = self.shared.lock();
            f(&mut st)
        };
        self.shared.persist();
        r
    }

    /// Writes the state file now (it is also written after every change).
    pub fn persist(&self) {
        self.shared.persist();
    }

    // ---- OAuth and credentials ----

    /// What `/authorize` does: approve at once, show the consent page, or deny.
    pub fn set_consent(&self, mode: ConsentMode) {
        self.mutate(|st| st.consent = Some(mode));
    }

    /// Account id recorded in grants made by later consents (default: config `account_id`).
    pub fn set_consent_account(&self, account_id: Option<String>) {
        self.mutate(|st| st.consent_account = account_id);
    }

    /// Later consents grant only those requested scopes that are in `scopes` (`None`: all that
    /// were requested), as when a Lever app's scopes were narrowed after the hub asked.
    pub fn set_granted_scopes(&self, scopes: Option<Vec<String>>) {
        self.mutate(|st| st.granted_scopes = scopes);
    }

    /// Revokes every grant: refresh → 403 `invalid_grant`, Data API → 401.
    pub fn revoke_all(&self) -> usize {
        self.revoke(None)
    }

    /// Revokes the grants of one account only.
    pub fn revoke_account(&self, account_id: &str) -> usize {
        self.revoke(Some(account_id))
    }

    fn revoke(&self, account: Option<&str>) -> usize {
        self.mutate(|st| {
            let mut n = 0;
            for g in st.grants.values_mut() {
                if account.is_none_or(|a| g.account_id == a) && !g.revoked {
                    g.revoked = true;
                    n += 1;
                }
            }
            n
        })
    }

    /// Issues tokens as if a Super Admin had consented (skips `/authorize`).
    /// Returns the token endpoint's JSON body (`access_token`, `refresh_token`, ...).
    pub fn issue_tokens(&self, scope: &str) -> Value {
        self.mutate(|st| {
            let account = st.consent_account.clone().unwrap_or_else(|| self.shared.config.account_id.clone());
            crate::oauth::grant_and_mint(&self.shared, st, &account, scope)
        })
    }

    /// Shortcut: a valid access token with every scope plus `offline_access`.
    pub fn access_token(&self) -> String {
        let all = crate::oauth::SCOPES.join(" ");
        self.issue_tokens(&all)["access_token"].as_str().unwrap_or_default().to_string()
    }

    /// Makes every issued access token expired (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        self.mutate(|st| {
            let now = st.token_now();
            for t in st.access_tokens.values_mut() {
                t.expires = now;
            }
        });
    }

    /// Moves the sandbox's token clock forward (access/refresh/code lifetimes only;
    /// data timestamps keep the real clock). E.g. 91 days kills idle refresh tokens.
    pub fn advance_time(&self, by: Duration) {
        self.mutate(|st| st.clock_offset_ms += by.as_millis() as i64);
    }

    /// A new customer API key (HTTP Basic user name, empty password); reaches the whole account.
    pub fn create_api_key(&self, label: Option<&str>) -> String {
        let key = crate::webhooks::random_hex(40);
        self.mutate(|st| {
            let created_at = st.now_ms();
            st.api_keys.insert(key.clone(), ApiKey { key: key.clone(), label: label.map(str::to_string), created_at });
        });
        key
    }

    /// Deletes a key; later requests with it get 401. False if it did not exist.
    pub fn revoke_api_key(&self, key: &str) -> bool {
        self.mutate(|st| st.api_keys.remove(key).is_some())
    }

    pub fn api_keys(&self) -> Vec<ApiKey> {
        self.shared.lock().api_keys.values().cloned().collect()
    }

    // ---- faults ----

    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().faults.push(rule);
    }

    /// The next `times` matching requests get `status` (e.g. 429 with `Retry-After`).
    pub fn fail_next(&self, times: u32, status: u16, retry_after_secs: Option<u64>) {
        self.inject(FaultRule::status(times, status, retry_after_secs));
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.lock().faults.clone()
    }

    // ---- counters and what was received ----

    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    pub fn reset_counters(&self) {
        let mut st = self.shared.lock();
        st.counters = Counters::default();
        st.writes.clear();
    }

    /// Data API calls for one `"METHOD /v1/route/{template}"` key.
    pub fn requests(&self, key: &str) -> u64 {
        self.shared.lock().counters.data_requests.get(key).copied().unwrap_or(0)
    }

    /// Every Data API write received (newest last): route, path, `perform_as`, credential kind, status.
    pub fn writes(&self) -> Vec<WriteRecord> {
        self.shared.lock().writes.clone()
    }

    // ---- webhook groups (Lever: a Super Admin switches each one on) ----

    /// Switches one event's webhook group on or off (`event` = a Lever event name).
    pub fn set_webhooks_enabled(&self, event: &str, enabled: bool) -> anyhow::Result<()> {
        if !EVENTS.contains(&event) {
            return Err(bad(format!("unknown webhook event {event}")));
        }
        self.mutate(|st| st.webhook_groups.insert(event.to_string(), enabled));
        Ok(())
    }

    /// Every webhook group on (what most flow tests want).
    pub fn enable_all_webhooks(&self) {
        self.mutate(|st| EVENTS.iter().for_each(|e| _ = st.webhook_groups.insert(e.to_string(), true)));
    }

    pub fn disable_all_webhooks(&self) {
        self.mutate(|st| EVENTS.iter().for_each(|e| _ = st.webhook_groups.insert(e.to_string(), false)));
    }

    pub fn webhooks_enabled(&self, event: &str) -> bool {
        self.shared.lock().webhooks_enabled(event)
    }

    /// Every event with its group's switch.
    pub fn webhook_groups(&self) -> BTreeMap<String, bool> {
        let st = self.shared.lock();
        EVENTS.iter().map(|e| (e.to_string(), st.webhooks_enabled(e))).collect()
    }

    // ---- scenario actions (same effects and webhooks as the API) ----

    /// Hires: archives with the hired-type reason (firing `candidateArchiveChange`
    /// then `candidateHired`) and adds a signed offer with `anticipated_start_date`
    /// (now + 30 days unless given) when the candidate has none.
    pub fn hire(&self, opportunity_id: &str, start_date_ms: Option<i64>) -> anyhow::Result<()> {
        self.mutate(|st| actions::hire(&self.shared, st, opportunity_id, start_date_ms)).map_err(api)
    }

    pub fn move_stage(&self, opportunity_id: &str, stage_id: &str) -> anyhow::Result<()> {
        let user = Some(self.shared.seed_ids.super_admin.clone());
        self.mutate(|st| actions::move_stage(&self.shared, st, opportunity_id, stage_id, user)).map_err(api)
    }

    /// Archive with a reason id (a hired-type one is a hire), or unarchive with `None`.
    pub fn set_archived(&self, opportunity_id: &str, reason: Option<&str>) -> anyhow::Result<()> {
        self.mutate(|st| actions::set_archived(&self.shared, st, opportunity_id, reason)).map_err(api)
    }

    /// Adds an offer; returns its id. The opportunity's `updatedAt` does not move (Lever).
    pub fn add_offer(&self, opportunity_id: &str, spec: OfferSpec) -> anyhow::Result<String> {
        if !OFFER_STATUSES.contains(&spec.status.as_str()) {
            return Err(bad(format!("offer status must be one of {OFFER_STATUSES:?}")));
        }
        self.mutate(|st| {
            let now = st.now_ms();
            let o = st.opportunity(opportunity_id).cloned().ok_or_else(|| bad(format!("no opportunity {opportunity_id}")))?;
            let posting = o.applications.first().and_then(|a| st.applications.get(a)).and_then(|a| a.posting.clone());
            let title = posting.as_deref().and_then(|p| st.posting(p)).map(|p| p.text.clone());
            let hm = posting.as_deref().and_then(|p| st.posting(p)).and_then(|p| p.hiring_manager.clone());
            let name = st.contacts.get(&o.contact).map(|c| c.name.clone()).unwrap_or_default();
            let created_at = spec.created_at.unwrap_or(now);
            let mut fields = vec![
                ("Job posting".to_string(), "job_posting".to_string(), json!(posting)),
                ("Job title".into(), "job_title".into(), json!(title)),
                ("Candidate name".into(), "candidate_name".into(), json!(name)),
                ("Salary amount".into(), "salary_amount".into(), json!(spec.salary_amount.unwrap_or(100_000))),
                ("Compensation currency".into(), "compensation_currency".into(), json!(spec.currency)),
                ("Salary interval".into(), "salary_interval".into(), json!("per-year-salary")),
                ("Hiring manager".into(), "hiring_manager".into(), json!(hm)),
            ];
            if let Some(start) = spec.anticipated_start_date {
                fields.push(("Anticipated start date".into(), "anticipated_start_date".into(), json!(start)));
            }
            fields.extend(spec.fields.clone());
            let status = spec.status.clone();
            let offer = Offer {
                id: uuid::Uuid::new_v4().to_string(),
                posting,
                created_at,
                approved_at: (status != "draft" && status != "approval-sent").then_some(created_at),
                sent_at: matches!(status.as_str(), "sent" | "sent-manually" | "opened" | "denied" | "signed").then_some(created_at),
                status,
                creator: o.owner.clone().unwrap_or_else(|| self.shared.seed_ids.super_admin.clone()),
                fields,
            };
            let id = offer.id.clone();
            if let Some(o) = st.opportunity_mut(opportunity_id) {
                o.offers.push(offer);
            }
            Ok(id)
        })
    }

    /// Moves an offer along (e.g. `sent` → `signed`); `updatedAt` stays.
    pub fn set_offer_status(&self, opportunity_id: &str, offer_id: &str, status: &str) -> anyhow::Result<()> {
        if !OFFER_STATUSES.contains(&status) {
            return Err(bad(format!("offer status must be one of {OFFER_STATUSES:?}")));
        }
        self.mutate(|st| {
            let now = st.now_ms();
            let o = st.opportunity_mut(opportunity_id).ok_or_else(|| bad(format!("no opportunity {opportunity_id}")))?;
            let of = o.offers.iter_mut().find(|x| x.id == offer_id).ok_or_else(|| bad(format!("no offer {offer_id}")))?;
            of.status = status.to_string();
            if status != "draft" && status != "approval-sent" {
                of.approved_at.get_or_insert(now);
            }
            if matches!(status, "sent" | "sent-manually" | "opened" | "denied" | "signed") {
                of.sent_at.get_or_insert(now);
            }
            Ok(())
        })
    }

    /// Schedules an interview on a new panel and fires `interviewCreated`. Returns (panel, interview).
    pub fn schedule_interview(&self, opportunity_id: &str, spec: InterviewSpec) -> anyhow::Result<(String, String)> {
        self.mutate(|st| {
            let now = st.now_ms();
            let o = st.opportunity(opportunity_id).cloned().ok_or_else(|| bad(format!("no opportunity {opportunity_id}")))?;
            let interviewers = if spec.interviewers.is_empty() { vec![self.shared.seed_ids.interviewer.clone()] } else { spec.interviewers.clone() };
            if let Some(u) = interviewers.iter().find(|u| st.user(u).is_none()) {
                return Err(bad(format!("no user {u}")));
            }
            let date = spec.date.unwrap_or(now + 86_400_000);
            let user = o.owner.clone().unwrap_or_else(|| self.shared.seed_ids.super_admin.clone());
            let (panel_id, interview_id) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
            st.panels.entry(o.id.clone()).or_default().push(Panel {
                id: panel_id.clone(),
                applications: o.applications.clone(),
                start: date,
                end: date + spec.duration_minutes * 60_000,
                timezone: "America/Los_Angeles".into(),
                stage: o.stage.clone(),
                user: user.clone(),
                note: None,
                created_at: now,
                canceled_at: None,
            });
            st.interviews.entry(o.id.clone()).or_default().push(Interview {
                id: interview_id.clone(),
                panel: panel_id.clone(),
                subject: spec.subject.clone(),
                interviewers,
                date,
                duration_minutes: spec.duration_minutes,
                location: spec.location.clone(),
                stage: o.stage.clone(),
                user,
                created_at: now,
                canceled_at: None,
            });
            actions::interview_event(&self.shared, st, "interviewCreated", &o.id, &panel_id, &interview_id);
            Ok((panel_id, interview_id))
        })
    }

    /// Moves an interview to a new time and fires `interviewUpdated`.
    pub fn reschedule_interview(&self, opportunity_id: &str, interview_id: &str, date: i64) -> anyhow::Result<()> {
        self.mutate(|st| {
            let list = st.interviews.get_mut(opportunity_id).ok_or_else(|| bad(format!("no interviews on {opportunity_id}")))?;
            let i = list.iter_mut().find(|i| i.id == interview_id).ok_or_else(|| bad(format!("no interview {interview_id}")))?;
            i.date = date;
            let panel = i.panel.clone();
            actions::interview_event(&self.shared, st, "interviewUpdated", opportunity_id, &panel, interview_id);
            Ok(())
        })
    }

    /// Deletes an interview (and its panel when it was the last one) and fires `interviewDeleted`.
    pub fn delete_interview(&self, opportunity_id: &str, interview_id: &str) -> anyhow::Result<()> {
        self.mutate(|st| {
            let list = st.interviews.get_mut(opportunity_id).ok_or_else(|| bad(format!("no interviews on {opportunity_id}")))?;
            let pos = list.iter().position(|i| i.id == interview_id).ok_or_else(|| bad(format!("no interview {interview_id}")))?;
            let i = list.remove(pos);
            if !list.iter().any(|x| x.panel == i.panel)
                && let Some(panels) = st.panels.get_mut(opportunity_id)
            {
                panels.retain(|p| p.id != i.panel);
            }
            actions::interview_event(&self.shared, st, "interviewDeleted", opportunity_id, &i.panel, interview_id);
            Ok(())
        })
    }

    // ---- postings ----

    /// Creates a posting from the body `POST /postings` takes (`text` required;
    /// `state`, `distributionChannels`, `tags`, `categories`, `salaryRange`,
    /// `workplaceType`, `hiringManager`, `owner`, `content`, ...). Returns its id.
    pub fn create_posting(&self, fields: Value) -> anyhow::Result<String> {
        let sa = self.shared.seed_ids.super_admin.clone();
        self.mutate(|st| {
            let p = crate::data::new_posting(st, &sa, &fields).map_err(api)?;
            let id = p.id.clone();
            st.postings.push(p);
            Ok(id)
        })
    }

    /// Changes a posting's state and (optionally) distribution channels; bumps `updatedAt`.
    pub fn set_posting_state(&self, posting_id: &str, state: &str, channels: Option<Option<Vec<String>>>) -> anyhow::Result<()> {
        self.mutate(|st| {
            let now = st.now_ms();
            let p = st.posting_mut(posting_id).ok_or_else(|| bad(format!("no posting {posting_id}")))?;
            p.state = state.to_string();
            if let Some(c) = channels {
                p.distribution_channels = c;
            }
            p.updated_at = now;
            Ok(())
        })
    }

    /// Closes a posting (state `closed`, off every job site).
    pub fn close_posting(&self, posting_id: &str) -> anyhow::Result<()> {
        self.set_posting_state(posting_id, "closed", Some(None))
    }

    /// Unlists a posting (state `internal`, "unlisted" in Lever's UI).
    pub fn unlist_posting(&self, posting_id: &str) -> anyhow::Result<()> {
        self.set_posting_state(posting_id, "internal", Some(None))
    }

    /// Applies a patch of posting fields (the keys `POST /postings/:id` takes, plus
    /// the shorthands `location` and `descriptionHtml`); bumps `updatedAt`.
    pub fn update_posting(&self, posting_id: &str, fields: Value) -> anyhow::Result<()> {
        self.mutate(|st| {
            let mut p = st.posting(posting_id).cloned().ok_or_else(|| bad(format!("no posting {posting_id}")))?;
            let mut body = fields.clone();
            if let Some(l) = fields.get("location").and_then(Value::as_str) {
                let mut c = serde_json::to_value(&p.categories).unwrap_or_default();
                c["location"] = json!(l);
                c["allLocations"] = json!([l]);
                c["team"] = json!(p.categories.team);
                body["categories"] = c;
            }
            if let Some(d) = fields.get("descriptionHtml").and_then(Value::as_str) {
                body["content"] = json!({"descriptionHtml": d});
            }
            crate::data::postings_apply_fields(st, &mut p, &body).map_err(api)?;
            p.updated_at = st.now_ms();
            if let Some(slot) = st.posting_mut(posting_id) {
                *slot = p;
            }
            Ok(())
        })
    }

    /// Sets (or clears) a posting's hiring manager; bumps `updatedAt`.
    pub fn set_hiring_manager(&self, posting_id: &str, user_id: Option<&str>) -> anyhow::Result<()> {
        self.mutate(|st| {
            if let Some(u) = user_id
                && st.user(u).is_none()
            {
                return Err(bad(format!("no user {u}")));
            }
            let now = st.now_ms();
            let p = st.posting_mut(posting_id).ok_or_else(|| bad(format!("no posting {posting_id}")))?;
            p.hiring_manager = user_id.map(str::to_string);
            if let Some(u) = user_id
                && !p.followers.iter().any(|f| f == u)
            {
                p.followers.push(u.to_string());
            }
            p.updated_at = now;
            Ok(())
        })
    }

    /// Deletes a candidacy: it leaves the lists, shows in `/opportunities/deleted`
    /// (and its application in `/applications/deleted`), and `candidateDeleted` fires.
    pub fn delete_opportunity(&self, opportunity_id: &str) -> anyhow::Result<()> {
        self.mutate(|st| {
            let now = st.now_ms();
            let pos = st.opportunities.iter().position(|o| o.id == opportunity_id).ok_or_else(|| bad(format!("no opportunity {opportunity_id}")))?;
            let snapshot = crate::json::opportunity(st, &st.opportunities[pos], crate::json::OppView::Read);
            let o = st.opportunities.remove(pos);
            let by = Some(self.shared.seed_ids.super_admin.clone());
            for a in &o.applications {
                if let Some(app) = st.applications.remove(a) {
                    let snap = json!({"id": app.id, "opportunityId": app.opportunity_id, "posting": app.posting});
                    st.deleted_applications.push(Deleted { id: app.id, deleted_at: now, deleted_by: by.clone(), snapshot: snap });
                }
            }
            st.deleted_opportunities.push(Deleted { id: o.id.clone(), deleted_at: now, deleted_by: by.clone(), snapshot });
            let data = json!({"opportunityId": o.id, "candidateId": o.id, "contactId": o.contact, "deletedBy": by});
            crate::webhooks::fire(&self.shared, st, "candidateDeleted", Some(&o.origin), data);
            Ok(())
        })
    }

    /// Deletes a posting (it then shows in `/postings/deleted`).
    pub fn delete_posting(&self, posting_id: &str) -> anyhow::Result<()> {
        self.mutate(|st| {
            let now = st.now_ms();
            let pos = st.postings.iter().position(|p| p.id == posting_id).ok_or_else(|| bad(format!("no posting {posting_id}")))?;
            let p = st.postings.remove(pos);
            let snapshot = crate::json::posting(&self.shared.config.site, &p, false);
            st.deleted_postings.push(Deleted { id: p.id, deleted_at: now, deleted_by: Some(self.shared.seed_ids.super_admin.clone()), snapshot });
            Ok(())
        })
    }

    /// A candidate applies to a posting through the job site (origin `applied`,
    /// stage `applicant-new`, `applicationCreated` fired). Returns (opportunity, application).
    pub fn create_application(&self, posting_id: &str, name: &str, email: &str) -> anyhow::Result<(String, String)> {
        self.create_applicant(posting_id, ApplicantSpec { name: name.into(), email: email.into(), ..Default::default() })
    }

    /// Like [`Admin::create_application`] with phone, links, sources and a resume.
    pub fn create_applicant(&self, posting_id: &str, spec: ApplicantSpec) -> anyhow::Result<(String, String)> {
        if spec.name.trim().is_empty() || spec.email.trim().is_empty() {
            return Err(bad("an applicant needs a name and an email"));
        }
        self.mutate(|st| {
            let owner = st.posting(posting_id).map(|p| p.owner.clone()).ok_or_else(|| bad(format!("no posting {posting_id}")))?;
            let now = st.now_ms();
            let resume = spec.resume.as_ref().map(|(name, bytes)| {
                let mut f = crate::data::stored_file(name, None, bytes.clone(), now);
                f.processed_at = now + self.shared.config.file_processing.as_millis() as i64;
                f
            });
            let n = actions::NewOpportunity {
                perform_as: owner,
                name: Some(spec.name.clone()),
                emails: vec![spec.email.clone()],
                phones: spec.phone.iter().map(|p| crate::state::Phone { kind: None, value: p.clone() }).collect(),
                links: spec.links.clone(),
                stage: Some("applicant-new".into()),
                sources: if spec.sources.is_empty() { vec!["Job site".into()] } else { spec.sources.clone() },
                origin: Some("applied".into()),
                postings: vec![posting_id.into()],
                application_kind: Some("posting".into()),
                resume,
                ..Default::default()
            };
            let c = actions::create_opportunity(&self.shared, st, n).map_err(api)?;
            Ok((c.opportunity_id, c.application_id.unwrap_or_default()))
        })
    }

    // ---- inspection ----

    pub fn opportunity(&self, id: &str) -> Option<OpportunitySnapshot> {
        let st = self.shared.lock();
        st.opportunity(id).map(|o| snapshot(&st, o, &self.shared.base_url))
    }

    /// Opportunities whose contact has this email (canonicalised), oldest first.
    pub fn opportunities_by_email(&self, email: &str) -> Vec<OpportunitySnapshot> {
        let st = self.shared.lock();
        let e = crate::state::canonical_email(email);
        let mut v: Vec<_> = st
            .opportunities
            .iter()
            .filter(|o| st.contacts.get(&o.contact).is_some_and(|c| c.emails.iter().any(|x| crate::state::canonical_email(x) == e)))
            .map(|o| snapshot(&st, o, &self.shared.base_url))
            .collect();
        v.sort_by_key(|o| o.created_at);
        v
    }

    pub fn opportunity_ids(&self) -> Vec<String> {
        self.shared.lock().opportunities.iter().map(|o| o.id.clone()).collect()
    }

    pub fn posting_ids(&self) -> Vec<String> {
        self.shared.lock().postings.iter().map(|p| p.id.clone()).collect()
    }

    /// A posting as `GET /v1/postings/:id` would render it.
    pub fn posting(&self, id: &str) -> Option<Value> {
        let st = self.shared.lock();
        st.posting(id).map(|p| crate::json::posting(&self.shared.config.site, p, true))
    }

    pub fn webhooks(&self) -> Vec<Webhook> {
        self.shared.lock().webhooks.clone()
    }

    /// What the account holds, for clients that count what they synced (e.g. the
    /// tap-lever check): every opportunity with its timestamps and sub-list sizes,
    /// and the sizes of the other lists as the Data API would return them.
    pub fn inventory(&self) -> Value {
        let st = self.shared.lock();
        let opportunities: Vec<Value> = st
            .opportunities
            .iter()
            .filter(|o| o.confidentiality == "non-confidential")
            .map(|o| {
                json!({
                    "id": o.id, "createdAt": o.created_at, "updatedAt": o.updated_at,
                    "applications": o.applications.len(), "offers": o.offers.len(), "referrals": o.referrals.len(),
                    "notes": o.notes.len(),
                    "resumes": o.resumes.len(),
                    "interviews": st.interviews.get(&o.id).map_or(0, Vec::len),
                    "panels": st.panels.get(&o.id).map_or(0, Vec::len),
                    "feedback": st.feedback.get(&o.id).map_or(0, Vec::len),
                })
            })
            .collect();
        let mut sources: Vec<&String> = st.opportunities.iter().flat_map(|o| o.sources.iter()).chain(st.known_sources.iter()).collect();
        sources.sort();
        sources.dedup();
        let mut tags: Vec<&String> = st.opportunities.iter().flat_map(|o| o.tags.iter()).collect();
        tags.sort();
        tags.dedup();
        json!({
            "opportunities": opportunities,
            "postings": st.postings.iter().filter(|p| p.confidentiality == "non-confidential").count(),
            "users": {"active": st.users.iter().filter(|u| u.deactivated_at.is_none()).count(), "all": st.users.len()},
            "stages": st.stages.len(),
            "archive_reasons": st.archive_reasons.len(),
            "sources": sources.len(),
            "tags": tags.len(),
            "requisitions": st.requisitions.iter().map(|r| json!({"id": r.id, "createdAt": r.created_at})).collect::<Vec<_>>(),
        })
    }

    /// What Lever's settings page "test" button does: a `candidateHired`
    /// delivery with `data: {}` to one subscription. Returns the delivery id.
    /// Sent whether or not the group is switched on (the Super Admin is testing it).
    pub fn send_test_delivery(&self, webhook_id: &str) -> anyhow::Result<String> {
        let mut st = self.shared.lock();
        let w = st.webhooks.iter().find(|w| w.id == webhook_id).cloned().ok_or_else(|| bad(format!("no webhook {webhook_id}")))?;
        crate::webhooks::send(&self.shared, &mut st, &w, "candidateHired", json!({}));
        Ok(st.deliveries.last().map(|d| d.id.clone()).unwrap_or_default())
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Waits until at least `n` deliveries are finished (delivered or given up).
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let d = self.deliveries();
            if d.iter().filter(|d| d.finished).count() >= n || tokio::time::Instant::now() >= deadline {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn seed_ids(&self) -> SeedIds {
        self.shared.seed_ids.clone()
    }

    pub fn super_admin_id(&self) -> String {
        self.shared.seed_ids.super_admin.clone()
    }

    pub fn hired_reason_id(&self) -> String {
        self.shared.seed_ids.hired_reason.clone()
    }
}
