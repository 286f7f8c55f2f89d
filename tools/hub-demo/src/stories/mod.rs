//! The five seed stories, each a script of steps a partner, a customer's recruiter and a
//! candidate take, checked against what Lever holds and what the partner is told.

pub mod erc;
pub mod hireup;
pub mod hrcloud;
pub mod outhire;
pub mod upwage;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Lever, Partner};
use crate::browser;
use crate::receiver::Receiver;
use crate::report::{Failure, Story, check, wait_for};

/// How long a write or an event may take to show (each is usually well under a second).
pub const EVENT_WAIT: Duration = Duration::from_secs(20);

/// What every story shares: the hub, the sandbox, the partners' webhook receiver, and what the
/// demo made (for the clean-up).
pub struct Demo {
    pub hub: String,
    pub lever: Lever,
    pub receiver: Receiver,
    /// Short and unique per run: names and emails carry it, so reruns against one hub do not
    /// meet each other's candidates.
    pub run: String,
    partners: BTreeMap<String, Partner>,
    connections: Mutex<Vec<(Partner, String)>>,
}

impl Demo {
    pub fn new(hub: &str, lever: Lever, receiver: Receiver, run: String, partners: BTreeMap<String, Partner>) -> Demo {
        Demo { hub: hub.to_owned(), lever, receiver, run, partners, connections: Mutex::default() }
    }

    pub fn partner(&self, story: &Story, id: &str) -> Result<Partner, Failure> {
        self.partners.get(id).cloned().ok_or_else(|| Failure {
            story: story.name,
            step: "partner",
            seen: format!("no API key for partner {id} in the hub's local-api-keys.json (profiles/{id}.toml not bundled?)"),
        })
    }

    /// The connections the demo made, to disconnect at the end.
    pub fn made(&self) -> Vec<(Partner, String)> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A unique email for a candidate of this run.
    pub fn email(&self, who: &str) -> String {
        format!("{who}.{}@candidates.example", self.run)
    }

    /// Step "connect": the partner creates a connection; the customer's browser follows its
    /// `authorize_url` through the hub's connect link, Lever's consent page (Accept) and the
    /// callback, back to the partner; the connection is then active.
    pub async fn connect(&self, story: &Story, p: &Partner) -> Result<String, Failure> {
        story
            .step("connect", async {
                let return_url = format!("{}/demo/done", self.hub);
                let created = p.ok(Method::POST, "/v1/connections", Some(&json!({"return_url": return_url}))).await?;
                let id = created["id"].as_str().context("no connection id")?.to_owned();
                self.connections.lock().unwrap_or_else(|e| e.into_inner()).push((p.clone(), id.clone()));
                let authorize = created["authorize_url"].as_str().context("no authorize_url")?;
                check(authorize.starts_with(&format!("{}/connect/", self.hub)), "the hub's connect link as authorize_url", authorize)?;
                let walk = browser::connect(authorize).await?;
                let back: BTreeMap<_, _> = walk.back_at.query_pairs().into_owned().collect();
                check(walk.back_at.as_str().starts_with(&return_url), format!("back at {return_url}"), walk.back_at.as_str())?;
                check(
                    back.get("status").map(String::as_str) == Some("active") && back.get("connection_id") == Some(&id),
                    "status=active for this connection",
                    &back,
                )?;
                let c = p.get(&format!("/v1/connections/{id}")).await?;
                check(c["status"] == "active", "status active", &c["status"])?;
                let consent = match walk.consent_page {
                    Some((app, account)) => format!("Accept on Lever's consent page (\"{app}\" for {account})"),
                    None => "Lever consented at once (its consent page is off)".to_owned(),
                };
                Ok((id.clone(), format!("connection {id} is active after {consent}; the browser is back at the partner's page")))
            })
            .await
    }

