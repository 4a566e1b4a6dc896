//! Enrollments: a student's membership of a course and their progress in it.
//!
//! Minimal slice for quizzes (reading an enrollment, recording a passed quiz); the enrollment
//! lifecycle itself (enroll, unenroll, lessons) lives with the courses work on `main`.

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::lesson::Lesson;
use lectern_domain::quiz::QuizSummary;
use lectern_domain::{CourseId, QuizId, TenantId, UserId};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, Index, PK, Query, SK, SortKeyCondition, StoreError, Table, TxAction, Update,
    UpdateAction,
};

/// How often a write that lost an optimistic-locking race is retried on a fresh read.
const RETRIES: usize = 5;

#[derive(Clone)]
pub struct EnrollmentRepo {
    table: Arc<dyn Table>,
}

fn enrollment_item(e: &Enrollment) -> Result<Item, StoreError> {
    let key = keys::enrollment(&e.tenant, e.course_id, e.student_id);
    let mut item = to_item(e)?;
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s("Enrollment"));
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::enrollments_index_pk(&e.tenant, e.student_id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(e.course_id.to_string()),
    );
    Ok(item)
}

impl EnrollmentRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        EnrollmentRepo { table }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(
        &self,
        tenant: &TenantId,
        course: CourseId,
        student: UserId,
    ) -> Result<Option<Enrollment>, StoreError> {
        self.table
            .get(&keys::enrollment(tenant, course, student))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Records that the student passed a quiz of the course (idempotent: a quiz passed before keeps its
    /// first date). When that finishes the course (every current lesson and quiz done), the enrollment
    /// is marked completed and the course counts one more completion, in the same transaction. `None`
    /// when the student is not enrolled.
    #[tracing::instrument(skip(self, course), fields(course_id = %course.id))]
    pub async fn record_quiz_passed(
        &self,
        course: &Course,
        student: UserId,
        quiz: QuizId,
        at: OffsetDateTime,
    ) -> Result<Option<Enrollment>, StoreError> {
        let passed_at = at
            .format(&Rfc3339)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for _ in 0..RETRIES {
            let Some(before) = self.get(&course.tenant, course.id, student).await? else {
                return Ok(None);
            };
            if before.passed_quizzes.contains_key(&quiz) {
                return Ok(Some(before));
            }
            let mut after = before.clone();
            after.passed_quizzes.insert(quiz, passed_at.clone());
            after.last_activity = Some(at);
            after.version = before.version + 1;
            let mut actions = Vec::new();
            if after.completed_at.is_none() {
                let (lessons, quizzes) = self.course_contents(&course.tenant, course.id).await?;
                if after.has_finished(&lessons, &quizzes) {
                    after.completed_at = Some(at);
                    actions.push(TxAction::Update(Update {
                        key: keys::course(&course.tenant, course.id),
                        actions: vec![UpdateAction::Add("totalCompletions".into(), 1)],
                        condition: Some(Condition::Exists),
                    }));
                }
            }
            actions.insert(
                0,
                TxAction::Update(Update::between(
                    keys::enrollment(&course.tenant, course.id, student),
                    &enrollment_item(&before)?,
                    &enrollment_item(&after)?,
                    Some(Condition::VersionEquals(before.version)),
                )),
            );
            match self.table.transact_write(actions).await {
                Ok(()) => return Ok(Some(after)),
                Err(StoreError::TransactionCanceled { failed }) if failed == [0] => continue,
                Err(StoreError::TransactionConflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::TransactionConflict)
    }

    /// The course's current lessons and quizzes (from the course page's range).
    async fn course_contents(
        &self,
        tenant: &TenantId,
        course: CourseId,
    ) -> Result<(Vec<Lesson>, Vec<QuizId>), StoreError> {
        let (mut lessons, mut quizzes) = (Vec::new(), Vec::new());
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::course_pk(tenant, course))
                        .sort_key(SortKeyCondition::BeginsWith(
                            keys::COURSE_PAGE_PREFIX.into(),
                        ))
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                let sk = item.get(SK).and_then(AttrValue::as_str).unwrap_or_default();
                if sk.starts_with(keys::LESSON_PREFIX) {
                    lessons.push(from_item::<Lesson>(item)?);
                } else if sk.starts_with(keys::QUIZ_SUMMARY_PREFIX) {
                    quizzes.push(from_item::<QuizSummary>(item)?.quiz_id);
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok((lessons, quizzes)),
            }
        }
    }
}
