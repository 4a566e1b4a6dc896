//! A user's notifications: written once per cause, listed newest first, marked read.
//!
//! A notification lives in its user's partition, sorted by time (`NOTIFICATION#{at}#{id}`); its id
//! names its cause (`purchase_confirmed:{paymentId}`) and its time is the cause's, so whatever writes
//! it again for the same cause (a retried worker, a redelivered event) writes the same key, and the
//! second write is a no-op.

use std::sync::Arc;

use lectern_domain::notification::Notification;
use lectern_domain::{TenantId, UserId};

use crate::actor::{Actor, commit_in_batches};
use crate::cursor::Cursor;
use crate::item::{AttrValue, from_item, keyed_item};
use crate::keys;
use crate::table::{
    Condition, Key, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table, TxAction,
    Update, UpdateAction,
};

#[derive(Clone)]
pub struct NotificationRepo {
    table: Arc<dyn Table>,
}

impl NotificationRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        NotificationRepo { table }
    }

    /// Records a notification once: its id names its cause and `created_at` is the cause's time, so
    /// a retried writer writes the same key and the second write is a no-op.
    #[tracing::instrument(skip_all, fields(notification_id = %notification.id))]
    pub async fn notify(&self, notification: &Notification) -> Result<(), StoreError> {
        let key = keys::notification(
            &notification.tenant,
            notification.user_id,
            notification.created_at,
            &notification.id,
        );
        match self
            .table
            .put(
                keyed_item(notification, key, "Notification")?,
                Some(Condition::NotExists),
            )
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A user's notifications, newest first.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn of_user(
        &self,
        tenant: &TenantId,
        user: UserId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<Notification>, Option<Cursor>), StoreError> {
        let query = Query::partition(keys::user_pk(tenant, user))
            .sort_key(SortKeyCondition::BeginsWith(
                keys::NOTIFICATION_PREFIX.into(),
            ))
            .backward()
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        let notifications = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((notifications, page.next))
    }

    /// Marks a user's notifications read: those named by `ids`, or (`None`) all of the latest 100.
    /// Answers how many changed; marking a read one again changes nothing.
    #[tracing::instrument(skip_all, fields(user_id = %actor.user))]
    pub async fn mark_read(
        &self,
        actor: &Actor,
        ids: Option<&[String]>,
    ) -> Result<usize, StoreError> {
        let query = Query::partition(keys::user_pk(&actor.tenant, actor.user))
            .sort_key(SortKeyCondition::BeginsWith(
                keys::NOTIFICATION_PREFIX.into(),
            ))
            .backward()
            .limit(MAX_BATCH_GET_KEYS);
        let updates: Vec<TxAction> = self
            .table
            .query(&query)
            .await?
            .items
            .into_iter()
            .filter(|item| item.get("read") != Some(&AttrValue::Bool(true)))
            .filter(|item| {
                let id = item
                    .get("id")
                    .and_then(AttrValue::as_str)
                    .unwrap_or_default();
                ids.is_none_or(|ids| ids.iter().any(|wanted| wanted == id))
            })
            .filter_map(|item| Key::of(&item))
            .map(|key| {
                TxAction::Update(Update {
                    key,
                    actions: vec![UpdateAction::Set("read".into(), AttrValue::Bool(true))],
                    condition: Some(Condition::Exists),
                })
            })
            .collect();
        let count = updates.len();
        if count > 0 {
            // Up to 100 updates and the actor's check: the first 99 land with the check.
            commit_in_batches(self.table.as_ref(), actor, Vec::new(), updates).await?;
        }
        Ok(count)
    }
}
