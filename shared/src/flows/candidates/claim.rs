//! A run's claim on a submission, kept while the run lives. The claim is short
//! (`CandidatePolicy::claim_ttl`) so that a runner that dies (a killed process, a Lambda
//! timeout) lets go of the submission within it; a live run renews it.

use super::records::SubmissionRecord;
use super::{CandidatePolicy, ms};
use crate::store::{Key, Records};

/// Renews the claim `holder` took on the submission at `key` (and the sweeper's due time behind
/// it) every `claim_renew_every`. Never completes: run it beside the run and drop it when the
/// run ends. Once the claim is no longer ours it stops renewing.
pub(super) async fn keep(records: &Records, policy: &CandidatePolicy, key: &Key, holder: &str) {
    let (claim_ms, grace_ms) = (ms(policy.claim_ttl), ms(policy.lapse_grace));
    loop {
        tokio::time::sleep(policy.claim_renew_every).await;
        let now = records.clock().now_ms();
        let mut ours = false;
        let renewed = records
            .update::<SubmissionRecord>(key, |r| {
                ours = r.claim.as_ref().is_some_and(|c| c.holder == holder);
                if let (true, Some(claim)) = (ours, r.claim.as_mut()) {
                    claim.until_ms = now + claim_ms;
                    r.due_at_ms = Some(now + claim_ms + grace_ms);
                }
                ours
            })
            .await;
        if let Err(e) = &renewed {
            tracing::warn!(error = %e, "the submission's claim was not renewed; it lapses unless the next renewal lands");
        }
        if renewed.is_ok() && !ours {
            return std::future::pending().await;
        }
    }
}
