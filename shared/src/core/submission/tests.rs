use super::*;
use crate::core::profile::Profile;
use crate::core::settings::ConnectionSettings;

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
        candidate: CandidateInput { name: " Ada ".into(), emails: vec!["ada@example.com".into()], ..Default::default() },
        postings: vec![POSTING.into()],
        referrer: None,
        endorsement: None,
        screening: None,
        files: vec![],
        custom: Default::default(),
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
        Err(SubmissionError(e)) => e.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
    }
}

fn facts() -> CandidateFacts {
    CandidateFacts { authorizing_user_id: Some(USER.into()), ..Default::default() }
}

#[test]
fn emails_are_checked_and_normalised() {
    assert_eq!(normalize_email(" Ada@Example.COM ").as_deref(), Some("Ada@example.com"));
    for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@@example.com", "ada@-x.com", "ada@example..com"] {
        assert_eq!(normalize_email(bad), None, "{bad:?}");
    }
    let p = profile("");
    let mut s = sub();
    s.candidate.emails = vec!["ada@example.com".into(), "not-an-email".into(), "ADA@EXAMPLE.COM".into()];
    assert_eq!(errors(&s, &p), vec!["candidate.emails[1]: \"not-an-email\" is not an email address"]);
    s.candidate.emails.remove(1);
    assert_eq!(s.validate(p.candidates().unwrap()).unwrap().submission.emails, vec!["ada@example.com"], "duplicates dropped");
}

#[test]
fn postings_exactly_one() {
    let p = profile("");
    let mut s = sub();
    s.postings = vec![];
    assert_eq!(errors(&s, &p), vec!["postings: a posting is required (its id or its Lever job URL)"]);
    s.postings = vec![POSTING.into(), POSTING.into()];
    assert!(errors(&s, &p)[0].starts_with("postings: 2 postings given; Lever takes exactly one posting per opportunity"));
    s.postings = vec!["https://example.com/jobs/1".into()];
    assert!(errors(&s, &p)[0].starts_with("postings[0]: "));
    s.postings = vec![format!("https://jobs.eu.lever.co/acme/{}/apply", POSTING.to_uppercase())];
    assert_eq!(s.validate(p.candidates().unwrap()).unwrap().submission.posting_id, POSTING);
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let p = profile("");
    let s = Submission {
        kind: SubmissionKind::Screening,
        candidate: CandidateInput {
            name: "  ".into(),
            emails: vec![],
            phones: vec![Phone { kind: None, value: "12".into() }],
            links: vec!["javascript:alert(1)".into()],
            ..Default::default()
        },
        postings: vec![POSTING.into()],
        referrer: Some(ReferrerInput { name: None, email: Some("nope".into()) }),
        endorsement: None,
        screening: Some(ScreeningInput { status: "PASSED!".into(), score: Some(f64::NAN), summary: None }),
        files: vec![
            inline("a/b.pdf", "application/zip", FileRole::Transcript, 5000),
            upload("cv.pdf", "application/pdf", FileRole::Resume),
            upload("cv2.pdf", "application/pdf; charset=binary", FileRole::Resume),
        ],
        custom: Default::default(),
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
            "files[2].upload_id",
        ],
        "{got:#?}"
    );
    let msg = SubmissionError(vec![FieldError::new("a", "b")]).to_string();
    assert_eq!(msg, "invalid submission: a: b");
}

