//! One run of one submission: claim it, learn what Lever has, plan (pure core), write what is not
//! written yet, and settle the outcome in one compare-and-set.
//!
//! Exactly once: a run holds a claim on the submission (a compare-and-set in the store, with a
//! lease time), so two processes never write the same submission at once; the steps done are
//! kept on the submission; and a run after an earlier attempt (a "retry run") never creates
//! blind: the candidate is looked up by email and posting first, and an opportunity made by the
//! earlier attempt (after it began, with our source) is taken as ours; a note or file is looked
//! for on the opportunity before it is added again.

use std::sync::Arc;
use std::time::Duration;

use super::announce::Announcer;
use super::lever_facts::LeverFacts;
use super::records::{Claim, Progress, StageRef, SubmissionFailure, SubmissionRecord, WriteStep};
use super::stop::Stop;
use super::{CandidateError, CandidatePolicy, CandidateWork, WorkQueue, ms};
use crate::core::candidate::{CLOCK_SKEW_MS, CandidateStatus, SubmissionState, error_codes, made_by_our_create, retry_delay_ms};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::profile::{CandidatesFlow, Profile};
use crate::core::submission::{
    CandidateFacts, CandidatePlan, ExistingOpportunity, FileRole, PlanError, Write, perform_as_choices, plan_validated, source_label,
};
use crate::files::FileStore;
use crate::flows::context::{ContextError, FlowContext, ReadyConnection};
use crate::lever::model::{FileUpload, NewNote, NewOpportunity, OpportunitiesQuery, Opportunity, Origin as LeverOrigin, Phone};
use crate::lever::page::PageRequest;
use crate::lever::rate;
use crate::store::{Records, keys};

/// Kept from a run's budget for the answer to its last Lever request.
const LEVER_ANSWER_ALLOWANCE: Duration = Duration::from_secs(1);

/// What a run ended with.
pub(super) enum Outcome {
    Written,
    Held,
    Stopped(Stop),
}

/// What a run left for its caller.
pub(super) enum RunResult {
    /// Settled (or already final): the submission as stored now.
    Settled(SubmissionRecord),
    /// Another runner holds it.
    Busy(SubmissionRecord),
    /// A message for an attempt that was made already (a duplicate, or one overtaken).
    Stale(SubmissionRecord),
    Gone,
}

/// What a run learned and did, kept as it goes: a run cut short by its time budget still
/// records every step it finished.
#[derive(Clone, Debug, Default)]
pub(super) struct Working {
    pub progress: Progress,
    pub opportunity_id: Option<String>,
    pub contact_id: Option<String>,
    pub stage_id: Option<String>,
    /// The opportunity's status when the hub first wrote to it.
    pub status: CandidateStatus,
}

/// What every step of one run reads.
struct StepRun<'a> {
    connection_id: &'a str,
    rec: &'a SubmissionRecord,
    plan: &'a CandidatePlan,
    /// The Lever source this connection writes (another posting's opportunity carries it).
    source: &'a str,
    /// An earlier attempt may have made a note or file already: look before adding it.
    retry_run: bool,
}

fn no_opportunity() -> Stop {
    Stop::Transient { retry_after: None, message: "no opportunity to write to".into() }
}

enum Verdict {
    Claimed { retry_run: bool },
    Final,
    Busy,
    Stale,
}

/// What every opportunity the plan creates carries: the candidate, in Lever's terms (phones,
/// origin), with the plan's stage and tags. Each create adds its posting and sources.
fn opportunity_form(plan: &CandidatePlan) -> NewOpportunity {
    let c = &plan.candidate;
    NewOpportunity {
        name: Some(c.name.clone()),
        emails: c.emails.clone(),
        phones: c.phones.iter().map(|p| Phone { kind: p.kind.clone(), value: p.value.clone() }).collect(),
        links: c.links.clone(),
        origin: plan.origin.map(|o| LeverOrigin::from(o.as_str())),
        tags: plan.tags.clone(),
        stage: plan.stage.as_ref().map(|s| s.as_str().to_owned()),
        ..Default::default()
    }
}

