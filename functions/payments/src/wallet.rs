//! The student's wallet: payments, invoices, refunds, disputes and spending, in one query. Contract:
//! seed 000 (wallet, spending analytics).

use std::collections::BTreeMap;

use axum::extract::State;
use lectern_domain::PaymentId;
use lectern_domain::payment::Payment;
use lectern_store::payments::PaymentRepo;
use lectern_web::views::timestamp;
use lectern_web::{ApiResult, AppState, AuthUser, Json};
use serde::Serialize;
use utoipa::ToSchema;

use crate::TAG;
use crate::views::{DisputeView, InvoiceView, PaymentView};

/// A refund, as the wallet lists it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    pub payment_id: PaymentId,
    pub course_title: String,
    pub amount: i64,
    pub currency: String,
    #[schema(value_type = String, format = DateTime)]
    pub refunded_at: String,
}

/// Spending in one currency over one month or one category.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Spending {
    /// `YYYY-MM`, or the course category.
    pub key: String,
    pub currency: String,
    pub spent: i64,
    pub refunded: i64,
    pub net: i64,
    pub payments: i64,
}

/// The student's wallet (seed 000): payments, invoices, refunds, disputes, and spending by month and
/// by category, per currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Wallet {
    pub payments: Vec<PaymentView>,
    pub invoices: Vec<InvoiceView>,
    pub refunds: Vec<RefundView>,
    pub disputes: Vec<DisputeView>,
    pub spending_by_month: Vec<Spending>,
    pub spending_by_category: Vec<Spending>,
    /// Per currency, all time (`key` is the currency).
    pub totals: Vec<Spending>,
}

fn spending(payments: &[Payment], key: impl Fn(&Payment) -> String) -> Vec<Spending> {
    let mut groups: BTreeMap<(String, String), Spending> = BTreeMap::new();
    for p in payments.iter().filter(|p| p.succeeded_at.is_some()) {
        let k = key(p);
        let entry = groups
            .entry((k.clone(), p.currency.to_string()))
            .or_insert_with(|| Spending {
                key: k,
                currency: p.currency.to_string(),
                spent: 0,
                refunded: 0,
                net: 0,
                payments: 0,
            });
        entry.spent += p.amount;
        entry.refunded += p.refunded_amount;
        entry.net = entry.spent - entry.refunded;
        entry.payments += 1;
    }
    groups.into_values().collect()
}

/// The caller's wallet: everything they paid, were refunded and disputed, in one query.
#[utoipa::path(get, path = "/api/v1/wallet", tag = TAG,
    security(("bearer" = [])),
    responses((status = 200, description = "The wallet", body = Wallet)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn wallet(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<Wallet>> {
    let (payments, invoices) = PaymentRepo::new(state.table.clone())
        .wallet(&caller.tenant, caller.id)
        .await?;
    let refunds = payments
        .iter()
        .filter_map(|p| {
            Some(RefundView {
                payment_id: p.id,
                course_title: p.course_title.clone(),
                amount: p.refunded_amount,
                currency: p.currency.to_string(),
                refunded_at: timestamp(p.refunded_at?),
            })
        })
        .collect();
    let month = |p: &Payment| {
        let at = p.succeeded_at.unwrap_or(p.created_at);
        format!("{:04}-{:02}", at.year(), u8::from(at.month()))
    };
    let category = |p: &Payment| {
        p.course_category
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "other".into())
    };
    Ok(Json(Wallet {
        refunds,
        disputes: payments
            .iter()
            .filter_map(|p| p.dispute.as_ref().map(DisputeView::from))
            .collect(),
        spending_by_month: spending(&payments, month),
        spending_by_category: spending(&payments, category),
        totals: spending(&payments, |p| p.currency.to_string()),
        payments: payments.iter().map(PaymentView::from).collect(),
        invoices: invoices.iter().map(InvoiceView::from).collect(),
    }))
}
