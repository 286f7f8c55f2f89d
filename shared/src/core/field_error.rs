//! One problem with one field of a request: its dotted path (`candidate.emails[0]`,
//! `custom.answers`) and what is wrong. The core's checks make them, the flows carry them in
//! their errors and the API puts them, as they are, in a problem document's `errors`.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}
