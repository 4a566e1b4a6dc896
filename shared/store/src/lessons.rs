//! Lessons and their order. A lesson's metadata sits in the course page's range (`COURSE#LESSON#…`),
//! its content beside it (`CONTENT#…`, outside that range, so the page never reads 100 KB bodies), and
//! the order in one outline item whose version serialises concurrent changes to it. Every change is one
//! transaction with the course's `totalLessons`.
//!
//! A lesson item is also indexed on GSI1 under its own id (`T#{t}#LESSON#{lessonId}` / `LESSON`), so a
//! lesson id alone finds its course ([`LessonRepo::locate`]); every write of a lesson carries those
//! attributes, and deleting the lesson (or its course) removes them with it. Its active files share
//! that index partition (see [`crate::files`]).

use std::sync::Arc;

use lectern_domain::course::Course;
use lectern_domain::lesson::{Lesson, LessonContent, Outline};
use lectern_domain::{CourseId, LessonId, TenantId};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, commit};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{
    Condition, Index, Query, SortKeyCondition, StoreError, Table, TxAction, Update, UpdateAction,
};

#[derive(Serialize, Deserialize)]
struct ContentItem {
    content: LessonContent,
}

#[derive(Clone)]
pub struct LessonRepo {
    table: Arc<dyn Table>,
}

pub(crate) fn lesson_item(course: &Course, lesson: &Lesson) -> Result<Item, StoreError> {
    let mut item = keyed_item(
        lesson,
        keys::lesson(&course.tenant, course.id, lesson.id),
        "Lesson",
    )?;
    item.insert(
        Index::Gsi1.pk_attr().into(),
        AttrValue::S(keys::lesson_index_pk(&course.tenant, lesson.id)),
    );
    item.insert(
        Index::Gsi1.sk_attr().into(),
        AttrValue::s(keys::LESSON_INDEX_SK),
    );
    Ok(item)
}

pub(crate) fn content_item(
    course: &Course,
    lesson: LessonId,
    content: &LessonContent,
) -> Result<Item, StoreError> {
    keyed_item(
        &ContentItem {
            content: content.clone(),
        },
        keys::lesson_content(&course.tenant, course.id, lesson),
        "LessonContent",
    )
}

/// The write of `after` over the outline `before` (a new outline when `before` was never written).
pub(crate) fn put_outline(
    course: &Course,
    before: &Outline,
    after: &Outline,
) -> Result<TxAction, StoreError> {
    Ok(TxAction::Put {
        item: keyed_item(
            after,
            keys::course_outline(&course.tenant, course.id),
            "Outline",
        )?,
        condition: Some(if before.version == 0 {
            Condition::NotExists
        } else {
            Condition::VersionEquals(before.version)
        }),
    })
}

fn count_lessons(course: &Course, by: i64) -> TxAction {
    TxAction::Update(Update {
        key: keys::course(&course.tenant, course.id),
        actions: vec![UpdateAction::Add("totalLessons".into(), by)],
        condition: Some(Condition::And(vec![
            Condition::Exists,
            Condition::AttrNotExists("deletingSince".into()),
        ])),
    })
}

fn next_outline(outline: &Outline, change: impl FnOnce(&mut Outline)) -> Outline {
    let mut next = outline.clone();
    change(&mut next);
    next.version = outline.version + 1;
    next
}

