//! The bundled partner profiles, the loader's error reporting, and the core rules run against the
//! real profiles (what each seed article promises).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use shared::core::catalog::{ProfileCatalog, parse_profile};
use shared::core::hire::{HireFacts, map_hire};
use shared::core::ids::StageId;
use shared::core::job::{Channel, Job, PostingInput, PostingState, ReferralBonus};
use shared::core::profile::{EventKind, HireTrigger, LeverEvent, OnExisting, PerformAs, Profile, Route, SettingKey};
use shared::core::schedule::{Cadence, next_daily_run_ms};
use shared::core::settings::{ConnectionSettings, PostingOverride};
use shared::core::submission::{
    CandidateFacts, CandidateInput, ExistingOpportunity, FileInput, FileRole, Origin, PlanError, ReferrerInput, ScreeningInput, Submission,
    SubmissionKind, Write, perform_as_choices, plan_candidate_write,
};

const POSTING: &str = "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
const OTHER_POSTING: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const ADMIN: &str = "8d49b010-cc6a-4f40-ace5-e86061c677ed";
const CHOSEN: &str = "e2befaae-b830-4c21-a002-2d5019486d1a";
const REFERRER_USER: &str = "11111111-2222-4333-8444-555555555555";
const OPP: &str = "5a1f7c2e-8b3d-4f6a-9c0e-1d2b3c4d5e6f";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profiles")
}

fn catalog() -> ProfileCatalog {
    ProfileCatalog::bundled().unwrap_or_else(|e| panic!("{e}"))
}

fn profile(id: &str) -> Profile {
    (**catalog().get(id).unwrap_or_else(|| panic!("no profile {id}"))).clone()
}

// ---------- catalog ----------

#[test]
fn bundled_catalog_has_the_five_partners() {
    let c = catalog();
    assert_eq!(c.ids().collect::<Vec<_>>(), vec!["employeereferrals", "hireup", "hrcloud", "outhire", "upwage"]);
    assert_eq!(ProfileCatalog::bundled_files().len(), 5);
}

#[test]
fn bundled_equals_the_profiles_folder() {
    let from_dir = ProfileCatalog::from_dir(repo().join("profiles")).unwrap_or_else(|e| panic!("{e}"));
    let bundled = catalog();
    assert_eq!(from_dir.len(), bundled.len());
    for p in bundled.iter() {
        assert_eq!(**from_dir.get(&p.id).unwrap(), **p, "{}", p.id);
    }
}

#[test]
fn a_sixth_partner_needs_only_a_file() {
    let c = ProfileCatalog::from_dir(fixtures().join("sixth")).unwrap_or_else(|e| panic!("{e}"));
    let p = c.get("acme-ats-sync").unwrap();
    assert_eq!(p.jobs().unwrap().cadence.seconds(), 1800);
    let sub = submission(SubmissionKind::Application);
    let facts = CandidateFacts { authorizing_user_id: Some(ADMIN.into()), ..Default::default() };
    let plan = plan_candidate_write(p, &ConnectionSettings::default(), &sub, &facts).unwrap();
    assert_eq!(plan.tags, vec!["Acme Job Board", "via application"]);
    assert_eq!(plan.sources, vec!["Acme Job Board"]);
}

#[test]
fn every_profile_requests_exactly_the_scopes_it_uses() {
    for p in catalog().iter() {
        let requested: BTreeSet<&str> = p.oauth.scopes.iter().map(String::as_str).collect();
        let required: BTreeSet<&str> = p.required_scopes().keys().copied().collect();
        assert_eq!(requested, required, "{}", p.id);
        assert!(requested.contains("offline_access"), "{}", p.id);
        assert!(requested.len() <= 20, "{}", p.id);
    }
}

