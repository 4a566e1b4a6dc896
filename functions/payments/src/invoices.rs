//! Invoices: the caller's (or the tenant's), overdue ones, one invoice. Contract: issue "Paid
//! courses…" §Money after the fact; seed 003 (`overdue_invoices`); seed 000 (wallet: invoices).

use axum::extract::State;
use lectern_domain::InvoiceId;
use lectern_domain::user::now;
use lectern_store::invoices::InvoiceRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, Query};

use crate::TAG;
use crate::access::require_admin;
use crate::views::InvoiceView;

/// The caller's invoices, newest first; an admin's: the tenant's.
#[utoipa::path(get, path = "/api/v1/invoices", tag = TAG,
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of invoices", body = Paginated<InvoiceView>),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<InvoiceView>> {
    let (limit, cursor) = params.parse()?;
    let owner = (!caller.is_admin()).then_some(caller.id);
    let page = InvoiceRepo::new(state.table.clone())
        .page(&caller.tenant, owner, limit, cursor)
        .await?;
    Ok(Paginated {
        data: page.invoices.iter().map(InvoiceView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

/// Invoices issued and unpaid past their due date (payments created and never completed), most
/// overdue first (seed 003 `overdue_invoices`). Admins only.
#[utoipa::path(get, path = "/api/v1/invoices/overdue", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Overdue invoices (at most 100)", body = [InvoiceView]),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn overdue_invoices(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<Vec<InvoiceView>>> {
    require_admin(&caller)?;
    let invoices = InvoiceRepo::new(state.table.clone())
        .overdue(&caller.tenant, now(), 100)
        .await?;
    Ok(Json(invoices.iter().map(InvoiceView::from).collect()))
}

/// One invoice (its student's, or an admin's).
#[utoipa::path(get, path = "/api/v1/invoices/{invoiceId}", tag = TAG,
    security(("bearer" = [])),
    params(("invoiceId" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceView),
        (status = 404, description = "No such invoice the caller may see", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<InvoiceId>,
) -> ApiResult<Json<InvoiceView>> {
    let invoice = InvoiceRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .filter(|i| i.user_id == caller.id || caller.is_admin())
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    Ok(Json(InvoiceView::from(&invoice)))
}
