//! Who makes a write, checked in the write itself: every write a signed-in user causes carries a
//! condition on that user's own item (it exists, is active, and still holds the role the write needs),
//! in the same transaction. Access tokens are stateless and live for minutes; this is what makes a
//! suspension or a demotion stop the user's writes at once, at no extra round trip.

use std::fmt;

use lectern_domain::user::{User, UserRole};
use lectern_domain::{TenantId, UserId};

use crate::item::AttrValue;
use crate::keys;
use crate::table::{
    Condition, Key, MAX_TRANSACTION_ACTIONS, StoreError, StoreResult, Table, TxAction,
    transact_in_batches,
};

/// How the user item stores [`lectern_domain::user::UserStatus::Active`].
const ACTIVE: &str = "active";

/// What a write needs its actor to be, beyond an active account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Any role: the user acting on their own things.
    Member,
    /// Instructor or admin: managing a course (the owner's powers).
    Teaching,
    /// Admin: acting on others' things within the tenant.
    Admin,
}

impl Power {
    /// The roles that hold this power.
    pub fn roles(self) -> &'static [UserRole] {
        match self {
            Power::Member => &[UserRole::Student, UserRole::Instructor, UserRole::Admin],
            Power::Teaching => &[UserRole::Instructor, UserRole::Admin],
            Power::Admin => &[UserRole::Admin],
        }
    }

    pub fn admits(self, role: UserRole) -> bool {
        self.roles().contains(&role)
    }
}

/// The signed-in user a write is made for, and the power it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub tenant: TenantId,
    pub user: UserId,
    pub power: Power,
}

/// Why an actor's write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The account is suspended (or no longer exists).
    Suspended,
    /// The account no longer holds the role the write needs.
    RoleChanged,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Suspended => "the account is suspended",
            Refusal::RoleChanged => "the account no longer has the role this needs",
        })
    }
}

impl Actor {
    pub fn new(tenant: TenantId, user: UserId, power: Power) -> Self {
        Actor {
            tenant,
            user,
            power,
        }
    }

    /// The same user, needing another power.
    pub fn with_power(&self, power: Power) -> Self {
        Actor {
            power,
            ..self.clone()
        }
    }

    pub fn key(&self) -> Key {
        keys::user(&self.tenant, self.user)
    }

    /// The condition the actor's user item must meet: active, with a role that holds the power.
    pub fn condition(&self) -> Condition {
        let active = Condition::Equals("status".into(), AttrValue::s(ACTIVE));
        match self.power {
            Power::Member => active,
            power => Condition::And(vec![
                active,
                Condition::OneOf(
                    "role".into(),
                    power
                        .roles()
                        .iter()
                        .map(|r| AttrValue::s(r.as_str()))
                        .collect(),
                ),
            ]),
        }
    }

    /// The transaction action that checks the actor.
    pub fn check(&self) -> TxAction {
        TxAction::Check {
            key: self.key(),
            condition: self.condition(),
        }
    }

    /// Whether the user as read (`None`: gone) may act; for writes of the actor's own user item,
    /// whose version condition then covers the check, and for reads made just before a side effect
    /// outside the store.
    pub fn judge(&self, user: Option<&User>) -> Result<(), Refusal> {
        match user {
            Some(u) if u.id == self.user && !u.is_suspended() => {
                if self.power.admits(u.role) {
                    Ok(())
                } else {
                    Err(Refusal::RoleChanged)
                }
            }
            _ => Err(Refusal::Suspended),
        }
    }

    /// Reads the actor's user item and judges it: for an action whose effect is outside the store (a
    /// refund at the payment provider), which no transaction can guard.
    pub async fn verify(&self, table: &dyn Table) -> StoreResult<()> {
        let user = read_user(table, &self.key()).await?;
        self.judge(user.as_ref()).map_err(StoreError::ActorRefused)
    }

    /// Why the check failed, once a transaction carrying it was cancelled: one read, on the failure
    /// path only. A user who meets the condition again by now (unsuspended meanwhile) still gets the
    /// refusal that held when the write was judged.
    async fn refusal(&self, table: &dyn Table) -> StoreError {
        match read_user(table, &self.key()).await {
            Ok(user) => StoreError::ActorRefused(match self.judge(user.as_ref()) {
                Err(refusal) => refusal,
                Ok(()) => Refusal::Suspended,
            }),
            Err(e) => e,
        }
    }
}

async fn read_user(table: &dyn Table, key: &Key) -> StoreResult<Option<User>> {
    table
        .get(key)
        .await?
        .map(crate::item::from_item)
        .transpose()
}

/// Commits `actions` with the actor's check, in one transaction: a single put or update becomes a
/// transaction of two. See [`commit_in_batches`].
pub async fn commit(table: &dyn Table, actor: &Actor, actions: Vec<TxAction>) -> StoreResult<()> {
    commit_in_batches(table, actor, actions, Vec::new()).await
}

/// [`commit`] when a user acts; a plain transaction when the platform does (a queue consumer settling a
/// payment acts for no signed-in user).
pub async fn commit_for(
    table: &dyn Table,
    actor: Option<&Actor>,
    actions: Vec<TxAction>,
) -> StoreResult<()> {
    match actor {
        Some(actor) => commit(table, actor, actions).await,
        None => table.transact_write(actions).await,
    }
}

/// [`transact_in_batches`] with the actor's check in the first transaction, as its last action, so
/// that the indices of a cancelled transaction's failed actions mean what they meant without it; when
/// the check is among them, the answer is [`StoreError::ActorRefused`] whatever else failed. What
/// follows in further transactions lands once the first (and so the check) has.
pub async fn commit_in_batches(
    table: &dyn Table,
    actor: &Actor,
    first: Vec<TxAction>,
    more: Vec<TxAction>,
) -> StoreResult<()> {
    let room = MAX_TRANSACTION_ACTIONS.saturating_sub(first.len() + 1);
    let mut more = more.into_iter();
    let mut batch = first;
    batch.extend(more.by_ref().take(room));
    let at = batch.len();
    batch.push(actor.check());
    match transact_in_batches(table, batch, more.collect()).await {
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&at) => {
            Err(actor.refusal(table).await)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use lectern_domain::user::UserStatus;

    use super::*;

    #[test]
    fn the_check_names_the_status_and_roles_as_the_user_item_stores_them() {
        let json = |v: serde_json::Result<String>| v.unwrap_or_default();
        assert_eq!(
            json(serde_json::to_string(&UserStatus::Active)),
            format!("\"{ACTIVE}\"")
        );
        for role in Power::Member.roles() {
            assert_eq!(
                json(serde_json::to_string(role)),
                format!("\"{}\"", role.as_str())
            );
        }
    }

    #[test]
    fn teaching_is_held_by_instructors_and_admins_and_admin_by_admins() {
        assert!(Power::Teaching.admits(UserRole::Instructor));
        assert!(Power::Teaching.admits(UserRole::Admin));
        assert!(!Power::Teaching.admits(UserRole::Student));
        assert!(Power::Admin.admits(UserRole::Admin));
        assert!(!Power::Admin.admits(UserRole::Instructor));
    }
}
