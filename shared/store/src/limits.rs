//! Rate-limit windows: fixed-window request counters, one item per (tenant, policy, subject,
//! window). Taking a unit is one conditional update (`ADD count 1` if the count is absent or below
//! the limit), so concurrent requests can never take more units than the limit, on either backend
//! and across processes. Items expire by TTL one window after theirs ends.
//!
//! The subject is what a policy counts per: a client network (stored only as a hash, so the table
//! holds no addresses), a user id, or a shard of a tenant's requests.

use std::sync::Arc;

use lectern_domain::TenantId;
use sha2::{Digest, Sha256};

use crate::item::AttrValue;
use crate::keys;
use crate::table::{
    Condition, ENTITY, Key, StoreError, StoreResult, TTL, Table, TxAction, Update, UpdateAction,
};

/// The attribute counting a window's requests.
const COUNT: &str = "count";

/// One window of one policy for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateWindow {
    pub tenant: TenantId,
    /// The policy's name (`anonymous`, `writes`, `tenant`, …): `[a-z_]+`.
    pub policy: &'static str,
    /// Whom the policy counts: see [`RateWindow::subject_of_network`].
    pub subject: String,
    /// Epoch seconds at which the window starts.
    pub start: i64,
    /// The window's length in seconds.
    pub length: i64,
}

impl RateWindow {
    /// The window of `length` seconds that holds `now` (epoch seconds).
    pub fn at(
        tenant: TenantId,
        policy: &'static str,
        subject: String,
        now: i64,
        length: i64,
    ) -> RateWindow {
        let length = length.max(1);
        RateWindow {
            tenant,
            policy,
            subject,
            start: now.div_euclid(length) * length,
            length,
        }
    }

    /// The subject of a client network (`ClientAddress::network`): a hash, so that the table holds no
    /// client addresses.
    pub fn subject_of_network(network: &str) -> String {
        let digest = Sha256::digest(network.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Epoch seconds at which the window ends (and the next starts).
    pub fn end(&self) -> i64 {
        self.start.saturating_add(self.length)
    }

    fn key(&self) -> Key {
        keys::rate_window(&self.tenant, self.policy, &self.subject, self.start)
    }
}

/// What taking a unit of a window answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Admitted; the window now counts this many requests (this one included).
    Admitted { count: i64 },
    /// The window already holds the limit: nothing was written.
    Refused,
}

#[derive(Clone)]
pub struct RateLimitRepo {
    table: Arc<dyn Table>,
}

impl RateLimitRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        RateLimitRepo { table }
    }

    /// Counts one request in `window` if it holds fewer than `limit`: one conditional update.
    #[tracing::instrument(skip_all, fields(policy = window.policy))]
    pub async fn take(&self, window: &RateWindow, limit: i64) -> StoreResult<Taken> {
        let update = Update {
            key: window.key(),
            actions: vec![
                UpdateAction::Add(COUNT.into(), 1),
                UpdateAction::Set(ENTITY.into(), AttrValue::s("RateWindow")),
                // Kept one window past its end: what a reader may still ask about.
                UpdateAction::Set(
                    TTL.into(),
                    AttrValue::int(window.end().saturating_add(window.length)),
                ),
            ],
            condition: Some(Condition::AbsentOrBelow(COUNT.into(), limit)),
        };
        match self.table.update(update).await {
            Ok(item) => Ok(Taken::Admitted {
                count: item.get(COUNT).and_then(AttrValue::as_i64).unwrap_or(1),
            }),
            Err(StoreError::ConditionFailed) => Ok(Taken::Refused),
            Err(e) => Err(e),
        }
    }

    /// The write that gives a taken unit back, to commit with the work whose success means the
    /// request should not count (a registration that did not meet a taken email).
    pub fn give_back(window: &RateWindow) -> TxAction {
        TxAction::Update(Self::give_back_update(window))
    }

    /// Gives a taken unit back on its own.
    pub async fn give_back_now(&self, window: &RateWindow) -> StoreResult<()> {
        self.table
            .update(Self::give_back_update(window))
            .await
            .map(|_| ())
    }

    fn give_back_update(window: &RateWindow) -> Update {
        Update {
            key: window.key(),
            actions: vec![UpdateAction::Add(COUNT.into(), -1)],
            condition: Some(Condition::Exists),
        }
    }

    /// How many requests a window counts (0 when it has none), for tests and operators.
    pub async fn count(&self, window: &RateWindow) -> StoreResult<i64> {
        Ok(self
            .table
            .get(&window.key())
            .await?
            .and_then(|item| item.get(COUNT).and_then(AttrValue::as_i64))
            .unwrap_or(0))
    }
}
