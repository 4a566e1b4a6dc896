//! Courses of a tenant's catalog.

use std::collections::HashMap;
use std::sync::Arc;

use lectern_domain::assignment::{AssignmentSummary, Submission};
use lectern_domain::course::{Course, RequiredBy};
use lectern_domain::enrollment::Enrollment;
use lectern_domain::event::{CourseUpdated, DomainEvent, EventEnvelope};
use lectern_domain::lesson::{Lesson, Outline};
use lectern_domain::quiz::QuizSummary;
use lectern_domain::rating::RecentRatings;
use lectern_domain::user::User;
use lectern_domain::{AssignmentId, CourseId, LessonId, QuizId, TenantId, UserId};

use crate::actor::{Actor, commit, commit_in_batches};
use crate::catalog::catalog_writes;
use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::outbox;
use crate::table::{
    Condition, ENTITY, Index, Key, MAX_BATCH_GET_KEYS, PK, Query, SK, SortKeyCondition, StoreError,
    Table, TxAction, Update, UpdateAction,
};

/// Why a course could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CourseWriteError {
    /// The course changed since it was read, or is gone.
    #[error("the course was changed by another request")]
    Stale,
    /// Payments entitle this many students to the course: it is not deleted.
    #[error("{0} paid enrollments")]
    HasPaidEnrollments(u64),
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
    // Whoever writes the item writes the course's catalog entries with it.
    item.insert(INDEXED.into(), AttrValue::Bool(true));
    // A course being deleted leaves its instructor's courses at once (DynamoDB's indexes are sparse).
    if course.deleting_since.is_none() {
        item.insert(
            Index::Gsi1.pk_attr().into(),
            AttrValue::S(keys::instructor_courses_index_pk(
                &course.tenant,
                course.instructor_id,
            )),
        );
        item.insert(
            Index::Gsi1.sk_attr().into(),
            AttrValue::S(keys::instructor_courses_index_sk(
                course.status,
                course.category,
                course.id,
            )),
        );
    }
    Ok(item)
}

/// The attribute saying the course's catalog entries exist ([`Course::indexed`]).
const INDEXED: &str = "indexed";

fn stale(error: StoreError) -> CourseWriteError {
    match error {
        // The course's own condition is the only one in its transaction.
        StoreError::ConditionFailed
        | StoreError::TransactionCanceled { .. }
        | StoreError::TransactionConflict => CourseWriteError::Stale,
        other => other.into(),
    }
}

/// `course.updated`, for the version `after` is: a retried update records the same event.
fn course_updated(actor: &Actor, after: &Course) -> EventEnvelope {
    EventEnvelope::new(
        after.tenant.clone(),
        DomainEvent::CourseUpdated(CourseUpdated {
            course_id: after.id,
            instructor_id: after.instructor_id,
            title: after.title.as_str().to_owned(),
            status: after.status,
            version: after.version,
        }),
        &format!("{}:{}", after.id, after.version),
        after.updated_at,
        Some(actor.user),
    )
}

