//! A partner's candidate submission, its validation, and the pure rule that turns it into a
//! [`CandidatePlan`]: what to write to Lever, decided by the profile and the connection's settings.
//! The plan holds no HTTP; the Lever adapter translates it into requests.
//!
//! [`input`] is what arrives, [`validation`] checks it against the profile, [`plan`] decides the
//! writes. Their items are re-exported here, so callers name `core::submission::X`.

pub mod file_checks;
pub mod input;
pub mod plan;
pub mod validation;

pub use file_checks::{FileKind, MAX_FILES_PER_SUBMISSION, MAX_SUBMISSION_BYTES};
pub use input::*;
pub use plan::*;

#[cfg(test)]
mod tests;
