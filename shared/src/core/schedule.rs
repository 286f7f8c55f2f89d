//! Schedule math, pure: polling cadences spread by connection, and daily runs at a wall-clock time
//! in a named time zone (the tz database is compiled in, so it works where /usr/share/zoneinfo is
//! absent, as on Lambda).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * MINUTE;

/// How often a connection is polled: `"30s"`… written as a whole number and a unit
/// (`s`, `m`, `h`, `d`), optionally after the word `every` (`"every 5m"`). From 1 minute to 1 day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cadence {
    seconds: u64,
}

impl Cadence {
    pub const MIN_SECONDS: u64 = MINUTE;
    pub const MAX_SECONDS: u64 = DAY;

    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let t = t.strip_prefix("every").map(str::trim_start).unwrap_or(t);
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let expected = "expected a whole number and a unit s, m, h or d, like \"5m\" or \"1h\"";
        if num.is_empty() {
            return Err(format!("invalid cadence {s:?}: {expected}"));
        }
        let n: u64 = num.parse().map_err(|_| format!("invalid cadence {s:?}: number too large"))?;
        let mult = match unit.trim() {
            "s" => 1,
            "m" => MINUTE,
            "h" => 60 * MINUTE,
            "d" => DAY,
            _ => return Err(format!("invalid cadence {s:?}: {expected}")),
        };
        let seconds = n.checked_mul(mult).ok_or_else(|| format!("invalid cadence {s:?}: number too large"))?;
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(format!("invalid cadence {s:?}: must be between 1m and 1d"));
        }
        Ok(Cadence { seconds })
    }

    pub fn from_seconds(seconds: u64) -> Result<Self, String> {
        Self::parse(&format!("{seconds}s"))
    }

    pub fn seconds(&self) -> u64 {
        self.seconds
    }
}

impl TryFrom<String> for Cadence {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Cadence::parse(&s)
    }
}

impl From<Cadence> for String {
    fn from(c: Cadence) -> String {
        c.to_string()
    }
}

impl std::fmt::Display for Cadence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.seconds;
        if s.is_multiple_of(DAY) {
            write!(f, "{}d", s / DAY)
        } else if s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// The fixed place of `connection_id` within every period, in ms: a stable hash, so thousands of
/// connections on the same cadence are spread evenly instead of all falling due at :00.
pub fn slot_offset_ms(connection_id: &str, period_ms: u64) -> u64 {
    let digest = Sha256::digest(connection_id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(b) % period_ms
}

/// The first time strictly after `after_ms` (Unix ms) at which the connection is due: the times
/// `k * period + slot_offset(connection)`. No randomness: the same inputs give the same answer,
/// and a connection is never due twice within one period.
pub fn next_due_ms(cadence: Cadence, connection_id: &str, after_ms: i64) -> i64 {
    let period = (cadence.seconds() * 1000) as i64;
    let offset = slot_offset_ms(connection_id, period as u64) as i64;
    let k = (after_ms - offset).div_euclid(period) + 1;
    k * period + offset
}

/// A wall-clock time of day, `"HH:MM"` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay {
    pub hour: i8,
    pub minute: i8,
}

impl TimeOfDay {
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("invalid time of day {s:?}: expected HH:MM on a 24-hour clock, like \"00:00\"");
        let (h, m) = s.trim().split_once(':').ok_or_else(err)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(err());
        }
        let hour: i8 = h.parse().map_err(|_| err())?;
        let minute: i8 = m.parse().map_err(|_| err())?;
        if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
            return Err(err());
        }
        Ok(TimeOfDay { hour, minute })
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        TimeOfDay::parse(&s)
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        format!("{:02}:{:02}", t.hour, t.minute)
    }
}

/// An IANA time zone name known to the bundled tz database (`"America/Los_Angeles"`, `"UTC"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TzName(String);

