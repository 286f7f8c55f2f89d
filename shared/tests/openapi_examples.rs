//! The examples of the document the hub serves (`/openapi.json`, built from docs/openapi.yaml):
//! the reference at `/docs` and generated clients show them as the payloads of the API, so every
//! request body (the webhooks' event bodies included) and every main success answer must carry
//! one, each must be valid against its own schema (a wrong example teaches partners a wrong
//! payload), and none may name a real person.
//!
//! Pure: reads the embedded document only; schemas are checked by `shared::contract`, the same
//! JSON Schema 2020-12 validator that checks the hub's real answers.

use serde_json::Value;
use shared::contract::contract;

/// The statuses whose JSON answer is an operation's main payload.
const MAIN_SUCCESS: [&str; 3] = ["200", "201", "202"];
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Where a request body or a response lives once its `$ref` (if any) is followed.
fn follow(doc: &Value, pointer: String) -> (String, &Value) {
    let mut pointer = pointer;
    let mut value = doc.pointer(&pointer).unwrap_or_else(|| panic!("{pointer} is in the document"));
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference}: only local references")).to_owned();
        value = doc.pointer(&pointer).unwrap_or_else(|| panic!("{reference} resolves"));
    }
    (pointer, value)
}

#[derive(Clone)]
enum Role {
    Request,
    Response(String),
}

/// One media type object of a request body or a response.
struct Media {
    /// `POST /v1/connections request application/json`, for messages.
    name: String,
    /// JSON pointer to the media type object.
    pointer: String,
    media_type: String,
    role: Role,
}

impl Media {
    fn is_json(&self) -> bool {
        self.media_type.ends_with("json")
    }
}