#[test]
fn no_rust_code_names_a_partner() {
    // Partner differences live in profiles/*.toml; code reads fields, never names.
    let names = ["hireup", "employeereferrals", "upwage", "outhire", "hrcloud", "hr cloud", "\"erc\""];
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut hits = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Tests may name partners (the guide: "outside tests"); a file's unit tests are
                // its trailing `#[cfg(test)]` module.
                let code_part = text.split("\n#[cfg(test)]").next().unwrap();
                for (n, line) in code_part.lines().enumerate() {
                    // Only string literals on code lines: a name there is data hiding in code.
                    let code = line.split("//").next().unwrap().to_ascii_lowercase();
                    let literals: Vec<String> = code.split('"').skip(1).step_by(2).map(|l| format!("\"{l}\"")).collect();
                    if names.iter().any(|name| literals.iter().any(|l| l.contains(name))) {
                        hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(hits.is_empty(), "partner names in code:\n{}", hits.join("\n"));
}

// ---------- broken profiles: file, field and reason ----------

fn load_broken(name: &str) -> String {
    let path = fixtures().join("broken").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let errs = parse_profile(name, &text).expect_err(name);
    errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
}

fn assert_error(file: &str, field: &str, reason: &str) {
    let msg = load_broken(file);
    let line = msg.lines().find(|l| l.contains(&format!(": {field}: "))).unwrap_or_else(|| panic!("no error for field {field} in:\n{msg}"));
    assert!(line.starts_with(file), "file name missing: {line}");
    assert!(line.contains(reason), "reason {reason:?} missing: {line}");
}

#[test]
fn bad_cadence_names_file_line_field_and_reason() {
    let msg = load_broken("bad-cadence.toml");
    assert!(msg.starts_with("bad-cadence.toml:9: flows.jobs.cadence: invalid cadence \"1x\""), "{msg}");
    assert!(msg.contains("expected a whole number and a unit"), "{msg}");
}

#[test]
fn syntax_and_type_errors() {
    assert_error("cadence-wrong-type.toml", "flows.jobs.cadence", "invalid type: integer `5`, expected a string");
    assert_error("unknown-field.toml", "flows.jobs.cadance", "unknown field `cadance`");
    assert_error("missing-display-name.toml", "display_name", "missing field `display_name`");
    assert_error("bad-state.toml", "flows.jobs.filter.states[1]", "unknown variant `unlisted`");
    assert_error("bad-origin.toml", "flows.candidates.origin", "unknown variant `walked-in`");
    assert_error("bad-hire-source.toml", "flows.hires.fields.Manager", "unknown variant `hiring_manager.phone`");
    let msg = load_broken("syntax.toml");
    assert!(msg.starts_with("syntax.toml:1: (document): "), "{msg}");
}

#[test]
fn value_errors() {
    assert_error("bad-timezone.toml", "flows.hires.timezone", "unknown time zone \"America/Los_Angles\"");
    assert_error("bad-daily-at.toml", "flows.hires.daily_at", "invalid time of day \"24:00\"");
    assert_error("bad-stage.toml", "flows.candidates.stage", "neither a stage slug");
    assert_error("unknown-placeholder.toml", "flows.candidates.tags[1]", "unknown placeholder {reslt}");
    assert_error("unknown-scope.toml", "oauth.scopes[1]", "unknown scope \"candidates:read:admin\"");
    assert_error("missing-scope.toml", "oauth.scopes", "missing scope \"offline_access\"");
    assert_error("id-not-file-name.toml", "id", "must match the file name");
}

#[test]
fn from_dir_reports_every_broken_file() {
    let err = ProfileCatalog::from_dir(fixtures().join("broken")).unwrap_err();
    let files: BTreeSet<String> = err.errors.iter().map(|e| Path::new(&e.file).file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(files.len(), std::fs::read_dir(fixtures().join("broken")).unwrap().count());
    let text = err.to_string();
    assert!(text.starts_with("invalid partner profiles ("), "{text}");
    assert!(text.contains("bad-cadence.toml:9: flows.jobs.cadence: invalid cadence"), "{text}");
}

#[test]
fn duplicate_ids_are_refused() {
    let text = std::fs::read_to_string(fixtures().join("sixth/acme-ats-sync.toml")).unwrap();
    let err =
        ProfileCatalog::from_sources([("a/acme-ats-sync.toml".to_string(), text.clone()), ("b/acme-ats-sync.toml".to_string(), text)]).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].field, "id");
    assert!(
        err.errors[0]
            .to_string()
            .starts_with("b/acme-ats-sync.toml: id: duplicate profile id \"acme-ats-sync\", already defined in a/acme-ats-sync.toml")
    );
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let err = ProfileCatalog::from_dir("/nonexistent/profiles").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/profiles: (file): cannot read the profiles folder"), "{err}");
}

// ---------- what each seed promises ----------

#[test]
fn hireup_profile() {
    let p = profile("hireup");
    let j = p.jobs().unwrap();
    assert_eq!(j.cadence, Cadence::parse("1h").unwrap());
    assert_eq!(j.filter.states, vec![PostingState::Published]);
    assert_eq!(j.filter.distribution, Some(vec![Channel::Public]));
    assert!(j.include.referral_bonus && j.include.description);
    let c = p.candidates().unwrap();
    assert_eq!(c.stage.as_str(), "applicant-new");
    assert_eq!(c.source, "HireUp");
    assert_eq!(c.origin, Origin::Referred);
    assert_eq!(c.files.accept, vec![FileRole::Resume, FileRole::CoverLetter]);
    assert!(c.notes.endorsement.is_some());
    for e in [EventKind::CandidateStageChanged, EventKind::CandidateArchived, EventKind::CandidateHired] {
        assert!(p.subscribes(e), "referrer kept informed: {e:?}");
    }
    assert!(p.may_change(SettingKey::StageLabels));
    assert_eq!(
        p.lever_webhooks().into_iter().collect::<Vec<_>>(),
        vec![LeverEvent::CandidateArchiveChange, LeverEvent::CandidateDeleted, LeverEvent::CandidateHired, LeverEvent::CandidateStageChange]
    );
}

#[test]
fn hireup_jobs_external_only_with_bonus() {
    let p = profile("hireup");
    let mut posting = PostingInput {
        id: POSTING.into(),
        text: Some("Engineer".into()),
        state: Some("published".into()),
        distribution_channels: Some(vec!["public".into()]),
        tags: Some(vec!["referralbonus:Win an iPad".into()]),
        salary_range: None,
        apply_url: Some("https://jobs.lever.co/acme/x/apply".into()),
        ..Default::default()
    };
    let job = Job::from_posting(&posting).unwrap();
    assert!(p.jobs().unwrap().filter.passes(&job));
    let sent = job.for_partner(&p.jobs().unwrap().include);
    assert_eq!(sent.referral_bonus, Some(ReferralBonus::Text { text: "Win an iPad".into() }));
    assert_eq!(sent.apply_url, None);
    posting.distribution_channels = Some(vec!["internal".into()]);
    assert!(!p.jobs().unwrap().filter.passes(&Job::from_posting(&posting).unwrap()));
}

fn submission(kind: SubmissionKind) -> Submission {
    Submission {
        kind,
        candidate: CandidateInput { name: "Ada Lovelace".into(), emails: vec!["Ada@Example.COM".into()], ..Default::default() },
        postings: vec![format!("https://jobs.lever.co/acme/{POSTING}")],
        referrer: None,
        endorsement: None,
        screening: None,
        files: vec![],
        custom: Default::default(),
    }
}

fn file(name: &str, role: FileRole) -> FileInput {
    use base64::Engine as _;
    FileInput {
        name: name.into(),
        content_type: "application/pdf".into(),
        role,
        content_base64: Some(base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n".repeat(100))),
        upload_id: None,
    }
}

fn admin_facts() -> CandidateFacts {
    CandidateFacts { authorizing_user_id: Some(ADMIN.into()), ..Default::default() }
}

#[test]
fn hireup_referral_plan() {
    let p = profile("hireup");
    let mut s = submission(SubmissionKind::Referral);
    s.referrer = Some(ReferrerInput { name: Some("Grace Hopper".into()), email: Some("grace@acme.example".into()) });
    s.endorsement = Some("Best engineer I know.".into());
    s.files = vec![file("cv.pdf", FileRole::Resume), file("letter.pdf", FileRole::CoverLetter)];
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &admin_facts()).unwrap();
    assert_eq!(plan.write, Write::Create);
    assert_eq!(plan.perform_as, ADMIN);
    assert_eq!(plan.posting_id, POSTING);
    assert_eq!(plan.candidate.emails, vec!["Ada@example.com"]);
    assert_eq!(plan.origin, Some(Origin::Referred));
    assert_eq!(plan.sources, vec!["HireUp"]);
    assert_eq!(plan.stage.as_ref().map(StageId::as_str), Some("applicant-new"));
    assert_eq!(plan.resume_file.as_ref().map(|f| f.name.as_str()), Some("cv.pdf"));
    assert_eq!(plan.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["letter.pdf"]);
    assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
    assert_eq!(plan.note_text().unwrap(), plan.notes.join("\n\n"), "one note in Lever");
    assert!(plan.notes[0].starts_with("Endorsement from Grace Hopper <grace@acme.example> via HireUp:"));
    assert!(plan.notes[0].ends_with("Best engineer I know."));
    assert_eq!(plan.notes[1], "Referred by Grace Hopper <grace@acme.example> via HireUp.");
}

#[test]
fn hireup_refuses_a_referral_without_referrer_and_a_transcript() {
    let p = profile("hireup");
    let mut s = submission(SubmissionKind::Referral);
    s.files = vec![file("t.pdf", FileRole::Transcript)];
    let err = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &admin_facts()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("referrer: a referral needs its referrer"), "{msg}");
    assert!(msg.contains("files[0].role: Transcript files are not accepted"), "{msg}");
}

