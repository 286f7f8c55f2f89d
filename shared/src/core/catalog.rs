//! The profile catalog: every partner profile, loaded and validated once at start.
//!
//! [`ProfileCatalog::bundled`] reads the profiles compiled into the binary (every file in the
//! repository's `profiles/` folder, found by `build.rs`); `ProfileCatalog::from_dir` (in
//! `crate::profile_dir`, outside the pure core because it reads files) reads a folder given at
//! start. Any problem fails the load with the file, the field's dotted path,
//! the line when known, and the reason.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::profile::Profile;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_profiles.rs"));
}

/// One problem in one profile file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    /// Dotted path of the field, e.g. `flows.jobs.cadence`; `(file)` for file-level problems.
    pub field: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.file, l, self.field, self.reason),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.reason),
        }
    }
}

/// Every problem found while loading a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    pub errors: Vec<ProfileError>,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid partner profiles ({} problem{}):", self.errors.len(), if self.errors.len() == 1 { "" } else { "s" })?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProfileCatalog {
    profiles: BTreeMap<String, Arc<Profile>>,
}

impl ProfileCatalog {
    /// The profiles compiled into this binary.
    pub fn bundled() -> Result<Self, CatalogError> {
        Self::from_sources(bundled::BUNDLED.iter().map(|(n, t)| (n.to_string(), t.to_string())))
    }

    /// Names of the bundled profile files.
    pub fn bundled_files() -> Vec<&'static str> {
        bundled::BUNDLED.iter().map(|(n, _)| *n).collect()
    }

    /// Profiles from (file name, contents) pairs; the name is used in errors and must end in
    /// `<id>.toml`.
    pub fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> Result<Self, CatalogError> {
        let mut errors = Vec::new();
        let mut profiles: BTreeMap<String, Arc<Profile>> = BTreeMap::new();
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in sources {
            match parse_profile(&file, &text) {
                Err(mut e) => errors.append(&mut e),
                Ok(p) => {
                    if let Some(first) = origin.get(&p.id) {
                        errors.push(ProfileError {
                            file: file.clone(),
                            field: "id".into(),
                            line: None,
                            reason: format!("duplicate profile id {:?}, already defined in {first}", p.id),
                        });
                        continue;
                    }
                    origin.insert(p.id.clone(), file.clone());
                    profiles.insert(p.id.clone(), Arc::new(p));
                }
            }
        }
        if errors.is_empty() { Ok(ProfileCatalog { profiles }) } else { Err(CatalogError { errors }) }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Profile>> {
        self.profiles.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Profile>> {
        self.profiles.values()
    }

    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// Parses and validates one profile file.
pub fn parse_profile(file: &str, text: &str) -> Result<Profile, Vec<ProfileError>> {
    let de = toml::Deserializer::new(text);
    let profile: Profile = serde_path_to_error::deserialize(de).map_err(|e| {
        let mut field = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        let reason = inner.message().trim().to_string();
        // serde names unknown and missing fields in the message, at the parent's path: point at the field itself.
        for prefix in ["unknown field `", "missing field `"] {
            if let Some(rest) = reason.strip_prefix(prefix)
                && let Some(name) = rest.split('`').next()
            {
                let already = field == name || field.ends_with(&format!(".{name}"));
                if !already {
                    field = if field == "." || field.is_empty() { name.to_string() } else { format!("{field}.{name}") };
                }
            }
        }
        if field == "." || field.is_empty() {
            field = "(document)".into();
        }
        vec![ProfileError { file: file.to_string(), field, line, reason }]
    })?;
    let mut errors: Vec<ProfileError> =
        profile.validate().into_iter().map(|i| ProfileError { file: file.to_string(), field: i.field, line: None, reason: i.reason }).collect();
    let stem = std::path::Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem != profile.id {
        errors.push(ProfileError {
            file: file.to_string(),
            field: "id".into(),
            line: None,
            reason: format!("id {:?} must match the file name ({stem}.toml)", profile.id),
        });
    }
    if errors.is_empty() { Ok(profile) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "acme"
display_name = "Acme"
kind = "other"
[oauth]
scopes = ["offline_access", "postings:read:admin"]
[flows.jobs]
cadence = "5m"
[flows.jobs.filter]
states = ["published"]
"#;

    fn errs(text: &str) -> Vec<String> {
        parse_profile("acme.toml", text).unwrap_err().iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn good_profile_parses() {
        let p = parse_profile("dir/acme.toml", GOOD).unwrap();
        assert_eq!(p.id, "acme");
        assert_eq!(p.jobs().unwrap().cadence.seconds(), 300);
    }

    #[test]
    fn unknown_top_level_key() {
        let e = errs(&format!("colour = \"red\"\n{GOOD}"));
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("acme.toml:1: colour: unknown field `colour`"), "{e:?}");
    }

    #[test]
    fn missing_nested_field() {
        let e = errs(&GOOD.replace("cadence = \"5m\"\n", ""));
        assert!(e[0].starts_with("acme.toml") && e[0].contains(": flows.jobs.cadence: missing field `cadence`"), "{e:?}");
    }

    #[test]
    fn all_semantic_problems_of_a_file_are_reported() {
        let e = errs(&GOOD.replace("\"offline_access\", ", "").replace("display_name = \"Acme\"", "display_name = \" \""));
        assert_eq!(
            e,
            vec![
                "acme.toml: display_name: must not be empty",
                "acme.toml: oauth.scopes: missing scope \"offline_access\", needed for refresh tokens (access tokens last 1 hour)",
            ]
        );
    }

    #[test]
    fn bundled_profiles_are_embedded() {
        let files = ProfileCatalog::bundled_files();
        assert!(files.iter().all(|f| f.ends_with(".toml")), "{files:?}");
        let c = ProfileCatalog::bundled().unwrap();
        assert_eq!(c.len(), files.len());
        assert!(!c.is_empty());
    }
}
