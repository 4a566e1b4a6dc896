//! Assignments, submissions and the grade log. Contract: issue "Assignments, submissions, grading".
//!
//! An assignment lives in its own partition (`T#{t}#ASSIGNMENT#{id}`) with one submission item per
//! student (`SUBMISSION#{studentId}`, indexed on GSI1 by status); its summary lives in the course's
//! `COURSE…` range, so the course page and the course's assignment list read it with the course. Grade
//! changes are kept in the course's partition under `GRADELOG#`, outside the course page's range.
//!
//! Every write that depends on a read is conditioned on it: a submission on the version read (absent
//! for a first one), so of two concurrent submits with one attempt left exactly one is written; a grade
//! on the submission's version, in one transaction with its log entry.

use std::sync::Arc;

use futures::future::try_join_all;
use lectern_domain::assignment::{
    Assignment, AssignmentSummary, GradeChange, Submission, SubmissionStatus,
};
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::event::{AssignmentGraded, AssignmentSubmitted, DomainEvent, EventEnvelope};
use lectern_domain::lesson::{Lesson, Outline};
use lectern_domain::user::User;
use lectern_domain::{AssignmentId, CourseId, FileId, TenantId, UserId};
use time::OffsetDateTime;

use crate::actor::{Actor, commit};
use crate::cursor::Cursor;
use crate::enrollments::EnrollmentRepo;
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::outbox;
use crate::table::{
    Condition, Index, Key, MAX_BATCH_GET_KEYS, Query, SK, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction,
};

/// Why an assignment or submission write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentWriteError {
    /// The course is gone (or being deleted).
    #[error("the course no longer exists")]
    CourseGone,
    /// The assignment or submission changed since it was read (or is gone).
    #[error("changed by another request")]
    Stale,
    /// A file to hand in is being deleted, or was handed in with other work meanwhile.
    #[error("a file is no longer available")]
    FileUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a request about one assignment needs besides the assignment, read in one batch.
#[derive(Debug, Clone, Default)]
pub struct AssignmentContext {
    pub course: Option<Course>,
    pub enrollment: Option<Enrollment>,
    pub submission: Option<Submission>,
    pub lesson: Option<Lesson>,
    /// The course's lesson order (read only when the assignment belongs to a lesson).
    pub outline: Option<Outline>,
}

/// The items of the extra keys asked for (in order), and a student's submission to each assignment.
type WithSubmissions = (Vec<Option<Item>>, Vec<Option<Submission>>);

/// One course of a student's grade book: its assignments, each with the student's submission.
#[derive(Debug, Clone)]
pub struct CourseGradeBook {
    pub course: Course,
    pub entries: Vec<(AssignmentSummary, Option<Submission>)>,
}

/// The items of the extra keys asked for (in order), and a student's grade book, course by course.
pub type GradeBook = (Vec<Option<Item>>, Vec<CourseGradeBook>);

/// A student with their grade book ([`AssignmentRepo::student_grades`]).
#[derive(Debug, Clone)]
pub struct StudentGrades {
    /// `None`: no such user in the tenant.
    pub student: Option<User>,
    pub courses: Vec<CourseGradeBook>,
}

#[derive(Clone)]
pub struct AssignmentRepo {
    table: Arc<dyn Table>,
}

fn assignment_item(a: &Assignment) -> Result<Item, StoreError> {
    keyed_item(a, keys::assignment(&a.tenant, a.id), "Assignment")
}

fn summary_item(a: &Assignment) -> Result<Item, StoreError> {
    keyed_item(
        &a.summary(),
        keys::assignment_summary(&a.tenant, a.course_id, a.id),
        "AssignmentSummary",
    )
}

fn submission_item(t: &TenantId, s: &Submission) -> Result<Item, StoreError> {
    let mut item = keyed_item(
        s,
        keys::submission(t, s.assignment_id, s.student_id),
        "Submission",
    )?;
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::submissions_index_pk(t, s.assignment_id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::S(keys::submissions_index_sk(s.status, s.student_id)),
    );
    Ok(item)
}

