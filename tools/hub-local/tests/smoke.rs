//! The README's run-locally command works: `hub-local --smoke` connects a customer end to end
//! on a fresh data directory, and again after a restart on the same one.

#[test]
fn local_hub_connects_a_customer_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("hub-local-{}", std::process::id()));
    for run in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hub-local"))
            .args(["--smoke", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .output()
            .expect("hub-local runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "run {run}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("is \"active\" (\"green\")"), "run {run}: {stdout}");
        assert!(stdout.contains("jobs in the feed of connection"), "jobs arrive without a manual sync, run {run}: {stdout}");
        // The first run's connection still reaches Lever after the restart.
        assert!(stdout.contains(&format!("smoke: {run} connection(s) from earlier runs still reach Lever")), "run {run}: {stdout}");
    }
    let keys: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("local-api-keys.json")).unwrap()).unwrap();
    assert_eq!(keys.as_object().unwrap().len(), 5, "one key per bundled profile, kept across runs");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A running `hub-local` (not `--smoke`), stopped when dropped.
struct RunningHub {
    child: std::process::Child,
    base: String,
    /// The in-process Lever sandbox's base URL (its admin API is under `/_admin`).
    lever: String,
}

impl RunningHub {
    fn start(cwd: &std::path::Path, args: &[&str]) -> RunningHub {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hub-local"))
            .args(args)
            .current_dir(cwd)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("hub-local starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(said) = shared::testing::HubAnnouncement::parse(&line) {
                    let _ = tx.send((said.hub, said.lever));
                }
            }
        });
        let (base, lever) = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("hub-local announces its address");
        RunningHub { child, base, lever }
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET; returns the raw response.
fn get(base: &str, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn run_hub_local(cwd: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hub-local")).args(args).current_dir(cwd).output().expect("hub-local runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_second_hub_on_the_same_data_directory_is_refused_and_smoke_uses_its_own() {
    let work = tempfile::tempdir().unwrap();
    let first = RunningHub::start(work.path(), &["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0"]);
    let data = work.path().join(".hub-data");
    let log_before = std::fs::read_to_string(data.join("table.log")).unwrap();

    // A second hub on the same directory stops at once, naming the directory and the holder.
    let (ok, _, stderr) = run_hub_local(work.path(), &["--smoke", "--addr", "127.0.0.1:0", "--data-dir", ".hub-data"]);
    assert!(!ok, "the second hub must not run: {stderr}");
    assert!(stderr.contains(".hub-data"), "names the directory: {stderr}");
    assert!(stderr.contains(&format!("PID {}", first.child.id())), "names the holder's PID: {stderr}");
    assert!(!stderr.contains("Os {") && !stderr.contains("Custom {"), "a sentence, not a debug struct: {stderr}");
    assert_eq!(std::fs::read_to_string(data.join("table.log")).unwrap(), log_before, "the log was not touched");

    // `--smoke` without `--data-dir` runs beside it in a temporary directory of its own.
    let (ok, stdout, stderr) = run_hub_local(work.path(), &["--smoke", "--addr", "127.0.0.1:0"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("is \"active\" (\"green\")"), "{stdout}");
    assert_eq!(std::fs::read_to_string(data.join("table.log")).unwrap(), log_before, "the running hub's data is untouched");

    // The first hub still serves, on its own data.
    assert!(get(&first.base, "/healthz").ends_with("\r\n\r\nok"), "the first hub answers");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: std::path::PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(data.clone()), 0o700, "data directory");
        for file in ["table.log", "table.log.lock", "secrets.json", "local-api-keys.json"] {
            assert_eq!(mode(data.join(file)), 0o600, "{file}");
        }
    }
    drop(first);
    // Once the first hub is gone, the directory is free again.
    let (ok, stdout, stderr) = run_hub_local(work.path(), &["--smoke", "--addr", "127.0.0.1:0", "--data-dir", ".hub-data"]);
    assert!(ok, "{stdout}\n{stderr}");
}

#[test]
fn an_address_in_use_is_reported_as_a_sentence() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let work = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = run_hub_local(work.path(), &["--smoke", "--addr", &addr]);
    assert!(!ok);
    assert!(stderr.contains(&format!("address in use: {addr}, pass --addr")), "{stderr}");
    assert!(!stderr.contains("Os {"), "{stderr}");
}

