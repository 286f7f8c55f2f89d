//! Helpers shared by the sandbox's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use lever_sandbox::client::{self, ClientResponse};
use lever_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const TIMEOUT: Duration = Duration::from_secs(20);

pub async fn start(config: SandboxConfig) -> (Sandbox, Api) {
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let api = Api { base: sb.base_url(), token: sb.admin().access_token() };
    (sb, api)
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> ClientResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        client::send(method, &format!("{}{}", self.base, path), &headers, bytes, TIMEOUT).await.expect("request sent")
    }
    /// A request with any `Authorization` header (or none).
    pub async fn call_as(&self, auth: Option<&str>, method: &str, path: &str, body: Option<&Value>) -> ClientResponse {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        let mut headers = vec![];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        client::send(method, &format!("{}{}", self.base, path), &headers, bytes, TIMEOUT).await.expect("request sent")
    }
    pub async fn get(&self, path: &str) -> ClientResponse {
        self.call("GET", path, None).await
    }
    pub async fn raw(&self, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> ClientResponse {
        let auth = format!("Bearer {}", self.token);
        let headers = vec![("authorization", auth.as_str()), ("content-type", content_type)];
        client::send(method, &format!("{}{}", self.base, path), &headers, body, TIMEOUT).await.expect("request sent")
    }
}

pub async fn post_form(url: &str, pairs: &[(&str, &str)]) -> ClientResponse {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    client::send("POST", url, &[("content-type", "application/x-www-form-urlencoded")], body.into_bytes(), TIMEOUT).await.expect("request sent")
}

pub enum Part<'a> {
    Text(&'a str, &'a str),
    File { name: &'a str, filename: &'a str, content_type: &'a str, bytes: &'a [u8] },
}

/// Builds a multipart/form-data body; returns (content type, body).
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "----sandbox-test-boundary-7d3f";
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            Part::File { name, filename, content_type, bytes } => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                        .as_bytes(),
                );
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// `Authorization: Basic base64(key:)`, as `curl -u KEY:` and Python's `auth=(key, "")` send it.
pub fn basic(key: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

/// A free loopback port (bound, then released) for tests that need a fixed address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh temporary directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lever-sandbox-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The `id`s of a list page's `data`.
pub fn ids(v: &Value) -> Vec<String> {
    v["data"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
}
