//! Fields of a partner's own: data none of the other partners send (a screening vendor's
//! questionnaire answers, a job board's "how did you hear about us"). The profile declares them
//! (`[flows.candidates.custom.<name>]`: type, required, limits), a submission carries them in its
//! `custom` object, they are checked against the declaration here, and note and tag templates
//! use them as `{custom.<name>}`. So such a partner is still a profile file and no code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::field_error::FieldError;

/// Longest text of a `string` field, or of one answer, unless the profile says less.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest item of a `strings` list, or question, unless the profile says less.
pub const MAX_ITEM_CHARS: usize = 1_000;
/// Most items of a list, unless the profile says less.
pub const MAX_ITEMS: usize = 100;

/// One declared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    #[serde(rename = "type")]
    pub kind: CustomType,
    #[serde(default)]
    pub required: bool,
    /// Told to partners with the field's declaration.
    #[serde(default)]
    pub description: Option<String>,
    /// Texts: the longest a text (or each item, or each answer) may be.
    #[serde(default)]
    pub max_chars: Option<usize>,
    /// Lists: the most items.
    #[serde(default)]
    pub max_items: Option<usize>,
    /// Numbers: the bounds.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomType {
    String,
    Number,
    Boolean,
    /// A list of strings.
    Strings,
    /// A list of `{question, answer}`.
    Answers,
}

impl CustomType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Strings => "strings",
            Self::Answers => "answers",
        }
    }

    /// One line of text, fit for a tag; lists are for notes.
    pub fn fits_a_tag(self) -> bool {
        matches!(self, Self::String | Self::Number | Self::Boolean)
    }
}

/// One question of a questionnaire and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// A checked value, kept with the submission (untagged: the JSON the partner sent, cleaned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomValue {
    Boolean(bool),
    Number(f64),
    String(String),
    Answers(Vec<Answer>),
    Strings(Vec<String>),
}

impl CustomValue {
    /// The value as a note or tag shows it: lists one item a line, answers as the question
    /// with its answer below, a blank line between them.
    pub fn render(&self) -> String {
        match self {
            Self::Boolean(b) => if *b { "yes" } else { "no" }.to_owned(),
            Self::Number(x) => format_number(*x),
            Self::String(s) => s.clone(),
            Self::Strings(items) => items.join("\n"),
            Self::Answers(answers) => answers.iter().map(|a| format!("{}\n{}", a.question, a.answer)).collect::<Vec<_>>().join("\n\n"),
        }
    }
}

/// `4` for 4.0, `4.5` for 4.5.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// The declared fields, by name.
pub type CustomFields = BTreeMap<String, CustomField>;

/// Checks the `custom` object of a submission against the declaration: every problem with its
/// dotted field, the cleaned values when there are none.
pub fn validate(declared: &CustomFields, sent: &BTreeMap<String, Value>) -> Result<BTreeMap<String, CustomValue>, Vec<FieldError>> {
    let mut errs = Vec::new();
    for name in sent.keys().filter(|n| !declared.contains_key(*n)) {
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
        errs.push(FieldError::new(format!("custom.{name}"), format!("not a field this partner declares (declared: {known})")));
    }
    let mut values = BTreeMap::new();
    for (name, field) in declared {
        let path = format!("custom.{name}");
        match sent.get(name).filter(|v| !v.is_null()) {
            None if field.required => errs.push(FieldError::new(path, "required")),
            None => {}
            Some(v) => {
                let before = errs.len();
                match value(field, v, &path, &mut errs) {
                    Some(v) => {
                        values.insert(name.clone(), v);
                    }
                    // Empty: as good as not sent, unless it was wrong.
                    None if field.required && errs.len() == before => errs.push(FieldError::new(path, "required")),
                    None => {}
                }
            }
        }
    }
    if errs.is_empty() { Ok(values) } else { Err(errs) }
}

/// One sent value as its declared type; `None` for an empty one (or a wrong one, with errors).
fn value(field: &CustomField, v: &Value, path: &str, errs: &mut Vec<FieldError>) -> Option<CustomValue> {
    let mut wrong = |expected: &str| {
        errs.push(FieldError::new(path.to_owned(), format!("must be {expected}, not {}", kind_of(v))));
        None
    };
    match field.kind {
        CustomType::String => {
            let Some(s) = v.as_str() else { return wrong("a string") };
            text(s, field.max_chars.unwrap_or(MAX_TEXT_CHARS), path, errs).map(CustomValue::String)
        }
        CustomType::Number => {
            let Some(x) = v.as_f64() else { return wrong("a number") };
            if field.min.is_some_and(|min| x < min) || field.max.is_some_and(|max| x > max) {
                let bound = |b: Option<f64>| b.map(format_number).unwrap_or_else(|| "any".into());
                errs.push(FieldError::new(path.to_owned(), format!("{} is outside {} to {}", format_number(x), bound(field.min), bound(field.max))));
            }
            Some(CustomValue::Number(x))
        }
        CustomType::Boolean => match v.as_bool() {
            Some(b) => Some(CustomValue::Boolean(b)),
            None => wrong("true or false"),
        },
        CustomType::Strings => {
            let Some(items) = v.as_array() else { return wrong("a list of strings") };
            let max = field.max_chars.unwrap_or(MAX_ITEM_CHARS);
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) => out.extend(text(s, max, &format!("{path}[{i}]"), errs)),
                    None => errs.push(FieldError::new(format!("{path}[{i}]"), format!("must be a string, not {}", kind_of(item)))),
                }
            }
            list(out, field, path, errs).map(CustomValue::Strings)
        }
        CustomType::Answers => {
            let Some(items) = v.as_array() else { return wrong("a list of {question, answer}") };
            let max = field.max_chars.unwrap_or(MAX_TEXT_CHARS);
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                match serde_json::from_value::<Answer>(item.clone()) {
                    Ok(a) => {
                        let question = text(&a.question, MAX_ITEM_CHARS, &format!("{at}.question"), errs);
                        let answer = text(&a.answer, max, &format!("{at}.answer"), errs);
                        if let (Some(question), Some(answer)) = (question, answer) {
                            out.push(Answer { question, answer });
                        } else {
                            errs.push(FieldError::new(at, "needs a question and its answer"));
                        }
                    }
                    Err(e) => errs.push(FieldError::new(at, format!("must be {{question, answer}} (both strings): {e}"))),
                }
            }
            list(out, field, path, errs).map(CustomValue::Answers)
        }
    }
}

