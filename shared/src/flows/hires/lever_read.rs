//! What the hires flow reads from Lever, with the connection's token: which archive reasons
//! mean hired, the hired opportunities since a time, and the facts of one hire (its posting
//! with the hiring manager, its offers, the contact when the opportunity lacks name or email).
//! Lever's objects become the core's plain [`HireFacts`] here.

use std::collections::BTreeSet;

use super::HiresError;
use crate::core::hire::HireFacts;
use crate::core::hire::offer::{OfferFacts, start_offer};
use crate::flows::context::{FlowContext, unless_gone};
use crate::lever::model::{ArchiveReasonType, OpportunitiesQuery, Opportunity, OpportunityExpand, Posting, PostingExpand};
use crate::lever::page::{Page, PageRequest, collect_all};

/// Small listings (archive reasons, one hire's offers) are read whole, up to this many pages.
const MAX_SMALL_PAGES: u32 = 20;

#[derive(Clone)]
pub struct HireReader {
    /// Each call reads the token: a run's calls are spread over minutes.
    ctx: FlowContext,
}

impl HireReader {
    pub fn new(ctx: FlowContext) -> Self {
        Self { ctx }
    }

    /// The ids of the account's `hired`-type archive reasons, inactive ones included (a hire
    /// made with a reason since retired is still a hire).
    pub async fn hired_reasons(&self, connection_id: &str) -> Result<BTreeSet<String>, HiresError> {
        let reasons = self
            .ctx
            .call(connection_id, |lever, auth| async move {
                collect_all(100, MAX_SMALL_PAGES, |page| {
                    let (lever, auth) = (lever.clone(), auth.clone());
                    async move { lever.list_archive_reasons(&auth, Some(ArchiveReasonType::Hired), page).await }
                })
                .await
            })
            .await?;
        Ok(reasons.into_iter().filter(|r| r.is_hired()).map(|r| r.id).collect())
    }

