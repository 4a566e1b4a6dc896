//! Sessions: refresh-token families (RFC 9700 §4.14.2). A sign-in starts a session and issues its first
//! refresh token; each refresh marks the presented token used and issues the next; presenting a used
//! token again means it was stolen (or the client replayed it), so the whole session is revoked and
//! every token of it stops working. A session has an absolute lifetime ([`SESSION_LIFETIME`] from its
//! sign-in): rotations never extend it, so a stolen token family dies with it; a refresh after its end
//! deletes it. Tokens are stored as SHA-256 hashes, with a TTL.

use std::sync::Arc;

use lectern_domain::ids::SessionId;
use lectern_domain::refresh::{RefreshToken, SESSION_LIFETIME};
use lectern_domain::user::User;
use lectern_domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, PK, Query, SK, SortKeyCondition, StoreError, TTL, Table, TxAction, Update,
    UpdateAction,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Active,
    Revoked,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRecord {
    session_id: SessionId,
    user_id: UserId,
    status: SessionStatus,
    /// The sign-in that started the session.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// Epoch seconds after which the session's newest token is dead.
    expires_at: i64,
}

impl SessionRecord {
    /// When the session ends (epoch seconds): its lifetime after sign-in, or earlier where a session
    /// written before the lifetime was absolute says so.
    fn ends_at(&self) -> i64 {
        (self.created_at + SESSION_LIFETIME)
            .unix_timestamp()
            .min(self.expires_at)
    }
}

/// A stored session, as a user's session list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub status: SessionStatus,
    pub signed_in_at: OffsetDateTime,
    /// Epoch seconds at which the session ends whatever its rotations.
    pub ends_at: i64,
}

impl SessionSummary {
    /// Whether its tokens still refresh at `now` (the account aside).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.status == SessionStatus::Active && self.ends_at > now.unix_timestamp()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRecord {
    session_id: SessionId,
    used: bool,
    expires_at: i64,
}

/// Why a refresh token was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, or of a revoked session.
    #[error("the refresh token is not valid")]
    Invalid,
    /// The session reached the end of its lifetime; it is deleted.
    #[error("the session has ended")]
    Ended,
    /// A used token came back: the session is now revoked.
    #[error("the refresh token was already used; the session has been revoked")]
    Reused,
    /// The account is suspended.
    #[error("the account is suspended")]
    Suspended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct SessionRepo {
    table: Arc<dyn Table>,
}

fn with_key(mut item: Item, key: crate::table::Key, entity: &str, ttl: i64) -> Item {
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s(entity));
    item.insert(TTL.into(), AttrValue::int(ttl));
    item
}

fn token_put(token: &RefreshToken, expires_at: i64) -> Result<TxAction, StoreError> {
    let record = TokenRecord {
        session_id: token.session,
        used: false,
        expires_at,
    };
    let key = keys::refresh_token(
        &token.tenant,
        token.user,
        token.session,
        &token.secret_hash(),
    );
    Ok(TxAction::Put {
        item: with_key(to_item(&record)?, key, "RefreshToken", expires_at),
        condition: Some(Condition::NotExists),
    })
}

fn revoke_action(tenant: &TenantId, user: UserId, session: SessionId) -> TxAction {
    TxAction::Update(Update {
        key: keys::session(tenant, user, session),
        actions: vec![UpdateAction::Set("status".into(), AttrValue::s("revoked"))],
        condition: Some(Condition::Exists),
    })
}