fn grade_change_item(t: &TenantId, change: &GradeChange) -> Result<Item, StoreError> {
    keyed_item(
        change,
        keys::grade_change(
            t,
            change.course_id,
            &keys::sortable_time(change.at),
            change.id,
        ),
        "GradeChange",
    )
}

/// The write of a submission, conditioned on the version it replaces (`0`: none stored yet).
fn submission_condition(previous_version: u64) -> Condition {
    if previous_version == 0 {
        Condition::NotExists
    } else {
        Condition::VersionEquals(previous_version)
    }
}

fn decode<T: serde::de::DeserializeOwned>(item: Option<Item>) -> Result<Option<T>, StoreError> {
    item.map(from_item).transpose()
}

fn course_count(course: &Course, by: i64, condition: Condition) -> TxAction {
    TxAction::Update(Update {
        key: keys::course(&course.tenant, course.id),
        actions: vec![UpdateAction::Add("totalAssignments".into(), by)],
        condition: Some(condition),
    })
}

impl AssignmentRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        AssignmentRepo { table }
    }

    /// The assignment, its summary in the course and the course's `totalAssignments`, in one
    /// transaction; the course must exist and not be being deleted.
    #[tracing::instrument(skip_all, fields(assignment_id = %a.id, course_id = %a.course_id))]
    pub async fn create(
        &self,
        actor: &Actor,
        course: &Course,
        a: &Assignment,
    ) -> Result<(), AssignmentWriteError> {
        let alive = Condition::And(vec![
            Condition::Exists,
            Condition::AttrNotExists("deletingSince".into()),
        ]);
        let actions = vec![
            TxAction::Put {
                item: assignment_item(a)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: summary_item(a)?,
                condition: Some(Condition::NotExists),
            },
            course_count(course, 1, alive),
        ];
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&2) => {
                Err(AssignmentWriteError::CourseGone)
            }
            other => Ok(other?),
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(
        &self,
        tenant: &TenantId,
        id: AssignmentId,
    ) -> Result<Option<Assignment>, StoreError> {
        decode(self.table.get(&keys::assignment(tenant, id)).await?)
    }

    /// Replaces the assignment if it is still the version read, with its summary.
    #[tracing::instrument(skip_all, fields(assignment_id = %after.id))]
    pub async fn update(
        &self,
        actor: &Actor,
        before: &Assignment,
        after: &Assignment,
    ) -> Result<(), AssignmentWriteError> {
        let actions = vec![
            TxAction::Put {
                item: assignment_item(after)?,
                condition: Some(Condition::VersionEquals(before.version)),
            },
            TxAction::Put {
                item: summary_item(after)?,
                condition: None,
            },
        ];
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { .. }) => Err(AssignmentWriteError::Stale),
            other => Ok(other?),
        }
    }

    /// Deletes the assignment (if still the version read), its summary and one from the course's
    /// count in one transaction; then its submissions, 100 per transaction. Grade log entries stay:
    /// they are the course's history.
    #[tracing::instrument(skip_all, fields(assignment_id = %a.id))]
    pub async fn delete(
        &self,
        actor: &Actor,
        course: &Course,
        a: &Assignment,
    ) -> Result<(), AssignmentWriteError> {
        let actions = vec![
            TxAction::Delete {
                key: keys::assignment(&a.tenant, a.id),
                condition: Some(Condition::VersionEquals(a.version)),
            },
            TxAction::Delete {
                key: keys::assignment_summary(&a.tenant, a.course_id, a.id),
                condition: None,
            },
            course_count(course, -1, Condition::Exists),
        ];
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                return Err(AssignmentWriteError::Stale);
            }
            other => other?,
        }
        crate::table::delete_partition(self.table.as_ref(), keys::assignment_pk(&a.tenant, a.id))
            .await
            .map_err(Into::into)
    }

    /// The course and its assignment summaries (by id, so by creation), in one query. `None` when
    /// there is no such course.
    #[tracing::instrument(skip(self))]
    pub async fn course_assignments(
        &self,
        tenant: &TenantId,
        course: CourseId,
    ) -> Result<Option<(Course, Vec<AssignmentSummary>)>, StoreError> {
        let query = Query::partition(keys::course_pk(tenant, course))
            .sort_key(keys::course_with_assignments());
        let mut found = None;
        let mut summaries = Vec::new();
        for item in self.table.query(&query).await?.items {
            let sk = item
                .get(SK)
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_owned();
            if sk == keys::COURSE_PAGE_PREFIX {
                found = Some(from_item::<Course>(item)?);
            } else if sk.starts_with(keys::ASSIGNMENT_SUMMARY_PREFIX) {
                summaries.push(from_item::<AssignmentSummary>(item)?);
            }
        }
        Ok(found.map(|c| (c, summaries)))
    }

    /// The assignment's course, the student's enrollment and submission, and the assignment's lesson
    /// with the course's lesson order, in one batch get.
    #[tracing::instrument(skip(self, a), fields(assignment_id = %a.id))]
    pub async fn context(
        &self,
        a: &Assignment,
        student: UserId,
    ) -> Result<AssignmentContext, StoreError> {
        let t = &a.tenant;
        let mut wanted = vec![
            keys::course(t, a.course_id),
            keys::enrollment(t, a.course_id, student),
            keys::submission(t, a.id, student),
        ];
        if let Some(lesson) = a.lesson_id {
            wanted.push(keys::lesson(t, a.course_id, lesson));
            wanted.push(keys::course_outline(t, a.course_id));
        }
        let mut items = self.table.batch_get(&wanted).await?.into_iter();
        Ok(AssignmentContext {
            course: decode(items.next().flatten())?,
            enrollment: decode(items.next().flatten())?,
            submission: decode(items.next().flatten())?,
            lesson: decode(items.next().flatten())?,
            outline: decode(items.next().flatten())?,
        })
    }

    /// The student's submission to each assignment (in the order asked; `None` where they have
    /// none): one batch get per 100 assignments.
    pub async fn submissions_of(
        &self,
        tenant: &TenantId,
        assignments: &[AssignmentId],
        student: UserId,
    ) -> Result<Vec<Option<Submission>>, StoreError> {
        let (_, submissions) = self
            .submissions_with(tenant, assignments, student, &[])
            .await?;
        Ok(submissions)
    }

    /// A course's assignments as a student stands in them: their submission to each (in the order
    /// asked) and, when `enrolled` names a user, that user's enrollment in the course, read in the
    /// same batch get (one per 100 keys). A course's assignment list reads the caller's enrollment
    /// so, at no extra round trip.
    pub async fn submissions_with_enrollment(
        &self,
        tenant: &TenantId,
        course: CourseId,
        assignments: &[AssignmentId],
        student: UserId,
        enrolled: Option<UserId>,
    ) -> Result<(Option<Enrollment>, Vec<Option<Submission>>), StoreError> {
        let extra: Vec<Key> = enrolled
            .map(|user| keys::enrollment(tenant, course, user))
            .into_iter()
            .collect();
        let (found, submissions) = self
            .submissions_with(tenant, assignments, student, &extra)
            .await?;
        Ok((decode(found.into_iter().next().flatten())?, submissions))
    }

    /// The student's submission to each assignment (in the order asked; `None` where they have none)
    /// and, first, any `extra` keys' items: one batch get per 100 keys.
    #[tracing::instrument(skip(self, assignments, extra), fields(assignments = assignments.len()))]
    async fn submissions_with(
        &self,
        tenant: &TenantId,
        assignments: &[AssignmentId],
        student: UserId,
        extra: &[Key],
    ) -> Result<WithSubmissions, StoreError> {
        let mut wanted: Vec<Key> = extra.to_vec();
        wanted.extend(
            assignments
                .iter()
                .map(|a| keys::submission(tenant, *a, student)),
        );
        let mut found = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(MAX_BATCH_GET_KEYS) {
            found.extend(self.table.batch_get(chunk).await?);
        }
        let submissions = found.split_off(extra.len());
        let submissions = submissions
            .into_iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        Ok((found, submissions))
    }

    /// A student's grade book: every course they are enrolled in (not being deleted) that `keep`
    /// accepts, with its assignments and the student's submission to each; and, first, the `extra`
    /// keys' items. Reads: the student's enrollments (GSI1), each course with its assignment
    /// summaries (a query per course, concurrently), then the submissions and extras (one batch get
    /// per 100 keys). The grade report and the profile statistics both stand on it.
    #[tracing::instrument(skip(self, keep, extra))]
    async fn grade_book(
        &self,
        tenant: &TenantId,
        student: UserId,
        keep: impl Fn(&Course) -> bool,
        extra: &[Key],
    ) -> Result<GradeBook, StoreError> {
        let enrollments = EnrollmentRepo::new(self.table.clone())
            .of_student(tenant, student)
            .await?;
        let found = try_join_all(
            enrollments
                .iter()
                .map(|e| self.course_assignments(tenant, e.course_id)),
        )
        .await?;
        let shown: Vec<(Course, Vec<AssignmentSummary>)> = found
            .into_iter()
            .flatten()
            .filter(|(c, _)| c.deleting_since.is_none() && keep(c))
            .collect();
        let ids: Vec<AssignmentId> = shown
            .iter()
            .flat_map(|(_, s)| s.iter().map(|a| a.assignment_id))
            .collect();
        let (extra, submissions) = self.submissions_with(tenant, &ids, student, extra).await?;
        let mut submissions = submissions.into_iter();
        let book = shown
            .into_iter()
            .map(|(course, summaries)| CourseGradeBook {
                course,
                entries: summaries
                    .into_iter()
                    .map(|a| (a, submissions.next().flatten()))
                    .collect(),
            })
            .collect();
        Ok((extra, book))
    }

    /// A student (their user item) with their grade book ([`AssignmentRepo::grade_book`]): the user
    /// rides in the submissions' batch get, so it costs no round trip of its own.
    #[tracing::instrument(skip(self, keep))]
    pub async fn student_grades(
        &self,
        tenant: &TenantId,
        student: UserId,
        keep: impl Fn(&Course) -> bool,
    ) -> Result<StudentGrades, StoreError> {
        let (extra, courses) = self
            .grade_book(tenant, student, keep, &[keys::user(tenant, student)])
            .await?;
        Ok(StudentGrades {
            student: decode(extra.into_iter().next().flatten())?,
            courses,
        })
    }

    #[tracing::instrument(skip(self))]
    pub async fn submission(
        &self,
        tenant: &TenantId,
        assignment: AssignmentId,
        student: UserId,
    ) -> Result<Option<Submission>, StoreError> {
        decode(
            self.table
                .get(&keys::submission(tenant, assignment, student))
                .await?,
        )
    }

    /// Writes a started or submitted submission if it is still as read (`previous_version` 0: none
    /// was stored), marking the `handed_in` files as part of it in the same transaction (see
    /// [`crate::files::attach_to_submission`]). Lost the race → `Stale`: read again and decide again;
    /// a file that became unavailable → `FileUnavailable`.
    #[tracing::instrument(skip_all, fields(submission_id = %next.id))]
    pub async fn save_submission(
        &self,
        actor: &Actor,
        previous_version: u64,
        next: &Submission,
        handed_in: &[FileId],
    ) -> Result<(), AssignmentWriteError> {
        let tenant = &actor.tenant;
        let item = submission_item(tenant, next)?;
        let condition = submission_condition(previous_version);
        let mut actions = vec![TxAction::Put {
            item,
            condition: Some(condition),
        }];
        actions.extend(
            handed_in
                .iter()
                .map(|f| crate::files::attach_to_submission(tenant, *f, next.assignment_id)),
        );
        if next.status == SubmissionStatus::Submitted {
            actions.push(outbox::record(&assignment_submitted(actor, next))?);
        }
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                Err(AssignmentWriteError::Stale)
            }
            Err(StoreError::TransactionCanceled { .. }) => {
                Err(AssignmentWriteError::FileUnavailable)
            }
            other => Ok(other?),
        }
    }

    /// Records a grade: the submission (if still the version read) and its grade change, in one
    /// transaction.
    #[tracing::instrument(skip_all, fields(submission_id = %graded.id))]
    pub async fn grade(
        &self,
        actor: &Actor,
        previous_version: u64,
        graded: &Submission,
        change: &GradeChange,
    ) -> Result<(), AssignmentWriteError> {
        let tenant = &actor.tenant;
        let actions = vec![
            TxAction::Put {
                item: submission_item(tenant, graded)?,
                condition: Some(submission_condition(previous_version)),
            },
            TxAction::Put {
                item: grade_change_item(tenant, change)?,
                condition: Some(Condition::NotExists),
            },
            outbox::record(&assignment_graded(actor, graded, change))?,
        ];
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { .. }) => Err(AssignmentWriteError::Stale),
            other => Ok(other?),
        }
    }

    /// One page of an assignment's submissions: all by student id, or those with one status (GSI1).
    #[tracing::instrument(skip(self, cursor))]
    pub async fn submissions(
        &self,
        tenant: &TenantId,
        assignment: AssignmentId,
        status: Option<SubmissionStatus>,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<Submission>, Option<Cursor>), StoreError> {
        let query = match status {
            None => Query::partition(keys::assignment_pk(tenant, assignment))
                .sort_key(SortKeyCondition::BeginsWith(keys::SUBMISSION_PREFIX.into())),
            Some(s) => Query::index(Index::Gsi1, keys::submissions_index_pk(tenant, assignment))
                .sort_key(SortKeyCondition::BeginsWith(
                    keys::submissions_index_prefix(s),
                )),
        };
        let page = self.table.query(&query.limit(limit).after(cursor)).await?;
        let submissions = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((submissions, page.next))
    }

    /// One page of a course's grade log, newest first.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn grade_log(
        &self,
        tenant: &TenantId,
        course: CourseId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<GradeChange>, Option<Cursor>), StoreError> {
        let query = Query::partition(keys::course_pk(tenant, course))
            .sort_key(SortKeyCondition::BeginsWith(keys::GRADE_LOG_PREFIX.into()))
            .backward()
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        let changes = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((changes, page.next))
    }
}

