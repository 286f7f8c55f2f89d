//! Secrets for local runs: from the environment (`HUB_SECRET_<NAME>`, the name upper-cased with
//! every other character turned into `_`, e.g. `HUB_SECRET_HUB_TOKEN_KEY`), else from a JSON
//! file of `{name: value}` that a first local run fills with fresh random keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use rand::RngCore as _;

use super::{SecretString, Secrets, SecretsError, names};

pub struct LocalSecrets {
    values: BTreeMap<String, SecretString>,
    file: Option<PathBuf>,
}

impl LocalSecrets {
    /// Only what is given; for tests.
    pub fn from_values<I, K, V>(values: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let values = values.into_iter().map(|(k, v)| (k.into(), SecretString::new(v))).collect();
        Self { values, file: None }
    }

    /// Reads `path`, creating it (mode 0600) with fresh keys for whatever the hub generates itself.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Self, SecretsError> {
        let path = path.as_ref();
        let unavailable = |e: std::io::Error| SecretsError::Unavailable(format!("{}: {e}", path.display()));
        let mut stored: BTreeMap<String, String> = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| SecretsError::Invalid { name: path.display().to_string(), why: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(unavailable(e)),
        };
        let mut changed = false;
        for name in [names::TOKEN_KEY, names::STATE_KEY] {
            if !stored.contains_key(name) {
                stored.insert(name.to_owned(), random_key());
                changed = true;
            }
        }
        if changed {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(unavailable)?;
            }
            write_private(path, &serde_json::to_string_pretty(&stored).expect("map serializes")).map_err(unavailable)?;
        }
        let values = stored.into_iter().map(|(k, v)| (k, SecretString::new(v))).collect();
        Ok(Self { values, file: Some(path.to_owned()) })
    }

    fn env_name(name: &str) -> String {
        let tail: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("HUB_SECRET_{tail}")
    }
}

/// 32 random bytes, base64: the shape of every key the hub generates.
pub fn random_key() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// Writes a file only its owner can read (mode 0600 on Unix): secrets and keys of local runs.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[async_trait]
impl Secrets for LocalSecrets {
    async fn get(&self, name: &str) -> Result<SecretString, SecretsError> {
        if let Ok(value) = std::env::var(Self::env_name(name)) {
            return Ok(SecretString::new(value));
        }
        self.values.get(name).cloned().ok_or_else(|| {
            let hint = self.file.as_ref().map(|f| format!(" (set {} or add it to {})", Self::env_name(name), f.display()));
            SecretsError::NotFound(format!("{name}{}", hint.unwrap_or_default()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_shell_safe() {
        assert_eq!(LocalSecrets::env_name("hub/token-key"), "HUB_SECRET_HUB_TOKEN_KEY");
    }

    #[tokio::test]
    async fn first_run_creates_keys_and_second_run_reads_the_same() {
        let dir = std::env::temp_dir().join(format!("hub-secrets-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secrets.json");
        let first = LocalSecrets::open_or_create(&path).unwrap().get(names::TOKEN_KEY).await.unwrap();
        let second = LocalSecrets::open_or_create(&path).unwrap().get(names::TOKEN_KEY).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(first.expose()).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let missing = LocalSecrets::open_or_create(&path).unwrap().get("hub/nope").await.unwrap_err();
        assert!(matches!(missing, SecretsError::NotFound(_)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