impl LessonRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        LessonRepo { table }
    }

    /// Adds a lesson at a 1-based order (`None`: last). Fails with a cancelled transaction when the
    /// outline changed since it was read.
    pub async fn create(
        &self,
        actor: &Actor,
        course: &Course,
        outline: &Outline,
        lesson: &Lesson,
        content: &LessonContent,
        order: Option<u32>,
    ) -> Result<Outline, StoreError> {
        let next = next_outline(outline, |o| o.insert(lesson.id, order));
        commit(
            self.table.as_ref(),
            actor,
            vec![
                TxAction::Put {
                    item: lesson_item(course, lesson)?,
                    condition: Some(Condition::NotExists),
                },
                TxAction::Put {
                    item: content_item(course, lesson.id, content)?,
                    condition: None,
                },
                put_outline(course, outline, &next)?,
                count_lessons(course, 1),
            ],
        )
        .await?;
        Ok(next)
    }

    /// Writes a changed lesson (and its content and position when given), conditional on the
    /// versions read.
    pub async fn update(
        &self,
        actor: &Actor,
        course: &Course,
        before: &Lesson,
        after: &Lesson,
        content: Option<&LessonContent>,
        outline: Option<(&Outline, u32)>,
    ) -> Result<(), StoreError> {
        let mut actions = vec![TxAction::Update(Update::between(
            keys::lesson(&course.tenant, course.id, after.id),
            &lesson_item(course, before)?,
            &lesson_item(course, after)?,
            Some(Condition::VersionEquals(before.version)),
        ))];
        if let Some(content) = content {
            actions.push(TxAction::Put {
                item: content_item(course, after.id, content)?,
                condition: None,
            });
        }
        if let Some((outline, order)) = outline {
            let next = next_outline(outline, |o| o.move_to(after.id, order));
            actions.push(put_outline(course, outline, &next)?);
        }
        commit(self.table.as_ref(), actor, actions).await
    }

    /// Deletes a lesson with its content, closing the gap in the order, conditional on the versions
    /// read: a lesson changed since is not deleted.
    pub async fn delete(
        &self,
        actor: &Actor,
        course: &Course,
        outline: &Outline,
        lesson: &Lesson,
    ) -> Result<(), StoreError> {
        let next = next_outline(outline, |o| o.remove(lesson.id));
        commit(
            self.table.as_ref(),
            actor,
            vec![
                TxAction::Delete {
                    key: keys::lesson(&course.tenant, course.id, lesson.id),
                    condition: Some(Condition::VersionEquals(lesson.version)),
                },
                TxAction::Delete {
                    key: keys::lesson_content(&course.tenant, course.id, lesson.id),
                    condition: None,
                },
                put_outline(course, outline, &next)?,
                count_lessons(course, -1),
            ],
        )
        .await
    }

    /// Replaces the order (the ids must be a permutation of the outline's; checked by the caller).
    pub async fn reorder(
        &self,
        actor: &Actor,
        course: &Course,
        before: &Outline,
        after: &Outline,
    ) -> Result<(), StoreError> {
        let put = TxAction::Put {
            item: keyed_item(
                after,
                keys::course_outline(&course.tenant, course.id),
                "Outline",
            )?,
            condition: Some(if before.version == 0 {
                Condition::NotExists
            } else {
                Condition::VersionEquals(before.version)
            }),
        };
        commit(self.table.as_ref(), actor, vec![put]).await
    }

    /// A lesson's content (one get).
    pub async fn content(
        &self,
        tenant: &TenantId,
        course: CourseId,
        lesson: LessonId,
    ) -> Result<Option<LessonContent>, StoreError> {
        self.table
            .get(&keys::lesson_content(tenant, course, lesson))
            .await?
            .map(|item| from_item::<ContentItem>(item).map(|c| c.content))
            .transpose()
    }

    /// A lesson by its id alone (its course is in it): one query of GSI1. Eventually consistent, so
    /// the lesson may have just been deleted, or not be found for a moment after it was created.
    #[tracing::instrument(skip(self))]
    pub async fn locate(
        &self,
        tenant: &TenantId,
        lesson: LessonId,
    ) -> Result<Option<Lesson>, StoreError> {
        let query = Query::index(Index::Gsi1, keys::lesson_index_pk(tenant, lesson))
            .sort_key(SortKeyCondition::Equals(keys::LESSON_INDEX_SK.into()));
        self.table
            .query(&query)
            .await?
            .items
            .into_iter()
            .next()
            .map(from_item)
            .transpose()
    }
}
