//! The hub's normalised job, built from a Lever posting; referral bonus and hosted-URL rules;
//! the profile's job filter; and the content hash used for change detection. Pure.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::normalize_uuid;

/// Lever posting states (`internal` is shown as "unlisted" in Lever's UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostingState {
    Published,
    Internal,
    Closed,
    Draft,
    Pending,
    Rejected,
}

impl PostingState {
    /// Lever's name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Internal => "internal",
            Self::Closed => "closed",
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "published" => Self::Published,
            "internal" => Self::Internal,
            "closed" => Self::Closed,
            "draft" => Self::Draft,
            "pending" => Self::Pending,
            "rejected" => Self::Rejected,
            _ => return None,
        })
    }
}

/// Where a published posting is listed: the external job site (`public`) or the internal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Public,
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidentiality {
    NonConfidential,
    Confidential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkplaceType {
    Unspecified,
    Onsite,
    Remote,
    Hybrid,
}

impl WorkplaceType {
    /// Accepts the Data API's `onsite` and the public Postings API's `on-site`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "unspecified" => Self::Unspecified,
            "onsite" | "on-site" => Self::Onsite,
            "remote" => Self::Remote,
            "hybrid" => Self::Hybrid,
            _ => return None,
        })
    }
}

/// The posting fields the core needs, plain and optional. The Lever adapter converts its wire
/// type into this; the core never sees HTTP shapes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingInput {
    pub id: String,
    pub text: Option<String>,
    pub state: Option<String>,
    pub distribution_channels: Option<Vec<String>>,
    pub confidentiality: Option<String>,
    pub team: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub all_locations: Option<Vec<String>>,
    pub commitment: Option<String>,
    pub tags: Option<Vec<String>>,
    pub description: Option<String>,
    pub description_html: Option<String>,
    pub lists: Option<Vec<PostingListInput>>,
    pub closing: Option<String>,
    pub closing_html: Option<String>,
    pub salary_range: Option<SalaryRangeInput>,
    pub salary_description: Option<String>,
    pub salary_description_html: Option<String>,
    pub workplace_type: Option<String>,
    pub hiring_manager: Option<String>,
    /// Present when the listing expanded `hiringManager`.
    pub hiring_manager_name: Option<String>,
    pub hiring_manager_email: Option<String>,
    /// `requisitionCodes`, and the deprecated single `reqCode`.
    pub requisition_codes: Option<Vec<String>>,
    pub req_code: Option<String>,
    pub country: Option<String>,
    /// `urls.show`: the hosted job page.
    pub hosted_url: Option<String>,
    /// `urls.apply`: the hosted application form.
    pub apply_url: Option<String>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingListInput {
    pub text: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SalaryRangeInput {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: Option<String>,
    pub interval: Option<String>,
}

/// The normalised job the hub stores and sends to partners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub posting_id: String,
    pub title: String,
    /// `None` when Lever sent a state this hub does not know (such a job passes no filter).
    pub state: Option<PostingState>,
    /// Sorted, without repeats.
    pub distribution: Vec<Channel>,
    pub confidentiality: Confidentiality,
    pub department: Option<String>,
    pub team: Option<String>,
    /// The primary location.
    pub location: Option<String>,
    /// Every location, primary first, without repeats.
    pub locations: Vec<String>,
    /// Lever's "work type" (`categories.commitment`), e.g. "Full-time".
    pub commitment: Option<String>,
    pub workplace_type: Option<WorkplaceType>,
    pub country: Option<String>,
    pub salary: Option<Salary>,
    pub description: Option<Description>,
    pub hosted_url: Option<String>,
    pub apply_url: Option<String>,
    pub hiring_manager: Option<HiringManager>,
    /// Lever's requisition codes, in Lever's order, without repeats.
    pub requisition_codes: Vec<String>,
    /// Sorted, without repeats.
    pub tags: Vec<String>,
    pub referral_bonus: Option<ReferralBonus>,
    /// Lever's `updatedAt` (ms); not part of the content hash.
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Salary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: Option<String>,
    /// Lever's interval, e.g. `per-year-salary`.
    pub interval: Option<String>,
    pub description: Option<String>,
    pub description_html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    pub text: Option<String>,
    pub html: Option<String>,
    pub lists: Vec<DescriptionList>,
    pub closing: Option<String>,
    pub closing_html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescriptionList {
    pub title: Option<String>,
    /// `<li>` HTML as Lever stores it.
    pub html: Option<String>,
    /// The same items as plain text, one `* item` line each.
    pub text: Option<String>,
}

/// The posting's hiring manager: a Lever user id, with name and email when Lever expanded them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiringManager {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A referral bonus from a posting tag `referralbonus:<value>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReferralBonus {
    /// `referralbonus:3000`, `referralbonus:€3,000`, `referralbonus:EUR 2500.50`.
    Amount { amount: f64, currency: Option<String>, text: String },
    /// `referralbonus:Win an iPad`.
    Text { text: String },
}

