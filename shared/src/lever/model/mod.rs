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
