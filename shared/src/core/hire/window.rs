//! From when an import lists hired opportunities (`archived_at_start`). Pure.
//!
//! The watermark is the latest `archivedAt` of the hires seen by a complete listing: Lever's own
//! timestamps compared with Lever's own timestamps, so the hub's clock does not enter into it.
//! The next listing starts an overlap before it, for what Lever records late or with a clock a
//! little behind (a hire archived in the overlap is listed twice and found already recorded).
//! Before the first complete listing the watermark is when the connection was made: "newly hired
//! employees" are those hired since the customer connected. `all` lists every hire.

use serde::{Deserialize, Serialize};

/// A connection's hires import position (the `CHECKPOINT#hires` record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiresCheckpoint {
    pub connection_id: String,
    /// The latest `archivedAt` seen by a complete listing.
    pub watermark_ms: Option<i64>,
    /// When the last complete listing ended (the hub's clock).
    pub listed_at_ms: Option<i64>,
}

/// `archived_at_start` of the next listing; `None` lists every hire.
pub fn list_from(watermark_ms: Option<i64>, connected_at_ms: i64, overlap_ms: i64, all: bool) -> Option<i64> {
    if all {
        return None;
    }
    Some(watermark_ms.unwrap_or(connected_at_ms).saturating_sub(overlap_ms.max(0)).max(0))
}

/// The watermark after a complete listing that saw hires archived at up to `seen_ms`: it only
/// moves forward (a run that overlapped a later one does not move it back).
pub fn advanced(watermark_ms: Option<i64>, seen_ms: Option<i64>) -> Option<i64> {
    match (watermark_ms, seen_ms) {
        (Some(w), Some(s)) => Some(w.max(s)),
        (w, s) => w.or(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn lists_from_the_watermark_minus_the_overlap() {
        assert_eq!(list_from(Some(10 * HOUR), 0, HOUR, false), Some(9 * HOUR));
        assert_eq!(list_from(None, 5 * HOUR, HOUR, false), Some(4 * HOUR), "first time: since the connection was made");
        assert_eq!(list_from(Some(10 * HOUR), 0, HOUR, true), None, "all: every hire");
        assert_eq!(list_from(Some(10), 0, HOUR, false), Some(0), "never before the epoch");
    }

    #[test]
    fn the_watermark_only_moves_forward() {
        assert_eq!(advanced(None, None), None);
        assert_eq!(advanced(None, Some(5)), Some(5));
        assert_eq!(advanced(Some(7), None), Some(7), "a listing that found nothing keeps it");
        assert_eq!(advanced(Some(7), Some(5)), Some(7));
        assert_eq!(advanced(Some(7), Some(9)), Some(9));
    }
}