impl CourseRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        CourseRepo { table }
    }

    /// Writes a new course with its catalog entries and counts in one transaction; its search
    /// terms follow in further transactions of up to 100.
    #[tracing::instrument(skip_all, fields(course_id = %course.id))]
    pub async fn create(&self, actor: &Actor, course: &Course) -> Result<(), StoreError> {
        let writes = catalog_writes(None, course);
        let mut first = vec![TxAction::Put {
            item: course_item(course)?,
            condition: Some(Condition::NotExists),
        }];
        first.extend(writes.first);
        commit_in_batches(self.table.as_ref(), actor, first, writes.terms)
            .await
            .map_err(|e| match e {
                StoreError::TransactionCanceled { failed } if failed.contains(&0) => {
                    StoreError::ConditionFailed
                }
                other => other,
            })
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
    /// concurrently are left alone. The course's catalog entries and counts move in the same
    /// transaction (a course stored before the catalog index gets them now); its search terms follow
    /// in further transactions of up to 100 when its words or status changed.
    #[tracing::instrument(skip_all, fields(course_id = %after.id))]
    pub async fn update(
        &self,
        actor: &Actor,
        before: &Course,
        after: &Course,
    ) -> Result<(), CourseWriteError> {
        debug_assert_eq!(after.version, before.version + 1);
        let writes = catalog_writes(Some(before), after);
        let mut first = vec![TxAction::Update(Self::update_of(before, after)?)];
        first.extend(writes.first);
        first.push(outbox::record(&course_updated(actor, after))?);
        commit_in_batches(self.table.as_ref(), actor, first, writes.terms)
            .await
            .map_err(stale)
    }

    /// The conditional update of the course item [`CourseRepo::update`] applies.
    fn update_of(before: &Course, after: &Course) -> Result<Update, StoreError> {
        let mut update = Update::between(
            keys::course(&after.tenant, after.id),
            &course_item(before)?,
            &course_item(after)?,
            Some(Condition::VersionEquals(before.version)),
        );
        if !before.indexed {
            update
                .actions
                .push(UpdateAction::Set(INDEXED.into(), AttrValue::Bool(true)));
        }
        Ok(update)
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
    /// By due date.
    pub assignments: Vec<AssignmentSummary>,
    pub recent_ratings: RecentRatings,
    /// The courses that name this one as a prerequisite (at most [`RequiredBy::MAX`]).
    pub required_by: RequiredBy,
}

/// Most prerequisite and dependent courses the course page names; the rest of its one batch get (100
/// keys) holds the instructor, the reader's enrollment and their submissions.
pub const MAX_LINKED_COURSES: usize = 60;

/// Who reads a course page, as far as what it shows depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReader {
    pub user: UserId,
    /// They study in the course rather than manage it: the page shows their submissions' statuses.
    pub learner: bool,
}

