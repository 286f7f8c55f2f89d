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
