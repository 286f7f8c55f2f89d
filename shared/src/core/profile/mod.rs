//! Partner profiles: everything that differs between partners, as data (TOML files under
//! `profiles/`). No code anywhere branches on a partner's name; it reads these fields.
//!
//! Loading happens in [`super::catalog`]; this module holds the schema and its semantic rules
//! ([`Profile::validate`], in `validate.rs`), each reported with the dotted path of the offending field.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::custom::CustomFields;
use super::environment::LeverEnvironment;
pub use super::events::{EventKind, LeverEvent};
use super::hire::source::HireSource;
use super::ids::StageId;
use super::job::{Confidentiality, JobFilter, JobInclude};
use super::placeholders::{self, TemplateUse};
use super::schedule::{Cadence, TimeOfDay, TzName};
use super::scopes::{MAX_SCOPES, OFFLINE_ACCESS, is_lever_scope};
use super::submission::input::{FileRole, Origin, SubmissionKind, normalize_status};

mod validate;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Stable id, lower-case letters, digits and `-`; equals the file name without `.toml`.
    pub id: String,
    pub display_name: String,
    pub kind: PartnerKind,
    #[serde(default)]
    pub description: Option<String>,
    pub oauth: OAuth,
    #[serde(default)]
    pub flows: Flows,
    #[serde(default)]
    pub events: Events,
    #[serde(default)]
    pub settings: SettingsPolicy,
    #[serde(default)]
    pub retention: Retention,
}

/// How long the hub keeps a person's data once its purpose is served (`docs/data-protection.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days a submission's personal fields stay after Lever has it and the partner was told
    /// (the partner may still read it back until then).
    #[serde(default = "Retention::default_grace_days")]
    pub grace_days: u32,
}

impl Retention {
    pub const MAX_GRACE_DAYS: u32 = 365;

    fn default_grace_days() -> u32 {
        30
    }

    pub fn grace_ms(&self) -> i64 {
        i64::from(self.grace_days) * 24 * 3600 * 1000
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self { grace_days: Self::default_grace_days() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    EmployeeReferrals,
    Screening,
    JobAds,
    Hris,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    /// Lever scopes requested at consent: exactly what the enabled flows need (checked).
    pub scopes: Vec<String>,
    /// The Lever environments a customer may connect; a choice on the connect page when more
    /// than one.
    #[serde(default = "production_only")]
    pub environments: Vec<LeverEnvironment>,
}

fn production_only() -> Vec<LeverEnvironment> {
    vec![LeverEnvironment::Production]
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flows {
    pub jobs: Option<JobsFlow>,
    pub candidates: Option<CandidatesFlow>,
    pub hires: Option<HiresFlow>,
}

/// Pull Lever postings into the partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsFlow {
    pub cadence: Cadence,
    pub filter: JobFilter,
    #[serde(default)]
    pub include: JobInclude,
}

/// Push the partner's candidates into Lever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidatesFlow {
    /// Which submissions the partner sends: `referral`, `application`, `screening`.
    pub accepts: Vec<SubmissionKind>,
    /// Lever `origin` of created opportunities.
    pub origin: Origin,
    /// Lever source label, e.g. "HireUp".
    pub source: String,
    /// Stage of created opportunities: a slug (`applicant-new`, `lead-new`) or a custom stage UUID.
    pub stage: StageId,
    /// Tag templates (placeholders: see `core::placeholders`).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: NoteTemplates,
    #[serde(default)]
    pub referrer: ReferrerPolicy,
    #[serde(default)]
    pub files: FilePolicy,
    /// Create the candidate when Lever has none for this email on this posting.
    #[serde(default = "yes")]
    pub create_if_missing: bool,
    /// What to do when the candidate already has an opportunity on the posting.
    #[serde(default)]
    pub on_existing: OnExisting,
    /// Add this partner's source to a candidate who already exists (e.g. applied on the careers page).
    #[serde(default)]
    pub update_source_of_existing: bool,
    /// Which Lever user the writes are performed as.
    #[serde(default)]
    pub perform_as: PerformAs,
    /// Screening result status (upper case) → where the candidate goes. Customers may override
    /// per connection and per posting when `settings.customer_may_change` allows it.
    #[serde(default)]
    pub result_routes: BTreeMap<String, Route>,
    /// Referrals of people not in Lever yet, held until they apply on Lever's job page.
    #[serde(default)]
    pub pending: PendingPolicy,
    /// Fields of this partner's own, in the submission's `custom` object (`core::custom`).
    #[serde(default)]
    pub custom: CustomFields,
}

fn yes() -> bool {
    true
}

/// Referral before application: the partner invites the candidate to apply on Lever's own job
/// page, so a referral of someone Lever does not know yet waits for that application (Lever's
/// `applicationCreated` webhook, or a poll) and is then added to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingPolicy {
    /// Hold referrals of people not in Lever instead of creating them.
    #[serde(default)]
    pub hold_referrals: bool,
    /// A held referral whose candidate has not applied after this many days expires (with a
    /// `submission.failed` event, error `referral_expired`).
    #[serde(default = "default_pending_days")]
    pub expire_after_days: u32,
}