/// `assignment.submitted`, for the version of the submission handed in.
fn assignment_submitted(actor: &Actor, submission: &Submission) -> EventEnvelope {
    EventEnvelope::new(
        actor.tenant.clone(),
        DomainEvent::AssignmentSubmitted(AssignmentSubmitted {
            course_id: submission.course_id,
            assignment_id: submission.assignment_id,
            submission_id: submission.id,
            student_id: submission.student_id,
            attempt: submission.attempts,
            late: submission.late,
        }),
        &format!("{}:{}", submission.id, submission.version),
        submission
            .submitted_at
            .unwrap_or_else(OffsetDateTime::now_utc),
        Some(actor.user),
    )
}

/// `assignment.graded`, for the version of the submission graded.
fn assignment_graded(actor: &Actor, graded: &Submission, change: &GradeChange) -> EventEnvelope {
    EventEnvelope::new(
        actor.tenant.clone(),
        DomainEvent::AssignmentGraded(AssignmentGraded {
            course_id: change.course_id,
            assignment_id: change.assignment_id,
            submission_id: change.submission_id,
            student_id: change.student_id,
            graded_by: change.graded_by,
            old_grade: change.old_grade,
            new_grade: change.new_grade,
        }),
        &format!("{}:{}", graded.id, graded.version),
        change.at,
        Some(actor.user),
    )
}
