//! Offers (read-only in Lever). The hires import reads the start date from here.

use serde::{Deserialize, Serialize};

use super::User;
use crate::lever::wire::{Expandable, Millis, null_default};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub id: String,
    pub created_at: Option<Millis>,
    /// `draft`, `approval-sent`, `approved`, `sent`, `sent-manually`, `opened`, `denied`, `signed`.
    pub status: Option<String>,
    pub creator: Option<Expandable<User>>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<OfferField>,
    pub sent_document: Option<OfferDocument>,
    pub signed_document: Option<OfferDocument>,
    pub approved_at: Option<Millis>,
    pub sent_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferField {
    pub text: Option<String>,
    pub identifier: Option<String>,
    pub value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferDocument {
    pub file_name: Option<String>,
    pub uploaded_at: Option<Millis>,
    pub download_url: Option<String>,
}

impl Offer {
    pub fn field(&self, identifier: &str) -> Option<&serde_json::Value> {
        self.fields.iter().find(|f| f.identifier.as_deref() == Some(identifier)).and_then(|f| f.value.as_ref())
    }

    /// `anticipated_start_date` (ms, number or numeric string).
    pub fn anticipated_start_date(&self) -> Option<Millis> {
        self.field("anticipated_start_date").and_then(|v| serde_json::from_value::<Millis>(v.clone()).ok())
    }
}
