//! `POST /v1/connections/{id}/candidates`: from the partner's request to an accepted, stored
//! submission (and, most of the time, a candidate in Lever before the answer).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::records::{IdempotencyRecord, RefusalKind, StoredAnswer, StoredFile, StoredProblem, SubmissionRecord, SubmitOutcome, UploadRecord};
use super::uploads::Uploads;
use super::view::submission_view;
use super::writer::{RunResult, Writer};
use super::{CandidateError, CandidatePolicy, ms, owned_connection};
use crate::core::candidate::{SubmissionState, byte_fingerprint, check_idempotency_key, error_codes, idempotency_key_digest, request_fingerprint};
use crate::core::catalog::ProfileCatalog;
use crate::core::connection::Connection;
use crate::core::field_error::FieldError;
use crate::core::profile::CandidatesFlow;
use crate::core::submission::{FileContent, FileMeta, MAX_SUBMISSION_BYTES, Submission, Validated};
use crate::files::{FileStore, submission_file_key};
use crate::flows::ready::active_profile;
use crate::store::{Expect, Records, StoreError, keys};

/// What `POST …/candidates` answers, and whether it is the replay of an earlier answer.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmitAnswer {
    pub answer: StoredAnswer,
    pub replayed: bool,
}

/// What a request with an idempotency key is recognised by: its meaning, and (for keys stored
/// before meaning counted) its bytes.
struct Fingerprint {
    current: String,
    by_bytes: String,
}

enum Begin {
    /// This request holds the key (first, or taking over from one that died); the record's version.
    Hold {
        submission_id: String,
        version: u64,
    },
    Replay(StoredAnswer),
}

/// Takes a partner's submission in: validated, its key taken, its files kept, stored, and
/// written at once within the inline budget.
#[derive(Clone)]
pub struct Intake {
    pub(super) records: Records,
    pub(super) catalog: Arc<ProfileCatalog>,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) uploads: Uploads,
    pub(super) writer: Writer,
    pub(super) policy: CandidatePolicy,
}

impl Intake {
    /// Accepts one submission. `raw_body` is the request body as received: the same key with a
    /// body that means something else is another request (422); re-encoded JSON is the same.
    pub async fn submit(
        &self,
        partner_id: &str,
        connection_id: &str,
        idempotency_key: Option<&str>,
        submission: &Submission,
        raw_body: &[u8],
    ) -> Result<SubmitAnswer, CandidateError> {
        let key = idempotency_key
            .map(str::trim)
            .ok_or_else(|| CandidateError::BadKey("required: one key per submission, reused on every retry of it".into()))?;
        check_idempotency_key(key).map_err(CandidateError::BadKey)?;
        let connection = owned_connection(&self.records, partner_id, connection_id).await?;
        let key = &self.stored_key(partner_id, key).await?;
        let profile = active_profile(&self.catalog, &connection)?;
        let flow = profile.candidates().ok_or(CandidateError::NoCandidatesFlow)?;
        let validated = submission.validate(flow).map_err(|e| CandidateError::Invalid(e.0))?;
        let fingerprint = Fingerprint {
            current: request_fingerprint("candidates", connection_id, raw_body),
            by_bytes: byte_fingerprint("candidates", connection_id, raw_body),
        };
        let (submission_id, idem_version) = match self.begin(partner_id, connection_id, key, &fingerprint).await? {
            Begin::Replay(answer) => return Ok(SubmitAnswer { answer, replayed: true }),
            Begin::Hold { submission_id, version } => (submission_id, version),
        };
        let (stored, accepted_now) = match self.records.get::<SubmissionRecord>(&keys::submission(connection_id, &submission_id)).await? {
            // A retry after an answer that was not stored: accepted (and counted) before.
            Some(existing) => (existing.record, false),
            None => match self.accept(&connection, flow, &submission_id, key, validated).await {
                Ok(r) => (r, true),
                Err(e) => {
                    // Nothing was accepted: the key is free again for a corrected request.
                    let _ = self.records.remove(&keys::idempotency(partner_id, key), Expect::Version(idem_version)).await;
                    return Err(e);
                }
            },
        };
        let current = match self.writer.run(connection_id, &submission_id, self.policy.inline_budget, None).await {
            Ok(RunResult::Settled(r) | RunResult::Busy(r) | RunResult::Stale(r)) => r,
            Ok(RunResult::Gone) => stored,
            Err(e) => {
                // Accepted and on the due index: the sweeper takes it from here.
                tracing::warn!(submission_id, error = %e, "inline run failed; the submission stays queued");
                stored
            }
        };
        if accepted_now && current.state == SubmissionState::Queued {
            // Accepted, not yet in Lever: the writer's queue takes it from here (answered 202).
            crate::metrics::count(super::FLOW, Some(partner_id), "SubmissionsQueued", 1);
        }
        let answer = self.answer_for(&current, &connection);
        let done = self
            .records
            .update::<IdempotencyRecord>(&keys::idempotency(partner_id, key), |r| {
                if r.submission_id != submission_id || r.answer.is_some() {
                    return false;
                }
                r.answer = Some(answer.clone());
                true
            })
            .await;
        if let Err(e) = done {
            // The key's lease lapses and a retry answers from the submission itself.
            tracing::warn!(submission_id, error = %e, "idempotency answer not stored");
        }
        Ok(SubmitAnswer { answer, replayed: false })
    }

