//! Typed Lever objects and request bodies. Reading is tolerant (see `super::wire`): unknown fields
//! are ignored, `null` lists read as empty, timestamps read from numbers or strings, enums keep
//! unknown values as `Other(..)`.

mod meta;
mod offer;
mod opportunity;
mod people;
mod posting;
mod webhook;

pub use meta::*;
pub use offer::*;
pub use opportunity::*;
pub use people::*;
pub use posting::*;
pub use webhook::*;

use serde::{Deserialize, Serialize};

/// `{"data": {...}}`: Lever's wrapper for single objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

/// `{"deduped": bool, "data": {...}}`: the answer to `POST /opportunities`. `deduped` is true when
/// Lever matched an existing contact by email (the opportunity is new, the person is not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created<T> {
    #[serde(default)]
    pub deduped: bool,
    pub data: T,
}

/// An enum over Lever's string values that keeps values it does not know (Lever adds values).
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this client does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire $(| $alias)* => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::from(s.as_ref()))
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lever::wire::Millis;

    /// The docs' shapes the recordings don't contain: flat `archivedAt`/`archiveReason`, string
    /// timestamps, `null` lists, expanded references, unknown fields and enum values.
    #[test]
    fn opportunity_reads_the_documented_shapes_too() {
        let o: Opportunity = serde_json::from_str(
            r#"{
              "id": "o1", "name": "Ada", "contact": {"id": "c1", "name": "Ada", "location": {"name": "Berlin"}, "emails": null},
              "stage": {"id": "offer", "text": "Offer"}, "emails": null, "phones": null, "tags": null,
              "archivedAt": "1407460071043", "archiveReason": "r-hired",
              "createdAt": "1407460071043", "updatedAt": null, "origin": "brand-new-origin",
              "followers": [{"id": "u1", "name": "Una"}, "u2"], "applications": ["a1"],
              "somethingLeverAddedLater": {"x": 1}
            }"#,
        )
        .unwrap();
        assert_eq!(o.archived, Some(Archived { archived_at: Some(Millis(1_407_460_071_043)), reason: Some("r-hired".into()) }));
        assert_eq!(o.stage_id(), Some("offer"));
        assert_eq!(o.contact_id(), Some("c1"));
        assert_eq!(o.contact.as_ref().unwrap().expanded().unwrap().location.as_deref(), Some("Berlin"));
        assert!(o.emails.is_empty() && o.phones.is_empty() && o.tags.is_empty());
        assert_eq!(o.created_at, Some(Millis(1_407_460_071_043)));
        assert_eq!(o.updated_at, None);
        assert_eq!(o.origin, Some(Origin::Other("brand-new-origin".into())));
        assert_eq!(o.followers.iter().map(|f| f.id()).collect::<Vec<_>>(), ["u1", "u2"]);

        // Written back in the wire shape (`archived` object), and read again the same.
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["archived"]["reason"], "r-hired");
        assert!(json.get("archivedAt").is_none());
        let again: Opportunity = serde_json::from_value(json).unwrap();
        assert_eq!(again, o);

        // Both shapes absent or null: not archived.
        let o: Opportunity = serde_json::from_str(r#"{"id": "o2", "archived": null}"#).unwrap();
        assert!(!o.is_archived());
    }

    #[test]
    fn postings_files_and_webhooks_are_tolerant() {
        let p: Posting = serde_json::from_str(
            r#"{"id": "p1", "text": null, "state": "archived-someday", "distributionChannels": null,
                "categories": null, "content": null, "urls": null, "workplaceType": "on-site",
                "createdAt": 1717000000000.0}"#,
        )
        .unwrap();
        assert_eq!(p.state, Some(PostingState::Other("archived-someday".into())));
        assert_eq!(p.workplace_type, Some(WorkplaceType::Onsite));
        assert!(p.distribution_channels.is_empty() && p.categories.all_locations.is_empty());
        assert_eq!(p.created_at, Some(Millis(1_717_000_000_000)));

        let f: Data<LeverFile> =
            serde_json::from_str(r#"{"data": {"id": "f1", "name": "cv.pdf", "uploadedAt": "1407460071043", "size": "20480", "status": null}}"#)
                .unwrap();
        assert_eq!((f.data.size, f.data.uploaded_at), (Some(20_480), Some(Millis(1_407_460_071_043))));

        let w: Webhook = serde_json::from_str(r#"{"id": "w1", "event": "candidateHired", "url": "https://x", "configuration": null}"#).unwrap();
        assert!(w.signature_token().is_none());
    }

    #[test]
    fn offer_start_date_reads_number_or_string() {
        let o: Offer = serde_json::from_str(
            r#"{"id": "of1", "status": "signed", "fields": [
                {"text": "Start", "identifier": "anticipated_start_date", "value": "1767225600000"},
                {"text": "Salary", "identifier": "salary_amount", "value": 100000}]}"#,
        )
        .unwrap();
        assert_eq!(o.anticipated_start_date(), Some(Millis(1_767_225_600_000)));
        assert_eq!(o.field("salary_amount"), Some(&serde_json::json!(100000)));
    }

    #[test]
    fn multipart_fields_use_lever_bracket_syntax() {
        let n = NewOpportunity {
            name: Some("Ada".into()),
            emails: vec!["a@x.io".into(), "b@x.io".into()],
            phones: vec![Phone { kind: Some("mobile".into()), value: "1".into() }],
            postings: vec!["p1".into()],
            origin: Some(Origin::Referred),
            archived: Some(Archived { archived_at: Some(Millis(5)), reason: Some("r".into()) }),
            ..Default::default()
        };
        let f = n.to_form_fields();
        let has = |k: &str, v: &str| f.iter().any(|(a, b)| a == k && b == v);
        assert!(has("name", "Ada") && has("emails[]", "a@x.io") && has("emails[]", "b@x.io"));
        assert!(has("phones[0][type]", "mobile") && has("phones[0][value]", "1"));
        assert!(has("postings[]", "p1") && has("origin", "referred"));
        assert!(has("archived[reason]", "r") && has("archived[archivedAt]", "5"));
        // JSON create: unset fields are not sent at all.
        let json = serde_json::to_value(NewOpportunity { name: Some("Ada".into()), ..Default::default() }).unwrap();
        assert_eq!(json, serde_json::json!({"name": "Ada"}));
    }
}
