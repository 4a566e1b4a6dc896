//! Invitations to register (issue 22 item 14). An invitation is one item in its tenant's invitation
//! partition (`T#{t}#INVITATIONS` / `INVITE#{invitationId}`), with a `ttl` at its expiry so DynamoDB
//! removes the unused ones; readers treat one past its expiry as absent (TTL deletion lags). Ids are
//! UUIDv7, so the partition is in creation order and the list reads it newest first, a page at a
//! time.
//!
//! Registering with an invitation deletes it in the registration's transaction, conditioned on the
//! secret hash the registration checked: of two registrations racing with one token, one is
//! refused, and a revoked invitation admits no one.

use std::sync::Arc;

use lectern_domain::invitation::Invitation;
use lectern_domain::user::User;
use lectern_domain::{InvitationId, TenantId};
use time::OffsetDateTime;

use crate::cursor::Cursor;
use crate::item::{AttrValue, from_item, keyed_item};
use crate::keys;
use crate::table::{Condition, Query, StoreError, TTL, Table, TxAction};
use crate::users::{UserRepo, UserWriteError};

const SECRET_HASH: &str = "secretHash";

/// A page of pending invitations, newest first.
#[derive(Debug, Clone)]
pub struct InvitationPage {
    pub invitations: Vec<Invitation>,
    pub next: Option<Cursor>,
}

/// Why registering with an invitation failed.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// Used, revoked or expired meanwhile.
    #[error("the invitation is no longer valid")]
    InvitationGone,
    #[error(transparent)]
    User(#[from] UserWriteError),
}

#[derive(Clone)]
pub struct InvitationRepo {
    table: Arc<dyn Table>,
}

impl InvitationRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        InvitationRepo { table }
    }

    /// Records a new invitation.
    #[tracing::instrument(skip_all, fields(invitation_id = %invitation.id))]
    pub async fn create(&self, invitation: &Invitation) -> Result<(), StoreError> {
        let mut item = keyed_item(
            invitation,
            keys::invitation(&invitation.tenant, invitation.id),
            "Invitation",
        )?;
        item.insert(
            TTL.into(),
            AttrValue::int(invitation.expires_at.unix_timestamp()),
        );
        self.table.put(item, Some(Condition::NotExists)).await
    }

    /// An invitation that is still pending (unused, not revoked, not expired).
    #[tracing::instrument(skip(self))]
    pub async fn get(
        &self,
        tenant: &TenantId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, StoreError> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .table
            .get(&keys::invitation(tenant, id))
            .await?
            .map(from_item::<Invitation>)
            .transpose()?
            .filter(|i| !i.is_expired(now)))
    }

    /// A page of the tenant's pending invitations, newest first (expired ones left out).
    #[tracing::instrument(skip(self, cursor))]
    pub async fn pending(
        &self,
        tenant: &TenantId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<InvitationPage, StoreError> {
        let query = Query::partition(keys::invitations_pk(tenant))
            .backward()
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        let now = OffsetDateTime::now_utc();
        let invitations = page
            .items
            .into_iter()
            .map(from_item::<Invitation>)
            .filter(|i| i.as_ref().map_or(true, |i| !i.is_expired(now)))
            .collect::<Result<_, _>>()?;
        Ok(InvitationPage {
            invitations,
            next: page.next,
        })
    }

    /// Revokes a pending invitation; `false` when there was none.
    #[tracing::instrument(skip(self))]
    pub async fn revoke(&self, tenant: &TenantId, id: InvitationId) -> Result<bool, StoreError> {
        match self
            .table
            .delete(&keys::invitation(tenant, id), Some(Condition::Exists))
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the user and uses up the invitation, in one transaction: the invitation must still be
    /// the one checked (same secret hash), else `InvitationGone` and no account is made.
    #[tracing::instrument(skip_all, fields(invitation_id = %invitation.id))]
    pub async fn register(
        &self,
        user: &User,
        invitation: &Invitation,
        more: Vec<TxAction>,
    ) -> Result<(), AcceptError> {
        let mut actions = UserRepo::create_actions(user).map_err(UserWriteError::from)?;
        let used = actions.len();
        actions.push(TxAction::Delete {
            key: keys::invitation(&invitation.tenant, invitation.id),
            condition: Some(Condition::Equals(
                SECRET_HASH.into(),
                AttrValue::s(invitation.secret_hash.clone()),
            )),
        });
        // Writes that go with the account (a rate-limit unit given back), after the invitation's.
        actions.extend(more);
        match self.table.transact_write(actions).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&used) => {
                Err(AcceptError::InvitationGone)
            }
            Err(e) => Err(AcceptError::User(UserRepo::create_error(e))),
        }
    }
}
