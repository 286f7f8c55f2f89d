//! The file store in a local directory (hub-local, tests), and the upload URL the hub serves
//! itself in place of S3's pre-signed PUT: `PUT <public url>/uploads/<token>`, where the token
//! names the key, content type, exact size and expiry, HMAC-signed with a key derived from the
//! state key. Files are written to a temporary file and renamed (a reader never sees half a
//! file), mode 0600; each object's content type sits beside it in `<name>.type`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{FileError, FileStore, LIFECYCLE, PresignedPut, StoredObject, check_key};
use crate::clock::Clock;

/// Domain separation: the state key also signs OAuth states and derives the cursor key.
const KEY_LABEL: &[u8] = b"lever-hub/local-upload-url/v1";

pub struct DirFileStore {
    root: PathBuf,
    /// Where the hub is reached (`http://127.0.0.1:8080`); upload URLs live under it.
    public_url: Option<url::Url>,
    mac_key: zeroize::Zeroizing<[u8; 32]>,
    clock: Arc<dyn Clock>,
}

#[derive(Serialize, Deserialize)]
struct Grant {
    #[serde(rename = "k")]
    key: String,
    #[serde(rename = "t")]
    content_type: String,
    #[serde(rename = "n")]
    size: u64,
    #[serde(rename = "x")]
    expires_at_ms: i64,
}

impl DirFileStore {
    /// A store under `root` (created 0700 if missing) whose upload URLs start with `public_url`
    /// and are signed with a key derived from `state_key`.
    pub fn new(root: impl Into<PathBuf>, public_url: Option<url::Url>, state_key: &[u8], clock: Arc<dyn Clock>) -> Result<Self, FileError> {
        let root = root.into();
        create_private_dir(&root)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state_key).map_err(|e| FileError::Invalid(e.to_string()))?;
        mac.update(KEY_LABEL);
        let mac_key = zeroize::Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        Ok(Self { root, public_url, mac_key, clock })
    }

    fn path(&self, key: &str) -> Result<PathBuf, FileError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn sign(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.mac_key.as_slice()).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    fn token(&self, grant: &Grant) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = serde_json::to_vec(grant).unwrap_or_default();
        format!("{}.{}", b64.encode(&payload), b64.encode(self.sign(&payload)))
    }

    /// The grant of a token this store signed, still valid; constant-time signature check.
    fn open(&self, token: &str) -> Option<Grant> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, signature) = token.split_once('.')?;
        let payload = b64.decode(payload).ok()?;
        let signature = b64.decode(signature).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.mac_key.as_slice()).ok()?;
        mac.update(&payload);
        mac.verify_slice(&signature).ok()?;
        let grant: Grant = serde_json::from_slice(&payload).ok()?;
        (grant.expires_at_ms > self.clock.now_ms()).then_some(grant)
    }

    /// One PUT to an upload URL: the body must be exactly what the URL was signed for.
    pub async fn receive_upload(&self, token: &str, content_type: Option<&str>, body: Bytes) -> Result<(), UploadRefused> {
        let grant = self.open(token).ok_or(UploadRefused::InvalidUrl)?;
        let sent_type = content_type.map(|t| t.trim().to_ascii_lowercase()).unwrap_or_default();
        if sent_type != grant.content_type {
            return Err(UploadRefused::ContentType { expected: grant.content_type, sent: sent_type });
        }
        if body.len() as u64 != grant.size {
            return Err(UploadRefused::Size { expected: grant.size, sent: body.len() });
        }
        // One PUT per URL: the bytes a submission checked can never be replaced under it.
        let path = self.path(&grant.key)?;
        write_atomic(&type_path(&path), grant.content_type.as_bytes()).await?;
        if write_new(&path, &body).await? { Ok(()) } else { Err(UploadRefused::AlreadyUploaded) }
    }
}

