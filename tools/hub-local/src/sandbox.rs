//! The in-process Lever sandbox hub-local starts, and the OAuth app the hub uses with it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use shared::secrets::local::write_private;
use shared::secrets::names;

use crate::AnyError;

/// Where and how the sandbox runs.
pub struct SandboxOptions {
    pub addr: String,
    /// Lever's consent page with Accept / Deny (else every consent is approved at once).
    pub consent_page: bool,
    /// The sandbox plays the Super Admin who switched Lever's webhook groups on.
    pub webhooks_on: bool,
}

/// Its account, grants, tokens and webhooks are kept in the data directory and it listens on a
/// fixed address, so the hub's connections keep working across a restart of `hub-local`.
pub async fn start(options: &SandboxOptions, data_dir: &Path) -> Result<lever_sandbox::Sandbox, AnyError> {
    let config = lever_sandbox::SandboxConfig {
        addr: Some(options.addr.clone()),
        state_file: Some(data_dir.join("lever-sandbox.json")),
        consent: if options.consent_page { lever_sandbox::ConsentMode::Page } else { lever_sandbox::ConsentMode::Approve },
        webhooks_enabled_by_default: options.webhooks_on,
        ..lever_sandbox::SandboxConfig::default()
    };
    lever_sandbox::Sandbox::start(config).await.map_err(|e| -> AnyError {
        let text = e.to_string();
        if text.to_ascii_lowercase().contains("address") && text.to_ascii_lowercase().contains("in use") {
            format!("address in use: {} (the Lever sandbox), pass --lever-addr", options.addr).into()
        } else {
            format!("the Lever sandbox did not start: {text}").into()
        }
    })
}

/// The in-process sandbox's OAuth app, unless the secrets file names another.
pub fn ensure_lever_app(path: &Path) -> std::io::Result<()> {
    let mut stored: BTreeMap<String, Value> = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    if stored.contains_key(names::LEVER_OAUTH) {
        return Ok(());
    }
    let defaults = lever_sandbox::SandboxConfig::default();
    stored.insert(names::LEVER_OAUTH.into(), json!({"client_id": defaults.client_id, "client_secret": defaults.client_secret}).to_string().into());
    write_private(path, &serde_json::to_string_pretty(&stored)?)
}
