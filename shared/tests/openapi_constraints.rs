//! The document's constraints that mirror a fixed list the code holds, so that the contract
//! stays exactly as strict as the code (what schemathesis, run by `scripts/test`, holds the hub
//! to): the time zones a connection's `settings.timezone` takes are the IANA names of the
//! database the hub is built with, no more and no fewer.
//!
//! Pure: reads the embedded document only.

use shared::contract::contract;

#[test]
fn settings_timezone_lists_exactly_the_bundled_time_zone_database() {
    let doc = contract().document();
    let listed: Vec<String> = doc
        .pointer("/components/schemas/TimeZoneName/enum")
        .and_then(|v| v.as_array())
        .expect("components.schemas.TimeZoneName has an enum")
        .iter()
        .map(|v| v.as_str().expect("each time zone is a string").to_owned())
        .collect();
    let mut bundled: Vec<String> = jiff::tz::db().available().map(|name| name.to_string()).collect();
    bundled.sort();
    bundled.dedup();
    if listed != bundled {
        let missing: Vec<&String> = bundled.iter().filter(|n| !listed.contains(n)).collect();
        let extra: Vec<&String> = listed.iter().filter(|n| !bundled.contains(n)).collect();
        panic!(
            "TimeZoneName's enum differs from the bundled database ({} names, sorted): missing {missing:?}, not in the database {extra:?}\nfull list: {}",
            bundled.len(),
            bundled.join(", ")
        );
    }
    for name in &listed {
        assert!(shared::core::schedule::TzName::parse(name).is_ok(), "{name} is taken as settings.timezone");
    }
}
