//! The Data API under `/v1`, one module per resource family.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};

use crate::Shared;
use crate::error::{ApiError, ApiResult};
use crate::respond::Query;
use crate::state::State;

mod candidates;
mod contacts;
mod interviews;
mod multipart;
mod notes_files;
mod opportunities;
mod postings;
mod reference;
mod requisitions;
mod uploads;
mod users;
mod webhooks;

pub(crate) use multipart::stored_file;
pub(crate) use postings::{apply_fields as postings_apply_fields, new_posting};

pub fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/v1/postings", get(postings::list).post(postings::create))
        .route("/v1/postings/deleted", get(postings::deleted))
        .route("/v1/postings/{id}", get(postings::get_one).post(postings::update))
        .route("/v1/postings/{id}/apply", get(postings::apply_form).post(postings::apply))
        .route("/v1/postings/{id}/users", get(postings::users))
        .route("/v1/opportunities", get(opportunities::list).post(opportunities::create))
        .route("/v1/opportunities/deleted", get(opportunities::deleted))
        .route("/v1/opportunities/{id}", get(opportunities::get_one))
        .route("/v1/opportunities/{id}/stage", put(opportunities::stage))
        .route("/v1/opportunities/{id}/archived", put(opportunities::archived))
        .route("/v1/opportunities/{id}/addTags", post(opportunities::add_tags))
        .route("/v1/opportunities/{id}/removeTags", post(opportunities::remove_tags))
        .route("/v1/opportunities/{id}/addSources", post(opportunities::add_sources))
        .route("/v1/opportunities/{id}/removeSources", post(opportunities::remove_sources))
        .route("/v1/opportunities/{id}/addLinks", post(opportunities::add_links))
        .route("/v1/opportunities/{id}/removeLinks", post(opportunities::remove_links))
        .route("/v1/opportunities/{id}/applications", get(opportunities::applications))
        .route("/v1/opportunities/{id}/applications/{app}", get(opportunities::application))
        .route("/v1/opportunities/{id}/offers", get(opportunities::offers))
        .route("/v1/opportunities/{id}/referrals", get(opportunities::referrals))
        .route("/v1/opportunities/{id}/file_actions", get(opportunities::file_actions))
        .route("/v1/opportunities/{id}/interviews", get(interviews::interviews))
        .route("/v1/opportunities/{id}/interviews/{item}", get(interviews::interview))
        .route("/v1/opportunities/{id}/panels", get(interviews::panels))
        .route("/v1/opportunities/{id}/panels/{item}", get(interviews::panel))
        .route("/v1/opportunities/{id}/feedback", get(interviews::feedback_list))
        .route("/v1/opportunities/{id}/feedback/{item}", get(interviews::feedback))
        .route("/v1/candidates", get(candidates::list))
        .route("/v1/candidates/{id}", get(candidates::get_one))
        .route("/v1/candidates/{id}/applications", get(opportunities::applications))
        .route("/v1/candidates/{id}/offers", get(opportunities::offers))
        .route("/v1/candidates/{id}/referrals", get(opportunities::referrals))
        .route("/v1/candidates/{id}/resumes", get(notes_files::list_resumes))
        .route("/v1/requisitions", get(requisitions::list))
        .route("/v1/requisitions/{id}", get(requisitions::get_one))
        .route("/v1/requisition_fields", get(requisitions::fields_list))
        .route("/v1/requisition_fields/{id}", get(requisitions::field))
        .route("/v1/opportunities/{id}/notes", get(notes_files::list_notes).post(notes_files::create_note))
        .route("/v1/opportunities/{id}/notes/{note}", get(notes_files::get_note).put(notes_files::update_note).delete(notes_files::delete_note))
        .route("/v1/opportunities/{id}/files", get(notes_files::list_files).post(notes_files::upload_file))
        .route("/v1/opportunities/{id}/files/{file}", get(notes_files::get_file).delete(notes_files::delete_file))
        .route("/v1/opportunities/{id}/files/{file}/download", get(notes_files::download_file))
        .route("/v1/opportunities/{id}/resumes", get(notes_files::list_resumes))
        .route("/v1/opportunities/{id}/resumes/{file}", get(notes_files::get_resume))
        .route("/v1/opportunities/{id}/resumes/{file}/download", get(notes_files::download_resume))
        .route("/v1/applications/deleted", get(opportunities::applications_deleted))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{id}", get(users::get_one).put(users::update))
        .route("/v1/users/{id}/deactivate", post(users::deactivate))
        .route("/v1/users/{id}/reactivate", post(users::reactivate))
        .route("/v1/stages", get(reference::stages))
        .route("/v1/stages/{id}", get(reference::stage))
        .route("/v1/archive_reasons", get(reference::archive_reasons))
        .route("/v1/archive_reasons/{id}", get(reference::archive_reason))
        .route("/v1/sources", get(reference::sources))
        .route("/v1/tags", get(reference::tags))
        .route("/v1/contacts/{id}", get(contacts::get_one).put(contacts::update))
        .route("/v1/uploads", post(uploads::create))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create).put(webhooks::update))
        .route("/v1/webhooks/{id}", delete(webhooks::remove))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), crate::gate::data_layer))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), crate::gate::faults_layer))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), crate::gate::count_layer))
        .with_state(shared)
}

pub async fn not_found(uri: http::Uri) -> Response {
    ApiError::new(http::StatusCode::NOT_FOUND, "ResourceNotFound", format!("{} does not exist", uri.path())).into_response()
}

pub async fn method_not_allowed(method: http::Method, uri: http::Uri) -> Response {
    ApiError::new(http::StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", format!("{method} is not allowed on {}", uri.path())).into_response()
}

/// Resolves `perform_as`: 400 when required and missing, or when it names no user.
pub(crate) fn perform_as(st: &State, q: &Query, required: bool) -> ApiResult<Option<String>> {
    match q.get("perform_as").filter(|s| !s.is_empty()) {
        None if required => Err(ApiError::missing("perform_as")),
        None => Ok(None),
        Some(id) => match st.user(id) {
            Some(u) => Ok(Some(u.id.clone())),
            None => Err(ApiError::bad_request(format!("perform_as user {id} was not found"))),
        },
    }
}

/// `updated_at_start`/`_end` style inclusive window check.
pub(crate) fn in_window(q: &Query, prefix: &str, ts: i64) -> ApiResult<bool> {
    let start = q.ms(&format!("{prefix}_start"))?;
    let end = q.ms(&format!("{prefix}_end"))?;
    Ok(start.is_none_or(|s| ts >= s) && end.is_none_or(|e| ts <= e))
}
