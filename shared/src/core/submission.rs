//! A partner's candidate submission, its validation, and the pure rule that turns it into a
//! [`CandidatePlan`]: what to write to Lever, decided by the profile and the connection's settings.
//! The plan holds no HTTP; the Lever adapter translates it into requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::{StageId, normalize_uuid};
use super::job::posting_id_from_ref;
use super::profile::{CandidatesFlow, OnExisting, PerformAs, Profile, Route, SettingKey};
use super::settings::ConnectionSettings;
use super::template::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    Referral,
    Application,
    Screening,
}

impl SubmissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Referral => "referral",
            Self::Application => "application",
            Self::Screening => "screening",
        }
    }
}

/// Lever opportunity origins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Agency,
    Applied,
    Internal,
    Referred,
    Sourced,
    University,
}

impl Origin {
    /// Lever's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Applied => "applied",
            Self::Internal => "internal",
            Self::Referred => "referred",
            Self::Sourced => "sourced",
            Self::University => "university",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    Resume,
    CoverLetter,
    Transcript,
    Other,
}

impl FileRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resume => "resume",
            Self::CoverLetter => "cover_letter",
            Self::Transcript => "transcript",
            Self::Other => "other",
        }
    }
}

/// Content types Lever accepts for uploads (pdf, doc, docx, txt, jpg, png).
pub const ALLOWED_CONTENT_TYPES: &[&str] = &[
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "image/jpeg",
    "image/png",
];

/// Inline file contents (`content_base64`) may total this much per request (decoded): the body
/// stays inside Lambda's 6 MB request limit. Larger files go through an upload (`upload_id`).
pub const MAX_INLINE_BYTES: u64 = 4 * 1024 * 1024;

/// What a partner POSTs. Unknown fields are refused so typos do not silently drop data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub kind: SubmissionKind,
    pub candidate: CandidateInput,
    /// Exactly one: a posting id or its Lever-hosted job URL.
    #[serde(default)]
    pub postings: Vec<String>,
    #[serde(default)]
    pub referrer: Option<ReferrerInput>,
    #[serde(default)]
    pub endorsement: Option<String>,
    #[serde(default)]
    pub screening: Option<ScreeningInput>,
    #[serde(default)]
    pub files: Vec<FileInput>,
}

/// A file as the partner sends it: its bytes inline, or the id of an upload made before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    pub name: String,
    pub content_type: String,
    pub role: FileRole,
    /// The bytes, base64 (standard alphabet); all inline files together at most [`MAX_INLINE_BYTES`].
    #[serde(default)]
    pub content_base64: Option<String>,
    /// An upload of this connection (`POST /v1/connections/{id}/uploads`), for larger files.
    #[serde(default)]
    pub upload_id: Option<String>,
}

/// Where a validated file's bytes are: decoded from the request, or in an upload.
#[derive(Clone, PartialEq, Eq)]
pub enum FileContent {
    Inline(Vec<u8>),
    Upload(String),
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Candidate documents are personal data: never dump their bytes.
        match self {
            FileContent::Inline(b) => write!(f, "Inline({} bytes)", b.len()),
            FileContent::Upload(id) => write!(f, "Upload({id})"),
        }
    }
}

/// A submission that passed validation, and where the bytes of each of its files are
/// (`contents[i]` belongs to `submission.files[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub submission: ValidSubmission,
    pub contents: Vec<FileContent>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    pub name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub headline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferrerInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningInput {
    /// E.g. `PASSED`, `FAILED` (case-insensitive; stored upper case).
    pub status: String,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// A file of a validated submission (its bytes are kept apart, see [`FileContent`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMeta {
    pub name: String,
    pub content_type: String,
    pub role: FileRole,
    #[serde(default)]
    pub size_bytes: Option<u64>,
}

/// One problem with a submission: the field (dotted path) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid submission: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "))]
pub struct SubmissionError(pub Vec<FieldError>);

/// A submission that passed [`Submission::validate`]: posting resolved, emails normalised.
/// Kept with the submission record, so a queued submission is planned again from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidSubmission {
    pub kind: SubmissionKind,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub links: Vec<String>,
    pub location: Option<String>,
    pub headline: Option<String>,
    pub posting_id: String,
    pub referrer: Option<ReferrerInput>,
    pub endorsement: Option<String>,
    pub screening: Option<ScreeningInput>,
    pub files: Vec<FileMeta>,
}

