//! Users (Lever accounts, e.g. the perform_as user) and contacts (the person behind opportunities).

use serde::{Deserialize, Deserializer, Serialize};

use super::Phone;
use crate::lever::wire::{HasId, Millis, null_default};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// `super admin`, `admin`, `team member`, `limited team member`, `interviewer` or a custom role id.
    pub access_role: Option<String>,
    pub photo: Option<String>,
    pub created_at: Option<Millis>,
    /// `None` while the user is active.
    pub deactivated_at: Option<Millis>,
    pub external_directory_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub linked_contact_ids: Vec<String>,
    pub job_title: Option<String>,
    pub manager_id: Option<String>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

impl HasId for User {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Filters of `GET /users` (active users only unless `include_deactivated`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsersQuery {
    /// Must match Lever's canonicalised email exactly.
    pub email: Option<String>,
    pub access_roles: Vec<String>,
    pub include_deactivated: bool,
}

impl UsersQuery {
    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(e) = &self.email {
            q.push(("email", e.clone()));
        }
        q.extend(self.access_roles.iter().map(|r| ("accessRole", r.clone())));
        if self.include_deactivated {
            q.push(("includeDeactivated", "true".into()));
        }
        q
    }
}

/// A contact (the person). `location` is `{name}` here, a string on opportunities: both read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    pub headline: Option<String>,
    #[serde(default, deserialize_with = "location_any_shape")]
    pub location: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub emails: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub phones: Vec<Phone>,
    #[serde(default, deserialize_with = "null_default")]
    pub is_anonymized: bool,
    pub data_protection: Option<serde_json::Value>,
}

impl HasId for Contact {
    fn id(&self) -> &str {
        &self.id
    }
}

fn location_any_shape<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loc {
        Name(String),
        Obj { name: Option<String> },
    }
    Ok(match Option::<Loc>::deserialize(d)? {
        None => None,
        Some(Loc::Name(s)) => Some(s),
        Some(Loc::Obj { name }) => name,
    })
}
