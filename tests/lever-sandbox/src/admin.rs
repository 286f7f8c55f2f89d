//! In-process scripting and inspection of a running sandbox. Everything here is
//! also reachable over HTTP under `/_admin/...` (see `admin_http`).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::Shared;
use crate::actions;
use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::seed::SeedIds;
use crate::state::{Archived, ConsentMode, Counters, Deleted, Opportunity, State, StoredFile, Webhook};
use crate::webhooks::Delivery;

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
    #[serde(skip)]
    pub bytes: Vec<u8>,
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
    pub created_at: i64,
}

fn file(f: &StoredFile) -> FileSnapshot {
    FileSnapshot { id: f.id.clone(), name: f.name.clone(), ext: f.ext.clone(), size: f.size, content_type: f.content_type.clone(), bytes: f.bytes.clone() }
}

fn snapshot(st: &State, o: &Opportunity) -> OpportunitySnapshot {
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
        created_at: o.created_at,
    }
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

    // ---- OAuth ----

    /// What `/authorize` does: approve (redirect with a code) or deny (`access_denied`).
    pub fn set_consent(&self, mode: ConsentMode) {
        self.shared.lock().consent = Some(mode);
    }

    /// Account id recorded in grants made by later consents (default: config `account_id`).
    pub fn set_consent_account(&self, account_id: Option<String>) {
        self.shared.lock().consent_account = account_id;
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
        let mut st = self.shared.lock();
        let mut n = 0;
        for g in st.grants.values_mut() {
            if account.is_none_or(|a| g.account_id == a) && !g.revoked {
                g.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Issues tokens as if a Super Admin had consented (skips `/authorize`).
    /// Returns the token endpoint's JSON body (`access_token`, `refresh_token`, ...).
    pub fn issue_tokens(&self, scope: &str) -> Value {
        let mut st = self.shared.lock();
        let account = st.consent_account.clone().unwrap_or_else(|| self.shared.config.account_id.clone());
        crate::oauth::grant_and_mint(&self.shared, &mut st, &account, scope)
    }

    /// Shortcut: a valid access token with every scope plus `offline_access`.
    pub fn access_token(&self) -> String {
        let all = crate::oauth::SCOPES.join(" ");
        self.issue_tokens(&all)["access_token"].as_str().unwrap_or_default().to_string()
    }

    /// Makes every issued access token expired (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        let now = std::time::Instant::now();
        for t in self.shared.lock().access_tokens.values_mut() {
            t.expires = now;
        }
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

    // ---- counters ----

    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    pub fn reset_counters(&self) {
        self.shared.lock().counters = Counters::default();
    }

    /// Data API calls for one `"METHOD /v1/route/{template}"` key.
    pub fn requests(&self, key: &str) -> u64 {
        self.shared.lock().counters.data_requests.get(key).copied().unwrap_or(0)
    }

    // ---- scenario actions (same effects and webhooks as the API) ----

    /// Hires: archives with the hired-type reason and adds a signed offer with
    /// `anticipated_start_date` (now + 30 days unless given).
    pub fn hire(&self, opportunity_id: &str, start_date_ms: Option<i64>) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        actions::hire(&self.shared, &mut st, opportunity_id, start_date_ms).map_err(api)
    }

    pub fn move_stage(&self, opportunity_id: &str, stage_id: &str) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        let user = Some(self.shared.seed_ids.super_admin.clone());
        actions::move_stage(&self.shared, &mut st, opportunity_id, stage_id, user).map_err(api)
    }

    /// Archive with a reason id, or unarchive with `None`.
    pub fn set_archived(&self, opportunity_id: &str, reason: Option<&str>) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        actions::set_archived(&self.shared, &mut st, opportunity_id, reason).map_err(api)
    }

    /// Changes a posting's state and (optionally) distribution channels; bumps `updatedAt`.
    pub fn set_posting_state(&self, posting_id: &str, state: &str, channels: Option<Option<Vec<String>>>) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        let now = st.now_ms();
        let p = st.posting_mut(posting_id).ok_or_else(|| anyhow::anyhow!("no posting {posting_id}"))?;
        p.state = state.to_string();
        if let Some(c) = channels {
            p.distribution_channels = c;
        }
        p.updated_at = now;
        Ok(())
    }

    /// Applies a JSON patch of posting fields (same keys as `POST /postings/:id`).
    pub fn update_posting(&self, posting_id: &str, fields: Value) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        let now = st.now_ms();
        let p = st.posting_mut(posting_id).ok_or_else(|| anyhow::anyhow!("no posting {posting_id}"))?;
        if let Some(t) = fields.get("text").and_then(Value::as_str) {
            p.text = t.into();
        }
        if let Some(t) = fields.get("tags").and_then(Value::as_array) {
            p.tags = t.iter().filter_map(|x| x.as_str().map(str::to_string)).collect();
        }
        if let Some(w) = fields.get("workplaceType").and_then(Value::as_str) {
            p.workplace_type = w.into();
        }
        if let Some(l) = fields.get("location").and_then(Value::as_str) {
            p.categories.location = Some(l.into());
            p.categories.all_locations = vec![l.into()];
        }
        if let Some(d) = fields.get("descriptionHtml").and_then(Value::as_str) {
            p.content.description_html = d.into();
        }
        p.updated_at = now;
        Ok(())
    }

    /// Deletes a posting (it then shows in `/postings/deleted`).
    pub fn delete_posting(&self, posting_id: &str) -> anyhow::Result<()> {
        let mut st = self.shared.lock();
        let now = st.now_ms();
        let pos = st.postings.iter().position(|p| p.id == posting_id).ok_or_else(|| anyhow::anyhow!("no posting {posting_id}"))?;
        let p = st.postings.remove(pos);
        let snapshot = crate::json::posting(&self.shared.config.site, &p, false);
        st.deleted_postings.push(Deleted { id: p.id, deleted_at: now, deleted_by: Some(self.shared.seed_ids.super_admin.clone()), snapshot });
        Ok(())
    }

    /// A candidate applies to a posting through the job site (origin `applied`,
    /// stage `applicant-new`, `applicationCreated` fired). Returns (opportunity, application).
    pub fn create_application(&self, posting_id: &str, name: &str, email: &str) -> anyhow::Result<(String, String)> {
        let mut st = self.shared.lock();
        let owner = st.posting(posting_id).map(|p| p.owner.clone()).ok_or_else(|| anyhow::anyhow!("no posting {posting_id}"))?;
        let n = actions::NewOpportunity {
            perform_as: owner,
            name: Some(name.into()),
            emails: vec![email.into()],
            stage: Some("applicant-new".into()),
            sources: vec!["Job site".into()],
            origin: Some("applied".into()),
            postings: vec![posting_id.into()],
            application_kind: Some("posting".into()),
            ..Default::default()
        };
        let c = actions::create_opportunity(&self.shared, &mut st, n).map_err(api)?;
        Ok((c.opportunity_id, c.application_id.unwrap_or_default()))
    }

    // ---- inspection ----

    pub fn opportunity(&self, id: &str) -> Option<OpportunitySnapshot> {
        let st = self.shared.lock();
        st.opportunity(id).map(|o| snapshot(&st, o))
    }

    /// Opportunities whose contact has this email (canonicalised), oldest first.
    pub fn opportunities_by_email(&self, email: &str) -> Vec<OpportunitySnapshot> {
        let st = self.shared.lock();
        let e = crate::state::canonical_email(email);
        let mut v: Vec<_> = st
            .opportunities
            .iter()
            .filter(|o| st.contacts.get(&o.contact).is_some_and(|c| c.emails.iter().any(|x| crate::state::canonical_email(x) == e)))
            .map(|o| snapshot(&st, o))
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
