//! Refresh-token material. A refresh token is `{tenant}.{user}.{session}.{secret}`: the ids let the
//! store find the session's items in one batch read without an index, and the 256-bit secret is what
//! proves possession. Only the secret's SHA-256 is stored, so a copy of the table mints nothing.
//!
//! Rotation and reuse detection (RFC 9700 §4.14.2) live with the session repository; this module only
//! makes and reads the strings.

use crate::ids::SessionId;
use crate::{TenantId, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A session ends 30 days after its sign-in, however often its refresh token rotates: every token of
/// it expires then, and a refresh after that asks for a new sign in.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(30);

/// A refresh token as the client holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub tenant: TenantId,
    pub user: UserId,
    pub session: SessionId,
    secret: String,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RefreshToken({}.{}.{}.**)",
            self.tenant, self.user, self.session
        )
    }
}

impl RefreshToken {
    /// A fresh token for a session.
    pub fn issue(tenant: TenantId, user: UserId, session: SessionId) -> RefreshToken {
        let secret: [u8; 32] = rand::random();
        RefreshToken {
            tenant,
            user,
            session,
            secret: URL_SAFE_NO_PAD.encode(secret),
        }
    }

    /// Reads a token a client presented. Anything malformed is `None`: the caller answers 401.
    pub fn parse(value: &str) -> Option<RefreshToken> {
        let mut parts = value.trim().split('.');
        let tenant = TenantId::parse(parts.next()?).ok()?;
        let user = UserId::parse(parts.next()?).ok()?;
        let session = SessionId::parse(parts.next()?).ok()?;
        let secret = parts.next()?;
        if parts.next().is_some() || URL_SAFE_NO_PAD.decode(secret).ok()?.len() != 32 {
            return None;
        }
        Some(RefreshToken {
            tenant,
            user,
            session,
            secret: secret.to_owned(),
        })
    }

    /// What the client is given.
    pub fn expose(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.tenant, self.user, self.session, self.secret
        )
    }

    /// What the store keeps: hex SHA-256 of the secret.
    pub fn secret_hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_itself() {
        let token = RefreshToken::issue(
            TenantId::parse("acme").unwrap(),
            UserId::new(),
            SessionId::new(),
        );
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.secret_hash().len(), 64);
        assert!(!format!("{token:?}").contains(&token.secret));
    }

    #[test]
    fn malformed_tokens_are_none() {
        let token = RefreshToken::issue(
            TenantId::parse("acme").unwrap(),
            UserId::new(),
            SessionId::new(),
        )
        .expose();
        for bad in [
            "",
            "a.b.c.d",
            &format!("{token}.x"),
            &token[..token.len() - 2],
            &token.replacen("acme", "AC", 1),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad}");
        }
    }
}