#[test]
fn kind_specific_parts() {
    let p = profile("");
    let mut s = sub();
    s.kind = SubmissionKind::Screening;
    assert_eq!(errors(&s, &p), vec!["screening: a screening submission needs its result"]);
    let p2 = profile("referrer = { required = true }");
    let mut s = sub();
    s.kind = SubmissionKind::Referral;
    assert_eq!(errors(&s, &p2), vec!["referrer: a referral needs its referrer (name and/or email)"]);
    s.referrer = Some(ReferrerInput { name: Some("Grace".into()), email: None });
    assert!(errors(&s, &p2).is_empty());
    let mut s = sub();
    s.candidate.emails.clear();
    assert_eq!(errors(&s, &p), vec!["candidate.emails: give at least one email address or phone number"]);
    s.candidate.phones = vec![Phone { kind: Some("mobile".into()), value: "+1 (415) 555-0100".into() }];
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
    let e = serde_json::from_str::<Submission>(r#"{"kind":"application","candidate":{"name":"A"},"posting":"x"}"#).unwrap_err();
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
    s.referrer = Some(ReferrerInput { name: Some("Grace".into()), email: None });
    s.endorsement = Some("Hire her.".into());
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts()).unwrap();
    assert_eq!(plan.tags, vec!["Acme"], "the screening tag needs a result");
    assert_eq!(plan.notes, vec!["Grace says: Hire her."]);
    assert_eq!(plan.candidate.name, "Ada");

    let mut s = sub();
    s.kind = SubmissionKind::Screening;
    s.screening = Some(ScreeningInput { status: "passed".into(), score: None, summary: None });
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &s, &facts()).unwrap();
    assert_eq!(plan.tags, vec!["Acme", "Screened: PASSED"]);
    assert_eq!(plan.notes, vec!["Result PASSED, score"]);
}

#[test]
fn settings_the_profile_does_not_allow_are_ignored() {
    let p = profile("");
    let settings =
        ConnectionSettings { source: Some("Other".into()), perform_as: Some("e2befaae-b830-4c21-a002-2d5019486d1a".into()), ..Default::default() };
    assert_eq!(settings.validate(&p).len(), 2);
    let plan = plan_candidate_write(&p, &settings, &sub(), &facts()).unwrap();
    assert_eq!(plan.sources, vec!["Acme"]);
    assert_eq!(plan.perform_as, USER);
}

#[test]
fn perform_as_and_missing_candidates() {
    let p = profile("");
    assert_eq!(plan_candidate_write(&p, &ConnectionSettings::default(), &sub(), &CandidateFacts::default()), Err(PlanError::NoPerformAs));
    let p = profile("create_if_missing = false");
    assert_eq!(plan_candidate_write(&p, &ConnectionSettings::default(), &sub(), &facts()), Err(PlanError::NotInLever));
    let mut f = facts();
    f.existing = Some(ExistingOpportunity { opportunity_id: "opp".into(), tags: vec!["Acme".into()], ..Default::default() });
    let plan = plan_candidate_write(&p, &ConnectionSettings::default(), &sub(), &f).unwrap();
    assert_eq!(plan.write, Write::Update { opportunity_id: "opp".into() });
    assert!(plan.tags.is_empty(), "tags already on the opportunity are not added again");
    assert!(plan.sources.is_empty(), "update_source_of_existing is off");
}

#[test]
fn new_opportunity_on_existing_and_files_on_update() {
    let p = profile("on_existing = \"new_opportunity\"");
    let mut f = facts();
    f.existing = Some(ExistingOpportunity { opportunity_id: "opp".into(), ..Default::default() });
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

#[test]
fn the_plan_lists_its_writes_in_order() {
    let mut f = facts();
    f.existing = Some(ExistingOpportunity { opportunity_id: "opp".into(), ..Default::default() });
    let mut s = sub();
    let mut cover = upload("cover.pdf", "application/pdf", FileRole::CoverLetter);
    cover.upload_id = Some("0b7c1d3e-aaaa-4bbb-8ccc-123456789abd".into());
    s.files = vec![upload("cv.pdf", "application/pdf", FileRole::Resume), cover];
    let create = plan_candidate_write(&profile("on_existing = \"new_opportunity\""), &ConnectionSettings::default(), &s, &f).unwrap();
    assert_eq!(create.steps.first(), Some(&WriteStep::Create), "a create carries the files itself");
    assert!(!create.steps.iter().any(|s| s.carried_by_create()));
    let update = plan_candidate_write(&profile(""), &ConnectionSettings::default(), &s, &f).unwrap();
    let files: Vec<&WriteStep> = update.steps.iter().filter(|s| matches!(s, WriteStep::File(_))).collect();
    assert_eq!(files, [&WriteStep::File(0), &WriteStep::File(1)]);
    assert!(!update.steps.contains(&WriteStep::Create));
    for step in &update.steps {
        assert_eq!(WriteStep::from_stored_name(&step.stored_name()), Some(*step));
    }
}
