//! What every handler shares, and the configuration it is built from. Configuration is read from the
//! environment once, at cold start (`template.yaml` sets the variables in AWS; the local server sets
//! defaults), secrets from Secrets Manager just before ([`var`]). A missing or malformed variable
//! stops the start with a message naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use lectern_auth::keys::PublicKey;
use lectern_auth::password::HashPool;
use lectern_auth::{SigningKeys, TokenConfig, TokenIssuer, TokenVerifier};
use lectern_domain::TenantId;
use lectern_domain::file::StorageQuotas;
use lectern_domain::user::RegistrationPolicy;
use lectern_files::{ObjectStore, ObjectStoreConfig};
use lectern_store::Table;
use lectern_store::sqlite::{SharedConnection, SqliteTable};

use crate::limits::{Limiter, RateLimits};

/// The tenants this deployment serves. Anonymous calls (register, sign in) name theirs in the
/// `x-tenant-id` header or get the default; authenticated calls carry it in the token.
#[derive(Debug, Clone)]
pub struct Tenants {
    default: TenantId,
    known: BTreeSet<TenantId>,
    /// Tenants whose registration is not open.
    registration: BTreeMap<TenantId, RegistrationPolicy>,
}

impl Tenants {
    /// The first tenant is the default.
    pub fn new(tenants: Vec<TenantId>) -> anyhow::Result<Tenants> {
        let default = tenants
            .first()
            .cloned()
            .context("at least one tenant must be configured")?;
        Ok(Tenants {
            default,
            known: tenants.into_iter().collect(),
            registration: BTreeMap::new(),
        })
    }

    /// Sets a tenant's registration policy (every tenant's is open otherwise).
    pub fn with_registration(
        mut self,
        tenant: TenantId,
        policy: RegistrationPolicy,
    ) -> anyhow::Result<Tenants> {
        anyhow::ensure!(
            self.known.contains(&tenant),
            "LECTERN_REGISTRATION names {tenant}, which is not in LECTERN_TENANTS"
        );
        self.registration.insert(tenant, policy);
        Ok(self)
    }

    /// Who may register in `tenant` by themselves.
    pub fn registration(&self, tenant: &TenantId) -> &RegistrationPolicy {
        static OPEN: RegistrationPolicy = RegistrationPolicy::Open;
        self.registration.get(tenant).unwrap_or(&OPEN)
    }

    pub fn default_tenant(&self) -> &TenantId {
        &self.default
    }

    pub fn get(&self, id: &str) -> Option<&TenantId> {
        self.known.iter().find(|t| t.as_str() == id)
    }

    pub fn contains(&self, id: &TenantId) -> bool {
        self.known.contains(id)
    }
}

/// Where the table lives.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded backend: one SQLite file, shareable by several processes.
    Sqlite { path: PathBuf },
    /// DynamoDB; `endpoint` points the SDK elsewhere (a local emulator) when set.
    Dynamo {
        table: String,
        endpoint: Option<String>,
    },
}

/// How access tokens are signed and verified.
#[derive(Clone)]
pub enum KeySource {
    /// PKCS#8 PEM of the signing key (the auth function in AWS).
    PrivatePem(String),
    /// SPKI PEM of the verifying key (functions that only verify, in AWS).
    PublicPem(String),
    /// A key generated once into this file (local runs).
    LocalFile(PathBuf),
}

/// Everything read from the environment.
#[derive(Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub tenants: Tenants,
    pub tokens: TokenConfig,
    pub keys: KeySource,
    /// The local data folder (SQLite file, generated key), for local runs.
    pub data_dir: PathBuf,
    /// The files' bucket (`LECTERN_S3_BUCKET`, optional `LECTERN_S3_ENDPOINT`); `None`: no object
    /// storage, and the files endpoints answer 503.
    pub object_store: Option<ObjectStoreConfig>,
    /// Rate limits and the password hashers' pool (`LECTERN_RATE_LIMIT_*`, `LECTERN_HASH_*`).
    pub limits: RateLimits,
    /// Bytes of confirmed files a user, and a tenant in all, may keep.
    pub storage_quotas: StorageQuotas,
}

/// A configuration variable: from the environment, or (for a secret the environment names with
/// `{name}_SECRET_ARN`) from Secrets Manager, read at start by [`lectern_aws::secrets::load_from_env`].
pub fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| lectern_aws::secrets::get(name))
}

/// A size in MiB from the environment (a whole number, at least 1), or `default_bytes` in MiB.
fn mb_var(name: &str, default_bytes: u64) -> anyhow::Result<u64> {
    match var(name) {
        None => Ok(default_bytes / (1024 * 1024)),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(mb) if mb > 0 => Ok(mb),
            _ => bail!("{name} must be a whole number of MiB, at least 1, not {value:?}"),
        },
    }
}

