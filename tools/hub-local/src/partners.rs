//! Every bundled profile as a partner of the local hub, each with an API key kept for the next run.

use std::collections::BTreeMap;
use std::path::Path;

use shared::secrets::local::write_private;

use crate::AnyError;

/// Registers every bundled profile (return URLs on this hub's demo page) and issues each one API
/// key, once; a key from an earlier run that still works is kept.
pub async fn register(hub: &shared::hub::Hub, base: &str, keys_file: &Path) -> Result<BTreeMap<String, String>, AnyError> {
    let mut keys: BTreeMap<String, String> = std::fs::read_to_string(keys_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    for profile in hub.catalog.ids().map(str::to_owned).collect::<Vec<_>>() {
        hub.partners.register(&profile, vec![format!("{base}/demo")]).await?;
        let still_valid = match keys.get(&profile) {
            Some(key) => hub.partners.authenticate(key).await?.as_deref() == Some(profile.as_str()),
            None => false,
        };
        if !still_valid {
            let issued = hub.partners.issue_key(&profile, Some("hub-local".into())).await?;
            keys.insert(profile, issued.secret.expose().to_owned());
        }
    }
    write_private(keys_file, &serde_json::to_string_pretty(&keys)?)?;
    Ok(keys)
}
