//! The OpenAPI contract as a test oracle (feature `contract`): is a response one that
//! `docs/openapi.yaml` documents for its request — a documented status, a documented media
//! type, a body valid against the documented JSON Schema (OpenAPI 3.1 schemas are JSON Schema
//! 2020-12, checked with the `jsonschema` crate, formats included)?
//!
//! Every test that talks to the API may pass its responses through [`Contract::check`]; a new
//! route is covered as soon as it is in the document and a test calls it. [`Contract::uncovered`]
//! names documented operations for which no success or no error response was checked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

/// One documented operation: `GET /v1/connections/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method.to_uppercase(), self.path)
    }
}

/// A response as the test received it.
pub struct Observed<'a> {
    pub method: &'a str,
    /// The request path, with or without a query string.
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    /// `WWW-Authenticate`, `Retry-After`: headers the document requires on some responses.
    pub headers: &'a [(&'a str, Option<&'a str>)],
    pub body: &'a [u8],
}

pub struct Contract {
    doc: Value,
    operations: BTreeMap<Operation, Value>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    checked: Mutex<BTreeSet<(Operation, bool)>>,
}

/// The document, parsed once per test process.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(Contract::load)
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    pub fn load() -> Self {
        let doc: Value = serde_json::from_str(crate::api::docs::OPENAPI_JSON).expect("the embedded OpenAPI document is JSON");
        let mut operations = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    operations.insert(Operation { method: method.clone(), path: path.clone() }, op.clone());
                }
            }
        }
        Self { doc, operations, validators: Mutex::default(), checked: Mutex::default() }
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    pub fn operations(&self) -> impl Iterator<Item = (&Operation, &Value)> {
        self.operations.iter()
    }

    /// The documented operation a concrete request matches; literal segments win over `{params}`.
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation> {
        let path = path.split('?').next().unwrap_or("");
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .keys()
            .filter(|op| op.method.eq_ignore_ascii_case(method))
            .filter_map(|op| {
                let template: Vec<&str> = op.path.split('/').collect();
                if template.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, s) in template.iter().zip(&segments) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if s.is_empty() {
                            return None;
                        }
                    } else if t == s {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, op))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, op)| op.clone())
    }

    /// Whether any documented operation has this path (for a 405 on another method).
    fn path_is_documented(&self, path: &str) -> bool {
        ["get", "post", "put", "patch", "delete"].iter().any(|m| self.operation(m, path).is_some())
    }

    fn resolve<'v>(&'v self, mut value: &'v Value) -> &'v Value {
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            match reference.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                Some(target) => value = target,
                None => break,
            }
        }
        value
    }

    /// A validator for the schema at `pointer` in the document: the document itself is the
    /// root schema (its OpenAPI keywords are unknown to JSON Schema and ignored), with a `$ref`
    /// to the pointer, so `#/components/...` references resolve as the document means them.
    fn validator(&self, pointer: &str) -> std::sync::Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let mut root = self.doc.clone();
                // A URI fragment: braces of path templates must be percent-encoded.
                root["$ref"] = json!(format!("#{}", pointer.replace('{', "%7B").replace('}', "%7D")));
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("schema at {pointer} does not compile: {e}"));
                std::sync::Arc::new(validator)
            })
            .clone()
    }

    /// Validates a JSON value against a schema of the document, e.g.
    /// `/components/schemas/Event` (the body of every event a partner receives).
    pub fn validate_schema(&self, pointer: &str, value: &Value) -> Result<(), String> {
        let validator = self.validator(pointer);
        let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }

    /// Whether the response is one the document allows; `Err` says how it is not.
    pub fn check(&self, r: &Observed<'_>) -> Result<(), String> {
        let what = format!("{} {} → {}", r.method.to_uppercase(), r.path, r.status);
        let Some(op) = self.operation(r.method, r.path) else {
            // Not an operation of the document: only a problem document saying so is right.
            let expected = if self.path_is_documented(r.path) { 405 } else { 404 };
            if r.status != expected && !(r.status == 400 && expected == 404) {
                return Err(format!("{what}: an undocumented operation must answer {expected}"));
            }
            return self.check_problem(&what, r);
        };
        let pointer_base = format!("/paths/{}/{}/responses", escape_pointer(&op.path), op.method);
        let responses = &self.operations[&op]["responses"];
        let status = r.status.to_string();
        let Some(declared) = responses.get(&status) else {
            return Err(format!(
                "{what}: status {status} is not documented for {op} (documented: {:?})",
                responses.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
            ));
        };
        self.checked.lock().unwrap_or_else(|p| p.into_inner()).insert((op.clone(), r.status < 400));
        let response = self.resolve(declared);
        // Where the resolved response object lives, for the schema pointer.
        let response_pointer = match declared.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference.trim_start_matches('#').to_owned(),
            None => format!("{pointer_base}/{status}"),
        };
        for (name, header) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
            let required = header.get("required").and_then(Value::as_bool).unwrap_or(false);
            let present = r.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case(name) && v.is_some());
            if required && !present {
                return Err(format!("{what}: the documented header {name} is missing"));
            }
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if r.body.is_empty() || r.status == 302 {
                Ok(())
            } else {
                Err(format!("{what}: documented without a body, answered {} bytes", r.body.len()))
            };
        };
        let media = r.content_type.unwrap_or("").split(';').next().unwrap_or("").trim();
        let Some(media_entry) = content.get(media) else {
            return Err(format!("{what}: content type {media:?} is not documented ({:?})", content.keys().collect::<Vec<_>>()));
        };
        if !media.ends_with("json") {
            return if media_entry.get("schema").is_some_and(|s| s["type"] == "string") {
                std::str::from_utf8(r.body).map(|_| ()).map_err(|_| format!("{what}: a text body that is not UTF-8"))
            } else {
                Ok(())
            };
        }
        let body: Value = serde_json::from_slice(r.body).map_err(|e| format!("{what}: the body is not JSON: {e}"))?;
        let schema_pointer = format!("{response_pointer}/content/{}/schema", escape_pointer(media));
        self.validate_schema(&schema_pointer, &body).map_err(|e| format!("{what}: {e}; body {body}"))
    }

    fn check_problem(&self, what: &str, r: &Observed<'_>) -> Result<(), String> {
        if r.content_type.is_none_or(|c| !c.starts_with("application/problem+json")) {
            return Err(format!("{what}: not a problem document ({:?})", r.content_type));
        }
        let body: Value = serde_json::from_slice(r.body).map_err(|e| format!("{what}: the problem is not JSON: {e}"))?;
        self.validate_schema("/components/schemas/Problem", &body).map_err(|e| format!("{what}: {e}"))?;
        if body["status"] != r.status {
            return Err(format!("{what}: the problem's status {} differs from the response's", body["status"]));
        }
        Ok(())
    }

    /// Documented operations (and whether a success or an error) that no checked response
    /// exercised; `only` narrows it to some paths' operations.
    pub fn uncovered(&self, only: impl Fn(&Operation) -> bool) -> Vec<String> {
        let checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = vec![];
        for op in self.operations.keys().filter(|op| only(op)) {
            for (success, label) in [(true, "success"), (false, "error")] {
                let documented = self.operations[op]["responses"]
                    .as_object()
                    .is_some_and(|r| r.keys().any(|s| s.parse::<u16>().is_ok_and(|s| (s < 400) == success)));
                if documented && !checked.contains(&(op.clone(), success)) {
                    out.push(format!("{op} ({label})"));
                }
            }
        }
        out
    }
}
