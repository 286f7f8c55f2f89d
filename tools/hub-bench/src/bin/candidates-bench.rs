//! `candidates-bench`: what one candidate submission costs the hub itself.
//!
//! `cargo run --release -p hub-bench --bin candidates-bench [-- --iterations N]`
//!
//! - Lever calls per submission (a referral with resume, cover letter and endorsement, new and
//!   for a candidate already on the posting), counted at the Lever port.
//! - In-process time per submission with Lever and the store taken out: Lever is an in-process
//!   fake that answers at once, the store the in-memory embedded store (microseconds an
//!   operation); store operations are counted, so their cost on DynamoDB can be added
//!   (a few ms each, see the README's store rows).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clap::Parser;
use serde_json::json;
use shared::clock::{Clock, SystemClock};
use shared::core::catalog::ProfileCatalog;
use shared::core::connection::{Connection, ConnectionStatus, LeverAccount};
use shared::core::submission::Submission;
use shared::files::{FileError, FileStore, PresignedPut, StoredObject};
use shared::flows::activity::ActivityLog;
use shared::flows::candidates::{CandidatePolicy, Candidates, SubmitOutcome};
use shared::flows::delivery::{DeliveryPolicy, EventDelivery};
use shared::flows::status::StatusChanges;
use shared::flows::tokens::{TokenPolicy, Tokens};
use shared::lever::error::{LeverError, LeverResult};
use shared::lever::model::*;
use shared::lever::oauth::TokenSet;
use shared::lever::page::{Page, PageRequest};
use shared::lever::port::{LeverApi, LeverAuth, LeverOAuth};
use shared::lever::secret::{AccessToken, RefreshToken, Secret};
use shared::queue::EmbeddedQueue;
use shared::secrets::local::random_key;
use shared::secrets::{SecretString, TokenCipher};
use shared::store::embedded::EmbeddedStore;
use shared::store::{DueQuery, Expect, Item, Key, Page as StorePage, Query, Records, Store, StoreError, Write};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 2000)]
    iterations: usize,
}

const POSTING: &str = "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e";
const USER: &str = "8d49b010-cc6a-4f40-ace5-e86061c677ed";

/// Lever, answering at once. Opportunities exist for emails starting with `existing`.
#[derive(Default)]
struct InstantLever {
    calls: Mutex<BTreeMap<&'static str, u64>>,
}