/// Why a PUT to an upload URL was not stored; the API says which to the caller.
#[derive(Debug, thiserror::Error)]
pub enum UploadRefused {
    #[error("the upload URL is not valid or has expired; create a new upload")]
    InvalidUrl,
    #[error("the upload was created for {expected}, the request sends {sent:?}")]
    ContentType { expected: String, sent: String },
    #[error("the upload was created for {expected} bytes, the request sends {sent}")]
    Size { expected: u64, sent: usize },
    #[error("the upload URL took its one PUT already; create a new upload for other bytes")]
    AlreadyUploaded,
    #[error(transparent)]
    Store(#[from] FileError),
}

fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::Unavailable(format!("{}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| FileError::Unavailable(format!("{}: {e}", dir.display())))?;
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> FileError {
    FileError::Unavailable(format!("{}: {e}", path.display()))
}

/// Every object file under `dir` (not the `.type` beside it) last written before `cutoff`.
fn files_written_before(dir: &Path, cutoff: std::time::SystemTime) -> Result<Vec<PathBuf>, FileError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io(&d, e))?;
            let path = entry.path();
            let meta = entry.metadata().map_err(|e| io(&path, e))?;
            if meta.is_dir() {
                pending.push(path);
            } else if path.extension().is_none_or(|x| x != "type") && meta.modified().is_ok_and(|m| m < cutoff) {
                found.push(path);
            }
        }
    }
    Ok(found)
}

fn type_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".type");
    PathBuf::from(p)
}

/// Writes the file whole, only if there is none at `path` (a hard link fails where a name
/// exists, so two racing writers cannot both win); `false` when one was there.
async fn write_new(path: &Path, bytes: &[u8]) -> Result<bool, FileError> {
    let temp = write_temp(path, bytes).await?;
    let linked = tokio::fs::hard_link(&temp, path).await;
    let _ = tokio::fs::remove_file(&temp).await;
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(path, e)),
    }
}

async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let temp = write_temp(path, bytes).await?;
    tokio::fs::rename(&temp, path).await.map_err(|e| io(path, e))
}

/// A new file beside `path` with the bytes, synced, mode 0600.
async fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, FileError> {
    let dir = path.parent().ok_or_else(|| FileError::Invalid(format!("{} has no folder", path.display())))?;
    create_private_dir(dir)?;
    let temp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&temp).await.map_err(|e| io(&temp, e))?;
    use tokio::io::AsyncWriteExt as _;
    file.write_all(bytes).await.map_err(|e| io(&temp, e))?;
    file.sync_all().await.map_err(|e| io(&temp, e))?;
    Ok(temp)
}

