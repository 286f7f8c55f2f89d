//! File store port: candidate documents between the partner and Lever.
//!
//! Two places under one store: `uploads/` — files a partner uploaded for later use
//! (`POST /v1/connections/{id}/uploads`, then a PUT of the bytes straight to the store), deleted
//! after a few days — and `submissions/` — the files of accepted submissions, kept until the
//! submission is in Lever (a queued submission's files are never lost), then deleted.
//!
//! S3 in AWS ([`S3FileStore`]: a pre-signed PUT, so 30 MB never passes through API Gateway or
//! Lambda); a local directory otherwise ([`DirFileStore`]: the hub serves the upload URL itself).

pub mod local;
pub mod s3;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

pub use local::DirFileStore;
pub use s3::S3FileStore;

/// Partner uploads; the bucket's lifecycle rule deletes them after [`UPLOAD_RETENTION_DAYS`].
pub const UPLOADS_PREFIX: &str = "uploads/";
/// Files of accepted submissions; deleted once written to Lever, else by the lifecycle rule after
/// [`SUBMISSION_FILE_RETENTION_DAYS`] (a failed submission can be retried until then).
pub const SUBMISSIONS_PREFIX: &str = "submissions/";
pub const UPLOAD_RETENTION_DAYS: i64 = 3;
pub const SUBMISSION_FILE_RETENTION_DAYS: i64 = 30;

/// Where an upload's bytes go.
pub fn upload_key(connection_id: &str, upload_id: &str) -> String {
    format!("{UPLOADS_PREFIX}{connection_id}/{upload_id}")
}

/// Where the `index`-th file of a submission is kept.
pub fn submission_file_key(connection_id: &str, submission_id: &str, index: usize) -> String {
    format!("{SUBMISSIONS_PREFIX}{connection_id}/{submission_id}/{index}")
}

/// What the store knows of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A URL the partner PUTs the bytes to, with the headers it must send exactly (they are signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("invalid file request: {0}")]
    Invalid(String),
    #[error("file store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait FileStore: Send + Sync {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), FileError>;

    /// The bytes, or `None` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError>;

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError>;

    /// The first `max_bytes` bytes (fewer if the object is smaller), or `None` when there is no
    /// such object: what a content check reads of an upload of up to 30 MB.
    async fn read_prefix(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>, FileError> {
        let bytes = self.get(key).await?;
        Ok(bytes.map(|b| b.slice(..b.len().min(usize::try_from(max_bytes).unwrap_or(usize::MAX)))))
    }

    /// Copies inside the store (server-side in S3); `false` when `from` does not exist.
    async fn copy(&self, from: &str, to: &str) -> Result<bool, FileError>;

    /// Deleting what is not there is no error.
    async fn delete(&self, key: &str) -> Result<(), FileError>;

    /// A URL that accepts one PUT of exactly `size` bytes of `content_type` to `key` for `valid_for`.
    async fn presign_put(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<PresignedPut, FileError>;

    /// Deletes what the lifecycle rules ([`LIFECYCLE`]) expire by `now_ms`, for stores with no
    /// lifecycle of their own; returns how many objects went. The bucket's rules do it in S3 (the
    /// template declares them), so that adapter keeps this default.
    async fn expire(&self, now_ms: i64) -> Result<usize, FileError> {
        let _ = now_ms;
        Ok(0)
    }
}

/// The lifecycle rules: objects under each prefix are deleted this many days after they were
/// written.
pub const LIFECYCLE: [(&str, i64); 2] = [(UPLOADS_PREFIX, UPLOAD_RETENTION_DAYS), (SUBMISSIONS_PREFIX, SUBMISSION_FILE_RETENTION_DAYS)];

/// The file store of a process that has none configured (a tool, a test without files): every
/// use is an error naming the setting, so a flow that needs files fails clearly and the rest work.
pub struct Unconfigured;

fn unconfigured<T>() -> Result<T, FileError> {
    Err(FileError::Unavailable("no file store is configured: set HUB_FILES_BUCKET (or HUB_FILES_DIR)".into()))
}

#[async_trait]
impl FileStore for Unconfigured {
    async fn put(&self, _: &str, _: &str, _: Bytes) -> Result<(), FileError> {
        unconfigured()
    }
    async fn get(&self, _: &str) -> Result<Option<Bytes>, FileError> {
        unconfigured()
    }
    async fn head(&self, _: &str) -> Result<Option<StoredObject>, FileError> {
        unconfigured()
    }
    async fn copy(&self, _: &str, _: &str) -> Result<bool, FileError> {
        unconfigured()
    }
    async fn delete(&self, _: &str) -> Result<(), FileError> {
        unconfigured()
    }
    async fn presign_put(&self, _: &str, _: &str, _: u64, _: Duration) -> Result<PresignedPut, FileError> {
        unconfigured()
    }
}

/// Keys the hub writes: `/`-separated segments of letters, digits, `-`, `_` and `.` (never `..`).
pub(crate) fn check_key(key: &str) -> Result<(), FileError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    if ok { Ok(()) } else { Err(FileError::Invalid(format!("{key:?} is not a file key"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_paths() {
        assert!(check_key(&upload_key("c1", "u-1")).is_ok());
        assert!(check_key(&submission_file_key("c1", "s1", 0)).is_ok());
        for bad in ["", "/a", "a//b", "a/../b", "..", "a/b c", "a\\b", "a/./b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
