//! The Data API calls of [`LeverHttpClient`], one per [`LeverApi`] method: each names its
//! endpoint, query and retry class, and leaves limits, retries and decoding to the client.

use super::*;

#[async_trait]
impl LeverApi for LeverHttpClient {
    async fn list_postings(&self, auth: &LeverAuth, query: &PostingsQuery, page: PageRequest) -> LeverResult<Page<Posting>> {
        self.get_page(auth, "list_postings", &["postings"], &query.to_pairs(), &page).await
    }

    async fn get_posting(&self, auth: &LeverAuth, posting_id: &str) -> LeverResult<Posting> {
        self.get_one(auth, "get_posting", &["postings", posting_id], &[]).await
    }

    async fn list_deleted_postings(&self, auth: &LeverAuth, deleted_since: Option<i64>, page: PageRequest) -> LeverResult<Page<DeletedPosting>> {
        let query: Vec<(&str, String)> = deleted_since.map(|ms| ("deleted_at_start", ms.to_string())).into_iter().collect();
        self.get_page(auth, "list_deleted_postings", &["postings", "deleted"], &query, &page).await
    }

    async fn list_deleted_opportunities(
        &self,
        auth: &LeverAuth,
        deleted_since: Option<i64>,
        page: PageRequest,
    ) -> LeverResult<Page<DeletedOpportunity>> {
        let query: Vec<(&str, String)> = deleted_since.map(|ms| ("deleted_at_start", ms.to_string())).into_iter().collect();
        self.get_page(auth, "list_deleted_opportunities", &["opportunities", "deleted"], &query, &page).await
    }

    async fn create_opportunity(&self, auth: &LeverAuth, perform_as: &str, body: &NewOpportunity) -> LeverResult<Created<Opportunity>> {
        let url = self.url(&["opportunities"], &[("perform_as", perform_as.to_owned())], None);
        self.fetch(auth, Self::call("create_opportunity", Method::POST, url, Self::json_body(body)?, RetryClass::Create)).await
    }

    async fn create_opportunity_with_files(
        &self,
        auth: &LeverAuth,
        perform_as: &str,
        body: &NewOpportunity,
        resume: Option<FileUpload>,
        files: Vec<FileUpload>,
    ) -> LeverResult<Created<Opportunity>> {
        let url = self.url(&["opportunities"], &[("perform_as", perform_as.to_owned())], None);
        let mut parts: Vec<(String, FileUpload)> = resume.into_iter().map(|r| ("resumeFile".to_owned(), r)).collect();
        parts.extend(files.into_iter().map(|f| ("files[]".to_owned(), f)));
        let payload = Payload::Multipart { fields: body.to_form_fields(), files: parts };
        self.fetch(auth, Self::call("create_opportunity_multipart", Method::POST, url, payload, RetryClass::Create)).await
    }

    async fn get_opportunity(&self, auth: &LeverAuth, opportunity_id: &str, expand: &[OpportunityExpand]) -> LeverResult<Opportunity> {
        let query: Vec<(&str, String)> = expand.iter().map(|e| ("expand", e.as_str().to_owned())).collect();
        self.get_one(auth, "get_opportunity", &["opportunities", opportunity_id], &query).await
    }

    async fn list_opportunities(&self, auth: &LeverAuth, query: &OpportunitiesQuery, page: PageRequest) -> LeverResult<Page<Opportunity>> {
        self.get_page(auth, "list_opportunities", &["opportunities"], &query.to_pairs(), &page).await
    }

    async fn change_stage(&self, auth: &LeverAuth, opportunity_id: &str, stage_id: &str, perform_as: Option<&str>) -> LeverResult<Opportunity> {
        let body = serde_json::json!({ "stage": stage_id });
        self.opportunity_update(auth, "change_stage", Method::PUT, opportunity_id, "stage", &body, perform_as).await
    }

    async fn archive_opportunity(
        &self,
        auth: &LeverAuth,
        opportunity_id: &str,
        body: &ArchiveRequest,
        perform_as: Option<&str>,
    ) -> LeverResult<Opportunity> {
        self.opportunity_update(auth, "archive_opportunity", Method::PUT, opportunity_id, "archived", body, perform_as).await
    }

    async fn add_tags(&self, auth: &LeverAuth, opportunity_id: &str, tags: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        let body = serde_json::json!({ "tags": tags });
        self.opportunity_update(auth, "add_tags", Method::POST, opportunity_id, "addTags", &body, perform_as).await
    }

    async fn add_sources(&self, auth: &LeverAuth, opportunity_id: &str, sources: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        let body = serde_json::json!({ "sources": sources });
        self.opportunity_update(auth, "add_sources", Method::POST, opportunity_id, "addSources", &body, perform_as).await
    }

