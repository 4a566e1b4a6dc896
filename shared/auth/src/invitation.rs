//! Invitation tokens: `{invitationId}.{secret}`. The id finds the invitation in one read; the 256-bit
//! secret proves possession. Only the secret's SHA-256 is stored, and it is compared in constant
//! time, so neither a copy of the table nor timing tells a working token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_domain::InvitationId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An invitation token as its holder presents it.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken {
    pub id: InvitationId,
    secret: String,
}

impl std::fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InvitationToken({}.**)", self.id)
    }
}

impl InvitationToken {
    /// A fresh token for a new invitation.
    pub fn issue() -> InvitationToken {
        let secret: [u8; 32] = rand::random();
        InvitationToken {
            id: InvitationId::new(),
            secret: URL_SAFE_NO_PAD.encode(secret),
        }
    }

    /// Reads a presented token; anything malformed is `None`.
    pub fn parse(value: &str) -> Option<InvitationToken> {
        let (id, secret) = value.trim().split_once('.')?;
        let id = InvitationId::parse(id).ok()?;
        if URL_SAFE_NO_PAD.decode(secret).ok()?.len() != 32 {
            return None;
        }
        Some(InvitationToken {
            id,
            secret: secret.to_owned(),
        })
    }

    /// What the invited person is given (once).
    pub fn expose(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }

    /// What the store keeps: hex SHA-256 of the secret.
    pub fn secret_hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether a stored hash is this token's, in constant time.
    pub fn matches(&self, stored_hash: &str) -> bool {
        self.secret_hash()
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_and_matches_only_its_own_hash() {
        let token = InvitationToken::issue();
        let parsed = InvitationToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.matches(&token.secret_hash()));
        assert!(!InvitationToken::issue().matches(&token.secret_hash()));
        assert!(!format!("{token:?}").contains(&token.secret));
        for bad in ["", "x.y", &format!("{}.x", token.id), &token.expose()[1..]] {
            assert!(InvitationToken::parse(bad).is_none(), "{bad}");
        }
    }
}