pub const MAX_PENDING_DAYS: u32 = 90;

fn default_pending_days() -> u32 {
    30
}

impl Default for PendingPolicy {
    fn default() -> Self {
        PendingPolicy { hold_referrals: false, expire_after_days: default_pending_days() }
    }
}

/// Where a screened candidate is moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Move the opportunity to this stage.
    #[serde(default)]
    pub stage: Option<StageId>,
    /// Also open an opportunity for the same person on this posting (by id or hosted URL).
    #[serde(default)]
    pub posting: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteTemplates {
    /// Written when the submission carries an endorsement.
    pub endorsement: Option<String>,
    /// Written for every submission with a referrer (`{referrer}` is "Name <email>").
    pub referrer: Option<String>,
    /// Written when the referrer is not a Lever user (Lever has no API to set a referrer).
    pub referrer_not_in_lever: Option<String>,
    /// Written when the submission carries a screening result.
    pub screening: Option<String>,
    /// Written when the submission carries any of the partner's own fields (`{custom.<name>}`).
    #[serde(default)]
    pub custom: Option<String>,
}

impl NoteTemplates {
    /// Every template with its field name, for the rules that hold for all of them (scopes,
    /// placeholders): a template added above and here cannot be missed by either.
    pub fn named(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("endorsement", &self.endorsement),
            ("referrer", &self.referrer),
            ("referrer_not_in_lever", &self.referrer_not_in_lever),
            ("screening", &self.screening),
            ("custom", &self.custom),
        ]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferrerPolicy {
    /// A referral without a referrer is refused.
    #[serde(default)]
    pub required: bool,
    /// When the referrer is a Lever user, add them as a follower so they see the candidate.
    #[serde(default)]
    pub add_as_follower: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePolicy {
    /// File roles the partner may send: `resume`, `cover_letter`, `transcript`, `other`.
    #[serde(default)]
    pub accept: Vec<FileRole>,
    /// Per file; Lever's limit is 30 MB.
    #[serde(default = "max_file_bytes")]
    pub max_bytes: u64,
}

pub const LEVER_MAX_FILE_BYTES: u64 = 30 * 1024 * 1024;

fn max_file_bytes() -> u64 {
    LEVER_MAX_FILE_BYTES
}

impl Default for FilePolicy {
    fn default() -> Self {
        FilePolicy { accept: Vec::new(), max_bytes: LEVER_MAX_FILE_BYTES }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExisting {
    /// Add sources, tags, notes and files to the existing opportunity and apply stage moves.
    #[default]
    Update,
    /// Create another opportunity (Lever links it to the same contact).
    NewOpportunity,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerformAs {
    /// The Lever user who authorised the connection, unless the customer chose another.
    #[default]
    AuthorizingUser,
    /// A user the customer must choose at setup (setting `perform_as`).
    ChosenAtSetup,
}

/// Hand hired candidates to the partner's HRIS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiresFlow {
    pub triggers: Vec<HireTrigger>,
    /// Wall-clock time of the daily import (with `timezone`), e.g. "00:00".
    #[serde(default)]
    pub daily_at: Option<TimeOfDay>,
    #[serde(default)]
    pub timezone: Option<TzName>,
    /// Zone in which the offer's start date (a Lever timestamp) is read as a calendar date.
    #[serde(default = "TzName::utc")]
    pub start_date_timezone: TzName,
    /// HRIS field name → where its value comes from.
    pub fields: BTreeMap<String, HireSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HireTrigger {
    /// The partner asks for an import through the hub's API.
    OnDemand,
    /// Every day at `daily_at` in `timezone`.
    Daily,
    /// Lever's `candidateHired` webhook.
    Webhook,
}

/// Events the hub sends to the partner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Events {
    #[serde(default)]
    pub subscribe: Vec<EventKind>,
    /// Default delivery URL; a partner can also set it through the API. https only
    /// (http allowed for loopback hosts, for local runs).
    #[serde(default)]
    pub url: Option<String>,
}

/// Settings a partner lets its customers change per connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPolicy {
    #[serde(default)]
    pub customer_may_change: Vec<SettingKey>,
    /// Settings without which a connection cannot run (e.g. the attribution user).
    #[serde(default)]
    pub required: Vec<SettingKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKey {
    /// The Lever user writes are performed as (and attributed to).
    PerformAs,
    /// Stage of new candidates.
    DefaultStage,
    /// Lever stage id → the partner's name for it (custom pipelines).
    StageLabels,
    /// Source label.
    Source,
    /// Tag templates.
    Tags,
    /// Screening result → stage / posting.
    ResultRoutes,
    /// Per-posting stage, tags and result routes.
    PostingOverrides,
    /// Which hire triggers run (e.g. daily import, webhook).
    HireTriggers,
    /// Time zone for dates (start date) of this account.
    Timezone,
}

impl SettingKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerformAs => "perform_as",
            Self::DefaultStage => "default_stage",
            Self::StageLabels => "stage_labels",
            Self::Source => "source",
            Self::Tags => "tags",
            Self::ResultRoutes => "result_routes",
            Self::PostingOverrides => "posting_overrides",
            Self::HireTriggers => "hire_triggers",
            Self::Timezone => "timezone",
        }
    }
}

/// One semantic problem in a profile: the dotted field path and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub reason: String,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldIssue { field: field.into(), reason: reason.into() }
    }
}

