//! The embedded S3 endpoint of local runs and tests: `s3s` serving `s3s-fs` (objects as files under a
//! folder) on 127.0.0.1, with a generated access key and secret. s3s checks SigV4 signatures and the
//! expiry of presigned URLs, so the same aws-sdk-s3 code that presigns against AWS is tested against
//! it. Like S3, a GET may override the response's `content-disposition` and `content-type` with the
//! signed `response-*` query parameters (s3s-fs alone ignores them).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use hyper_util::rt::TokioIo;
use lectern_files::ObjectStoreConfig;
use lectern_files::store::StaticCredentials;
use rand::Rng;
use rand::distributions::Alphanumeric;
use s3s::auth::SimpleAuth;
use s3s::dto::{
    CopyObjectInput, CopyObjectOutput, DeleteObjectInput, DeleteObjectOutput, GetObjectInput,
    GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput,
    PutObjectInput, PutObjectOutput,
};
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;
use tokio::task::AbortHandle;

/// The bucket the local server and tests use.
pub const LOCAL_BUCKET: &str = "lectern-files";

/// A running endpoint; it stops when dropped.
pub struct EmbeddedS3 {
    pub addr: SocketAddr,
    /// How the app reaches it: the endpoint, the bucket and the generated credentials.
    pub config: ObjectStoreConfig,
    task: AbortHandle,
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The operations Lectern uses, passed to s3s-fs; everything else answers `NotImplemented`.
struct LocalBucket {
    fs: FileSystem,
}

#[async_trait::async_trait]
impl S3 for LocalBucket {
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.fs.put_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let disposition = req.input.response_content_disposition.clone();
        let content_type = req.input.response_content_type.clone();
        let mut response = self.fs.get_object(req).await?;
        if disposition.is_some() {
            response.output.content_disposition = disposition;
        }
        if content_type.is_some() {
            response.output.content_type = content_type;
        }
        Ok(response)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.fs.copy_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }
}

fn random(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Starts the endpoint on `addr` (`127.0.0.1:0` for an ephemeral port), keeping objects under `root`,
/// with the bucket [`LOCAL_BUCKET`] and fresh credentials.
pub async fn start(root: &Path, addr: &str) -> anyhow::Result<EmbeddedS3> {
    std::fs::create_dir_all(root.join(LOCAL_BUCKET))
        .with_context(|| format!("creating {}", root.display()))?;
    let fs = FileSystem::new(root)
        .map_err(|e| anyhow::anyhow!("opening the object folder {}: {e:?}", root.display()))?;
    let credentials = StaticCredentials {
        access_key: format!("LECTERN{}", random(13).to_ascii_uppercase()),
        secret_key: random(40),
    };
    let service = {
        let mut builder = S3ServiceBuilder::new(LocalBucket { fs });
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key.clone(),
            credentials.secret_key.clone(),
        ));
        builder.build()
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the S3 endpoint to {addr} (LECTERN_S3_ADDR)"))?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service);
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "S3 endpoint connection ended");
                }
            });
        }
    });
    Ok(EmbeddedS3 {
        addr: local,
        config: ObjectStoreConfig {
            bucket: LOCAL_BUCKET.into(),
            endpoint: Some(format!("http://{local}")),
            credentials: Some(credentials),
        },
        task: task.abort_handle(),
    })
}
