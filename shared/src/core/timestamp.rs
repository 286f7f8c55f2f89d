//! Epoch milliseconds as RFC 3339 (UTC), the one time format of the API, events and feeds.

/// `0` → `1970-01-01T00:00:00Z`; a time the calendar cannot hold is an empty string.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_ms_read_as_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(super::rfc3339(i64::MAX), "");
    }
}
