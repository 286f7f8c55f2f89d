//! The pure rule that turns a validated submission into a [`CandidatePlan`]: what to write to
//! Lever, decided by the profile and the connection's settings. The plan holds no HTTP; the
//! Lever adapter translates it into requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::input::*;
use crate::core::custom::CustomFields;
use crate::core::ids::{StageId, normalize_uuid};
use crate::core::job::posting_id_from_ref;
use crate::core::placeholders::{self, TemplateUse, TemplateValues};
use crate::core::profile::{CandidatesFlow, OnExisting, PerformAs, Profile, Route, SettingKey};
use crate::core::settings::{ConnectionSettings, PostingOverride};

/// What the hub learned from Lever before planning (looked up by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateFacts {
    /// The Lever user who authorised the connection (from the token).
    pub authorizing_user_id: Option<String>,
    /// The candidate's opportunity on this posting, when one exists (matched by email).
    pub existing: Option<ExistingOpportunity>,
    /// The Lever user whose email is the referrer's, if any.
    pub referrer_user_id: Option<String>,
    /// That user's name in Lever (the note names the referrer as Lever knows them).
    pub referrer_user_name: Option<String>,
    pub posting_title: Option<String>,
    /// Lever users known to be deactivated: never written as.
    pub inactive_users: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExistingOpportunity {
    pub opportunity_id: String,
    pub sources: Vec<String>,
    pub tags: Vec<String>,
    pub stage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Write {
    /// `POST /opportunities` with one posting.
    Create,
    /// Changes to an existing opportunity.
    Update { opportunity_id: String },
    /// Nothing yet: a referral of someone not in Lever, held until they apply
    /// (`flows.candidates.pending`); the rest of the plan is what a create would write.
    Hold,
}

/// The candidate data sent on create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateFields {
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub links: Vec<String>,
    pub location: Option<String>,
    pub headline: Option<String>,
}

/// What to write to Lever for one submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidatePlan {
    pub write: Write,
    /// Lever user id for `perform_as`.
    pub perform_as: String,
    pub posting_id: String,
    pub candidate: CandidateFields,
    /// Set on create; Lever has no origin change on update.
    pub origin: Option<Origin>,
    /// On create: the sources; on update: sources to add.
    pub sources: Vec<String>,
    /// On create: the initial stage; on update: a stage move (`None` = stay).
    pub stage: Option<StageId>,
    /// On create: the tags; on update: tags to add.
    pub tags: Vec<String>,
    /// Lever user ids to follow the opportunity (create only).
    pub followers: Vec<String>,
    pub notes: Vec<String>,
    /// Sent as `resumeFile` on create.
    pub resume_file: Option<FileMeta>,
    /// Uploaded to the opportunity's files.
    pub files: Vec<FileMeta>,
    /// A screening route may also place the person on another posting (a second opportunity).
    pub also_apply_to_posting: Option<String>,
    /// The writes to Lever, in the order the writer makes them (none for a held referral).
    pub steps: Vec<WriteStep>,
}

/// One write to Lever. A run records each step it finished, so a retry makes only what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WriteStep {
    /// `POST /opportunities`: the candidate with sources, tags, stage, resume and files.
    Create,
    Sources,
    Tags,
    /// The plan's notes, as one note.
    Note,
    /// The submission's file at this index.
    File(usize),
    Stage,
    /// An opportunity on a screening route's other posting.
    AlsoApply,
}

impl WriteStep {
    /// Whether an opportunity this submission created already carries what the step adds (a
    /// retry that finds the earlier attempt's create skips it).
    pub fn carried_by_create(self) -> bool {
        matches!(self, Self::Sources | Self::Tags | Self::File(_) | Self::Stage)
    }

    /// The step's name in stored progress; records written before this enum hold the same
    /// names.
    pub fn stored_name(self) -> String {
        match self {
            Self::Create => "create".into(),
            Self::Sources => "sources".into(),
            Self::Tags => "tags".into(),
            Self::Note => "note".into(),
            Self::Stage => "stage".into(),
            Self::File(i) => format!("file:{i}"),
            Self::AlsoApply => "also_apply".into(),
        }
    }

