//! Idempotency keys: a client's `Idempotency-Key` claimed before the work it names is done, so that
//! the same key sent twice, even at the same moment, does the work once, and a repeat gets the first
//! answer back.
//!
//! A key's record is written (claimed, `in_progress`) before the work starts, with an id reserved in
//! it for what the work creates. When the work is done the record is completed: with the response it
//! gave ([`IdempotencyRepo::complete`]), or, by a route that answers repeats from what it created, in
//! the work's own transaction ([`IdempotencyRepo::completion`]), conditioned on the claim still being
//! the one this request holds. Meanwhile another request with the key finds it in progress (the
//! caller answers 409 `request_in_progress`), and afterwards finds it done. A claim whose request
//! died holds for its lease only: then a retry takes it over, with the same reserved id, so what it
//! asks of a provider (keyed by that id) is the same request again. A key used with another request
//! (its digest differs) is refused. Records carry a `ttl` ([`RETENTION`] after the claim); one past
//! its `ttl` counts as absent (DynamoDB's TTL deletion lags by up to days).
//!
//! The record's key is the caller's to choose (the caller's scope and the client's key, see
//! [`crate::keys::idempotency`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::item::{AttrValue, from_item, keyed_item};
use crate::table::{Condition, Key, StoreError, TTL, Table, TxAction, Update, UpdateAction};

/// How long a key's record is kept after its claim: a repeat within it gets the first answer.
pub const RETENTION: time::Duration = time::Duration::hours(24);

/// Where a claimed key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// A request holds the key and is doing its work.
    InProgress,
    /// The work is done.
    Done,
}

/// The answer the first request got, kept to answer repeats with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredResponse {
    pub status: u16,
    /// The headers that belong to the answer (`content-type`, `location`, …), lower-case names.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The record of one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotentRequest {
    /// A digest of the request the key was first used with.
    pub request_digest: String,
    /// The id reserved for what the request creates: kept by a takeover.
    pub resource_id: String,
    pub state: KeyState,
    /// While in progress: until when (Unix seconds) the claim holds against a retry.
    #[serde(default)]
    pub locked_until: i64,
    /// Which claim holds the key: a takeover counts one more, so a request that lost its claim cannot
    /// complete it.
    pub claim: i64,
    /// Once done: the first answer, unless the route answers repeats itself from `resource_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<StoredResponse>,
    /// When (Unix seconds) the record expires.
    pub ttl: i64,
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
    /// The caller holds the key: do the work, creating `lease.resource_id`, then complete the lease.
    Acquired(Lease),
    /// The work was done before: answer with `response`, or (when the route completed the key in its
    /// own transaction) from what `resource_id` names.
    Done {
        resource_id: String,
        response: Option<StoredResponse>,
    },
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

    /// What a key's record says without taking it: `None` when the key is free (never used, expired,
    /// or its claim lapsed), else the answer a request with `digest` gets.
    pub fn standing(
        record: Option<&IdempotentRequest>,
        digest: &str,
        now: OffsetDateTime,
    ) -> Option<Claim> {
        let record = record.filter(|r| r.ttl > now.unix_timestamp())?;
        if record.request_digest != digest {
            return Some(Claim::Mismatch);
        }
        match record.state {
            KeyState::Done => Some(Claim::Done {
                resource_id: record.resource_id.clone(),
                response: record.response.clone(),
            }),
            KeyState::InProgress if record.locked_until > now.unix_timestamp() => {
                Some(Claim::InProgress)
            }
            KeyState::InProgress => None,
        }
    }

    /// Claims `key` for a request with `digest` that will create `resource_id`, for `lease`. The
    /// first attempt writes without reading (one call when the key is new); when the key is taken it
    /// reads the record and answers from it, or takes over a lapsed claim with the resource id it
    /// reserved.
    #[tracing::instrument(skip_all)]
    pub async fn claim(
        &self,
        key: &Key,
        digest: &str,
        resource_id: &str,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Claim, StoreError> {
        let mut seen: Option<IdempotentRequest> = None;
        let mut attempt = 0;
        loop {
            if let Some(answer) = Self::standing(seen.as_ref(), digest, now) {
                return Ok(answer);
            }
            let live = seen.filter(|r| r.ttl > now.unix_timestamp());
            let (next, condition) = match &live {
                None => (
                    IdempotentRequest {
                        request_digest: digest.to_owned(),
                        resource_id: resource_id.to_owned(),
                        state: KeyState::InProgress,
                        locked_until: (now + lease).unix_timestamp(),
                        claim: 1,
                        response: None,
                        ttl: (now + RETENTION).unix_timestamp(),
                    },
                    // Absent, or expired but not yet deleted by TTL.
                    Condition::AbsentOrBelow(TTL.into(), now.unix_timestamp() + 1),
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

    /// Marks the lease's key done with the answer to repeat. Fails with `ConditionFailed` when the
    /// claim is no longer the lease's (it lapsed and was taken over).
    #[tracing::instrument(skip_all)]
    pub async fn complete(
        &self,
        lease: &Lease,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let response = crate::item::to_item(response)?;
        self.table
            .update(Update {
                key: lease.key.clone(),
                actions: vec![
                    UpdateAction::Set("state".into(), AttrValue::s("done")),
                    UpdateAction::Set("response".into(), AttrValue::M(response)),
                    UpdateAction::Remove("lockedUntil".into()),
                ],
                condition: Some(held_by(lease.claim)),
            })
            .await
            .map(|_| ())
    }

    /// The action that marks the lease's key done, for the work's own transaction (a route that
    /// answers repeats from what it created): it fails, and the transaction with it, when the claim is
    /// no longer the lease's.
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

    /// Gives the key back when the work failed (a 5xx: nothing to repeat), so that a retry with the
    /// same key runs again at once.
    #[tracing::instrument(skip_all)]
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
