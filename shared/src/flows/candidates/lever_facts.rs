//! What the writer and the status reporter ask Lever besides the candidate itself — is a user
//! active, which user has the referrer's email, what the stages and archive reasons are called —
//! remembered in the store for a while, so a submission pays for these at most once an hour per
//! connection rather than on every write.

use std::collections::BTreeMap;

use super::records::{ArchiveReasonName, LeverNames, LeverReferrerFact, LeverUserFact};
use super::stop::Stop;
use crate::core::candidate::email_key;
use crate::flows::context::FlowContext;
use crate::lever::model::{ArchiveReasonType, Opportunity, OpportunityExpand};
use crate::lever::page::collect_all;
use crate::store::{Records, keys};

/// The opportunity as Lever has it now, or `None` when it was deleted.
pub(super) async fn opportunity_if_any(
    ctx: &FlowContext,
    connection_id: &str,
    opportunity_id: &str,
    expand: &[OpportunityExpand],
) -> Result<Option<Opportunity>, Stop> {
    Ok(ctx.find(connection_id, |lever, auth| async move { lever.get_opportunity(&auth, opportunity_id, expand).await }).await?)
}

#[derive(Clone)]
pub(super) struct LeverFacts {
    pub records: Records,
    /// Each call reads the token: these calls are few, and an hour apart.
    pub ctx: FlowContext,
    pub ttl_ms: i64,
}

impl LeverFacts {
    pub fn new(ctx: FlowContext, policy: &super::CandidatePolicy) -> Self {
        Self { records: ctx.records().clone(), ctx, ttl_ms: super::ms(policy.lever_cache_ttl) }
    }

    /// Whether `user_id` is an active user of the connection's account. A user Lever does not
    /// know counts as inactive: never written as.
    pub async fn user_active(&self, connection_id: &str, user_id: &str) -> Result<bool, Stop> {
        let key = keys::lever_user(connection_id, user_id);
        if let Some(known) = self.records.get::<LeverUserFact>(&key).await? {
            return Ok(known.record.active);
        }
        let user = self.ctx.find(connection_id, |lever, auth| async move { lever.get_user(&auth, user_id).await }).await?;
        let found = user.is_some_and(|u| u.is_active());
        let fact = LeverUserFact {
            connection_id: connection_id.to_owned(),
            user_id: user_id.to_owned(),
            active: found,
            expires_at_ms: self.records.clock().now_ms() + self.ttl_ms,
        };
        self.records.put(&fact).await?;
        Ok(found)
    }

    /// The active Lever user whose email is `email` (`GET /users?email=`): id and name.
    pub async fn user_by_email(&self, connection_id: &str, email: &str) -> Result<Option<(String, String)>, Stop> {
        let ek = email_key(email);
        let key = keys::lever_referrer(connection_id, &ek);
        if let Some(known) = self.records.get::<LeverReferrerFact>(&key).await? {
            let r = known.record;
            return Ok(r.user_id.map(|id| (id, r.user_name.unwrap_or_default())));
        }
        let user = self.ctx.call(connection_id, |lever, auth| async move { lever.find_user_by_email(&auth, email).await }).await?;
        let fact = LeverReferrerFact {
            connection_id: connection_id.to_owned(),
            email_key: ek,
            user_id: user.as_ref().map(|u| u.id.clone()),
            user_name: user.as_ref().map(|u| u.name.clone()),
            expires_at_ms: self.records.clock().now_ms() + self.ttl_ms,
        };
        self.records.put(&fact).await?;
        Ok(user.map(|u| (u.id, u.name)))
    }

    /// Stage and archive-reason names; read from Lever when not remembered, or when `refresh`
    /// (an id that the remembered list does not have, e.g. a stage added since).
    pub async fn names(&self, connection_id: &str, refresh: bool) -> Result<LeverNames, Stop> {
        let key = keys::lever_names(connection_id);
        if !refresh && let Some(known) = self.records.get::<LeverNames>(&key).await? {
            return Ok(known.record);
        }
        let (stages, reasons) = self
            .ctx
            .call(connection_id, |lever, auth| async move {
                let stages = collect_all(100, 50, |page| lever.list_stages(&auth, page)).await?;
                let reasons = collect_all(100, 50, |page| lever.list_archive_reasons(&auth, None, page)).await?;
                Ok((stages, reasons))
            })
            .await?;
        let names = LeverNames {
            connection_id: connection_id.to_owned(),
            stages: stages.into_iter().map(|s| (s.id, s.text)).collect(),
            archive_reasons: reasons
                .into_iter()
                .map(|r| (r.id, ArchiveReasonName { name: r.text, hired: r.kind == Some(ArchiveReasonType::Hired) }))
                .collect::<BTreeMap<_, _>>(),
            expires_at_ms: self.records.clock().now_ms() + self.ttl_ms,
        };
        self.records.put(&names).await?;
        Ok(names)
    }

    /// The remembered names, if any, without asking Lever (the write path never pays for names).
    pub async fn known_names(&self, connection_id: &str) -> Option<LeverNames> {
        self.records.get::<LeverNames>(&keys::lever_names(connection_id)).await.ok().flatten().map(|v| v.record)
    }
}