    /// The name `key` is stored under: its digest, or the key as sent where a record made before
    /// keys were hashed holds it (honoured until it expires, 48 hours after the change; then this
    /// read finds nothing and can go).
    async fn stored_key(&self, partner_id: &str, key: &str) -> Result<String, CandidateError> {
        if self.records.get::<IdempotencyRecord>(&keys::idempotency(partner_id, key)).await?.is_some() {
            return Ok(key.to_owned());
        }
        Ok(idempotency_key_digest(key))
    }

    /// Takes the idempotency key: a first request holds it; the same request again gets the
    /// stored answer (or waits for the first to finish); another request with it is refused.
    async fn begin(&self, partner_id: &str, connection_id: &str, key: &str, fingerprint: &Fingerprint) -> Result<Begin, CandidateError> {
        let record_key = keys::idempotency(partner_id, key);
        let deadline = tokio::time::Instant::now() + self.policy.wait_for_first;
        // Waiting readers back off (with jitter): a hundred of them must not crowd the store
        // the first request is writing to.
        let mut wait = Duration::from_millis(25);
        let mut try_create = true;
        loop {
            let now = self.records.clock().now_ms();
            if try_create {
                let fresh = IdempotencyRecord {
                    partner_id: partner_id.to_owned(),
                    key: key.to_owned(),
                    fingerprint: fingerprint.current.clone(),
                    connection_id: connection_id.to_owned(),
                    submission_id: uuid::Uuid::now_v7().to_string(),
                    answer: None,
                    lease_until_ms: now + ms(self.policy.in_progress_lease),
                    created_at_ms: now,
                    expires_at_ms: now + ms(self.policy.idempotency_ttl),
                };
                match self.records.create(&fresh).await {
                    Ok(version) => return Ok(Begin::Hold { submission_id: fresh.submission_id, version }),
                    Err(StoreError::ConditionFailed) => try_create = false,
                    Err(e) => return Err(e.into()),
                }
            }
            let Some(existing) = self.records.get::<IdempotencyRecord>(&record_key).await? else {
                try_create = true;
                continue;
            };
            let (first, version) = (existing.record, existing.version);
            if first.fingerprint != fingerprint.current && first.fingerprint != fingerprint.by_bytes {
                return Err(CandidateError::KeyReused);
            }
            if let Some(answer) = first.answer {
                return Ok(Begin::Replay(answer));
            }
            if first.lease_until_ms <= now {
                // The first request died while holding the key: go on with its submission.
                let mut taken = first.clone();
                taken.lease_until_ms = now + ms(self.policy.in_progress_lease);
                match self.records.replace(&taken, version).await {
                    Ok(version) => return Ok(Begin::Hold { submission_id: taken.submission_id, version }),
                    Err(StoreError::ConditionFailed) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CandidateError::KeyInUse);
            }
            tokio::time::sleep(wait.mul_f64(1.0 + rand::random::<f64>() / 2.0)).await;
            wait = (wait * 2).min(Duration::from_millis(400));
        }
    }

    /// Keeps the files and stores the submission (queued, on the due index: if this process
    /// stops now, the sweeper writes it). Every upload is checked first, then taken for this
    /// submission (an upload serves one submission), then copied.
    async fn accept(
        &self,
        connection: &Connection,
        flow: &CandidatesFlow,
        submission_id: &str,
        idempotency_key: &str,
        validated: Validated,
    ) -> Result<SubmissionRecord, CandidateError> {
        let Validated { mut submission, contents } = validated;
        let mut problems = Vec::new();
        let mut uploads = Vec::new();
        let mut total: u64 = 0;
        for (i, content) in contents.iter().enumerate() {
            let Some(meta) = submission.files.get_mut(i) else { continue };
            match content {
                FileContent::Inline(bytes) => total = total.saturating_add(bytes.len() as u64),
                FileContent::Upload(upload_id) => match self.uploads.check_upload(connection, flow, upload_id, &meta.content_type).await? {
                    Ok(upload) => {
                        total = total.saturating_add(upload.size_bytes);
                        meta.size_bytes = Some(upload.size_bytes);
                        uploads.push((i, upload));
                    }
                    Err((sub, message)) => problems.push(FieldError::new(format!("files[{i}].{sub}"), message)),
                },
            }
        }
        if total > MAX_SUBMISSION_BYTES {
            problems.push(FieldError::new("files", format!("{total} bytes in all; at most {MAX_SUBMISSION_BYTES} per submission")));
        }
        if !problems.is_empty() {
            return Err(CandidateError::Invalid(problems));
        }
        self.uploads.take_uploads(submission_id, &uploads).await?;
        // Should nothing be accepted, the uploads are free again for the corrected request.
        let files = match self.keep_files(connection, submission_id, &submission.files, contents, &uploads).await {
            Ok(Ok(files)) => files,
            Ok(Err(problems)) => {
                self.uploads.release_uploads(submission_id, &uploads).await;
                return Err(CandidateError::Invalid(problems));
            }
            Err(e) => {
                self.uploads.release_uploads(submission_id, &uploads).await;
                return Err(e);
            }
        };
        let now = self.records.clock().now_ms();
        let record = SubmissionRecord {
            id: submission_id.to_owned(),
            connection_id: connection.id.clone(),
            partner_id: connection.partner_id.clone(),
            submission,
            files,
            state: SubmissionState::Queued,
            error: None,
            opportunity_id: None,
            contact_id: None,
            stage: None,
            progress: Default::default(),
            attempts: 0,
            next_attempt_at_ms: None,
            pending_until_ms: None,
            claim: None,
            // Should the request die before the work is queued, the sweeper finds it soon after.
            due_at_ms: Some(now + ms(self.policy.inline_budget) + ms(self.policy.lapse_grace)),
            announced: false,
            idempotency_key: Some(idempotency_key.to_owned()),
            expires_at_ms: None,
            created_at_ms: now,
            updated_at_ms: now,
        };
        match self.records.create(&record).await {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(record),
            Err(e) => {
                self.uploads.release_uploads(submission_id, &uploads).await;
                Err(e.into())
            }
        }
    }

