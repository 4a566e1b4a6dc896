//! Idempotency keys: a client's `Idempotency-Key` claimed before the work it names is done, so that
//! the same key sent twice, even at the same moment, does the work once.
//!
//! A key's record is written (claimed, `in_progress`) before the work starts, with the id of what the
//! work creates reserved in it; the work's own transaction then marks it `done`, conditioned on the
//! claim still being the one this request holds. Meanwhile another request with the key finds it in
//! progress (the caller answers 409 `request_in_progress`), and afterwards finds it done and answers
//! with what it created. A claim whose request died holds for its lease only: then a retry takes it
//! over, with the same reserved id, so what it asks of a provider (keyed by that id) is the same
//! request again. A key used with another request (its digest differs) is refused.
//!
//! The record's key is the caller's to choose (one per operation and user, see `keys`), so the same
//! piece serves any operation that takes an idempotency key.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::item::{AttrValue, from_item, keyed_item};
use crate::table::{Condition, Key, StoreError, Table, TxAction, Update, UpdateAction};

/// Where a claimed key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// A request holds the key and is doing its work.
    InProgress,
    /// The work is done; `resource_id` names what it created.
    Done,
}

fn done() -> KeyState {
    KeyState::Done
}

/// The record of one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotentRequest {
    /// A digest of the request the key was first used with.
    pub request_digest: String,
    /// The id of what the request creates: reserved by the first claim, kept by a takeover.
    /// (`paymentId`: records written before keys were claimed.)
    #[serde(alias = "paymentId")]
    pub resource_id: String,
    /// (Records written before keys were claimed were written when the work was done.)
    #[serde(default = "done")]
    pub state: KeyState,
    /// While in progress: until when (Unix seconds) the claim holds against a retry.
    #[serde(default)]
    pub locked_until: i64,
    /// Which claim holds the key: a takeover counts one more, so a request that lost its claim cannot
    /// complete it.
    #[serde(default)]
    pub claim: i64,
}

/// The claim a request holds on a key, to complete (or release) with the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub key: Key,
    pub claim: i64,
    /// What the work creates.
    pub resource_id: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the key: do the work, creating `lease.resource_id`, and complete the lease in
    /// the work's transaction ([`IdempotencyRepo::completion`]).
    Acquired(Lease),
    /// The work was done before: answer with what it created.
    Done { resource_id: String },
    /// Another request holds the key now.
    InProgress,
    /// The key was used with another request.
    Mismatch,
}

/// How often a claim is tried again on a fresh read when another request changed the key meanwhile.
const RETRIES: u32 = 3;

#[derive(Clone)]
pub struct IdempotencyRepo {
    table: Arc<dyn Table>,
}

impl IdempotencyRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        IdempotencyRepo { table }
    }

    /// What a key's record says without taking it: `None` when the key is free (never used, or its
    /// claim lapsed), else the answer a request with `digest` gets.
    pub fn standing(
        record: Option<&IdempotentRequest>,
        digest: &str,
        now: OffsetDateTime,
    ) -> Option<Claim> {
        let record = record?;
        if record.request_digest != digest {
            return Some(Claim::Mismatch);
        }
        match record.state {
            KeyState::Done => Some(Claim::Done {
                resource_id: record.resource_id.clone(),
            }),
            KeyState::InProgress if record.locked_until > now.unix_timestamp() => {
                Some(Claim::InProgress)
            }
            KeyState::InProgress => None,
        }
    }

    /// Claims `key` for a request with `digest` that will create `resource_id`, for `lease`.
    /// `seen`: the record as the caller read it (saves a read). A lapsed claim is taken over with the
    /// resource id it reserved.
    #[tracing::instrument(skip_all)]
    pub async fn claim(
        &self,
        key: &Key,
        mut seen: Option<IdempotentRequest>,
        digest: &str,
        resource_id: &str,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Claim, StoreError> {
        let mut attempt = 0;
        loop {
            if let Some(answer) = Self::standing(seen.as_ref(), digest, now) {
                return Ok(answer);
            }
            let (next, condition) = match &seen {
                None => (
                    IdempotentRequest {
                        request_digest: digest.to_owned(),
                        resource_id: resource_id.to_owned(),
                        state: KeyState::InProgress,
                        locked_until: (now + lease).unix_timestamp(),
                        claim: 1,
                    },
                    Condition::NotExists,
                ),
                Some(lapsed) => (
                    IdempotentRequest {
                        locked_until: (now + lease).unix_timestamp(),
                        claim: lapsed.claim + 1,
                        ..lapsed.clone()
                    },
                    held_by(lapsed.claim),
                ),
            };
            let item = keyed_item(&next, key.clone(), "IdempotencyKey")?;
            match self.table.put(item, Some(condition)).await {
                Ok(()) => {
                    return Ok(Claim::Acquired(Lease {
                        key: key.clone(),
                        claim: next.claim,
                        resource_id: next.resource_id,
                    }));
                }
                Err(StoreError::ConditionFailed) if attempt < RETRIES => {
                    attempt += 1;
                    seen = self.get(key).await?;
                }
                Err(StoreError::ConditionFailed) => return Ok(Claim::InProgress),
                Err(e) => return Err(e),
            }
        }
    }

    /// The key's record.
    pub async fn get(&self, key: &Key) -> Result<Option<IdempotentRequest>, StoreError> {
        self.table.get(key).await?.map(from_item).transpose()
    }

    /// The action that marks the lease's key done, for the work's own transaction: it fails (and the
    /// transaction with it) when the claim is no longer the lease's.
    pub fn completion(lease: &Lease) -> TxAction {
        TxAction::Update(Update {
            key: lease.key.clone(),
            actions: vec![
                UpdateAction::Set("state".into(), AttrValue::s("done")),
                UpdateAction::Remove("lockedUntil".into()),
            ],
            condition: Some(held_by(lease.claim)),
        })
    }

    /// Gives the key back when the work failed before it changed anything (a provider's refusal),
    /// so that the client may retry with the same key at once.
    pub async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        match self
            .table
            .delete(&lease.key, Some(held_by(lease.claim)))
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The key is in progress under this claim.
fn held_by(claim: i64) -> Condition {
    Condition::And(vec![
        Condition::Equals("state".into(), AttrValue::s("in_progress")),
        Condition::Equals("claim".into(), AttrValue::int(claim)),
    ])
}