/// What the course page shows beside its own item collection ([`CourseRepo::page_context`]).
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    pub instructor: Option<User>,
    /// The reader's enrollment (none for an anonymous reader).
    pub enrollment: Option<Enrollment>,
    /// A learner's submissions, by assignment (absent where they have none, or beyond the batch).
    pub submissions: HashMap<AssignmentId, Submission>,
    /// The prerequisites that still exist, in the course's order.
    pub prerequisites: Vec<Course>,
    /// The courses requiring this one that still exist.
    pub required_by: Vec<Course>,
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
    /// The course page: the course, its outline, lessons, quiz summaries, latest ratings and the
    /// courses requiring it (one query of the `COURSE…` range of its partition). `None` when there is
    /// no such course.
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
        let (mut course, mut outline, mut recent, mut required_by) = (
            None,
            Outline::default(),
            RecentRatings::default(),
            RequiredBy::default(),
        );
        let (mut lessons, mut quizzes, mut assignments) = (Vec::new(), Vec::new(), Vec::new());
        let course_key = keys::course(tenant, id);
        let outline_key = keys::course_outline(tenant, id);
        let reviews_key = keys::course_reviews(tenant, id);
        let required_by_key = keys::course_required_by(tenant, id);
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
            } else if sk == required_by_key.sk {
                required_by = from_item(item)?;
            } else if sk.starts_with(keys::LESSON_PREFIX) {
                lessons.push(from_item::<Lesson>(item)?);
            } else if sk.starts_with(keys::QUIZ_SUMMARY_PREFIX) {
                quizzes.push(from_item::<QuizSummary>(item)?);
            } else if sk.starts_with(keys::ASSIGNMENT_SUMMARY_PREFIX) {
                assignments.push(from_item::<AssignmentSummary>(item)?);
            }
        }
        let Some(course) = course else {
            return Ok(None);
        };
        lessons.sort_by_key(|l| outline.order_of(l.id).unwrap_or(u32::MAX));
        assignments.sort_by_key(|a: &AssignmentSummary| (a.due_date, a.assignment_id));
        Ok(Some(CoursePage {
            course,
            outline,
            lessons,
            quizzes,
            assignments,
            recent_ratings: recent,
            required_by,
        }))
    }

    /// What the course page shows beside its own items ([`CourseRepo::page`]), in one batch get: the
    /// instructor; for a signed-in reader their enrollment, and for a learner their submission to each
    /// assignment (as many as the batch has room for after the linked courses); the prerequisite and
    /// dependent courses (at most [`MAX_LINKED_COURSES`] together, prerequisites first).
    #[tracing::instrument(skip_all, fields(course_id = %page.course.id))]
    pub async fn page_context(
        &self,
        page: &CoursePage,
        reader: Option<PageReader>,
    ) -> Result<PageContext, StoreError> {
        let course = &page.course;
        let tenant = &course.tenant;
        let prerequisites: Vec<CourseId> = course
            .prerequisites
            .iter()
            .copied()
            .take(MAX_LINKED_COURSES)
            .collect();
        let required_by: Vec<CourseId> = page
            .required_by
            .courses
            .iter()
            .copied()
            .take(MAX_LINKED_COURSES - prerequisites.len())
            .collect();
        let mut wanted: Vec<Key> = vec![keys::user(tenant, course.instructor_id)];
        if let Some(r) = reader {
            wanted.push(keys::enrollment(tenant, course.id, r.user));
        }
        let learner = reader.filter(|r| r.learner);
        let submissions: Vec<AssignmentId> = match learner {
            Some(_) => page
                .assignments
                .iter()
                .map(|a| a.assignment_id)
                .take(MAX_BATCH_GET_KEYS - wanted.len() - prerequisites.len() - required_by.len())
                .collect(),
            None => Vec::new(),
        };
        if let Some(r) = learner {
            wanted.extend(
                submissions
                    .iter()
                    .map(|a| keys::submission(tenant, *a, r.user)),
            );
        }
        wanted.extend(
            prerequisites
                .iter()
                .chain(&required_by)
                .map(|id| keys::course(tenant, *id)),
        );
        let mut found = self.table.batch_get(&wanted).await?.into_iter();
        let mut context = PageContext {
            instructor: found.next().flatten().map(from_item).transpose()?,
            ..PageContext::default()
        };
        if reader.is_some() {
            context.enrollment = found.next().flatten().map(from_item).transpose()?;
        }
        for id in &submissions {
            if let Some(s) = found.next().flatten().map(from_item).transpose()? {
                context.submissions.insert(*id, s);
            }
        }
        for (i, item) in found.enumerate() {
            let Some(linked) = item.map(from_item::<Course>).transpose()? else {
                continue;
            };
            if i < prerequisites.len() {
                context.prerequisites.push(linked);
            } else {
                context.required_by.push(linked);
            }
        }
        Ok(context)
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

/// The update of a course's own prerequisites, conditional on the link version read.
fn relink(course: &Course, prerequisites: &[CourseId]) -> TxAction {
    TxAction::Update(Update {
        key: keys::course(&course.tenant, course.id),
        actions: vec![
            UpdateAction::Set("prerequisites".into(), id_list(prerequisites)),
            UpdateAction::Set(
                "linksVersion".into(),
                AttrValue::from(course.links_version + 1),
            ),
        ],
        condition: Some(links_unchanged(course)),
    })
}

fn id_list(ids: &[CourseId]) -> AttrValue {
    AttrValue::L(ids.iter().map(|id| AttrValue::S(id.to_string())).collect())
}

fn links_unchanged(course: &Course) -> Condition {
    Condition::Equals("linksVersion".into(), AttrValue::from(course.links_version))
}

/// The write of a course's [`RequiredBy`] record from `before` to `after`, conditional on the
/// version read (absent before the first link).
fn put_required_by(
    tenant: &TenantId,
    course: CourseId,
    before: &RequiredBy,
    after: &RequiredBy,
) -> Result<TxAction, StoreError> {
    let key = keys::course_required_by(tenant, course);
    let mut item = to_item(after)?;
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s("CourseRequiredBy"));
    let condition = if before.version == 0 {
        Condition::NotExists
    } else {
        Condition::VersionEquals(before.version)
    };
    Ok(TxAction::Put {
        item,
        condition: Some(condition),
    })
}

