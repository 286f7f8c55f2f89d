//! Amazon S3 adapter (moto's server in tests). Uploads are pre-signed PUTs whose content type and
//! length are part of the signature, so API Gateway and Lambda never carry the bytes; the hub
//! checks the object (size, type and content) again when a submission uses it. A URL takes one
//! PUT (`If-None-Match: *`, signed); S3 answers a second with its own 412 XML error, which the
//! hub cannot shape into a problem document.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::{FileError, FileStore, PresignedPut, StoredObject, check_key};

#[derive(Clone)]
pub struct S3FileStore {
    client: Client,
    bucket: String,
}

fn unavailable<E: std::error::Error + 'static>(e: E) -> FileError {
    FileError::Unavailable(crate::telemetry::error_chain(&e))
}

impl S3FileStore {
    /// A store on `bucket`. With an endpoint override (moto, a local S3) requests use path-style
    /// addresses, which need no DNS for the bucket's name.
    pub fn new(config: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        Self { client: Client::from_conf(builder.build()), bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket if needed (SAM creates it in AWS; tests and local runs call this).
    pub async fn ensure_bucket(&self) -> Result<(), FileError> {
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl FileStore for S3FileStore {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), FileError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError> {
        check_key(key)?;
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(out.body.collect().await.map_err(unavailable)?.into_bytes())),
            Err(e) if matches!(e.code(), Some("NoSuchKey" | "NotFound")) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn read_prefix(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>, FileError> {
        check_key(key)?;
        if max_bytes == 0 {
            return Ok(self.head(key).await?.map(|_| Bytes::new()));
        }
        let range = format!("bytes=0-{}", max_bytes - 1);
        match self.client.get_object().bucket(&self.bucket).key(key).range(range).send().await {
            Ok(out) => Ok(Some(out.body.collect().await.map_err(unavailable)?.into_bytes())),
            Err(e) if matches!(e.code(), Some("NoSuchKey" | "NotFound")) => Ok(None),
            // An empty object has no byte 0 to start a range at.
            Err(e) if e.code() == Some("InvalidRange") => Ok(Some(Bytes::new())),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        check_key(key)?;
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(StoredObject {
                size: out.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                content_type: out.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<bool, FileError> {
        check_key(from)?;
        check_key(to)?;
        // Keys are plain (`check_key`): the copy source needs no further encoding.
        let source = format!("{}/{from}", self.bucket);
        match self.client.copy_object().bucket(&self.bucket).copy_source(source).key(to).send().await {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.code(), Some("NoSuchKey" | "NotFound")) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        check_key(key)?;
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn presign_put(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<PresignedPut, FileError> {
        check_key(key)?;
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| FileError::Invalid(e.to_string()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(size).map_err(|_| FileError::Invalid("size out of range".into()))?)
            // One PUT per URL: S3's conditional write refuses a second one while the object is
            // there (412). The header is signed, so the partner must send it as handed out.
            .if_none_match("*")
            .presigned(config)
            .await
            .map_err(unavailable)?;
        let mut headers: Vec<(String, String)> = request.headers().map(|(k, v)| (canonical_header(k), v.to_owned())).collect();
        for (name, value) in [("Content-Type", content_type.to_owned()), ("Content-Length", size.to_string())] {
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                headers.push((name.to_owned(), value));
            }
        }
        Ok(PresignedPut { url: request.uri().to_owned(), headers })
    }
}

fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