#[test]
fn hireup_custom_stage_mapping_is_a_customer_setting() {
    let p = profile("hireup");
    let custom = "a80bbbe0-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
    let mut settings = ConnectionSettings::default();
    settings.stage_labels.insert(custom.into(), "Culture interview".into());
    settings.default_stage = Some(StageId::parse(custom).unwrap());
    assert!(settings.validate(&p).is_empty(), "{:?}", settings.validate(&p));
    assert_eq!(settings.stage_label(custom), Some("Culture interview"));
    let mut s = submission(SubmissionKind::Referral);
    s.referrer = Some(ReferrerInput { name: Some("Grace".into()), email: None });
    let plan = plan_candidate_write(&p, &settings, &s, &admin_facts()).unwrap();
    assert_eq!(plan.stage.as_ref().map(StageId::as_str), Some(custom));
}

#[test]
fn erc_profile_and_referrer_rules() {
    let p = profile("employeereferrals");
    assert_eq!(p.jobs().unwrap().cadence.seconds(), 300);
    let c = p.candidates().unwrap();
    assert_eq!(c.source, "ERC");
    assert!(c.update_source_of_existing);
    let mut s = submission(SubmissionKind::Referral);
    s.referrer = Some(ReferrerInput { name: Some("Sam Employee".into()), email: Some("sam@acme.example".into()) });

    // Referrer not a Lever user: their name and email go into the note. The candidate is not
    // in Lever yet: the referral is held until they apply on Lever's job page.
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &admin_facts()).unwrap();
    assert_eq!(plan.write, Write::Hold);
    assert_eq!(plan.sources, vec!["ERC"]);
    assert_eq!(plan.origin, Some(Origin::Referred));
    assert!(plan.followers.is_empty());
    assert_eq!(
        plan.note_text().as_deref(),
        Some(
            "Referred by Sam Employee <sam@acme.example> through EmployeeReferrals.com.\n\n\
             The referrer is not a Lever user; their name and email are above."
        )
    );

    // Referrer is a Lever user: follows the candidate, and the note names them as Lever does.
    let facts =
        CandidateFacts { referrer_user_id: Some(REFERRER_USER.into()), referrer_user_name: Some("Samantha Employee".into()), ..admin_facts() };
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts).unwrap();
    assert_eq!(plan.followers, vec![REFERRER_USER]);
    assert_eq!(plan.notes, vec!["Referred by Samantha Employee <sam@acme.example> through EmployeeReferrals.com."]);
    assert!(p.lever_webhooks().contains(&LeverEvent::ApplicationCreated), "held referrals wait for it");
    assert_eq!(p.candidates().unwrap().pending.expire_after_days, 30);
}

