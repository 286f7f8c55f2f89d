//! `scripts/demo` passes: the demo binary walks every story against a real hub-local (the
//! binary, started as a newcomer starts it) and its in-process Lever sandbox, over HTTP.
//! Both modes: a hub-local the demo starts itself, and one already running that it finds. And it
//! fails loudly: a step that cannot pass exits non-zero, naming the step and what it saw.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Every story and the steps it must print as passed, in order.
const STEPS: &[(&str, &[&str])] = &[
    ("Partners", &["webhook endpoints"]),
    ("HireUp", &["Lever posting", "connect", "settings", "jobs", "referral", "stage change"]),
    ("ERC", &["careers-page applicant", "connect", "settings", "referral"]),
    ("Upwage", &["Lever posting", "connect", "settings", "resolve", "screening"]),
    ("Outhire", &["Lever postings", "connect", "settings", "jobs", "application"]),
    ("HR Cloud", &["connect", "settings", "candidate", "hire"]),
    ("Webhooks", &["signatures"]),
];

/// The hub-local binary: `HUB_LOCAL_BIN` (scripts/test points it at the one the same `cargo test
/// --workspace` builds for hub-local's own tests), else this workspace's, built here as
/// `cargo build -p hub-local` builds it (once per run; at once when it is fresh).
fn hub_local() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        if let Some(given) = std::env::var_os("HUB_LOCAL_BIN").filter(|v| !v.is_empty()) {
            let path = PathBuf::from(given);
            assert!(path.exists(), "HUB_LOCAL_BIN={} does not exist", path.display());
            return path;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo).args(["build", "--quiet", "-p", "hub-local"]).status().expect("cargo runs");
        assert!(status.success(), "cargo build -p hub-local failed");
        let path = PathBuf::from(env!("CARGO_BIN_EXE_hub-demo")).with_file_name(format!("hub-local{}", std::env::consts::EXE_SUFFIX));
        assert!(path.exists(), "{} was built", path.display());
        path
    })
}

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hub-demo")).args(args).output().expect("the demo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every step of every story printed as passed, in order, and none as failed.
fn assert_every_story_passed(out: &Output) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "the demo exits 0; status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    assert!(!stdout.contains('✗'), "no step failed:\n{stdout}");
    let passed: Vec<&str> = stdout.lines().filter_map(|l| l.trim_start().strip_prefix("✓ [")).collect();
    for (story, steps) in STEPS {
        let printed: Vec<&str> = passed.iter().filter_map(|l| l.strip_prefix(&format!("{story}] "))).filter_map(|l| l.split(':').next()).collect();
        assert_eq!(&printed, steps, "the steps of {story}:\n{stdout}");
    }
    assert!(stdout.contains("Demo passed: every step of 5 stories."), "{stdout}");
}

#[test]
fn the_demo_starts_its_own_hub_local_and_walks_every_story() {
    let out = demo(&["--start", "--hub-local", hub_local().to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_every_story_passed(&out);
    assert!(stdout.contains("starting a hub-local of its own"), "{stdout}");
    // What the lines promise, checked in the sandbox by the demo: spot-check that they say it.
    for fact in [
        "Accept on Lever's consent page",
        "referral_bonus 3000 USD",
        "stage \"New applicant\"",
        "source HireUp",
        "sources Job site, ERC",
        "tag \"UW Screened: PASSED\"",
        "leaves out unlisted and closed",
        "tagged Outhire",
        "11 fields",
        "every Hub-Signature verified",
    ] {
        assert!(stdout.contains(fact), "{fact:?} in:\n{stdout}");
    }
}

/// `scripts/demo --stack`: the five stories pass against the deployed shape, every function its
/// own process behind the Runtime API, wired by infra/template.yaml on DynamoDB Local and moto.
#[test]
fn the_demo_walks_every_story_through_the_deployed_shape() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo).args(["build", "--quiet", "-p", "hub-stack"]).status().expect("cargo runs");
    assert!(status.success(), "cargo build -p hub-stack failed");
    let out = demo(&["--stack"]);
    let stdout = text(&out.stdout);
    assert_every_story_passed(&out);
    assert!(stdout.contains("starting a hub-stack of its own"), "{stdout}");
    assert!(stdout.contains("Accept on Lever's consent page"), "{stdout}");
}

