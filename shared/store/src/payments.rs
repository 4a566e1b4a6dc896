//! Payments, invoices, disputes, revenue counters and notifications. Contract: issue "Paid courses:
//! Stripe payments, webhook ingestion through SQS, payment confirmation, invoices, refunds and
//! disputes".
//!
//! # What keeps it exact
//! - Creating a payment is one transaction: the payment, its open invoice (with its entry in the
//!   tenant's open-invoice list), the provider id → payment mapping, the student's purchase slot for
//!   the course (one live payment per student and course), and the completion of the client's
//!   idempotency key (claimed by the HTTP layer before the provider was asked: see
//!   [`crate::idempotency`]).
//! - Every provider fact is written with the provider event that reported it, in one transaction
//!   conditional on the payment's version and on the event not having been seen: an event is applied
//!   once, and of two concurrent events one retries on fresh data.
//! - Paying an invoice takes the tenant's next invoice number in the same transaction that marks the
//!   invoice paid (conditional on the counter's value read and on the invoice still open), so numbers
//!   have no gaps and no duplicates however often the worker retries, and the revenue counters are
//!   added to exactly once.

use std::sync::Arc;

use lectern_domain::notification::Notification;
use lectern_domain::payment::{Invoice, InvoiceStatus, Payment, invoice_number};
use lectern_domain::{CourseId, InvoiceId, PaymentId, TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::actor::{Actor, commit, commit_in_batches};
use crate::cursor::{self, Cursor};
use crate::idempotency::{IdempotencyRepo, Lease};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{
    Condition, Index, Key, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction, backoff,
};

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

/// One day's revenue counters in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueDay {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub currency: String,
    pub counters: Revenue,
}

/// One course's revenue counters (all time) in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRevenue {
    pub course_id: CourseId,
    pub course_title: String,
    pub currency: String,
    pub counters: Revenue,
}

/// Counters, in minor units and counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revenue {
    pub revenue: i64,
    pub payments: i64,
    pub refunds: i64,
    pub refund_count: i64,
}

impl Revenue {
    fn of(item: &Item) -> Revenue {
        let n = |name: &str| item.get(name).and_then(AttrValue::as_i64).unwrap_or(0);
        Revenue {
            revenue: n("revenue"),
            payments: n("payments"),
            refunds: n("refunds"),
            refund_count: n("refundCount"),
        }
    }

    pub fn add(&mut self, other: Revenue) {
        self.revenue += other.revenue;
        self.payments += other.payments;
        self.refunds += other.refunds;
        self.refund_count += other.refund_count;
    }
}

/// A page of payments.
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    pub next: Option<Cursor>,
}

/// A page of invoices.
pub struct InvoicePage {
    pub invoices: Vec<Invoice>,
    pub next: Option<Cursor>,
}

/// How often a write that lost a race (the invoice counter) is retried on fresh data.
const RETRIES: u32 = 8;

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

fn invoice_item(i: &Invoice) -> Result<Item, StoreError> {
    let mut item = keyed_item(i, keys::invoice(&i.tenant, i.id), "Invoice")?;
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::wallet_index_pk(&i.tenant, i.user_id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(format!("{}{}", keys::INVOICE_PREFIX, i.id)),
    );
    Ok(item)
}

fn plain_item<T: Serialize>(value: &T, key: Key, name: &str) -> Result<Item, StoreError> {
    keyed_item(value, key, name)
}

