//! Money after the fact: invoices, overdue invoices, disputes, the student's wallet, revenue
//! analytics, notifications. Contract: issue "Paid courses…" §Money after the fact; seed 003
//! (`overdue_invoices`, `payment_analytics`); seed 000 (wallet: invoices, spending analytics,
//! disputes).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use lectern_domain::payment::Payment;
use lectern_domain::user::{UserRole, now};
use lectern_domain::{CourseId, InvoiceId};
use lectern_store::catalog::CatalogRepo;
use lectern_store::courses::CourseRepo;
use lectern_store::disputes::DisputeRepo;
use lectern_store::invoices::InvoiceRepo;
use lectern_store::notifications::NotificationRepo;
use lectern_store::payments::PaymentRepo;
use lectern_store::revenue::{Revenue, RevenueDay, RevenueRepo};
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::timestamp;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};
use utoipa::{IntoParams, ToSchema};

use crate::handlers::TAG;
use crate::views::{DisputeView, DisputedPayment, InvoiceView, NotificationView, PaymentView};

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
    if !caller.is_admin() {
        return Err(ApiError::Forbidden(
            "this action needs the admin role".into(),
        ));
    }
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
    Path(invoice_id): Path<String>,
) -> ApiResult<Json<InvoiceView>> {
    let id = InvoiceId::parse(&invoice_id).map_err(|_| ApiError::not_found("invoice"))?;
    let invoice = InvoiceRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .filter(|i| i.user_id == caller.id || caller.is_admin())
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    Ok(Json(InvoiceView::from(&invoice)))
}

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
    if !caller.is_admin() {
        return Err(ApiError::Forbidden(
            "this action needs the admin role".into(),
        ));
    }
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

/// A refund, as the wallet lists it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    #[schema(value_type = String, format = Uuid)]
    pub payment_id: String,
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
                payment_id: p.id.to_string(),
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

/// Analytics parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AnalyticsParams {
    /// day | week (ISO weeks, from Monday) | month; default day.
    pub period: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC); default 30 days before `to`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC); default today. At most 366 days after `from`.
    pub to: Option<String>,
    /// One course (instructors: one of theirs).
    pub course_id: Option<String>,
}

/// One period's figures in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodFigures {
    /// The period's first day, `YYYY-MM-DD`.
    pub period: String,
    pub currency: String,
    /// Minor units.
    pub revenue: i64,
    pub refunds: i64,
    pub net: i64,
    pub payments: i64,
    pub refund_count: i64,
}

/// One course's figures (all time) in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseFigures {
    #[schema(value_type = String, format = Uuid)]
    pub course_id: String,
    pub course_title: String,
    pub currency: String,
    pub revenue: i64,
    pub refunds: i64,
    pub net: i64,
    pub payments: i64,
    pub refund_count: i64,
}

/// Payment analytics (seed 003 `payment_analytics`), from counters kept on every write.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub period: String,
    pub from: String,
    pub to: String,
    /// Periods with activity, oldest first.
    pub series: Vec<PeriodFigures>,
    /// Per currency over the range (`period` is `from`).
    pub totals: Vec<PeriodFigures>,
    /// Per course, all time.
    pub by_course: Vec<CourseFigures>,
}

fn parse_day(field: &str, value: &str) -> ApiResult<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value, &format)
        .map_err(|_| ApiError::invalid_field(field, "must be a date, YYYY-MM-DD"))
}

fn period_start(date: Date, period: &str) -> Date {
    match period {
        "week" => date - Duration::days(i64::from(date.weekday().number_days_from_monday())),
        "month" => Date::from_calendar_date(date.year(), date.month(), 1).unwrap_or(date),
        _ => date,
    }
}

fn figures(period: String, currency: String, r: Revenue) -> PeriodFigures {
    PeriodFigures {
        period,
        currency,
        revenue: r.revenue,
        refunds: r.refunds,
        net: r.revenue - r.refunds,
        payments: r.payments,
        refund_count: r.refund_count,
    }
}