#[test]
fn perform_as_is_the_chosen_user_else_the_consenting_one_never_a_deactivated_one() {
    let hireup = profile("hireup");
    let chosen = ConnectionSettings { perform_as: Some(CHOSEN.into()), ..Default::default() };
    assert_eq!(perform_as_choices(&hireup, &chosen, Some(ADMIN)), vec![CHOSEN, ADMIN]);
    assert_eq!(perform_as_choices(&hireup, &ConnectionSettings::default(), Some(ADMIN)), vec![ADMIN]);
    let mut s = submission(SubmissionKind::Referral);
    s.referrer = Some(ReferrerInput { name: Some("Grace".into()), email: None });
    let facts = CandidateFacts { inactive_users: vec![CHOSEN.into()], ..admin_facts() };
    assert_eq!(plan_candidate_write(&hireup, &chosen, &s, &facts).unwrap().perform_as, ADMIN);
    let facts = CandidateFacts { inactive_users: vec![CHOSEN.into(), ADMIN.into()], ..admin_facts() };
    assert_eq!(plan_candidate_write(&hireup, &chosen, &s, &facts), Err(PlanError::PerformAsDeactivated));
    // Outhire's user is chosen at setup: without a choice nobody is written as.
    let outhire = profile("outhire");
    assert!(perform_as_choices(&outhire, &ConnectionSettings::default(), Some(ADMIN)).is_empty());
    assert_eq!(perform_as_choices(&outhire, &chosen, Some(ADMIN)), vec![CHOSEN, ADMIN]);
}

