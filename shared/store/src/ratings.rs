//! Ratings: one per student and course. Each write is one transaction of the rating, the course's
//! `totalRatings`/`ratingSum` (so the average is exact without scanning) and the course page's latest
//! reviews, whose version serialises concurrent ratings of a course, and the course's entries in the
//! catalog's rating order (so they move with the average; the counters as read are a condition).

use std::sync::Arc;

use lectern_domain::catalog::CatalogSort;
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::rating::{Rating, RecentRatings};
use lectern_domain::user::User;
use lectern_domain::{CourseId, TenantId, UserId};
use time::format_description::well_known::Rfc3339;

use crate::actor::{Actor, commit};
use crate::catalog::sort_entries;
use crate::cursor::Cursor;
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{Condition, Index, Query, StoreError, Table, TxAction, Update, UpdateAction};

/// A page of ratings, newest first.
pub struct RatingPage {
    pub ratings: Vec<Rating>,
    pub next: Option<Cursor>,
}

/// What rating a course depends on, about the student who rates it ([`RatingRepo::rater`]).
#[derive(Debug, Clone, Default)]
pub struct Rater {
    pub enrollment: Option<Enrollment>,
    /// Their rating of the course so far.
    pub previous: Option<Rating>,
    /// The student, whose name the rating shows.
    pub user: Option<User>,
}

#[derive(Clone)]
pub struct RatingRepo {
    table: Arc<dyn Table>,
}

fn stamp(r: &Rating) -> String {
    r.updated_at.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn rating_item(tenant: &TenantId, r: &Rating) -> Result<Item, StoreError> {
    let mut item = keyed_item(r, keys::rating(tenant, r.course_id, r.student_id), "Rating")?;
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::ratings_index_pk(tenant, r.course_id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(format!(
            "{}#{}",
            keys::sortable_time(r.updated_at),
            r.student_id
        )),
    );
    Ok(item)
}

impl RatingRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        RatingRepo { table }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        course: CourseId,
        student: UserId,
    ) -> Result<Option<Rating>, StoreError> {
        self.table
            .get(&keys::rating(tenant, course, student))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The student's enrollment in the course, their rating of it so far, and their user, in one
    /// batch get.
    #[tracing::instrument(skip(self))]
    pub async fn rater(
        &self,
        tenant: &TenantId,
        course: CourseId,
        student: UserId,
    ) -> Result<Rater, StoreError> {
        let wanted = [
            keys::enrollment(tenant, course, student),
            keys::rating(tenant, course, student),
            keys::user(tenant, student),
        ];
        let mut found = self.table.batch_get(&wanted).await?.into_iter();
        Ok(Rater {
            enrollment: found.next().flatten().map(from_item).transpose()?,
            previous: found.next().flatten().map(from_item).transpose()?,
            user: found.next().flatten().map(from_item).transpose()?,
        })
    }

    /// Writes a new or changed rating with the course's counters and latest reviews, all conditional
    /// on what was read (`previous` rating, `recent` reviews): a cancelled transaction means another
    /// rating landed first; read again and retry.
    pub async fn rate(
        &self,
        actor: &Actor,
        course: &Course,
        recent: &RecentRatings,
        previous: Option<&Rating>,
        rating: &Rating,
    ) -> Result<(), StoreError> {
        let mut next = recent.clone();
        next.record(rating.clone());
        next.version = recent.version + 1;
        let rating_condition = match previous {
            Some(p) => Condition::Equals("updatedAt".into(), AttrValue::S(stamp(p))),
            None => Condition::NotExists,
        };
        let old = previous.map_or(0, |p| i64::from(p.rating));
        // The rating order's entries move with the counters: computed from the counters as read,
        // which the course's condition holds to.
        let mut after = course.clone();
        after.total_ratings += u32::from(previous.is_none());
        after.rating_sum =
            (i64::try_from(course.rating_sum).unwrap_or(i64::MAX) + i64::from(rating.rating) - old)
                .max(0)
                .unsigned_abs();
        let mut actions = vec![
            TxAction::Put {
                item: rating_item(&course.tenant, rating)?,
                condition: Some(rating_condition),
            },
            TxAction::Update(Update {
                key: keys::course(&course.tenant, course.id),
                actions: vec![
                    UpdateAction::Add("totalRatings".into(), i64::from(previous.is_none())),
                    UpdateAction::Add("ratingSum".into(), i64::from(rating.rating) - old),
                ],
                condition: Some(Condition::And(vec![
                    Condition::Exists,
                    Condition::AttrNotExists("deletingSince".into()),
                    Condition::Equals(
                        "totalRatings".into(),
                        AttrValue::from(u64::from(course.total_ratings)),
                    ),
                    Condition::Equals("ratingSum".into(), AttrValue::from(course.rating_sum)),
                ])),
            }),
            TxAction::Put {
                item: keyed_item(
                    &next,
                    keys::course_reviews(&course.tenant, course.id),
                    "RecentRatings",
                )?,
                condition: Some(if recent.version == 0 {
                    Condition::NotExists
                } else {
                    Condition::VersionEquals(recent.version)
                }),
            },
        ];
        actions.extend(sort_entries(&after, CatalogSort::Rating));
        commit(self.table.as_ref(), actor, actions).await
    }

    /// A page of a course's ratings, newest first (GSI1).
    pub async fn of_course(
        &self,
        tenant: &TenantId,
        course: CourseId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<RatingPage, StoreError> {
        let query = Query::index(Index::Gsi1, keys::ratings_index_pk(tenant, course))
            .backward()
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        Ok(RatingPage {
            ratings: page
                .items
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}
