//! State that survives: `state_file` / `--state-file` with a fixed address keeps
//! grants, tokens, codes, webhooks (tokens and group switches), API keys and
//! every write across a restart, in-process and for the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Api, basic, post_form};
use lever_sandbox::client;
use lever_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:4567/cb";

fn config(addr: &str, file: &std::path::Path) -> SandboxConfig {
    SandboxConfig { addr: Some(addr.into()), state_file: Some(file.to_path_buf()), rate_limit: None, ..SandboxConfig::default() }
}

async fn code(base: &str) -> String {
    let q = format!(
        "client_id=sandbox-client&redirect_uri={}&response_type=code&state=s&audience=https%3A%2F%2Fapi.lever.co%2Fv1%2F&scope=offline_access%20opportunities%3Awrite%3Aadmin%20notes%3Awrite%3Aadmin%20webhooks%3Awrite%3Aadmin%20stages%3Aread%3Aadmin",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let r = client::send("GET", &format!("{base}/authorize?{q}"), &[], vec![], common::TIMEOUT).await.unwrap();
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    loc.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string()
}

async fn token(base: &str, grant: &[(&str, &str)]) -> serde_json::Value {
    let mut form = vec![("client_id", "sandbox-client"), ("client_secret", "sandbox-secret")];
    form.extend_from_slice(grant);
    let r = post_form(&format!("{base}/oauth/token"), &form).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[tokio::test]
async fn a_restart_on_the_same_port_and_file_carries_on() {
    let dir = common::temp_dir("persist");
    let file = dir.join("sandbox-state.json");
    let addr = format!("127.0.0.1:{}", common::free_port());

    let sb = Sandbox::start(config(&addr, &file)).await.unwrap();
    let base = sb.base_url();
    assert_eq!(base, format!("http://{addr}"));
    let admin = sb.admin();
    let sa = admin.super_admin_id();
    let t = token(&base, &[("grant_type", "authorization_code"), ("code", &code(&base).await), ("redirect_uri", REDIRECT)]).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let unused_code = code(&base).await;
    let api = Api { base: base.clone(), token: access.clone() };
    let hook = api.call("POST", "/v1/webhooks", Some(&json!({"event": "candidateHired", "url": "http://127.0.0.1:9/h"}))).await.json();
    let signature_token = hook["data"]["configuration"]["signatureToken"].as_str().unwrap().to_string();
    admin.set_webhooks_enabled("candidateHired", true).unwrap();
    let key = admin.create_api_key(Some("kept"));
    let opp = admin.seed_ids().opportunities[1].clone();
    let note = api.call("POST", &format!("/v1/opportunities/{opp}/notes?perform_as={sa}"), Some(&json!({"value": "survives"}))).await;
    assert_eq!(note.status, 201);
    let created = api
        .call("POST", &format!("/v1/opportunities?perform_as={sa}"), Some(&json!({"name": "Pat Persist", "emails": ["pat@persist.example"]})))
        .await;
    let new_opp = created.json()["data"]["id"].as_str().unwrap().to_string();
    let posting = admin.create_posting(json!({"text": "Kept Posting", "state": "published", "tags": ["kept"]})).unwrap();
    admin
        .add_offer(&opp, lever_sandbox::OfferSpec { status: "sent".into(), anticipated_start_date: Some(1_900_000_000_000), ..Default::default() })
        .unwrap();

    // The file is private and written atomically (no temporary file left behind).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    sb.stop().await;
    assert!(client::send("GET", &format!("{base}/v1/stages"), &[], vec![], common::TIMEOUT).await.is_err(), "stopped");

    // Same file, same address: a different seed in the config does not matter, the file wins.
    let sb = Sandbox::start(SandboxConfig { seed: 99, ..config(&addr, &file) }).await.unwrap();
    assert_eq!(sb.base_url(), base, "the port is kept");
    let admin = sb.admin();
    assert_eq!(api.get("/v1/stages").await.status, 200, "the old access token still works");
    let refreshed = token(&base, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert!(refreshed["access_token"].is_string(), "the refresh token too");
    let exchanged = token(&base, &[("grant_type", "authorization_code"), ("code", &unused_code), ("redirect_uri", REDIRECT)]).await;
    assert!(exchanged["access_token"].is_string(), "and an issued, unused code");
    assert_eq!(admin.webhooks()[0].signature_token, signature_token);
    assert!(admin.webhooks_enabled("candidateHired"));
    assert!(!admin.webhooks_enabled("candidateStageChange"));
    assert_eq!(api.call_as(Some(&basic(&key)), "GET", "/v1/stages", None).await.status, 200);
    assert_eq!(admin.opportunity(&opp).unwrap().notes[0].values, vec!["survives"]);
    assert_eq!(admin.opportunity(&new_opp).unwrap().name, "Pat Persist");
    assert_eq!(admin.posting(&posting).unwrap()["tags"], json!(["kept"]));
    assert!(admin.opportunity(&opp).unwrap().offers.iter().any(|o| o["status"] == "sent"));
    // Expiries are kept as they were: expiring now still works on restored tokens.
    admin.expire_access_tokens();
    assert_eq!(api.get("/v1/stages").await.status, 401);
    drop(sb);

    // A damaged file is reported, not silently replaced.
    std::fs::write(&file, b"{ not json").unwrap();
    let err = Sandbox::start(config("127.0.0.1:0", &file)).await.err().expect("refuses a bad state file");
    assert!(err.to_string().contains("sandbox-state.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_token_clock_offset_survives_too() {
    let dir = common::temp_dir("clock");
    let file = dir.join("s.json");
    let sb = Sandbox::start(config("127.0.0.1:0", &file)).await.unwrap();
    let base = sb.base_url();
    let t = token(&base, &[("grant_type", "authorization_code"), ("code", &code(&base).await), ("redirect_uri", REDIRECT)]).await;
    sb.admin().advance_time(std::time::Duration::from_secs(91 * 86_400));
    drop(sb);
    let sb = Sandbox::start(config("127.0.0.1:0", &file)).await.unwrap();
    let r = post_form(
        &format!("{}/oauth/token", sb.base_url()),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "still 91 days idle after the restart");
    let _ = std::fs::remove_dir_all(&dir);
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(addr: &str, file: &std::path::Path) -> (Child, String) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_lever-sandbox"))
            .args(["--addr", addr, "--consent", "auto", "--no-rate-limit", "--state-file", file.to_str().unwrap(), "--api-key", "bin-key"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().strip_prefix("lever sandbox listening on ").expect("announces its URL").to_string())
}

#[tokio::test]
async fn the_binary_keeps_every_answered_write_even_when_killed() {
    let dir = common::temp_dir("bin");
    let file = dir.join("state.json");
    let addr = format!("127.0.0.1:{}", common::free_port());
    let (child, base) = spawn(&addr, &file);
    let api = Api { base: base.clone(), token: String::new() };
    let auth = basic("bin-key");
    let seed = api.call_as(Some(&auth), "GET", "/v1/users", None).await.json();
    let sa = seed["data"].as_array().unwrap().iter().find(|u| u["accessRole"] == "super admin").unwrap()["id"].as_str().unwrap().to_string();
    let r = api
        .call_as(
            Some(&auth),
            "POST",
            &format!("/v1/opportunities?perform_as={sa}"),
            Some(&json!({"name": "Kim Killed", "emails": ["kim@kill.example"]})),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.json()["data"]["id"].as_str().unwrap().to_string();
    let t = token(&base, &[("grant_type", "authorization_code"), ("code", &code(&base).await), ("redirect_uri", REDIRECT)]).await;
    // SIGKILL: no chance to flush; only what was written before answering survives.
    drop(child);

    let (_child, base2) = spawn(&addr, &file);
    assert_eq!(base2, base);
    let got = api.call_as(Some(&auth), "GET", &format!("/v1/opportunities/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["data"]["name"], "Kim Killed");
    let bearer = format!("Bearer {}", t["access_token"].as_str().unwrap());
    assert_eq!(api.call_as(Some(&bearer), "GET", "/v1/opportunities?limit=1", None).await.status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}