    /// Step "settings": when the connection needs a user to attribute writes to
    /// (`missing_settings` has `perform_as`), the customer picks one from the Lever users the
    /// hub lists. Answers the user chosen, if any.
    pub async fn settings(&self, story: &Story, p: &Partner, connection: &str) -> Result<Option<(String, String)>, Failure> {
        story
            .step("settings", async {
                let path = format!("/v1/connections/{connection}");
                let c = p.get(&path).await?;
                let missing: Vec<&str> = c["missing_settings"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                // Named as the settings field (`settings.perform_as`).
                if !missing.iter().any(|m| m.trim_start_matches("settings.") == "perform_as") {
                    check(missing.is_empty(), "no setting missing", &missing)?;
                    return Ok((None, format!("none required (health {}); writes are attributed to the user who consented", c["health"])));
                }
                let users = p.get(&format!("{path}/lever/users")).await?;
                let authorizer = c["lever"]["authorized_by_user_id"].clone();
                let list = users["data"].as_array().context("no users")?;
                // Someone other than the Super Admin who consented, to show the attribution.
                let user = list.iter().find(|u| u["id"] != authorizer).or(list.first()).context("Lever lists no user")?;
                let (user_id, name) = (user["id"].as_str().unwrap_or_default().to_owned(), user["name"].as_str().unwrap_or_default().to_owned());
                let after = p.ok(Method::PATCH, &path, Some(&json!({"settings": {"perform_as": user_id}}))).await?;
                check(after["missing_settings"].as_array().is_some_and(Vec::is_empty), "no setting missing", &after["missing_settings"])?;
                check(after["health"] == "green", "health green", &after["health"])?;
                Ok((Some((user_id, name.clone())), format!("perform_as required: chose {name}, a Lever user the hub listed; health green")))
            })
            .await
    }

    /// `POST …/candidates` with an `Idempotency-Key`, then follows the submission until it is
    /// written (`created` or `updated`).
    pub async fn submit(&self, p: &Partner, connection: &str, key: &str, body: &Value) -> anyhow::Result<Value> {
        let path = format!("/v1/connections/{connection}/candidates");
        let (status, first) = p.call(Method::POST, &path, Some(body), Some(&format!("{}-{key}", self.run))).await?;
        // 200 updated, 201 created, 202 queued (written by the candidate writer shortly).
        if !matches!(status.as_u16(), 200..=202) {
            anyhow::bail!("POST {path} answered {status}: {first}");
        }
        let id = first["id"].as_str().context("no submission id")?.to_owned();
        wait_for("the submission written to Lever", EVENT_WAIT, || async {
            let c = p.get(&format!("{path}/{id}")).await.map_err(|e| e.to_string())?;
            match c["state"].as_str() {
                Some("created" | "updated" | "failed") => Ok(Some(c)),
                _ => Err(format!("state {} ({})", c["state"], c["error"])),
            }
        })
        .await
        .and_then(|c| if c["state"] == "failed" { Err(anyhow::anyhow!("the submission failed: {}", c["error"])) } else { Ok(c) })
    }

    /// Lever's pipeline stages as the hub lists them: id → name.
    pub async fn stages(&self, p: &Partner, connection: &str) -> anyhow::Result<Vec<(String, String)>> {
        let stages = p.get(&format!("/v1/connections/{connection}/lever/stages")).await?;
        Ok(stages["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| (s["id"].as_str().unwrap_or_default().to_owned(), s["text"].as_str().unwrap_or_default().to_owned()))
            .collect())
    }

    /// Asks for a job sync now and waits until the job is in the feed; answers the job.
    pub async fn job_in_feed(&self, p: &Partner, connection: &str, job: &str) -> anyhow::Result<Value> {
        p.ok(Method::POST, &format!("/v1/connections/{connection}/jobs/sync"), Some(&json!({}))).await?;
        wait_for(&format!("job {job} in the feed"), EVENT_WAIT, || async {
            let (status, j) =
                p.call(Method::GET, &format!("/v1/connections/{connection}/jobs/{job}"), None, None).await.map_err(|e| e.to_string())?;
            if status.is_success() && j["status"] == "open" { Ok(Some(j)) } else { Err(format!("{status}: {j}")) }
        })
        .await
    }

    /// Waits for a verified event at `p`'s endpoint about `connection` that `matches`; when none
    /// comes, says what the connection reports about Lever's webhooks (they are off until a
    /// Super Admin switches them on; `hub-local --lever-webhooks-off` leaves them off).
    pub async fn event(
        &self,
        p: &Partner,
        connection: &str,
        event_type: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<(Value, std::time::Instant)> {
        let waited = wait_for(&format!("{event_type} at the partner's webhook"), EVENT_WAIT, || async {
            Ok::<_, String>(self.receiver.find(&p.id, event_type, |e| e["connection_id"] == connection && matches(e)))
        })
        .await;
        match waited {
            Ok(found) => Ok(found),
            Err(e) => {
                let c = p.get(&format!("/v1/connections/{connection}")).await.unwrap_or_default();
                Err(e.context(format!("Lever's webhooks to the hub for this connection: {}", c["flows"]["webhooks"])))
            }
        }
    }

    /// The posting's Lever-hosted job URL (`urls.show`).
    pub async fn hosted_url(&self, posting: &str) -> anyhow::Result<String> {
        let p = self.lever.get(&format!("/postings/{posting}")).await?;
        p["urls"]["show"].as_str().map(str::to_owned).with_context(|| format!("posting {posting} has no hosted URL: {p}"))
    }
}

/// Bytes that look like a PDF and differ per `seed`, so each file can be told apart in Lever.
pub fn pdf(seed: &str, size: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    while out.len() < size {
        out.extend_from_slice(seed.as_bytes());
        out.push(b' ');
    }
    out.truncate(size);
    out
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Names in a list of JSON strings.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// How long after `at` something happened at `then`: "85 ms", "1.2 s".
pub fn later(at: std::time::Instant, then: std::time::Instant) -> String {
    let ms = then.saturating_duration_since(at).as_millis();
    if ms < 1000 { format!("{ms} ms") } else { format!("{:.1} s", ms as f64 / 1000.0) }
}