impl CourseRepo {
    /// A course with the record of the courses requiring it, in one batch get. `None` when there is
    /// no such course.
    #[tracing::instrument(skip(self))]
    pub async fn with_required_by(
        &self,
        tenant: &TenantId,
        id: CourseId,
    ) -> Result<Option<(Course, RequiredBy)>, StoreError> {
        let wanted = [
            keys::course(tenant, id),
            keys::course_required_by(tenant, id),
        ];
        let mut found = self.table.batch_get(&wanted).await?.into_iter();
        let course: Option<Course> = found.next().flatten().map(from_item).transpose()?;
        let required_by: Option<RequiredBy> = found.next().flatten().map(from_item).transpose()?;
        Ok(course.map(|c| (c, required_by.unwrap_or_default())))
    }

    /// Makes `prerequisite` a prerequisite of `course`, in one transaction: the course's own list,
    /// the prerequisite's [`RequiredBy`] record (its version read), and checks that neither the
    /// prerequisite nor any of the `checked` courses (those the cycle search walked through) changed
    /// their links meanwhile, so two concurrent links cannot close a cycle together. The prerequisite's
    /// course item is only checked, never written. Cancelled: read again and retry.
    pub async fn link(
        &self,
        actor: &Actor,
        course: &Course,
        prerequisite: &Course,
        required_by: &RequiredBy,
        checked: &[Course],
    ) -> Result<(), StoreError> {
        let mut prerequisites = course.prerequisites.clone();
        prerequisites.push(prerequisite.id);
        let mut actions = vec![
            relink(course, &prerequisites),
            put_required_by(
                &prerequisite.tenant,
                prerequisite.id,
                required_by,
                &required_by.with(course.id),
            )?,
        ];
        actions.extend(
            checked
                .iter()
                .filter(|x| x.id != course.id)
                .map(|x| TxAction::Check {
                    key: keys::course(&x.tenant, x.id),
                    condition: links_unchanged(x),
                }),
        );
        commit(self.table.as_ref(), actor, actions).await
    }

    /// Removes a prerequisite link; the prerequisite's record is updated when it is still there
    /// (`None`: the prerequisite is gone).
    pub async fn unlink(
        &self,
        actor: &Actor,
        course: &Course,
        prerequisite_id: CourseId,
        required_by: Option<&RequiredBy>,
    ) -> Result<(), StoreError> {
        let mut prerequisites = course.prerequisites.clone();
        prerequisites.retain(|p| *p != prerequisite_id);
        let mut actions = vec![relink(course, &prerequisites)];
        if let Some(record) = required_by.filter(|r| r.courses.contains(&course.id)) {
            actions.push(put_required_by(
                &course.tenant,
                prerequisite_id,
                record,
                &record.without(course.id),
            )?);
        }
        commit(self.table.as_ref(), actor, actions).await
    }