fn status_of(o: &Opportunity) -> CandidateStatus {
    CandidateStatus {
        stage_id: o.stage_id().map(str::to_owned),
        stage_changed_at_ms: o.stage_changes.last().and_then(|c| c.updated_at).map(|m| m.0).or(o.last_advanced_at.map(|m| m.0)),
        archived_at_ms: o.archived.as_ref().and_then(|a| a.archived_at).map(|m| m.0),
        archive_reason_id: o.archived.as_ref().and_then(|a| a.reason.clone()),
        hired: false,
    }
}

/// Writes submissions to Lever: one run of one submission at a time, under its claim.
#[derive(Clone)]
pub(super) struct Writer {
    pub(super) records: Records,
    pub(super) catalog: Arc<ProfileCatalog>,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) queue: WorkQueue,
    /// Lever with the connection's token, kept for a minute (a run makes several calls).
    pub(super) ctx: FlowContext,
    pub(super) lever_facts: LeverFacts,
    pub(super) announcer: Announcer,
    pub(super) policy: CandidatePolicy,
}

impl Writer {
    /// A queued run (the worker): settled or busy, the message is done; a store failure brings it back.
    pub(super) async fn run_queued(&self, connection_id: &str, submission_id: &str, attempt: Option<u32>) -> Result<(), CandidateError> {
        match self.run(connection_id, submission_id, self.policy.worker_budget, attempt).await? {
            RunResult::Busy(r) => {
                // Someone else is writing it: look again when their claim would have lapsed.
                let now = self.records.clock().now_ms();
                let wait = r.claim.as_ref().map_or(0, |c| c.until_ms - now).max(1_000);
                let work = CandidateWork::Submission {
                    connection_id: connection_id.to_owned(),
                    submission_id: submission_id.to_owned(),
                    attempt,
                    not_before_ms: None,
                };
                self.queue.enqueue(&work, Duration::from_millis(wait as u64)).await?;
                Ok(())
            }
            RunResult::Settled(_) | RunResult::Stale(_) | RunResult::Gone => Ok(()),
        }
    }

    /// Claims the submission and runs it within `budget`. `attempt` is the attempt count a
    /// scheduled retry was queued at: when another run came first, the message is stale.
    pub(super) async fn run(
        &self,
        connection_id: &str,
        submission_id: &str,
        budget: Duration,
        attempt: Option<u32>,
    ) -> Result<RunResult, CandidateError> {
        let key = keys::submission(connection_id, submission_id);
        let now = self.records.clock().now_ms();
        let holder = uuid::Uuid::new_v4().to_string();
        let claim_ms = ms(self.policy.claim_ttl);
        let grace_ms = ms(self.policy.lapse_grace);
        let mut verdict = Verdict::Final;
        let stored = self
            .records
            .update::<SubmissionRecord>(&key, |r| {
                if !r.state.is_open() {
                    verdict = Verdict::Final;
                    return false;
                }
                if r.claimed_at(now).is_some() {
                    verdict = Verdict::Busy;
                    return false;
                }
                if attempt.is_some_and(|n| n != r.attempts) {
                    verdict = Verdict::Stale;
                    return false;
                }
                verdict = Verdict::Claimed { retry_run: r.progress.first_attempt_at_ms.is_some() };
                r.progress.first_attempt_at_ms.get_or_insert(now);
                r.claim = Some(Claim { holder: holder.clone(), until_ms: now + claim_ms });
                // Should this runner die, the sweeper finds it once the claim has lapsed.
                r.due_at_ms = Some(now + claim_ms + grace_ms);
                r.updated_at_ms = now;
                true
            })
            .await?;
        let Some(stored) = stored else { return Ok(RunResult::Gone) };
        let rec = stored.record;
        let retry_run = match verdict {
            Verdict::Final => {
                if !rec.announced {
                    return Ok(RunResult::Settled(self.announcer.announce(rec).await?));
                }
                return Ok(RunResult::Settled(rec));
            }
            Verdict::Busy => return Ok(RunResult::Busy(rec)),
            Verdict::Stale => return Ok(RunResult::Stale(rec)),
            Verdict::Claimed { retry_run } => retry_run,
        };
        let mut working = Working {
            progress: rec.progress.clone(),
            opportunity_id: rec.opportunity_id.clone(),
            contact_id: rec.contact_id.clone(),
            stage_id: rec.stage.as_ref().map(|s| s.id.clone()),
            status: CandidateStatus::default(),
        };
        let finished = {
            // Lever requests go out within the budget, less a moment for Lever's answer, or not at
            // all: a send time further off (the account's budget spent by other work) ends the
            // attempt at once, and the queue's run takes the submission when it comes.
            let send_by = tokio::time::Instant::now() + budget.saturating_sub(LEVER_ANSWER_ALLOWANCE);
            let attempt = rate::send_by(send_by, self.attempt(&rec, retry_run, &mut working));
            let attempt = std::pin::pin!(tokio::time::timeout(budget, attempt));
            let renewals = std::pin::pin!(super::claim::keep(&self.records, &self.policy, &key, &holder));
            match futures::future::select(attempt, renewals).await {
                futures::future::Either::Left((finished, _)) => finished.ok(),
                futures::future::Either::Right(_) => None,
            }
        };
        let outcome = match finished {
            Some(Ok(outcome)) => outcome,
            Some(Err(stop)) => Outcome::Stopped(stop),
            None => {
                Outcome::Stopped(Stop::Transient { retry_after: None, message: format!("writing to Lever took longer than {} s", budget.as_secs()) })
            }
        };
        if let Outcome::Stopped(stop) = &outcome {
            tracing::info!(connection_id, submission_id, ?stop, retry_run, "submission not written in this run");
        }
        Ok(RunResult::Settled(self.settle(&rec, &holder, working, outcome).await?))
    }