impl TzName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() || jiff::tz::TimeZone::get(t).is_err() {
            return Err(format!("unknown time zone {s:?}: expected an IANA name like \"America/Los_Angeles\" or \"UTC\""));
        }
        Ok(TzName(t.to_string()))
    }

    pub fn utc() -> Self {
        TzName("UTC".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        // Checked at construction against the same compiled-in database.
        jiff::tz::TimeZone::get(&self.0).expect("time zone validated at parse")
    }
}

impl TryFrom<String> for TzName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        TzName::parse(&s)
    }
}

impl From<TzName> for String {
    fn from(t: TzName) -> String {
        t.0
    }
}

/// The first instant strictly after `after_ms` (Unix ms) at which the wall clock in `tz` reads `at`.
///
/// Across DST changes: when `at` falls in a spring-forward gap the run happens at the first valid
/// instant after it (02:30 → 03:30 PDT); when it falls twice in a fall-back fold, the earlier one.
pub fn next_daily_run_ms(at: TimeOfDay, tz: &TzName, after_ms: i64) -> i64 {
    let zone = tz.zone();
    let after = jiff::Timestamp::from_millisecond(after_ms).expect("timestamp in range");
    let mut date = after.to_zoned_datetime(zone.clone()).date();
    loop {
        let candidate = date.at(at.hour, at.minute, 0, 0).to_zoned_datetime(zone.clone()).expect("date in range").timestamp();
        if candidate > after {
            return candidate.as_millisecond();
        }
        date = date.tomorrow().expect("date in range");
    }
}

