//! [`Submission::validate`]: a submission checked against the partner's candidates flow, every
//! problem reported with the dotted path of its field.

use super::input::*;
use crate::core::job::posting_id_from_ref;
use crate::core::profile::CandidatesFlow;
use crate::core::text::first_hidden_or_control;

/// Every problem found so far, in the order of the submission's fields.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }
}

/// The candidate's own fields, cleaned.
struct Contact {
    name: String,
    emails: Vec<String>,
    phones: Vec<Phone>,
    links: Vec<String>,
}

impl Submission {
    /// Checks the submission against the partner's candidates flow, reporting every problem.
    pub fn validate(&self, flow: &CandidatesFlow) -> Result<Validated, SubmissionError> {
        let mut errs = Problems::default();
        if !flow.accepts.contains(&self.kind) {
            let accepted: Vec<&str> = flow.accepts.iter().map(|k| k.as_str()).collect();
            errs.add("kind", format!("{:?} submissions are not accepted; this partner sends {}", self.kind.as_str(), accepted.join(", ")));
        }
        let contact = contact(&self.candidate, &mut errs);
        let posting_id = posting_id(&self.postings, &mut errs);
        let referrer = self.valid_referrer(flow, &mut errs);
        let endorsement = clean(&self.endorsement);
        if endorsement.as_ref().is_some_and(|e| e.chars().count() > 10_000) {
            errs.add("endorsement", "longer than 10000 characters");
        }
        let screening = self.valid_screening(&mut errs);
        let (files, contents) = self.valid_files(flow, &mut errs);
        let custom = crate::core::custom::validate(&flow.custom, &self.custom).unwrap_or_else(|problems| {
            errs.0.extend(problems);
            Default::default()
        });
        if !errs.0.is_empty() {
            return Err(SubmissionError(errs.0));
        }
        let c = &self.candidate;
        let submission = ValidSubmission {
            kind: self.kind,
            name: contact.name,
            emails: contact.emails,
            phones: contact.phones,
            links: contact.links,
            location: clean(&c.location),
            headline: clean(&c.headline),
            posting_id,
            referrer,
            endorsement,
            screening,
            files,
            custom,
        };
        Ok(Validated { submission, contents })
    }

    fn valid_referrer(&self, flow: &CandidatesFlow, errs: &mut Problems) -> Option<ReferrerInput> {
        let Some(r) = &self.referrer else {
            if self.kind == SubmissionKind::Referral && flow.referrer.required {
                errs.add("referrer", "a referral needs its referrer (name and/or email)");
            }
            return None;
        };
        if self.kind != SubmissionKind::Referral {
            errs.add("referrer", format!("only referrals have a referrer, this is {:?}", self.kind.as_str()));
        }
        let name = clean(&r.name);
        if let Some(n) = &name {
            refuse_hidden("referrer.name", n, errs);
        }
        let email = clean(&r.email).and_then(|e| {
            let n = normalize_email(&e);
            if n.is_none() {
                errs.add("referrer.email", format!("{e:?} is not an email address"));
            }
            n
        });
        if name.is_none() && r.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            errs.add("referrer", "give the referrer's name or email");
        }
        Some(ReferrerInput { name, email })
    }

    fn valid_screening(&self, errs: &mut Problems) -> Option<ScreeningInput> {
        let Some(s) = &self.screening else {
            if self.kind == SubmissionKind::Screening {
                errs.add("screening", "a screening submission needs its result");
            }
            return None;
        };
        if self.kind != SubmissionKind::Screening {
            errs.add("screening", format!("only screening submissions carry a result, this is {:?}", self.kind.as_str()));
        }
        let status = normalize_status(&s.status).unwrap_or_else(|e| {
            errs.add("screening.status", e);
            String::new()
        });
        if s.score.is_some_and(|x| !x.is_finite()) {
            errs.add("screening.score", "must be a finite number");
        }
        Some(ScreeningInput { status, score: s.score, summary: clean(&s.summary) })
    }

    /// The files' descriptions, and where each one's bytes are.
    fn valid_files(&self, flow: &CandidatesFlow, errs: &mut Problems) -> (Vec<FileMeta>, Vec<FileContent>) {
        let mut resumes = 0;
        let mut inline_total: u64 = 0;
        let mut files = Vec::with_capacity(self.files.len());
        let mut contents = Vec::with_capacity(self.files.len());
        for (i, f) in self.files.iter().enumerate() {
            let p = format!("files[{i}]");
            if !flow.files.accept.contains(&f.role) {
                let accepted: Vec<&str> = flow.files.accept.iter().map(|r| r.as_str()).collect();
                errs.add(format!("{p}.role"), format!("{:?} files are not accepted from this partner (accepted: {})", f.role, accepted.join(", ")));
            }
            if f.role == FileRole::Resume {
                resumes += 1;
                if resumes > 1 {
                    errs.add(format!("{p}.role"), "only one resume per submission");
                }
            }
            let n = f.name.trim();
            if n.is_empty() || n.contains('/') || n.contains('\\') || n.chars().count() > 255 || n.chars().any(char::is_control) {
                errs.add(format!("{p}.name"), format!("{:?} is not a file name", f.name));
            }
            let ct = f.content_type.trim().to_ascii_lowercase();
            let base = ct.split(';').next().unwrap_or("").trim();
            if !ALLOWED_CONTENT_TYPES.contains(&base) {
                errs.add(format!("{p}.content_type"), format!("{:?} is not a type Lever takes (pdf, doc, docx, txt, jpg, png)", f.content_type));
            }
            let mut size_bytes = None;
            match (&f.content_base64, &f.upload_id) {
                (Some(_), Some(_)) | (None, None) => errs.add(p.clone(), "give exactly one of content_base64 (small files) and upload_id"),
                (Some(b64), None) => {
                    use base64::Engine as _;
                    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                        Ok(bytes) => {
                            let size = bytes.len() as u64;
                            inline_total = inline_total.saturating_add(size);
                            if size == 0 || size > flow.files.max_bytes {
                                errs.add(format!("{p}.content_base64"), format!("{size} bytes; must be between 1 and {}", flow.files.max_bytes));
                            }
                            size_bytes = Some(size);
                            contents.push(FileContent::Inline(bytes));
                        }
                        Err(e) => errs.add(format!("{p}.content_base64"), format!("not base64 (standard alphabet, with padding): {e}")),
                    }
                }
                (None, Some(id)) => {
                    let id = id.trim();
                    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        errs.add(format!("{p}.upload_id"), format!("{id:?} is not an upload id"));
                    }
                    contents.push(FileContent::Upload(id.to_string()));
                }
            }
            files.push(FileMeta { name: n.to_string(), content_type: base.to_string(), role: f.role, size_bytes });
        }
        if inline_total > MAX_INLINE_BYTES {
            errs.add("files", format!("{inline_total} bytes inline; at most {MAX_INLINE_BYTES} in all: send larger files as uploads (upload_id)"));
        }
        (files, contents)
    }
}

