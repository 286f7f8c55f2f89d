//! The Lever ports: [`LeverApi`] (Data API) and [`LeverOAuth`] (consent, code exchange, refresh).
//! Object-safe, so the hub holds `Arc<dyn LeverApi>`; `LeverHttpClient` implements both.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use super::error::LeverResult;
use super::model::*;
use super::oauth::TokenSet;
use super::page::{Page, PageRequest};
use super::secret::{AccessToken, RefreshToken, Secret};
use crate::core::environment::LeverEnvironment;

/// Per-connection credentials for one call. `connection` keys the rate limiter and appears in
/// logs; the token never does.
#[derive(Debug, Clone)]
pub struct LeverAuth {
    pub connection: String,
    pub credential: Credential,
    /// The account's own Data API root, when Lever moved it elsewhere (an EU account) and the
    /// connection remembers it: calls go straight there instead of through a redirect each time.
    pub api_base: Option<Url>,
    /// The root the client learned from a Lever redirect while calling with this auth (shared by
    /// its clones), for the caller to remember on the connection.
    learned_base: Arc<Mutex<Option<Url>>>,
    /// The Lever environment the connection lives in: its calls go to that environment's hosts.
    pub environment: LeverEnvironment,
}

#[derive(Debug, Clone)]
pub enum Credential {
    /// An OAuth access token (partner integrations).
    Bearer(AccessToken),
    /// A customer's API key (HTTP Basic, key as user name): internal tools only.
    ApiKey(Secret),
}

impl LeverAuth {
    pub fn bearer(connection: impl Into<String>, token: AccessToken) -> Self {
        Self::new(connection.into(), Credential::Bearer(token))
    }

    pub fn api_key(connection: impl Into<String>, key: Secret) -> Self {
        Self::new(connection.into(), Credential::ApiKey(key))
    }

    fn new(connection: String, credential: Credential) -> Self {
        Self { connection, credential, environment: LeverEnvironment::Production, api_base: None, learned_base: Arc::default() }
    }

    /// The same credentials, for a connection in `environment`.
    pub fn in_environment(mut self, environment: LeverEnvironment) -> Self {
        self.environment = environment;
        self
    }

    /// Calls go to `api_base` (a remembered root; `None` = the configured one).
    pub fn at(mut self, api_base: Option<Url>) -> Self {
        self.api_base = api_base;
        self
    }

    /// The Data API root Lever redirected calls of this auth to, if it did.
    pub fn learned_base(&self) -> Option<Url> {
        self.learned_base.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn learn_base(&self, base: Url) {
        *self.learned_base.lock().unwrap_or_else(|e| e.into_inner()) = Some(base);
    }

    /// Where this auth's calls go: the root learned by an earlier call, else the remembered one.
    pub(crate) fn base(&self) -> Option<Url> {
        self.learned_base().or_else(|| self.api_base.clone())
    }
}

/// Lever's Data API operations the hub uses. `perform_as` is a Lever user id (the acting user);
/// it is required where Lever requires it and optional elsewhere.
#[async_trait]
pub trait LeverApi: Send + Sync {
    // --- postings ---
    async fn list_postings(&self, auth: &LeverAuth, query: &PostingsQuery, page: PageRequest) -> LeverResult<Page<Posting>>;
    async fn get_posting(&self, auth: &LeverAuth, posting_id: &str) -> LeverResult<Posting>;
    /// Postings deleted at or after `deleted_since` (ms; `None` = all of them).
    async fn list_deleted_postings(&self, auth: &LeverAuth, deleted_since: Option<i64>, page: PageRequest) -> LeverResult<Page<DeletedPosting>>;