impl Profile {
    pub fn jobs(&self) -> Option<&JobsFlow> {
        self.flows.jobs.as_ref()
    }
    pub fn candidates(&self) -> Option<&CandidatesFlow> {
        self.flows.candidates.as_ref()
    }
    pub fn hires(&self) -> Option<&HiresFlow> {
        self.flows.hires.as_ref()
    }

    pub fn subscribes(&self, e: EventKind) -> bool {
        self.events.subscribe.contains(&e)
    }

    pub fn may_change(&self, k: SettingKey) -> bool {
        self.settings.customer_may_change.contains(&k)
    }

    /// The Lever webhooks a connection of this partner registers at connect time.
    pub fn lever_webhooks(&self) -> BTreeSet<LeverEvent> {
        let mut w: BTreeSet<LeverEvent> = self.events.subscribe.iter().filter_map(|e| e.lever_webhook()).collect();
        if self.hires().is_some_and(|h| h.triggers.contains(&HireTrigger::Webhook)) {
            w.insert(LeverEvent::CandidateHired);
        }
        if self.candidates().is_some_and(|c| c.pending.hold_referrals) {
            // Held referrals are applied when Lever reports the application.
            w.insert(LeverEvent::ApplicationCreated);
        }
        if self.candidates().is_some() || self.hires().is_some() {
            // A candidate the customer deletes in Lever leaves the hub's copies too.
            w.insert(LeverEvent::CandidateDeleted);
        }
        w
    }

