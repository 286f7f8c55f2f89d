//! The names note and tag templates may use: one table from each name to where it is allowed
//! and how its value is found. Profile validation reads the names from it and planning reads
//! the values, so a name cannot be accepted at load and then have nothing to render (which
//! would silently drop the whole note).

use super::submission::input::ValidSubmission;

/// Where a template is used; notes may say more than tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateUse {
    Tag,
    Note,
}

/// What a placeholder's value is read from while one submission is planned.
pub struct TemplateValues<'a> {
    pub partner_name: &'a str,
    pub submission: &'a ValidSubmission,
    /// The posting's title in Lever, when the caller looked it up.
    pub posting_title: Option<&'a str>,
    /// The referrer's name as Lever has it, when the referrer is a Lever user.
    pub referrer_user_name: Option<&'a str>,
}

struct Placeholder {
    name: &'static str,
    in_tags: bool,
    value: fn(&TemplateValues) -> Option<String>,
}

const PLACEHOLDERS: &[Placeholder] = &[
    Placeholder { name: "partner.name", in_tags: true, value: |v| Some(v.partner_name.to_owned()) },
    Placeholder { name: "submission.kind", in_tags: true, value: |v| Some(v.submission.kind.as_str().to_owned()) },
    Placeholder { name: "result", in_tags: true, value: |v| v.submission.screening.as_ref().map(|s| s.status.clone()) },
    Placeholder { name: "score", in_tags: true, value: |v| v.submission.screening.as_ref().and_then(|s| s.score).map(fmt_score) },
    Placeholder { name: "summary", in_tags: false, value: |v| v.submission.screening.as_ref().and_then(|s| s.summary.clone()) },
    Placeholder { name: "posting.id", in_tags: true, value: |v| Some(v.submission.posting_id.clone()) },
    Placeholder { name: "posting.title", in_tags: true, value: |v| v.posting_title.map(str::to_owned) },
    Placeholder { name: "candidate.name", in_tags: false, value: |v| Some(v.submission.name.clone()) },
    Placeholder { name: "candidate.email", in_tags: false, value: |v| v.submission.emails.first().cloned() },
    Placeholder { name: "referrer", in_tags: false, value: referrer },
    Placeholder { name: "referrer.name", in_tags: false, value: |v| v.submission.referrer.as_ref().and_then(|r| r.name.clone()) },
    Placeholder { name: "referrer.email", in_tags: false, value: |v| v.submission.referrer.as_ref().and_then(|r| r.email.clone()) },
    Placeholder { name: "endorsement", in_tags: false, value: |v| v.submission.endorsement.clone() },
];

/// The names a template used as `usage` may contain.
pub fn names(usage: TemplateUse) -> Vec<&'static str> {
    PLACEHOLDERS.iter().filter(|p| usage == TemplateUse::Note || p.in_tags).map(|p| p.name).collect()
}

/// The value of placeholder `name`; `None` for a name not in the table or a value not there.
pub fn value(name: &str, values: &TemplateValues) -> Option<String> {
    PLACEHOLDERS.iter().find(|p| p.name == name).and_then(|p| (p.value)(values))
}

/// "Name <email>", preferring the name Lever has for a referrer who is a Lever user.
fn referrer(v: &TemplateValues) -> Option<String> {
    let r = v.submission.referrer.as_ref()?;
    match (v.referrer_user_name.map(str::to_owned).or(r.name.clone()), &r.email) {
        (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
        (Some(n), None) => Some(n),
        (None, Some(e)) => Some(e.clone()),
        (None, None) => None,
    }
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

    #[test]
    fn tags_allow_a_subset_of_what_notes_allow() {
        let (tags, notes) = (names(TemplateUse::Tag), names(TemplateUse::Note));
        assert!(tags.iter().all(|t| notes.contains(t)));
        assert!(notes.contains(&"endorsement") && !tags.contains(&"endorsement"));
        assert_eq!(fmt_score(4.0), "4");
        assert_eq!(fmt_score(4.5), "4.5");
    }
}