    /// Records the outcome (and releases the claim) in one compare-and-set, then does what
    /// follows from it: queue the retry, index a held referral, announce a final state.
    async fn settle(&self, rec: &SubmissionRecord, holder: &str, working: Working, outcome: Outcome) -> Result<SubmissionRecord, CandidateError> {
        let key = keys::submission(&rec.connection_id, &rec.id);
        let now = self.records.clock().now_ms();
        let p = &self.policy;
        let grace_ms = ms(p.sweep_grace);
        let names = self.lever_facts.known_names(&rec.connection_id).await;
        let stage_name = |id: &str| names.as_ref().and_then(|n| n.stages.get(id).cloned());
        let pending_days =
            self.catalog.get(&rec.partner_id).and_then(|pr| pr.candidates().map(|c| i64::from(c.pending.expire_after_days))).unwrap_or(30);
        let mut retry_in: Option<u64> = None;
        let mut wrote = false;
        let fail = |r: &mut SubmissionRecord, code: &str, message: String| {
            r.state = SubmissionState::Failed;
            r.error = Some(SubmissionFailure { code: code.to_owned(), message });
            r.next_attempt_at_ms = None;
            r.announced = false;
            r.due_at_ms = Some(now + grace_ms);
        };
        let stored = self
            .records
            .update::<SubmissionRecord>(&key, |r| {
                wrote = false;
                if r.claim.as_ref().map(|c| c.holder.as_str()) != Some(holder) {
                    // Our claim lapsed and another run took over: what we did, it finds in Lever.
                    return false;
                }
                wrote = true;
                r.claim = None;
                r.progress = working.progress.clone();
                r.opportunity_id = working.opportunity_id.clone();
                r.contact_id = working.contact_id.clone();
                if let Some(id) = &working.stage_id {
                    r.stage = Some(StageRef { id: id.clone(), name: stage_name(id) });
                }
                r.updated_at_ms = now;
                retry_in = None;
                match &outcome {
                    Outcome::Written => {
                        r.state = if working.progress.created_by_hub { SubmissionState::Created } else { SubmissionState::Updated };
                        r.attempts += 1;
                        r.error = None;
                        r.next_attempt_at_ms = None;
                        r.pending_until_ms = None;
                        r.announced = false;
                        r.due_at_ms = Some(now + grace_ms);
                    }
                    Outcome::Held => {
                        let until = *r.pending_until_ms.get_or_insert(now + pending_days * 24 * 3600 * 1000);
                        if now >= until {
                            fail(r, error_codes::REFERRAL_EXPIRED, format!("the candidate did not apply in Lever within {pending_days} days"));
                        } else {
                            r.state = SubmissionState::Pending;
                            r.error = None;
                            r.next_attempt_at_ms = None;
                            r.due_at_ms = Some((now + ms(p.pending_poll_every)).min(until));
                        }
                    }
                    Outcome::Stopped(Stop::Transient { retry_after, message }) => {
                        r.attempts += 1;
                        if r.attempts >= p.max_attempts {
                            fail(r, error_codes::LEVER_UNAVAILABLE, format!("not written after {} attempts; the last: {message}", r.attempts));
                        } else {
                            let hint = retry_after.map(|d| d.as_millis() as u64);
                            let delay =
                                retry_delay_ms(r.attempts, hint, p.retry_min.as_millis() as u64, p.retry_max.as_millis() as u64, rand::random());
                            r.state = SubmissionState::Queued;
                            r.error = Some(SubmissionFailure { code: error_codes::LEVER_UNAVAILABLE.into(), message: message.clone() });
                            r.next_attempt_at_ms = Some(now + delay as i64);
                            r.due_at_ms = Some(now + delay as i64 + grace_ms);
                            retry_in = Some(delay);
                        }
                    }
                    Outcome::Stopped(Stop::Failed { code, message }) => {
                        r.attempts += 1;
                        fail(r, code, message.clone());
                    }
                }
                true
            })
            .await?
            .ok_or(CandidateError::NotFound("candidate"))?;
        let r = stored.record;
        if !wrote {
            return Ok(r);
        }
        let partner = Some(r.partner_id.as_str());
        match r.state {
            SubmissionState::Created | SubmissionState::Updated => {
                crate::metrics::count(super::FLOW, partner, "SubmissionsWritten", 1);
                // From the partner's accepted request to the candidate in Lever: retries included.
                crate::metrics::lag(super::FLOW, partner, "SubmissionLag", r.created_at_ms, now);
            }
            SubmissionState::Failed => crate::metrics::count(super::FLOW, partner, "SubmissionFailures", 1),
            SubmissionState::Queued | SubmissionState::Pending => {}
        }
        if r.state == SubmissionState::Pending {
            self.announcer.index_pending(&r).await?;
        } else if rec.state == SubmissionState::Pending {
            self.announcer.unindex_pending(&r).await;
        }
        if let Some(delay) = retry_in {
            let not_before_ms = (Duration::from_millis(delay) > crate::queue::MAX_DELAY).then_some(r.next_attempt_at_ms).flatten();
            let work = CandidateWork::Submission {
                connection_id: r.connection_id.clone(),
                submission_id: r.id.clone(),
                attempt: Some(r.attempts),
                not_before_ms,
            };
            if let Err(e) = self.queue.enqueue(&work, Duration::from_millis(delay)).await {
                // The due index has it: the sweeper queues it once its time has passed.
                tracing::warn!(submission_id = %r.id, error = %e, "retry not queued; the sweeper will");
            }
        }
        if !r.state.is_open() && !r.announced {
            return self.announcer.announce(r).await;
        }
        Ok(r)
    }

