//! Lever's two environments behind one [`LeverApi`]: each call goes to the client of its
//! connection's environment ([`LeverAuth::environment`]), so flows never choose a host.

use std::sync::Arc;

use async_trait::async_trait;

use super::error::LeverResult;
use super::model::*;
use super::page::{Page, PageRequest};
use super::port::{LeverApi, LeverAuth, LeverOAuth};
use crate::core::environment::LeverEnvironment;

/// The Data API and OAuth clients of one Lever environment.
#[derive(Clone)]
pub struct LeverPair {
    pub api: Arc<dyn LeverApi>,
    pub oauth: Arc<dyn LeverOAuth>,
}

/// Both environments' clients.
#[derive(Clone)]
pub struct LeverEnvironments {
    pub production: LeverPair,
    pub sandbox: LeverPair,
}

impl LeverEnvironments {
    /// One client for both (a local sandbox whose OAuth app serves both environments).
    pub fn same(pair: LeverPair) -> Self {
        Self { production: pair.clone(), sandbox: pair }
    }

    pub fn get(&self, e: LeverEnvironment) -> &LeverPair {
        match e {
            LeverEnvironment::Production => &self.production,
            LeverEnvironment::Sandbox => &self.sandbox,
        }
    }

    /// A [`LeverApi`] that sends each call to its connection's environment.
    pub fn api(&self) -> Arc<dyn LeverApi> {
        Arc::new(self.clone())
    }

    fn pick(&self, auth: &LeverAuth) -> &Arc<dyn LeverApi> {
        &self.get(auth.environment).api
    }
}

#[async_trait]
impl LeverApi for LeverEnvironments {
    async fn list_postings(&self, auth: &LeverAuth, query: &PostingsQuery, page: PageRequest) -> LeverResult<Page<Posting>> {
        self.pick(auth).list_postings(auth, query, page).await
    }
    async fn get_posting(&self, auth: &LeverAuth, posting_id: &str) -> LeverResult<Posting> {
        self.pick(auth).get_posting(auth, posting_id).await
    }
    async fn list_deleted_postings(&self, auth: &LeverAuth, deleted_since: Option<i64>, page: PageRequest) -> LeverResult<Page<DeletedPosting>> {
        self.pick(auth).list_deleted_postings(auth, deleted_since, page).await
    }
    async fn create_opportunity(&self, auth: &LeverAuth, perform_as: &str, body: &NewOpportunity) -> LeverResult<Created<Opportunity>> {
        self.pick(auth).create_opportunity(auth, perform_as, body).await
    }
    async fn create_opportunity_with_files(
        &self,
        auth: &LeverAuth,
        perform_as: &str,
        body: &NewOpportunity,
        resume: Option<FileUpload>,
        files: Vec<FileUpload>,
    ) -> LeverResult<Created<Opportunity>> {
        self.pick(auth).create_opportunity_with_files(auth, perform_as, body, resume, files).await
    }
    async fn get_opportunity(&self, auth: &LeverAuth, opportunity_id: &str, expand: &[OpportunityExpand]) -> LeverResult<Opportunity> {
        self.pick(auth).get_opportunity(auth, opportunity_id, expand).await
    }
    async fn list_deleted_opportunities(
        &self,
        auth: &LeverAuth,
        deleted_since: Option<i64>,
        page: PageRequest,
    ) -> LeverResult<Page<DeletedOpportunity>> {
        self.pick(auth).list_deleted_opportunities(auth, deleted_since, page).await
    }
    async fn list_opportunities(&self, auth: &LeverAuth, query: &OpportunitiesQuery, page: PageRequest) -> LeverResult<Page<Opportunity>> {
        self.pick(auth).list_opportunities(auth, query, page).await
    }
    async fn change_stage(&self, auth: &LeverAuth, opportunity_id: &str, stage_id: &str, perform_as: Option<&str>) -> LeverResult<Opportunity> {
        self.pick(auth).change_stage(auth, opportunity_id, stage_id, perform_as).await
    }
    async fn archive_opportunity(
        &self,
        auth: &LeverAuth,
        opportunity_id: &str,
        body: &ArchiveRequest,
        perform_as: Option<&str>,
    ) -> LeverResult<Opportunity> {
        self.pick(auth).archive_opportunity(auth, opportunity_id, body, perform_as).await
    }
    async fn add_tags(&self, auth: &LeverAuth, opportunity_id: &str, tags: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        self.pick(auth).add_tags(auth, opportunity_id, tags, perform_as).await
    }
    async fn add_sources(&self, auth: &LeverAuth, opportunity_id: &str, sources: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        self.pick(auth).add_sources(auth, opportunity_id, sources, perform_as).await
    }
    async fn add_links(&self, auth: &LeverAuth, opportunity_id: &str, links: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        self.pick(auth).add_links(auth, opportunity_id, links, perform_as).await
    }
    async fn create_note(&self, auth: &LeverAuth, opportunity_id: &str, note: &NewNote, perform_as: Option<&str>) -> LeverResult<Note> {
        self.pick(auth).create_note(auth, opportunity_id, note, perform_as).await
    }
    async fn upload_file(&self, auth: &LeverAuth, opportunity_id: &str, perform_as: &str, file: FileUpload) -> LeverResult<LeverFile> {
        self.pick(auth).upload_file(auth, opportunity_id, perform_as, file).await
    }
    async fn list_notes(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Note>> {
        self.pick(auth).list_notes(auth, opportunity_id, page).await
    }
    async fn list_files(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<LeverFile>> {
        self.pick(auth).list_files(auth, opportunity_id, page).await
    }
    async fn list_offers(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Offer>> {
        self.pick(auth).list_offers(auth, opportunity_id, page).await
    }
    async fn list_users(&self, auth: &LeverAuth, query: &UsersQuery, page: PageRequest) -> LeverResult<Page<User>> {
        self.pick(auth).list_users(auth, query, page).await
    }
    async fn find_user_by_email(&self, auth: &LeverAuth, email: &str) -> LeverResult<Option<User>> {
        self.pick(auth).find_user_by_email(auth, email).await
    }
    async fn get_user(&self, auth: &LeverAuth, user_id: &str) -> LeverResult<User> {
        self.pick(auth).get_user(auth, user_id).await
    }
    async fn get_contact(&self, auth: &LeverAuth, contact_id: &str) -> LeverResult<Contact> {
        self.pick(auth).get_contact(auth, contact_id).await
    }
    async fn list_stages(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Stage>> {
        self.pick(auth).list_stages(auth, page).await
    }
    async fn list_archive_reasons(&self, auth: &LeverAuth, kind: Option<ArchiveReasonType>, page: PageRequest) -> LeverResult<Page<ArchiveReason>> {
        self.pick(auth).list_archive_reasons(auth, kind, page).await
    }
    async fn get_posting_expanded(&self, auth: &LeverAuth, posting_id: &str, expand: &[PostingExpand]) -> LeverResult<Posting> {
        self.pick(auth).get_posting_expanded(auth, posting_id, expand).await
    }
    async fn create_webhook(&self, auth: &LeverAuth, body: &NewWebhook) -> LeverResult<Webhook> {
        self.pick(auth).create_webhook(auth, body).await
    }
    async fn list_webhooks(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Webhook>> {
        self.pick(auth).list_webhooks(auth, page).await
    }
    async fn delete_webhook(&self, auth: &LeverAuth, webhook_id: &str) -> LeverResult<()> {
        self.pick(auth).delete_webhook(auth, webhook_id).await
    }
}