/// A screening status in canonical form: trimmed, upper case, letters/digits/space/`_`/`-`.
pub fn normalize_status(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_uppercase();
    if t.is_empty()
        || t.len() > 40
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-'))
    {
        return Err(format!(
            "{s:?} is not a result status: use 1-40 letters, digits, spaces, '_' or '-' (like PASSED)"
        ));
    }
    Ok(t)
}

/// Trimmed, with a lower-case domain; `None` when not a plausible address.
pub fn normalize_email(s: &str) -> Option<String> {
    let t = s.trim();
    if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = t.split_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
    {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Submission {
    /// Checks the submission against the partner's candidates flow, reporting every problem.
    pub fn validate(&self, flow: &CandidatesFlow) -> Result<Validated, SubmissionError> {
        let mut errs = Vec::new();
        let mut err = |f: String, r: String| {
            errs.push(FieldError {
                field: f,
                reason: r,
            })
        };

        if !flow.accepts.contains(&self.kind) {
            err(
                "kind".into(),
                format!(
                    "{:?} submissions are not accepted; this partner sends {}",
                    self.kind.as_str(),
                    flow.accepts
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let c = &self.candidate;
        let name = c.name.trim().to_string();
        if name.is_empty() {
            err("candidate.name".into(), "required".into());
        } else if name.chars().count() > 255 {
            err("candidate.name".into(), "longer than 255 characters".into());
        }
        let mut emails: Vec<String> = Vec::new();
        for (i, e) in c.emails.iter().enumerate() {
            match normalize_email(e) {
                Some(n) if !emails.iter().any(|x| x.eq_ignore_ascii_case(&n)) => emails.push(n),
                Some(_) => {}
                None => err(
                    format!("candidate.emails[{i}]"),
                    format!("{e:?} is not an email address"),
                ),
            }
        }
        let mut phones = Vec::new();
        for (i, p) in c.phones.iter().enumerate() {
            let v = p.value.trim();
            let digits = v.chars().filter(char::is_ascii_digit).count();
            let ok_chars = v
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch) || ch == 'x');
            if !(5..=20).contains(&digits) || !ok_chars {
                err(
                    format!("candidate.phones[{i}].value"),
                    format!("{v:?} is not a phone number"),
                );
            } else {
                phones.push(Phone {
                    kind: clean(&p.kind),
                    value: v.to_string(),
                });
            }
        }
        if c.emails.is_empty() && c.phones.is_empty() {
            err(
                "candidate.emails".into(),
                "give at least one email address or phone number".into(),
            );
        }
        let mut links = Vec::new();
        for (i, l) in c.links.iter().enumerate() {
            match url::Url::parse(l.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => links.push(l.trim().to_string()),
                _ => err(
                    format!("candidate.links[{i}]"),
                    format!("{l:?} is not an http(s) URL"),
                ),
            }
        }
        let mut posting_id = String::new();
        match self.postings.as_slice() {
            [] => err(
                "postings".into(),
                "a posting is required (its id or its Lever job URL)".into(),
            ),
            [one] => match posting_id_from_ref(one) {
                Ok(id) => posting_id = id,
                Err(e) => err("postings[0]".into(), e.to_string()),
            },
            many => err(
                "postings".into(),
                format!(
                    "{} postings given; Lever takes exactly one posting per opportunity: send one submission per posting",
                    many.len()
                ),
            ),
        }
        let referrer = match &self.referrer {
            None => {
                if self.kind == SubmissionKind::Referral && flow.referrer.required {
                    err(
                        "referrer".into(),
                        "a referral needs its referrer (name and/or email)".into(),
                    );
                }
                None
            }
            Some(r) => {
                if self.kind != SubmissionKind::Referral {
                    err(
                        "referrer".into(),
                        format!(
                            "only referrals have a referrer, this is {:?}",
                            self.kind.as_str()
                        ),
                    );
                }
                let name = clean(&r.name);
                let email = match clean(&r.email) {
                    None => None,
                    Some(e) => match normalize_email(&e) {
                        Some(n) => Some(n),
                        None => {
                            err(
                                "referrer.email".into(),
                                format!("{e:?} is not an email address"),
                            );
                            None
                        }
                    },
                };
                if name.is_none() && r.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                    err(
                        "referrer".into(),
                        "give the referrer's name or email".into(),
                    );
                }
                Some(ReferrerInput { name, email })
            }
        };
        let endorsement = clean(&self.endorsement);
        if endorsement
            .as_ref()
            .is_some_and(|e| e.chars().count() > 10_000)
        {
            err("endorsement".into(), "longer than 10000 characters".into());
        }
        let screening = match &self.screening {
            None => {
                if self.kind == SubmissionKind::Screening {
                    err(
                        "screening".into(),
                        "a screening submission needs its result".into(),
                    );
                }
                None
            }
            Some(s) => {
                if self.kind != SubmissionKind::Screening {
                    err(
                        "screening".into(),
                        format!(
                            "only screening submissions carry a result, this is {:?}",
                            self.kind.as_str()
                        ),
                    );
                }
                let status = match normalize_status(&s.status) {
                    Ok(st) => st,
                    Err(e) => {
                        err("screening.status".into(), e);
                        String::new()
                    }
                };
                if s.score.is_some_and(|x| !x.is_finite()) {
                    err("screening.score".into(), "must be a finite number".into());
                }
                Some(ScreeningInput {
                    status,
                    score: s.score,
                    summary: clean(&s.summary),
                })
            }
        };
        let mut resumes = 0;
        let mut inline_total: u64 = 0;
        let mut files = Vec::with_capacity(self.files.len());
        let mut contents = Vec::with_capacity(self.files.len());
        for (i, f) in self.files.iter().enumerate() {
            let p = format!("files[{i}]");
            if !flow.files.accept.contains(&f.role) {
                err(
                    format!("{p}.role"),
                    format!(
                        "{:?} files are not accepted from this partner (accepted: {})",
                        f.role,
                        flow.files
                            .accept
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            if f.role == FileRole::Resume {
                resumes += 1;
                if resumes > 1 {
                    err(format!("{p}.role"), "only one resume per submission".into());
                }
            }
            let n = f.name.trim();
            if n.is_empty()
                || n.contains('/')
                || n.contains('\\')
                || n.len() > 255
                || n.chars().any(char::is_control)
            {
                err(
                    format!("{p}.name"),
                    format!("{:?} is not a file name", f.name),
                );
            }
            let ct = f.content_type.trim().to_ascii_lowercase();
            let base = ct.split(';').next().unwrap_or("").trim();
            if !ALLOWED_CONTENT_TYPES.contains(&base) {
                err(
                    format!("{p}.content_type"),
                    format!(
                        "{:?} is not a type Lever takes (pdf, doc, docx, txt, jpg, png)",
                        f.content_type
                    ),
                );
            }
            let mut size_bytes = None;
            match (&f.content_base64, &f.upload_id) {
                (Some(_), Some(_)) | (None, None) => err(
                    p.clone(),
                    "give exactly one of content_base64 (small files) and upload_id".into(),
                ),
                (Some(b64), None) => {
                    use base64::Engine as _;
                    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                        Ok(bytes) => {
                            let size = bytes.len() as u64;
                            inline_total = inline_total.saturating_add(size);
                            if size == 0 || size > flow.files.max_bytes {
                                err(
                                    format!("{p}.content_base64"),
                                    format!(
                                        "{size} bytes; must be between 1 and {}",
                                        flow.files.max_bytes
                                    ),
                                );
                            }
                            size_bytes = Some(size);
                            contents.push(FileContent::Inline(bytes));
                        }
                        Err(e) => err(
                            format!("{p}.content_base64"),
                            format!("not base64 (standard alphabet, with padding): {e}"),
                        ),
                    }
                }
                (None, Some(id)) => {
                    let id = id.trim();
                    if id.is_empty()
                        || id.len() > 64
                        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        err(
                            format!("{p}.upload_id"),
                            format!("{id:?} is not an upload id"),
                        );
                    }
                    contents.push(FileContent::Upload(id.to_string()));
                }
            }
            files.push(FileMeta {
                name: n.to_string(),
                content_type: base.to_string(),
                role: f.role,
                size_bytes,
            });
        }
        if inline_total > MAX_INLINE_BYTES {
            err(
                "files".into(),
                format!(
                    "{inline_total} bytes inline; at most {MAX_INLINE_BYTES} in all: send larger files as uploads (upload_id)"
                ),
            );
        }
        if !errs.is_empty() {
            return Err(SubmissionError(errs));
        }
        Ok(ValidSubmission {
            kind: self.kind,
            name,
            emails,
            phones,
            links,
            location: clean(&c.location),
            headline: clean(&c.headline),
            posting_id,
            referrer,
            endorsement,
            screening,
            files,
        })
        .map(|submission| Validated { submission, contents })
    }
}

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
pub fn perform_as_choices(
    profile: &Profile,
    settings: &ConnectionSettings,
    authorizing_user_id: Option<&str>,
) -> Vec<String> {
    let Some(flow) = profile.candidates() else { return vec![] };
    let chosen = settings
        .perform_as
        .as_deref()
        .filter(|_| profile.may_change(SettingKey::PerformAs))
        .and_then(normalize_uuid);
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
    settings
        .source
        .as_deref()
        .filter(|_| profile.may_change(SettingKey::Source))
        .map(str::trim)
        .unwrap_or(profile_source)
        .to_string()
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

    let choices = perform_as_choices(profile, settings, facts.authorizing_user_id.as_deref());
    if choices.is_empty() {
        return Err(PlanError::NoPerformAs);
    }
    let perform_as = choices
        .iter()
        .find(|u| !facts.inactive_users.contains(u))
        .cloned()
        .ok_or(PlanError::PerformAsDeactivated)?;

    let posting_override = settings
        .posting_overrides
        .get(&sub.posting_id)
        .filter(|_| allowed(SettingKey::PostingOverrides));
    let route: Option<Route> = sub.screening.as_ref().and_then(|s| {
        let st = &s.status;
        let find = |m: &BTreeMap<String, Route>| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(st))
                .map(|(_, r)| r.clone())
        };
        posting_override
            .and_then(|o| find(&o.result_routes))
            .or_else(|| {
                allowed(SettingKey::ResultRoutes)
                    .then(|| find(&settings.result_routes))
                    .flatten()
            })
            .or_else(|| find(&flow.result_routes))
    });
    let default_stage = posting_override
        .and_then(|o| o.stage.clone())
        .or_else(|| {
            settings
                .default_stage
                .clone()
                .filter(|_| allowed(SettingKey::DefaultStage))
        })
        .unwrap_or_else(|| flow.stage.clone());
    let route_stage = route.as_ref().and_then(|r| r.stage.clone());
    let also_apply_to_posting = route
        .as_ref()
        .and_then(|r| r.posting.as_deref())
        .and_then(|p| posting_id_from_ref(p).ok())
        .filter(|p| *p != sub.posting_id);

    let source = source_label(profile, settings);

    let vars = |name: &str| -> Option<String> {
        match name {
            "partner.name" => Some(profile.display_name.clone()),
            "submission.kind" => Some(sub.kind.as_str().to_string()),
            "result" => sub.screening.as_ref().map(|s| s.status.clone()),
            "score" => sub.screening.as_ref().and_then(|s| s.score).map(fmt_score),
            "summary" => sub.screening.as_ref().and_then(|s| s.summary.clone()),
            "posting.id" => Some(sub.posting_id.clone()),
            "posting.title" => facts.posting_title.clone(),
            "candidate.name" => Some(sub.name.clone()),
            "candidate.email" => sub.emails.first().cloned(),
            "referrer" => sub
                .referrer
                .as_ref()
                .and_then(|r| match (facts.referrer_user_name.as_ref().or(r.name.as_ref()), &r.email) {
                    (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
                    (Some(n), None) => Some(n.clone()),
                    (None, Some(e)) => Some(e.clone()),
                    (None, None) => None,
                }),
            "referrer.name" => sub.referrer.as_ref().and_then(|r| r.name.clone()),
            "referrer.email" => sub.referrer.as_ref().and_then(|r| r.email.clone()),
            "endorsement" => sub.endorsement.clone(),
            _ => None,
        }
    };
    let render = |src: &str, allowed_names: &[&str]| {
        Template::parse(src, allowed_names)
            .ok()
            .and_then(|t| t.render(&vars))
    };

    let tag_sources: Vec<String> = settings
        .tags
        .clone()
        .filter(|_| allowed(SettingKey::Tags))
        .unwrap_or_else(|| flow.tags.clone())
        .into_iter()
        .chain(posting_override.map(|o| o.tags.clone()).unwrap_or_default())
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for t in &tag_sources {
        if let Some(r) = render(t, super::profile::TAG_PLACEHOLDERS)
            && !tags.contains(&r)
        {
            tags.push(r);
        }
    }

    let mut notes = Vec::new();
    let note = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| render(t, super::profile::NOTE_PLACEHOLDERS))
    };
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

    let update_existing = facts
        .existing
        .as_ref()
        .filter(|_| flow.on_existing == OnExisting::Update);
    if let Some(ex) = update_existing {
        let sources = if flow.update_source_of_existing
            && !ex.sources.iter().any(|s| s.eq_ignore_ascii_case(&source))
        {
            vec![source]
        } else {
            vec![]
        };
        let stage = route_stage.filter(|s| ex.stage.as_deref() != Some(s.as_str()));
        return Ok(CandidatePlan {
            write: Write::Update {
                opportunity_id: ex.opportunity_id.clone(),
            },
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
        });
    }
    let hold = facts.existing.is_none()
        && sub.kind == SubmissionKind::Referral
        && flow.pending.hold_referrals;
    if facts.existing.is_none() && !flow.create_if_missing && !hold {
        return Err(PlanError::NotInLever);
    }
    let mut files = sub.files.clone();
    let resume_file = files
        .iter()
        .position(|f| f.role == FileRole::Resume)
        .map(|i| files.remove(i));
    Ok(CandidatePlan {
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
    })
}