    /// Everything Lever needs for one submission, in as few calls as the plan allows.
    async fn attempt(&self, rec: &SubmissionRecord, retry_run: bool, working: &mut Working) -> Result<Outcome, Stop> {
        let ReadyConnection { connection, profile } = self.ctx.ready(&rec.connection_id).await.map_err(|e| match e {
            // Found so before any call: the customer reconnects, then the partner retries.
            ContextError::NotActive(status) => {
                Stop::failed(error_codes::CONNECTION_NOT_ACTIVE, format!("the connection is {status}; reconnect it, then retry"))
            }
            e => Stop::from(e),
        })?;
        let flow =
            profile.candidates().ok_or_else(|| Stop::failed(error_codes::LEVER_REJECTED, "the partner's profile no longer pushes candidates"))?;
        let facts = self.facts(&connection, profile.as_ref(), flow, rec, retry_run, working).await?;
        let plan = plan_validated(profile.as_ref(), &connection.settings, &rec.submission, &facts).map_err(|e| match e {
            PlanError::NoPerformAs | PlanError::PerformAsDeactivated => Stop::failed(error_codes::NO_PERFORM_AS, e.to_string()),
            PlanError::NotInLever => Stop::failed(error_codes::NOT_IN_LEVER, e.to_string()),
            e @ (PlanError::NoCandidatesFlow | PlanError::Invalid(_)) => Stop::failed(error_codes::LEVER_REJECTED, e.to_string()),
        })?;
        if plan.write == Write::Hold {
            return Ok(Outcome::Held);
        }
        let source = source_label(profile.as_ref(), &connection.settings);
        let run = StepRun { connection_id: &connection.id, rec, plan: &plan, source: &source, retry_run };
        for step in &plan.steps {
            self.write_step(&run, *step, working).await?;
        }
        if working.opportunity_id.is_none() {
            return Err(no_opportunity());
        }
        Ok(Outcome::Written)
    }