/// The calendar date (`YYYY-MM-DD`) of instant `ms` in `tz`.
pub fn local_date(ms: i64, tz: &TzName) -> Option<String> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(ts.to_zoned_datetime(tz.zone()).date().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix ms for an RFC 3339 instant.
    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn la() -> TzName {
        TzName::parse("America/Los_Angeles").unwrap()
    }

    #[test]
    fn cadence_parses_units_and_bounds() {
        assert_eq!(Cadence::parse("5m").unwrap().seconds(), 300);
        assert_eq!(Cadence::parse("1h").unwrap().seconds(), 3600);
        assert_eq!(Cadence::parse("every 5m").unwrap().seconds(), 300);
        assert_eq!(Cadence::parse("90s").unwrap().seconds(), 90);
        assert_eq!(Cadence::parse("1d").unwrap().seconds(), 86400);
        assert_eq!(Cadence::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Cadence::parse("120m").unwrap().to_string(), "2h");
        for bad in ["", "5", "m", "5x", "5 minutes", "-5m", "30s", "2d", "99999999999999999999m"] {
            assert!(Cadence::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Cadence::parse("30s").unwrap_err().contains("between 1m and 1d"));
    }

    #[test]
    fn next_due_is_aligned_per_connection_and_strictly_later() {
        let c = Cadence::parse("5m").unwrap();
        let t0 = ms("2026-01-01T00:00:00Z");
        let a1 = next_due_ms(c, "conn-a", t0);
        assert!(a1 > t0 && a1 <= t0 + 300_000);
        // The next one is exactly one period later, also from the due instant itself.
        assert_eq!(next_due_ms(c, "conn-a", a1), a1 + 300_000);
        assert_eq!(next_due_ms(c, "conn-a", a1 - 1), a1);
        // Same offset in every period.
        assert_eq!((a1 - t0) % 300_000, (next_due_ms(c, "conn-a", t0 + 7 * 300_000) - t0) % 300_000);
    }

    #[test]
    fn connections_are_spread_over_the_period() {
        let c = Cadence::parse("5m").unwrap();
        let t0 = ms("2026-01-01T00:00:00Z");
        let mut buckets = [0u32; 5]; // one per minute of the 5-minute period
        for i in 0..1000 {
            let due = next_due_ms(c, &format!("connection-{i}"), t0);
            buckets[((due - t0 - 1).rem_euclid(300_000) / 60_000) as usize] += 1;
        }
        for b in buckets {
            assert!((120..=280).contains(&b), "uneven spread: {buckets:?}");
        }
    }

    #[test]
    fn daily_midnight_los_angeles_standard_and_daylight_time() {
        // Winter (PST, UTC-8): midnight is 08:00Z.
        assert_eq!(next_daily_run_ms(TimeOfDay::parse("00:00").unwrap(), &la(), ms("2026-01-15T12:00:00Z")), ms("2026-01-16T08:00:00Z"));
        // Summer (PDT, UTC-7): midnight is 07:00Z.
        assert_eq!(next_daily_run_ms(TimeOfDay::parse("00:00").unwrap(), &la(), ms("2026-07-15T12:00:00Z")), ms("2026-07-16T07:00:00Z"));
    }

    #[test]
    fn daily_midnight_across_spring_forward() {
        // DST starts 2026-03-08 at 02:00 local. Midnight of the 8th is still PST, of the 9th PDT.
        let midnight = TimeOfDay::parse("00:00").unwrap();
        let first = next_daily_run_ms(midnight, &la(), ms("2026-03-07T09:00:00Z"));
        assert_eq!(first, ms("2026-03-08T08:00:00Z"));
        let second = next_daily_run_ms(midnight, &la(), first);
        assert_eq!(second, ms("2026-03-09T07:00:00Z"));
        assert_eq!(second - first, 23 * 3600 * 1000, "that day is 23 hours long");
    }

    #[test]
    fn daily_midnight_across_fall_back() {
        // DST ends 2026-11-01 at 02:00 local: the day is 25 hours long.
        let midnight = TimeOfDay::parse("00:00").unwrap();
        let first = next_daily_run_ms(midnight, &la(), ms("2026-10-31T12:00:00Z"));
        assert_eq!(first, ms("2026-11-01T07:00:00Z"));
        let second = next_daily_run_ms(midnight, &la(), first);
        assert_eq!(second, ms("2026-11-02T08:00:00Z"));
        assert_eq!(second - first, 25 * 3600 * 1000);
    }

    #[test]
    fn time_in_gap_and_fold() {
        // 02:30 does not exist on 2026-03-08 in Los Angeles: run at 03:30 PDT (10:30Z).
        let t = TimeOfDay::parse("02:30").unwrap();
        assert_eq!(next_daily_run_ms(t, &la(), ms("2026-03-08T08:00:00Z")), ms("2026-03-08T10:30:00Z"));
        // 01:30 happens twice on 2026-11-01: run once, at the first (PDT, 08:30Z)…
        let t = TimeOfDay::parse("01:30").unwrap();
        let first = next_daily_run_ms(t, &la(), ms("2026-11-01T07:00:00Z"));
        assert_eq!(first, ms("2026-11-01T08:30:00Z"));
        // …and not again at the second 01:30 (PST, 09:30Z): the next run is the following day.
        assert_eq!(next_daily_run_ms(t, &la(), first), ms("2026-11-02T09:30:00Z"));
    }

    #[test]
    fn exactly_at_run_time_moves_to_the_next_day() {
        let midnight = TimeOfDay::parse("00:00").unwrap();
        let at = ms("2026-01-16T08:00:00Z");
        assert_eq!(next_daily_run_ms(midnight, &la(), at), ms("2026-01-17T08:00:00Z"));
        assert_eq!(next_daily_run_ms(midnight, &la(), at - 1), at);
    }

    #[test]
    fn time_of_day_and_zone_validation() {
        assert!(TimeOfDay::parse("24:00").is_err());
        assert!(TimeOfDay::parse("0:00").is_err());
        assert!(TimeOfDay::parse("12:60").is_err());
        assert_eq!(String::from(TimeOfDay::parse("07:05").unwrap()), "07:05");
        assert!(TzName::parse("America/Los_Angeles").is_ok());
        assert!(TzName::parse("UTC").is_ok());
        assert!(TzName::parse("Pacific/Nowhere").unwrap_err().contains("unknown time zone"));
        assert!(TzName::parse("PST8PDTX").is_err());
    }

    #[test]
    fn local_dates() {
        let t = ms("2026-03-02T03:00:00Z");
        assert_eq!(local_date(t, &TzName::utc()).unwrap(), "2026-03-02");
        assert_eq!(local_date(t, &la()).unwrap(), "2026-03-01");
    }
}