/// A name shows in Lever and in the partner's own pages: a control character or a hidden one
/// (a NUL, a right-to-left override, a zero-width space) is refused, not passed on.
fn refuse_hidden(field: &str, text: &str, errs: &mut Problems) {
    if let Some(c) = first_hidden_or_control(text) {
        errs.add(field, format!("contains {c}, a control or invisible character; send the name as it is written"));
    }
}

/// Name, emails (normalised, each once), phones and links; at least one email or phone.
fn contact(c: &CandidateInput, errs: &mut Problems) -> Contact {
    let name = c.name.trim().to_string();
    if name.is_empty() {
        errs.add("candidate.name", "required");
    } else if name.chars().count() > 255 {
        errs.add("candidate.name", "longer than 255 characters");
    } else {
        refuse_hidden("candidate.name", &name, errs);
    }
    let mut emails: Vec<String> = Vec::new();
    for (i, e) in c.emails.iter().enumerate() {
        match normalize_email(e) {
            Some(n) if !emails.iter().any(|x| x.eq_ignore_ascii_case(&n)) => emails.push(n),
            Some(_) => {}
            None => errs.add(format!("candidate.emails[{i}]"), format!("{e:?} is not an email address")),
        }
    }
    let mut phones = Vec::new();
    for (i, p) in c.phones.iter().enumerate() {
        let v = p.value.trim();
        let digits = v.chars().filter(char::is_ascii_digit).count();
        let ok_chars = v.chars().all(|ch| ch.is_ascii_digit() || " +-().".contains(ch) || ch == 'x');
        if !(5..=20).contains(&digits) || !ok_chars {
            errs.add(format!("candidate.phones[{i}].value"), format!("{v:?} is not a phone number"));
        } else {
            phones.push(Phone { kind: clean(&p.kind), value: v.to_string() });
        }
    }
    if c.emails.is_empty() && c.phones.is_empty() {
        errs.add("candidate.emails", "give at least one email address or phone number");
    }
    let mut links = Vec::new();
    for (i, l) in c.links.iter().enumerate() {
        match url::Url::parse(l.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => links.push(l.trim().to_string()),
            _ => errs.add(format!("candidate.links[{i}]"), format!("{l:?} is not an http(s) URL")),
        }
    }
    Contact { name, emails, phones, links }
}

/// Exactly one posting, by id or Lever job URL.
fn posting_id(postings: &[String], errs: &mut Problems) -> String {
    match postings {
        [] => errs.add("postings", "a posting is required (its id or its Lever job URL)"),
        [one] => match posting_id_from_ref(one) {
            Ok(id) => return id,
            Err(e) => errs.add("postings[0]", e.to_string()),
        },
        many => errs.add(
            "postings",
            format!("{} postings given; Lever takes exactly one posting per opportunity: send one submission per posting", many.len()),
        ),
    }
    String::new()
}
