//! [`Submission::validate`]: a submission checked against the partner's candidates flow, every
//! problem reported with the dotted path of its field.

use super::input::*;
use crate::core::job::posting_id_from_ref;
use crate::core::profile::CandidatesFlow;

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