const BONUS_PREFIX: &str = "referralbonus:";

/// The first tag of the form `referralbonus:<value>` (prefix in any case, value trimmed, blank
/// values ignored), as an amount when the value is a number with an optional currency mark.
pub fn referral_bonus(tags: &[String]) -> Option<ReferralBonus> {
    tags.iter().find_map(|tag| {
        let t = tag.trim();
        let head = t.get(..BONUS_PREFIX.len())?;
        if !head.eq_ignore_ascii_case(BONUS_PREFIX) {
            return None;
        }
        let value = t[BONUS_PREFIX.len()..].trim();
        if value.is_empty() {
            return None;
        }
        Some(match parse_amount(value) {
            Some((amount, currency)) => ReferralBonus::Amount { amount, currency, text: value.to_string() },
            None => ReferralBonus::Text { text: value.to_string() },
        })
    })
}

/// `3000`, `3,000`, `3 000`, `2500.50`, with an optional currency symbol or ISO code before or after.
fn parse_amount(value: &str) -> Option<(f64, Option<String>)> {
    let mut v = value.trim();
    let mut currency = None;
    for (sym, code) in [("€", "EUR"), ("£", "GBP"), ("$", "USD"), ("¥", "JPY")] {
        if let Some(rest) = v.strip_prefix(sym).or_else(|| v.strip_suffix(sym)) {
            v = rest.trim();
            currency = Some(code.to_string());
            break;
        }
    }
    if currency.is_none() {
        let is_code = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase());
        if let Some((a, b)) = v.split_once(' ') {
            if is_code(a) {
                currency = Some(a.to_string());
                v = b.trim();
            } else if is_code(b) {
                currency = Some(b.to_string());
                v = a.trim();
            }
        }
    }
    let (int_part, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    if let Some(f) = frac
        && (f.is_empty() || f.len() > 2 || !f.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let sep = int_part.chars().find(|c| *c == ',' || *c == ' ');
    let digits: String = match sep {
        None => int_part.to_string(),
        Some(sep) => {
            let groups: Vec<&str> = int_part.split(sep).collect();
            let ok = !groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3);
            if !ok {
                return None;
            }
            groups.concat()
        }
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: f64 = match frac {
        Some(f) => format!("{digits}.{f}").parse().ok()?,
        None => digits.parse().ok()?,
    };
    Some((n, currency))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("posting id {0:?} is not a UUID")]
    BadId(String),
    #[error("posting {0} has no title")]
    NoTitle(String),
}

