//! Payments: the provider's facts about what a student paid for a course, their provider ids and
//! events, the student's purchase slot per course, and the student's wallet. Contract: issue "Paid
//! courses: Stripe payments, webhook ingestion through SQS, payment confirmation, invoices, refunds and
//! disputes". A payment's invoice, its dispute entry and its revenue are written with it; they are
//! read through [`crate::invoices`], [`crate::disputes`] and [`crate::revenue`].
//!
//! # What keeps it exact
//! - Creating a payment is one transaction: the payment, its open invoice (with its entry in the
//!   tenant's open-invoice list), the provider id → payment mapping, the student's purchase slot for
//!   the course (one live payment per student and course), and the completion of the client's
//!   idempotency key (claimed by the HTTP layer before the provider was asked: see
//!   [`crate::idempotency`]).
//! - Every provider fact is written with the provider event that reported it, in one transaction
//!   conditional on the payment's version and on the event not having been seen: an event is applied
//!   once, and of two concurrent events one retries on fresh data. The same transaction adds to the
//!   revenue counters and the invoice's refunded amount, and lists a new dispute.

use std::sync::Arc;

use lectern_domain::payment::{Invoice, Payment};
use lectern_domain::{CourseId, PaymentId, TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::actor::{Actor, commit};
use crate::cursor::{Cursor, filtered_page};
use crate::idempotency::{IdempotencyRepo, Lease};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::revenue::Revenue;
use crate::table::{
    Condition, Index, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table, TxAction,
    Update, UpdateAction,
};
use crate::{disputes, invoices, keys, revenue};

/// Why a payment could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreatePaymentError {
    /// Another request created a payment for the same course (or with the same idempotency key)
    /// meanwhile: read again.
    #[error("another payment for this course was created concurrently")]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a fact could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The payment changed since it was read: read it again and reapply.
    #[error("the payment changed concurrently")]
    Stale,
    /// The event was recorded already (by a concurrent delivery).
    #[error("the event was recorded already")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a student's current payment for a course is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    pub payment_id: PaymentId,
}

/// What a provider id points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderPayment {
    tenant: TenantId,
    payment_id: PaymentId,
}

/// A page of payments.
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    pub next: Option<Cursor>,
}

#[derive(Clone)]
pub struct PaymentRepo {
    table: Arc<dyn Table>,
}

fn payment_item(p: &Payment) -> Result<Item, StoreError> {
    let mut item = keyed_item(p, keys::payment(&p.tenant, p.id), "Payment")?;
    // Derived from the facts, stored so that conditions (a paid enrollment's guard) can check them.
    item.insert("status".into(), AttrValue::s(p.status().as_str()));
    item.insert("entitled".into(), AttrValue::Bool(p.entitles()));
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::wallet_index_pk(&p.tenant, p.user_id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(format!("{}{}", keys::PAYMENT_PREFIX, p.id)),
    );
    Ok(item)
}