    pub fn from_stored_name(name: &str) -> Option<Self> {
        Some(match name {
            "create" => Self::Create,
            "sources" => Self::Sources,
            "tags" => Self::Tags,
            "note" => Self::Note,
            "stage" => Self::Stage,
            "also_apply" => Self::AlsoApply,
            _ => Self::File(name.strip_prefix("file:")?.parse().ok()?),
        })
    }
}

impl Serialize for WriteStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.stored_name())
    }
}

impl<'de> Deserialize<'de> for WriteStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_stored_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown write step {name:?}")))
    }
}

/// The order of the writes: a create carries what it can in one call; an update adds each
/// part separately; the note and another posting come after either.
fn ordered_steps(plan: &CandidatePlan) -> Vec<WriteStep> {
    let mut steps = Vec::new();
    match plan.write {
        Write::Hold => return steps,
        Write::Create => steps.push(WriteStep::Create),
        Write::Update { .. } => {
            steps.extend((!plan.sources.is_empty()).then_some(WriteStep::Sources));
            steps.extend((!plan.tags.is_empty()).then_some(WriteStep::Tags));
        }
    }
    steps.extend((!plan.notes.is_empty()).then_some(WriteStep::Note));
    if let Write::Update { .. } = plan.write {
        steps.extend((0..plan.files.len()).map(WriteStep::File));
        steps.extend(plan.stage.is_some().then_some(WriteStep::Stage));
    }
    steps.extend(plan.also_apply_to_posting.is_some().then_some(WriteStep::AlsoApply));
    steps
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("this partner does not push candidates")]
    NoCandidatesFlow,
    #[error(transparent)]
    Invalid(#[from] SubmissionError),
    #[error("no Lever user to write as: choose one in the connection's settings (perform_as)")]
    NoPerformAs,
    #[error("the candidate is not in Lever and this partner does not create candidates")]
    NotInLever,
    #[error("every Lever user the hub may write as is deactivated: choose an active one in the connection's settings (perform_as)")]
    PerformAsDeactivated,
}

impl CandidatePlan {
    /// The plan's notes as the one note written to Lever (one call, however many parts).
    pub fn note_text(&self) -> Option<String> {
        (!self.notes.is_empty()).then(|| self.notes.join("\n\n"))
    }
}

/// The pure rule: profile + connection settings + submission + facts → what to write.
pub fn plan_candidate_write(
    profile: &Profile,
    settings: &ConnectionSettings,
    submission: &Submission,
    facts: &CandidateFacts,
) -> Result<CandidatePlan, PlanError> {
    let flow = profile.candidates().ok_or(PlanError::NoCandidatesFlow)?;
    let valid = submission.validate(flow)?;
    plan_validated(profile, settings, &valid.submission, facts)
}

/// The Lever users the hub may write as, in order of preference: the customer's choice (when
/// the profile lets them choose), then the user who consented — unless the profile insists on
/// a chosen user and none is chosen. The first one not deactivated is used.
pub fn perform_as_choices(profile: &Profile, settings: &ConnectionSettings, authorizing_user_id: Option<&str>) -> Vec<String> {
    let Some(flow) = profile.candidates() else { return vec![] };
    let chosen = settings.perform_as.as_deref().filter(|_| profile.may_change(SettingKey::PerformAs)).and_then(normalize_uuid);
    let authorizing = authorizing_user_id.and_then(normalize_uuid);
    let mut out: Vec<String> = match (flow.perform_as, chosen) {
        (PerformAs::ChosenAtSetup, None) => vec![],
        (_, Some(c)) => [Some(c), authorizing].into_iter().flatten().collect(),
        (PerformAs::AuthorizingUser, None) => authorizing.into_iter().collect(),
    };
    out.dedup();
    out
}