/// A JSON request to hub-local or its sandbox; the answer's JSON (`null` when empty).
async fn json_call(req: reqwest::RequestBuilder) -> serde_json::Value {
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap_or(serde_json::Value::Null)
}

/// hub-local runs the candidate writer and serves its own upload URLs: a partner uploads a
/// resume to the URL it is given, refers a candidate with it, and Lever (the in-process sandbox,
/// read through its admin API) holds the resume byte for byte.
#[test]
fn local_hub_serves_uploads_and_writes_candidates() {
    use base64::Engine as _;
    use serde_json::json;
    let work = tempfile::tempdir().unwrap();
    let hub = RunningHub::start(work.path(), &["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0", "--consent", "auto"]);
    let (base, lever) = (hub.base.clone(), hub.lever.clone());
    let keys: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(work.path().join(".hub-data/local-api-keys.json")).unwrap()).unwrap();
    let key = keys["hireup"].as_str().unwrap().to_owned();
    tokio::runtime::Runtime::new().unwrap().block_on(async move {
        let http = reqwest::Client::new();
        let hub = |method: reqwest::Method, path: &str| http.request(method, format!("{base}{path}")).bearer_auth(&key);
        let connection = json_call(hub(reqwest::Method::POST, "/v1/connections").json(&json!({"return_url": format!("{base}/demo/done")}))).await;
        shared::testing::ConsentBrowser::new().continue_link(connection["authorize_url"].as_str().unwrap(), "production", 6).await.unwrap();
        let id = connection["id"].as_str().unwrap();
        let posting = json_call(http.post(format!("{lever}/_admin/postings")).json(&json!({"text": "Local engineer", "state": "published"}))).await;
        let resume = b"%PDF-1.4 a resume uploaded to hub-local".repeat(1000);
        let upload = json_call(
            hub(reqwest::Method::POST, &format!("/v1/connections/{id}/uploads"))
                .json(&json!({"name": "cv.pdf", "content_type": "application/pdf", "size_bytes": resume.len()})),
        )
        .await;
        let url = upload["upload_url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{base}/uploads/")), "hub-local serves its upload URLs: {url}");
        json_call(http.put(url).header("content-type", "application/pdf").body(resume.clone())).await;
        let letter = b"%PDF-1.4 a letter".to_vec();
        let submitted =
            json_call(hub(reqwest::Method::POST, &format!("/v1/connections/{id}/candidates")).header("idempotency-key", "local-1").json(&json!({
                "kind": "referral", "candidate": {"name": "Local Candidate", "emails": ["local@candidates.example"]},
                "postings": [posting["id"]], "referrer": {"name": "Grace"}, "endorsement": "Great.",
                "files": [
                    {"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": upload["id"]},
                    {"name": "letter.pdf", "content_type": "application/pdf", "role": "cover_letter",
                     "content_base64": base64::engine::general_purpose::STANDARD.encode(&letter)},
                ],
            })))
            .await;
        // Written at once, or by the local candidate writer from its queue.
        let path = format!("/v1/connections/{id}/candidates/{}", submitted["id"].as_str().unwrap());
        let mut state = submitted["state"].clone();
        for _ in 0..100 {
            if state == "created" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            state = json_call(hub(reqwest::Method::GET, &path)).await["state"].clone();
        }
        assert_eq!(state, "created");
        let found = json_call(http.get(format!("{lever}/_admin/opportunities?email=local@candidates.example"))).await;
        let o = &found[0];
        let bytes = |v: &serde_json::Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        assert_eq!(bytes(&o["resume"]["bytes_base64"]), resume, "the uploaded resume, byte for byte");
        assert_eq!(bytes(&o["files"][0]["bytes_base64"]), letter);
        assert_eq!(o["sources"], json!(["HireUp"]));
    });
}

