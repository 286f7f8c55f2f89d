//! What each function's role may do, from the template, and every AWS call the function makes
//! held against it: the identity policies (inline statements, SAM's policy templates, and the
//! managed policies SAM adds for the function's events) intersected with the permissions
//! boundary, an explicit `Deny` winning. Statements with a `Condition` are not evaluated here
//! (the template's function policies have none); a call they alone would allow is reported.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub conditional: bool,
    /// Which policy it came from (`Statement`, `SQSSendMessagePolicy`, a managed policy).
    pub source: String,
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

/// IAM statements of a resolved policy document's `Statement` list.
pub fn statements(list: &serde_json::Value, source: &str) -> Vec<Statement> {
    let items = match list {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(_) => vec![list.clone()],
        _ => vec![],
    };
    items
        .iter()
        .map(|s| Statement {
            allow: s.get("Effect").and_then(|e| e.as_str()) != Some("Deny"),
            actions: strings(s.get("Action").unwrap_or(&serde_json::Value::Null)),
            resources: strings(s.get("Resource").unwrap_or(&serde_json::Value::Null)),
            conditional: s.get("Condition").is_some(),
            source: source.to_owned(),
        })
        .collect()
}

/// `*` and `?` as IAM reads them.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn applies(statement: &Statement, action: &str, resource: &str) -> bool {
    statement.actions.iter().any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
        && statement.resources.iter().any(|r| glob(r, resource))
}

/// A function's role as the template gives it.
#[derive(Clone, Debug, Serialize)]
pub struct Role {
    pub function: String,
    pub identity: Vec<Statement>,
    pub boundary: Option<Vec<Statement>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Decision {
    Allowed,
    /// No identity statement allows it.
    NotAllowed,
    /// The permissions boundary does not allow it.
    OutsideBoundary,
    ExplicitDeny(String),
}

impl Role {
    pub fn decide(&self, action: &str, resource: &str) -> Decision {
        let all = self.identity.iter().chain(self.boundary.iter().flatten());
        if let Some(deny) = all.clone().find(|s| !s.allow && applies(s, action, resource)) {
            return Decision::ExplicitDeny(deny.source.clone());
        }
        let allowed = |list: &[Statement]| list.iter().any(|s| s.allow && !s.conditional && applies(s, action, resource));
        if !allowed(&self.identity) {
            return Decision::NotAllowed;
        }
        match &self.boundary {
            Some(boundary) if !allowed(boundary) => Decision::OutsideBoundary,
            _ => Decision::Allowed,
        }
    }
}

/// One call a function made, and what its deployed role would have answered.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub function: String,
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub count: u64,
}

impl Call {
    /// The sentence a developer reads: which function, which call, and the statement to add.
    pub fn explain(&self) -> String {
        let statement = format!("{{Effect: Allow, Action: {}, Resource: {}}}", self.action, self.resource);
        match &self.decision {
            Decision::Allowed => format!("{} may call {} on {}", self.function, self.action, self.resource),
            Decision::NotAllowed => format!(
                "{} called {} on {}, which its deployed role would deny: no statement of its Policies allows it; add {statement}",
                self.function, self.action, self.resource
            ),
            Decision::OutsideBoundary => format!(
                "{} called {} on {}, which its deployed role would deny: the permissions boundary lacks {statement}",
                self.function, self.action, self.resource
            ),
            Decision::ExplicitDeny(source) => {
                format!("{} called {} on {}, which an explicit Deny in {source} refuses", self.function, self.action, self.resource)
            }
        }
    }
}

/// Every distinct (function, action, resource) seen, with its decision.
#[derive(Default)]
pub struct CallLog {
    calls: Mutex<BTreeMap<(String, String, String), Call>>,
}

impl CallLog {
    pub fn record(&self, role: &Role, action: &str, resource: &str) -> Decision {
        let decision = role.decide(action, resource);
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let entry = calls.entry((role.function.clone(), action.to_owned(), resource.to_owned())).or_insert_with(|| Call {
            function: role.function.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            decision: decision.clone(),
            count: 0,
        });
        entry.count += 1;
        if decision != Decision::Allowed && entry.count == 1 {
            eprintln!("hub-stack: IAM: {}", entry.explain());
        }
        decision
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(identity: serde_json::Value, boundary: Option<serde_json::Value>) -> Role {
        Role { function: "f".into(), identity: statements(&identity, "Statement"), boundary: boundary.map(|b| statements(&b, "Boundary")) }
    }

    #[test]
    fn identity_and_boundary_must_both_allow_and_a_deny_wins() {
        let table = "arn:aws:dynamodb:us-east-1:123456789012:table/t";
        let r = role(
            serde_json::json!([{"Effect": "Allow", "Action": ["dynamodb:GetItem", "sqs:SendMessage*"], "Resource": [table, "arn:aws:sqs:*:*:q"]}]),
            Some(serde_json::json!([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": table}])),
        );
        assert_eq!(r.decide("dynamodb:GetItem", table), Decision::Allowed);
        assert_eq!(r.decide("dynamodb:PutItem", table), Decision::NotAllowed);
        assert_eq!(r.decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"), Decision::OutsideBoundary);
        assert_eq!(r.decide("dynamodb:GetItem", &format!("{table}/index/due")), Decision::NotAllowed);
        let denied = role(
            serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]),
            None,
        );
        assert!(matches!(denied.decide("s3:GetObject", "arn:aws:s3:::b/k"), Decision::ExplicitDeny(_)));
        assert!(glob("arn:aws:s3:::b/uploads/*", "arn:aws:s3:::b/uploads/c/1"));
        assert!(!glob("arn:aws:s3:::b/uploads/*", "arn:aws:s3:::b/submissions/1"));
    }
}