impl InstantLever {
    fn count(&self, op: &'static str) {
        *self.calls.lock().unwrap().entry(op).or_default() += 1;
    }
    fn take(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

fn opportunity(id: &str) -> Opportunity {
    serde_json::from_value(json!({"id": id, "contact": "c-1", "stage": "applicant-new", "sources": ["Job site"], "createdAt": 1})).unwrap()
}

fn not_faked<T>() -> LeverResult<T> {
    Err(LeverError::Config("not part of the benchmark".into()))
}

#[async_trait]
impl LeverApi for InstantLever {
    async fn list_postings(&self, _: &LeverAuth, _: &PostingsQuery, _: PageRequest) -> LeverResult<Page<Posting>> {
        not_faked()
    }
    async fn get_posting(&self, _: &LeverAuth, _: &str) -> LeverResult<Posting> {
        not_faked()
    }
    async fn get_posting_expanded(&self, _: &LeverAuth, _: &str, _: &[PostingExpand]) -> LeverResult<Posting> {
        not_faked()
    }
    async fn list_deleted_postings(&self, _: &LeverAuth, _: Option<i64>, _: PageRequest) -> LeverResult<Page<DeletedPosting>> {
        not_faked()
    }
    async fn list_deleted_opportunities(&self, _: &LeverAuth, _: Option<i64>, _: PageRequest) -> LeverResult<Page<DeletedOpportunity>> {
        not_faked()
    }
    async fn create_opportunity(&self, _: &LeverAuth, _: &str, _: &NewOpportunity) -> LeverResult<Created<Opportunity>> {
        self.count("POST /opportunities (JSON)");
        Ok(Created { deduped: false, data: opportunity(&uuid::Uuid::new_v4().to_string()) })
    }
    async fn create_opportunity_with_files(
        &self,
        _: &LeverAuth,
        _: &str,
        _: &NewOpportunity,
        _: Option<FileUpload>,
        _: Vec<FileUpload>,
    ) -> LeverResult<Created<Opportunity>> {
        self.count("POST /opportunities (multipart)");
        Ok(Created { deduped: false, data: opportunity(&uuid::Uuid::new_v4().to_string()) })
    }
    async fn get_opportunity(&self, _: &LeverAuth, id: &str, _: &[OpportunityExpand]) -> LeverResult<Opportunity> {
        self.count("GET /opportunities/:id");
        Ok(opportunity(id))
    }
    async fn list_opportunities(&self, _: &LeverAuth, q: &OpportunitiesQuery, _: PageRequest) -> LeverResult<Page<Opportunity>> {
        self.count("GET /opportunities?email&posting_id");
        let existing = q.emails.iter().any(|e| e.starts_with("existing"));
        let data = if existing { vec![opportunity("5a1f7c2e-8b3d-4f6a-9c0e-1d2b3c4d5e6f")] } else { vec![] };
        Ok(Page { data, next: None, has_next: false })
    }
    async fn change_stage(&self, _: &LeverAuth, id: &str, _: &str, _: Option<&str>) -> LeverResult<Opportunity> {
        self.count("PUT /opportunities/:id/stage");
        Ok(opportunity(id))
    }
    async fn archive_opportunity(&self, _: &LeverAuth, _: &str, _: &ArchiveRequest, _: Option<&str>) -> LeverResult<Opportunity> {
        not_faked()
    }
    async fn add_tags(&self, _: &LeverAuth, id: &str, _: &[String], _: Option<&str>) -> LeverResult<Opportunity> {
        self.count("POST /opportunities/:id/addTags");
        Ok(opportunity(id))
    }
    async fn add_sources(&self, _: &LeverAuth, id: &str, _: &[String], _: Option<&str>) -> LeverResult<Opportunity> {
        self.count("POST /opportunities/:id/addSources");
        Ok(opportunity(id))
    }
    async fn add_links(&self, _: &LeverAuth, _: &str, _: &[String], _: Option<&str>) -> LeverResult<Opportunity> {
        not_faked()
    }
    async fn create_note(&self, _: &LeverAuth, _: &str, _: &NewNote, _: Option<&str>) -> LeverResult<Note> {
        self.count("POST /opportunities/:id/notes");
        Ok(serde_json::from_value(json!({"id": "n-1"})).unwrap())
    }
    async fn upload_file(&self, _: &LeverAuth, _: &str, _: &str, _: FileUpload) -> LeverResult<LeverFile> {
        self.count("POST /opportunities/:id/files");
        Ok(serde_json::from_value(json!({"id": "f-1"})).unwrap())
    }
    async fn list_notes(&self, _: &LeverAuth, _: &str, _: PageRequest) -> LeverResult<Page<Note>> {
        not_faked()
    }
    async fn list_files(&self, _: &LeverAuth, _: &str, _: PageRequest) -> LeverResult<Page<LeverFile>> {
        not_faked()
    }
    async fn list_offers(&self, _: &LeverAuth, _: &str, _: PageRequest) -> LeverResult<Page<Offer>> {
        not_faked()
    }
    async fn list_users(&self, _: &LeverAuth, _: &UsersQuery, _: PageRequest) -> LeverResult<Page<User>> {
        not_faked()
    }
    async fn find_user_by_email(&self, _: &LeverAuth, _: &str) -> LeverResult<Option<User>> {
        self.count("GET /users?email");
        Ok(None)
    }
    async fn get_user(&self, _: &LeverAuth, id: &str) -> LeverResult<User> {
        self.count("GET /users/:id");
        Ok(serde_json::from_value(json!({"id": id, "name": "Admin"})).unwrap())
    }
    async fn get_contact(&self, _: &LeverAuth, _: &str) -> LeverResult<Contact> {
        not_faked()
    }
    async fn list_stages(&self, _: &LeverAuth, _: PageRequest) -> LeverResult<Page<Stage>> {
        not_faked()
    }
    async fn list_archive_reasons(&self, _: &LeverAuth, _: Option<ArchiveReasonType>, _: PageRequest) -> LeverResult<Page<ArchiveReason>> {
        not_faked()
    }
    async fn create_webhook(&self, _: &LeverAuth, _: &NewWebhook) -> LeverResult<Webhook> {
        not_faked()
    }
    async fn list_webhooks(&self, _: &LeverAuth, _: PageRequest) -> LeverResult<Page<Webhook>> {
        not_faked()
    }
    async fn delete_webhook(&self, _: &LeverAuth, _: &str) -> LeverResult<()> {
        not_faked()
    }
}

#[async_trait]
impl LeverOAuth for InstantLever {
    fn authorize_url(&self, _: &str, _: &str, _: &[String], _: Option<&str>) -> url::Url {
        url::Url::parse("https://lever.invalid/authorize").unwrap()
    }
    async fn exchange_code(&self, _: &str, _: &str, _: Option<&str>) -> LeverResult<TokenSet> {
        not_faked()
    }
    async fn refresh(&self, _: &RefreshToken) -> LeverResult<TokenSet> {
        not_faked()
    }
}

/// Counts store operations by kind on top of the in-memory store.
struct CountingStore {
    inner: EmbeddedStore,
    reads: AtomicU64,
    writes: AtomicU64,
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, expect: Expect) -> Result<u64, StoreError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.put(item, expect).await
    }
    async fn delete(&self, key: &Key, expect: Expect) -> Result<Option<Item>, StoreError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.delete(key, expect).await
    }
    async fn query(&self, query: &Query) -> Result<StorePage, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.query(query).await
    }
    async fn query_due(&self, query: &DueQuery) -> Result<StorePage, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.query_due(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.transact(writes).await
    }
}