#[test]
fn erc_updates_the_source_of_a_careers_page_applicant() {
    let p = profile("employeereferrals");
    let mut s = submission(SubmissionKind::Referral);
    s.referrer = Some(ReferrerInput { name: Some("Sam".into()), email: None });
    let existing =
        ExistingOpportunity { opportunity_id: OPP.into(), sources: vec!["Job site".into()], tags: vec![], stage: Some("applicant-new".into()) };
    let facts = CandidateFacts { existing: Some(existing.clone()), referrer_user_id: Some(REFERRER_USER.into()), ..admin_facts() };
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts).unwrap();
    assert_eq!(plan.write, Write::Update { opportunity_id: OPP.into() });
    assert_eq!(plan.sources, vec!["ERC"]);
    assert_eq!(plan.stage, None, "an existing candidate is not moved back to the default stage");
    assert_eq!(plan.origin, None);
    // Already has the source: nothing to add.
    let facts = CandidateFacts { existing: Some(ExistingOpportunity { sources: vec!["erc".into()], ..existing }), ..facts };
    assert!(plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts).unwrap().sources.is_empty());
}

fn screening(status: &str) -> Submission {
    let mut s = submission(SubmissionKind::Screening);
    s.postings = vec![format!("https://jobs.lever.co/acme/{POSTING}/apply")];
    s.screening = Some(ScreeningInput { status: status.into(), score: Some(87.0), summary: Some("Great communicator.".into()) });
    s.files = vec![file("SuperScreener.pdf", FileRole::Transcript)];
    s
}

#[test]
fn upwage_screening_result_on_an_existing_candidate() {
    let p = profile("upwage");
    assert!(p.jobs().is_none() && p.hires().is_none());
    let facts = CandidateFacts {
        existing: Some(ExistingOpportunity { opportunity_id: OPP.into(), sources: vec![], tags: vec![], stage: Some("applicant-new".into()) }),
        ..admin_facts()
    };
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &screening("passed"), &facts).unwrap();
    assert_eq!(plan.write, Write::Update { opportunity_id: OPP.into() });
    assert_eq!(plan.tags, vec!["UW Screened: PASSED"]);
    assert_eq!(plan.files.len(), 1);
    assert_eq!(plan.files[0].role, FileRole::Transcript);
    assert_eq!(plan.notes, vec!["Upwage SuperScreener result: PASSED. Great communicator."]);
    assert_eq!(plan.stage, None, "no move unless the customer configured one");
    assert!(plan.sources.is_empty());
}

#[test]
fn upwage_creates_a_missing_candidate_with_the_transcript_as_a_file() {
    let p = profile("upwage");
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &screening("FAILED"), &admin_facts()).unwrap();
    assert_eq!(plan.write, Write::Create);
    assert_eq!(plan.posting_id, POSTING, "posting id taken from the hosted job URL");
    assert_eq!(plan.tags, vec!["UW Screened: FAILED"]);
    assert!(plan.resume_file.is_none());
    assert_eq!(plan.files.len(), 1);
}

