//! Password hashing with argon2id at OWASP's parameters. Hashing takes tens of milliseconds of CPU, so
//! it runs on the blocking pool, never on the request's async thread.

use std::sync::LazyLock;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use lectern_domain::user::Password;

/// The hasher failed in a way no input explains (the blocking pool went away, parameters invalid).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

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

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the PHC string. A malformed stored hash never matches.
pub async fn verify(password: &str, phc: &str) -> Result<bool, HashError> {
    let password = password.to_owned();
    let phc = phc.to_owned();
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| HashError(e.to_string()))
}

/// Spends the time a real verification would, for an account that does not exist. Always false.
pub async fn verify_decoy(password: &str) -> Result<bool, HashError> {
    let decoy = LazyLock::force(&DECOY_HASH).clone();
    verify(password, &decoy).await.map(|_| false)
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
}
