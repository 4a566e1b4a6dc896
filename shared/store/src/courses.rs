//! Courses of a tenant's catalog.

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::{CourseId, TenantId};

use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{Condition, ENTITY, Index, PK, SK, StoreError, Table, Update};

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

fn course_item(course: &Course) -> Result<Item, StoreError> {
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
