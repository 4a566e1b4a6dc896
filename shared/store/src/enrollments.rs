//! Enrollments and progress. Contract: issue "Courses" §Enrollment and progress.
//!
//! An enrollment lives in its course's partition (`ENROLL#{userId}`), so "is this student enrolled" is
//! one get by key and a course's students are one query; GSI1 lists a student's enrollments. The
//! course's `totalEnrollments` and `totalCompletions` change in the same transaction as the enrollment,
//! so they stay exact under concurrency; the course's entries in the catalog's enrollments order
//! move in that transaction too (conditioned on the count read, re-read and retried when another
//! enrollment moved it first).
//!
//! Each enrollment records what grants it (the course was free, or a payment bought it): a payment's
//! settlement revokes only an enrollment that the same payment granted, and a student whose payment
//! still entitles them enrolls again under it without paying again.

use std::sync::Arc;

use lectern_domain::assignment::Submission;
use lectern_domain::catalog::CatalogSort;
use lectern_domain::course::Course;
use lectern_domain::enrollment::{Enrollment, EnrollmentStatus, Grant};
use lectern_domain::event::{DomainEvent, EnrollmentCreated, EventEnvelope, LessonCompleted};
use lectern_domain::payment::Payment;
use lectern_domain::quiz::QuizStanding;
use lectern_domain::{CourseId, LessonId, PaymentId, QuizId, TenantId, UserId};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::actor::{Actor, commit, commit_for};
use crate::catalog::sort_entries;
use crate::courses::{CoursePage, CourseRepo};
use crate::cursor::Cursor;
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::outbox;
use crate::payments::PaymentRepo;
use crate::table::{
    Condition, Index, Key, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction, backoff,
};

/// Why a student could not enroll.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("already enrolled in this course")]
    AlreadyEnrolled,
    /// The course is not published (or is being deleted).
    #[error("the course is not open for enrollment")]
    NotOpen,
    /// The caller's guard (a paid enrollment's payment check) did not hold.
    #[error("the enrollment's guard did not hold")]
    GuardFailed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why progress could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("not enrolled in this course")]
    NotEnrolled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of a course's enrollments.
pub struct EnrollmentPage {
    pub enrollments: Vec<Enrollment>,
    pub next: Option<Cursor>,
}

/// A course and a user's enrollment in it, read together ([`EnrollmentRepo::memberships`]).
#[derive(Debug, Clone)]
pub struct Membership {
    pub course_id: CourseId,
    /// `None`: no such course (gone, or never in this tenant).
    pub course: Option<Course>,
    pub enrollment: Option<Enrollment>,
}

/// What a student has done in a course's quizzes and assignments ([`EnrollmentRepo::work_in`]).
#[derive(Debug, Clone, Default)]
pub struct CourseWork {
    /// The standing in each quiz, in the course page's order (`None`: never started).
    pub standings: Vec<Option<QuizStanding>>,
    /// The submission to each assignment, in the course page's order (`None`: none yet).
    pub submissions: Vec<Option<Submission>>,
}

/// What admits a student to a course.
enum Admission {
    /// The course is published and free.
    Published,
    /// A payment that entitles the student; its check goes into the transaction.
    Paid { payment: PaymentId, guard: TxAction },
}

/// How often a write that lost a race is retried on fresh data before giving up.
const RETRIES: u32 = 5;

#[derive(Clone)]
pub struct EnrollmentRepo {
    table: Arc<dyn Table>,
}