#[test]
fn upwage_moves_are_configurable_per_customer_and_posting() {
    let p = profile("upwage");
    let phone_screen = "b1b2b3b4-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
    let onsite = "c1c2c3c4-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
    let mut settings = ConnectionSettings::default();
    settings.result_routes.insert("PASSED".into(), Route { stage: Some(StageId::parse(phone_screen).unwrap()), posting: None });
    settings.tags = Some(vec!["Upwage {result} ({score})".into()]);
    let mut over = PostingOverride::default();
    over.result_routes.insert(
        "PASSED".into(),
        Route { stage: Some(StageId::parse(onsite).unwrap()), posting: Some(format!("https://jobs.lever.co/acme/{OTHER_POSTING}")) },
    );
    settings.posting_overrides.insert(OTHER_POSTING.into(), over);
    assert!(settings.validate(&p).is_empty(), "{:?}", settings.validate(&p));

    let existing = CandidateFacts {
        existing: Some(ExistingOpportunity { opportunity_id: OPP.into(), sources: vec![], tags: vec![], stage: Some("applicant-new".into()) }),
        ..admin_facts()
    };
    // Customer-wide route.
    let plan = plan_candidate_write(&p, &settings, &screening("PASSED"), &existing).unwrap();
    assert_eq!(plan.stage.as_ref().map(StageId::as_str), Some(phone_screen));
    assert_eq!(plan.tags, vec!["Upwage PASSED (87)"]);
    assert_eq!(plan.also_apply_to_posting, None);
    // No route for FAILED: no move.
    assert_eq!(plan_candidate_write(&p, &settings, &screening("FAILED"), &existing).unwrap().stage, None);

    // Per-posting route wins on that posting; it can also open an opportunity on another posting.
    let mut s = screening("PASSED");
    s.postings = vec![OTHER_POSTING.into()];
    let mut s2 = screening("PASSED");
    s2.postings = vec![POSTING.into()];
    let mut settings2 = settings.clone();
    let o = settings2.posting_overrides.remove(OTHER_POSTING).unwrap();
    settings2.posting_overrides.insert(POSTING.into(), o);
    let plan = plan_candidate_write(&p, &settings2, &s2, &existing).unwrap();
    assert_eq!(plan.stage.as_ref().map(StageId::as_str), Some(onsite));
    assert_eq!(plan.also_apply_to_posting.as_deref(), Some(OTHER_POSTING));
    let plan = plan_candidate_write(&p, &settings, &s, &existing).unwrap();
    assert_eq!(plan.also_apply_to_posting, None, "a route to the same posting is no move");
}

#[test]
fn outhire_profile() {
    let p = profile("outhire");
    let j = p.jobs().unwrap();
    assert_eq!(j.filter.states, vec![PostingState::Published]);
    assert_eq!(j.filter.distribution, Some(vec![Channel::Public, Channel::Internal]));
    assert!(j.include.description && j.include.workplace_type && j.include.salary && j.include.apply_url);
    let c = p.candidates().unwrap();
    assert_eq!(c.accepts, vec![SubmissionKind::Application]);
    assert_eq!(c.stage.as_str(), "lead-new");
    assert_eq!(c.perform_as, PerformAs::ChosenAtSetup);
    assert_eq!(c.on_existing, OnExisting::Update);
    assert!(p.subscribes(EventKind::ConnectionStatusChanged));
    assert_eq!(p.settings.required, vec![SettingKey::PerformAs]);
}

#[test]
fn outhire_pushes_applications_as_tagged_leads_for_the_chosen_user() {
    let p = profile("outhire");
    let s = submission(SubmissionKind::Application);
    // No user chosen yet: refused, even though the authorising admin is known.
    assert_eq!(plan_candidate_write(&p, &ConnectionSettings::default(), &s, &admin_facts()), Err(PlanError::NoPerformAs));
    assert!(ConnectionSettings::default().validate(&p).iter().any(|i| i.field == "settings.perform_as" && i.reason.contains("required")));
    let settings = ConnectionSettings { perform_as: Some(CHOSEN.into()), ..Default::default() };
    let plan = plan_candidate_write(&p, &settings, &s, &admin_facts()).unwrap();
    assert_eq!(plan.perform_as, CHOSEN);
    assert_eq!(plan.stage.as_ref().map(StageId::as_str), Some("lead-new"));
    assert_eq!(plan.tags, vec!["Outhire"]);
    assert_eq!(plan.sources, vec!["Outhire"]);
    // Saves and questions are not applications.
    let r = plan_candidate_write(&p, &settings, &submission(SubmissionKind::Referral), &admin_facts());
    assert!(r.unwrap_err().to_string().contains("kind: \"referral\" submissions are not accepted"));
}

#[test]
fn outhire_never_imports_unlisted_postings() {
    let p = profile("outhire");
    let f = &p.jobs().unwrap().filter;
    let job = |state: &str, channels: Option<Vec<&str>>| {
        Job::from_posting(&PostingInput {
            id: POSTING.into(),
            text: Some("Role".into()),
            state: Some(state.into()),
            distribution_channels: channels.map(|c| c.into_iter().map(String::from).collect()),
            ..Default::default()
        })
        .unwrap()
    };
    assert!(f.passes(&job("published", Some(vec!["internal"]))));
    assert!(f.passes(&job("published", Some(vec!["public"]))));
    assert!(!f.passes(&job("internal", None)), "unlisted");
    assert!(!f.passes(&job("closed", Some(vec!["public"]))));
    assert!(!f.passes(&job("draft", None)));
}