/// `YYYY-MM-DD` of a time, in UTC.
pub fn day_of(at: OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The counter updates for a change of a payment's revenue at `at`: the tenant's day, the course's
/// day, the course's total.
fn revenue_actions(p: &Payment, at: OffsetDateTime, change: Revenue) -> Vec<TxAction> {
    let currency = p.currency.as_str();
    let date = day_of(at);
    let adds = |extra: Vec<UpdateAction>| {
        let mut actions: Vec<UpdateAction> = [
            ("revenue", change.revenue),
            ("payments", change.payments),
            ("refunds", change.refunds),
            ("refundCount", change.refund_count),
        ]
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(name, n)| UpdateAction::Add(name.into(), n))
        .collect();
        actions.extend(extra);
        actions
    };
    vec![
        TxAction::Update(Update {
            key: keys::revenue_day(&p.tenant, None, currency, &date),
            actions: adds(vec![]),
            condition: None,
        }),
        TxAction::Update(Update {
            key: keys::revenue_day(&p.tenant, Some(p.course_id), currency, &date),
            actions: adds(vec![]),
            condition: None,
        }),
        TxAction::Update(Update {
            key: keys::revenue_course_total(&p.tenant, currency, p.course_id),
            actions: adds(vec![UpdateAction::Set(
                "courseTitle".into(),
                AttrValue::s(p.course_title.clone()),
            )]),
            condition: None,
        }),
    ]
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
        let mut actions = vec![
            TxAction::Put {
                item: payment_item(payment)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: invoice_item(&invoice)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: plain_item(
                    &Purchase {
                        payment_id: invoice.payment_id,
                    },
                    keys::open_invoice(t, invoice.due_at, invoice.id),
                    "OpenInvoice",
                )?,
                condition: None,
            },
            TxAction::Put {
                item: plain_item(
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
                item: plain_item(
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
            actions.extend(revenue_actions(
                after,
                at,
                Revenue {
                    refunds: refunded,
                    refund_count: 1,
                    ..Revenue::default()
                },
            ));
            actions.push(TxAction::Update(Update {
                key: keys::invoice(&after.tenant, after.invoice_id),
                actions: vec![UpdateAction::Add("refundedAmount".into(), refunded)],
                condition: Some(Condition::Exists),
            }));
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
            let entry = plain_item(
                &Purchase {
                    payment_id: after.id,
                },
                keys::dispute_entry(&after.tenant, dispute.opened_at, &dispute.id),
                "DisputeEntry",
            )?;
            actions.push(TxAction::Put {
                item: entry,
                condition: None,
            });
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

    pub async fn invoice(
        &self,
        tenant: &TenantId,
        id: InvoiceId,
    ) -> Result<Option<Invoice>, StoreError> {
        self.table
            .get(&keys::invoice(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Marks the payment's invoice paid with the tenant's next number, and counts the revenue. `Ok`
    /// with the invoice as it is afterwards; paying a paid invoice changes nothing.
    #[tracing::instrument(skip_all, fields(payment_id = %payment.id))]
    pub async fn pay_invoice(
        &self,
        payment: &Payment,
        paid_at: OffsetDateTime,
    ) -> Result<Option<Invoice>, StoreError> {
        let t = &payment.tenant;
        let mut attempt = 0;
        loop {
            let items = self
                .table
                .batch_get(&[
                    keys::invoice(t, payment.invoice_id),
                    keys::invoice_counter(t),
                ])
                .await?;
            let [invoice, counter] = <[Option<Item>; 2]>::try_from(items)
                .map_err(|_| StoreError::Corrupt("batch get answered the wrong count".into()))?;
            let Some(invoice) = invoice.map(from_item::<Invoice>).transpose()? else {
                return Ok(None);
            };
            if invoice.status != InvoiceStatus::Open {
                return Ok(Some(invoice));
            }
            let last = counter
                .as_ref()
                .and_then(|c| c.get("value"))
                .and_then(AttrValue::as_i64);
            let next = last.unwrap_or(0) + 1;
            let mut paid = invoice.clone();
            paid.status = InvoiceStatus::Paid;
            paid.number = Some(invoice_number(next as u64));
            paid.paid_at = Some(paid_at);
            let mut actions = vec![
                TxAction::Update(Update {
                    key: keys::invoice_counter(t),
                    actions: vec![UpdateAction::Set("value".into(), AttrValue::int(next))],
                    condition: Some(match last {
                        None => Condition::AttrNotExists("value".into()),
                        Some(n) => Condition::Equals("value".into(), AttrValue::int(n)),
                    }),
                }),
                TxAction::Update(Update::between(
                    keys::invoice(t, invoice.id),
                    &invoice_item(&invoice)?,
                    &invoice_item(&paid)?,
                    Some(Condition::Equals("status".into(), AttrValue::s("open"))),
                )),
                TxAction::Delete {
                    key: keys::open_invoice(t, invoice.due_at, invoice.id),
                    condition: None,
                },
            ];
            actions.extend(revenue_actions(
                payment,
                paid_at,
                Revenue {
                    revenue: payment.amount,
                    payments: 1,
                    ..Revenue::default()
                },
            ));
            match self.table.transact_write(actions).await {
                Ok(()) => return Ok(Some(paid)),
                Err(e) if e.is_lost_race() && attempt < RETRIES => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One page of a query whose items are `T`, keeping only those `keep` accepts (like DynamoDB's
    /// filter expressions: items read and dropped still cost their read). The cursor points after the
    /// last item returned.
    async fn filtered<T: serde::de::DeserializeOwned>(
        &self,
        query: Query,
        limit: usize,
        keep: impl Fn(&T) -> bool,
    ) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
        let mut query = query;
        let mut out = Vec::new();
        loop {
            let page = self
                .table
                .query(&query.clone().limit(MAX_BATCH_GET_KEYS))
                .await?;
            let count = page.items.len();
            for (i, item) in page.items.into_iter().enumerate() {
                let value: T = from_item(item.clone())?;
                if keep(&value) {
                    out.push(value);
                    if out.len() == limit {
                        let more = i + 1 < count || page.next.is_some();
                        let next = if more {
                            Some(cursor::encode(&item, &query)?)
                        } else {
                            None
                        };
                        return Ok((out, next));
                    }
                }
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok((out, None)),
            }
        }
    }

    /// A student's payments, newest first.
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
        let (payments, next) = self.filtered(query, limit, keep).await?;
        Ok(PaymentPage { payments, next })
    }

    /// A tenant's payments, newest first.
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
        let (payments, next) = self.filtered(query, limit, keep).await?;
        Ok(PaymentPage { payments, next })
    }

    /// A student's invoices (`Some(user)`) or the tenant's, newest first.
    pub async fn invoices(
        &self,
        tenant: &TenantId,
        user: Option<UserId>,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<InvoicePage, StoreError> {
        let query = match user {
            Some(user) => Query::index(Index::Gsi1, keys::wallet_index_pk(tenant, user)),
            None => Query::partition(keys::invoices_pk(tenant)),
        }
        .sort_key(SortKeyCondition::BeginsWith(keys::INVOICE_PREFIX.into()))
        .backward()
        .after(cursor);
        let (invoices, next) = self.filtered(query, limit, |_: &Invoice| true).await?;
        Ok(InvoicePage { invoices, next })
    }

    /// Open invoices due before `now`, most overdue first (at most `limit`; the list is short-lived:
    /// paying an invoice takes it off).
    pub async fn overdue_invoices(
        &self,
        tenant: &TenantId,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Invoice>, StoreError> {
        let query = Query::partition(keys::invoices_pk(tenant))
            .sort_key(SortKeyCondition::Between(
                keys::OPEN_INVOICE_PREFIX.into(),
                format!("{}{}", keys::OPEN_INVOICE_PREFIX, keys::sortable_time(now)),
            ))
            .limit(limit.min(MAX_BATCH_GET_KEYS));
        let entries = self.table.query(&query).await?.items;
        let keys: Vec<Key> = entries
            .into_iter()
            .filter_map(|item| {
                let sk = item.get(crate::table::SK)?.as_str()?;
                let id = sk.rsplit('#').next()?;
                InvoiceId::parse(id)
                    .ok()
                    .map(|id| keys::invoice(tenant, id))
            })
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut invoices = Vec::new();
        for item in self.table.batch_get(&keys).await?.into_iter().flatten() {
            let invoice: Invoice = from_item(item)?;
            if invoice.is_overdue(now) {
                invoices.push(invoice);
            }
        }
        Ok(invoices)
    }

    /// A student's payments and invoices, all of them (the wallet), in one query.
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

    /// The tenant's disputed payments, newest dispute first.
    pub async fn disputed(
        &self,
        tenant: &TenantId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<PaymentPage, StoreError> {
        let query = Query::partition(keys::disputes_pk(tenant))
            .backward()
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        let ids = page
            .items
            .into_iter()
            .map(from_item::<Purchase>)
            .map(|p| p.map(|p| p.payment_id))
            .collect::<Result<Vec<_>, _>>()?;
        let payments = self
            .get_many(tenant, &ids)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(PaymentPage {
            payments,
            next: page.next,
        })
    }

    /// Revenue per day and currency between two dates (inclusive, `YYYY-MM-DD`), for the tenant or
    /// one course.
    pub async fn revenue_days(
        &self,
        tenant: &TenantId,
        course: Option<CourseId>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RevenueDay>, StoreError> {
        let mut query =
            Query::partition(keys::revenue_pk(tenant, course)).sort_key(SortKeyCondition::Between(
                format!("{}{from}", keys::REVENUE_DAY_PREFIX),
                format!("{}{to}$", keys::REVENUE_DAY_PREFIX),
            ));
        let mut days = Vec::new();
        loop {
            let page = self.table.query(&query).await?;
            for item in &page.items {
                let sk = item.get(crate::table::SK).and_then(AttrValue::as_str);
                let Some(rest) = sk.and_then(|s| s.strip_prefix(keys::REVENUE_DAY_PREFIX)) else {
                    continue;
                };
                let Some((date, currency)) = rest.split_once('#') else {
                    continue;
                };
                days.push(RevenueDay {
                    date: date.to_owned(),
                    currency: currency.to_owned(),
                    counters: Revenue::of(item),
                });
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok(days),
            }
        }
    }

    /// Every course's revenue, all time, per currency.
    pub async fn revenue_by_course(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<CourseRevenue>, StoreError> {
        self.course_totals(tenant, keys::REVENUE_COURSE_PREFIX.into())
            .await
    }

    /// One course's revenue, all time, per currency: a read of that course's totals only, however
    /// many courses the tenant sells.
    pub async fn revenue_of_course(
        &self,
        tenant: &TenantId,
        course: CourseId,
    ) -> Result<Vec<CourseRevenue>, StoreError> {
        self.course_totals(tenant, keys::revenue_course_totals_prefix(course))
            .await
    }

    /// The all-time totals whose sort key starts with `prefix` (every course's, or one's).
    async fn course_totals(
        &self,
        tenant: &TenantId,
        prefix: String,
    ) -> Result<Vec<CourseRevenue>, StoreError> {
        let mut query = Query::partition(keys::revenue_pk(tenant, None))
            .sort_key(SortKeyCondition::BeginsWith(prefix));
        let mut courses = Vec::new();
        loop {
            let page = self.table.query(&query).await?;
            for item in &page.items {
                let sk = item.get(crate::table::SK).and_then(AttrValue::as_str);
                let Some((course, currency)) = sk
                    .and_then(|s| s.strip_prefix(keys::REVENUE_COURSE_PREFIX))
                    .and_then(|s| s.split_once('#'))
                else {
                    continue;
                };
                let Ok(course_id) = CourseId::parse(course) else {
                    continue;
                };
                courses.push(CourseRevenue {
                    course_id,
                    course_title: item
                        .get("courseTitle")
                        .and_then(AttrValue::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    currency: currency.to_owned(),
                    counters: Revenue::of(item),
                });
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok(courses),
            }
        }
    }

    /// Records a notification once: its id names its cause and `created_at` is the cause's time, so
    /// a retried worker writes the same key and the second write is a no-op.
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

    /// Marks a user's notifications read: those named by `ids`, or (`None`) all of the latest 100.
    /// Answers how many changed; marking a read one again changes nothing.
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

    /// A user's notifications, newest first.
    pub async fn notifications(
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
}