fn enrollment_item(e: &Enrollment) -> Result<Item, StoreError> {
    let mut item = keyed_item(
        e,
        keys::enrollment(&e.tenant, e.course_id, e.student_id),
        "Enrollment",
    )?;
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

/// The put of an enrollment, conditional on the version it replaces (`None`: a new one).
fn put_enrollment(e: &Enrollment, replaces: Option<u64>) -> Result<TxAction, StoreError> {
    Ok(TxAction::Put {
        item: enrollment_item(e)?,
        condition: Some(match replaces {
            Some(version) => Condition::VersionEquals(version),
            None => Condition::NotExists,
        }),
    })
}

fn add_to_course(course: &Course, attr: &str, by: i64, condition: Condition) -> TxAction {
    // The enrollment count orders the catalog: it must still be what was read, so that the
    // order's entries written with it ([`enrollments_order`]) are right.
    let condition = if attr == "totalEnrollments" {
        Condition::And(vec![
            condition,
            Condition::Equals(
                attr.into(),
                AttrValue::from(u64::from(course.total_enrollments)),
            ),
        ])
    } else {
        condition
    };
    TxAction::Update(Update {
        key: keys::course(&course.tenant, course.id),
        actions: vec![UpdateAction::Add(attr.into(), by)],
        condition: Some(condition),
    })
}

/// The course's entries in the catalog's enrollments order, moved by `by` students.
fn enrollments_order(course: &Course, by: i64) -> Vec<TxAction> {
    let mut after = course.clone();
    after.total_enrollments = u32::try_from(i64::from(course.total_enrollments) + by).unwrap_or(0);
    sort_entries(&after, CatalogSort::Enrollments)
}

/// The course exists and is not being deleted.
fn course_alive() -> Condition {
    Condition::And(vec![
        Condition::Exists,
        Condition::AttrNotExists("deletingSince".into()),
    ])
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Whether an error means another write got there first (worth retrying on fresh data).
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

    /// What admitting a student to `course` depends on, in one batch get: their enrollment in it (if
    /// any), and the prerequisite courses they have not completed (courses since deleted are skipped).
    #[tracing::instrument(skip_all, fields(course_id = %course.id, student_id = %student))]
    pub async fn admission(
        &self,
        course: &Course,
        student: UserId,
    ) -> Result<(Option<Enrollment>, Vec<Course>), StoreError> {
        let tenant = &course.tenant;
        let mut wanted = vec![keys::enrollment(tenant, course.id, student)];
        for p in &course.prerequisites {
            wanted.push(keys::enrollment(tenant, *p, student));
            wanted.push(keys::course(tenant, *p));
        }
        let mut found = self.table.batch_get(&wanted).await?.into_iter();
        let previous: Option<Enrollment> = found.next().flatten().map(from_item).transpose()?;
        let mut missing = Vec::new();
        for _ in &course.prerequisites {
            let done = found
                .next()
                .flatten()
                .map(from_item::<Enrollment>)
                .transpose()?
                .is_some_and(|e| e.is_completed());
            let prerequisite: Option<Course> = found.next().flatten().map(from_item).transpose()?;
            if let (false, Some(pre)) = (done, prerequisite) {
                missing.push(pre);
            }
        }
        Ok((previous, missing))
    }

    /// Enrolls a student in a free course (again, keeping their progress, if they had unenrolled): one
    /// transaction that writes the enrollment (granted as free) only if it is still as read and counts
    /// it on the course only if the course is published. Of two concurrent enrollments of one student,
    /// one fails with `AlreadyEnrolled`.
    #[tracing::instrument(skip_all, fields(course_id = %course.id, student_id = %actor.user))]
    pub async fn enroll(
        &self,
        actor: &Actor,
        course: &Course,
        previous: Option<Enrollment>,
        now: OffsetDateTime,
    ) -> Result<Enrollment, EnrollError> {
        self.enroll_with(
            Some(actor),
            course,
            actor.user,
            previous,
            now,
            Admission::Published,
        )
        .await
    }

    /// Enrolls a student who paid: as [`EnrollmentRepo::enroll`], but the course need only exist (it
    /// was published when they paid), the enrollment records `payment` as what grants it, and a check
    /// that the payment still entitles them is part of the transaction, so a refund recorded meanwhile
    /// cannot be overtaken by the enrollment. `actor` is the student enrolling themselves (none when
    /// the payment's settlement enrolls them).
    #[tracing::instrument(skip_all, fields(course_id = %course.id, payment_id = %payment.id))]
    pub async fn enroll_paid(
        &self,
        actor: Option<&Actor>,
        course: &Course,
        payment: &Payment,
        previous: Option<Enrollment>,
        now: OffsetDateTime,
    ) -> Result<Enrollment, EnrollError> {
        let admission = Admission::Paid {
            payment: payment.id,
            guard: PaymentRepo::entitlement_check(payment),
        };
        self.enroll_with(actor, course, payment.user_id, previous, now, admission)
            .await
    }

    async fn enroll_with(
        &self,
        actor: Option<&Actor>,
        course: &Course,
        student: UserId,
        previous: Option<Enrollment>,
        now: OffsetDateTime,
        admission: Admission,
    ) -> Result<Enrollment, EnrollError> {
        if previous.as_ref().is_some_and(Enrollment::is_active) {
            return Err(EnrollError::AlreadyEnrolled);
        }
        let replaces = previous.as_ref().map(|p| p.version);
        let grant = match &admission {
            Admission::Published => Grant::Free,
            Admission::Paid { payment, .. } => Grant::Payment {
                payment_id: *payment,
            },
        };
        let enrollment = match previous {
            Some(mut e) => {
                e.status = EnrollmentStatus::Active;
                e.enrolled_at = now;
                e.unenrolled_at = None;
                e.last_activity = Some(now);
                e.granted_by = Some(grant);
                e.version += 1;
                e
            }
            None => Enrollment::new(course.tenant.clone(), course.id, student, now, grant),
        };
        let (open, guard) = match admission {
            Admission::Published => (
                Condition::And(vec![
                    course_alive(),
                    Condition::Equals("status".into(), AttrValue::s("published")),
                ]),
                None,
            ),
            Admission::Paid { guard, .. } => (course_alive(), Some(guard)),
        };
        let mut course = course.clone();
        for attempt in 0..=RETRIES {
            let mut actions = vec![
                put_enrollment(&enrollment, replaces)?,
                add_to_course(&course, "totalEnrollments", 1, open.clone()),
            ];
            actions.extend(guard.clone());
            actions.extend(enrollments_order(&course, 1));
            actions.push(outbox::record(&enrollment_created(
                &enrollment,
                actor,
                now,
            ))?);
            match self.transact_retrying(actor, actions).await {
                Ok(()) => return Ok(enrollment),
                Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                    return Err(EnrollError::AlreadyEnrolled);
                }
                Err(StoreError::TransactionCanceled { failed }) if failed.contains(&2) => {
                    return Err(EnrollError::GuardFailed);
                }
                Err(StoreError::TransactionCanceled { .. }) => {
                    // Another enrollment moved the count (and the order's entries) first: read it
                    // again and retry; otherwise the course is not open.
                    match self.count_moved(&course).await? {
                        Some(fresh) if attempt < RETRIES => {
                            backoff(attempt).await;
                            course = fresh;
                        }
                        _ => return Err(EnrollError::NotOpen),
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(EnrollError::NotOpen)
    }

    /// The course as it is now, if only its enrollment count changed since `course` was read.
    async fn count_moved(&self, course: &Course) -> Result<Option<Course>, StoreError> {
        let fresh: Option<Course> = self
            .table
            .get(&keys::course(&course.tenant, course.id))
            .await?
            .map(from_item)
            .transpose()?;
        Ok(fresh.filter(|f| {
            f.deleting_since.is_none() && f.total_enrollments != course.total_enrollments
        }))
    }

    /// Unenrolls: the record stays (status `unenrolled`, progress kept) and the course counts one
    /// student fewer, in one transaction. `actor`: the student leaving (none when a settlement revokes
    /// the enrollment).
    #[tracing::instrument(skip_all, fields(course_id = %course.id))]
    pub async fn unenroll(
        &self,
        actor: Option<&Actor>,
        course: &Course,
        enrollment: &Enrollment,
        now: OffsetDateTime,
    ) -> Result<Enrollment, ProgressError> {
        let mut next = enrollment.clone();
        next.status = EnrollmentStatus::Unenrolled;
        next.unenrolled_at = Some(now);
        next.version += 1;
        let mut course = course.clone();
        for attempt in 0..=RETRIES {
            let mut actions = vec![
                put_enrollment(&next, Some(enrollment.version))?,
                add_to_course(&course, "totalEnrollments", -1, Condition::Exists),
            ];
            actions.extend(enrollments_order(&course, -1));
            match self.transact_retrying(actor, actions).await {
                Ok(()) => break,
                Err(StoreError::TransactionCanceled { failed }) if failed == [1] => {
                    match self.count_moved(&course).await? {
                        Some(fresh) if attempt < RETRIES => {
                            backoff(attempt).await;
                            course = fresh;
                        }
                        _ => return Err(ProgressError::NotEnrolled),
                    }
                }
                Err(StoreError::TransactionCanceled { .. }) => {
                    return Err(ProgressError::NotEnrolled);
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(next)
    }

    /// Records a completed lesson (idempotent: completing it again changes nothing) and, when that
    /// finishes the course, its completion. Returns the enrollment as it is afterwards.
    pub async fn complete_lesson(
        &self,
        actor: &Actor,
        page: &CoursePage,
        lesson: LessonId,
        now: OffsetDateTime,
    ) -> Result<Enrollment, ProgressError> {
        let at = timestamp(now);
        self.record(actor, page, now, Some(lesson), |e| {
            if e.completed_lessons.contains_key(&lesson) {
                return false;
            }
            e.completed_lessons.insert(lesson, at.clone());
            true
        })
        .await
    }

    /// Records a passed quiz (idempotent), and the course's completion when that finishes it. `None`
    /// when the student is not enrolled (any more).
    pub async fn record_quiz_passed(
        &self,
        actor: &Actor,
        course: &Course,
        quiz: QuizId,
        at: OffsetDateTime,
    ) -> Result<Option<Enrollment>, StoreError> {
        let Some(page) = CourseRepo::new(self.table.clone())
            .page(&course.tenant, course.id)
            .await?
        else {
            return Ok(None);
        };
        let stamp = timestamp(at);
        match self
            .record(actor, &page, at, None, |e| {
                if e.passed_quizzes.contains_key(&quiz) {
                    return false;
                }
                e.passed_quizzes.insert(quiz, stamp.clone());
                true
            })
            .await
        {
            Ok(e) => Ok(Some(e)),
            Err(ProgressError::NotEnrolled) => Ok(None),
            Err(ProgressError::Store(e)) => Err(e),
        }
    }

    /// Applies `change` to the student's active enrollment and writes it if it changed, conditional on
    /// the version read (retrying on fresh data when another write got there first). When the change
    /// finishes the course, the enrollment's completion and the course's `totalCompletions` are written
    /// in the same transaction.
    async fn record(
        &self,
        actor: &Actor,
        page: &CoursePage,
        now: OffsetDateTime,
        completed_lesson: Option<LessonId>,
        mut change: impl FnMut(&mut Enrollment) -> bool,
    ) -> Result<Enrollment, ProgressError> {
        let course = &page.course;
        let student = actor.user;
        let quizzes = page.quiz_ids();
        let mut attempt = 0;
        loop {
            let current = self
                .get(&course.tenant, course.id, student)
                .await?
                .filter(Enrollment::is_active)
                .ok_or(ProgressError::NotEnrolled)?;
            let mut next = current.clone();
            if !change(&mut next) {
                return Ok(current);
            }
            next.last_activity = Some(now);
            next.version += 1;
            let mut actions = vec![put_enrollment(&next, Some(current.version))?];
            if next.completed_at.is_none() && next.has_finished(&page.lessons, &quizzes) {
                next.completed_at = Some(now);
                actions = vec![
                    put_enrollment(&next, Some(current.version))?,
                    add_to_course(course, "totalCompletions", 1, Condition::Exists),
                ];
            }
            if let Some(lesson) = completed_lesson {
                actions.push(outbox::record(&lesson_completed(
                    &next,
                    lesson,
                    current.completed_at.is_none() && next.completed_at.is_some(),
                    actor,
                    now,
                ))?);
            }
            match commit(self.table.as_ref(), actor, actions).await {
                Ok(()) => return Ok(next),
                Err(e) if e.is_lost_race() && attempt < RETRIES => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Err(StoreError::TransactionCanceled { .. }) => {
                    return Err(ProgressError::NotEnrolled);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A transaction retried while it only collided with a concurrent one in flight (DynamoDB cancels
    /// both of two transactions on one item; a cancelled condition is an answer, not retried).
    async fn transact_retrying(
        &self,
        actor: Option<&Actor>,
        actions: Vec<TxAction>,
    ) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match commit_for(self.table.as_ref(), actor, actions.clone()).await {
                Err(StoreError::TransactionConflict) if attempt < RETRIES => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                other => return other,
            }
        }
    }

    /// Each course with the student's enrollment in it, in the order asked: one batch get per 50
    /// courses (none for no courses).
    #[tracing::instrument(skip(self, courses), fields(courses = courses.len()))]
    pub async fn memberships(
        &self,
        tenant: &TenantId,
        student: UserId,
        courses: &[CourseId],
    ) -> Result<Vec<Membership>, StoreError> {
        let mut found = Vec::with_capacity(courses.len());
        for chunk in courses.chunks(MAX_BATCH_GET_KEYS / 2) {
            let wanted: Vec<Key> = chunk
                .iter()
                .flat_map(|c| {
                    [
                        keys::course(tenant, *c),
                        keys::enrollment(tenant, *c, student),
                    ]
                })
                .collect();
            let mut items = self.table.batch_get(&wanted).await?.into_iter();
            for course_id in chunk {
                found.push(Membership {
                    course_id: *course_id,
                    course: items.next().flatten().map(from_item).transpose()?,
                    enrollment: items.next().flatten().map(from_item).transpose()?,
                });
            }
        }
        Ok(found)
    }

    /// A course with the student's enrollment in it, in one batch get.
    pub async fn membership(
        &self,
        tenant: &TenantId,
        student: UserId,
        course: CourseId,
    ) -> Result<Membership, StoreError> {
        let found = self.memberships(tenant, student, &[course]).await?;
        Ok(found.into_iter().next().unwrap_or(Membership {
            course_id: course,
            course: None,
            enrollment: None,
        }))
    }

    /// The student's standing in each of the page's quizzes and their submission to each of its
    /// assignments: one batch get per 100 keys (none when the course has neither).
    #[tracing::instrument(skip_all, fields(course_id = %page.course.id, student_id = %student))]
    pub async fn work_in(
        &self,
        page: &CoursePage,
        student: UserId,
    ) -> Result<CourseWork, StoreError> {
        let tenant = &page.course.tenant;
        let mut wanted: Vec<Key> = page
            .quizzes
            .iter()
            .map(|q| keys::quiz_attempt_counter(tenant, q.quiz_id, student))
            .collect();
        wanted.extend(
            page.assignments
                .iter()
                .map(|a| keys::submission(tenant, a.assignment_id, student)),
        );
        let mut found = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(MAX_BATCH_GET_KEYS) {
            found.extend(self.table.batch_get(chunk).await?);
        }
        let mut found = found.into_iter();
        let mut work = CourseWork::default();
        for _ in &page.quizzes {
            work.standings
                .push(found.next().flatten().map(from_item).transpose()?);
        }
        for _ in &page.assignments {
            work.submissions
                .push(found.next().flatten().map(from_item).transpose()?);
        }
        Ok(work)
    }

    /// One page of a course's enrollments (active and unenrolled), by student id.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn of_course(
        &self,
        tenant: &TenantId,
        course: CourseId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<EnrollmentPage, StoreError> {
        let query = Query::partition(keys::course_pk(tenant, course))
            .sort_key(SortKeyCondition::BeginsWith(keys::ENROLLMENT_PREFIX.into()))
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        Ok(EnrollmentPage {
            enrollments: page
                .items
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Every enrollment of a student (GSI1; eventually consistent).
    pub async fn of_student(
        &self,
        tenant: &TenantId,
        student: UserId,
    ) -> Result<Vec<Enrollment>, StoreError> {
        let query = Query::index(Index::Gsi1, keys::enrollments_index_pk(tenant, student));
        self.table
            .query(&query)
            .await?
            .items
            .into_iter()
            .map(from_item)
            .collect()
    }
}

/// `enrollment.created`, for the version of the enrollment written (enrolling again after leaving is a
/// new one).
fn enrollment_created(
    enrollment: &Enrollment,
    actor: Option<&Actor>,
    now: OffsetDateTime,
) -> EventEnvelope {
    let payment_id = match enrollment.granted_by {
        Some(Grant::Payment { payment_id }) => Some(payment_id),
        _ => None,
    };
    EventEnvelope::new(
        enrollment.tenant.clone(),
        DomainEvent::EnrollmentCreated(EnrollmentCreated {
            course_id: enrollment.course_id,
            student_id: enrollment.student_id,
            payment_id,
        }),
        &format!(
            "{}:{}:{}",
            enrollment.course_id, enrollment.student_id, enrollment.version
        ),
        now,
        actor.map(|a| a.user),
    )
}

/// `lesson.completed`: once per lesson and enrollment (completing it again writes nothing).
fn lesson_completed(
    enrollment: &Enrollment,
    lesson: LessonId,
    course_completed: bool,
    actor: &Actor,
    now: OffsetDateTime,
) -> EventEnvelope {
    EventEnvelope::new(
        enrollment.tenant.clone(),
        DomainEvent::LessonCompleted(LessonCompleted {
            course_id: enrollment.course_id,
            lesson_id: lesson,
            student_id: enrollment.student_id,
            course_completed,
        }),
        &format!(
            "{}:{}:{lesson}:{}",
            enrollment.course_id, enrollment.student_id, enrollment.version
        ),
        now,
        Some(actor.user),
    )
}