    async fn add_links(&self, auth: &LeverAuth, opportunity_id: &str, links: &[String], perform_as: Option<&str>) -> LeverResult<Opportunity> {
        let body = serde_json::json!({ "links": links });
        self.opportunity_update(auth, "add_links", Method::POST, opportunity_id, "addLinks", &body, perform_as).await
    }

    async fn create_note(&self, auth: &LeverAuth, opportunity_id: &str, note: &NewNote, perform_as: Option<&str>) -> LeverResult<Note> {
        let query: Vec<(&str, String)> = perform_as.map(|p| ("perform_as", p.to_owned())).into_iter().collect();
        let url = self.url(&["opportunities", opportunity_id, "notes"], &query, None);
        let d: Data<Note> = self.fetch(auth, Self::call("create_note", Method::POST, url, Self::json_body(note)?, RetryClass::Create)).await?;
        Ok(d.data)
    }

    async fn upload_file(&self, auth: &LeverAuth, opportunity_id: &str, perform_as: &str, file: FileUpload) -> LeverResult<LeverFile> {
        let url = self.url(&["opportunities", opportunity_id, "files"], &[("perform_as", perform_as.to_owned())], None);
        let payload = Payload::Multipart { fields: Vec::new(), files: vec![("file".to_owned(), file)] };
        let d: Data<LeverFile> = self.fetch(auth, Self::call("upload_file", Method::POST, url, payload, RetryClass::Create)).await?;
        Ok(d.data)
    }

    async fn list_notes(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Note>> {
        self.get_page(auth, "list_notes", &["opportunities", opportunity_id, "notes"], &[], &page).await
    }

    async fn list_files(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<LeverFile>> {
        self.get_page(auth, "list_files", &["opportunities", opportunity_id, "files"], &[], &page).await
    }

    async fn list_offers(&self, auth: &LeverAuth, opportunity_id: &str, page: PageRequest) -> LeverResult<Page<Offer>> {
        self.get_page(auth, "list_offers", &["opportunities", opportunity_id, "offers"], &[], &page).await
    }

    async fn list_users(&self, auth: &LeverAuth, query: &UsersQuery, page: PageRequest) -> LeverResult<Page<User>> {
        self.get_page(auth, "list_users", &["users"], &query.to_pairs(), &page).await
    }

    async fn find_user_by_email(&self, auth: &LeverAuth, email: &str) -> LeverResult<Option<User>> {
        let query = UsersQuery { email: Some(email.trim().to_owned()), ..Default::default() };
        let page = self.list_users(auth, &query, PageRequest::default()).await?;
        Ok(page.data.into_iter().find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))))
    }

    async fn get_user(&self, auth: &LeverAuth, user_id: &str) -> LeverResult<User> {
        self.get_one(auth, "get_user", &["users", user_id], &[]).await
    }

    async fn get_contact(&self, auth: &LeverAuth, contact_id: &str) -> LeverResult<Contact> {
        self.get_one(auth, "get_contact", &["contacts", contact_id], &[]).await
    }

    async fn list_stages(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Stage>> {
        self.get_page(auth, "list_stages", &["stages"], &[], &page).await
    }

    async fn list_archive_reasons(&self, auth: &LeverAuth, kind: Option<ArchiveReasonType>, page: PageRequest) -> LeverResult<Page<ArchiveReason>> {
        let query: Vec<(&str, String)> = kind.map(|k| ("type", k.to_string())).into_iter().collect();
        self.get_page(auth, "list_archive_reasons", &["archive_reasons"], &query, &page).await
    }

    async fn get_posting_expanded(&self, auth: &LeverAuth, posting_id: &str, expand: &[PostingExpand]) -> LeverResult<Posting> {
        let query: Vec<(&str, String)> = expand.iter().map(|e| ("expand", e.as_str().to_owned())).collect();
        self.get_one(auth, "get_posting", &["postings", posting_id], &query).await
    }

    async fn create_webhook(&self, auth: &LeverAuth, body: &NewWebhook) -> LeverResult<Webhook> {
        let url = self.url(&["webhooks"], &[], None);
        let d: Data<Webhook> = self.fetch(auth, Self::call("create_webhook", Method::POST, url, Self::json_body(body)?, RetryClass::Create)).await?;
        Ok(d.data)
    }

    async fn list_webhooks(&self, auth: &LeverAuth, page: PageRequest) -> LeverResult<Page<Webhook>> {
        self.get_page(auth, "list_webhooks", &["webhooks"], &[], &page).await
    }

    async fn delete_webhook(&self, auth: &LeverAuth, webhook_id: &str) -> LeverResult<()> {
        let url = self.url(&["webhooks", webhook_id], &[], None);
        self.execute(Some(auth), &Self::call("delete_webhook", Method::DELETE, url, Payload::Empty, RetryClass::IdempotentWrite)).await?;
        Ok(())
    }
}