    /// The facts the plan needs: who to write as, who the referrer is, and the candidate's
    /// opportunity on the posting (an earlier attempt's own included).
    async fn facts(
        &self,
        connection: &Connection,
        profile: &Profile,
        flow: &CandidatesFlow,
        rec: &SubmissionRecord,
        retry_run: bool,
        working: &mut Working,
    ) -> Result<CandidateFacts, Stop> {
        let cache = &self.lever_facts;
        let authorizing = connection.lever.as_ref().and_then(|l| l.authorized_by_user_id.clone());
        let mut facts = CandidateFacts { authorizing_user_id: authorizing.clone(), ..Default::default() };
        for user in perform_as_choices(profile, &connection.settings, authorizing.as_deref()) {
            if cache.user_active(&connection.id, &user).await? {
                break;
            }
            facts.inactive_users.push(user);
        }
        let sub = &rec.submission;
        let referrer_matters = flow.referrer.add_as_follower || flow.notes.referrer_not_in_lever.is_some();
        if referrer_matters
            && let Some(email) = sub.referrer.as_ref().and_then(|r| r.email.as_deref())
            && let Some((id, name)) = cache.user_by_email(&connection.id, email).await?
        {
            facts.referrer_user_id = Some(id);
            facts.referrer_user_name = Some(name).filter(|n| !n.trim().is_empty());
        }
        let source = source_label(profile, &connection.settings);
        facts.existing = self.existing(&connection.id, rec, &source, retry_run, working).await?;
        Ok(facts)
    }

    async fn existing(
        &self,
        connection_id: &str,
        rec: &SubmissionRecord,
        source: &str,
        retry_run: bool,
        working: &mut Working,
    ) -> Result<Option<ExistingOpportunity>, Stop> {
        let to_existing = |o: &Opportunity| ExistingOpportunity {
            opportunity_id: o.id.clone(),
            sources: o.sources.clone(),
            tags: o.tags.clone(),
            stage: o.stage_id().map(str::to_owned),
        };
        if let Some(id) = working.opportunity_id.clone() {
            // An earlier run found or made it: read it as it is now.
            let id = id.as_str();
            let found = self.ctx.find(connection_id, |lever, auth| async move { lever.get_opportunity(&auth, id, &[]).await }).await?;
            match found {
                Some(o) => {
                    working.stage_id = o.stage_id().map(str::to_owned);
                    working.status = status_of(&o);
                    return Ok(Some(to_existing(&o)));
                }
                None => {
                    // Deleted in Lever since: start over on whatever Lever has now.
                    working.opportunity_id = None;
                    working.contact_id = None;
                    working.progress = Progress { first_attempt_at_ms: working.progress.first_attempt_at_ms, ..Default::default() };
                }
            }
        }
        let sub = &rec.submission;
        let first_attempt = working.progress.first_attempt_at_ms;
        let listed: Vec<Opportunity> = if !sub.emails.is_empty() {
            let query = OpportunitiesQuery { emails: sub.emails.clone(), posting_ids: vec![sub.posting_id.clone()], ..Default::default() };
            self.ctx
                .call(connection_id, |lever, auth| {
                    let query = query.clone();
                    async move { lever.list_opportunities(&auth, &query, PageRequest::first(100)).await.map(|p| p.data) }
                })
                .await?
        } else if retry_run {
            // No email to look up by: what Lever made on the posting since our first attempt,
            // with one of the candidate's phone numbers.
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let phones: Vec<String> = sub.phones.iter().map(|p| digits(&p.value)).collect();
            let query = OpportunitiesQuery {
                posting_ids: vec![sub.posting_id.clone()],
                created_at_start: first_attempt.map(|t| t - CLOCK_SKEW_MS),
                ..Default::default()
            };
            let all = self
                .ctx
                .call(connection_id, |lever, auth| {
                    let query = query.clone();
                    async move { crate::lever::page::collect_all(100, 20, |page| lever.list_opportunities(&auth, &query, page)).await }
                })
                .await?;
            all.into_iter().filter(|o| o.phones.iter().any(|p| phones.contains(&digits(&p.value)))).collect()
        } else {
            vec![]
        };
        let ours =
            retry_run.then(|| listed.iter().find(|o| made_by_our_create(o.created_at.map(|m| m.0), &o.sources, first_attempt, source))).flatten();
        let chosen = ours.or_else(|| {
            let mut open: Vec<&Opportunity> = listed.iter().filter(|o| !o.is_archived()).collect();
            open.sort_by_key(|o| o.created_at.map(|m| m.0));
            open.first().copied().or_else(|| listed.iter().max_by_key(|o| o.created_at.map(|m| m.0)))
        });
        let Some(o) = chosen else { return Ok(None) };
        if ours.is_some() {
            // The earlier attempt's create reached Lever (its answer did not reach us).
            working.progress.created_by_hub = true;
        }
        working.opportunity_id = Some(o.id.clone());
        working.contact_id = o.contact_id().map(str::to_owned);
        working.stage_id = o.stage_id().map(str::to_owned);
        working.status = status_of(o);
        Ok(Some(to_existing(o)))
    }

