//! Response and request helpers shared by the Data API handlers: Lever's
//! headers, the `{"data": ..}` envelope, and tolerant query/body parsing.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

use crate::error::ApiError;

/// JSON response with the headers recorded from Lever's Data API.
pub fn json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::SERVER, HeaderValue::from_static("lever-data-api"));
    h.insert("x-lever-region", HeaderValue::from_static("global"));
    r
}

pub fn data(status: StatusCode, v: Value) -> Response {
    json(status, &serde_json::json!({ "data": v }))
}

pub fn ok(v: Value) -> Response {
    data(StatusCode::OK, v)
}

pub fn created(v: Value) -> Response {
    data(StatusCode::CREATED, v)
}

pub fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r.headers_mut().insert(header::SERVER, HeaderValue::from_static("lever-data-api"));
    r
}

/// Query string as ordered pairs, so repeated filters (`tag=a&tag=b`, `tag[]=a`) survive.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(raw.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default())
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// All values of `name` and `name[]`, with comma-free semantics (Lever repeats params).
    pub fn all(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[]");
        self.0.iter().filter(|(k, _)| k == name || *k == bracket).map(|(_, v)| v.clone()).collect()
    }
    pub fn ms(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("Invalid value for {name}: expected a timestamp in milliseconds"))),
        }
    }
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        // Clients spell booleans their own way (Python sends `True`).
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!("Invalid value for {name}: {v} (expected true or false)"))),
        }
    }
}

/// Parses a JSON request body; an empty body counts as `{}`.
pub fn json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidContent", format!("Invalid JSON body: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "InvalidContent", "Request body must be a JSON object"));
    }
    Ok(v)
}

/// Optional string field; wrong types are a 400 rather than silently ignored.
pub fn opt_str(body: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
    }
}

pub fn str_list(body: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| ApiError::bad_request(format!("{key} must be an array of strings"))))
            .collect(),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be an array of strings"))),
    }
}
