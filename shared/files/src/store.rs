//! `ObjectStore`: the bucket, through aws-sdk-s3. Presigned URLs are made by the SDK alone (no network
//! call); head, copy and delete call S3 and fail as `ObjectStoreError::Unavailable` when it cannot be
//! reached, which the HTTP edge answers with 503.

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, retry::RetryConfig,
};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use time::OffsetDateTime;

/// Where the bucket is (read from `LECTERN_S3_BUCKET`, `LECTERN_S3_ENDPOINT`; the local server and
/// tests set static credentials for their embedded endpoint).
#[derive(Clone)]
pub struct ObjectStoreConfig {
    pub bucket: String,
    /// Another S3-compatible endpoint (path-style addressing) instead of AWS's: `http://` (an
    /// emulator), or `https://` with a certificate from an Amazon root (the only roots trusted).
    pub endpoint: Option<String>,
    /// Static credentials; `None` uses the usual AWS chain (the Lambda role's).
    pub credentials: Option<StaticCredentials>,
}

/// An access key and its secret (the secret never prints).
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for ObjectStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStoreConfig")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field(
                "access_key",
                &self.credentials.as_ref().map(|c| &c.access_key),
            )
            .finish_non_exhaustive()
    }
}

/// Object storage failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    /// S3 could not be reached or answered with an error; retrying later may work.
    #[error("object storage is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A URL could not be presigned (a bug: bad expiry or request).
    #[error("a URL could not be presigned")]
    Presign(#[source] anyhow::Error),
}

/// A presigned request: the URL, the headers the client must send with it, and when it expires.
#[derive(Debug, Clone)]
pub struct PresignedUrl {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: OffsetDateTime,
}

/// What S3 says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

/// The bucket and a client for it. Cheap to share behind an `Arc`.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// How long a presigned upload URL is valid.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a presigned download URL is valid.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

fn unavailable<E: std::error::Error>(operation: &str, error: E) -> ObjectStoreError {
    ObjectStoreError::Unavailable(anyhow::anyhow!(
        "{operation}: {}",
        DisplayErrorContext(error)
    ))
}

impl ObjectStore {
    /// The store of a configuration, with the usual AWS region and credential chain unless the
    /// configuration has static credentials.
    pub async fn connect(config: &ObjectStoreConfig) -> ObjectStore {
        let builder = match &config.credentials {
            Some(_) => aws_sdk_s3::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1")),
            None => aws_sdk_s3::config::Builder::from(&lectern_aws::sdk_config(None).await),
        };
        Self::from_builder(builder, config)
    }

    /// The store of a configuration with static credentials, without loading the AWS environment
    /// (the local server and tests).
    pub fn with_static_credentials(config: &ObjectStoreConfig) -> ObjectStore {
        let builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"));
        Self::from_builder(builder, config)
    }

    fn from_builder(
        mut builder: aws_sdk_s3::config::Builder,
        config: &ObjectStoreConfig,
    ) -> ObjectStore {
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials_provider(Credentials::new(
                &credentials.access_key,
                &credentials.secret_key,
                None,
                None,
                "lectern-static",
            ));
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint).force_path_style(true);
        }
        let builder = builder
            // The Amazon roots compiled in, not the system's store (see `lectern_aws`); the same
            // client `sdk_config` gives, set here too for the static-credentials builders.
            .http_client(lectern_aws::http_client())
            // Presigned URLs carry no checksum the client would have to match.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            // A request waits on S3 for a few seconds at most, so an outage is a prompt 503.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_timeout(Duration::from_secs(10))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2));
        ObjectStore {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn presigning(
        expires_in: Duration,
    ) -> Result<(PresigningConfig, OffsetDateTime), ObjectStoreError> {
        let config = PresigningConfig::expires_in(expires_in)
            .context("presigning expiry")
            .map_err(ObjectStoreError::Presign)?;
        Ok((config, OffsetDateTime::now_utc() + expires_in))
    }

    /// A presigned PUT of `key` that S3 accepts only with exactly this content type and length (both
    /// are signed headers), until `expires_in` has passed.
    #[tracing::instrument(skip(self))]
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedUrl, ObjectStoreError> {
        let (config, expires_at) = Self::presigning(expires_in)?;
        let length = i64::try_from(size)
            .context("size")
            .map_err(ObjectStoreError::Presign)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| {
                ObjectStoreError::Presign(anyhow::anyhow!("{}", DisplayErrorContext(e)))
            })?;
        Ok(PresignedUrl {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at,
        })
    }

    /// A presigned GET of `key` whose response carries `content_disposition` (the original name).
    #[tracing::instrument(skip(self))]
    pub async fn presign_get(
        &self,
        key: &str,
        content_disposition: &str,
        expires_in: Duration,
    ) -> Result<PresignedUrl, ObjectStoreError> {
        let (config, expires_at) = Self::presigning(expires_in)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(content_disposition)
            .presigned(config)
            .await
            .map_err(|e| {
                ObjectStoreError::Presign(anyhow::anyhow!("{}", DisplayErrorContext(e)))
            })?;
        Ok(PresignedUrl {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at,
        })
    }

    /// The object's size and content type; `None` when there is no such object.
    #[tracing::instrument(skip(self))]
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, ObjectStoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectInfo {
                size: output
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or_default(),
                content_type: output.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(unavailable("head object", e)),
        }
    }

    /// Copies an object within the bucket (its content type with it).
    #[tracing::instrument(skip(self))]
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), ObjectStoreError> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(to)
            .send()
            .await
            .map_err(|e| unavailable("copy object", e))?;
        Ok(())
    }

    /// Deletes an object (deleting an absent one succeeds, as in S3).
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable("delete object", e))?;
        Ok(())
    }
}
