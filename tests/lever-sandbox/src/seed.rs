//! Deterministic seed account: the same `seed` always yields the same users,
//! stages, postings and candidates (ids included), so tests can rely on them.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;

use crate::SandboxConfig;
use crate::state::*;

/// Well-known ids of the seed data, handed out by `Admin::seed_ids`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeedIds {
    pub super_admin: String,
    pub admin: String,
    pub team_member: String,
    pub limited_team_member: String,
    pub interviewer: String,
    pub deactivated_user: String,
    pub users: Vec<String>,
    pub stages: Vec<String>,
    pub hired_reason: String,
    pub archive_reasons: Vec<String>,
    pub postings: Vec<String>,
    pub opportunities: Vec<String>,
    /// Posting tagged `referralbonus:3000`.
    pub referral_bonus_cash_posting: String,
    /// Posting tagged `referralbonus:Win an iPad`.
    pub referral_bonus_prize_posting: String,
}

/// Seed timestamps sit in the past, before anything created at runtime.
const BASE_MS: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 86_400_000;

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string()
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Dennis", "Frances", "Edsger",
    "Hedy", "Tim", "Katherine", "John", "Sophie", "Niklaus", "Annie", "Guido", "Karen",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Thompson", "Perlman", "Ritchie",
    "Allen", "Dijkstra", "Lamarr", "Berners-Lee", "Johnson", "Backus", "Wilson", "Wirth", "Easley", "Rossum", "Jones",
];
const COMPANIES: &[&str] = &["Initech", "Globex", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Acme"];
const SOURCES: &[&str] = &["LinkedIn", "Job site", "Referral", "Added manually", "GitHub", "Glassdoor"];
const ORIGINS: &[&str] = &["applied", "sourced", "referred", "agency", "university", "internal"];

struct Dept {
    department: &'static str,
    team: &'static str,
    titles: &'static [&'static str],
}

const DEPTS: &[Dept] = &[
    Dept { department: "Engineering", team: "Platform", titles: &["Senior Backend Engineer", "Site Reliability Engineer", "Staff Engineer"] },
    Dept { department: "Engineering", team: "Mobile", titles: &["iOS Engineer", "Android Engineer"] },
    Dept { department: "Sales", team: "Account Executive", titles: &["Account Executive", "Sales Development Rep"] },
    Dept { department: "Customer Success", team: "Professional Services", titles: &["Implementation Consultant", "Customer Success Manager"] },
    Dept { department: "Marketing", team: "Brand", titles: &["Brand Designer", "Content Marketer"] },
    Dept { department: "People", team: "Human Resources", titles: &["HR Business Partner", "Recruiter"] },
];
const LOCATIONS: &[(&str, &str)] = &[
    ("San Francisco, CA", "US"), ("New York, NY", "US"), ("Berlin", "DE"), ("London", "GB"), ("Remote", "US"), ("Athens", "GR"),
];
const COMMITMENTS: &[&str] = &["Full-time", "Part-time", "Contract", "Intern"];
const WORKPLACES: &[&str] = &["onsite", "remote", "hybrid", "unspecified"];