/// Revenue, refunds, net and counts by day, week or month, and by course. Admins: the tenant (or one
/// course); instructors: their courses (or one of them).
#[utoipa::path(get, path = "/api/v1/payments/analytics", tag = TAG,
    security(("bearer" = [])),
    params(AnalyticsParams),
    responses(
        (status = 200, description = "The figures", body = Analytics),
        (status = 400, description = "Invalid period or dates", body = ErrorBody),
        (status = 403, description = "Students may not see analytics", body = ErrorBody),
        (status = 404, description = "No such course of the instructor's", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn analytics(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<AnalyticsParams>,
) -> ApiResult<Json<Analytics>> {
    if caller.role == UserRole::Student {
        return Err(ApiError::Forbidden(
            "this action needs the instructor or admin role".into(),
        ));
    }
    let period = params.period.as_deref().unwrap_or("day");
    if !["day", "week", "month"].contains(&period) {
        return Err(ApiError::invalid_field(
            "period",
            "must be day, week or month",
        ));
    }
    let to = match &params.to {
        Some(v) => parse_day("to", v)?,
        None => now().date(),
    };
    let from = match &params.from {
        Some(v) => parse_day("from", v)?,
        None => to - Duration::days(30),
    };
    if from > to || to - from > Duration::days(366) {
        return Err(ApiError::invalid_field(
            "from",
            "must be on or before `to`, at most 366 days earlier",
        ));
    }
    let course = params
        .course_id
        .as_deref()
        .map(|c| CourseId::parse(c).map_err(|e| ApiError::invalid_field("courseId", e.to_string())))
        .transpose()?;
    let t = &caller.tenant;
    let repo = RevenueRepo::new(state.table.clone());
    // Whose counters: the tenant's, one course's, or each of the instructor's courses.
    let scopes: Vec<Option<CourseId>> = match (caller.is_admin(), course) {
        (true, course) => vec![course],
        (false, Some(course)) => {
            let owned = CourseRepo::new(state.table.clone())
                .get(t, course)
                .await?
                .is_some_and(|c| c.instructor_id == caller.id);
            if !owned {
                return Err(ApiError::not_found("course"));
            }
            vec![Some(course)]
        }
        (false, None) => CatalogRepo::new(state.table.clone())
            .of_instructor(t, caller.id)
            .await?
            .into_iter()
            .map(|c| Some(c.id))
            .collect(),
    };
    let (from_s, to_s) = (date_text(from), date_text(to));
    let reads = scopes
        .iter()
        .map(|scope| repo.days(t, *scope, &from_s, &to_s));
    let days: Vec<RevenueDay> = futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut series: BTreeMap<(String, String), Revenue> = BTreeMap::new();
    let mut totals: BTreeMap<String, Revenue> = BTreeMap::new();
    for day in days {
        let Ok(date) = parse_day("day", &day.date) else {
            continue;
        };
        let start = date_text(period_start(date, period));
        series
            .entry((start, day.currency.clone()))
            .or_default()
            .add(day.counters);
        totals.entry(day.currency).or_default().add(day.counters);
    }
    // The tenant's courses for an admin; otherwise only the courses in scope, each read by its own
    // prefix, so that an instructor's read never grows with the others' sales.
    let totals_read = match scopes.as_slice() {
        [None] => repo.by_course(t).await?,
        scopes => futures::future::try_join_all(
            scopes
                .iter()
                .flatten()
                .map(|course| repo.of_course(t, *course)),
        )
        .await?
        .concat(),
    };
    let by_course = totals_read
        .into_iter()
        .map(|c| CourseFigures {
            course_id: c.course_id.to_string(),
            course_title: c.course_title,
            currency: c.currency,
            revenue: c.counters.revenue,
            refunds: c.counters.refunds,
            net: c.counters.revenue - c.counters.refunds,
            payments: c.counters.payments,
            refund_count: c.counters.refund_count,
        })
        .collect();
    Ok(Json(Analytics {
        period: period.to_owned(),
        from: from_s.clone(),
        to: to_s,
        series: series
            .into_iter()
            .map(|((p, c), r)| figures(p, c, r))
            .collect(),
        totals: totals
            .into_iter()
            .map(|(c, r)| figures(from_s.clone(), c, r))
            .collect(),
        by_course,
    }))
}

fn date_text(date: Date) -> String {
    let month: u8 = Month::into(date.month());
    format!("{:04}-{month:02}-{:02}", date.year(), date.day())
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = TAG,
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of notifications", body = Paginated<NotificationView>),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<NotificationView>> {
    let (limit, cursor) = params.parse()?;
    let (items, next) = NotificationRepo::new(state.table.clone())
        .of_user(&caller.tenant, caller.id, limit, cursor)
        .await?;
    Ok(Paginated {
        data: items.iter().map(NotificationView::from).collect(),
        next_cursor: next.map(|c| c.to_string()),
    })
}

/// `POST /notifications/read`: which to mark read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    /// The notifications' ids; absent: all of the latest 100.
    pub ids: Option<Vec<String>>,
}

/// How many notifications changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkedRead {
    pub marked: usize,
}

/// Marks the caller's notifications read (seed 002 `POST /notifications/read`).
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = TAG,
    security(("bearer" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "Marked", body = MarkedRead),
        (status = 400, description = "More than 100 ids", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn mark_notifications_read(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<MarkRead>,
) -> ApiResult<Json<MarkedRead>> {
    if body.ids.as_ref().is_some_and(|ids| ids.len() > 100) {
        return Err(ApiError::invalid_field("ids", "at most 100 ids"));
    }
    let marked = NotificationRepo::new(state.table.clone())
        .mark_read(&caller.member(), body.ids.as_deref())
        .await?;
    Ok(Json(MarkedRead { marked }))
}
