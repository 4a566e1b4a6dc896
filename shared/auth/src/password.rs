//! Password hashing with argon2id at OWASP's parameters. Hashing takes tens of milliseconds of CPU
//! and 19 MiB of memory, so it runs on the blocking pool, never on the request's async thread, and
//! requests hash through a [`HashPool`]: a bounded number at once, a bounded queue behind them, and
//! [`HashError::Busy`] for the rest, so that a flood of sign-ins waits or is turned away instead of
//! taking the function's memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use lectern_domain::user::Password;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The hasher failed in a way no input explains (the blocking pool went away, parameters
    /// invalid).
    #[error("password hashing failed: {0}")]
    Failed(String),
    /// Every hasher of the pool is busy and its queue is full, or the wait for one ran out: retrying
    /// a moment later may work.
    #[error("every password hasher is busy")]
    Busy,
}

/// Memory one argon2id hash takes: m = 19 MiB.
pub const HASH_MEMORY_BYTES: u64 = 19_456 * 1024;

fn argon2() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: OWASP's argon2id recommendation.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified against when an account does not exist, so that an
/// unknown email costs the same time as a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(b"decoy password never issued", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

fn verify_now(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), outside any pool (the
/// start's first admin; requests use [`HashPool::hash`]).
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let password = password.expose().to_owned();
    blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches the PHC string, outside any pool. A malformed stored hash never
/// matches.
pub async fn verify(password: &str, phc: &str) -> Result<bool, HashError> {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    blocking(move || verify_now(&password, &phc)).await
}

/// Spends the time a real verification would, for an account that does not exist. Always false.
pub async fn verify_decoy(password: &str) -> Result<bool, HashError> {
    let decoy = LazyLock::force(&DECOY_HASH).clone();
    verify(password, &decoy).await.map(|_| false)
}

/// How many hashes run at once, how many wait, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPoolSize {
    /// Hashes computed at once (each holds 19 MiB while it runs).
    pub concurrent: usize,
    /// Requests that may wait for a hasher; more are refused at once.
    pub queued: usize,
    /// The longest a request waits for a hasher before it is refused.
    pub wait: Duration,
}

impl HashPoolSize {
    /// Sized for the host: as many hashes at once as there are cores, but no more than a third of
    /// the function's memory holds (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB, where Lambda sets it),
    /// and a queue of 16 per hasher, waited on for at most 5 s: at some 50 ms per hash on a core,
    /// the last in the queue starts within about a second.
    pub fn for_host() -> HashPoolSize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let by_memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .ok()
            .and_then(|mb| mb.trim().parse::<u64>().ok())
            .map(|mb| usize::try_from(mb * 1024 * 1024 / 3 / HASH_MEMORY_BYTES).unwrap_or(1));
        let concurrent = by_memory.map_or(cores, |m| m.min(cores)).max(1);
        HashPoolSize {
            concurrent,
            queued: concurrent * 16,
            wait: Duration::from_secs(5),
        }
    }
}

/// The hashes requests may compute: at most `concurrent` at once, at most `queued` more waiting,
/// each waiting at most `wait`; the rest get [`HashError::Busy`] at once. A hash keeps its place
/// until it is done, even when its request has gone, so the memory bound holds.
#[derive(Debug)]
pub struct HashPool {
    hashers: Arc<Semaphore>,
    /// Requests running or waiting.
    admitted: AtomicUsize,
    size: HashPoolSize,
}

/// One admitted request's place, released when it is dropped.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    pub fn new(size: HashPoolSize) -> HashPool {
        let size = HashPoolSize {
            concurrent: size.concurrent.max(1),
            ..size
        };
        HashPool {
            hashers: Arc::new(Semaphore::new(size.concurrent)),
            admitted: AtomicUsize::new(0),
            size,
        }
    }

    pub fn size(&self) -> HashPoolSize {
        self.size
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let capacity = self.size.concurrent + self.size.queued;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let _admission = Admission(&self.admitted);
        let permit = tokio::time::timeout(self.size.wait, self.hashers.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|e| HashError::Failed(e.to_string()))?;
        blocking(move || {
            let done = work();
            drop(permit);
            done
        })
        .await
    }

    /// [`hash`], within the pool.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.expose().to_owned();
        self.run(move || hash_now(&password)).await?
    }

    /// [`verify`], within the pool.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        let (password, phc) = (password.to_owned(), phc.to_owned());
        self.run(move || verify_now(&password, &phc)).await
    }

    /// [`verify_decoy`], within the pool.
    pub async fn verify_decoy(&self, password: &str) -> Result<bool, HashError> {
        let decoy = LazyLock::force(&DECOY_HASH).clone();
        self.verify(password, &decoy).await.map(|_| false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let password = Password::parse("correct horse battery").unwrap();
        let phc = hash(&password).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc).await.unwrap());
        assert!(!verify("wrong horse battery", &phc).await.unwrap());
        assert!(
            !verify("correct horse battery", "not a phc string")
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn the_decoy_never_matches() {
        assert!(!verify_decoy("decoy password never issued").await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_turns_requests_away_and_takes_them_again_once_free() {
        // GIVEN a pool of one hasher and one place in its queue (and the decoy's hash computed)
        verify_decoy("warm up").await.unwrap();
        let pool = Arc::new(HashPool::new(HashPoolSize {
            concurrent: 1,
            queued: 1,
            wait: Duration::from_secs(30),
        }));
        // WHEN six verifications arrive together
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.verify_decoy("a guess").await })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        // THEN two are computed (one at once, one after waiting) and four are refused as busy
        let busy = answers
            .iter()
            .filter(|a| matches!(a, Err(HashError::Busy)))
            .count();
        assert_eq!(busy, 4, "{answers:?}");
        assert_eq!(answers.iter().filter(|a| matches!(a, Ok(false))).count(), 2);
        // AND once they are done, the pool takes requests again
        assert!(!pool.verify_decoy("a guess").await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_waits_too_long_for_a_hasher_is_turned_away() {
        // GIVEN a pool of one hasher whose requests wait at most 1 ms (and the decoy's hash computed)
        verify_decoy("warm up").await.unwrap();
        let pool = Arc::new(HashPool::new(HashPoolSize {
            concurrent: 1,
            queued: 8,
            wait: Duration::from_millis(1),
        }));
        let first = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.verify_decoy("first").await })
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        // WHEN another arrives while the first is hashing, THEN it is refused as busy
        assert!(matches!(
            pool.verify_decoy("second").await,
            Err(HashError::Busy)
        ));
        assert!(!first.await.unwrap().unwrap());
    }
}