impl SessionRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        SessionRepo { table }
    }

    /// Starts a session for a signed-in user and returns its first refresh token: one transaction,
    /// with the `extra` actions of the sign-in (giving back its throttling unit).
    #[tracing::instrument(skip_all, fields(user_id = %user))]
    pub async fn start(
        &self,
        tenant: &TenantId,
        user: UserId,
        now: OffsetDateTime,
        extra: Vec<TxAction>,
    ) -> Result<RefreshToken, StoreError> {
        let session = SessionId::new();
        let token = RefreshToken::issue(tenant.clone(), user, session);
        let expires_at = (now + SESSION_LIFETIME).unix_timestamp();
        let record = SessionRecord {
            session_id: session,
            user_id: user,
            status: SessionStatus::Active,
            created_at: now,
            expires_at,
        };
        let mut actions = vec![
            TxAction::Put {
                item: with_key(
                    to_item(&record)?,
                    keys::session(tenant, user, session),
                    "Session",
                    expires_at,
                ),
                condition: Some(Condition::NotExists),
            },
            token_put(&token, expires_at)?,
        ];
        actions.extend(extra);
        self.table.transact_write(actions).await?;
        Ok(token)
    }

    /// Exchanges a refresh token for the next one: one batch read (user, session, token) and one
    /// transaction. Returns the user (for the new access token) and the new refresh token.
    #[tracing::instrument(skip_all, fields(user_id = %presented.user))]
    pub async fn rotate(
        &self,
        presented: &RefreshToken,
        now: OffsetDateTime,
    ) -> Result<(User, RefreshToken), RefreshError> {
        let tenant = &presented.tenant;
        let token_key = keys::refresh_token(
            tenant,
            presented.user,
            presented.session,
            &presented.secret_hash(),
        );
        let session_key = keys::session(tenant, presented.user, presented.session);
        let found = self
            .table
            .batch_get(&[
                keys::user(tenant, presented.user),
                session_key.clone(),
                token_key.clone(),
            ])
            .await?;
        let [user, session, token] = <[Option<Item>; 3]>::try_from(found).map_err(|_| {
            StoreError::Corrupt("a batch get answered the wrong number of items".into())
        })?;
        let (Some(user), Some(session), Some(token)) = (user, session, token) else {
            return Err(RefreshError::Invalid);
        };
        let user: User = from_item(user)?;
        let session: SessionRecord = from_item(session)?;
        let token: TokenRecord = from_item(token)?;
        let now_secs = now.unix_timestamp();
        let ends_at = session.ends_at();
        if ends_at <= now_secs {
            self.end_session(tenant, presented.user, presented.session)
                .await?;
            return Err(RefreshError::Ended);
        }
        if session.status == SessionStatus::Revoked || token.expires_at <= now_secs {
            return Err(RefreshError::Invalid);
        }
        if token.used {
            self.revoke_session(tenant, presented.user, presented.session)
                .await?;
            return Err(RefreshError::Reused);
        }
        if user.is_suspended() {
            return Err(RefreshError::Suspended);
        }

        let next = RefreshToken::issue(tenant.clone(), presented.user, presented.session);
        // The next token dies with the session, not a lifetime after this rotation.
        let expires_at = ends_at;
        let result = self
            .table
            .transact_write(vec![
                // Two refreshes racing with one token: only one may mark it used.
                TxAction::Update(Update {
                    key: token_key,
                    actions: vec![UpdateAction::Set("used".into(), AttrValue::Bool(true))],
                    condition: Some(Condition::Equals("used".into(), AttrValue::Bool(false))),
                }),
                token_put(&next, expires_at)?,
                TxAction::Check {
                    key: session_key,
                    condition: Condition::Equals("status".into(), AttrValue::s("active")),
                },
            ])
            .await;
        match result {
            Ok(()) => Ok((user, next)),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                // Someone used this very token a moment ago: that is reuse too.
                self.revoke_session(tenant, presented.user, presented.session)
                    .await?;
                Err(RefreshError::Reused)
            }
            Err(StoreError::TransactionCanceled { .. }) => Err(RefreshError::Invalid),
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes the session of a token the client holds (sign out). The token must be one of the
    /// session's, used or not: knowing ids alone revokes nothing. Revoking twice is fine.
    #[tracing::instrument(skip_all, fields(user_id = %presented.user))]
    pub async fn revoke(&self, presented: &RefreshToken) -> Result<(), RefreshError> {
        let tenant = &presented.tenant;
        let token_key = keys::refresh_token(
            tenant,
            presented.user,
            presented.session,
            &presented.secret_hash(),
        );
        let result = self
            .table
            .transact_write(vec![
                TxAction::Check {
                    key: token_key,
                    condition: Condition::Exists,
                },
                revoke_action(tenant, presented.user, presented.session),
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { .. }) => Err(RefreshError::Invalid),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a session that reached its end. Its tokens expire with it (their TTL is its end).
    async fn end_session(
        &self,
        tenant: &TenantId,
        user: UserId,
        session: SessionId,
    ) -> Result<(), StoreError> {
        self.table
            .delete(&keys::session(tenant, user, session), None)
            .await
            .map(|_| ())
    }

    async fn revoke_session(
        &self,
        tenant: &TenantId,
        user: UserId,
        session: SessionId,
    ) -> Result<(), StoreError> {
        tracing::warn!(%user, %session, "refresh token reuse detected; revoking the session");
        match self
            .table
            .transact_write(vec![revoke_action(tenant, user, session)])
            .await
        {
            Ok(()) | Err(StoreError::TransactionCanceled { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every stored session of a user (live, revoked, or ended but not yet deleted). One query.
    pub async fn sessions(
        &self,
        tenant: &TenantId,
        user: UserId,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let query = Query::partition(keys::user_pk(tenant, user))
            .sort_key(SortKeyCondition::BeginsWith(keys::SESSION_PREFIX.into()));
        let page = self.table.query(&query).await?;
        page.items
            .into_iter()
            .map(|item| {
                let session: SessionRecord = from_item(item)?;
                Ok(SessionSummary {
                    id: session.session_id,
                    status: session.status,
                    signed_in_at: session.created_at,
                    ends_at: session.ends_at(),
                })
            })
            .collect()
    }

    /// The write actions that revoke every live session of a user, to be committed with the change
    /// that requires it (a suspension, a password change). One query.
    pub async fn revoke_all_actions(
        &self,
        tenant: &TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<TxAction>, StoreError> {
        self.revoke_others_actions(tenant, user, None, now).await
    }

    /// The write actions that revoke every live session of a user but `keep` (the one making the
    /// change: an email change signs out the others). One query.
    pub async fn revoke_others_actions(
        &self,
        tenant: &TenantId,
        user: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
    ) -> Result<Vec<TxAction>, StoreError> {
        Ok(self
            .sessions(tenant, user)
            .await?
            .into_iter()
            .filter(|session| session.is_live(now) && Some(session.id) != keep)
            .map(|session| revoke_action(tenant, user, session.id))
            .collect())
    }
}
