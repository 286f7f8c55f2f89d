//! Which of a hire's offers gives the start date. Pure.
//!
//! A candidate can have several offers: drafts, denied ones, a signed one replaced by a later
//! signed one after a renegotiation. The start date is the `anticipated_start_date` of the
//! **latest signed** offer: the signed offer created last (Lever's `createdAt`; one without a
//! creation time counts as older than any with one; between equals, the later in Lever's list).
//! When that offer has no start date, or no offer is signed, the start date is missing: an
//! earlier offer's date is not a stand-in for the one the candidate signed last.

/// What the hires flow reads of one offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferFacts {
    pub id: String,
    /// `draft`, `approved`, `sent`, `signed`, … as Lever has it.
    pub status: Option<String>,
    pub created_at_ms: Option<i64>,
    /// The `anticipated_start_date` field (ms since the epoch), when the offer has one.
    pub anticipated_start_date_ms: Option<i64>,
}

impl OfferFacts {
    pub fn is_signed(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("signed"))
    }
}

/// The latest signed offer, if any.
pub fn latest_signed(offers: &[OfferFacts]) -> Option<&OfferFacts> {
    // `max_by_key` keeps the last of equal keys: Lever's list order breaks ties.
    offers.iter().filter(|o| o.is_signed()).max_by_key(|o| o.created_at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, status: &str, created: Option<i64>, start: Option<i64>) -> OfferFacts {
        OfferFacts { id: id.into(), status: Some(status.into()), created_at_ms: created, anticipated_start_date_ms: start }
    }

    #[test]
    fn the_signed_offer_created_last_wins() {
        let offers = vec![
            offer("signed-first", "signed", Some(100), Some(1_000)),
            offer("draft-latest", "draft", Some(300), Some(3_000)),
            offer("signed-later", "signed", Some(200), Some(2_000)),
            offer("denied", "denied", Some(250), Some(2_500)),
        ];
        assert_eq!(latest_signed(&offers).map(|o| o.id.as_str()), Some("signed-later"));
    }

    #[test]
    fn no_signed_offer_means_no_start_offer() {
        let offers = vec![offer("d", "draft", Some(1), Some(1)), offer("s", "sent", Some(2), Some(2))];
        assert_eq!(latest_signed(&offers), None);
        assert_eq!(latest_signed(&[]), None);
    }

    #[test]
    fn ties_and_missing_times() {
        let offers = vec![offer("a", "signed", Some(5), None), offer("b", "Signed", Some(5), Some(9)), offer("c", "signed", None, Some(1))];
        assert_eq!(latest_signed(&offers).map(|o| o.id.as_str()), Some("b"), "equal times: the later in the list");
        let undated = vec![offer("x", "signed", None, Some(1)), offer("y", "signed", None, Some(2))];
        assert_eq!(latest_signed(&undated).map(|o| o.id.as_str()), Some("y"));
    }
}