fn fmt_score(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTING: &str = "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
    const USER: &str = "8d49b010-cc6a-4f40-ace5-e86061c677ed";

    fn profile(extra: &str) -> Profile {
        let text = format!(
            r#"
            id = "acme"
            display_name = "Acme"
            kind = "other"
            [oauth]
            scopes = ["offline_access"]
            [flows.candidates]
            accepts = ["referral", "application", "screening"]
            origin = "referred"
            source = "Acme"
            stage = "applicant-new"
            {extra}
            tags = ["Acme", "Screened: {{result}}"]
            [flows.candidates.notes]
            endorsement = "{{referrer.name}} says: {{endorsement}}"
            screening = "Result {{result}}, score {{score?}}"
            [flows.candidates.files]
            accept = ["resume", "cover_letter"]
            max_bytes = 1000
            "#
        );
        toml::from_str(&text).unwrap()
    }

    fn sub() -> Submission {
        Submission {
            kind: SubmissionKind::Application,
            candidate: CandidateInput {
                name: " Ada ".into(),
                emails: vec!["ada@example.com".into()],
                ..Default::default()
            },
            postings: vec![POSTING.into()],
            referrer: None,
            endorsement: None,
            screening: None,
            files: vec![],
        }
    }

    fn inline(name: &str, content_type: &str, role: FileRole, size: usize) -> FileInput {
        use base64::Engine as _;
        FileInput {
            name: name.into(),
            content_type: content_type.into(),
            role,
            content_base64: Some(base64::engine::general_purpose::STANDARD.encode(vec![7u8; size])),
            upload_id: None,
        }
    }

    fn upload(name: &str, content_type: &str, role: FileRole) -> FileInput {
        FileInput {
            name: name.into(),
            content_type: content_type.into(),
            role,
            content_base64: None,
            upload_id: Some("0b7c1d3e-aaaa-4bbb-8ccc-123456789abc".into()),
        }
    }

    fn errors(s: &Submission, p: &Profile) -> Vec<String> {
        match s.validate(p.candidates().unwrap()) {
            Ok(_) => vec![],
            Err(SubmissionError(e)) => e
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect(),
        }
    }

    fn facts() -> CandidateFacts {
        CandidateFacts {
            authorizing_user_id: Some(USER.into()),
            ..Default::default()
        }
    }

    #[test]
    fn emails_are_checked_and_normalised() {
        assert_eq!(
            normalize_email(" Ada@Example.COM ").as_deref(),
            Some("Ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@-x.com",
            "ada@example..com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        let p = profile("");
        let mut s = sub();
        s.candidate.emails = vec![
            "ada@example.com".into(),
            "not-an-email".into(),
            "ADA@EXAMPLE.COM".into(),
        ];
        assert_eq!(
            errors(&s, &p),
            vec!["candidate.emails[1]: \"not-an-email\" is not an email address"]
        );
        s.candidate.emails.remove(1);
        assert_eq!(
            s.validate(p.candidates().unwrap()).unwrap().submission.emails,
            vec!["ada@example.com"],
            "duplicates dropped"
        );
    }

    #[test]
    fn postings_exactly_one() {
        let p = profile("");
        let mut s = sub();
        s.postings = vec![];
        assert_eq!(
            errors(&s, &p),
            vec!["postings: a posting is required (its id or its Lever job URL)"]
        );
        s.postings = vec![POSTING.into(), POSTING.into()];
        assert!(errors(&s, &p)[0].starts_with(
            "postings: 2 postings given; Lever takes exactly one posting per opportunity"
        ));
        s.postings = vec!["https://example.com/jobs/1".into()];
        assert!(errors(&s, &p)[0].starts_with("postings[0]: "));
        s.postings = vec![format!(
            "https://jobs.eu.lever.co/acme/{}/apply",
            POSTING.to_uppercase()
        )];
        assert_eq!(
            s.validate(p.candidates().unwrap()).unwrap().submission.posting_id,
            POSTING
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let p = profile("");
        let s = Submission {
            kind: SubmissionKind::Screening,
            candidate: CandidateInput {
                name: "  ".into(),
                emails: vec![],
                phones: vec![Phone {
                    kind: None,
                    value: "12".into(),
                }],
                links: vec!["javascript:alert(1)".into()],
                ..Default::default()
            },
            postings: vec![POSTING.into()],
            referrer: Some(ReferrerInput {
                name: None,
                email: Some("nope".into()),
            }),
            endorsement: None,
            screening: Some(ScreeningInput {
                status: "PASSED!".into(),
                score: Some(f64::NAN),
                summary: None,
            }),
            files: vec![
                inline("a/b.pdf", "application/zip", FileRole::Transcript, 5000),
                upload("cv.pdf", "application/pdf", FileRole::Resume),
                upload("cv2.pdf", "application/pdf; charset=binary", FileRole::Resume),
            ],
        };
        let got = errors(&s, &p);
        let fields: Vec<&str> = got.iter().map(|e| e.split(": ").next().unwrap()).collect();
        assert_eq!(
            fields,
            vec![
                "candidate.name",
                "candidate.phones[0].value",
                "candidate.links[0]",
                "referrer",
                "referrer.email",
                "screening.status",
                "screening.score",
                "files[0].role",
                "files[0].name",
                "files[0].content_type",
                "files[0].content_base64",
                "files[2].role",
            ],
            "{got:#?}"
        );
        let msg = SubmissionError(vec![FieldError {
            field: "a".into(),
            reason: "b".into(),
        }])
        .to_string();
        assert_eq!(msg, "invalid submission: a: b");
    }

    #[test]
    fn kind_specific_parts() {
        let p = profile("");
        let mut s = sub();
        s.kind = SubmissionKind::Screening;
        assert_eq!(
            errors(&s, &p),
            vec!["screening: a screening submission needs its result"]
        );
        let p2 = profile("referrer = { required = true }");
        let mut s = sub();
        s.kind = SubmissionKind::Referral;
        assert_eq!(
            errors(&s, &p2),
            vec!["referrer: a referral needs its referrer (name and/or email)"]
        );
        s.referrer = Some(ReferrerInput {
            name: Some("Grace".into()),
            email: None,
        });
        assert!(errors(&s, &p2).is_empty());
        let mut s = sub();
        s.candidate.emails.clear();
        assert_eq!(
            errors(&s, &p),
            vec!["candidate.emails: give at least one email address or phone number"]
        );
        s.candidate.phones = vec![Phone {
            kind: Some("mobile".into()),
            value: "+1 (415) 555-0100".into(),
        }];
        assert!(errors(&s, &p).is_empty());
    }

    #[test]
    fn statuses() {
        assert_eq!(normalize_status(" passed ").unwrap(), "PASSED");
        assert_eq!(normalize_status("needs review").unwrap(), "NEEDS REVIEW");
        assert!(normalize_status("").is_err());
        assert!(normalize_status("ok!").is_err());
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let e = serde_json::from_str::<Submission>(
            r#"{"kind":"application","candidate":{"name":"A"},"posting":"x"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `posting`"), "{e}");
        let ok: Submission = serde_json::from_str(
            r#"{"kind":"screening","candidate":{"name":"A","phones":[{"type":"mobile","value":"+15550100"}]},
                "postings":["3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e"],"screening":{"status":"PASSED","score":90}}"#,
        )
        .unwrap();
        assert_eq!(ok.screening.unwrap().score, Some(90.0));
    }

    #[test]
    fn plan_tags_and_notes_render_only_what_applies() {
        let p = profile("");
        let mut s = sub();
        s.kind = SubmissionKind::Referral;
        s.referrer = Some(ReferrerInput {
            name: Some("Grace".into()),
            email: None,
        });
        s.endorsement = Some("Hire her.".into());
        let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts()).unwrap();
        assert_eq!(plan.tags, vec!["Acme"], "the screening tag needs a result");
        assert_eq!(plan.notes, vec!["Grace says: Hire her."]);
        assert_eq!(plan.candidate.name, "Ada");

        let mut s = sub();
        s.kind = SubmissionKind::Screening;
        s.screening = Some(ScreeningInput {
            status: "passed".into(),
            score: None,
            summary: None,
        });
        let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts()).unwrap();
        assert_eq!(plan.tags, vec!["Acme", "Screened: PASSED"]);
        assert_eq!(plan.notes, vec!["Result PASSED, score"]);
    }

    #[test]
    fn settings_the_profile_does_not_allow_are_ignored() {
        let p = profile("");
        let settings = ConnectionSettings {
            source: Some("Other".into()),
            perform_as: Some("e2befaae-b830-4c21-a002-2d5019486d1a".into()),
            ..Default::default()
        };
        assert_eq!(settings.validate(&p).len(), 2);
        let plan = plan_candidate_write(&p, &settings, &sub(), &facts()).unwrap();
        assert_eq!(plan.sources, vec!["Acme"]);
        assert_eq!(plan.perform_as, USER);
    }

    #[test]
    fn perform_as_and_missing_candidates() {
        let p = profile("");
        assert_eq!(
            plan_candidate_write(
                &p,
                &ConnectionSettings::default(),
                &sub(),
                &CandidateFacts::default()
            ),
            Err(PlanError::NoPerformAs)
        );
        let p = profile("create_if_missing = false");
        assert_eq!(
            plan_candidate_write(&p, &ConnectionSettings::default(), &sub(), &facts()),
            Err(PlanError::NotInLever)
        );
        let mut f = facts();
        f.existing = Some(ExistingOpportunity {
            opportunity_id: "opp".into(),
            tags: vec!["Acme".into()],
            ..Default::default()
        });
        let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &sub(), &f).unwrap();
        assert_eq!(
            plan.write,
            Write::Update {
                opportunity_id: "opp".into()
            }
        );
        assert!(
            plan.tags.is_empty(),
            "tags already on the opportunity are not added again"
        );
        assert!(plan.sources.is_empty(), "update_source_of_existing is off");
    }

    #[test]
    fn new_opportunity_on_existing_and_files_on_update() {
        let p = profile("on_existing = \"new_opportunity\"");
        let mut f = facts();
        f.existing = Some(ExistingOpportunity {
            opportunity_id: "opp".into(),
            ..Default::default()
        });
        let mut s = sub();
        s.files = vec![upload("cv.pdf", "application/pdf", FileRole::Resume)];
        let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &f).unwrap();
        assert_eq!(plan.write, Write::Create);
        assert!(plan.resume_file.is_some() && plan.files.is_empty());
        // On update the resume becomes a file (resumes are read-only in Lever after create).
        let p = profile("");
        let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &f).unwrap();
        assert!(plan.resume_file.is_none());
        assert_eq!(plan.files.len(), 1);
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["write"]["action"], "update");
    }
}
