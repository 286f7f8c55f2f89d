//! Which of a hire's offers gives the start date. Pure.
//!
//! A candidate can have several offers: drafts, denied ones, a signed one replaced by a later
//! signed one after a renegotiation. The start date is the `anticipated_start_date` of the
//! **latest signed** offer. A customer who does not use Lever's e-signature never has a signed
//! offer: their offers stop at `approved`, `sent`, `sent-manually` or `opened`. Then the latest
//! offer in one of those statuses gives the start date. `draft`, `approval-sent` and `denied`
//! offers never do: nobody agreed to them.
//!
//! "Latest" is the offer created last (Lever's `createdAt`; one without a creation time counts
//! as older than any with one; between equals, the later in Lever's list). When the chosen offer
//! has no start date the start date is missing: an older offer's date is not a stand-in for the
//! one the candidate was given last.

use serde::{Deserialize, Serialize};

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

/// The statuses of an offer a start date may come from, in Lever's words. The partner sees
/// which one was used (`lever.offer_status` of a hire), so the API's enum is this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartOfferStatus {
    /// E-signed by the candidate: always preferred.
    Signed,
    /// The rest count only when no offer is signed.
    Approved,
    Sent,
    SentManually,
    Opened,
}

impl StartOfferStatus {
    /// Lever's status word (any case); `None` for `draft`, `approval-sent`, `denied` and any
    /// status Lever may add later (not agreed to until we know otherwise).
    pub fn of(status: &str) -> Option<Self> {
        let s = status.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "signed" => Self::Signed,
            "approved" => Self::Approved,
            "sent" => Self::Sent,
            "sent-manually" => Self::SentManually,
            "opened" => Self::Opened,
            _ => return None,
        })
    }
}

impl OfferFacts {
    /// The offer's status when a start date may come from it.
    pub fn start_status(&self) -> Option<StartOfferStatus> {
        self.status.as_deref().and_then(StartOfferStatus::of)
    }
}

/// The offer the start date comes from, and the status that made it eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOffer<'a> {
    pub offer: &'a OfferFacts,
    pub status: StartOfferStatus,
}

/// The latest signed offer; without one, the latest approved, sent, sent-manually or opened one.
pub fn start_offer(offers: &[OfferFacts]) -> Option<StartOffer<'_>> {
    let eligible = || offers.iter().filter_map(|o| o.start_status().map(|status| StartOffer { offer: o, status }));
    // `max_by_key` keeps the last of equal keys: Lever's list order breaks ties.
    eligible()
        .filter(|s| s.status == StartOfferStatus::Signed)
        .max_by_key(|s| s.offer.created_at_ms)
        .or_else(|| eligible().max_by_key(|s| s.offer.created_at_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, status: &str, created: Option<i64>, start: Option<i64>) -> OfferFacts {
        OfferFacts { id: id.into(), status: Some(status.into()), created_at_ms: created, anticipated_start_date_ms: start }
    }

    fn chosen(offers: &[OfferFacts]) -> Option<(&str, StartOfferStatus)> {
        start_offer(offers).map(|s| (s.offer.id.as_str(), s.status))
    }

    #[test]
    fn the_signed_offer_created_last_wins() {
        let offers = vec![
            offer("signed-first", "signed", Some(100), Some(1_000)),
            offer("draft-latest", "draft", Some(300), Some(3_000)),
            offer("signed-later", "signed", Some(200), Some(2_000)),
            offer("denied", "denied", Some(250), Some(2_500)),
            offer("sent-latest", "sent", Some(280), Some(2_800)),
        ];
        assert_eq!(chosen(&offers), Some(("signed-later", StartOfferStatus::Signed)), "a signed offer beats a later unsigned one");
    }

    #[test]
    fn without_a_signed_offer_the_latest_agreed_one_counts() {
        let offers = vec![
            offer("approved", "approved", Some(100), Some(1)),
            offer("opened", "opened", Some(400), Some(4)),
            offer("manual", "sent-manually", Some(300), Some(3)),
            offer("sent", "sent", Some(200), Some(2)),
            offer("draft", "draft", Some(900), Some(9)),
        ];
        assert_eq!(chosen(&offers), Some(("opened", StartOfferStatus::Opened)));
        assert_eq!(chosen(&offers[1..3]), Some(("opened", StartOfferStatus::Opened)));
        assert_eq!(chosen(&offers[2..]), Some(("manual", StartOfferStatus::SentManually)));
        assert_eq!(chosen(&offers[3..]), Some(("sent", StartOfferStatus::Sent)));
        assert_eq!(chosen(&offers[..1]), Some(("approved", StartOfferStatus::Approved)));
    }

    #[test]
    fn drafts_approval_requests_and_denied_offers_never_count() {
        let offers =
            vec![offer("d", "draft", Some(3), Some(3)), offer("a", "approval-sent", Some(2), Some(2)), offer("x", "denied", Some(1), Some(1))];
        assert_eq!(chosen(&offers), None);
        assert_eq!(chosen(&[offer("new", "rescinded", Some(1), Some(1))]), None, "a status Lever adds later is not agreed to");
        assert_eq!(chosen(&[OfferFacts { status: None, ..offer("none", "", Some(1), Some(1)) }]), None);
        assert_eq!(chosen(&[]), None);
    }

    #[test]
    fn the_chosen_offer_without_a_date_gives_none() {
        let offers = vec![offer("older", "sent", Some(1), Some(1_000)), offer("newer", "sent", Some(2), None)];
        let s = start_offer(&offers).unwrap();
        assert_eq!((s.offer.id.as_str(), s.offer.anticipated_start_date_ms), ("newer", None), "no stand-in from an older offer");
    }

    #[test]
    fn ties_missing_times_and_case() {
        let offers = vec![offer("a", "signed", Some(5), None), offer("b", "Signed", Some(5), Some(9)), offer("c", "signed", None, Some(1))];
        assert_eq!(chosen(&offers), Some(("b", StartOfferStatus::Signed)), "equal times: the later in the list");
        let undated = vec![offer("x", "SENT", None, Some(1)), offer("y", " Sent-Manually ", None, Some(2))];
        assert_eq!(chosen(&undated), Some(("y", StartOfferStatus::SentManually)));
    }

    #[test]
    fn statuses_read_as_the_api_writes_them() {
        for (word, status) in [
            ("signed", StartOfferStatus::Signed),
            ("approved", StartOfferStatus::Approved),
            ("sent", StartOfferStatus::Sent),
            ("sent-manually", StartOfferStatus::SentManually),
            ("opened", StartOfferStatus::Opened),
        ] {
            assert_eq!(StartOfferStatus::of(word), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), word, "the partner sees Lever's word");
        }
    }
}
