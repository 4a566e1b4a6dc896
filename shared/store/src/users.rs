//! Users and their unique claims (email, username). Contract: issue "walking skeleton" §4–5.

use std::sync::Arc;

use lectern_domain::user::{Email, User, UserRole, Username};
use lectern_domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actor::{Actor, commit_in_batches};
use crate::cursor::Cursor;
use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, Index, Key, PK, Query, SK, SortKeyCondition, StoreError, TTL, Table,
    TxAction, Update, UpdateAction, transact_in_batches,
};

/// Why a user could not be written.
#[derive(Debug, thiserror::Error)]
pub enum UserWriteError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the username is already taken")]
    UsernameTaken,
    /// The user changed since it was read (optimistic locking), or was deleted.
    #[error("the user was changed by another request")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claim {
    user_id: UserId,
}

/// The attribute of a sign-in window item that counts attempts against the account from anywhere.
const FAILURES: &str = "failures";

/// The attribute that counts attempts from one network: a hash of it, so that the table holds no
/// client addresses, and so that any address makes a valid attribute name.
fn network_attr(network: &str) -> String {
    let digest = Sha256::digest(network.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("net#{hex}")
}

/// Failed sign-ins (and attempts in flight) counted against one email: `[current window, previous]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigninFailures {
    /// From anywhere.
    pub account: [i64; 2],
    /// From the network the attempt comes from.
    pub network: [i64; 2],
}

impl SigninFailures {
    pub fn account_total(&self) -> i64 {
        self.account[0] + self.account[1]
    }

    pub fn network_total(&self) -> i64 {
        self.network[0] + self.network[1]
    }
}

/// How many failed sign-ins the current and previous windows may hold together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninLimits {
    /// Per email, from anywhere.
    pub account: i64,
    /// Per email and client network.
    pub network: i64,
}

/// One sign-in attempt, as the throttle counts it.
#[derive(Debug, Clone)]
pub struct SigninAttempt {
    pub tenant: TenantId,
    pub email: Email,
    /// The client's network (`ClientAddress::network`).
    pub network: String,
    /// Throttling window: epoch seconds / window length.
    pub window: i64,
    /// When the window's counts stop mattering (epoch seconds).
    pub expires_at: i64,
}

/// An attempt counted by [`UserRepo::reserve_signin`].
#[derive(Debug, Clone)]
pub struct SigninReservation {
    key: Key,
    network: String,
}

/// A page of users.
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<Cursor>,
}

#[derive(Clone)]
pub struct UserRepo {
    table: Arc<dyn Table>,
}

fn user_item(user: &User) -> Result<Item, StoreError> {
    let key = keys::user(&user.tenant, user.id);
    let mut item = to_item(user)?;
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s("User"));
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::users_index_pk(&user.tenant)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(keys::users_index_sk(user.role, user.id)),
    );
    Ok(item)
}

fn claim_item(key: Key, entity: &str, user: UserId) -> Result<Item, StoreError> {
    let mut item = to_item(&Claim { user_id: user })?;
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s(entity));
    Ok(item)
}

fn owned_by(user: UserId) -> Condition {
    Condition::Equals("userId".into(), AttrValue::S(user.to_string()))
}

