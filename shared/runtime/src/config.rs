//! The deployment's configuration, typed: read from the environment once, at cold start
//! (`template.yaml` sets the variables in AWS; the local server sets defaults), secrets from Secrets
//! Manager just before ([`var`], [`crate::secrets`]). A missing or malformed variable stops the start
//! with a message naming it.
//!
//! Every function reads the same [`Config`]: the HTTP functions build their state from it
//! (`lectern_web::AppState`), the queue workers open only the store and queues it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, bail};
use lectern_auth::TokenConfig;
use lectern_auth::password::HashPoolSize;
use lectern_domain::TenantId;
use lectern_domain::file::StorageQuotas;
use lectern_domain::user::RegistrationPolicy;
use lectern_files::ObjectStoreConfig;

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

/// A quota of requests per window of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub quota: i64,
    pub window_secs: i64,
}

impl Rate {
    pub const fn new(quota: i64, window_secs: i64) -> Rate {
        Rate { quota, window_secs }
    }

    /// `{quota}/{seconds}`, both at least 1: `600/60`.
    pub fn parse(value: &str) -> Result<Rate, String> {
        let (quota, window) = value
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{value:?} is not quota/seconds (600/60)"))?;
        let number = |s: &str| s.trim().parse::<i64>().ok().filter(|n| *n >= 1);
        match (number(quota), number(window)) {
            (Some(quota), Some(window_secs)) => Ok(Rate { quota, window_secs }),
            _ => Err(format!(
                "{value:?} needs a quota and a window of at least 1 (600/60)"
            )),
        }
    }
}

/// Every limit of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client network, requests without a valid access token.
    pub anonymous: Rate,
    /// Per user, requests that write.
    pub writes: Rate,
    /// Per tenant, every request.
    pub tenant: Rate,
    /// Per client network, registrations answered `email_taken`.
    pub registration_probes: Rate,
    /// The password hashers requests share.
    pub hashes: HashPoolSize,
}

impl Default for RateLimits {
    /// Generous for people: a browser that opens the catalog makes a few requests a second at most,
    /// and a class behind one school address stays far below 1,200 a minute. Tight enough that one
    /// address cannot read the catalog wholesale or hammer sign in, one account cannot write
    /// faster than a script of 10 a second, and a tenant cannot spend more than some 5,000
    /// requests a second of the table's capacity.
    fn default() -> Self {
        RateLimits {
            anonymous: Rate::new(1_200, 60),
            writes: Rate::new(600, 60),
            tenant: Rate::new(300_000, 60),
            registration_probes: Rate::new(10, 3_600),
            hashes: HashPoolSize::for_host(),
        }
    }
}

/// The most counts a second one shard of a tenant's window takes at the tenant's full rate: half
/// of what DynamoDB writes to one item a second (1,000), leaving room for bursts.
const SHARD_WRITES_PER_SEC: i64 = 500;

impl RateLimits {
    /// The defaults, changed by `LECTERN_RATE_LIMIT_ANONYMOUS`, `…_WRITES`, `…_TENANT`,
    /// `…_REGISTRATION_PROBES` (each `quota/seconds`), `LECTERN_HASH_CONCURRENCY` and
    /// `LECTERN_HASH_QUEUE`.
    pub fn from_env() -> anyhow::Result<RateLimits> {
        let mut limits = RateLimits::default();
        for (name, rate) in [
            ("LECTERN_RATE_LIMIT_ANONYMOUS", &mut limits.anonymous),
            ("LECTERN_RATE_LIMIT_WRITES", &mut limits.writes),
            ("LECTERN_RATE_LIMIT_TENANT", &mut limits.tenant),
            (
                "LECTERN_RATE_LIMIT_REGISTRATION_PROBES",
                &mut limits.registration_probes,
            ),
        ] {
            if let Some(value) = var(name) {
                *rate = Rate::parse(&value)
                    .map_err(anyhow::Error::msg)
                    .context(name)?;
            }
        }
        for (name, size) in [
            ("LECTERN_HASH_CONCURRENCY", &mut limits.hashes.concurrent),
            ("LECTERN_HASH_QUEUE", &mut limits.hashes.queued),
        ] {
            if let Some(value) = var(name) {
                *size = value
                    .trim()
                    .parse()
                    .with_context(|| format!("{name} must be a number, not {value:?}"))?;
            }
        }
        anyhow::ensure!(
            limits.hashes.concurrent >= 1,
            "LECTERN_HASH_CONCURRENCY must be at least 1"
        );
        Ok(limits)
    }

    /// Shards of a tenant's window: enough that none takes more than [`SHARD_WRITES_PER_SEC`]
    /// counts a second at the tenant's full rate.
    pub fn tenant_shards(&self) -> i64 {
        let per_sec = ceil_div(self.tenant.quota, self.tenant.window_secs);
        ceil_div(per_sec, SHARD_WRITES_PER_SEC).max(1)
    }
}

/// `a / b` rounded up, for positive numbers.
pub fn ceil_div(a: i64, b: i64) -> i64 {
    let b = b.max(1);
    a / b + i64::from(a % b > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_quota_per_seconds() {
        assert_eq!(Rate::parse(" 600/60 "), Ok(Rate::new(600, 60)));
        for bad in ["600", "0/60", "600/0", "-1/60", "a/b", ""] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tenant_window_has_a_shard_per_500_counts_a_second() {
        let with = |quota, window_secs| RateLimits {
            tenant: Rate::new(quota, window_secs),
            ..RateLimits::default()
        };
        assert_eq!(with(5, 60).tenant_shards(), 1);
        assert_eq!(with(30_000, 60).tenant_shards(), 1);
        assert_eq!(with(30_060, 60).tenant_shards(), 2);
        assert_eq!(RateLimits::default().tenant_shards(), 10);
    }
}