/// A hub-local already running (as `cargo run -p hub-local` runs it, consent page on), on free
/// ports in a temporary directory: the demo's own starter, used here as a newcomer's terminal.
struct RunningHub(hub_demo::hub::Target);

impl RunningHub {
    fn start() -> RunningHub {
        RunningHub(hub_demo::hub::start(hub_demo::hub::Kind::Local, hub_local()).expect("hub-local starts"))
    }

    fn keys_file(&self) -> PathBuf {
        self.0.own.as_ref().expect("started here").keys_file()
    }

    fn demo(&self, extra: &[&str]) -> Output {
        let keys = self.keys_file();
        let mut args = vec!["--hub", &self.0.hub, "--lever", &self.0.lever, "--keys", keys.to_str().unwrap()];
        args.extend_from_slice(extra);
        demo(&args)
    }
}

/// One HTTP call with a JSON answer (the tests' own look at the hub and the sandbox).
fn call(method: reqwest::Method, url: &str, bearer: Option<&str>, body: Option<serde_json::Value>) -> serde_json::Value {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut req = reqwest::Client::new().request(method.clone(), url);
        if let Some(key) = bearer {
            req = req.bearer_auth(key);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "{method} {url}: {}", res.status());
        res.json().await.unwrap()
    })
}

fn partner_get(hub: &RunningHub, partner: &str, path: &str) -> serde_json::Value {
    call(reqwest::Method::GET, &format!("{}{path}", hub.0.hub), hub.0.keys.get(partner).map(String::as_str), None)
}

#[test]
fn the_demo_uses_a_running_hub_twice_and_leaves_no_endpoint_or_connection_behind() {
    let hub = RunningHub::start();
    for run in 1..=2 {
        let out = hub.demo(&[]);
        assert!(text(&out.stdout).contains(&format!("Using the hub at {}", hub.0.hub)), "run {run}: {}", text(&out.stdout));
        assert_every_story_passed(&out);
    }
    for partner in ["hireup", "employeereferrals", "upwage", "outhire", "hrcloud"] {
        assert_eq!(partner_get(&hub, partner, "/v1/webhooks")["data"], serde_json::json!([]), "{partner}'s demo endpoints removed");
        let connections = partner_get(&hub, partner, "/v1/connections?limit=100");
        let statuses: Vec<_> = connections["data"].as_array().unwrap().iter().map(|c| c["status"].clone()).collect();
        assert_eq!(statuses.len(), 2, "{partner}: one connection per run: {connections}");
        assert!(statuses.iter().all(|s| s == "disconnected"), "{partner}: {statuses:?}");
    }
}

#[test]
fn a_step_that_fails_exits_non_zero_naming_the_step_and_what_it_saw() {
    let hub = RunningHub::start();
    // The customer's Super Admin clicks Deny on Lever's consent screen.
    call(reqwest::Method::POST, &format!("{}/_admin/consent", hub.0.lever), None, Some(serde_json::json!({"mode": "deny"})));
    let out = hub.demo(&["--only", "hireup"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let failed =
        stdout.lines().find(|l| l.trim_start().starts_with("✗ [HireUp] connect:")).unwrap_or_else(|| panic!("the connect step failed:\n{stdout}"));
    assert!(failed.contains("access_denied"), "what was seen: {failed}");
    assert!(!stdout.contains("✓ [HireUp] jobs"), "the story stops at its failed step:\n{stdout}");
    assert!(stderr.contains("Demo FAILED: 1 step(s):") && stderr.contains("✗ [HireUp] connect:"), "{stderr}");
}
