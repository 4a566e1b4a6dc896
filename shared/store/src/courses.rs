//! Courses of a tenant's catalog.

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::lesson::{Lesson, Outline};
use lectern_domain::quiz::QuizSummary;
use lectern_domain::rating::RecentRatings;
use lectern_domain::{CourseId, LessonId, QuizId, TenantId};

use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, Index, Key, MAX_BATCH_GET_KEYS, PK, Query, SK, SortKeyCondition, StoreError,
    Table, Update,
};

/// Why a course could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CourseWriteError {
    /// The course changed since it was read, or is gone.
    #[error("the course was changed by another request")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct CourseRepo {
    table: Arc<dyn Table>,
}

pub(crate) fn course_item(course: &Course) -> Result<Item, StoreError> {
    let key = keys::course(&course.tenant, course.id);
    let mut item = to_item(course)?;
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s("Course"));
    // A course being deleted leaves the catalog at once (DynamoDB's indexes are sparse).
    if course.deleting_since.is_none() {
        item.insert(
            Index::Gsi1.pk_attr().into(),
            AttrValue::S(keys::catalog_index_pk(&course.tenant)),
        );
        item.insert(
            Index::Gsi1.sk_attr().into(),
            AttrValue::S(keys::catalog_index_sk(
                course.status,
                course.category,
                course.id,
            )),
        );
    }
    Ok(item)
}

fn stale(error: StoreError) -> CourseWriteError {
    match error {
        StoreError::ConditionFailed => CourseWriteError::Stale,
        other => other.into(),
    }
}

impl CourseRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        CourseRepo { table }
    }

    #[tracing::instrument(skip_all, fields(course_id = %course.id))]
    pub async fn create(&self, course: &Course) -> Result<(), StoreError> {
        self.table
            .put(course_item(course)?, Some(Condition::NotExists))
            .await
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(&self, tenant: &TenantId, id: CourseId) -> Result<Option<Course>, StoreError> {
        self.table
            .get(&keys::course(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Writes what changed from `before` to `after` if nobody edited the course meanwhile (its
    /// version). Only the changed attributes are written: counters that enrollments and ratings add to
    /// concurrently are left alone.
    #[tracing::instrument(skip_all, fields(course_id = %after.id))]
    pub async fn update(&self, before: &Course, after: &Course) -> Result<(), CourseWriteError> {
        debug_assert_eq!(after.version, before.version + 1);
        self.table
            .update(Self::update_of(before, after)?)
            .await
            .map(|_| ())
            .map_err(stale)
    }

    /// The conditional update [`CourseRepo::update`] applies, for use in a transaction.
    pub fn update_of(before: &Course, after: &Course) -> Result<Update, StoreError> {
        Ok(Update::between(
            keys::course(&after.tenant, after.id),
            &course_item(before)?,
            &course_item(after)?,
            Some(Condition::VersionEquals(before.version)),
        ))
    }

    /// Deletes the course if it is still the version that was read.
    #[tracing::instrument(skip_all, fields(course_id = %course.id))]
    pub async fn delete(&self, course: &Course) -> Result<(), CourseWriteError> {
        self.table
            .delete(
                &keys::course(&course.tenant, course.id),
                Some(Condition::VersionEquals(course.version)),
            )
            .await
            .map(|_| ())
            .map_err(stale)
    }
}

/// Everything the course page shows from the course's own item collection, read in one query.
#[derive(Debug, Clone)]
pub struct CoursePage {
    pub course: Course,
    pub outline: Outline,
    /// In outline order.
    pub lessons: Vec<Lesson>,
    pub quizzes: Vec<QuizSummary>,
    pub recent_ratings: RecentRatings,
}

impl CoursePage {
    pub fn quiz_ids(&self) -> Vec<QuizId> {
        self.quizzes.iter().map(|q| q.quiz_id).collect()
    }

    /// A lesson of the course, with its 1-based order.
    pub fn lesson(&self, id: LessonId) -> Option<(&Lesson, u32)> {
        let order = self.outline.order_of(id)?;
        self.lessons.iter().find(|l| l.id == id).map(|l| (l, order))
    }
}

impl CourseRepo {
    /// The course page: the course, its outline, lessons, quiz summaries and latest ratings (one
    /// query of the `COURSE…` range of its partition). `None` when there is no such course.
    #[tracing::instrument(skip(self))]
    pub async fn page(
        &self,
        tenant: &TenantId,
        id: CourseId,
    ) -> Result<Option<CoursePage>, StoreError> {
        let query = Query::partition(keys::course_pk(tenant, id)).sort_key(
            SortKeyCondition::BeginsWith(keys::COURSE_PAGE_PREFIX.into()),
        );
        let items = self.table.query(&query).await?.items;
        let (mut course, mut outline, mut recent) =
            (None, Outline::default(), RecentRatings::default());
        let (mut lessons, mut quizzes) = (Vec::new(), Vec::new());
        let course_key = keys::course(tenant, id);
        let outline_key = keys::course_outline(tenant, id);
        let reviews_key = keys::course_reviews(tenant, id);
        for item in items {
            let sk = item
                .get(SK)
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_owned();
            if sk == course_key.sk {
                course = Some(from_item::<Course>(item)?);
            } else if sk == outline_key.sk {
                outline = from_item(item)?;
            } else if sk == reviews_key.sk {
                recent = from_item(item)?;
            } else if sk.starts_with(keys::LESSON_PREFIX) {
                lessons.push(from_item::<Lesson>(item)?);
            } else if sk.starts_with(keys::QUIZ_SUMMARY_PREFIX) {
                quizzes.push(from_item::<QuizSummary>(item)?);
            }
        }
        let Some(course) = course else {
            return Ok(None);
        };
        lessons.sort_by_key(|l| outline.order_of(l.id).unwrap_or(u32::MAX));
        Ok(Some(CoursePage {
            course,
            outline,
            lessons,
            quizzes,
            recent_ratings: recent,
        }))
    }

    /// Courses by id, in the order asked, in batches of 100 (`None` where absent).
    pub async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[CourseId],
    ) -> Result<Vec<Option<Course>>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BATCH_GET_KEYS) {
            let keys: Vec<Key> = chunk.iter().map(|id| keys::course(tenant, *id)).collect();
            for item in self.table.batch_get(&keys).await? {
                found.push(item.map(from_item).transpose()?);
            }
        }
        Ok(found)
    }
}
