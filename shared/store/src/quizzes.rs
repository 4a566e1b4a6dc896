//! Quizzes, their attempts, and each student's standing in them.
//!
//! A quiz lives in its own partition (`T#{t}#QUIZ#{quizId}`) with its attempts and one standing item
//! per student (`ATTEMPTS#{userId}`: attempts started, kept score, passed); its summary lives in the
//! course's collection for the course page. Limits hold under concurrency because every write that
//! depends on a read is conditioned on what was read: starting on the standing's `count`, submitting on
//! the attempt's status and the standing's `version`.

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::quiz::{Attempt, AttemptStatus, Quiz, QuizStanding};
use lectern_domain::{AttemptId, CourseId, QuizId, TenantId, UserId};
use time::OffsetDateTime;

use crate::actor::{Actor, commit};
use crate::cursor::Cursor;
use crate::item::{AttrValue, Item, from_item, to_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, MAX_BATCH_GET_KEYS, PK, Query, SK, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction, VERSION,
};

/// How often a write that lost a race on the standing is retried on a fresh read.
const RETRIES: u32 = 5;

/// A pause before retrying a transaction that collided with another in flight (DynamoDB cancels both
/// of two transactions on one item, so retrying at once would likely collide again).
async fn backoff(error: &StoreError, attempt: u32) {
    if matches!(error, StoreError::TransactionConflict) {
        crate::table::backoff(attempt).await;
    }
}

/// Why a quiz write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum QuizWriteError {
    /// The quiz's course is gone.
    #[error("the course no longer exists")]
    CourseGone,
    /// The quiz is gone.
    #[error("the quiz no longer exists")]
    QuizGone,
    /// The student has started every attempt the quiz allows.
    #[error("no attempts left")]
    AttemptsExhausted,
    /// The attempt was submitted (or expired) already.
    #[error("the attempt was already submitted")]
    AlreadySubmitted,
    /// Lost the race on the standing more often than it is retried.
    #[error("too many concurrent changes")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a student's request about a quiz needs, read in one batch.
#[derive(Debug, Clone, Default)]
pub struct StudentContext {
    pub course: Option<Course>,
    pub enrollment: Option<Enrollment>,
    pub standing: Option<QuizStanding>,
    pub attempt: Option<Attempt>,
}

#[derive(Clone)]
pub struct QuizRepo {
    table: Arc<dyn Table>,
}

fn keyed(mut item: Item, key: crate::Key, entity: &str) -> Item {
    item.insert(PK.into(), AttrValue::S(key.pk));
    item.insert(SK.into(), AttrValue::S(key.sk));
    item.insert(ENTITY.into(), AttrValue::s(entity));
    item
}

fn quiz_item(quiz: &Quiz) -> Result<Item, StoreError> {
    Ok(keyed(
        to_item(quiz)?,
        keys::quiz(&quiz.tenant, quiz.id),
        "Quiz",
    ))
}

fn summary_item(quiz: &Quiz) -> Result<Item, StoreError> {
    Ok(keyed(
        to_item(&quiz.summary())?,
        keys::quiz_summary(&quiz.tenant, quiz.course_id, quiz.id),
        "QuizSummary",
    ))
}

fn attempt_item(tenant: &TenantId, attempt: &Attempt) -> Result<Item, StoreError> {
    Ok(keyed(
        to_item(attempt)?,
        keys::quiz_attempt(tenant, attempt.quiz_id, attempt.student_id, attempt.id),
        "QuizAttempt",
    ))
}

fn standing_item(standing: &QuizStanding) -> Result<Item, StoreError> {
    // Key, entity and owner are set by the first start and never change; an update touches only the
    // attributes that differ, so they need not be here.
    to_item(standing)
}

/// The attempt has been neither submitted nor expired.
fn still_open() -> Condition {
    Condition::And(vec![
        Condition::Equals("status".into(), AttrValue::s("in_progress")),
        Condition::AttrNotExists("submittedAt".into()),
    ])
}

fn decode<T: serde::de::DeserializeOwned>(item: Option<Item>) -> Result<Option<T>, StoreError> {
    item.map(from_item).transpose()
}

