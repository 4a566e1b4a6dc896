//! Invoices: one per payment, opened with it (see [`crate::payments::PaymentRepo::create`]), paid
//! with the tenant's next gapless number, listed per student or per tenant, and found overdue.
//!
//! # What keeps it exact
//! Paying an invoice takes the tenant's next invoice number in the same transaction that marks the
//! invoice paid (conditional on the counter's value read and on the invoice still open), so numbers
//! have no gaps and no duplicates however often the worker retries, and the revenue counters are
//! added to exactly once.

use std::sync::Arc;

use lectern_domain::payment::{Invoice, InvoiceStatus, Payment, invoice_number};
use lectern_domain::{InvoiceId, TenantId, UserId};
use time::OffsetDateTime;

use crate::cursor::{Cursor, filtered_page};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::payments::Purchase;
use crate::revenue::{Revenue, counter_updates};
use crate::table::{
    Condition, Index, Key, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction, backoff,
};

/// A page of invoices.
pub struct InvoicePage {
    pub invoices: Vec<Invoice>,
    pub next: Option<Cursor>,
}

/// How often a write that lost a race (the invoice counter) is retried on fresh data.
const RETRIES: u32 = 8;

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

/// The writes that open an invoice, for the transaction that creates its payment: the invoice, and
/// its entry in the tenant's open invoices by due date.
pub(crate) fn opening(invoice: &Invoice) -> Result<[TxAction; 2], StoreError> {
    Ok([
        TxAction::Put {
            item: invoice_item(invoice)?,
            condition: Some(Condition::NotExists),
        },
        TxAction::Put {
            item: keyed_item(
                &Purchase {
                    payment_id: invoice.payment_id,
                },
                keys::open_invoice(&invoice.tenant, invoice.due_at, invoice.id),
                "OpenInvoice",
            )?,
            condition: None,
        },
    ])
}

/// Adds a refund to the payment's invoice, in the transaction that records the refund.
pub(crate) fn refund_added(payment: &Payment, refunded: i64) -> TxAction {
    TxAction::Update(Update {
        key: keys::invoice(&payment.tenant, payment.invoice_id),
        actions: vec![UpdateAction::Add("refundedAmount".into(), refunded)],
        condition: Some(Condition::Exists),
    })
}

#[derive(Clone)]
pub struct InvoiceRepo {
    table: Arc<dyn Table>,
}

impl InvoiceRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        InvoiceRepo { table }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(
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
    pub async fn pay(
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
            actions.extend(counter_updates(
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

    /// A student's invoices (`Some(user)`) or the tenant's, newest first.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn page(
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
        let (invoices, next) =
            filtered_page(self.table.as_ref(), query, limit, |_: &Invoice| true).await?;
        Ok(InvoicePage { invoices, next })
    }

    /// Open invoices due before `now`, most overdue first (at most `limit`; the list is short-lived:
    /// paying an invoice takes it off).
    #[tracing::instrument(skip(self))]
    pub async fn overdue(
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
}