/// Plain text of an HTML fragment (Lever's restricted description and list HTML): tags
/// dropped, entities decoded, list items as `* item` lines. `None` when nothing is left.
pub fn html_to_text(html: &str) -> Option<String> {
    // No line wrapping: partners lay the text out themselves.
    let text = html2text::config::plain_no_decorate().string_from_read(html.as_bytes(), 10_000).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The posting's pay, `None` when Lever has none of it.
fn salary_of(p: &PostingInput) -> Option<Salary> {
    let r = p.salary_range.clone().unwrap_or_default();
    let s = Salary {
        min: r.min,
        max: r.max,
        currency: clean(&r.currency),
        interval: clean(&r.interval),
        description: clean(&p.salary_description),
        description_html: clean(&p.salary_description_html),
    };
    let empty = s.min.is_none() && s.max.is_none() && s.currency.is_none() && s.description.is_none() && s.description_html.is_none();
    (!empty).then_some(s)
}

/// The posting's text in both forms, `None` when it has none.
fn description_of(p: &PostingInput) -> Option<Description> {
    let html = clean(&p.description_html);
    let closing_html = clean(&p.closing_html);
    let d = Description {
        // Lever sends both forms; the plain one is derived only when Lever left it out.
        text: clean(&p.description).or_else(|| html.as_deref().and_then(html_to_text)),
        html,
        lists: p
            .lists
            .iter()
            .flatten()
            .map(|l| {
                let html = clean(&l.content);
                DescriptionList { title: clean(&l.text), text: html.as_deref().and_then(|h| html_to_text(&format!("<ul>{h}</ul>"))), html }
            })
            .filter(|l| l.title.is_some() || l.html.is_some())
            .collect(),
        closing: clean(&p.closing).or_else(|| closing_html.as_deref().and_then(html_to_text)),
        closing_html,
    };
    let empty = d.text.is_none() && d.html.is_none() && d.lists.is_empty() && d.closing.is_none() && d.closing_html.is_none();
    (!empty).then_some(d)
}

impl Job {
    pub fn from_posting(p: &PostingInput) -> Result<Job, JobError> {
        let posting_id = normalize_uuid(p.id.trim()).ok_or_else(|| JobError::BadId(p.id.clone()))?;
        let title = clean(&p.text).ok_or_else(|| JobError::NoTitle(posting_id.clone()))?;
        let mut distribution: Vec<Channel> = p
            .distribution_channels
            .iter()
            .flatten()
            .filter_map(|c| match c.trim().to_ascii_lowercase().as_str() {
                "public" => Some(Channel::Public),
                "internal" => Some(Channel::Internal),
                _ => None,
            })
            .collect();
        distribution.sort();
        distribution.dedup();
        let confidentiality = match p.confidentiality.as_deref().map(str::trim) {
            Some("confidential") => Confidentiality::Confidential,
            _ => Confidentiality::NonConfidential,
        };
        let location = clean(&p.location);
        let mut locations: Vec<String> = Vec::new();
        for l in location.iter().cloned().chain(p.all_locations.iter().flatten().map(|s| s.trim().to_string())) {
            if !l.is_empty() && !locations.contains(&l) {
                locations.push(l);
            }
        }
        let mut tags: Vec<String> = p.tags.iter().flatten().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        tags.sort();
        tags.dedup();
        // The bonus is read in Lever's tag order, so "first tag wins" means what the recruiter typed first.
        let raw_tags: Vec<String> = p.tags.clone().unwrap_or_default();
        let salary = salary_of(p);
        let description = description_of(p);
        let hiring_manager =
            clean(&p.hiring_manager).map(|id| HiringManager { id, name: clean(&p.hiring_manager_name), email: clean(&p.hiring_manager_email) });
        let mut requisition_codes: Vec<String> = Vec::new();
        for code in p.requisition_codes.iter().flatten().chain(p.req_code.iter()) {
            let code = code.trim();
            if !code.is_empty() && !requisition_codes.iter().any(|c| c == code) {
                requisition_codes.push(code.to_string());
            }
        }
        // A bare number in the tag is money in the posting's salary currency.
        let referral_bonus = match referral_bonus(&raw_tags) {
            Some(ReferralBonus::Amount { amount, currency: None, text }) => {
                Some(ReferralBonus::Amount { amount, currency: salary.as_ref().and_then(|s| s.currency.clone()), text })
            }
            other => other,
        };
        Ok(Job {
            posting_id,
            title,
            state: p.state.as_deref().and_then(PostingState::parse),
            distribution,
            confidentiality,
            department: clean(&p.department),
            team: clean(&p.team),
            location,
            locations,
            commitment: clean(&p.commitment),
            workplace_type: p.workplace_type.as_deref().and_then(WorkplaceType::parse),
            country: clean(&p.country),
            salary,
            description,
            hosted_url: clean(&p.hosted_url),
            apply_url: clean(&p.apply_url),
            hiring_manager,
            requisition_codes,
            tags,
            referral_bonus,
            updated_at: p.updated_at,
        })
    }

    /// SHA-256 (hex) over a canonical serialisation of everything a partner can see, without
    /// `updated_at`: a posting touched in Lever without a visible change keeps its hash. Hash the
    /// job as sent to the partner (after [`Job::for_partner`]) so hidden fields cause no events.
    pub fn content_hash(&self) -> String {
        let mut canon = self.clone();
        canon.updated_at = None;
        // Struct fields serialise in declaration order and lists are sorted at construction,
        // so the same job always gives the same bytes.
        let bytes = serde_json::to_vec(&canon).expect("a job always serialises");
        hex::encode(Sha256::digest(&bytes))
    }

    /// The job with the parts a profile did not ask for removed.
    pub fn for_partner(&self, include: &JobInclude) -> Job {
        let mut j = self.clone();
        if !include.description {
            j.description = None;
        }
        if !include.salary {
            j.salary = None;
        }
        if !include.workplace_type {
            j.workplace_type = None;
        }
        if !include.apply_url {
            j.apply_url = None;
        }
        if !include.referral_bonus {
            j.referral_bonus = None;
        }
        if !include.hiring_manager {
            j.hiring_manager = None;
        }
        j
    }
}

/// Which optional parts of a job a partner receives (`flows.jobs.include`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobInclude {
    #[serde(default)]
    pub description: bool,
    #[serde(default)]
    pub salary: bool,
    #[serde(default)]
    pub workplace_type: bool,
    #[serde(default)]
    pub apply_url: bool,
    #[serde(default)]
    pub referral_bonus: bool,
    #[serde(default)]
    pub hiring_manager: bool,
}