impl PaymentRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        PaymentRepo { table }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(
        &self,
        tenant: &TenantId,
        id: PaymentId,
    ) -> Result<Option<Payment>, StoreError> {
        self.table
            .get(&keys::payment(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// A payment to refund, and the refunder's check: the refund happens at the provider, where no
    /// transaction of ours can check who asks, so the caller's account is read instead (beside the
    /// payment, concurrently: no round trip is added) and must be active and still hold `actor`'s
    /// power (else [`StoreError::ActorRefused`]).
    #[tracing::instrument(skip_all, fields(payment_id = %id))]
    pub async fn for_refund(
        &self,
        actor: &Actor,
        id: PaymentId,
    ) -> Result<Option<Payment>, StoreError> {
        let (payment, ()) = tokio::try_join!(
            self.get(&actor.tenant, id),
            actor.verify(self.table.as_ref())
        )?;
        Ok(payment)
    }

    /// Payments by id, in the order asked (`None` where absent).
    pub async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[PaymentId],
    ) -> Result<Vec<Option<Payment>>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BATCH_GET_KEYS) {
            let keys: Vec<_> = chunk.iter().map(|id| keys::payment(tenant, *id)).collect();
            for item in self.table.batch_get(&keys).await? {
                out.push(item.map(from_item).transpose()?);
            }
        }
        Ok(out)
    }

    /// What a new payment must know first: the student's current payment for the course.
    #[tracing::instrument(skip(self))]
    pub async fn before_create(
        &self,
        tenant: &TenantId,
        user: UserId,
        course: CourseId,
    ) -> Result<Option<Purchase>, StoreError> {
        // A batch get of one key: the request's single read of its slot, as before idempotency keys
        // moved to the HTTP layer (the store-call budgets count it as one batch get).
        let keys = vec![keys::purchase(tenant, user, course)];
        let mut items = self.table.batch_get(&keys).await?.into_iter();
        items.next().flatten().map(from_item).transpose()
    }

    /// The student's current payment for a course (what their purchase slot points at), if any.
    #[tracing::instrument(skip(self))]
    pub async fn current_purchase(
        &self,
        tenant: &TenantId,
        user: UserId,
        course: CourseId,
    ) -> Result<Option<Payment>, StoreError> {
        let Some(item) = self
            .table
            .get(&keys::purchase(tenant, user, course))
            .await?
        else {
            return Ok(None);
        };
        let purchase: Purchase = from_item(item)?;
        self.get(tenant, purchase.payment_id).await
    }

    /// Creates a payment with its open invoice. `replaces`: the payment the student's purchase slot
    /// for the course points at now (refunded, so a new one may take its place). `lease`: the
    /// request's claim on its idempotency key, completed in the same transaction. `actor`: the
    /// student buying, checked in the same transaction.
    #[tracing::instrument(skip_all, fields(payment_id = %payment.id))]
    pub async fn create(
        &self,
        actor: &Actor,
        payment: &Payment,
        replaces: Option<PaymentId>,
        lease: Option<&Lease>,
    ) -> Result<Invoice, CreatePaymentError> {
        let t = &payment.tenant;
        let invoice = Invoice::open_for(payment);
        let [invoice_put, open_entry_put] = invoices::opening(&invoice)?;
        let mut actions = vec![
            TxAction::Put {
                item: payment_item(payment)?,
                condition: Some(Condition::NotExists),
            },
            invoice_put,
            open_entry_put,
            TxAction::Put {
                item: keyed_item(
                    &ProviderPayment {
                        tenant: t.clone(),
                        payment_id: payment.id,
                    },
                    keys::provider_payment(&payment.provider, &payment.provider_payment_id),
                    "ProviderPayment",
                )?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: keyed_item(
                    &Purchase {
                        payment_id: payment.id,
                    },
                    keys::purchase(t, payment.user_id, payment.course_id),
                    "Purchase",
                )?,
                condition: Some(match replaces {
                    None => Condition::NotExists,
                    Some(old) => {
                        Condition::Equals("paymentId".into(), AttrValue::S(old.to_string()))
                    }
                }),
            },
        ];
        if let Some(lease) = lease {
            actions.push(IdempotencyRepo::completion(lease));
        }
        match commit(self.table.as_ref(), actor, actions).await {
            Ok(()) => Ok(invoice),
            Err(e) if e.is_lost_race() => Err(CreatePaymentError::Raced),
            Err(e) => Err(e.into()),
        }
    }

    /// The payment a provider id belongs to (the tenant comes from our mapping, not from the event).
    #[tracing::instrument(skip(self))]
    pub async fn find_by_provider_id(
        &self,
        provider: &str,
        provider_payment_id: &str,
    ) -> Result<Option<Payment>, StoreError> {
        let Some(item) = self
            .table
            .get(&keys::provider_payment(provider, provider_payment_id))
            .await?
        else {
            return Ok(None);
        };
        let mapping: ProviderPayment = from_item(item)?;
        self.get(&mapping.tenant, mapping.payment_id).await
    }

    /// The tenants of provider payment ids (through our mapping, never an event's word), in the
    /// order asked: `None` where the id is not ours. One batch get per 100 ids.
    pub async fn tenants_of_provider_payments(
        &self,
        provider: &str,
        provider_payment_ids: &[String],
    ) -> Result<Vec<Option<TenantId>>, StoreError> {
        let mut out = Vec::with_capacity(provider_payment_ids.len());
        for chunk in provider_payment_ids.chunks(MAX_BATCH_GET_KEYS) {
            let keys: Vec<_> = chunk
                .iter()
                .map(|id| keys::provider_payment(provider, id))
                .collect();
            for item in self.table.batch_get(&keys).await? {
                let mapping: Option<ProviderPayment> = item.map(from_item).transpose()?;
                out.push(mapping.map(|m| m.tenant));
            }
        }
        Ok(out)
    }

    /// Whether a provider event was recorded already.
    pub async fn event_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .table
            .get(&keys::provider_event(provider, event_id))
            .await?
            .is_some())
    }

    fn event_put(provider: &str, event_id: &str, event_type: &str, at: OffsetDateTime) -> TxAction {
        let mut item = Item::new();
        let key = keys::provider_event(provider, event_id);
        item.insert(crate::table::PK.into(), AttrValue::S(key.pk));
        item.insert(crate::table::SK.into(), AttrValue::S(key.sk));
        item.insert(crate::table::ENTITY.into(), AttrValue::s("ProviderEvent"));
        item.insert("type".into(), AttrValue::s(event_type));
        item.insert("receivedAt".into(), AttrValue::s(keys::sortable_time(at)));
        TxAction::Put {
            item,
            condition: Some(Condition::NotExists),
        }
    }

    /// Records an event that changes no payment (unknown types, events about unknown payments, news
    /// already known). `false`: it was recorded before.
    pub async fn record_event(
        &self,
        provider: &str,
        event_id: &str,
        event_type: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        match self
            .table
            .transact_write(vec![Self::event_put(provider, event_id, event_type, at)])
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.is_lost_race() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes a payment's new facts (`after`, whose version is `before`'s + 1) together with the
    /// event that reported them, the revenue counters' change, the invoice's refunded amount, and the
    /// course's count of entitling payments when the payment starts or stops entitling its student.
    #[tracing::instrument(skip_all, fields(payment_id = %before.id))]
    pub async fn record_facts(
        &self,
        before: &Payment,
        after: &Payment,
        event: (&str, &str, &str),
        at: OffsetDateTime,
        refunded: i64,
    ) -> Result<(), RecordError> {
        let (provider, event_id, event_type) = event;
        let mut actions = vec![
            TxAction::Update(Update::between(
                keys::payment(&before.tenant, before.id),
                &payment_item(before)?,
                &payment_item(after)?,
                Some(Condition::VersionEquals(before.version)),
            )),
            Self::event_put(provider, event_id, event_type, at),
        ];
        if refunded > 0 {
            actions.extend(revenue::counter_updates(
                after,
                at,
                Revenue {
                    refunds: refunded,
                    refund_count: 1,
                    ..Revenue::default()
                },
            ));
            actions.push(invoices::refund_added(after, refunded));
        }
        if before.entitles() != after.entitles() {
            actions.push(TxAction::Update(Update {
                key: keys::course_entitlements(&after.tenant, after.course_id),
                actions: vec![UpdateAction::Add(
                    "count".into(),
                    if after.entitles() { 1 } else { -1 },
                )],
                condition: None,
            }));
        }
        if let Some(dispute) = after.dispute.as_ref().filter(|_| before.dispute.is_none()) {
            actions.push(disputes::entry_put(after, dispute)?);
        }
        match self.table.transact_write(actions).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => {
                Err(RecordError::Duplicate)
            }
            Err(e) if e.is_lost_race() => Err(RecordError::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// The guard of a paid enrollment: the payment still entitles its student to the course.
    pub fn entitlement_check(payment: &Payment) -> TxAction {
        TxAction::Check {
            key: keys::payment(&payment.tenant, payment.id),
            condition: Condition::Equals("entitled".into(), AttrValue::Bool(true)),
        }
    }

    /// A student's payments, newest first.
    #[tracing::instrument(skip(self, cursor, keep))]
    pub async fn of_user(
        &self,
        tenant: &TenantId,
        user: UserId,
        limit: usize,
        cursor: Option<Cursor>,
        keep: impl Fn(&Payment) -> bool,
    ) -> Result<PaymentPage, StoreError> {
        let query = Query::index(Index::Gsi1, keys::wallet_index_pk(tenant, user))
            .sort_key(SortKeyCondition::BeginsWith(keys::PAYMENT_PREFIX.into()))
            .backward()
            .after(cursor);
        let (payments, next) = filtered_page(self.table.as_ref(), query, limit, keep).await?;
        Ok(PaymentPage { payments, next })
    }

    /// A tenant's payments, newest first.
    #[tracing::instrument(skip(self, cursor, keep))]
    pub async fn all(
        &self,
        tenant: &TenantId,
        limit: usize,
        cursor: Option<Cursor>,
        keep: impl Fn(&Payment) -> bool,
    ) -> Result<PaymentPage, StoreError> {
        let query = Query::partition(keys::payments_pk(tenant))
            .sort_key(SortKeyCondition::BeginsWith(keys::PAYMENT_PREFIX.into()))
            .backward()
            .after(cursor);
        let (payments, next) = filtered_page(self.table.as_ref(), query, limit, keep).await?;
        Ok(PaymentPage { payments, next })
    }

    /// A student's payments and invoices, all of them (the wallet), in one query.
    #[tracing::instrument(skip(self))]
    pub async fn wallet(
        &self,
        tenant: &TenantId,
        user: UserId,
    ) -> Result<(Vec<Payment>, Vec<Invoice>), StoreError> {
        let mut query = Query::index(Index::Gsi1, keys::wallet_index_pk(tenant, user)).backward();
        let (mut payments, mut invoices) = (Vec::new(), Vec::new());
        loop {
            let page = self.table.query(&query).await?;
            for item in page.items {
                match item.get(crate::table::ENTITY).and_then(AttrValue::as_str) {
                    Some("Payment") => payments.push(from_item(item)?),
                    Some("Invoice") => invoices.push(from_item(item)?),
                    _ => {}
                }
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok((payments, invoices)),
            }
        }
    }
}
