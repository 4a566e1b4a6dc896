//! What every handler shares, built at cold start from the runtime's pieces: the configuration
//! ([`lectern_runtime::Config`], re-exported here) and the store it opens.

use std::sync::Arc;

use anyhow::Context;
use lectern_auth::keys::PublicKey;
use lectern_auth::password::HashPool;
use lectern_auth::{SigningKeys, TokenIssuer, TokenVerifier};
use lectern_domain::file::StorageQuotas;
use lectern_files::ObjectStore;
use lectern_store::Table;

pub use lectern_runtime::config::{Config, KeySource, StoreConfig, Tenants, var};
pub use lectern_runtime::store::{OpenedStore, open_store, open_table};

use crate::limits::Limiter;

/// The state every route group's handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub table: Arc<dyn Table>,
    pub verifier: Arc<TokenVerifier>,
    /// Present where the signing key is configured (the auth function, local runs).
    pub issuer: Option<Arc<TokenIssuer>>,
    pub tenants: Arc<Tenants>,
    /// The files' bucket, where configured (the files function, local runs); see
    /// [`AppState::with_object_store`].
    pub files: Option<Arc<ObjectStore>>,
    /// The rate limits every request meets ([`crate::limits::layer`]).
    pub limiter: Arc<Limiter>,
    /// The password hashers requests share: a bounded number at once, a bounded queue.
    pub passwords: Arc<HashPool>,
    /// What the files' uploaders and tenants may keep.
    pub storage_quotas: StorageQuotas,
}

impl AppState {
    /// Builds the state from configuration: opens the store, loads the keys. No network calls.
    pub async fn build(config: &Config) -> anyhow::Result<AppState> {
        Self::with_table(config, open_table(config).await?)
    }

    /// Builds the state around a given table (tests use this to sabotage or count store calls).
    pub fn with_table(config: &Config, table: Arc<dyn Table>) -> anyhow::Result<AppState> {
        let (issuer, verifier) = match &config.keys {
            KeySource::PrivatePem(pem) => {
                let issuer = TokenIssuer::new(
                    SigningKeys::from_pem(pem).context("LECTERN_JWT_PRIVATE_KEY")?,
                    config.tokens.clone(),
                );
                let verifier = issuer.verifier();
                (Some(Arc::new(issuer)), verifier)
            }
            KeySource::PublicPem(pem) => (
                None,
                TokenVerifier::new(
                    vec![PublicKey::from_pem(pem).context("LECTERN_JWT_PUBLIC_KEY")?],
                    &config.tokens,
                ),
            ),
            KeySource::LocalFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                let issuer =
                    TokenIssuer::new(SigningKeys::load_or_generate(path)?, config.tokens.clone());
                let verifier = issuer.verifier();
                (Some(Arc::new(issuer)), verifier)
            }
        };
        Ok(AppState {
            limiter: Arc::new(Limiter::new(config.limits, table.clone())),
            passwords: Arc::new(HashPool::new(config.limits.hashes)),
            table,
            verifier: Arc::new(verifier),
            issuer,
            tenants: Arc::new(config.tenants.clone()),
            files: None,
            storage_quotas: config.storage_quotas,
        })
    }

    /// Connects the object store of the configuration, if it has one. Only the route groups that
    /// serve files call this, so the others never load the S3 client.
    pub async fn with_object_store(mut self, config: &Config) -> AppState {
        self.files = lectern_runtime::store::open_object_store(config)
            .await
            .map(Arc::new);
        self
    }
}