impl JobInclude {
    /// Every optional part.
    pub fn everything() -> Self {
        Self { description: true, salary: true, workplace_type: true, apply_url: true, referral_bonus: true, hiring_manager: true }
    }
}

/// Which postings a partner sees (`flows.jobs.filter`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFilter {
    /// Posting states that pass, e.g. `["published"]`.
    pub states: Vec<PostingState>,
    /// When set, a posting passes only if it is listed on at least one of these channels
    /// (`public` = external job site, `internal` = internal job site). An unlisted posting
    /// (state `internal`) has no channel and never passes such a filter.
    #[serde(default)]
    pub distribution: Option<Vec<Channel>>,
    #[serde(default = "default_confidentiality")]
    pub confidentiality: Vec<Confidentiality>,
}

fn default_confidentiality() -> Vec<Confidentiality> {
    vec![Confidentiality::NonConfidential]
}

/// Why a job did not pass a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterMiss {
    State(Option<PostingState>),
    Distribution(Vec<Channel>),
    Confidentiality(Confidentiality),
}

impl JobFilter {
    pub fn check(&self, job: &Job) -> Result<(), FilterMiss> {
        match job.state {
            Some(s) if self.states.contains(&s) => {}
            other => return Err(FilterMiss::State(other)),
        }
        if let Some(channels) = &self.distribution
            && !job.distribution.iter().any(|c| channels.contains(c))
        {
            return Err(FilterMiss::Distribution(job.distribution.clone()));
        }
        if !self.confidentiality.contains(&job.confidentiality) {
            return Err(FilterMiss::Confidentiality(job.confidentiality));
        }
        Ok(())
    }

    pub fn passes(&self, job: &Job) -> bool {
        self.check(job).is_ok()
    }
}

/// The event a partner gets for one posting, given what it was last sent.
///
/// `previous_hash` is the content hash last sent to the partner (`None` if never sent or already
/// closed); `current` is the job as the partner would see it now, or `None` when the posting no
/// longer passes the profile's filter or is gone. The caller retires jobs only after a complete
/// pass over Lever's postings, never from a partial one.
pub fn job_event(previous_hash: Option<&str>, current: Option<&Job>) -> Option<super::events::EventKind> {
    use super::events::EventKind;
    match (previous_hash, current) {
        (None, Some(_)) => Some(EventKind::JobCreated),
        (Some(h), Some(j)) if j.content_hash() != h => Some(EventKind::JobUpdated),
        (Some(_), None) => Some(EventKind::JobClosed),
        _ => None,
    }
}