/// Every media type object of every operation's request body and responses, and of every webhook.
fn media() -> Vec<Media> {
    let doc = contract().document();
    let mut out = vec![];
    for (section, label) in [("paths", ""), ("webhooks", "webhook ")] {
        for (key, item) in doc[section].as_object().unwrap_or_else(|| panic!("{section} is an object")) {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let op = format!("/{section}/{}/{method}", escape(key));
                let what = format!("{label}{} {key}", method.to_uppercase());
                let mut parts = vec![];
                if doc.pointer(&format!("{op}/requestBody")).is_some() {
                    parts.push((format!("{op}/requestBody"), Role::Request));
                }
                for status in doc.pointer(&format!("{op}/responses")).and_then(Value::as_object).into_iter().flatten().map(|(s, _)| s) {
                    parts.push((format!("{op}/responses/{status}"), Role::Response(status.clone())));
                }
                for (pointer, role) in parts {
                    let (resolved, body) = follow(doc, pointer);
                    for media_type in body.get("content").and_then(Value::as_object).into_iter().flatten().map(|(m, _)| m) {
                        let role_name = match &role {
                            Role::Request => "request".to_owned(),
                            Role::Response(status) => format!("→ {status}"),
                        };
                        out.push(Media {
                            name: format!("{what} {role_name} {media_type}"),
                            pointer: format!("{resolved}/content/{}", escape(media_type)),
                            media_type: media_type.clone(),
                            role: role.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Each media type object once: a shared response (`components/responses`) is reached from many
/// operations; its examples are checked under the first that uses it.
fn distinct_media() -> Vec<Media> {
    let mut seen = std::collections::BTreeSet::new();
    media().into_iter().filter(|m| seen.insert(m.pointer.clone())).collect()
}

/// The examples of a media type object by name: `example`, and each of `examples` (an Example
/// object or a `$ref` to one under `components/examples`) by its key.
fn examples(m: &Media) -> Vec<(String, Value)> {
    let doc = contract().document();
    let object = doc.pointer(&m.pointer).unwrap_or_else(|| panic!("{} is in the document", m.pointer));
    let mut out = vec![];
    if let Some(example) = object.get("example") {
        out.push(("example".to_owned(), example.clone()));
    }
    for (key, _) in object.get("examples").and_then(Value::as_object).into_iter().flatten() {
        let (at, example) = follow(doc, format!("{}/examples/{}", m.pointer, escape(key)));
        let value = example.get("value").unwrap_or_else(|| panic!("{}: example {key} ({at}) has no `value`", m.name));
        out.push((key.clone(), value.clone()));
    }
    out
}

#[test]
fn every_request_body_has_an_example() {
    let bodies: Vec<Media> = media().into_iter().filter(|m| matches!(m.role, Role::Request)).collect();
    // The walk must reach both the operations and the webhooks' event bodies.
    assert!(bodies.iter().any(|m| m.pointer.starts_with("/paths/")), "no request body of an operation found");
    assert!(bodies.iter().any(|m| m.pointer.starts_with("/webhooks/")), "no webhook event body found");
    let missing: Vec<&str> = bodies.iter().filter(|m| examples(m).is_empty()).map(|m| m.name.as_str()).collect();
    assert!(missing.is_empty(), "request bodies without an example:\n{}", missing.join("\n"));
}

#[test]
fn every_main_success_json_response_has_an_example() {
    let answers: Vec<Media> =
        media().into_iter().filter(|m| m.is_json() && matches!(&m.role, Role::Response(status) if MAIN_SUCCESS.contains(&status.as_str()))).collect();
    assert!(!answers.is_empty(), "no 200/201/202 JSON answer found");
    let missing: Vec<&str> = answers.iter().filter(|m| examples(m).is_empty()).map(|m| m.name.as_str()).collect();
    assert!(missing.is_empty(), "200/201/202 JSON answers without an example:\n{}", missing.join("\n"));
}

#[test]
fn every_example_is_valid_against_its_schema() {
    let contract = contract();
    let mut checked = 0;
    let mut wrong = vec![];
    for m in distinct_media() {
        let schema = format!("{}/schema", m.pointer);
        if contract.document().pointer(&schema).is_none() {
            continue;
        }
        for (key, value) in examples(&m) {
            checked += 1;
            if let Err(e) = contract.validate_schema(&schema, &value) {
                wrong.push(format!("{} example {key}: {e}", m.name));
            }
        }
    }
    assert!(checked > 0, "no example was checked");
    assert!(wrong.is_empty(), "examples that do not match their schema:\n{}", wrong.join("\n"));
}

/// Every string of a JSON value, keys included.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

/// Whether a domain is reserved for examples (RFC 2606) or below one.
fn reserved_for_examples(domain: &str) -> bool {
    let domain = domain.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_ascii_lowercase();
    ["example.com", "example.org", "example.net"].iter().any(|d| domain == *d || domain.ends_with(&format!(".{d}"))) || domain.ends_with(".example")
}

#[test]
fn example_email_addresses_are_at_reserved_domains() {
    let mut found = 0;
    let mut real = vec![];
    for m in distinct_media() {
        for (key, value) in examples(&m) {
            let mut texts = vec![];
            strings(&value, &mut texts);
            for word in texts.iter().flat_map(|t| t.split(|c: char| c.is_whitespace() || c == ',' || c == '<' || c == '>')) {
                let Some((local, domain)) = word.split_once('@') else { continue };
                if local.is_empty() || !domain.contains('.') {
                    continue;
                }
                found += 1;
                if !reserved_for_examples(domain) {
                    real.push(format!("{} example {key}: {word}", m.name));
                }
            }
        }
    }
    // The examples do show people (referrals, hires): the check must have had addresses to read.
    assert!(found > 0, "no email address in any example");
    assert!(real.is_empty(), "example addresses outside the reserved example domains:\n{}", real.join("\n"));
}

#[test]
fn the_reserved_domain_check_refuses_real_domains() {
    assert!(reserved_for_examples("example.com"));
    assert!(reserved_for_examples("app.hireup.example.com"));
    assert!(reserved_for_examples("partner.example"));
    assert!(!reserved_for_examples("gmail.com"));
    assert!(!reserved_for_examples("example.com.evil.io"));
    assert!(!reserved_for_examples("notexample.com"));
}
