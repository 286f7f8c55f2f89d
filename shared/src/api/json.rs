//! JSON in and out of the partner API: bodies parsed by hand so that a malformed body is a
//! problem document naming what is wrong, not axum's plain-text rejection.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::problem::{FieldError, Problem, ProblemType};

/// A JSON object body as `T`. A body that is not JSON, or not an object, is a 400
/// `bad-request` naming the line and column; a readable object with a wrong field is a 422
/// `invalid-request` naming the field.
pub fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(ProblemType::BadRequest, "the request needs a JSON object body"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Problem::new(ProblemType::BadRequest, format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Problem::new(ProblemType::BadRequest, format!("the body must be a JSON object, not {}", kind_of(&value))));
    }
    serde_path_to_error::deserialize(integral_numbers(value)).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        Problem::new(ProblemType::InvalidRequest, format!("{field}: {message}")).with_errors(vec![FieldError { field, message }])
    })
}

/// JSON Schema's `integer` is any number without a fractional part, so `530.0` is a valid
/// `expires_in`; serde's integer types refuse it. Such numbers become integers before the body
/// is read (a float field still takes them).
fn integral_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            let integral = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
            // Within ±9e15 an f64 holds the integer exactly, so the cast loses nothing.
            integral.map_or(Value::Number(n), |f| Value::from(f as i64))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(integral_numbers).collect()),
        Value::Object(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, integral_numbers(v))).collect()),
        other => other,
    }
}

/// How a JSON value's type is named in messages.
pub fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Epoch ms as RFC 3339, the API's one time format.
pub use crate::core::timestamp::rfc3339 as time;

pub fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(time)
}

/// An answer that carries a secret shown once (a new API key, a webhook's signing secret): no
/// cache or proxy may keep it.
pub(crate) fn shown_once(status: axum::http::StatusCode, body: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response.headers_mut().insert(axum::http::header::PRAGMA, axum::http::HeaderValue::from_static("no-cache"));
    response
}