    /// Every Lever scope the enabled flows use, with the reason. The requested scopes must be
    /// exactly these (so each partner asks its customers for the minimum).
    pub fn required_scopes(&self) -> BTreeMap<&'static str, &'static str> {
        let mut s = BTreeMap::new();
        s.insert(OFFLINE_ACCESS, "refresh tokens (access tokens last 1 hour)");
        if let Some(j) = self.jobs() {
            s.insert("postings:read:admin", "flows.jobs reads postings");
            if j.filter.confidentiality.contains(&Confidentiality::Confidential) {
                s.insert("confidential:access:admin", "flows.jobs.filter includes confidential postings");
            }
        }
        if let Some(c) = self.candidates() {
            s.insert("opportunities:write:admin", "flows.candidates creates and updates opportunities");
            s.insert("opportunities:read:admin", "flows.candidates looks up existing candidates by email");
            s.insert("postings:read:admin", "flows.candidates checks the posting");
            if c.notes.named().iter().any(|(_, t)| t.is_some()) {
                s.insert("notes:write:admin", "flows.candidates.notes");
            }
            if !c.files.accept.is_empty() {
                s.insert("files:write:admin", "flows.candidates.files uploads files");
            }
            // Every write is made as a Lever user the writer first checks is active.
            s.insert("users:read:admin", "flows.candidates checks the user it writes as");
            if c.referrer.add_as_follower || c.notes.referrer_not_in_lever.is_some() {
                s.insert("users:read:admin", "looking the referrer up among Lever users");
            }
        }
        let stage_settings = [SettingKey::DefaultStage, SettingKey::StageLabels, SettingKey::ResultRoutes, SettingKey::PostingOverrides];
        if stage_settings.iter().any(|k| self.may_change(*k)) {
            s.insert("stages:read:admin", "stage pickers for customer settings");
        }
        if self.subscribes(EventKind::CandidateStageChanged) {
            s.insert("stages:read:admin", "stage names in candidate.stage_changed");
        }
        if self.subscribes(EventKind::CandidateArchived) {
            s.insert("archive_reasons:read:admin", "archive reasons in candidate.archived");
        }
        if let Some(h) = self.hires() {
            s.insert("opportunities:read:admin", "flows.hires reads hired opportunities");
            s.insert("offers:read:admin", "flows.hires reads the offer start date");
            s.insert("postings:read:admin", "flows.hires reads the job");
            s.insert("users:read:admin", "flows.hires reads the hiring manager");
            s.insert("archive_reasons:read:admin", "flows.hires finds hired archive reasons");
            let _ = h;
        }
        if !self.lever_webhooks().is_empty() {
            s.insert("webhooks:write:admin", "registers Lever webhooks");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal_hris() -> Profile {
        toml::from_str(
            r#"
            id = "acme-hris"
            display_name = "Acme HRIS"
            kind = "hris"
            [oauth]
            scopes = ["offline_access", "opportunities:read:admin", "offers:read:admin", "postings:read:admin",
                      "users:read:admin", "archive_reasons:read:admin", "webhooks:write:admin"]
            [flows.hires]
            triggers = ["on_demand"]
            [flows.hires.fields]
            "Email" = "candidate.email"
            [events]
            subscribe = ["hire.created"]
            "#,
        )
        .unwrap()
    }

    fn issues(p: &Profile) -> Vec<String> {
        p.validate().into_iter().map(|i| format!("{}: {}", i.field, i.reason)).collect()
    }

    #[test]
    fn minimal_profile_is_sound() {
        assert_eq!(issues(&minimal_hris()), Vec::<String>::new());
    }

    #[test]
    fn scopes_must_be_exactly_what_is_needed() {
        let mut p = minimal_hris();
        p.oauth.scopes.retain(|s| s != "offers:read:admin");
        p.oauth.scopes.push("notes:write:admin".into());
        p.oauth.scopes.push("candidates:read:admin".into());
        p.oauth.scopes.push("offline_access".into());
        let got = issues(&p).join("\n");
        assert!(got.contains("oauth.scopes: missing scope \"offers:read:admin\""), "{got}");
        assert!(got.contains("\"notes:write:admin\" is not needed"), "{got}");
        assert!(got.contains("unknown scope \"candidates:read:admin\""), "{got}");
        assert!(got.contains("\"offline_access\" is listed twice"), "{got}");
    }

    #[test]
    fn environments_default_to_production_and_must_be_named_once() {
        let mut p = minimal_hris();
        assert_eq!(p.oauth.environments, vec![LeverEnvironment::Production]);
        p.oauth.environments = vec![];
        assert!(issues(&p).join("\n").contains("oauth.environments: name at least one"));
        p.oauth.environments = vec![LeverEnvironment::Sandbox, LeverEnvironment::Sandbox];
        assert!(issues(&p).join("\n").contains("oauth.environments: an environment is listed twice"));
    }

    #[test]
    fn webhook_trigger_needs_webhook_scope() {
        let mut p = minimal_hris();
        p.flows.hires.as_mut().unwrap().triggers.push(HireTrigger::Webhook);
        p.oauth.scopes.retain(|s| s != "webhooks:write:admin");
        assert!(issues(&p).join("\n").contains("missing scope \"webhooks:write:admin\""));
        assert_eq!(p.lever_webhooks().into_iter().collect::<Vec<_>>(), vec![LeverEvent::CandidateDeleted, LeverEvent::CandidateHired]);
    }

    #[test]
    fn too_many_scopes() {
        let mut p = minimal_hris();
        p.oauth.scopes = super::super::scopes::LEVER_SCOPES[..21].iter().map(|s| s.to_string()).collect();
        assert!(issues(&p).iter().any(|i| i.starts_with("oauth.scopes: 21 scopes requested; Lever allows at most 20")));
    }

    #[test]
    fn daily_trigger_needs_time_and_zone() {
        let mut p = minimal_hris();
        p.flows.hires.as_mut().unwrap().triggers.push(HireTrigger::Daily);
        let got = issues(&p).join("\n");
        assert!(got.contains("flows.hires.daily_at: required"), "{got}");
        assert!(got.contains("flows.hires.timezone: required"), "{got}");
    }

    #[test]
    fn events_need_their_flow() {
        let mut p = minimal_hris();
        p.events.subscribe.push(EventKind::JobCreated);
        p.events.url = Some("http://partner.example.com/hook".into());
        let got = issues(&p).join("\n");
        assert!(got.contains("events.subscribe[1]: job.created needs flows.jobs"), "{got}");
        assert!(got.contains("events.url"), "{got}");
        p.events.subscribe.clear();
        assert!(issues(&p).join("\n").contains("subscribe to it"));
    }

    #[test]
    fn held_referrals_need_referrals_and_a_sane_expiry() {
        let mut p: Profile = toml::from_str(
            r#"
            id = "acme-ads"
            display_name = "Acme Ads"
            kind = "job_ads"
            [oauth]
            scopes = ["offline_access", "opportunities:read:admin", "opportunities:write:admin",
                      "postings:read:admin", "webhooks:write:admin"]
            [flows.candidates]
            accepts = ["application"]
            origin = "applied"
            source = "Acme"
            stage = "lead-new"
            [flows.candidates.pending]
            hold_referrals = true
            expire_after_days = 0
            "#,
        )
        .unwrap();
        let got = issues(&p).join("\n");
        assert!(got.contains("flows.candidates.pending.hold_referrals: holds referrals: needs \"referral\""), "{got}");
        assert!(got.contains("flows.candidates.pending.expire_after_days: must be between 1 and 90"), "{got}");
        assert_eq!(p.lever_webhooks().into_iter().collect::<Vec<_>>(), vec![LeverEvent::ApplicationCreated, LeverEvent::CandidateDeleted]);
        p.flows.candidates.as_mut().unwrap().pending = PendingPolicy::default();
        assert_eq!(p.lever_webhooks().into_iter().collect::<Vec<_>>(), vec![LeverEvent::CandidateDeleted], "deletions reach every candidate flow");
    }

    #[test]
    fn ids_and_settings() {
        let mut p = minimal_hris();
        p.id = "Acme_HRIS".into();
        p.settings.required.push(SettingKey::Timezone);
        p.settings.customer_may_change.push(SettingKey::ResultRoutes);
        let got = issues(&p).join("\n");
        assert!(got.contains("id: \"Acme_HRIS\" is not a profile id"), "{got}");
        assert!(got.contains("settings.required[0]: \"timezone\" must also be in settings.customer_may_change"), "{got}");
        assert!(got.contains("settings.customer_may_change[0]: \"result_routes\" has no effect"), "{got}");
    }
}