/// Files in memory: the file store's cost (S3 or a disk) is left out like the table's.
#[derive(Default)]
struct MemoryFiles {
    objects: Mutex<BTreeMap<String, (String, bytes::Bytes)>>,
}

#[async_trait]
impl FileStore for MemoryFiles {
    async fn put(&self, key: &str, content_type: &str, bytes: bytes::Bytes) -> Result<(), FileError> {
        self.objects.lock().unwrap().insert(key.to_owned(), (content_type.to_owned(), bytes));
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<bytes::Bytes>, FileError> {
        Ok(self.objects.lock().unwrap().get(key).map(|(_, b)| b.clone()))
    }
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        Ok(self.objects.lock().unwrap().get(key).map(|(t, b)| StoredObject { size: b.len() as u64, content_type: Some(t.clone()) }))
    }
    async fn copy(&self, from: &str, to: &str) -> Result<bool, FileError> {
        let mut objects = self.objects.lock().unwrap();
        let Some(o) = objects.get(from).cloned() else { return Ok(false) };
        objects.insert(to.to_owned(), o);
        Ok(true)
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.objects.lock().unwrap().remove(key);
        Ok(())
    }
    async fn presign_put(&self, _: &str, _: &str, _: u64, _: Duration) -> Result<PresignedPut, FileError> {
        Err(FileError::Invalid("not part of the benchmark".into()))
    }
}

fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0
}