pub fn build(cfg: &SandboxConfig) -> (State, SeedIds) {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut st = State::default();
    let mut ids = SeedIds::default();

    // Users: one of each role, a couple of extra interviewers, one deactivated.
    let roles = [
        ("super admin", "Sam Superadmin", "sam"),
        ("admin", "Alex Admin", "alex"),
        ("team member", "Terry Team", "terry"),
        ("limited team member", "Lee Limited", "lee"),
        ("interviewer", "Ivy Interviewer", "ivy"),
        ("interviewer", "Ian Interviewer", "ian"),
        ("super admin", "Sasha Owner", "sasha"),
        ("team member", "Dana Deactivated", "dana"),
    ];
    for (i, (role, name, username)) in roles.iter().enumerate() {
        let id = uuid(&mut rng);
        st.users.push(User {
            id: id.clone(),
            name: name.to_string(),
            username: username.to_string(),
            email: format!("{username}@sandbox.example"),
            access_role: role.to_string(),
            photo: if i % 3 == 0 { Some(format!("https://avatars.example/{username}.png")) } else { None },
            created_at: BASE_MS - (400 - i as i64) * DAY_MS,
            deactivated_at: (*username == "dana").then_some(BASE_MS - 10 * DAY_MS),
            external_directory_id: None,
            linked_contact_ids: None,
            job_title: if i == 1 { Some("Recruiter".into()) } else { None },
            manager_id: None,
        });
        ids.users.push(id);
    }
    ids.super_admin = ids.users[0].clone();
    ids.admin = ids.users[1].clone();
    ids.team_member = ids.users[2].clone();
    ids.limited_team_member = ids.users[3].clone();
    ids.interviewer = ids.users[4].clone();
    ids.deactivated_user = ids.users[7].clone();
    let active_users: Vec<String> = ids.users[..7].to_vec();
    let recruiters: Vec<String> = vec![ids.users[0].clone(), ids.users[1].clone(), ids.users[2].clone(), ids.users[6].clone()];

    // Stages: Lever's built-in slugs plus customer-defined ones with UUIDs, in pipeline order.
    let stage_defs: Vec<(Option<&str>, &str)> = vec![
        (Some("lead-new"), "New lead"),
        (Some("lead-reached-out"), "Reached out"),
        (Some("lead-responded"), "Responded"),
        (Some("applicant-new"), "New applicant"),
        (None, "Recruiter screen"),
        (None, "Phone interview"),
        (None, "On-site interview"),
        (None, "Reference check"),
        (Some("offer"), "Offer"),
        (None, "Background check"),
    ];
    for (slug, text) in stage_defs {
        let id = slug.map(str::to_string).unwrap_or_else(|| uuid(&mut rng));
        st.stages.push(Stage { id: id.clone(), text: text.into() });
        ids.stages.push(id);
    }

    // Archive reasons: UUIDs even for "Hired" (recordings), one inactive.
    let reasons = [
        ("Position filled", "active", "non-hired"),
        ("Underqualified", "active", "non-hired"),
        ("Withdrew", "active", "non-hired"),
        ("Timing", "active", "non-hired"),
        ("Offer declined", "active", "non-hired"),
        ("No Response - OLD", "inactive", "non-hired"),
        ("Hired", "active", "hired"),
        ("No Response", "active", "non-hired"),
    ];
    for (text, status, kind) in reasons {
        let id = uuid(&mut rng);
        if kind == "hired" {
            ids.hired_reason = id.clone();
        }
        st.archive_reasons.push(ArchiveReason { id: id.clone(), text: text.into(), status: status.into(), kind: kind.into() });
        ids.archive_reasons.push(id);
    }

    // Postings across states and distribution channels.
    let layouts: &[(&str, Option<&[&str]>)] = &[
        ("published", Some(&["public", "internal"])),
        ("published", Some(&["public"])),
        ("internal", None),
        ("published", Some(&["internal"])),
        ("closed", None),
        ("draft", None),
        ("published", Some(&["public", "internal"])),
    ];
    for i in 0..cfg.postings {
        let id = uuid(&mut rng);
        let dept = &DEPTS[i % DEPTS.len()];
        let title = dept.titles[(i / DEPTS.len()) % dept.titles.len()];
        let text = if i < DEPTS.len() * 2 { title.to_string() } else { format!("{title} {}", i / DEPTS.len() + 1) };
        let (loc, country) = LOCATIONS[(i * 5 + 1) % LOCATIONS.len()];
        let (state, channels) = layouts[i % layouts.len()];
        let owner = recruiters.choose(&mut rng).cloned().unwrap_or_default();
        let hm = if i % 3 == 0 || state == "draft" { None } else { active_users.choose(&mut rng).cloned() };
        let mut tags = vec![];
        match i {
            0 => tags.push("referralbonus:3000".to_string()),
            1 => tags.push("referralbonus:Win an iPad".to_string()),
            _ if i % 4 == 2 => tags.push("hiring-push".to_string()),
            _ => {}
        }
        if i == 0 {
            ids.referral_bonus_cash_posting = id.clone();
        }
        if i == 1 {
            ids.referral_bonus_prize_posting = id.clone();
        }
        let mut followers = vec![owner.clone()];
        if let Some(h) = &hm {
            if !followers.contains(h) {
                followers.push(h.clone());
            }
        }
        let created = BASE_MS - (300 - i as i64 * 7) * DAY_MS;
        let salary = (i % 2 == 0).then(|| SalaryRange {
            min: 60_000 + (i as i64 % 5) * 10_000,
            max: 90_000 + (i as i64 % 5) * 15_000,
            currency: if country == "US" { "USD".into() } else { "EUR".into() },
            interval: "per-year-salary".into(),
        });
        st.postings.push(Posting {
            id: id.clone(),
            text: text.clone(),
            state: state.into(),
            distribution_channels: channels.map(|c| c.iter().map(|s| s.to_string()).collect()),
            user: if i % 6 == 4 { None } else { Some(owner.clone()) },
            owner,
            hiring_manager: hm,
            categories: Categories {
                team: Some(dept.team.into()),
                department: Some(dept.department.into()),
                location: Some(loc.into()),
                commitment: Some(COMMITMENTS[i % COMMITMENTS.len()].into()),
                all_locations: vec![loc.into()],
            },
            tags,
            content: PostingContent {
                description: format!("Join our {} team as a {text}.\n", dept.team),
                description_html: format!("<div>Join our {} team as a <b>{text}</b>.</div>", dept.team),
                lists: vec![
                    ("What you'll do".into(), "<li>Ship things</li><li>Work with the team</li>".into()),
                    ("What we look for".into(), "<li>Curiosity</li><li>Ownership</li>".into()),
                ],
                closing: "We are an equal opportunity employer.".into(),
                closing_html: "<div>We are an equal opportunity employer.</div>".into(),
            },
            country: country.into(),
            followers,
            req_code: if i % 4 == 0 && state != "draft" { Some(format!("REQ-{:03}", i + 1)) } else { None },
            requisition_codes: if i % 4 == 0 { vec![format!("REQ-{:03}", i + 1)] } else { vec![] },
            salary_range: salary,
            salary_description: (i % 4 == 0).then(|| "Plus equity and benefits.".to_string()),
            confidentiality: "non-confidential".into(),
            created_at: created,
            updated_at: created + (i as i64 % 3) * DAY_MS,
            workplace_type: WORKPLACES[i % WORKPLACES.len()].into(),
            custom_questions: i % 3 == 1,
            eeo_questions: country == "US",
        });
        ids.postings.push(id);
    }

    // Candidates: each a contact with one opportunity; most applied to a posting.
    let open_postings: Vec<usize> = (0..st.postings.len()).filter(|&i| st.postings[i].state != "draft").collect();
    let non_hired: Vec<String> = st
        .archive_reasons
        .iter()
        .filter(|r| r.kind == "non-hired" && r.status == "active")
        .map(|r| r.id.clone())
        .collect();
    for i in 0..cfg.opportunities {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i * 3) % LAST.len()];
        let name = format!("{first} {last}");
        let contact_id = uuid(&mut rng);
        let opp_id = uuid(&mut rng);
        let email = format!("{}.{}.{}@candidates.example", first.to_lowercase(), last.to_lowercase(), i);
        st.contacts.insert(
            contact_id.clone(),
            Contact {
                id: contact_id.clone(),
                name: name.clone(),
                headline: format!("{}, {}", COMPANIES[i % COMPANIES.len()], COMPANIES[(i + 3) % COMPANIES.len()]),
                location: LOCATIONS[i % LOCATIONS.len()].0.into(),
                emails: vec![email.clone()],
                phones: if i % 4 == 3 { vec![] } else { vec![Phone { kind: Some("mobile".into()), value: format!("+1 555 01{:02}", i % 100) }] },
            },
        );
        let created = BASE_MS - (200 - (i as i64 % 190)) * DAY_MS + i as i64 * 60_000;
        let posting_idx = (i % 8 != 7 && !open_postings.is_empty()).then(|| open_postings[i % open_postings.len()]);
        let origin = ORIGINS[i % ORIGINS.len()].to_string();
        let owner = recruiters[i % recruiters.len()].clone();
        let stage_i = if posting_idx.is_some() { rng.random_range(0..st.stages.len()) } else { rng.random_range(0..3) };
        let mut stage_changes = vec![StageChange {
            to_stage_id: st.stages[0].id.clone(),
            to_stage_index: 0,
            user_id: Some(owner.clone()),
            updated_at: created,
        }];
        if stage_i > 0 {
            stage_changes.push(StageChange {
                to_stage_id: st.stages[stage_i].id.clone(),
                to_stage_index: stage_i,
                user_id: Some(owner.clone()),
                updated_at: created + DAY_MS,
            });
        }
        let mut tags: Vec<String> = vec![];
        let mut applications = vec![];
        let mut opp_location = None;
        if let Some(pi) = posting_idx {
            let p = &st.postings[pi];
            tags.extend(posting_tags(p));
            opp_location = p.categories.location.clone();
            let app_id = uuid(&mut rng);
            let applied = origin == "applied";
            st.applications.insert(
                app_id.clone(),
                Application {
                    id: app_id.clone(),
                    opportunity_id: opp_id.clone(),
                    posting: Some(p.id.clone()),
                    kind: if applied { "posting".into() } else { "user".into() },
                    user: if applied { None } else { Some(owner.clone()) },
                    name: applied.then(|| name.clone()),
                    email: applied.then(|| email.clone()),
                    phone: None,
                    company: None,
                    links: vec![],
                    comments: None,
                    created_at: created,
                },
            );
            applications.push(app_id);
        }
        // A spread of archive states: some hired (with offers), some rejected.
        let archived = match i % 10 {
            4 if posting_idx.is_some() => Some(Archived { reason: ids.hired_reason.clone(), archived_at: created + 30 * DAY_MS }),
            6 | 9 => Some(Archived { reason: non_hired[i % non_hired.len()].clone(), archived_at: created + 20 * DAY_MS }),
            _ => None,
        };
        let mut offers = vec![];
        if archived.as_ref().is_some_and(|a| a.reason == ids.hired_reason) {
            let p = posting_idx.map(|pi| st.postings[pi].clone());
            let start = created + 60 * DAY_MS;
            offers.push(Offer {
                id: uuid(&mut rng),
                posting: p.as_ref().map(|p| p.id.clone()),
                created_at: created + 25 * DAY_MS,
                status: "signed".into(),
                creator: owner.clone(),
                fields: vec![
                    ("Job posting".into(), "job_posting".into(), json!(p.as_ref().map(|p| p.id.clone()))),
                    ("Job title".into(), "job_title".into(), json!(p.as_ref().map(|p| p.text.clone()))),
                    ("Candidate name".into(), "candidate_name".into(), json!(name)),
                    ("Salary amount".into(), "salary_amount".into(), json!(95_000 + (i as i64 % 7) * 5_000)),
                    ("Compensation currency".into(), "compensation_currency".into(), json!("USD")),
                    ("Salary interval".into(), "salary_interval".into(), json!("per-year-salary")),
                    ("Hiring manager".into(), "hiring_manager".into(), json!(p.as_ref().and_then(|p| p.hiring_manager.clone()))),
                    ("Anticipated start date".into(), "anticipated_start_date".into(), json!(start)),
                ],
                approved_at: Some(created + 26 * DAY_MS),
                sent_at: Some(created + 27 * DAY_MS),
            });
        }
        let mut sources = vec![SOURCES[i % SOURCES.len()].to_string()];
        if i % 5 == 0 {
            sources.push("Referral".into());
            sources.dedup();
        }
        if i % 3 == 0 {
            tags.insert(0, ["Strong fit", "Rehire", "Relocation"][(i / 3) % 3].to_string());
        }
        let updated = created + 2 * DAY_MS + (i as i64 % 5) * DAY_MS;
        let advanced = stage_changes.last().map(|s| s.updated_at).unwrap_or(created);
        st.opportunities.push(Opportunity {
            id: opp_id.clone(),
            contact: contact_id,
            stage: st.stages[stage_i].id.clone(),
            confidentiality: "non-confidential".into(),
            links: if i % 3 == 1 { vec![format!("https://github.com/{}{}", first.to_lowercase(), i)] } else { vec![] },
            archived,
            tags,
            sources,
            stage_changes,
            origin,
            sourced_by: if i % 4 == 1 { None } else { Some(owner.clone()) },
            owner: Some(owner.clone()),
            followers: vec![owner],
            applications,
            created_at: created,
            updated_at: updated,
            last_interaction_at: updated,
            last_advanced_at: advanced,
            opportunity_location: opp_location,
            notes: vec![],
            files: vec![],
            resumes: vec![],
            offers,
        });
        ids.opportunities.push(opp_id);
    }
    st.last_ts = crate::state::now_ms();
    (st, ids)
}

/// Tags Lever adds to a candidacy created against a posting (recordings):
/// title, department, team, location, commitment.
pub fn posting_tags(p: &Posting) -> Vec<String> {
    let c = &p.categories;
    [Some(p.text.clone()), c.department.clone(), c.team.clone(), c.location.clone(), c.commitment.clone()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect()
}
