//! The Ed25519 key that signs access tokens, and the public half that verifies them.
//!
//! In AWS the private key comes from configuration (a PKCS#8 PEM); functions that only verify get the
//! public key (SPKI PEM). Locally the key is generated once into the data folder, so every process of a
//! local run (the local server, or one process per function) signs and verifies with the same key.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PKCS#8 Ed25519 private key PEM")]
    BadPrivateKey,
    #[error("not an SPKI Ed25519 public key PEM")]
    BadPublicKey,
    #[error("key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A public key in JWK form (RFC 8037 OKP), as published at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The JWK set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A key that verifies tokens: its `kid`, its JWK, and the decoder.
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) decoding: DecodingKey,
    pub(crate) jwk: Jwk,
}

impl PublicKey {
    fn from_verifying_key(key: &VerifyingKey) -> PublicKey {
        let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
        // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        PublicKey {
            decoding: DecodingKey::from_ed_der(key.as_bytes()),
            jwk: Jwk {
                kty: "OKP",
                crv: "Ed25519",
                x,
                kid,
                alg: "EdDSA",
                use_: "sig",
            },
        }
    }

    /// Reads an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyError> {
        let key =
            VerifyingKey::from_public_key_pem(pem.trim()).map_err(|_| KeyError::BadPublicKey)?;
        Ok(PublicKey::from_verifying_key(&key))
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }
}

/// The signing key together with its public half.
#[derive(Clone)]
pub struct SigningKeys {
    pub(crate) encoding: EncodingKey,
    public: PublicKey,
}

impl SigningKeys {
    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey -algorithm ed25519` writes.
    pub fn from_pem(pem: &str) -> Result<SigningKeys, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| KeyError::BadPrivateKey)?;
        Self::from_signing_key(&key)
    }

    fn from_signing_key(key: &SigningKey) -> Result<SigningKeys, KeyError> {
        let der = key.to_pkcs8_der().map_err(|_| KeyError::BadPrivateKey)?;
        Ok(SigningKeys {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public: PublicKey::from_verifying_key(&key.verifying_key()),
        })
    }

    /// Loads the key kept at `path`, generating it on first use. Two processes racing here agree on
    /// one key: the file is created exclusively and the loser reads the winner's.
    pub fn load_or_generate(path: &Path) -> Result<SigningKeys, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Ok(pem) = std::fs::read_to_string(path) {
            return Self::from_pem(&pem);
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| KeyError::BadPrivateKey)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(pem.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Self::from_signing_key(&key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process won; give it a moment to finish writing.
                for _ in 0..50 {
                    let pem = std::fs::read_to_string(path).map_err(io)?;
                    if let Ok(keys) = Self::from_pem(&pem) {
                        return Ok(keys);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(KeyError::BadPrivateKey)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reloaded_with_the_same_kid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.pem");
        let first = SigningKeys::load_or_generate(&path).unwrap();
        let again = SigningKeys::load_or_generate(&path).unwrap();
        assert_eq!(first.public().kid(), again.public().kid());
        assert_eq!(first.public().jwk().x.len(), 43, "32 bytes in base64url");
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let key = VerifyingKey::from_bytes(
            &URL_SAFE_NO_PAD
                .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
                .unwrap()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            PublicKey::from_verifying_key(&key).kid(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn garbage_pem_is_refused() {
        assert!(SigningKeys::from_pem("nope").is_err());
        assert!(PublicKey::from_pem("nope").is_err());
    }
}
