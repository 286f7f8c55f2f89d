//! JSON in and out of the partner API: bodies parsed by hand so that a malformed body is a
//! problem document naming what is wrong, not axum's plain-text rejection.

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::problem::{FieldError, Problem, ProblemType};

pub fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Problem> {
    if body.is_empty() {
        return Err(Problem::new(ProblemType::InvalidRequest, "the request needs a JSON body"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        Problem::new(ProblemType::InvalidRequest, format!("{field}: {message}"))
            .with_errors(vec![FieldError { field, message }])
    })
}

/// Epoch ms as RFC 3339, the API's one time format.
pub fn time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(time)
}
