//! The fleet's cost model prices each function's Secrets Manager reads at start
//! (`cost::secrets_read`); each function declares what it reads in its `main.rs`
//! (`const SECRETS`). The two must agree, or the model prices reads that do not happen.

use std::path::Path;

#[test]
fn the_cost_model_reads_the_secrets_each_function_declares() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    let mut checked = 0;
    for entry in std::fs::read_dir(&functions).expect("functions/") {
        let dir = entry.expect("an entry").path();
        let name = dir.file_name().and_then(|n| n.to_str()).expect("a name").to_owned();
        let main = std::fs::read_to_string(dir.join("src/main.rs")).expect("main.rs");
        let line = main.lines().find(|l| l.starts_with("const SECRETS")).unwrap_or_else(|| panic!("{name}: no const SECRETS"));
        let declared = line.matches("names::").count() as u32;
        assert_eq!(hub_bench::cost::secrets_read(&name), declared, "{name}: {line}");
        checked += 1;
    }
    assert_eq!(checked, 12, "every function");
}
