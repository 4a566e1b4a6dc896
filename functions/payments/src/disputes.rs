//! The tenant's disputes, for its admins (students see their own in the wallet). Contract: issue
//! "Paid courses…" §Money after the fact; seed 000 (disputes).

use axum::extract::State;
use lectern_domain::payment::Payment;
use lectern_store::disputes::DisputeRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{ApiResult, AppState, AuthUser, ErrorBody, Query};

use crate::TAG;
use crate::access::require_admin;
use crate::views::{DisputeView, DisputedPayment, PaymentView};

/// The tenant's disputes, newest first, each with its payment. Admins only (students see their own
/// in the wallet).
#[utoipa::path(get, path = "/api/v1/disputes", tag = TAG,
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of disputes", body = Paginated<DisputedPayment>),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn list_disputes(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<DisputedPayment>> {
    require_admin(&caller)?;
    let (limit, cursor) = params.parse()?;
    let page = DisputeRepo::new(state.table.clone())
        .page(&caller.tenant, limit, cursor)
        .await?;
    Ok(Paginated {
        data: page.payments.iter().filter_map(disputed).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

fn disputed(p: &Payment) -> Option<DisputedPayment> {
    Some(DisputedPayment {
        dispute: DisputeView::from(p.dispute.as_ref()?),
        payment: PaymentView::from(p),
    })
}