/// Why a text is not a posting reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostingRefError {
    #[error("{0:?} is neither a posting id (UUID) nor a Lever job URL")]
    NotAReference(String),
    #[error("{url:?} is not a Lever-hosted job URL: host {host:?} is not jobs.lever.co or jobs.eu.lever.co")]
    WrongHost { url: String, host: String },
    #[error("{0:?} has no posting id: expected https://jobs.lever.co/<site>/<posting id> (optionally ending in /apply)")]
    NoPostingId(String),
    #[error("{url:?}: {segment:?} where the posting id should be is not a UUID")]
    NotAUuid { url: String, segment: String },
}

const JOB_HOSTS: &[&str] = &["jobs.lever.co", "jobs.eu.lever.co"];

/// The posting id from a bare UUID or a Lever-hosted job URL (`https://jobs.lever.co/<site>/<id>`,
/// with or without `/apply`, a trailing slash, a query or fragment; EU host too). Lower-cased.
pub fn posting_id_from_ref(input: &str) -> Result<String, PostingRefError> {
    let s = input.trim();
    if let Some(id) = normalize_uuid(s) {
        return Ok(id);
    }
    let url = url::Url::parse(s).map_err(|_| PostingRefError::NotAReference(input.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(PostingRefError::NotAReference(input.to_string()));
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if !JOB_HOSTS.contains(&host.as_str()) {
        return Err(PostingRefError::WrongHost { url: input.to_string(), host });
    }
    // Empty segments (a trailing slash, `//`) carry nothing.
    let mut segments: Vec<&str> = url.path_segments().map(|s| s.filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    if segments.last().is_some_and(|s| s.eq_ignore_ascii_case("apply")) {
        segments.pop();
    }
    match segments.as_slice() {
        [site, id] if !site.is_empty() => {
            normalize_uuid(id).ok_or_else(|| PostingRefError::NotAUuid { url: input.to_string(), segment: id.to_string() })
        }
        _ => Err(PostingRefError::NoPostingId(input.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e";

    fn posting() -> PostingInput {
        PostingInput {
            id: ID.into(),
            text: Some("Senior Backend Engineer".into()),
            state: Some("published".into()),
            distribution_channels: Some(vec!["public".into(), "internal".into()]),
            confidentiality: Some("non-confidential".into()),
            team: Some("Platform".into()),
            department: Some("Engineering".into()),
            location: Some("Berlin".into()),
            all_locations: Some(vec!["Berlin".into(), "Remote - EU".into()]),
            commitment: Some("Full-time".into()),
            tags: Some(vec!["rust".into(), "referralbonus:3000".into(), "backend".into()]),
            description: Some("You will build our integration platform.".into()),
            description_html: Some("<div>You will build our integration platform.</div>".into()),
            lists: Some(vec![PostingListInput { text: Some("Requirements".into()), content: Some("<li>Rust</li>".into()) }]),
            closing: None,
            closing_html: None,
            salary_range: Some(SalaryRangeInput {
                min: Some(80000.0),
                max: Some(110000.0),
                currency: Some("EUR".into()),
                interval: Some("per-year-salary".into()),
            }),
            salary_description: Some("Plus equity.".into()),
            salary_description_html: None,
            workplace_type: Some("hybrid".into()),
            hiring_manager: Some("e2befaae-b830-4c21-a002-2d5019486d1a".into()),
            hiring_manager_name: None,
            hiring_manager_email: None,
            requisition_codes: None,
            req_code: None,
            country: Some("DE".into()),
            hosted_url: Some(format!("https://jobs.lever.co/acme/{ID}")),
            apply_url: Some(format!("https://jobs.lever.co/acme/{ID}/apply")),
            updated_at: Some(1717500000000),
        }
    }

    fn tags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalises_a_posting() {
        let j = Job::from_posting(&posting()).unwrap();
        assert_eq!(j.posting_id, ID);
        assert_eq!(j.title, "Senior Backend Engineer");
        assert_eq!(j.state, Some(PostingState::Published));
        assert_eq!(j.distribution, vec![Channel::Public, Channel::Internal]);
        assert_eq!(j.locations, vec!["Berlin", "Remote - EU"]);
        assert_eq!(j.commitment.as_deref(), Some("Full-time"));
        assert_eq!(j.workplace_type, Some(WorkplaceType::Hybrid));
        assert_eq!(j.tags, vec!["backend", "referralbonus:3000", "rust"]);
        assert_eq!(j.salary.as_ref().unwrap().min, Some(80000.0));
        assert_eq!(j.description.as_ref().unwrap().lists.len(), 1);
        assert!(
            matches!(&j.referral_bonus, Some(ReferralBonus::Amount { amount, currency, .. }) if *amount == 3000.0 && currency.as_deref() == Some("EUR")),
            "a bare number takes the salary's currency: {:?}",
            j.referral_bonus
        );
        assert_eq!(j.hiring_manager.as_ref().map(|h| h.id.as_str()), Some("e2befaae-b830-4c21-a002-2d5019486d1a"));
        let list = &j.description.as_ref().unwrap().lists[0];
        assert_eq!((list.html.as_deref(), list.text.as_deref()), (Some("<li>Rust</li>"), Some("* Rust")));
    }

    #[test]
    fn import_details_requisition_codes_hiring_manager_and_plain_text() {
        let mut p = posting();
        p.requisition_codes = Some(vec!["ENG-42".into(), " ENG-43 ".into(), "ENG-42".into()]);
        p.req_code = Some("ENG-42".into());
        p.hiring_manager_name = Some("Rachel Hiring".into());
        p.hiring_manager_email = Some("rachel@acme.example".into());
        p.description = None;
        p.description_html = Some("<div>Build <b>things</b> &amp; ship.</div>".into());
        p.closing_html = Some("<p>Equal opportunity.</p>".into());
        p.lists =
            Some(vec![PostingListInput { text: Some("Requirements".into()), content: Some("<li>Rust &lt;3</li><li>HTTP <i>APIs</i></li>".into()) }]);
        let j = Job::from_posting(&p).unwrap();
        assert_eq!(j.requisition_codes, vec!["ENG-42", "ENG-43"]);
        let hm = j.hiring_manager.unwrap();
        assert_eq!((hm.name.as_deref(), hm.email.as_deref()), (Some("Rachel Hiring"), Some("rachel@acme.example")));
        let d = j.description.unwrap();
        assert_eq!(d.text.as_deref(), Some("Build things & ship."));
        assert_eq!(d.closing.as_deref(), Some("Equal opportunity."));
        assert_eq!(d.lists[0].text.as_deref(), Some("* Rust <3\n* HTTP APIs"));
        assert_eq!(html_to_text("<div>  </div>"), None);
    }

    #[test]
    fn a_bonus_with_its_own_currency_keeps_it_and_without_salary_has_none() {
        let mut p = posting();
        p.tags = Some(vec!["referralbonus:$500".into()]);
        let j = Job::from_posting(&p).unwrap();
        assert!(matches!(&j.referral_bonus, Some(ReferralBonus::Amount { currency, .. }) if currency.as_deref() == Some("USD")));
        p.tags = Some(vec!["referralbonus:500".into()]);
        p.salary_range = None;
        let j = Job::from_posting(&p).unwrap();
        assert!(matches!(&j.referral_bonus, Some(ReferralBonus::Amount { currency: None, .. })), "{:?}", j.referral_bonus);
    }

    #[test]
    fn refuses_bad_id_and_missing_title() {
        let mut p = posting();
        p.id = "nope".into();
        assert_eq!(Job::from_posting(&p), Err(JobError::BadId("nope".into())));
        let mut p = posting();
        p.text = Some("  ".into());
        assert!(matches!(Job::from_posting(&p), Err(JobError::NoTitle(_))));
    }

    #[test]
    fn sparse_posting_has_no_empty_sections() {
        let p = PostingInput { id: ID.to_uppercase(), text: Some("X".into()), ..Default::default() };
        let j = Job::from_posting(&p).unwrap();
        assert_eq!(j.posting_id, ID);
        assert_eq!(j.state, None);
        assert!(j.salary.is_none() && j.description.is_none() && j.distribution.is_empty());
        assert_eq!(j.confidentiality, Confidentiality::NonConfidential);
    }

    #[test]
    fn referral_bonus_amounts() {
        let amount = |t: &str| match referral_bonus(&tags(&[t])) {
            Some(ReferralBonus::Amount { amount, currency, .. }) => Some((amount, currency)),
            _ => None,
        };
        assert_eq!(amount("referralbonus:3000"), Some((3000.0, None)));
        assert_eq!(amount("ReferralBonus: 3000 "), Some((3000.0, None)));
        assert_eq!(amount("REFERRALBONUS:3,000"), Some((3000.0, None)));
        assert_eq!(amount("referralbonus:€3000"), Some((3000.0, Some("EUR".into()))));
        assert_eq!(amount("referralbonus:2500.50 USD"), Some((2500.5, Some("USD".into()))));
        assert_eq!(amount("referralbonus:1 500"), Some((1500.0, None)));
    }

    #[test]
    fn referral_bonus_free_text() {
        assert_eq!(referral_bonus(&tags(&["rust", "referralbonus:Win an iPad"])), Some(ReferralBonus::Text { text: "Win an iPad".into() }));
        // Not a clean number: kept as the recruiter wrote it.
        assert_eq!(referral_bonus(&tags(&["referralbonus:30,00"])), Some(ReferralBonus::Text { text: "30,00".into() }));
        assert_eq!(referral_bonus(&tags(&["referralbonus:3000 or an iPad"])), Some(ReferralBonus::Text { text: "3000 or an iPad".into() }));
    }

    #[test]
    fn referral_bonus_absent_blank_or_lookalike() {
        assert_eq!(referral_bonus(&tags(&["rust", "bonus:3000", "referralbonus3000"])), None);
        assert_eq!(referral_bonus(&tags(&["referralbonus:   "])), None);
        assert_eq!(referral_bonus(&tags(&[])), None);
        // The first usable tag wins.
        assert_eq!(
            referral_bonus(&tags(&["referralbonus:", "referralbonus:Trip", "referralbonus:100"])),
            Some(ReferralBonus::Text { text: "Trip".into() })
        );
    }

    #[test]
    fn posting_id_from_urls() {
        let ok = [
            ID.to_string(),
            format!("  {}  ", ID.to_uppercase()),
            format!("https://jobs.lever.co/acme/{ID}"),
            format!("https://jobs.lever.co/acme/{ID}/"),
            format!("https://jobs.lever.co/acme/{ID}/apply"),
            format!("https://jobs.lever.co/acme/{ID}/apply/"),
            format!("https://jobs.lever.co/acme/{ID}//apply"),
            format!("https://jobs.lever.co/acme/{ID}?lever-source=LinkedIn&x=1"),
            format!("https://jobs.lever.co/acme/{ID}#top"),
            format!("https://jobs.eu.lever.co/acme/{ID}"),
            format!("https://JOBS.LEVER.CO/acme/{}", ID.to_uppercase()),
        ];
        for s in ok {
            assert_eq!(posting_id_from_ref(&s).as_deref(), Ok(ID), "{s}");
        }
    }

    #[test]
    fn posting_id_errors_are_specific() {
        let e = posting_id_from_ref("hello").unwrap_err();
        assert!(matches!(e, PostingRefError::NotAReference(_)), "{e}");
        let e = posting_id_from_ref(&format!("https://jobs.example.com/acme/{ID}")).unwrap_err();
        assert!(e.to_string().contains("host \"jobs.example.com\""), "{e}");
        let e = posting_id_from_ref("https://jobs.lever.co/acme").unwrap_err();
        assert!(matches!(e, PostingRefError::NoPostingId(_)), "{e}");
        let e = posting_id_from_ref("https://jobs.lever.co/acme/not-a-uuid").unwrap_err();
        assert!(e.to_string().contains("\"not-a-uuid\""), "{e}");
        let e = posting_id_from_ref(&format!("https://jobs.lever.co/acme/{ID}/extra")).unwrap_err();
        assert!(matches!(e, PostingRefError::NoPostingId(_)), "{e}");
        let e = posting_id_from_ref(&format!("ftp://jobs.lever.co/acme/{ID}")).unwrap_err();
        assert!(matches!(e, PostingRefError::NotAReference(_)), "{e}");
    }

    fn filter(states: &[PostingState], dist: Option<&[Channel]>) -> JobFilter {
        JobFilter { states: states.to_vec(), distribution: dist.map(|d| d.to_vec()), confidentiality: default_confidentiality() }
    }

    #[test]
    fn external_jobs_only_filter() {
        let f = filter(&[PostingState::Published], Some(&[Channel::Public]));
        let mut p = posting();
        assert!(f.passes(&Job::from_posting(&p).unwrap()));
        p.distribution_channels = Some(vec!["internal".into()]);
        assert_eq!(f.check(&Job::from_posting(&p).unwrap()), Err(FilterMiss::Distribution(vec![Channel::Internal])));
        p.distribution_channels = Some(vec!["public".into()]);
        p.state = Some("closed".into());
        assert_eq!(f.check(&Job::from_posting(&p).unwrap()), Err(FilterMiss::State(Some(PostingState::Closed))));
    }

    #[test]
    fn internal_or_external_but_never_unlisted() {
        let f = filter(&[PostingState::Published], Some(&[Channel::Public, Channel::Internal]));
        let mut p = posting();
        p.distribution_channels = Some(vec!["internal".into()]);
        assert!(f.passes(&Job::from_posting(&p).unwrap()));
        // Unlisted: Lever state `internal`, no distribution channels.
        p.state = Some("internal".into());
        p.distribution_channels = None;
        assert!(!f.passes(&Job::from_posting(&p).unwrap()));
        // Published but on no channel: not visible anywhere either.
        p.state = Some("published".into());
        assert!(!f.passes(&Job::from_posting(&p).unwrap()));
    }

    #[test]
    fn confidential_postings_are_out_unless_asked_for() {
        let mut p = posting();
        p.confidentiality = Some("confidential".into());
        let j = Job::from_posting(&p).unwrap();
        let mut f = filter(&[PostingState::Published], None);
        assert_eq!(f.check(&j), Err(FilterMiss::Confidentiality(Confidentiality::Confidential)));
        f.confidentiality.push(Confidentiality::Confidential);
        assert!(f.passes(&j));
        // Unknown state never passes.
        p.state = Some("archived-someday".into());
        assert_eq!(f.check(&Job::from_posting(&p).unwrap()), Err(FilterMiss::State(None)));
    }

    #[test]
    fn content_hash_is_stable_and_sensitive() {
        let j = Job::from_posting(&posting()).unwrap();
        let h = j.content_hash();
        assert_eq!(h.len(), 64);
        // Same content, different updatedAt and tag order: same hash.
        let mut p = posting();
        p.updated_at = Some(1);
        p.tags = Some(vec!["backend".into(), "referralbonus:3000".into(), "rust".into()]);
        assert_eq!(Job::from_posting(&p).unwrap().content_hash(), h);
        // A visible change: a different hash.
        let mut p = posting();
        p.text = Some("Staff Backend Engineer".into());
        assert_ne!(Job::from_posting(&p).unwrap().content_hash(), h);
        // Pinned: a change to the canonical form would re-announce every job.
        assert_eq!(h, PINNED_HASH);
    }

    const PINNED_HASH: &str = "4cfa7e2ce37ccb48e7abceeb7f11a196328abe4e58d8cc67e6f18a2beb3c1096";

    #[test]
    fn job_events_from_hashes() {
        use super::super::events::EventKind;
        let j = Job::from_posting(&posting()).unwrap();
        let h = j.content_hash();
        assert_eq!(job_event(None, Some(&j)), Some(EventKind::JobCreated));
        assert_eq!(job_event(Some(&h), Some(&j)), None);
        assert_eq!(job_event(Some("old"), Some(&j)), Some(EventKind::JobUpdated));
        assert_eq!(job_event(Some(&h), None), Some(EventKind::JobClosed));
        assert_eq!(job_event(None, None), None);
    }

    #[test]
    fn for_partner_drops_what_was_not_asked() {
        let j = Job::from_posting(&posting()).unwrap();
        let slim = j.for_partner(&JobInclude::default());
        assert!(slim.description.is_none() && slim.salary.is_none() && slim.apply_url.is_none());
        assert!(slim.referral_bonus.is_none() && slim.workplace_type.is_none() && slim.hiring_manager.is_none());
        assert_eq!(slim.title, j.title);
        assert_ne!(slim.content_hash(), j.content_hash());
        let full = j.for_partner(&JobInclude::everything());
        assert_eq!(full, j);
    }
}