/// The Lever source this connection writes: the customer's (when the profile lets them choose),
/// else the profile's.
pub fn source_label(profile: &Profile, settings: &ConnectionSettings) -> String {
    let profile_source = profile.candidates().map(|c| c.source.trim()).unwrap_or_default();
    settings.source.as_deref().filter(|_| profile.may_change(SettingKey::Source)).map(str::trim).unwrap_or(profile_source).to_string()
}

/// [`plan_candidate_write`] for a submission validated before (a queued one, planned again).
pub fn plan_validated(
    profile: &Profile,
    settings: &ConnectionSettings,
    sub: &ValidSubmission,
    facts: &CandidateFacts,
) -> Result<CandidatePlan, PlanError> {
    let flow = profile.candidates().ok_or(PlanError::NoCandidatesFlow)?;
    let allowed = |k: SettingKey| profile.may_change(k);

    let perform_as = active_perform_as(profile, settings, facts)?;
    let posting_override = settings.posting_overrides.get(&sub.posting_id).filter(|_| allowed(SettingKey::PostingOverrides));
    let route = result_route(profile, settings, flow, posting_override, sub);
    let default_stage = posting_override
        .and_then(|o| o.stage.clone())
        .or_else(|| settings.default_stage.clone().filter(|_| allowed(SettingKey::DefaultStage)))
        .unwrap_or_else(|| flow.stage.clone());
    let route_stage = route.as_ref().and_then(|r| r.stage.clone());
    let also_apply_to_posting =
        route.as_ref().and_then(|r| r.posting.as_deref()).and_then(|p| posting_id_from_ref(p).ok()).filter(|p| *p != sub.posting_id);

    let source = source_label(profile, settings);
    let values = TemplateValues {
        partner_name: &profile.display_name,
        submission: sub,
        posting_title: facts.posting_title.as_deref(),
        referrer_user_name: facts.referrer_user_name.as_deref(),
    };
    let tags = rendered_tags(profile, settings, flow, posting_override, &values);
    let notes = rendered_notes(flow, sub, facts, &values);

    let followers: Vec<String> = match (&sub.referrer, &facts.referrer_user_id) {
        (Some(_), Some(u)) if flow.referrer.add_as_follower => vec![u.clone()],
        _ => vec![],
    };

    let candidate = CandidateFields {
        name: sub.name.clone(),
        emails: sub.emails.clone(),
        phones: sub.phones.clone(),
        links: sub.links.clone(),
        location: sub.location.clone(),
        headline: sub.headline.clone(),
    };

    let update_existing = facts.existing.as_ref().filter(|_| flow.on_existing == OnExisting::Update);
    if let Some(ex) = update_existing {
        let sources =
            if flow.update_source_of_existing && !ex.sources.iter().any(|s| s.eq_ignore_ascii_case(&source)) { vec![source] } else { vec![] };
        let stage = route_stage.filter(|s| ex.stage.as_deref() != Some(s.as_str()));
        return Ok(with_steps(CandidatePlan {
            write: Write::Update { opportunity_id: ex.opportunity_id.clone() },
            perform_as,
            posting_id: sub.posting_id.clone(),
            candidate,
            origin: None,
            sources,
            stage,
            tags: tags.into_iter().filter(|t| !ex.tags.contains(t)).collect(),
            followers: vec![],
            notes,
            resume_file: None,
            files: sub.files.clone(),
            also_apply_to_posting,
            steps: vec![],
        }));
    }
    let hold = facts.existing.is_none() && sub.kind == SubmissionKind::Referral && flow.pending.hold_referrals;
    if facts.existing.is_none() && !flow.create_if_missing && !hold {
        return Err(PlanError::NotInLever);
    }
    let mut files = sub.files.clone();
    let resume_file = files.iter().position(|f| f.role == FileRole::Resume).map(|i| files.remove(i));
    Ok(with_steps(CandidatePlan {
        write: if hold { Write::Hold } else { Write::Create },
        perform_as,
        posting_id: sub.posting_id.clone(),
        candidate,
        origin: Some(flow.origin),
        sources: vec![source],
        stage: Some(route_stage.unwrap_or(default_stage)),
        tags,
        followers,
        notes,
        resume_file,
        files,
        also_apply_to_posting,
        steps: vec![],
    }))
}