    /// Which of the submission's files go where on a create: the resume as `resumeFile`, the
    /// rest as `files[]`; on an update every file is uploaded to the opportunity.
    fn resume_index(rec: &SubmissionRecord) -> Option<usize> {
        rec.submission.files.iter().position(|f| f.role == FileRole::Resume)
    }

    async fn file_upload(&self, rec: &SubmissionRecord, index: usize) -> Result<FileUpload, Stop> {
        let (Some(meta), Some(stored)) = (rec.submission.files.get(index), rec.files.get(index)) else {
            return Err(Stop::failed(error_codes::FILES_MISSING, format!("file {index} of the submission is not recorded")));
        };
        let bytes = self.files.get(&stored.object_key).await?.ok_or_else(|| {
            Stop::failed(error_codes::FILES_MISSING, format!("{} is no longer kept (files of failed submissions are kept 30 days)", meta.name))
        })?;
        Ok(FileUpload { file_name: meta.name.clone(), content_type: meta.content_type.clone(), bytes })
    }

    /// One step of the plan, unless a run recorded it done (or this submission's create
    /// carried it); recorded done once Lever has it.
    async fn write_step(&self, run: &StepRun<'_>, step: WriteStep, working: &mut Working) -> Result<(), Stop> {
        if working.progress.is_done(step) || (step.carried_by_create() && working.progress.created_by_hub) {
            return Ok(());
        }
        if step == WriteStep::Create {
            self.create(run, working).await?;
            working.progress.mark(step);
            return Ok(());
        }
        let opp = working.opportunity_id.clone().ok_or_else(no_opportunity)?;
        let (cid, opp, plan, perform_as) = (run.connection_id, opp.as_str(), run.plan, run.plan.perform_as.as_str());
        match step {
            WriteStep::Create => {}
            WriteStep::Sources => {
                let sources = &plan.sources;
                self.ctx.call(cid, |lever, auth| async move { lever.add_sources(&auth, opp, sources, Some(perform_as)).await }).await?;
            }
            WriteStep::Tags => {
                let tags = &plan.tags;
                self.ctx.call(cid, |lever, auth| async move { lever.add_tags(&auth, opp, tags, Some(perform_as)).await }).await?;
            }
            WriteStep::Note => {
                let text = plan.note_text().unwrap_or_default();
                let there = run.retry_run && self.note_exists(cid, opp, &text).await?;
                if !there {
                    let note = &NewNote { value: text, ..Default::default() };
                    self.ctx.call(cid, |lever, auth| async move { lever.create_note(&auth, opp, note, Some(perform_as)).await }).await?;
                }
            }
            WriteStep::File(i) => {
                let upload = self.file_upload(run.rec, i).await?;
                let there = run.retry_run && self.file_exists(cid, opp, &upload).await?;
                if !there {
                    let upload = &upload;
                    self.ctx.call(cid, |lever, auth| async move { lever.upload_file(&auth, opp, perform_as, upload.clone()).await }).await?;
                }
            }
            WriteStep::Stage => {
                let stage = plan.stage.as_ref().map(|s| s.as_str()).unwrap_or_default();
                self.ctx.call(cid, |lever, auth| async move { lever.change_stage(&auth, opp, stage, Some(perform_as)).await }).await?;
                working.stage_id = Some(stage.to_owned());
            }
            WriteStep::AlsoApply => {
                let other = plan.also_apply_to_posting.as_deref().unwrap_or_default();
                self.also_apply(cid, plan, run.source, other).await?;
            }
        }
        working.progress.mark(step);
        Ok(())
    }