/// A trimmed text within `max` characters; `None` when empty.
fn text(s: &str, max: usize, path: &str, errs: &mut Vec<FieldError>) -> Option<String> {
    let s = s.trim();
    if s.chars().count() > max {
        errs.push(FieldError::new(path.to_owned(), format!("longer than {max} characters")));
    }
    (!s.is_empty()).then(|| s.to_owned())
}

fn list<T>(items: Vec<T>, field: &CustomField, path: &str, errs: &mut Vec<FieldError>) -> Option<Vec<T>> {
    let max = field.max_items.unwrap_or(MAX_ITEMS);
    if items.len() > max {
        errs.push(FieldError::new(path.to_owned(), format!("{} items; at most {max}", items.len())));
    }
    (!items.is_empty()).then_some(items)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Problems with a declaration in a profile: (field under the declaration, reason).
pub fn check_declaration(name: &str, field: &CustomField) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut issue = |f: &str, r: String| out.push((f.to_owned(), r));
    let name_ok = (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        issue("", format!("{name:?}: names are 1 to 40 of a-z, 0-9 and _, starting with a letter"));
    }
    let (texts, lists, number) = match field.kind {
        CustomType::String => (true, false, false),
        CustomType::Strings | CustomType::Answers => (true, true, false),
        CustomType::Number => (false, false, true),
        CustomType::Boolean => (false, false, false),
    };
    let kind = field.kind.as_str();
    if let Some(n) = field.max_chars {
        if !texts {
            issue("max_chars", format!("a {kind} field has no text"));
        } else if n == 0 || n > MAX_TEXT_CHARS {
            issue("max_chars", format!("must be between 1 and {MAX_TEXT_CHARS}"));
        }
    }
    if let Some(n) = field.max_items {
        if !lists {
            issue("max_items", format!("a {kind} field is not a list"));
        } else if n == 0 || n > MAX_ITEMS {
            issue("max_items", format!("must be between 1 and {MAX_ITEMS}"));
        }
    }
    if !number && (field.min.is_some() || field.max.is_some()) {
        issue("min", format!("bounds are for numbers, this is a {kind} field"));
    }
    if let (Some(min), Some(max)) = (field.min, field.max)
        && min > max
    {
        issue("min", format!("{min} is above max {max}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> CustomFields {
        let f = |kind, required| CustomField { kind, required, description: None, max_chars: None, max_items: None, min: None, max: None };
        let mut score = f(CustomType::Number, false);
        (score.min, score.max) = (Some(0.0), Some(10.0));
        BTreeMap::from([
            ("heard_from".to_owned(), f(CustomType::String, false)),
            ("score".to_owned(), score),
            ("remote".to_owned(), f(CustomType::Boolean, false)),
            ("skills".to_owned(), f(CustomType::Strings, false)),
            ("answers".to_owned(), f(CustomType::Answers, true)),
        ])
    }

    fn sent(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn values_are_checked_against_their_declaration() {
        let ok = validate(
            &fields(),
            &sent(json!({"heard_from": " a friend ", "score": 7.5, "remote": true, "skills": ["Rust", " SQL "],
                         "answers": [{"question": "Why us?", "answer": "The mission."}]})),
        )
        .unwrap();
        assert_eq!(ok["heard_from"], CustomValue::String("a friend".into()));
        assert_eq!(ok["skills"].render(), "Rust\nSQL");
        assert_eq!(ok["remote"].render(), "yes");
        assert_eq!(ok["score"].render(), "7.5");
        assert_eq!(ok["answers"].render(), "Why us?\nThe mission.");

        let errs =
            validate(&fields(), &sent(json!({"score": 11, "remote": "yes", "skills": [1], "other": 1, "answers": [{"question": "Q"}]}))).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["custom.other", "custom.answers[0]", "custom.remote", "custom.score", "custom.skills[0]"]);
        let missing = validate(&super::tests::fields(), &sent(json!({}))).unwrap_err();
        assert_eq!(missing, [FieldError::new("custom.answers", "required")]);
    }

    #[test]
    fn stored_values_read_back_as_they_were() {
        let values = validate(&fields(), &sent(json!({"score": 3, "skills": ["a"], "answers": [{"question": "Q", "answer": "A"}]}))).unwrap();
        let stored = serde_json::to_value(&values).unwrap();
        assert_eq!(stored, json!({"score": 3.0, "skills": ["a"], "answers": [{"question": "Q", "answer": "A"}]}));
        assert_eq!(serde_json::from_value::<BTreeMap<String, CustomValue>>(stored).unwrap(), values);
    }

    #[test]
    fn declarations_make_sense() {
        let mut f = fields()["score"].clone();
        assert!(check_declaration("score", &f).is_empty());
        f.max_chars = Some(10);
        (f.min, f.max) = (Some(5.0), Some(1.0));
        let found: Vec<String> = check_declaration("Score!", &f).into_iter().map(|(f, _)| f).collect();
        assert_eq!(found, ["", "max_chars", "min"]);
    }
}
