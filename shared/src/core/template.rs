//! Text templates in profiles: `"UW Screened: {result}"`, `"Endorsement from {referrer.name}: {endorsement}"`.
//!
//! Syntax: `{name}` inserts a value; `{name?}` inserts it or nothing; `{{` and `}}` are literal
//! braces. Each place a template is used allows a fixed set of names, and a profile naming any
//! other is refused at load. A template renders only when every value it names without `?` is
//! present and non-empty; otherwise it yields nothing (so a screening tag is not written for a
//! referral, and no half-filled note is left behind).

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
    Optional(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `source`, refusing syntax errors and any placeholder not in `allowed`.
    pub fn parse(source: &str, allowed: &[&str]) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if matches!(chars.peek(), Some((_, '{'))) => {
                    chars.next();
                    text.push('{');
                }
                '}' if matches!(chars.peek(), Some((_, '}'))) => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(format!("unclosed '{{' at byte {i} in template {source:?}"));
                    }
                    let name = name.trim().to_string();
                    let (name, optional) = match name.strip_suffix('?') {
                        Some(n) => (n.trim().to_string(), true),
                        None => (name, false),
                    };
                    if !allowed.contains(&name.as_str()) {
                        return Err(format!(
                            "unknown placeholder {{{name}}} in template {source:?}; allowed here: {}",
                            allowed.iter().map(|a| format!("{{{a}}}")).collect::<Vec<_>>().join(", ")
                        ));
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(if optional { Part::Optional(name) } else { Part::Var(name) });
                }
                '}' => {
                    return Err(format!("stray '}}' at byte {i} in template {source:?} (write '}}}}' for a brace)"));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { source: source.to_string(), parts })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholder names used, in order of appearance.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) | Part::Optional(v) => Some(v.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Renders with `value`; `None` when any named value is missing or blank, or the result is blank.
    pub fn render(&self, value: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    let s = value(v)?;
                    if s.trim().is_empty() {
                        return None;
                    }
                    out.push_str(&s);
                }
                Part::Optional(v) => {
                    if let Some(s) = value(v) {
                        out.push_str(s.trim());
                    }
                }
            }
        }
        let out = out.trim().to_string();
        if out.is_empty() { None } else { Some(out) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "result" => Some("PASSED".into()),
            "score" => Some("87".into()),
            "blank" => Some("  ".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_placeholders_and_escapes() {
        let t = Template::parse("UW Screened: {result} ({score}) {{x}}", &["result", "score"]).unwrap();
        assert_eq!(t.render(&vars).as_deref(), Some("UW Screened: PASSED (87) {x}"));
        assert_eq!(t.placeholders().collect::<Vec<_>>(), vec!["result", "score"]);
    }

    #[test]
    fn plain_text_renders_as_is() {
        let t = Template::parse("Acme", &[]).unwrap();
        assert_eq!(t.render(&vars).as_deref(), Some("Acme"));
    }

    #[test]
    fn missing_or_blank_value_skips_the_template() {
        let t = Template::parse("x {missing}", &["missing"]).unwrap();
        assert_eq!(t.render(&vars), None);
        let t = Template::parse("x {blank}", &["blank"]).unwrap();
        assert_eq!(t.render(&vars), None);
    }

    #[test]
    fn optional_placeholders_render_empty() {
        let t = Template::parse("Screened: {result}. {missing?}", &["result", "missing"]).unwrap();
        assert_eq!(t.render(&vars).as_deref(), Some("Screened: PASSED."));
        let t = Template::parse("{missing?}", &["missing"]).unwrap();
        assert_eq!(t.render(&vars), None, "blank result is no text");
        assert!(Template::parse("{nope?}", &["missing"]).unwrap_err().contains("unknown placeholder {nope}"));
    }

    #[test]
    fn unknown_placeholder_is_refused_with_the_allowed_list() {
        let e = Template::parse("UW {reslt}", &["result", "score"]).unwrap_err();
        assert!(e.contains("unknown placeholder {reslt}"), "{e}");
        assert!(e.contains("{result}, {score}"), "{e}");
    }

    #[test]
    fn syntax_errors() {
        assert!(Template::parse("a {result", &["result"]).unwrap_err().contains("unclosed"));
        assert!(Template::parse("a } b", &[]).unwrap_err().contains("stray"));
    }
}
