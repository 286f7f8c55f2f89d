//! Deterministic seed account: the same `seed` always yields the same users,
//! stages, postings and candidates (ids included), so tests can rely on them.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::SandboxConfig;
use crate::state::*;

/// Well-known ids of the seed data, handed out by `Admin::seed_ids`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
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
    pub requisitions: Vec<String>,
    /// The "now" seeded activity was spread back from.
    pub seeded_at: i64,
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string()
}

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Linus",
    "Margaret",
    "Alan",
    "Barbara",
    "Ken",
    "Radia",
    "Dennis",
    "Frances",
    "Edsger",
    "Hedy",
    "Tim",
    "Katherine",
    "John",
    "Sophie",
    "Niklaus",
    "Annie",
    "Guido",
    "Karen",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Turing",
    "Liskov",
    "Thompson",
    "Perlman",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Backus",
    "Wilson",
    "Wirth",
    "Easley",
    "Rossum",
    "Jones",
];
const MIDDLE: &[&str] = &["Marie", "Jean", "Lee", "Rose", "James"];
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
const LOCATIONS: &[(&str, &str)] =
    &[("San Francisco, CA", "US"), ("New York, NY", "US"), ("Berlin", "DE"), ("London", "GB"), ("Remote", "US"), ("Athens", "GR")];
const COMMITMENTS: &[&str] = &["Full-time", "Part-time", "Contract", "Intern"];
const WORKPLACES: &[&str] = &["onsite", "remote", "hybrid", "unspecified"];