    /// One page of the opportunities archived with a hired reason since `archived_from` (ms,
    /// inclusive; `None` = ever), with their application (for the posting).
    pub async fn hired_page(
        &self,
        connection_id: &str,
        reasons: &BTreeSet<String>,
        archived_from: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Opportunity>, HiresError> {
        if reasons.is_empty() {
            // No hired reason, no hire: and an empty reason filter would list every archive.
            return Ok(Page { data: vec![], next: None, has_next: false });
        }
        let query = OpportunitiesQuery {
            archived: Some(true),
            archive_reason_ids: reasons.iter().cloned().collect(),
            archived_at_start: archived_from,
            expand: vec![OpportunityExpand::Applications],
            ..Default::default()
        };
        Ok(self
            .ctx
            .call(connection_id, move |lever, auth| {
                let (query, page) = (query.clone(), page.clone());
                async move { lever.list_opportunities(&auth, &query, page).await }
            })
            .await?)
    }

    /// The opportunity as Lever has it now (webhook payloads are never trusted), or `None` when
    /// it no longer exists.
    pub async fn opportunity(&self, connection_id: &str, opportunity_id: &str) -> Result<Option<Opportunity>, HiresError> {
        let id = opportunity_id.to_owned();
        Ok(self
            .ctx
            .find(connection_id, move |lever, auth| {
                let id = id.clone();
                async move { lever.get_opportunity(&auth, &id, &[OpportunityExpand::Applications]).await }
            })
            .await?)
    }

    /// Everything the mapping needs about one hired opportunity.
    pub async fn facts(&self, connection_id: &str, opp: &Opportunity) -> Result<HireFacts, HiresError> {
        let mut facts = HireFacts {
            opportunity_id: opp.id.clone(),
            contact_id: opp.contact_id().map(str::to_owned),
            name: Some(opp.name.clone()).filter(|n| !n.trim().is_empty()),
            emails: opp.emails.clone(),
            phones: opp.phones.iter().map(|p| p.value.clone()).collect(),
            archive_reason_id: opp.archived.as_ref().and_then(|a| a.reason.clone()),
            hired_at_ms: opp.archived.as_ref().and_then(|a| a.archived_at).map(|m| m.0),
            ..Default::default()
        };
        if facts.name.is_none() || facts.emails.is_empty() {
            self.fill_from_contact(connection_id, &mut facts).await?;
        }
        facts.posting_id = posting_of(opp);
        if let Some(posting_id) = facts.posting_id.clone()
            && let Some(p) = self.posting(connection_id, &posting_id).await?
        {
            facts.posting_title = Some(p.text.clone()).filter(|t| !t.trim().is_empty());
            facts.department = p.categories.department.clone();
            facts.team = p.categories.team.clone();
            facts.location = p.categories.location.clone();
            facts.commitment = p.categories.commitment.clone();
            if let Some(hm) = &p.hiring_manager {
                facts.hiring_manager_id = Some(hm.id().to_owned());
                facts.hiring_manager_name = hm.expanded().map(|u| u.name.clone()).filter(|n| !n.trim().is_empty());
                facts.hiring_manager_email = hm.expanded().and_then(|u| u.email.clone());
            }
        }
        let offers = self.offers(connection_id, &opp.id).await?;
        if let Some(chosen) = start_offer(&offers) {
            facts.offer_id = Some(chosen.offer.id.clone());
            facts.offer_status = Some(chosen.status);
            facts.anticipated_start_date_ms = chosen.offer.anticipated_start_date_ms;
        }
        Ok(facts)
    }

    /// Name and email from the contact, when the opportunity came without them.
    async fn fill_from_contact(&self, connection_id: &str, facts: &mut HireFacts) -> Result<(), HiresError> {
        let Some(contact_id) = facts.contact_id.clone() else { return Ok(()) };
        let contact = self
            .ctx
            .call(connection_id, move |lever, auth| {
                let id = contact_id.clone();
                async move { lever.get_contact(&auth, &id).await }
            })
            .await;
        if let Some(c) = unless_gone(contact)? {
            if facts.name.is_none() {
                facts.name = Some(c.name).filter(|n| !n.trim().is_empty());
            }
            if facts.emails.is_empty() {
                facts.emails = c.emails;
            }
        }
        Ok(())
    }

    /// The posting with its hiring manager expanded; `None` when it was deleted.
    async fn posting(&self, connection_id: &str, posting_id: &str) -> Result<Option<Posting>, HiresError> {
        let id = posting_id.to_owned();
        Ok(self
            .ctx
            .find(connection_id, move |lever, auth| {
                let id = id.clone();
                async move { lever.get_posting_expanded(&auth, &id, &[PostingExpand::HiringManager]).await }
            })
            .await?)
    }

    async fn offers(&self, connection_id: &str, opportunity_id: &str) -> Result<Vec<OfferFacts>, HiresError> {
        let id = opportunity_id.to_owned();
        let offers = self
            .ctx
            .call(connection_id, move |lever, auth| {
                let id = id.clone();
                async move {
                    collect_all(100, MAX_SMALL_PAGES, |page| {
                        let (lever, auth, id) = (lever.clone(), auth.clone(), id.clone());
                        async move { lever.list_offers(&auth, &id, page).await }
                    })
                    .await
                }
            })
            .await?;
        Ok(offers
            .into_iter()
            .map(|o| OfferFacts {
                anticipated_start_date_ms: o.anticipated_start_date().map(|m| m.0),
                id: o.id,
                status: o.status,
                created_at_ms: o.created_at.map(|m| m.0),
            })
            .collect())
    }
}

/// The posting the candidate was hired for: that of the opportunity's application (Lever
/// gives an opportunity at most one).
fn posting_of(opp: &Opportunity) -> Option<String> {
    opp.applications.iter().find_map(|a| a.expanded().and_then(|a| a.posting.clone()))
}

/// Whether Lever has the opportunity archived with one of the `hired` reasons.
pub fn is_hired(opp: &Opportunity, hired_reasons: &BTreeSet<String>) -> bool {
    opp.archived.as_ref().and_then(|a| a.reason.as_deref()).is_some_and(|r| hired_reasons.contains(r))
}
