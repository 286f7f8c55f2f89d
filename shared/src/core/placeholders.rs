//! The names note and tag templates may use: one table from each name to where it is allowed
//! and how its value is found. Profile validation reads the names from it and planning reads
//! the values, so a name cannot be accepted at load and then have nothing to render (which
//! would silently drop the whole note).

use super::custom::{CustomFields, CustomValue, format_number};
use super::submission::input::ValidSubmission;
use super::template::Template;

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
    Placeholder { name: "score", in_tags: true, value: |v| v.submission.screening.as_ref().and_then(|s| s.score).map(format_number) },
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

/// The names a template used as `usage` may contain: the table's, and `custom.<name>` for the
/// partner's own fields (in tags only those that are one line).
pub fn names(usage: TemplateUse, custom: &CustomFields) -> Vec<String> {
    let fixed = PLACEHOLDERS.iter().filter(|p| usage == TemplateUse::Note || p.in_tags).map(|p| p.name.to_owned());
    let own = custom.iter().filter(|(_, f)| usage == TemplateUse::Note || f.kind.fits_a_tag()).map(|(n, _)| format!("{CUSTOM}{n}"));
    fixed.chain(own).collect()
}

/// A template checked against [`names`].
pub fn parse(source: &str, usage: TemplateUse, custom: &CustomFields) -> Result<Template, String> {
    let names = names(usage, custom);
    Template::parse(source, &names.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The value of placeholder `name`; `None` for a name not in the table or a value not there.
pub fn value(name: &str, values: &TemplateValues) -> Option<String> {
    if let Some(own) = name.strip_prefix(CUSTOM) {
        return values.submission.custom.get(own).map(CustomValue::render);
    }
    PLACEHOLDERS.iter().find(|p| p.name == name).and_then(|p| (p.value)(values))
}

const CUSTOM: &str = "custom.";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_allow_a_subset_of_what_notes_allow() {
        let (tags, notes) = (names(TemplateUse::Tag, &CustomFields::new()), names(TemplateUse::Note, &CustomFields::new()));
        assert!(tags.iter().all(|t| notes.contains(t)));
        assert!(notes.iter().any(|n| n == "endorsement") && !tags.iter().any(|t| t == "endorsement"));
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(4.5), "4.5");
    }
}
