//! The template held against the running stack:
//! - **environment**: every variable a function's process read (`shared::hub::env` reports each
//!   one) is set for it by the template, and every variable the template sets is read;
//! - **IAM**: every AWS call a function made is one its deployed role allows (`iam.rs`);
//! - **routes**: every operation of `docs/openapi.yaml` reaches, through the template's routes,
//!   a function that serves it, and every route of the template reaches a function that serves
//!   it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;

use crate::gateway::Incoming;
use crate::iam::Decision;
use crate::stack::Stack;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Checks {
    /// Functions whose process did not finish its init.
    pub init: Vec<String>,
    pub environment: Vec<String>,
    pub iam: Vec<String>,
    pub routes: Vec<String>,
    /// Functions whose process has not started yet: their environment is not checked.
    pub not_started: Vec<String>,
    pub routes_checked: usize,
}

impl Checks {
    /// Every violation, one line each.
    pub fn violations(&self) -> Vec<String> {
        self.init.iter().chain(&self.environment).chain(&self.iam).chain(&self.routes).cloned().collect()
    }

    pub fn passed(&self) -> bool {
        self.init.is_empty() && self.environment.is_empty() && self.iam.is_empty() && self.routes.is_empty()
    }
}

/// Read by `shared::telemetry`, not through `shared::hub::env`.
const READ_ELSEWHERE: &[&str] = &["RUST_LOG"];

pub fn environment(stack: &Stack) -> (Vec<String>, Vec<String>) {
    let mut violations = vec![];
    let mut not_started = vec![];
    for (function, set) in &stack.template_env {
        let Ok(text) = std::fs::read_to_string(stack.logs.join(format!("{function}.env-reads"))) else {
            not_started.push(function.clone());
            continue;
        };
        let read: BTreeSet<&str> = text.lines().collect();
        for name in &read {
            let local = shared::hub::LOCAL_ONLY_VARS.contains(name) || *name == shared::hub::READS_REPORT_VAR;
            if !local && !set.contains_key(*name) {
                violations.push(format!("{function} reads {name}, which the template does not set for it"));
            }
        }
        for name in set.keys() {
            if !read.contains(name.as_str()) && !READ_ELSEWHERE.contains(&name.as_str()) {
                violations.push(format!("the template sets {name} for {function}, which never reads it"));
            }
        }
    }
    (violations, not_started)
}

pub fn iam(stack: &Stack) -> Vec<String> {
    stack.calls.calls().into_iter().filter(|c| c.decision != Decision::Allowed).map(|c| c.explain()).collect()
}

/// The operations of the OpenAPI document: (method, path template).
pub fn operations(openapi: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let doc: serde_json::Value = serde_norway::from_str(&std::fs::read_to_string(openapi)?)?;
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    Ok(out)
}

fn fill(path: &str) -> String {
    path.split('/')
        .map(|s| match s {
            s if s.ends_with("+}") => "connections",
            s if s.starts_with('{') => "stack-check",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Why an answer says the request was not served: API Gateway had no route, or the function it
/// reached has no such route or method.
fn not_served(status: u16, body: &[u8]) -> Option<&'static str> {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let detail = json.get("detail").and_then(|d| d.as_str()).unwrap_or_default();
    match status {
        404 if json.get("message").and_then(|m| m.as_str()) == Some("Not Found") => Some("no route of the template takes it"),
        404 if detail.starts_with("no such route") || detail == "Not Found" => Some("the function it reaches has no such route"),
        405 => Some("the function it reaches does not take this method there"),
        _ => None,
    }
}

pub async fn routes(stack: &Stack, openapi: &Path) -> anyhow::Result<(Vec<String>, usize)> {
    let gateway = &stack.gateway;
    let operations = operations(openapi)?;
    let mut requests: BTreeMap<(String, String), String> = BTreeMap::new();
    for (method, path) in &operations {
        requests.insert((method.clone(), fill(path)), format!("{method} {path} (docs/openapi.yaml)"));
    }
    for route in gateway.routes.iter().filter(|r| r.path != "$default") {
        let methods: Vec<String> = if route.method == "ANY" {
            let listed: Vec<String> = operations.iter().filter(|(_, p)| *p == route.path).map(|(m, _)| m.clone()).collect();
            if listed.is_empty() { vec!["GET".into()] } else { listed }
        } else {
            vec![route.method.clone()]
        };
        for method in methods {
            requests.entry((method.clone(), fill(&route.path))).or_insert_with(|| format!("{} of the template ({method})", route.key()));
        }
    }
    let mut violations = vec![];
    for ((method, path), what) in &requests {
        let uri: Uri = path.parse()?;
        let method: Method = method.parse()?;
        let function = crate::gateway::route(&gateway.routes, method.as_str(), path).map(|(r, _)| r.function.clone());
        let request = Incoming { method, uri, headers: HeaderMap::new(), body: Bytes::new(), peer: "127.0.0.1".into() };
        let response = gateway.handle(request).await;
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
        if let Some(why) = not_served(status, &body) {
            let reached = function.map(|f| format!(" (it reaches {f})")).unwrap_or_default();
            violations.push(format!("{what}: {why}{reached}"));
        }
    }
    Ok((violations, requests.len()))
}

pub async fn run(stack: &Stack, openapi: &Path) -> anyhow::Result<Checks> {
    let (routes, routes_checked) = routes(stack, openapi).await?;
    let (environment, not_started) = environment(stack);
    Ok(Checks { init: stack.init_failures.clone(), environment, iam: iam(stack), routes, not_started, routes_checked })
}
