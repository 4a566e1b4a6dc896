//! Revenue counters: per day and currency (the tenant's and each course's), and per course all
//! time. They are never computed from payments: every write that moves money (an invoice paid, a
//! refund recorded) adds to them in its own transaction, so analytics read counters, not history.

use std::sync::Arc;

use lectern_domain::payment::Payment;
use lectern_domain::{CourseId, TenantId};
use time::OffsetDateTime;

use crate::item::{AttrValue, Item};
use crate::keys;
use crate::table::{Query, SortKeyCondition, StoreError, Table, TxAction, Update, UpdateAction};

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

/// `YYYY-MM-DD` of a time, in UTC.
pub fn day_of(at: OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The counter updates for a change of a payment's revenue at `at`: the tenant's day, the course's
/// day, the course's total. They ride in the transaction of the write that moves the money.
pub(crate) fn counter_updates(p: &Payment, at: OffsetDateTime, change: Revenue) -> Vec<TxAction> {
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

#[derive(Clone)]
pub struct RevenueRepo {
    table: Arc<dyn Table>,
}

impl RevenueRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        RevenueRepo { table }
    }

    /// Revenue per day and currency between two dates (inclusive, `YYYY-MM-DD`), for the tenant or
    /// one course.
    #[tracing::instrument(skip(self))]
    pub async fn days(
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
    #[tracing::instrument(skip(self))]
    pub async fn by_course(&self, tenant: &TenantId) -> Result<Vec<CourseRevenue>, StoreError> {
        self.course_totals(tenant, keys::REVENUE_COURSE_PREFIX.into())
            .await
    }

    /// One course's revenue, all time, per currency: a read of that course's totals only, however
    /// many courses the tenant sells.
    #[tracing::instrument(skip(self))]
    pub async fn of_course(
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
}
