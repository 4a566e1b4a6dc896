//! Revenue analytics, from counters kept on every write that moves money. Contract: seed 003
//! (`payment_analytics`); issue "Paid courses…" §Money after the fact.

use std::collections::BTreeMap;

use axum::extract::State;
use lectern_domain::CourseId;
use lectern_domain::user::now;
use lectern_store::revenue::{Revenue, RevenueDay, RevenueRepo};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};
use utoipa::{IntoParams, ToSchema};

use crate::TAG;
use crate::access::{may_see_revenue, revenue_scopes};

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
    pub course_id: CourseId,
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
    may_see_revenue(&caller)?;
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
    let scopes = revenue_scopes(&state, &caller, course).await?;
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
            course_id: c.course_id,
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