fn with_steps(mut plan: CandidatePlan) -> CandidatePlan {
    plan.steps = ordered_steps(&plan);
    plan
}

/// The first of [`perform_as_choices`] that is not deactivated.
fn active_perform_as(profile: &Profile, settings: &ConnectionSettings, facts: &CandidateFacts) -> Result<String, PlanError> {
    let choices = perform_as_choices(profile, settings, facts.authorizing_user_id.as_deref());
    if choices.is_empty() {
        return Err(PlanError::NoPerformAs);
    }
    choices.iter().find(|u| !facts.inactive_users.contains(u)).cloned().ok_or(PlanError::PerformAsDeactivated)
}

/// Where a screening result sends the candidate: the posting's override, then the customer's
/// routes (when the profile lets them choose), then the profile's.
fn result_route(
    profile: &Profile,
    settings: &ConnectionSettings,
    flow: &CandidatesFlow,
    posting_override: Option<&PostingOverride>,
    sub: &ValidSubmission,
) -> Option<Route> {
    let st = &sub.screening.as_ref()?.status;
    let find = |m: &BTreeMap<String, Route>| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(st)).map(|(_, r)| r.clone());
    posting_override
        .and_then(|o| find(&o.result_routes))
        .or_else(|| profile.may_change(SettingKey::ResultRoutes).then(|| find(&settings.result_routes)).flatten())
        .or_else(|| find(&flow.result_routes))
}

/// A template rendered from the submission; `None` when it does not parse or a placeholder
/// it needs has no value (the tag or note is left out).
fn render(src: &str, usage: TemplateUse, custom: &CustomFields, values: &TemplateValues) -> Option<String> {
    placeholders::parse(src, usage, custom).ok().and_then(|t| t.render(&|name| placeholders::value(name, values)))
}

/// The customer's tags (when the profile lets them choose) or the profile's, then the
/// posting's, each rendered once.
fn rendered_tags(
    profile: &Profile,
    settings: &ConnectionSettings,
    flow: &CandidatesFlow,
    posting_override: Option<&PostingOverride>,
    values: &TemplateValues,
) -> Vec<String> {
    let tag_sources: Vec<String> = settings
        .tags
        .clone()
        .filter(|_| profile.may_change(SettingKey::Tags))
        .unwrap_or_else(|| flow.tags.clone())
        .into_iter()
        .chain(posting_override.map(|o| o.tags.clone()).unwrap_or_default())
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for t in &tag_sources {
        if let Some(r) = render(t, TemplateUse::Tag, &flow.custom, values)
            && !tags.contains(&r)
        {
            tags.push(r);
        }
    }
    tags
}

/// The profile's notes for what the submission carries, in a fixed order.
fn rendered_notes(flow: &CandidatesFlow, sub: &ValidSubmission, facts: &CandidateFacts, values: &TemplateValues) -> Vec<String> {
    let mut notes = Vec::new();
    let note = |t: &Option<String>| t.as_deref().and_then(|t| render(t, TemplateUse::Note, &flow.custom, values));
    if sub.endorsement.is_some() {
        notes.extend(note(&flow.notes.endorsement));
    }
    if sub.referrer.is_some() {
        notes.extend(note(&flow.notes.referrer));
        if facts.referrer_user_id.is_none() {
            notes.extend(note(&flow.notes.referrer_not_in_lever));
        }
    }
    if sub.screening.is_some() {
        notes.extend(note(&flow.notes.screening));
    }
    if !sub.custom.is_empty() {
        notes.extend(note(&flow.notes.custom));
    }
    notes
}