#[test]
fn hrcloud_profile_and_mapping() {
    let p = profile("hrcloud");
    assert!(p.jobs().is_none() && p.candidates().is_none());
    let h = p.hires().unwrap();
    assert_eq!(h.triggers, vec![HireTrigger::OnDemand, HireTrigger::Daily, HireTrigger::Webhook]);
    assert_eq!(h.timezone.as_ref().unwrap().as_str(), "America/Los_Angeles");
    assert_eq!(p.lever_webhooks().into_iter().collect::<Vec<_>>(), vec![LeverEvent::CandidateDeleted, LeverEvent::CandidateHired]);
    let fields: Vec<&str> = h.fields.keys().map(String::as_str).collect();
    let mut expected = vec![
        "First Name",
        "Middle Name",
        "Last Name",
        "Email",
        "Position",
        "Department",
        "Location",
        "Employment Type",
        "Manager",
        "Start Date",
        "Employee Number",
    ];
    expected.sort();
    assert_eq!(fields, expected);

    let facts = HireFacts {
        opportunity_id: OPP.into(),
        name: Some("Ada Byron Lovelace".into()),
        emails: vec!["ada@example.com".into()],
        posting_title: Some("Analyst".into()),
        department: Some("Research".into()),
        location: Some("London".into()),
        commitment: Some("Part-time".into()),
        hiring_manager_name: Some("Charles Babbage".into()),
        anticipated_start_date_ms: Some(1_772_409_600_000), // 2026-03-02T00:00:00Z
        ..Default::default()
    };
    let r = map_hire(h, None, &facts);
    let v = |k: &str| r[k].clone();
    assert_eq!(v("First Name").as_deref(), Some("Ada"));
    assert_eq!(v("Middle Name").as_deref(), Some("Byron"));
    assert_eq!(v("Last Name").as_deref(), Some("Lovelace"));
    assert_eq!(v("Position").as_deref(), Some("Analyst"));
    assert_eq!(v("Employment Type").as_deref(), Some("Part-time"));
    assert_eq!(v("Manager").as_deref(), Some("Charles Babbage"));
    assert_eq!(v("Start Date").as_deref(), Some("2026-03-02"));
    assert_eq!(v("Employee Number").as_deref(), Some(OPP));
}

#[test]
fn hrcloud_daily_import_runs_at_midnight_pacific() {
    let p = profile("hrcloud");
    let h = p.hires().unwrap();
    let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let next = next_daily_run_ms(h.daily_at.unwrap(), h.timezone.as_ref().unwrap(), ms("2026-06-01T12:00:00Z"));
    assert_eq!(next, ms("2026-06-02T07:00:00Z"));
    let next = next_daily_run_ms(h.daily_at.unwrap(), h.timezone.as_ref().unwrap(), ms("2026-12-01T12:00:00Z"));
    assert_eq!(next, ms("2026-12-02T08:00:00Z"));
}

#[test]
fn hrcloud_customer_turns_triggers_off() {
    let p = profile("hrcloud");
    let s = ConnectionSettings { hire_triggers: Some(vec![HireTrigger::OnDemand]), ..Default::default() };
    assert!(s.validate(&p).is_empty());
    assert_eq!(s.hire_triggers(&p), vec![HireTrigger::OnDemand]);
    assert_eq!(ConnectionSettings::default().hire_triggers(&p).len(), 3);
    // The account's time zone decides the start date when the customer sets it.
    let tz = ConnectionSettings { timezone: Some(shared::core::schedule::TzName::parse("America/Los_Angeles").unwrap()), ..Default::default() };
    let facts = HireFacts { opportunity_id: OPP.into(), anticipated_start_date_ms: Some(1_772_409_600_000), ..Default::default() };
    assert_eq!(map_hire(p.hires().unwrap(), tz.timezone(&p), &facts)["Start Date"].as_deref(), Some("2026-03-01"));
    assert_eq!(map_hire(p.hires().unwrap(), ConnectionSettings::default().timezone(&p), &facts)["Start Date"].as_deref(), Some("2026-03-02"));
    assert_eq!(tz.timezone(&profile("outhire")), None, "ignored where the profile does not offer it");
    // A setting HR Cloud does not offer is refused with its field.
    let bad = ConnectionSettings { source: Some("x".into()), ..Default::default() };
    let issues = bad.validate(&p);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].field, "settings.source");
}