    /// Puts the inline files and copies the uploads where the submission's files are kept.
    /// `Ok(Err(_))` when an upload's object vanished meanwhile (the partner's to fix).
    async fn keep_files(
        &self,
        connection: &Connection,
        submission_id: &str,
        metas: &[FileMeta],
        contents: Vec<FileContent>,
        uploads: &[(usize, UploadRecord)],
    ) -> Result<Result<Vec<StoredFile>, Vec<FieldError>>, CandidateError> {
        let mut files = Vec::with_capacity(contents.len());
        let mut problems = Vec::new();
        for (i, content) in contents.into_iter().enumerate() {
            let object_key = submission_file_key(&connection.id, submission_id, i);
            let stored = match content {
                FileContent::Inline(bytes) => {
                    let size = bytes.len() as u64;
                    let content_type = metas.get(i).map_or("application/octet-stream", |m| m.content_type.as_str());
                    self.files.put(&object_key, content_type, Bytes::from(bytes)).await?;
                    StoredFile { object_key, size_bytes: size }
                }
                FileContent::Upload(_) => {
                    let Some((_, upload)) = uploads.iter().find(|(at, _)| *at == i) else { continue };
                    if !self.files.copy(&upload.object_key, &object_key).await? {
                        problems.push(FieldError::new(format!("files[{i}].upload_id"), "nothing was uploaded yet"));
                        continue;
                    }
                    StoredFile { object_key, size_bytes: upload.size_bytes }
                }
            };
            files.push(stored);
        }
        if problems.is_empty() {
            return Ok(Ok(files));
        }
        for f in &files {
            let _ = self.files.delete(&f.object_key).await;
        }
        Ok(Err(problems))
    }
    /// What the partner is told of a submission as it stands: created, added to a candidate
    /// Lever had, accepted and still working (queued or held), or refused for a failure the
    /// partner must act on.
    pub(super) fn answer_for(&self, r: &SubmissionRecord, connection: &Connection) -> StoredAnswer {
        let outcome = match r.state {
            SubmissionState::Created => SubmitOutcome::Created,
            SubmissionState::Updated => SubmitOutcome::Updated,
            SubmissionState::Queued | SubmissionState::Pending => SubmitOutcome::Accepted,
            SubmissionState::Failed => {
                let (code, message) = r.error.as_ref().map(|e| (e.code.as_str(), e.message.as_str())).unwrap_or((error_codes::LEVER_REJECTED, ""));
                let (kind, errors) = match code {
                    error_codes::CONNECTION_NOT_ACTIVE => (RefusalKind::ConnectionNotActive, vec![]),
                    error_codes::NO_PERFORM_AS => (RefusalKind::InvalidRequest, vec![("settings.perform_as".to_owned(), message.to_owned())]),
                    error_codes::NOT_IN_LEVER => (RefusalKind::InvalidRequest, vec![("candidate.emails".to_owned(), message.to_owned())]),
                    _ => (RefusalKind::LeverRejected, vec![]),
                };
                SubmitOutcome::Refused(StoredProblem {
                    kind,
                    detail: format!(
                        "{message} (candidate {} is kept as failed, error {code}; fix the cause, then POST …/candidates/{}/retry)",
                        r.id, r.id
                    ),
                    errors,
                })
            }
        };
        StoredAnswer {
            outcome,
            body: submission_view(r, Some(&connection.settings)),
            location: Some(format!("/v1/connections/{}/candidates/{}", r.connection_id, r.id)),
        }
    }
}
