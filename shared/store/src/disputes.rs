//! Disputes: a dispute is a fact of its payment (kept on the payment); the tenant's list of them,
//! newest first, is an entry per dispute written with the fact that opened it.

use std::sync::Arc;

use lectern_domain::TenantId;
use lectern_domain::payment::{Dispute, Payment};

use crate::cursor::Cursor;
use crate::item::{from_item, keyed_item};
use crate::keys;
use crate::payments::{PaymentPage, PaymentRepo, Purchase};
use crate::table::{Query, StoreError, Table, TxAction};

/// The dispute's entry in the tenant's list, for the transaction that records the dispute.
pub(crate) fn entry_put(payment: &Payment, dispute: &Dispute) -> Result<TxAction, StoreError> {
    Ok(TxAction::Put {
        item: keyed_item(
            &Purchase {
                payment_id: payment.id,
            },
            keys::dispute_entry(&payment.tenant, dispute.opened_at, &dispute.id),
            "DisputeEntry",
        )?,
        condition: None,
    })
}

#[derive(Clone)]
pub struct DisputeRepo {
    table: Arc<dyn Table>,
}

impl DisputeRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        DisputeRepo { table }
    }

    /// The tenant's disputed payments, newest dispute first.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn page(
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
        let payments = PaymentRepo::new(self.table.clone())
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
}
