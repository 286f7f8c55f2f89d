//! The data-protection inventory (`docs/data-protection.md`) stays beside the code: every record
//! kind the hub stores has a row saying what personal data it holds, why and for how long.

use std::path::{Path, PathBuf};

/// Every `const KIND: &'static str = "…";` under `dir`: the record kinds of the store.
fn record_kinds(dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).expect("shared/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            record_kinds(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            for line in text.lines() {
                let Some(rest) = line.trim().strip_prefix("const KIND: &'static str = \"") else { continue };
                if let Some(kind) = rest.strip_suffix("\";") {
                    out.push((kind.to_owned(), path.clone()));
                }
            }
        }
    }
}

/// The kinds with a row in the inventory's table (`| \`kind\` | …`).
fn inventoried(doc: &str) -> Vec<String> {
    doc.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split_once("` |")).map(|(kind, _)| kind.to_owned()).collect()
}

#[test]
fn every_record_kind_has_an_inventory_row() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut kinds = vec![];
    record_kinds(&root.join("src"), &mut kinds);
    assert!(kinds.len() >= 20 && kinds.iter().any(|(k, _)| k == "submission"), "the scan finds the record kinds: {kinds:?}");
    let doc = std::fs::read_to_string(root.join("../docs/data-protection.md")).expect("docs/data-protection.md");
    let rows = inventoried(&doc);
    let missing: Vec<String> = kinds.iter().filter(|(k, _)| !rows.contains(k)).map(|(k, p)| format!("{k} ({})", p.display())).collect();
    assert!(missing.is_empty(), "record kinds with no row in docs/data-protection.md: {missing:?}");
    let stale: Vec<&String> = rows.iter().filter(|r| !kinds.iter().any(|(k, _)| k == *r)).collect();
    assert!(stale.is_empty(), "rows for kinds the code no longer has: {stale:?}");
}

#[test]
fn the_inventory_covers_every_place_outside_the_table() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/data-protection.md")).unwrap();
    for place in ["File store `submissions/", "File store `uploads/", "Queues", "Partner webhook deliveries", "Logs", "table.log"] {
        assert!(doc.contains(place), "the inventory says nothing of {place}");
    }
    assert!(doc.contains("does not touch Lever"), "the docs say an erasure leaves Lever to the customer");
}

/// The lines of one top-level resource of `infra/template.yaml`.
fn resource<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    let head = format!("  {name}:");
    template.lines().skip_while(|l| *l != head).skip(1).take_while(|l| l.is_empty() || l.starts_with("    ")).collect()
}

/// The retention the code relies on is what the template declares: DynamoDB's TTL on the
/// attribute the store writes, and the bucket's lifecycle rules on the prefixes the file store
/// uses, after the days the code promises.
#[test]
fn the_template_declares_the_ttl_and_lifecycle_rules_the_retention_relies_on() {
    let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")).unwrap();
    let table = resource(&template, "HubTable").join("\n");
    let ttl = table.split("TimeToLiveSpecification:").nth(1).expect("the table declares TTL");
    assert!(ttl.contains(&format!("AttributeName: {}", shared::store::dynamo::schema::TTL)), "TTL on the store's attribute: {ttl}");
    assert!(ttl.contains("Enabled: true"), "TTL enabled");
    let bucket = resource(&template, "FilesBucket");
    let rule_days = |prefix: &str| -> Option<i64> {
        let at = bucket.iter().position(|l| l.trim() == format!("Prefix: {prefix}"))?;
        bucket[at..].iter().take(3).find_map(|l| l.trim().strip_prefix("ExpirationInDays: ")).and_then(|d| d.parse().ok())
    };
    use shared::files::{SUBMISSION_FILE_RETENTION_DAYS, SUBMISSIONS_PREFIX, UPLOAD_RETENTION_DAYS, UPLOADS_PREFIX};
    assert_eq!(rule_days(UPLOADS_PREFIX), Some(UPLOAD_RETENTION_DAYS), "uploads expire as the code says");
    assert_eq!(rule_days(SUBMISSIONS_PREFIX), Some(SUBMISSION_FILE_RETENTION_DAYS), "submission files expire as the code says");
}