fn referral(email: &str) -> Submission {
    use base64::Engine as _;
    // Bytes that are a PDF by their signature (the hub checks it), of the size asked for.
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode([b"%PDF-1.4\n".as_slice(), &vec![b'%'; n.saturating_sub(9)]].concat());
    serde_json::from_value(json!({
        "kind": "referral",
        "candidate": {"name": "Ada Lovelace", "emails": [email]},
        "postings": [format!("https://jobs.lever.co/acme/{POSTING}")],
        "referrer": {"name": "Grace Hopper", "email": "grace@partner.example"},
        "endorsement": "The best analyst I have worked with.",
        "files": [
            {"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(60_000)},
            {"name": "letter.pdf", "content_type": "application/pdf", "role": "cover_letter", "content_base64": b64(20_000)},
        ],
    }))
    .unwrap()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = Arc::new(CountingStore { inner: EmbeddedStore::in_memory(), reads: AtomicU64::new(0), writes: AtomicU64::new(0) });
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let records = Records::new(store.clone(), clock.clone());
    let catalog = Arc::new(ProfileCatalog::bundled().unwrap());
    let lever = Arc::new(InstantLever::default());
    let cipher = Arc::new(TokenCipher::from_secret(&SecretString::new(random_key())).unwrap());
    let delivery = EventDelivery::new(records.clone(), Arc::new(EmbeddedQueue::new()), cipher.clone(), DeliveryPolicy::default()).unwrap();
    let activity = ActivityLog::new(records.clone());
    let status = StatusChanges::new(records.clone(), Arc::new(delivery.clone()), activity.clone(), catalog.clone());
    let instant = shared::lever::environments::LeverPair { api: lever.clone(), oauth: lever.clone() };
    let environments = shared::lever::environments::LeverEnvironments::same(instant);
    let tokens = Tokens::new(records.clone(), environments, cipher, status, activity.clone(), TokenPolicy::default());
    let files = Arc::new(MemoryFiles::default());
    let candidates = Candidates::new(
        records.clone(),
        catalog,
        lever.clone(),
        tokens.clone(),
        files,
        Arc::new(EmbeddedQueue::new()),
        Arc::new(delivery),
        activity,
        CandidatePolicy::default(),
    );

    // One active HireUp connection with fresh tokens.
    let now = clock.now_ms();
    let mut connection = Connection::new("conn-bench", "hireup", now);
    connection.status = ConnectionStatus::Active;
    connection.lever = Some(LeverAccount { account_id: None, authorized_by_user_id: Some(USER.into()), scopes: vec![], api_base: None });
    let set = TokenSet {
        access_token: AccessToken::new("access"),
        refresh_token: Some(RefreshToken::new("refresh")),
        token_type: None,
        scope: None,
        expires_in: 3600 * 24,
    };
    connection.tokens = Some(tokens.seal("conn-bench", &set, &Secret::new("refresh"), now));
    records.create(&connection).await.unwrap();

    let submit = |email: String, key: String| {
        let candidates = candidates.clone();
        async move {
            let s = referral(&email);
            let body = serde_json::to_vec(&s).unwrap();
            let answer = candidates.intake().submit("hireup", "conn-bench", Some(&key), &s, &body).await.unwrap();
            assert!(matches!(answer.answer.outcome, SubmitOutcome::Created | SubmitOutcome::Updated), "{:?}", answer.answer);
        }
    };
    // Warm-up (the perform_as user is looked up once an hour), then the counted ones.
    submit("warm@bench.example".into(), "warm".into()).await;
    lever.take();
    submit("new@bench.example".into(), "new".into()).await;
    let new_calls = lever.take();
    submit("existing@bench.example".into(), "existing".into()).await;
    let existing_calls = lever.take();
    let sum = |c: &BTreeMap<&str, u64>| c.values().sum::<u64>();
    println!("| submission | Lever calls | which |\n|---|---|---|");
    println!("| referral, new candidate (resume, cover letter, endorsement) | {} | {new_calls:?} |", sum(&new_calls));
    println!("| same referral, candidate already on the posting | {} | {existing_calls:?} |", sum(&existing_calls));

    let (r0, w0) = (store.reads.load(Ordering::Relaxed), store.writes.load(Ordering::Relaxed));
    let mut samples = Vec::with_capacity(args.iterations);
    for i in 0..args.iterations {
        let started = Instant::now();
        submit(format!("c{i}@bench.example"), format!("k{i}")).await;
        samples.push(started.elapsed());
    }
    let n = args.iterations as u64;
    let (reads, writes) = ((store.reads.load(Ordering::Relaxed) - r0) / n, (store.writes.load(Ordering::Relaxed) - w0) / n);
    println!(
        "\nIn-process time per new referral (resume 60 KB, cover letter 20 KB, endorsement), instant Lever, in-memory store, \
         n = {}: p50 {:.3} ms, p99 {:.3} ms; store operations per submission: {reads} reads, {writes} writes",
        args.iterations,
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    );
}
