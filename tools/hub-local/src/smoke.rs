//! `--smoke`: the run-locally check — one customer connected end to end, the jobs in its feed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::AnyError;

/// Connects one customer of the first partner as a partner would, following every redirect.
pub async fn run(base: &str, keys: &BTreeMap<String, String>) -> Result<(), AnyError> {
    let key = keys.values().next().ok_or("no partner profile bundled")?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    // Connections from an earlier run on this data directory still reach Lever (the sandbox
    // kept their grants), so a restart does not turn them into `needs_reconnect`.
    let earlier: Value = http.get(format!("{base}/v1/connections?limit=100")).bearer_auth(key).send().await?.json().await?;
    let mut still_working = 0;
    for c in earlier["data"].as_array().into_iter().flatten().filter(|c| c["status"] == "active") {
        let id = c["id"].as_str().unwrap_or_default();
        let users = http.get(format!("{base}/v1/connections/{id}/lever/users")).bearer_auth(key).send().await?;
        if !users.status().is_success() {
            return Err(format!("connection {id} from an earlier run no longer reaches Lever: {}", users.status()).into());
        }
        still_working += 1;
    }
    println!("smoke: {still_working} connection(s) from earlier runs still reach Lever");
    let created: Value = http
        .post(format!("{base}/v1/connections"))
        .bearer_auth(key)
        .json(&json!({"return_url": format!("{base}/demo/done")}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let connect = created["authorize_url"].as_str().ok_or("no authorize_url")?;
    // A browser with cookies: the hub's connect link binds it, the callback checks it.
    shared::testing::ConsentBrowser::new().continue_link(connect, "production", 6).await?;
    let id = created["id"].as_str().unwrap_or_default();
    let status: Value = http.get(format!("{base}/v1/connections/{id}")).bearer_auth(key).send().await?.json().await?;
    println!("smoke: connection {id} is {} ({})", status["status"], status["health"]);
    if status["status"] != "active" {
        return Err(format!("connection not active: {status}").into());
    }
    // No sync is asked for: the dispatcher and the job poller bring the jobs on their own.
    for _ in 0..60 {
        let jobs: Value = http.get(format!("{base}/v1/connections/{id}/jobs")).bearer_auth(key).send().await?.json().await?;
        let n = jobs["data"].as_array().map_or(0, Vec::len);
        if n > 0 {
            println!("smoke: {n} jobs in the feed of connection {id}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("no jobs reached the feed of connection {id} within 30 s").into())
}