    /// Marks a course as being deleted (out of the catalog's lists and counts), unless payments entitle
    /// students to it: the count of its entitling payments is read, and the mark is conditioned on
    /// that count being unchanged, so a payment that succeeds meanwhile cancels the deletion rather
    /// than being left without its course.
    async fn mark_deleting(
        &self,
        actor: &Actor,
        course: &Course,
        marked: &Course,
    ) -> Result<(), CourseWriteError> {
        let counter = keys::course_entitlements(&course.tenant, course.id);
        let count = self.table.get(&counter).await?.map(|item| {
            item.get("count")
                .and_then(AttrValue::as_i64)
                .unwrap_or_default()
        });
        if let Some(paid) = count.filter(|n| *n > 0) {
            return Err(CourseWriteError::HasPaidEnrollments(paid as u64));
        }
        let unchanged = match count {
            None => Condition::NotExists,
            Some(n) => Condition::Equals("count".into(), AttrValue::int(n)),
        };
        // The course leaves the catalog's lists and counts in the same transaction; its search
        // terms follow (the partition's deletion removes whatever is left).
        let writes = catalog_writes(Some(course), marked);
        let mut actions = vec![
            TxAction::Update(Self::update_of(course, marked)?),
            TxAction::Check {
                key: counter,
                condition: unchanged,
            },
        ];
        actions.extend(writes.first);
        match commit_in_batches(self.table.as_ref(), actor, actions, writes.terms).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_lost_race() => Err(CourseWriteError::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a course with everything that belongs to it: its item collection (lessons, contents,
    /// quizzes, assignment summaries, grade log, enrollments, ratings), its quizzes' partitions
    /// (attempts) and assignments' partitions (submissions), and its side of every
    /// prerequisite link. First the course is marked as being deleted — from then on it is invisible
    /// and out of the catalog — then the rest goes in transactions of up to 100, and the course item
    /// last. If anything fails midway, deleting again resumes. A stale `course` → `Stale`; a course
    /// whose payments still entitle students to it is not deleted (`HasPaidEnrollments`). `actor`
    /// is checked in the mark's transaction, or read before resuming.
    #[tracing::instrument(skip_all, fields(course_id = %course.id))]
    pub async fn delete_all(
        &self,
        actor: &Actor,
        course: &Course,
        now: time::OffsetDateTime,
    ) -> Result<(), CourseWriteError> {
        let tenant = &course.tenant;
        let mut course = course.clone();
        if course.deleting_since.is_none() {
            let mut marked = course.clone();
            marked.deleting_since = Some(now);
            marked.version += 1;
            self.mark_deleting(actor, &course, &marked).await?;
            course = marked;
        } else {
            // Resuming writes nothing that one transaction could check the actor with.
            actor.verify(self.table.as_ref()).await?;
        }
        // Unlink both directions, re-reading a linked record when it changed meanwhile: the course
        // leaves its prerequisites' records, and the courses requiring it forget it.
        for prerequisite in &course.prerequisites {
            for _ in 0..5 {
                let Some((_, record)) = self.with_required_by(tenant, *prerequisite).await? else {
                    break;
                };
                if !record.courses.contains(&course.id) {
                    break;
                }
                let write =
                    put_required_by(tenant, *prerequisite, &record, &record.without(course.id))?;
                match self.table.transact_write(vec![write]).await {
                    Ok(()) => break,
                    Err(
                        StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict,
                    ) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let course_key = keys::course(tenant, course.id);
        let required_by_key = keys::course_required_by(tenant, course.id);
        let mut dependents = RequiredBy::default();
        let mut doomed: Vec<Key> = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::course_pk(tenant, course.id))
                        .limit(1000)
                        .after(cursor),
                )
                .await?;
            for item in &page.items {
                let Some(key) = Key::of(item) else { continue };
                if key == required_by_key {
                    dependents = from_item(item.clone())?;
                }
                if let Some(quiz) = key.sk.strip_prefix(keys::QUIZ_SUMMARY_PREFIX) {
                    let quiz = QuizId::parse(quiz)
                        .map_err(|_| StoreError::Corrupt(format!("quiz summary key {}", key.sk)))?;
                    let all = self
                        .table
                        .query(&Query::partition(keys::quiz_pk(tenant, quiz)))
                        .await?;
                    doomed.extend(all.items.iter().filter_map(Key::of));
                }
                if let Some(assignment) = key.sk.strip_prefix(keys::ASSIGNMENT_SUMMARY_PREFIX) {
                    let assignment =
                        lectern_domain::AssignmentId::parse(assignment).map_err(|_| {
                            StoreError::Corrupt(format!("assignment summary key {}", key.sk))
                        })?;
                    let all = self
                        .table
                        .query(&Query::partition(keys::assignment_pk(tenant, assignment)))
                        .await?;
                    doomed.extend(all.items.iter().filter_map(Key::of));
                }
                if key != course_key {
                    doomed.push(key);
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        // The courses requiring this one forget it (their record of it goes with the partition).
        for dependent in &dependents.courses {
            for _ in 0..5 {
                let Some(linked) = self.get(tenant, *dependent).await? else {
                    break;
                };
                if !linked.prerequisites.contains(&course.id) {
                    break;
                }
                let mut prerequisites = linked.prerequisites.clone();
                prerequisites.retain(|p| *p != course.id);
                match self
                    .table
                    .transact_write(vec![relink(&linked, &prerequisites)])
                    .await
                {
                    Ok(()) => break,
                    Err(
                        StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict,
                    ) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        for chunk in doomed.chunks(crate::table::MAX_TRANSACTION_ACTIONS) {
            let actions = chunk
                .iter()
                .map(|key| TxAction::Delete {
                    key: key.clone(),
                    condition: None,
                })
                .collect();
            self.table.transact_write(actions).await?;
        }
        self.table.delete(&course_key, None).await?;
        Ok(())
    }
}

impl CourseRepo {
    /// Copies a course's content into `copy` (a new draft): every lesson with its content and order,
    /// every quiz with its questions; no enrollments, ratings or links. The copy's items are written
    /// first and its course item last, so an interrupted copy is never visible as a course. Answers
    /// the copy with its counters set.
    #[tracing::instrument(skip_all, fields(from = %page.course.id, to = %copy.id))]
    pub async fn duplicate(
        &self,
        actor: &Actor,
        page: &CoursePage,
        mut copy: Course,
        now: time::OffsetDateTime,
    ) -> Result<Course, StoreError> {
        let tenant = &page.course.tenant;
        let source = page.course.id;
        let contents = self
            .table
            .query(
                &Query::partition(keys::course_pk(tenant, source))
                    .sort_key(SortKeyCondition::BeginsWith("CONTENT#".into())),
            )
            .await?
            .items;
        let content_of = |lesson: LessonId| {
            let key = keys::lesson_content(tenant, source, lesson);
            contents
                .iter()
                .find(|item| Key::of(item).as_ref() == Some(&key))
                .and_then(|item| item.get("content"))
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut actions = Vec::new();
        let mut outline = Outline::default();
        for lesson in &page.lessons {
            let new = Lesson {
                id: LessonId::new(),
                course_id: copy.id,
                created_at: now,
                updated_at: now,
                version: 1,
                ..lesson.clone()
            };
            let content = lectern_domain::lesson::LessonContent::parse(&content_of(lesson.id))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            actions.push(TxAction::Put {
                item: crate::lessons::lesson_item(&copy, &new)?,
                condition: Some(Condition::NotExists),
            });
            actions.push(TxAction::Put {
                item: crate::lessons::content_item(&copy, new.id, &content)?,
                condition: Some(Condition::NotExists),
            });
            outline.lessons.push(new.id);
        }
        outline.version = 1;
        actions.push(crate::lessons::put_outline(
            &copy,
            &Outline::default(),
            &outline,
        )?);
        let quiz_keys: Vec<Key> = page
            .quizzes
            .iter()
            .map(|q| keys::quiz(tenant, q.quiz_id))
            .collect();
        let mut quizzes = 0;
        for chunk in quiz_keys.chunks(MAX_BATCH_GET_KEYS) {
            for item in self.table.batch_get(chunk).await?.into_iter().flatten() {
                let quiz: lectern_domain::quiz::Quiz = from_item(item)?;
                let (_, writes) = crate::quizzes::QuizRepo::copy_to(&quiz, copy.id, now)?;
                actions.extend(writes);
                quizzes += 1;
            }
        }
        commit_in_batches(self.table.as_ref(), actor, Vec::new(), actions).await?;
        copy.total_lessons = page.lessons.len() as u32;
        copy.total_quizzes = quizzes;
        self.create(actor, &copy).await?;
        Ok(copy)
    }
}
