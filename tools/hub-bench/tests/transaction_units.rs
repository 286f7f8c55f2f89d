//! The fleet prices transactions itself, as DynamoDB bills them: DynamoDB Local reports a
//! transaction's capacity as one item's, however many it writes.

use hub_bench::fleet::transaction_write_units;
use shared::store::{Expect, Item, Key, Write};

fn put(id: usize, body_bytes: usize) -> Write {
    let item = Item {
        key: Key::new("CONN#c1", format!("JOB#{id}")),
        kind: "job".into(),
        version: 0,
        expires_at_ms: None,
        due: None,
        body: serde_json::json!({ "text": "x".repeat(body_bytes) }),
    };
    Write::Put { item, expect: Expect::Absent }
}

#[test]
fn each_item_is_written_twice_and_rounded_up_to_whole_kilobytes() {
    assert_eq!(transaction_write_units(&[put(0, 2_500)]), 6.0, "2.5 KB: 3 KB, twice");
    let ten: Vec<Write> = (0..10).map(|i| put(i, 2_500)).collect();
    assert_eq!(transaction_write_units(&ten), 60.0, "per item, not per transaction");
    assert_eq!(transaction_write_units(&[put(0, 10)]), 2.0, "at least 1 KB");
    let marker = Write::Delete { key: Key::new("CONN#c1", "MARK"), expect: Expect::Any };
    assert_eq!(transaction_write_units(&[put(0, 10), marker]), 4.0);
}
