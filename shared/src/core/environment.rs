//! Lever's production and sandbox environments.

use serde::{Deserialize, Serialize};

/// Which of Lever's two worlds a connection lives in: each has its own hosts and its own OAuth
/// app, so a partner's developers can connect a Lever sandbox account next to their customers'
/// production accounts on one hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeverEnvironment {
    #[default]
    Production,
    Sandbox,
}

impl LeverEnvironment {
    pub const ALL: [LeverEnvironment; 2] = [LeverEnvironment::Production, LeverEnvironment::Sandbox];

    pub fn as_str(self) -> &'static str {
        match self {
            LeverEnvironment::Production => "production",
            LeverEnvironment::Sandbox => "sandbox",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// How the connect page names it.
    pub fn label(self) -> &'static str {
        match self {
            LeverEnvironment::Production => "Lever Production Account",
            LeverEnvironment::Sandbox => "Lever Sandbox Account",
        }
    }
}