    /// `POST /opportunities`: multipart with the resume and files, else JSON.
    async fn create(&self, run: &StepRun<'_>, working: &mut Working) -> Result<(), Stop> {
        let (rec, plan) = (run.rec, run.plan);
        let resume_index = Self::resume_index(rec).filter(|_| plan.resume_file.is_some());
        let mut resume = None;
        let mut files = Vec::new();
        for i in 0..rec.submission.files.len() {
            let upload = self.file_upload(rec, i).await?;
            if Some(i) == resume_index {
                resume = Some(upload);
            } else {
                files.push(upload);
            }
        }
        let c = &plan.candidate;
        let body = NewOpportunity {
            headline: c.headline.clone(),
            location: c.location.clone(),
            sources: plan.sources.clone(),
            followers: plan.followers.clone(),
            postings: vec![plan.posting_id.clone()],
            ..opportunity_form(plan)
        };
        let perform_as = plan.perform_as.as_str();
        let (body, resume, files) = (&body, &resume, &files);
        let created = self
            .ctx
            .call(run.connection_id, |lever, auth| async move {
                if resume.is_none() && files.is_empty() {
                    lever.create_opportunity(&auth, perform_as, body).await
                } else {
                    lever.create_opportunity_with_files(&auth, perform_as, body, resume.clone(), files.clone()).await
                }
            })
            .await?;
        let o = created.data;
        working.progress.created_by_hub = true;
        working.opportunity_id = Some(o.id.clone());
        working.contact_id = o.contact_id().map(str::to_owned);
        working.stage_id = o.stage_id().map(str::to_owned).or(body.stage.clone());
        working.status = status_of(&o);
        Ok(())
    }

    async fn note_exists(&self, cid: &str, opp: &str, text: &str) -> Result<bool, Stop> {
        let notes = self.ctx.call(cid, |lever, auth| async move { lever.list_notes(&auth, opp, PageRequest::first(100)).await }).await?;
        Ok(notes.data.iter().any(|n| n.fields.iter().any(|f| f.value.as_ref().and_then(|v| v.as_str()) == Some(text))))
    }

    async fn file_exists(&self, cid: &str, opp: &str, upload: &FileUpload) -> Result<bool, Stop> {
        let files = self.ctx.call(cid, |lever, auth| async move { lever.list_files(&auth, opp, PageRequest::first(100)).await }).await?;
        let size = upload.bytes.len() as u64;
        Ok(files.data.iter().any(|f| f.name.as_deref() == Some(upload.file_name.as_str()) && f.size == Some(size)))
    }

    /// A screening route's other posting: an opportunity there too, unless the person has one.
    async fn also_apply(&self, cid: &str, plan: &CandidatePlan, source: &str, posting: &str) -> Result<(), Stop> {
        let c = &plan.candidate;
        if !c.emails.is_empty() {
            let query = OpportunitiesQuery { emails: c.emails.clone(), posting_ids: vec![posting.to_owned()], ..Default::default() };
            let query = &query;
            let there = self.ctx.call(cid, |lever, auth| async move { lever.list_opportunities(&auth, query, PageRequest::first(10)).await }).await?;
            if !there.data.is_empty() {
                return Ok(());
            }
        }
        let body = NewOpportunity { sources: vec![source.to_owned()], postings: vec![posting.to_owned()], ..opportunity_form(plan) };
        let (body, perform_as) = (&body, plan.perform_as.as_str());
        self.ctx.call(cid, |lever, auth| async move { lever.create_opportunity(&auth, perform_as, body).await }).await?;
        Ok(())
    }
}