impl Config {
    /// Reads the `LECTERN_*` variables (see the README's configuration table).
    pub fn from_env() -> anyhow::Result<Config> {
        if let Some(unread) = lectern_aws::secrets::unloaded() {
            bail!(
                "{unread} names a secret, but nothing read it: the function's start must call \
                 lectern_aws::secrets::load_from_env first"
            );
        }
        let data_dir = PathBuf::from(var("LECTERN_DATA_DIR").unwrap_or_else(|| ".lectern".into()));
        let store = match var("LECTERN_STORE").as_deref() {
            Some("dynamodb") => StoreConfig::Dynamo {
                table: var("LECTERN_TABLE_NAME")
                    .context("LECTERN_TABLE_NAME must be set when LECTERN_STORE=dynamodb")?,
                endpoint: var("LECTERN_DYNAMODB_ENDPOINT"),
            },
            None | Some("sqlite") => StoreConfig::Sqlite {
                path: var("LECTERN_SQLITE_PATH")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("lectern.db")),
            },
            Some(other) => bail!("LECTERN_STORE must be sqlite or dynamodb, not {other:?}"),
        };
        let tenants = var("LECTERN_TENANTS")
            .unwrap_or_else(|| "default".into())
            .split(',')
            .map(|t| {
                TenantId::parse(t.trim()).map_err(|e| anyhow::anyhow!("LECTERN_TENANTS: {t:?} {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut tenants = Tenants::new(tenants)?;
        // `tenant=policy` entries separated by `;`: `acme=domains:acme.org|acme.com`.
        for entry in var("LECTERN_REGISTRATION")
            .unwrap_or_default()
            .split(';')
            .filter(|e| !e.trim().is_empty())
        {
            let (tenant, policy) = entry
                .split_once('=')
                .with_context(|| format!("LECTERN_REGISTRATION: {entry:?} is not tenant=policy"))?;
            let tenant = TenantId::parse(tenant.trim())
                .map_err(|e| anyhow::anyhow!("LECTERN_REGISTRATION: {tenant:?} {e}"))?;
            let policy = RegistrationPolicy::parse(policy)
                .map_err(|e| anyhow::anyhow!("LECTERN_REGISTRATION: {e}"))?;
            tenants = tenants.with_registration(tenant, policy)?;
        }
        let keys = match (
            var("LECTERN_JWT_PRIVATE_KEY"),
            var("LECTERN_JWT_PUBLIC_KEY"),
        ) {
            (Some(pem), _) => KeySource::PrivatePem(pem),
            (None, Some(pem)) => KeySource::PublicPem(pem),
            (None, None) => KeySource::LocalFile(data_dir.join("jwt-ed25519.pem")),
        };
        Ok(Config {
            store,
            tenants,
            tokens: TokenConfig {
                issuer: var("LECTERN_JWT_ISSUER").unwrap_or_else(|| "lectern".into()),
                audience: var("LECTERN_JWT_AUDIENCE").unwrap_or_else(|| "lectern-api".into()),
                ttl: TokenConfig::DEFAULT_TTL,
            },
            keys,
            data_dir,
            object_store: var("LECTERN_S3_BUCKET").map(|bucket| ObjectStoreConfig {
                bucket,
                endpoint: var("LECTERN_S3_ENDPOINT"),
                credentials: None,
            }),
            limits: RateLimits::from_env()?,
            storage_quotas: StorageQuotas::from_mb(
                mb_var(
                    "LECTERN_USER_STORAGE_QUOTA_MB",
                    StorageQuotas::DEFAULT.per_user,
                )?,
                mb_var(
                    "LECTERN_TENANT_STORAGE_QUOTA_MB",
                    StorageQuotas::DEFAULT.per_tenant,
                )?,
            ),
        })
    }
}

/// Opens the store of the configuration: the SQLite file (created with its folder if absent), or a
/// DynamoDB client for the table. No network calls. What the queue workers need, who check no
/// token; [`AppState::build`] for the route groups.
pub async fn open_table(config: &Config) -> anyhow::Result<Arc<dyn Table>> {
    Ok(open_store(config).await?.table)
}

/// An opened store: the table, and with the SQLite backend the file's connection.
pub struct OpenedStore {
    pub table: Arc<dyn Table>,
    /// For the local queues a function keeps in the store's file (the payments function, the events
    /// worker), so that its cold start opens the file once; `None` with DynamoDB.
    pub sqlite: Option<SharedConnection>,
}

/// Opens the store as [`open_table`] does, keeping the SQLite connection at hand.
pub async fn open_store(config: &Config) -> anyhow::Result<OpenedStore> {
    Ok(match &config.store {
        StoreConfig::Sqlite { path } => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let table = SqliteTable::open(path)
                .with_context(|| format!("opening the SQLite store at {}", path.display()))?;
            OpenedStore {
                sqlite: Some(table.connection()),
                table: Arc::new(table),
            }
        }
        StoreConfig::Dynamo { table, endpoint } => {
            let client =
                aws_sdk_dynamodb::Client::new(&lectern_aws::sdk_config(endpoint.as_deref()).await);
            OpenedStore {
                table: Arc::new(lectern_store::dynamo::DynamoTable::new(
                    client,
                    table.clone(),
                )),
                sqlite: None,
            }
        }
    })
}

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
        if let Some(store) = &config.object_store {
            self.files = Some(Arc::new(ObjectStore::connect(store).await));
        }
        self
    }
}