#[async_trait]
impl FileStore for DirFileStore {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), FileError> {
        let path = self.path(key)?;
        write_atomic(&type_path(&path), content_type.as_bytes()).await?;
        write_atomic(&path, &bytes).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    async fn read_prefix(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>, FileError> {
        use tokio::io::AsyncReadExt as _;
        let path = self.path(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        let mut bytes = Vec::new();
        file.take(max_bytes).read_to_end(&mut bytes).await.map_err(|e| io(&path, e))?;
        Ok(Some(Bytes::from(bytes)))
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        let path = self.path(key)?;
        let meta = match tokio::fs::metadata(&path).await {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        let content_type = tokio::fs::read_to_string(type_path(&path)).await.ok();
        Ok(Some(StoredObject { size: meta.len(), content_type }))
    }

    async fn copy(&self, from: &str, to: &str) -> Result<bool, FileError> {
        let Some(bytes) = self.get(from).await? else { return Ok(false) };
        let content_type = self.head(from).await?.and_then(|o| o.content_type).unwrap_or_default();
        self.put(to, &content_type, bytes).await?;
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        let path = self.path(key)?;
        for p in [type_path(&path), path] {
            match tokio::fs::remove_file(&p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&p, e)),
            }
        }
        Ok(())
    }

    /// The lifecycle rules S3 applies, applied here by the candidate sweeper: a file (and its
    /// `.type`) written longer ago than its prefix's days is deleted.
    async fn expire(&self, now_ms: i64) -> Result<usize, FileError> {
        let mut expired = 0;
        for (prefix, days) in LIFECYCLE {
            let cutoff = std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(now_ms - days * 24 * 3600 * 1000).unwrap_or(0));
            let root = self.root.join(prefix.trim_end_matches('/'));
            let old = tokio::task::spawn_blocking(move || files_written_before(&root, cutoff))
                .await
                .map_err(|e| FileError::Unavailable(format!("the lifecycle walk stopped: {e}")))??;
            for path in old {
                for p in [type_path(&path), path] {
                    match tokio::fs::remove_file(&p).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io(&p, e)),
                    }
                }
                expired += 1;
            }
        }
        Ok(expired)
    }

    async fn presign_put(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<PresignedPut, FileError> {
        check_key(key)?;
        let valid_ms = i64::try_from(valid_for.as_millis()).unwrap_or(i64::MAX / 2);
        let grant = Grant {
            key: key.to_owned(),
            content_type: content_type.to_ascii_lowercase(),
            size,
            expires_at_ms: self.clock.now_ms().saturating_add(valid_ms),
        };
        let mut url =
            self.public_url.clone().ok_or_else(|| FileError::Invalid("a local file store serves upload URLs under HUB_PUBLIC_URL: set it".into()))?;
        url.path_segments_mut()
            .map_err(|_| FileError::Invalid("the public URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["uploads", &self.token(&grant)]);
        Ok(PresignedPut {
            url: url.to_string(),
            headers: vec![("Content-Type".into(), grant.content_type.clone()), ("Content-Length".into(), size.to_string())],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn store(dir: &Path, clock: Arc<ManualClock>) -> DirFileStore {
        DirFileStore::new(dir, Some(url::Url::parse("http://127.0.0.1:8080").unwrap()), b"state key", clock).unwrap()
    }

    #[tokio::test]
    async fn objects_round_trip_and_upload_urls_admit_exactly_what_they_were_made_for() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at_ms(1_000_000));
        let s = store(dir.path(), clock.clone());
        s.put("submissions/c/s/0", "application/pdf", Bytes::from_static(b"%PDF")).await.unwrap();
        assert_eq!(s.get("submissions/c/s/0").await.unwrap().unwrap(), Bytes::from_static(b"%PDF"));
        assert_eq!(s.head("submissions/c/s/0").await.unwrap().unwrap(), StoredObject { size: 4, content_type: Some("application/pdf".into()) });
        assert!(s.copy("submissions/c/s/0", "submissions/c/s/1").await.unwrap());
        assert!(!s.copy("submissions/c/s/9", "submissions/c/s/2").await.unwrap());
        s.delete("submissions/c/s/0").await.unwrap();
        s.delete("submissions/c/s/0").await.unwrap();
        assert_eq!(s.get("submissions/c/s/0").await.unwrap(), None);
        assert!(s.get("../etc/passwd").await.is_err());

        let put = s.presign_put("uploads/c/u1", "application/pdf", 3, Duration::from_secs(60)).await.unwrap();
        let token = put.url.rsplit('/').next().unwrap().to_owned();
        assert!(put.url.starts_with("http://127.0.0.1:8080/uploads/"));
        let refused = |r: Result<(), UploadRefused>| r.unwrap_err();
        assert!(matches!(refused(s.receive_upload(&token, Some("text/plain"), Bytes::from_static(b"abc")).await), UploadRefused::ContentType { .. }));
        assert!(matches!(refused(s.receive_upload(&token, Some("application/pdf"), Bytes::from_static(b"abcd")).await), UploadRefused::Size { .. }));
        let mut forged = token.clone();
        forged.pop();
        assert!(matches!(refused(s.receive_upload(&forged, Some("application/pdf"), Bytes::from_static(b"abc")).await), UploadRefused::InvalidUrl));
        s.receive_upload(&token, Some("application/pdf"), Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(s.head("uploads/c/u1").await.unwrap().unwrap().size, 3);
        assert!(
            matches!(refused(s.receive_upload(&token, Some("application/pdf"), Bytes::from_static(b"xyz")).await), UploadRefused::AlreadyUploaded),
            "one PUT per URL"
        );
        assert_eq!(s.get("uploads/c/u1").await.unwrap().unwrap(), Bytes::from_static(b"abc"), "the first bytes stay");
        assert_eq!(s.read_prefix("uploads/c/u1", 2).await.unwrap().unwrap(), Bytes::from_static(b"ab"));
        clock.advance_ms(61_000);
        assert!(
            matches!(refused(s.receive_upload(&token, Some("application/pdf"), Bytes::from_static(b"abc")).await), UploadRefused::InvalidUrl),
            "expired"
        );
        let foreign = DirFileStore::new(dir.path(), Some(url::Url::parse("http://x").unwrap()), b"other key", clock).unwrap();
        assert!(foreign.open(&token).is_none(), "another hub's key");
    }
}