pub fn build(cfg: &SandboxConfig) -> (State, SeedIds) {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut st = State::default();
    let mut ids = SeedIds::default();
    // Seeded activity is spread over the weeks before "now", so a client asking
    // for "the last few days" finds recent updates, hires and stage changes.
    let now0 = cfg.now.unwrap_or_else(crate::state::now_ms);
    ids.seeded_at = now0;
    let past = |t: i64| t.min(now0 - 60_000);

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
            created_at: now0 - (400 - i as i64) * DAY_MS,
            deactivated_at: (*username == "dana").then_some(now0 - 10 * DAY_MS),
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
    let interviewers: Vec<String> = vec![ids.users[4].clone(), ids.users[5].clone(), ids.users[2].clone()];

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
    st.postings.reserve(cfg.postings);
    ids.postings.reserve(cfg.postings);
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
        if let Some(h) = &hm
            && !followers.contains(h)
        {
            followers.push(h.clone());
        }
        let created = now0 - (10 + (i as i64 * 7) % 290) * DAY_MS - (i as i64 % 1440) * 60_000;
        // Every fifth posting was edited in the last week; the rest soon after creation.
        let updated =
            if i % 5 == 0 { past(now0 - (i as i64 % 7) * DAY_MS - (i as i64 % 23) * HOUR_MS) } else { past(created + (i as i64 % 3) * DAY_MS) };
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
            updated_at: updated.max(created),
            workplace_type: WORKPLACES[i % WORKPLACES.len()].into(),
            custom_questions: i % 3 == 1,
            eeo_questions: country == "US",
            show_url_trailing_slash: i % 5 == 3,
        });
        ids.postings.push(id);
    }

    // Requisitions behind the postings that carry a requisition code.
    for p in st.postings.iter().filter(|p| !p.requisition_codes.is_empty()) {
        let id = uuid(&mut rng);
        let status = match p.state.as_str() {
            "closed" => "closed",
            "draft" => "draft",
            _ => "open",
        };
        st.requisitions.push(Requisition {
            id: id.clone(),
            code: p.requisition_codes[0].clone(),
            name: p.text.clone(),
            backfill: p.text.len() % 2 == 0,
            status: status.into(),
            headcount_total: 1 + (p.text.len() as i64 % 3),
            headcount_hired: 0,
            creator: p.owner.clone(),
            owner: p.owner.clone(),
            hiring_manager: p.hiring_manager.clone(),
            employment_status: "full-time".into(),
            location: p.categories.location.clone(),
            department: p.categories.department.clone(),
            team: p.categories.team.clone(),
            postings: vec![p.id.clone()],
            offer_ids: vec![],
            compensation: p.salary_range.clone(),
            internal_notes: String::new(),
            created_at: p.created_at - 2 * DAY_MS,
            updated_at: p.updated_at,
        });
        ids.requisitions.push(id);
    }

    // Candidates: each a contact with one opportunity; most applied to a posting.
    let open_postings: Vec<usize> = (0..st.postings.len()).filter(|&i| st.postings[i].state != "draft").collect();
    let non_hired: Vec<String> = st.archive_reasons.iter().filter(|r| r.kind == "non-hired" && r.status == "active").map(|r| r.id.clone()).collect();
    for i in 0..cfg.opportunities {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i * 3) % LAST.len()];
        // Some candidates have a middle name (HRIS mappings split first/middle/last).
        let name = if i % 20 == 4 || i % 7 == 3 { format!("{first} {} {last}", MIDDLE[i % MIDDLE.len()]) } else { format!("{first} {last}") };
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
        // Created within the last ~two months; activity up to the present.
        let created = past(now0 - (4 + (i as i64 * 11) % 56) * DAY_MS - (i as i64 % 600) * 60_000);
        let posting_idx = (i % 8 != 7 && !open_postings.is_empty()).then(|| open_postings[i % open_postings.len()]);
        let origin = ORIGINS[i % ORIGINS.len()].to_string();
        let owner = recruiters[i % recruiters.len()].clone();
        let stage_i = if posting_idx.is_some() { rng.random_range(0..st.stages.len()) } else { rng.random_range(0..3) };
        let mut stage_changes =
            vec![StageChange { to_stage_id: st.stages[0].id.clone(), to_stage_index: 0, user_id: Some(owner.clone()), updated_at: created }];
        // Every third candidate moved stage in the last three days, the rest a day or two after applying.
        let advanced = if i % 3 == 0 {
            past((now0 - (i as i64 % 3) * DAY_MS - (i as i64 % 20) * HOUR_MS).max(created + HOUR_MS))
        } else {
            past(created + DAY_MS + (i as i64 % 2) * DAY_MS)
        };
        if stage_i > 0 {
            stage_changes.push(StageChange {
                to_stage_id: st.stages[stage_i].id.clone(),
                to_stage_index: stage_i,
                user_id: Some(owner.clone()),
                updated_at: advanced,
            });
        }
        let advanced = stage_changes.last().map(|s| s.updated_at).unwrap_or(created);
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
        // A spread of archive states: some hired (with offers), some rejected; some of each recent.
        let archived_at = past(if i % 20 < 10 { now0 - (i as i64 % 4) * DAY_MS - 2 * HOUR_MS } else { created + 10 * DAY_MS }).max(advanced + 60_000);
        let archived = match i % 10 {
            4 if posting_idx.is_some() => Some(Archived { reason: ids.hired_reason.clone(), archived_at: past(archived_at) }),
            6 | 9 => Some(Archived { reason: non_hired[i % non_hired.len()].clone(), archived_at: past(archived_at) }),
            _ => None,
        };
        let hired = archived.as_ref().is_some_and(|a| a.reason == ids.hired_reason);
        let mut offers = vec![];
        let p = posting_idx.map(|pi| st.postings[pi].clone());
        let offer = |id: String, status: &str, created_at: i64, start: i64, salary: i64| Offer {
            id,
            posting: p.as_ref().map(|p| p.id.clone()),
            created_at,
            status: status.into(),
            creator: owner.clone(),
            fields: vec![
                ("Job posting".into(), "job_posting".into(), json!(p.as_ref().map(|p| p.id.clone()))),
                ("Job title".into(), "job_title".into(), json!(p.as_ref().map(|p| p.text.clone()))),
                ("Candidate name".into(), "candidate_name".into(), json!(name)),
                ("Salary amount".into(), "salary_amount".into(), json!(salary)),
                ("Compensation currency".into(), "compensation_currency".into(), json!("USD")),
                ("Salary interval".into(), "salary_interval".into(), json!("per-year-salary")),
                ("Hiring manager".into(), "hiring_manager".into(), json!(p.as_ref().and_then(|p| p.hiring_manager.clone()))),
                ("Anticipated start date".into(), "anticipated_start_date".into(), json!(start)),
            ],
            approved_at: (status != "draft").then_some(created_at + HOUR_MS),
            sent_at: matches!(status, "sent" | "signed" | "opened" | "denied").then_some(created_at + 2 * HOUR_MS),
        };
        if hired {
            let at = archived.as_ref().map(|a| a.archived_at).unwrap_or(created);
            let base_salary = 95_000 + (i as i64 % 7) * 5_000;
            // Half the hires negotiated: an earlier offer was superseded by the signed one.
            if i % 20 == 4 {
                offers.push(offer(uuid(&mut rng), "denied", (at - 6 * DAY_MS).max(created), at + 45 * DAY_MS, base_salary - 5_000));
            }
            offers.push(offer(uuid(&mut rng), "signed", (at - 3 * DAY_MS).max(created), at + 30 * DAY_MS, base_salary));
        } else if archived.is_none() && st.stages[stage_i].id == "offer" {
            let status = ["draft", "approved", "sent"][i % 3];
            offers.push(offer(uuid(&mut rng), status, past(advanced + HOUR_MS), now0 + 40 * DAY_MS, 90_000 + (i as i64 % 5) * 5_000));
        }
        // Interview stages carry a scheduled panel (and feedback once it took place).
        if (4..=7).contains(&stage_i) && !applications.is_empty() {
            let panel_id = uuid(&mut rng);
            let interview_id = uuid(&mut rng);
            let start = advanced + 2 * DAY_MS;
            let interviewer = interviewers[i % interviewers.len()].clone();
            st.panels.entry(opp_id.clone()).or_default().push(Panel {
                id: panel_id.clone(),
                applications: applications.clone(),
                start,
                end: start + HOUR_MS,
                timezone: "America/Los_Angeles".into(),
                stage: st.stages[stage_i].id.clone(),
                user: owner.clone(),
                note: None,
                created_at: advanced + 60_000,
                canceled_at: None,
            });
            st.interviews.entry(opp_id.clone()).or_default().push(Interview {
                id: interview_id.clone(),
                panel: panel_id.clone(),
                subject: format!("{} with {name}", st.stages[stage_i].text),
                interviewers: vec![interviewer.clone()],
                date: start,
                duration_minutes: 60,
                location: Some(if i % 2 == 0 { "Video call".into() } else { "Office".into() }),
                stage: st.stages[stage_i].id.clone(),
                user: owner.clone(),
                created_at: advanced + 60_000,
                canceled_at: None,
            });
            if start + HOUR_MS < now0 {
                st.feedback.entry(opp_id.clone()).or_default().push(Feedback {
                    id: uuid(&mut rng),
                    interview: Some(interview_id),
                    panel: Some(panel_id),
                    user: interviewer,
                    rating: ["4 - Strong Hire", "3 - Hire", "2 - No Hire"][i % 3].into(),
                    comment: "Clear communicator; solid fundamentals.".into(),
                    created_at: start + HOUR_MS,
                    completed_at: start + 2 * HOUR_MS,
                });
            }
        }
        let mut sources = vec![SOURCES[i % SOURCES.len()].to_string()];
        if i % 5 == 0 {
            sources.push("Referral".into());
            sources.dedup();
        }
        if i % 3 == 0 {
            tags.insert(0, ["Strong fit", "Rehire", "Relocation"][(i / 3) % 3].to_string());
        }
        let touched = archived.as_ref().map(|a| a.archived_at).unwrap_or(advanced).max(advanced);
        let updated = past(touched + (i as i64 % 5) * 60_000);
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
            referrals: vec![],
        });
        ids.opportunities.push(opp_id);
    }
    crate::seed_extras::add(cfg.seed, &mut st, &active_users);
    st.last_ts = crate::state::now_ms().max(now0);
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