    // --- opportunities ---
    /// JSON create. Not retried after it may have reached Lever (see `retry`).
    async fn create_opportunity(&self, auth: &LeverAuth, perform_as: &str, body: &NewOpportunity) -> LeverResult<Created<Opportunity>>;
    /// Multipart create with an optional resume (`resumeFile`) and extra files (`files[]`).
    async fn create_opportunity_with_files(
        &self,
        auth: &LeverAuth,
        perform_as: &str,
        body: &NewOpportunity,
        resume: Option<FileUpload>,
        files: Vec<FileUpload>,
    ) -> LeverResult<Created<Opportunity>>;
    async fn get_opportunity(&self, auth: &LeverAuth, opportunity_id: &str, expand: &[OpportunityExpand]) -> LeverResult<Opportunity>;
    /// Opportunities deleted at or after `deleted_since` (ms; `None` = all of them).
    async fn list_deleted_opportunities(
        &self,
        auth: &LeverAuth,
        deleted_since: Option<i64>,
        page: PageRequest,
    ) -> LeverResult<Page<DeletedOpportunity>>;
    async fn list_opportunities(&self, auth: &LeverAuth, query: &OpportunitiesQuery, page: PageRequest) -> LeverResult<Page<Opportunity>>;
    async fn change_stage(&self, auth: &LeverAuth, opportunity_id: &str, stage_id: &str, perform_as: Option<&str>) -> LeverResult<Opportunity>;
    async fn archive_opportunity(
        &self,
        auth: &LeverAuth,
        opportunity_id: &str,
        body: &ArchiveRequest,
        perform_as: Option<&str>,
    ) -> LeverResult<Opportunity>;
    async fn add_tags(&self, auth: &LeverAuth, opportunity_id: &str, tags: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity>;
    async fn add_sources(&self, auth: &LeverAuth, opportunity_id: &str, sources: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity>;
    async fn add_links(&self, auth: &LeverAuth, opportunity_id: &str, links: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity>;
    async fn create_note(&self, auth: &LeverAuth, opportunity_id: &str, note: &NewNote, perform_as: Option<&str>) -> LeverResult<Note>;
    async fn upload_file(&self, auth: &LeverAuth, opportunity_id: &str, perform_as: &str, file: FileUpload) -> LeverResult<LeverFile>;
    /// The opportunity's notes (to find out whether a note whose create went unanswered exists).
    async fn list_notes(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Note>>;
    /// The opportunity's files (same purpose, for uploads).
    async fn list_files(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<LeverFile>>;
    async fn list_offers(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Offer>>;

    // --- people and vocabularies ---
    async fn list_users(&self, auth: &LeverAuth, query: &UsersQuery, page: PageRequest) -> LeverResult<Page<User>>;
    /// The active user with exactly this (canonicalised) email, if any.
    async fn find_user_by_email(&self, auth: &LeverAuth, email: &str) -> LeverResult<Option<User>>;
    /// One user, deactivated ones included (`deactivated_at` set).
    async fn get_user(&self, auth: &LeverAuth, user_id: &str) -> LeverResult<User>;
    async fn get_contact(&self, auth: &LeverAuth, contact_id: &str) -> LeverResult<Contact>;
    async fn list_stages(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Stage>>;
    async fn list_archive_reasons(&self, auth: &LeverAuth, kind: Option<ArchiveReasonType>, page: PageRequest) -> LeverResult<Page<ArchiveReason>>;
    /// `GET /postings/:id` with user references expanded (the hires import reads the hiring
    /// manager's name this way, in the same request).
    async fn get_posting_expanded(&self, auth: &LeverAuth, posting_id: &str, expand: &[PostingExpand]) -> LeverResult<Posting>;

    // --- webhooks ---
    /// The answer carries `configuration.signatureToken`: store it, Lever never shows it again.
    async fn create_webhook(&self, auth: &LeverAuth, body: &NewWebhook) -> LeverResult<Webhook>;
    async fn list_webhooks(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Webhook>>;
    async fn delete_webhook(&self, auth: &LeverAuth, webhook_id: &str) -> LeverResult<()>;
}

/// Lever's OAuth server.
#[async_trait]
pub trait LeverOAuth: Send + Sync {
    /// Where to send the Super Admin for consent (pure; `state` is the caller's). With
    /// `code_challenge`, PKCE (S256) binds the code to the verifier given at exchange.
    fn authorize_url(&self, redirect_uri: &str, state: &str, scopes: &[String], code_challenge: Option<&str>) -> Url;
    /// Exchange the one-time `code` from the redirect (with the PKCE verifier when one was used).
    async fn exchange_code(&self, code: &str, redirect_uri: &str, code_verifier: Option<&str>) -> LeverResult<TokenSet>;
    /// Refresh; the answer holds the NEW refresh token, which the caller must persist.
    async fn refresh(&self, refresh_token: &RefreshToken) -> LeverResult<TokenSet>;
}