impl UserRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        UserRepo { table }
    }

    /// Writes a new user with its email and username claims, in one transaction.
    pub async fn create(&self, user: &User) -> Result<(), UserWriteError> {
        self.create_with(user, Vec::new()).await
    }

    /// Writes a new user with its email and username claims and `more` (a rate-limit unit given
    /// back), in one transaction: none is written when the email or username is taken.
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    pub async fn create_with(
        &self,
        user: &User,
        more: Vec<TxAction>,
    ) -> Result<(), UserWriteError> {
        let mut actions = Self::create_actions(user)?;
        actions.extend(more);
        self.table
            .transact_write(actions)
            .await
            .map_err(Self::create_error)
    }

    /// The writes that create a user: the email claim, the username claim (each must not exist, in
    /// that order), and the user. Other writes may join them in one transaction.
    pub fn create_actions(user: &User) -> Result<Vec<TxAction>, StoreError> {
        Ok(vec![
            TxAction::Put {
                item: claim_item(
                    keys::email_claim(&user.tenant, &user.email),
                    "EmailClaim",
                    user.id,
                )?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: claim_item(
                    keys::username_claim(&user.tenant, &user.username),
                    "UsernameClaim",
                    user.id,
                )?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: user_item(user)?,
                condition: Some(Condition::NotExists),
            },
        ])
    }

    /// The outcome of a transaction that began with [`UserRepo::create_actions`].
    pub fn create_error(error: StoreError) -> UserWriteError {
        match error {
            StoreError::TransactionCanceled { failed } if failed.contains(&0) => {
                UserWriteError::EmailTaken
            }
            StoreError::TransactionCanceled { failed } if failed.contains(&1) => {
                UserWriteError::UsernameTaken
            }
            e => e.into(),
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(&self, tenant: &TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        self.table
            .get(&keys::user(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Who holds this email (case-insensitively), and the failed sign-ins counted against it in
    /// throttling window `window` and the one before it (so that failures straddling a window's edge
    /// still add up), in total and from `network`: one batch read of the claim and both windows.
    #[tracing::instrument(skip_all)]
    pub async fn find_for_signin(
        &self,
        tenant: &TenantId,
        email: &Email,
        window: i64,
        network: &str,
    ) -> Result<(Option<UserId>, SigninFailures), StoreError> {
        let found = self
            .table
            .batch_get(&[
                keys::email_claim(tenant, email),
                keys::signin_failures(tenant, email, window),
                keys::signin_failures(tenant, email, window - 1),
            ])
            .await?;
        let [claim, current, previous] = <[Option<Item>; 3]>::try_from(found).map_err(|_| {
            StoreError::Corrupt("a batch get answered the wrong number of items".into())
        })?;
        let holder = claim
            .map(|claim| from_item::<Claim>(claim).map(|c| c.user_id))
            .transpose()?;
        let network = network_attr(network);
        let count = |item: &Option<Item>, attr: &str| {
            item.as_ref()
                .and_then(|i| i.get(attr))
                .and_then(AttrValue::as_i64)
                .unwrap_or(0)
        };
        Ok((
            holder,
            SigninFailures {
                account: [count(&current, FAILURES), count(&previous, FAILURES)],
                network: [count(&current, &network), count(&previous, &network)],
            },
        ))
    }

    /// Counts one sign-in attempt against this email, in total and from `network`, before its password
    /// is checked, in one conditional update: it is admitted only while both counts, with what the
    /// previous window holds, stay within `limits`. Concurrent attempts cannot all pass: each takes its
    /// unit atomically. `None` when a limit is reached (nothing is written). A successful sign-in gives
    /// its unit back ([`UserRepo::refund_signin`]), so the counts are of failures and attempts in
    /// flight.
    #[tracing::instrument(skip_all)]
    pub async fn reserve_signin(
        &self,
        attempt: &SigninAttempt,
        seen: &SigninFailures,
        limits: SigninLimits,
    ) -> Result<Option<SigninReservation>, StoreError> {
        let network = network_attr(&attempt.network);
        // The previous window no longer changes: what it holds comes off the current window's room.
        let update = Update {
            key: keys::signin_failures(&attempt.tenant, &attempt.email, attempt.window),
            actions: vec![
                UpdateAction::Add(FAILURES.into(), 1),
                UpdateAction::Add(network.clone(), 1),
                UpdateAction::Set(ENTITY.into(), AttrValue::s("SigninFailures")),
                UpdateAction::Set(TTL.into(), AttrValue::int(attempt.expires_at)),
            ],
            condition: Some(Condition::And(vec![
                Condition::AbsentOrBelow(FAILURES.into(), limits.account - seen.account[1]),
                Condition::AbsentOrBelow(network.clone(), limits.network - seen.network[1]),
            ])),
        };
        match self.table.update(update).await {
            Ok(_) => Ok(Some(SigninReservation {
                key: keys::signin_failures(&attempt.tenant, &attempt.email, attempt.window),
                network,
            })),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The write that gives a reserved attempt back once the password proved right, to commit with
    /// the session it starts.
    pub fn refund_signin(reservation: &SigninReservation) -> TxAction {
        TxAction::Update(Self::refund_update(reservation))
    }

    fn refund_update(reservation: &SigninReservation) -> Update {
        Update {
            key: reservation.key.clone(),
            actions: vec![
                UpdateAction::Add(FAILURES.into(), -1),
                UpdateAction::Add(reservation.network.clone(), -1),
            ],
            condition: Some(Condition::Exists),
        }
    }

    /// Gives a reserved attempt back on its own, when its password could not be checked (every
    /// hasher busy): the attempt never happened.
    pub async fn give_back_signin(
        &self,
        reservation: &SigninReservation,
    ) -> Result<(), StoreError> {
        self.table
            .update(Self::refund_update(reservation))
            .await
            .map(|_| ())
    }

    /// Users by id, in the order asked (`None` where absent): batch gets of up to 100.
    pub async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[UserId],
    ) -> Result<Vec<Option<User>>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::table::MAX_BATCH_GET_KEYS) {
            let keys: Vec<Key> = chunk.iter().map(|id| keys::user(tenant, *id)).collect();
            for item in self.table.batch_get(&keys).await? {
                found.push(item.map(from_item).transpose()?);
            }
        }
        Ok(found)
    }

    /// The user who holds this email (case-insensitively).
    pub async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &Email,
    ) -> Result<Option<User>, StoreError> {
        let Some(claim) = self.table.get(&keys::email_claim(tenant, email)).await? else {
            return Ok(None);
        };
        let claim: Claim = from_item(claim)?;
        self.get(tenant, claim.user_id).await
    }

    /// Who holds this username (case-insensitively), if anyone.
    pub async fn username_holder(
        &self,
        tenant: &TenantId,
        username: &Username,
    ) -> Result<Option<UserId>, StoreError> {
        self.table
            .get(&keys::username_claim(tenant, username))
            .await?
            .map(|item| from_item::<Claim>(item).map(|c| c.user_id))
            .transpose()
    }

    /// Replaces `before` with `after` if nobody changed it meanwhile (its version), moving the email and
    /// username claims when they change — all in one transaction, made by `actor`. `after.version`
    /// must be `before.version + 1`.
    ///
    /// `extra` actions (revoking sessions on a password change or a suspension) commit in the same
    /// transaction while they fit in one; beyond that, the rest follow in further transactions once the
    /// user's change has landed (safe for revocations, which refresh re-checks against the user anyway).
    ///
    /// A user changing their own account is judged on `before`: the version condition makes that the
    /// account as it is when the write lands. Anyone else is checked in the transaction.
    #[tracing::instrument(skip_all, fields(user_id = %after.id))]
    pub async fn update(
        &self,
        actor: &Actor,
        before: &User,
        after: &User,
        extra: Vec<TxAction>,
    ) -> Result<(), UserWriteError> {
        debug_assert_eq!(after.version, before.version + 1);
        let own = actor.user == before.id && actor.tenant == before.tenant;
        if own {
            actor
                .judge(Some(before))
                .map_err(|r| UserWriteError::Store(StoreError::ActorRefused(r)))?;
        }
        let mut actions = vec![TxAction::Put {
            item: user_item(after)?,
            condition: Some(Condition::VersionEquals(before.version)),
        }];
        let email_moves = before.email.key() != after.email.key();
        if email_moves {
            actions.push(TxAction::Put {
                item: claim_item(
                    keys::email_claim(&after.tenant, &after.email),
                    "EmailClaim",
                    after.id,
                )?,
                condition: Some(Condition::NotExists),
            });
            actions.push(TxAction::Delete {
                key: keys::email_claim(&before.tenant, &before.email),
                condition: Some(owned_by(before.id)),
            });
        }
        let username_at = actions.len();
        if before.username.key() != after.username.key() {
            actions.push(TxAction::Put {
                item: claim_item(
                    keys::username_claim(&after.tenant, &after.username),
                    "UsernameClaim",
                    after.id,
                )?,
                condition: Some(Condition::NotExists),
            });
            actions.push(TxAction::Delete {
                key: keys::username_claim(&before.tenant, &before.username),
                condition: Some(owned_by(before.id)),
            });
        }
        let changes = actions.len();
        let written = if own {
            transact_in_batches(self.table.as_ref(), actions, extra).await
        } else {
            commit_in_batches(self.table.as_ref(), actor, actions, extra).await
        };
        match written {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed })
                if failed.iter().all(|&i| i >= changes) =>
            {
                // Only the extra actions failed (a session revoked meanwhile): the change itself is sound
                // but did not land; the caller may retry.
                Err(UserWriteError::Stale)
            }
            Err(StoreError::TransactionCanceled { failed }) => Err(if failed.contains(&0) {
                UserWriteError::Stale
            } else if email_moves && failed.contains(&1) {
                UserWriteError::EmailTaken
            } else if failed.contains(&username_at) {
                UserWriteError::UsernameTaken
            } else {
                // A claim no longer owned by the user: it was changed under us.
                UserWriteError::Stale
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// A page of the tenant's users, grouped by role (optionally one role) and by creation within it.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn list(
        &self,
        tenant: &TenantId,
        role: Option<UserRole>,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<UserPage, StoreError> {
        let mut query = Query::index(Index::Gsi1, keys::users_index_pk(tenant))
            .limit(limit)
            .after(cursor);
        if let Some(role) = role {
            query = query.sort_key(SortKeyCondition::BeginsWith(keys::users_index_role_prefix(
                role,
            )));
        }
        let page = self.table.query(&query).await?;
        Ok(UserPage {
            users: page
                .items
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}