/// hub-local runs the hires worker: a manual import a partner asks for is carried out, and
/// the hires it found are listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hires_import_asked_for_runs_in_hub_local() {
    let work = tempfile::tempdir().unwrap();
    let hub = RunningHub::start(work.path(), &["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0", "--consent", "auto"]);
    let (key, id) = connect(&hub, work.path(), "hrcloud").await;
    let (http, id) = (reqwest::Client::new(), id.as_str());
    let import = http
        .post(format!("{}/v1/connections/{id}/hires/import", hub.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"all": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 202);
    for _ in 0..200 {
        let page: serde_json::Value =
            http.get(format!("{}/v1/connections/{id}/hires", hub.base)).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        if page["data"].as_array().is_some_and(|d| !d.is_empty()) {
            assert_eq!(page["data"][0]["sends"], 1, "{page}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import never ran: no hires listed");
}

/// `--clock-offset` runs the schedules ahead: with 25 hours, tonight's daily hires import runs
/// within seconds of the connect, and it finds a hire made in Lever after the connect (Lever's
/// webhooks are off here, so nothing else could have found it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_offset_brings_the_daily_hires_import_forward() {
    let work = tempfile::tempdir().unwrap();
    let hub = RunningHub::start(
        work.path(),
        &["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0", "--consent", "auto", "--lever-webhooks-off", "--clock-offset", "25h"],
    );
    let (key, id) = connect(&hub, work.path(), "hrcloud").await;
    let (http, id) = (reqwest::Client::new(), id.as_str());
    let hired = shared::testing::hire_a_seeded_candidate(&http, &hub.lever).await;
    for _ in 0..300 {
        let page: serde_json::Value =
            http.get(format!("{}/v1/connections/{id}/hires", hub.base)).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        if let Some(h) = page["data"].as_array().and_then(|d| d.iter().find(|h| h["lever"]["opportunity_id"] == hired.as_str())) {
            assert_eq!(h["found_by"], "daily", "{h}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the daily import did not run within 30 s under --clock-offset 25h");
}

/// The partner's key from hub-local's key file, and a customer of it connected through the
/// sandbox's consent (`--consent auto`): (key, connection id).
async fn connect(hub: &RunningHub, work: &std::path::Path, partner: &str) -> (String, String) {
    let keys: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(work.join(".hub-data/local-api-keys.json")).unwrap()).unwrap();
    let key = keys[partner].as_str().expect("hub-local issued the partner a key").to_owned();
    let id = shared::testing::connect_customer(&reqwest::Client::new(), &hub.base, &key, &format!("{}/demo/done", hub.base)).await;
    (key, id)
}

/// Sends `request` as raw bytes and reads the whole answer (the hub closes the connection after
/// a request it could not parse).
fn raw_exchange(base: &str, request: &[u8]) -> (u16, String, serde_json::Value) {
    use std::io::{Read as _, Write as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("the hub listens");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("an HTTP answer: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status line: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("a JSON body ({e}): {text:?}"));
    (status, head.to_ascii_lowercase(), body)
}

#[test]
fn requests_the_server_cannot_parse_get_problem_documents_too() {
    let work = tempfile::tempdir().unwrap();
    let hub = RunningHub::start(work.path(), &["--addr", "127.0.0.1:0", "--lever-addr", "127.0.0.1:0"]);
    let long_path = format!("GET /v1/{} HTTP/1.1\r\nHost: hub\r\n\r\n", "a".repeat(100 * 1024));
    let mut not_utf8 = b"GET /v1/conn\xff\xfeections HTTP/1.1\r\nHost: hub\r\n\r\n".to_vec();
    let huge_header = format!("GET /v1/connections HTTP/1.1\r\nHost: hub\r\nX-Big: {}\r\n\r\n", "b".repeat(600 * 1024));
    for (request, status) in [(long_path.into_bytes(), 414), (std::mem::take(&mut not_utf8), 400), (huge_header.into_bytes(), 431)] {
        let (got, head, body) = raw_exchange(&hub.base, &request);
        assert_eq!(got, status, "{head}\n{body}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        assert_eq!(body["type"], "/problems/bad-request", "{body}");
        assert_eq!(body["status"], status, "{body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    }
    // The server still answers as before afterwards.
    let (status, _, body) = raw_exchange(&hub.base, b"GET /v1/connections HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n");
    assert_eq!((status, body["type"].as_str()), (401, Some("/problems/unauthorized")), "{body}");
}
