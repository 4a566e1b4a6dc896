//! Access tokens: short-lived JWTs signed with EdDSA, typed `at+jwt` (RFC 9068). Verification pins the
//! algorithm (a token signed any other way, or with `alg: none`, is refused), requires the type (so
//! that no other JWT signed with the same key, an ID token say, passes for an access token) and the
//! `kid` of a key we hold, and checks `iss`, `aud` and `exp`.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use lectern_domain::ids::SessionId;
use lectern_domain::user::UserRole;
use lectern_domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};

use crate::keys::{Jwks, PublicKey, SigningKeys};

/// Who issues tokens and for whom, and for how long they live.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl TokenConfig {
    /// Access tokens live 15 minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);
}

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Whether a `typ` header names an access token: `at+jwt`, or its full media type
/// `application/at+jwt` (RFC 7515 §4.1.9 lets the prefix go), in any case.
fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        let typ = typ.to_ascii_lowercase();
        typ == ACCESS_TOKEN_TYPE || typ.strip_prefix("application/") == Some(ACCESS_TOKEN_TYPE)
    })
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: UserId,
    /// The user's tenant.
    pub tid: TenantId,
    pub role: UserRole,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token, for logs and future deny lists.
    pub jti: String,
    /// The sign-in session (refresh-token family) the token was issued in, so that a change made in
    /// one session (an email change) can sign out the others and keep this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
    #[error("the access token could not be signed")]
    Signing,
}

/// Signs access tokens.
#[derive(Clone)]
pub struct TokenIssuer {
    keys: SigningKeys,
    config: TokenConfig,
}

impl TokenIssuer {
    pub fn new(keys: SigningKeys, config: TokenConfig) -> Self {
        TokenIssuer { keys, config }
    }

    /// A token for this user outside any session, and its lifetime in seconds.
    pub fn issue(
        &self,
        user: UserId,
        tenant: &TenantId,
        role: UserRole,
    ) -> Result<(String, u64), TokenError> {
        self.issue_in_session(user, tenant, role, None)
    }

    /// A token for this user in a sign-in session (named in its `sid`), and its lifetime in seconds.
    pub fn issue_in_session(
        &self,
        user: UserId,
        tenant: &TenantId,
        role: UserRole,
        session: Option<SessionId>,
    ) -> Result<(String, u64), TokenError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = self.config.ttl.as_secs();
        let claims = AccessClaims {
            sub: user,
            tid: tenant.clone(),
            role,
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            iat: now,
            exp: now + ttl as i64,
            jti: uuid_like(),
            sid: session,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.keys.public().kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.keys.encoding)
            .map_err(|_| TokenError::Signing)?;
        Ok((token, ttl))
    }

    /// A verifier for the tokens this issuer signs.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(vec![self.keys.public().clone()], &self.config)
    }
}

fn uuid_like() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Verifies access tokens against the keys it holds (several during a key rotation).
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Vec<PublicKey>,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(keys: Vec<PublicKey>, config: &TokenConfig) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        TokenVerifier { keys, validation }
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA || !is_access_token_type(header.typ.as_deref()) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid() == kid)
            .ok_or(TokenError::Invalid)?;
        jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    /// The public keys, as a JWK set.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys.iter().map(|k| k.jwk().clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn config() -> TokenConfig {
        TokenConfig {
            issuer: "https://lectern.test".into(),
            audience: "lectern-api".into(),
            ttl: TokenConfig::DEFAULT_TTL,
        }
    }

    fn issuer() -> TokenIssuer {
        let dir = tempfile::tempdir().unwrap();
        TokenIssuer::new(
            SigningKeys::load_or_generate(&dir.path().join("k.pem")).unwrap(),
            config(),
        )
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let issuer = issuer();
        let user = UserId::new();
        let tenant = TenantId::parse("default").unwrap();
        let (token, ttl) = issuer.issue(user, &tenant, UserRole::Instructor).unwrap();
        assert_eq!(ttl, 900);
        let claims = issuer.verifier().verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.tid, claims.role),
            (user, tenant, UserRole::Instructor)
        );
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn a_token_from_another_key_or_audience_or_issuer_is_refused() {
        let tenant = TenantId::parse("default").unwrap();
        let (token, _) = issuer()
            .issue(UserId::new(), &tenant, UserRole::Student)
            .unwrap();
        assert_eq!(issuer().verifier().verify(&token), Err(TokenError::Invalid));

        let signer = issuer();
        let verifier_for = |f: fn(&mut TokenConfig)| {
            let mut c = config();
            f(&mut c);
            TokenVerifier::new(vec![signer.keys.public().clone()], &c)
        };
        let (token, _) = signer
            .issue(UserId::new(), &tenant, UserRole::Student)
            .unwrap();
        assert!(verifier_for(|_| {}).verify(&token).is_ok());
        assert_eq!(
            verifier_for(|c| c.audience = "other".into()).verify(&token),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verifier_for(|c| c.issuer = "other".into()).verify(&token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let mut issuer = issuer();
        issuer.config.ttl = Duration::from_secs(0);
        // Backdate by signing with a negative lifetime through the claims directly.
        let tenant = TenantId::parse("default").unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = AccessClaims {
            sub: UserId::new(),
            tid: tenant,
            role: UserRole::Student,
            iss: issuer.config.issuer.clone(),
            aud: issuer.config.audience.clone(),
            iat: now - 3600,
            exp: now - 120,
            jti: "x".into(),
            sid: None,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(issuer.keys.public().kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &issuer.keys.encoding).unwrap();
        assert_eq!(issuer.verifier().verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn only_a_token_typed_at_jwt_is_an_access_token() {
        let issuer = issuer();
        let tenant = TenantId::parse("default").unwrap();
        let (token, _) = issuer
            .issue(UserId::new(), &tenant, UserRole::Student)
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let claims = issuer.verifier().verify(&token).unwrap();
        for (typ, accepted) in [
            (Some("at+jwt"), true),
            (Some("application/at+jwt"), true),
            (Some("AT+JWT"), true),
            (Some("JWT"), false),
            (Some("id_token+jwt"), false),
            (None, false),
        ] {
            let mut header = Header::new(Algorithm::EdDSA);
            header.typ = typ.map(str::to_owned);
            header.kid = Some(issuer.keys.public().kid().to_owned());
            let token = jsonwebtoken::encode(&header, &claims, &issuer.keys.encoding).unwrap();
            assert_eq!(
                issuer.verifier().verify(&token).is_ok(),
                accepted,
                "{typ:?}"
            );
        }
    }

    #[test]
    fn an_unsigned_or_hmac_token_is_refused() {
        let issuer = issuer();
        let tenant = TenantId::parse("default").unwrap();
        let (token, _) = issuer
            .issue(UserId::new(), &tenant, UserRole::Admin)
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let kid = issuer.keys.public().kid();
        let none_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{kid}"}}"#));
        assert!(
            issuer
                .verifier()
                .verify(&format!("{none_header}.{payload}."))
                .is_err()
        );
        let hs_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#));
        assert!(
            issuer
                .verifier()
                .verify(&format!("{hs_header}.{payload}.c2ln"))
                .is_err()
        );
        assert!(issuer.verifier().verify("not.a.jwt").is_err());
    }
}
