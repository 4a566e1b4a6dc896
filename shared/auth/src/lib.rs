//! Identity primitives: how Lectern proves who is calling.
//!
//! # Layout
//! - [`password`]: argon2id hashing (m=19456 KiB, t=2, p=1) off the async runtime, and a constant-work
//!   check for unknown accounts.
//! - [`keys`]: the Ed25519 signing key: loaded from PEM (AWS) or generated once into the local data
//!   folder; its public JWK and RFC 7638 `kid`.
//! - [`token`]: access tokens (JWT, EdDSA, typed `at+jwt`, 15 minutes): issuing and verifying with the
//!   algorithm, the type, `iss`, `aud` and `exp` pinned.
//! - [`refresh`]: refresh-token material (`lectern_domain::refresh`, where the session store, which
//!   does not depend on this crate, reads it too): opaque random secrets that name their tenant,
//!   user and session, stored only as hashes; the sessions' 30-day lifetime.

pub mod invitation;
pub mod keys;
pub mod password;
pub use lectern_domain::refresh;
pub mod token;

pub use keys::{Jwk, Jwks, SigningKeys};
pub use token::{AccessClaims, TokenConfig, TokenError, TokenIssuer, TokenVerifier};
