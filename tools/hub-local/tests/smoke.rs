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
    }
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("local-api-keys.json")).unwrap()).unwrap();
    assert_eq!(keys.as_object().unwrap().len(), 5, "one key per bundled profile, kept across runs");
    std::fs::remove_dir_all(dir).unwrap();
}