impl QuizRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        QuizRepo { table }
    }

    /// The quiz, its summary on the course page and the course's quiz count, in one transaction. The
    /// course must still exist.
    #[tracing::instrument(skip_all, fields(quiz_id = %quiz.id, course_id = %quiz.course_id))]
    pub async fn create(&self, actor: &Actor, quiz: &Quiz) -> Result<(), QuizWriteError> {
        let actions = vec![
            TxAction::Put {
                item: quiz_item(quiz)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: summary_item(quiz)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Update(Update {
                key: keys::course(&quiz.tenant, quiz.course_id),
                actions: vec![UpdateAction::Add("totalQuizzes".into(), 1)],
                condition: Some(Condition::Exists),
            }),
        ];
        match commit(self.table.as_ref(), actor, actions).await {
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&2) => {
                Err(QuizWriteError::CourseGone)
            }
            other => Ok(other?),
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(&self, tenant: &TenantId, id: QuizId) -> Result<Option<Quiz>, StoreError> {
        decode(self.table.get(&keys::quiz(tenant, id)).await?)
    }

    /// The quiz's course, and the student's enrollment, standing and (optionally) one attempt, in one
    /// batch get.
    #[tracing::instrument(skip(self, quiz), fields(quiz_id = %quiz.id))]
    pub async fn student_context(
        &self,
        quiz: &Quiz,
        student: UserId,
        attempt: Option<AttemptId>,
    ) -> Result<StudentContext, StoreError> {
        let t = &quiz.tenant;
        let mut wanted = vec![
            keys::course(t, quiz.course_id),
            keys::enrollment(t, quiz.course_id, student),
            keys::quiz_attempt_counter(t, quiz.id, student),
        ];
        if let Some(attempt) = attempt {
            wanted.push(keys::quiz_attempt(t, quiz.id, student, attempt));
        }
        let mut items = self.table.batch_get(&wanted).await?.into_iter();
        Ok(StudentContext {
            course: decode(items.next().flatten())?,
            enrollment: decode(items.next().flatten())?,
            standing: decode(items.next().flatten())?,
            attempt: decode(items.next().flatten())?,
        })
    }

    /// A student's standing in each quiz (in the order of `quizzes`; `None` where they never started
    /// one), in one batch get per 100 quizzes.
    #[tracing::instrument(skip(self, quizzes), fields(quizzes = quizzes.len()))]
    pub async fn standings(
        &self,
        tenant: &TenantId,
        quizzes: &[QuizId],
        student: UserId,
    ) -> Result<Vec<Option<QuizStanding>>, StoreError> {
        let mut standings = Vec::with_capacity(quizzes.len());
        for chunk in quizzes.chunks(MAX_BATCH_GET_KEYS) {
            let wanted: Vec<_> = chunk
                .iter()
                .map(|q| keys::quiz_attempt_counter(tenant, *q, student))
                .collect();
            for item in self.table.batch_get(&wanted).await? {
                standings.push(decode(item)?);
            }
        }
        Ok(standings)
    }

    /// Starts the student's next attempt if the quiz allows another. `standing` is what was read; when
    /// another start wins the race on the count, the standing is read again and the limit re-checked,
    /// so of two concurrent starts with one attempt left exactly one succeeds.
    #[tracing::instrument(skip(self, quiz, standing), fields(quiz_id = %quiz.id))]
    pub async fn start_attempt(
        &self,
        actor: &Actor,
        quiz: &Quiz,
        mut standing: Option<QuizStanding>,
        now: OffsetDateTime,
    ) -> Result<Attempt, QuizWriteError> {
        let student = actor.user;
        let counter = keys::quiz_attempt_counter(&quiz.tenant, quiz.id, student);
        for retry in 0..RETRIES {
            let started = standing.as_ref().map_or(0, |s| s.count);
            if !quiz.allows_another_attempt(started) {
                return Err(QuizWriteError::AttemptsExhausted);
            }
            let attempt = Attempt::start(quiz, student, started + 1, now);
            let count_unchanged = if started == 0 {
                Condition::AttrNotExists("count".into())
            } else {
                Condition::Equals("count".into(), AttrValue::int(i64::from(started)))
            };
            let actions = vec![
                TxAction::Update(Update {
                    key: counter.clone(),
                    actions: vec![
                        UpdateAction::Add("count".into(), 1),
                        UpdateAction::Set(ENTITY.into(), AttrValue::s("QuizStanding")),
                        UpdateAction::Set("quizId".into(), AttrValue::S(quiz.id.to_string())),
                        UpdateAction::Set("studentId".into(), AttrValue::S(student.to_string())),
                    ],
                    condition: Some(count_unchanged),
                }),
                TxAction::Put {
                    item: attempt_item(&quiz.tenant, &attempt)?,
                    condition: Some(Condition::NotExists),
                },
            ];
            match commit(self.table.as_ref(), actor, actions).await {
                Ok(()) => return Ok(attempt),
                Err(
                    e @ (StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict),
                ) => {
                    backoff(&e, retry).await;
                    standing = decode(self.table.get(&counter).await?)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(QuizWriteError::Busy)
    }

    /// Records a graded attempt and the student's new standing together: the attempt only if it is
    /// still open, the standing only if nobody recorded another submission since it was read (else it
    /// is read again and recomputed). Returns the standing as recorded.
    #[tracing::instrument(skip_all, fields(quiz_id = %quiz.id, attempt_id = %graded.id))]
    pub async fn submit_attempt(
        &self,
        actor: &Actor,
        quiz: &Quiz,
        graded: &Attempt,
        mut standing: QuizStanding,
    ) -> Result<QuizStanding, QuizWriteError> {
        let counter = keys::quiz_attempt_counter(&quiz.tenant, quiz.id, graded.student_id);
        for retry in 0..RETRIES {
            let after = standing.record(quiz.scoring_policy, graded);
            let unchanged = if standing.version == 0 {
                Condition::AttrNotExists(VERSION.into())
            } else {
                Condition::VersionEquals(standing.version)
            };
            let actions = vec![
                TxAction::Put {
                    item: attempt_item(&quiz.tenant, graded)?,
                    condition: Some(still_open()),
                },
                TxAction::Update(Update::between(
                    counter.clone(),
                    &standing_item(&standing)?,
                    &standing_item(&after)?,
                    Some(unchanged),
                )),
            ];
            match commit(self.table.as_ref(), actor, actions).await {
                Ok(()) => return Ok(after),
                Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                    return Err(QuizWriteError::AlreadySubmitted);
                }
                Err(
                    e @ (StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict),
                ) => {
                    backoff(&e, retry).await;
                    standing = decode(self.table.get(&counter).await?)?.unwrap_or_default();
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(QuizWriteError::Busy)
    }

    /// Records an attempt that ran out of time as expired, unless it was submitted meanwhile.
    #[tracing::instrument(skip_all, fields(attempt_id = %expired.id))]
    pub async fn expire_attempt(
        &self,
        tenant: &TenantId,
        expired: &Attempt,
    ) -> Result<(), QuizWriteError> {
        debug_assert_eq!(expired.status, AttemptStatus::Expired);
        match self
            .table
            .put(attempt_item(tenant, expired)?, Some(still_open()))
            .await
        {
            Err(StoreError::ConditionFailed) => Err(QuizWriteError::AlreadySubmitted),
            other => Ok(other?),
        }
    }

    /// One page of a quiz's attempts (oldest student id first, then each student's attempts in the
    /// order they were started), optionally of one student only.
    #[tracing::instrument(skip(self, cursor))]
    pub async fn attempts(
        &self,
        tenant: &TenantId,
        quiz: QuizId,
        student: Option<UserId>,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<Attempt>, Option<Cursor>), StoreError> {
        let prefix = match student {
            Some(s) => keys::quiz_attempts_of(s),
            None => keys::ATTEMPT_PREFIX.to_owned(),
        };
        let page = self
            .table
            .query(
                &Query::partition(keys::quiz_pk(tenant, quiz))
                    .sort_key(SortKeyCondition::BeginsWith(prefix))
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let attempts = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((attempts, page.next))
    }

    /// Deletes the quiz, its summary and one from the course's quiz count in one transaction; then its
    /// attempts and standings, 100 per transaction. If that second step is interrupted, what is left
    /// is unreachable (every endpoint reads the quiz first); the summary being gone, the course's
    /// cascade delete no longer finds this partition either, so such leftovers stay until swept.
    #[tracing::instrument(skip_all, fields(quiz_id = %quiz.id))]
    pub async fn delete(&self, actor: &Actor, quiz: &Quiz) -> Result<(), QuizWriteError> {
        let mut actions = vec![
            TxAction::Delete {
                key: keys::quiz(&quiz.tenant, quiz.id),
                condition: Some(Condition::Exists),
            },
            TxAction::Delete {
                key: keys::quiz_summary(&quiz.tenant, quiz.course_id, quiz.id),
                condition: None,
            },
            TxAction::Update(Update {
                key: keys::course(&quiz.tenant, quiz.course_id),
                actions: vec![UpdateAction::Add("totalQuizzes".into(), -1)],
                condition: Some(Condition::Exists),
            }),
        ];
        match commit(self.table.as_ref(), actor, actions.clone()).await {
            Ok(()) => {}
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                return Err(QuizWriteError::QuizGone);
            }
            Err(StoreError::TransactionCanceled { failed }) if failed == [2] => {
                // The course is already gone (its cascade delete is under way): no count to keep.
                actions.truncate(2);
                commit(self.table.as_ref(), actor, actions).await?;
            }
            Err(e) => return Err(e.into()),
        }
        crate::table::delete_partition(self.table.as_ref(), keys::quiz_pk(&quiz.tenant, quiz.id))
            .await
            .map_err(Into::into)
    }

    /// A copy of the quiz for another course (a course being duplicated): new quiz id, same questions,
    /// no attempts; and the writes that create it and its summary, for the caller's transaction. The
    /// caller counts it in the target course's `totalQuizzes` (it writes that course anyway).
    pub fn copy_to(
        quiz: &Quiz,
        target: CourseId,
        now: OffsetDateTime,
    ) -> Result<(Quiz, Vec<TxAction>), StoreError> {
        let copy = Quiz {
            id: QuizId::new(),
            course_id: target,
            created_at: now,
            updated_at: now,
            version: 1,
            ..quiz.clone()
        };
        let actions = vec![
            TxAction::Put {
                item: quiz_item(&copy)?,
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: summary_item(&copy)?,
                condition: Some(Condition::NotExists),
            },
        ];
        Ok((copy, actions))
    }
}
