//! Courses of a tenant's catalog.

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::{CourseId, TenantId};

use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{Condition, ENTITY, PK, SK, StoreError, Table};

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

    /// Replaces `before` with `after` if nobody changed it meanwhile (its version).
    #[tracing::instrument(skip_all, fields(course_id = %after.id))]
    pub async fn update(&self, before: &Course, after: &Course) -> Result<(), CourseWriteError> {
        debug_assert_eq!(after.version, before.version + 1);
        self.table
            .put(
                course_item(after)?,
                Some(Condition::VersionEquals(before.version)),
            )
            .await
            .map_err(stale)
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
