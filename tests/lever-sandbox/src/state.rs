//! The sandbox's in-memory Lever account: every entity the Data API exposes,
//! plus the OAuth grants, counters and scripted behaviour. One `std::sync::Mutex`
//! guards it all; handlers never hold the lock across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;
use crate::webhooks::Delivery;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub username: String,
    pub email: String,
    pub access_role: String,
    pub photo: Option<String>,
    pub created_at: i64,
    pub deactivated_at: Option<i64>,
    pub external_directory_id: Option<String>,
    pub linked_contact_ids: Option<Vec<String>>,
    pub job_title: Option<String>,
    pub manager_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchiveReason {
    pub id: String,
    pub text: String,
    pub status: String,
    /// `hired` or `non-hired`.
    pub kind: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Categories {
    pub team: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub commitment: Option<String>,
    pub all_locations: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PostingContent {
    pub description: String,
    pub description_html: String,
    /// `(text, content-as-<li>-html)` pairs.
    pub lists: Vec<(String, String)>,
    pub closing: String,
    pub closing_html: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SalaryRange {
    pub min: i64,
    pub max: i64,
    pub currency: String,
    pub interval: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Posting {
    pub id: String,
    pub text: String,
    pub state: String,
    pub distribution_channels: Option<Vec<String>>,
    pub user: Option<String>,
    pub owner: String,
    pub hiring_manager: Option<String>,
    pub categories: Categories,
    pub tags: Vec<String>,
    pub content: PostingContent,
    pub country: String,
    pub followers: Vec<String>,
    pub req_code: Option<String>,
    pub requisition_codes: Vec<String>,
    pub salary_range: Option<SalaryRange>,
    pub salary_description: Option<String>,
    pub confidentiality: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub workplace_type: String,
    /// Whether the apply form carries a custom question block / EEO questions.
    pub custom_questions: bool,
    pub eeo_questions: bool,
    /// `urls.show` ends in `/` (the docs show both forms; recordings none).
    #[serde(default)]
    pub show_url_trailing_slash: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phone {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub headline: String,
    pub location: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Archived {
    pub reason: String,
    pub archived_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageChange {
    pub to_stage_id: String,
    pub to_stage_index: usize,
    pub user_id: Option<String>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    /// One entry per comment; the first is the note itself, later ones are threaded replies.
    pub comments: Vec<NoteComment>,
    pub user: Option<String>,
    pub secret: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoteComment {
    pub value: String,
    pub score: Option<i64>,
    pub stage: String,
    pub user: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    pub ext: String,
    pub content_type: Option<String>,
    #[serde(with = "b64")]
    pub bytes: Vec<u8>,
    pub size: usize,
    pub uploaded_at: i64,
    /// Until then the file reports `status: "processing"`.
    #[serde(default)]
    pub processed_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Offer {
    pub id: String,
    pub posting: Option<String>,
    pub created_at: i64,
    pub status: String,
    pub creator: String,
    /// `(text, identifier, value)`.
    pub fields: Vec<(String, String, serde_json::Value)>,
    pub approved_at: Option<i64>,
    pub sent_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub opportunity_id: String,
    pub posting: Option<String>,
    /// `user` (added by a Lever user or integration), `posting` (applied), `referral`.
    pub kind: String,
    pub user: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub links: Vec<String>,
    pub comments: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: String,
    pub contact: String,
    pub stage: String,
    pub confidentiality: String,
    pub links: Vec<String>,
    pub archived: Option<Archived>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub stage_changes: Vec<StageChange>,
    pub origin: String,
    pub sourced_by: Option<String>,
    pub owner: Option<String>,
    pub followers: Vec<String>,
    pub applications: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_interaction_at: i64,
    pub last_advanced_at: i64,
    pub opportunity_location: Option<String>,
    pub notes: Vec<Note>,
    pub files: Vec<StoredFile>,
    pub resumes: Vec<StoredFile>,
    pub offers: Vec<Offer>,
    /// Completed referral forms (`GET …/referrals`); read-only in Lever, so only seeded.
    /// Absent from state saved before referrals were kept.
    #[serde(default)]
    pub referrals: Vec<Referral>,
}

/// A referral form a Lever user filled in for the candidate (Lever's `type: "referral"`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Referral {
    pub id: String,
    pub text: String,
    pub instructions: String,
    pub base_template_id: String,
    pub fields: Vec<ReferralField>,
    /// The user who filled in the form, and the referrer it names (a user id).
    pub user: String,
    pub referrer: Option<String>,
    /// The candidate's stage when the form was filled in.
    pub stage: String,
    pub created_at: i64,
    pub completed_at: i64,
}

/// One question of a referral form with its answer. Lever's answers are strings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReferralField {
    /// `text`, `textarea`, `dropdown`, …
    pub kind: String,
    pub text: String,
    pub description: String,
    pub required: bool,
    pub value: Option<String>,
    /// Only on choice questions.
    pub prompt: Option<String>,
    pub options: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub event: String,
    pub url: String,
    pub origins: Vec<String>,
    pub signature_token: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub filename: String,
    pub size: usize,
    pub expires_at: i64,
    pub uri: String,
}

/// A record of something deleted, for the `/…/deleted` listings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Deleted {
    pub id: String,
    pub deleted_at: i64,
    pub deleted_by: Option<String>,
    pub snapshot: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub account_id: String,
    pub user_id: String,
    /// Token-clock milliseconds (see [`State::token_now`]).
    pub expires: i64,
    pub used: bool,
    /// PKCE: the S256 challenge sent to `/authorize`, if any.
    #[serde(default)]
    pub code_challenge: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Grant {
    /// Token-clock milliseconds when the Super Admin consented.
    pub created: i64,
    pub account_id: String,
    pub user_id: String,
    pub scope: String,
    pub revoked: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessToken {
    pub grant: String,
    /// Token-clock milliseconds.
    pub expires: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshToken {
    pub grant: String,
    pub used: bool,
    /// Token-clock milliseconds.
    pub issued: i64,
}

/// A customer API key (HTTP Basic, key as user name): reaches the whole account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiKey {
    pub key: String,
    pub label: Option<String>,
    pub created_at: i64,
}

/// An `/authorize` request waiting on the consent page's Accept / Deny.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingConsent {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub scope: String,
    pub account_id: String,
    pub code_challenge: Option<String>,
    /// Token-clock milliseconds after which the page no longer accepts a decision.
    pub expires: i64,
}

/// Per-token token bucket for the rate limiter.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub tokens: f64,
    pub last: Instant,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Token endpoint calls by `grant_type` (as sent, `"<missing>"` when absent).
    pub token_requests: BTreeMap<String, u64>,
    pub refresh_successes: u64,
    pub refresh_failures: u64,
    pub code_exchanges: u64,
    /// Data API calls keyed `"GET /v1/opportunities/{id}"` (route template).
    pub data_requests: BTreeMap<String, u64>,
    pub rate_limited: u64,
    pub faults_served: u64,
    /// Events not sent because their webhook group is switched off, by event.
    pub webhooks_suppressed: BTreeMap<String, u64>,
    /// Requests the global origin answered with a 301 to the EU origin (`SandboxConfig::eu`).
    #[serde(default)]
    pub eu_redirects: u64,
}

/// What `/authorize` does once the request is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// Approve at once and redirect with a code (`--consent auto`).
    #[serde(alias = "auto")]
    Approve,
    /// Show the HTML consent page; its Accept / Deny buttons decide.
    Page,
    /// Refuse at once (`access_denied`).
    Deny,
}

/// One Data API write as received: who it was performed as, and how it ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WriteRecord {
    pub at: i64,
    pub method: String,
    /// Route template, e.g. `POST /v1/opportunities/{id}/notes`.
    pub route: String,
    pub path: String,
    pub perform_as: Option<String>,
    /// `oauth` or `api_key`.
    pub auth: String,
    pub status: u16,
}

/// Scheduled interviews: a panel holds one or more interviews of one opportunity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Interview {
    pub id: String,
    pub panel: String,
    pub subject: String,
    pub interviewers: Vec<String>,
    pub date: i64,
    pub duration_minutes: i64,
    pub location: Option<String>,
    pub stage: String,
    pub user: String,
    pub created_at: i64,
    pub canceled_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Panel {
    pub id: String,
    pub applications: Vec<String>,
    pub start: i64,
    pub end: i64,
    pub timezone: String,
    pub stage: String,
    pub user: String,
    pub note: Option<String>,
    pub created_at: i64,
    pub canceled_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub interview: Option<String>,
    pub panel: Option<String>,
    pub user: String,
    /// Overall rating, `4 - Strong Hire` … `1 - Strong No Hire`.
    pub rating: String,
    pub comment: String,
    pub created_at: i64,
    pub completed_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Requisition {
    pub id: String,
    pub code: String,
    pub name: String,
    pub backfill: bool,
    pub status: String,
    pub headcount_total: i64,
    pub headcount_hired: i64,
    pub creator: String,
    pub owner: String,
    pub hiring_manager: Option<String>,
    pub employment_status: String,
    pub location: Option<String>,
    pub department: Option<String>,
    pub team: Option<String>,
    pub postings: Vec<String>,
    pub offer_ids: Vec<String>,
    pub compensation: Option<SalaryRange>,
    pub internal_notes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The whole account. Everything except the `#[serde(skip)]` fields goes into
/// the state file (`SandboxConfig::state_file`), so a restart keeps it.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub users: Vec<User>,
    pub stages: Vec<Stage>,
    pub archive_reasons: Vec<ArchiveReason>,
    pub postings: Vec<Posting>,
    pub contacts: HashMap<String, Contact>,
    pub opportunities: Vec<Opportunity>,
    pub applications: HashMap<String, Application>,
    pub webhooks: Vec<Webhook>,
    /// Super Admin switch per webhook group (one group per event name); off = nothing sent.
    pub webhook_groups: BTreeMap<String, bool>,
    pub uploads: HashMap<String, Upload>,
    /// Extra tag/source names with no opportunity yet (Lever keeps created ones).
    pub known_sources: Vec<String>,
    pub deleted_postings: Vec<Deleted>,
    pub deleted_opportunities: Vec<Deleted>,
    pub deleted_applications: Vec<Deleted>,
    pub requisitions: Vec<Requisition>,
    /// By opportunity id.
    pub panels: HashMap<String, Vec<Panel>>,
    pub interviews: HashMap<String, Vec<Interview>>,
    pub feedback: HashMap<String, Vec<Feedback>>,

    pub codes: HashMap<String, AuthCode>,
    pub grants: HashMap<String, Grant>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub api_keys: BTreeMap<String, ApiKey>,
    pub pending_consents: HashMap<String, PendingConsent>,
    pub consent: Option<ConsentMode>,
    pub consent_account: Option<String>,
    /// When set, consents grant only the requested scopes listed here.
    #[serde(default)]
    pub granted_scopes: Option<Vec<String>>,
    /// Monotonic clock helper so that write timestamps strictly increase.
    pub last_ts: i64,
    /// Added to the real clock for token lifetimes (`Admin::advance_time`), so
    /// tests can reach "90 days idle" without waiting.
    pub clock_offset_ms: i64,

    #[serde(skip)]
    pub buckets: HashMap<String, Bucket>,
    #[serde(skip)]
    pub faults: Vec<FaultRule>,
    #[serde(skip)]
    pub counters: Counters,
    #[serde(skip)]
    pub deliveries: Vec<Delivery>,
    #[serde(skip)]
    pub writes: Vec<WriteRecord>,
}

/// Writes kept for inspection; older ones are dropped first.
pub const MAX_WRITE_RECORDS: usize = 10_000;

impl State {
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn posting(&self, id: &str) -> Option<&Posting> {
        self.postings.iter().find(|p| p.id == id)
    }
    pub fn posting_mut(&mut self, id: &str) -> Option<&mut Posting> {
        self.postings.iter_mut().find(|p| p.id == id)
    }
    pub fn opportunity(&self, id: &str) -> Option<&Opportunity> {
        self.opportunities.iter().find(|o| o.id == id)
    }
    pub fn opportunity_mut(&mut self, id: &str) -> Option<&mut Opportunity> {
        self.opportunities.iter_mut().find(|o| o.id == id)
    }
    pub fn stage_index(&self, id: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.id == id)
    }
    pub fn archive_reason(&self, id: &str) -> Option<&ArchiveReason> {
        self.archive_reasons.iter().find(|r| r.id == id)
    }

    /// "Now" for token and code lifetimes in milliseconds, including the
    /// scripted clock offset. Data timestamps use [`State::now_ms`].
    pub fn token_now(&self) -> i64 {
        now_ms() + self.clock_offset_ms
    }

    /// Milliseconds since the epoch, strictly increasing across calls so that
    /// ordering by timestamp is stable even for writes in the same millisecond.
    pub fn now_ms(&mut self) -> i64 {
        let wall = now_ms();
        self.last_ts = if wall > self.last_ts { wall } else { self.last_ts + 1 };
        self.last_ts
    }

    /// Contact whose canonicalised email matches one of `emails`.
    pub fn contact_by_email(&self, emails: &[String]) -> Option<String> {
        let wanted: Vec<String> = emails.iter().map(|e| canonical_email(e)).collect();
        let mut ids: Vec<&Contact> = self.contacts.values().filter(|c| c.emails.iter().any(|e| wanted.contains(&canonical_email(e)))).collect();
        // Deterministic choice when several contacts share an email.
        ids.sort_by(|a, b| a.id.cmp(&b.id));
        ids.first().map(|c| c.id.clone())
    }

    /// Is the Super Admin switch for this event's webhook group on?
    pub fn webhooks_enabled(&self, event: &str) -> bool {
        self.webhook_groups.get(event).copied().unwrap_or(false)
    }

    pub fn record_write(&mut self, w: WriteRecord) {
        if self.writes.len() >= MAX_WRITE_RECORDS {
            self.writes.remove(0);
        }
        self.writes.push(w);
    }
}

pub fn canonical_email(e: &str) -> String {
    e.trim().to_ascii_lowercase()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// File bytes in the state file: base64 text.
mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
