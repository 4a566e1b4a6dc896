//! Lessons: a course's ordered units of study. Contract: seed 002 `CourseDetails.lessons`, issue
//! "Courses" §Lessons (markdown content ≤ 100 KB; orders unique and dense).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{CourseId, LessonId};
use crate::validation::Invalid;

/// A lesson title: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LessonTitle(String);

impl LessonTitle {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let len = value.chars().count();
        if !(1..=200).contains(&len) || value.chars().any(char::is_control) {
            return Err(Invalid::new("must be 1-200 characters"));
        }
        Ok(LessonTitle(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lesson's short description: at most 5,000 characters.
pub fn parse_lesson_description(value: &str) -> Result<String, Invalid> {
    if value.chars().count() > 5_000 {
        return Err(Invalid::new("must be at most 5000 characters"));
    }
    Ok(value.trim().to_owned())
}

/// Minutes a lesson is expected to take: 0–1,440 (a day).
pub fn parse_estimated_time(value: i64) -> Result<u32, Invalid> {
    if !(0..=1440).contains(&value) {
        return Err(Invalid::new("must be 0-1440 minutes"));
    }
    Ok(value as u32)
}

/// A lesson's body: markdown text of at most 100 KB (UTF-8 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LessonContent(String);

impl LessonContent {
    pub const MAX_BYTES: usize = 100 * 1024;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        if value.len() > Self::MAX_BYTES {
            return Err(Invalid::new(format!(
                "must be at most {} bytes of markdown",
                Self::MAX_BYTES
            )));
        }
        Ok(LessonContent(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lesson as stored (its content is kept apart, so listing lessons never reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lesson {
    pub id: LessonId,
    pub course_id: CourseId,
    pub title: LessonTitle,
    pub description: String,
    /// Minutes.
    pub estimated_time: u32,
    /// Size of the content, so that lists can say whether a lesson has any.
    pub content_bytes: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: u64,
}

/// The order of a course's lessons. A lesson's `order` is its position here, counted from 1, so
/// orders are unique and dense by construction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outline {
    pub lessons: Vec<LessonId>,
    /// 0 while the outline was never written.
    pub version: u64,
}

impl Outline {
    /// The largest number of lessons a course holds (reordering rewrites one item, so this is a
    /// limit of the item's size, far above what a course needs).
    pub const MAX_LESSONS: usize = 500;

    /// The 1-based order of a lesson.
    pub fn order_of(&self, lesson: LessonId) -> Option<u32> {
        self.lessons
            .iter()
            .position(|l| *l == lesson)
            .map(|i| i as u32 + 1)
    }

    /// Inserts a lesson at a 1-based order (clamped to the end; `None` appends).
    pub fn insert(&mut self, lesson: LessonId, order: Option<u32>) {
        let at = order
            .map(|o| (o.max(1) as usize - 1).min(self.lessons.len()))
            .unwrap_or(self.lessons.len());
        self.lessons.insert(at, lesson);
    }

    /// Moves a lesson to a 1-based order (clamped).
    pub fn move_to(&mut self, lesson: LessonId, order: u32) {
        self.lessons.retain(|l| *l != lesson);
        self.insert(lesson, Some(order));
    }

    pub fn remove(&mut self, lesson: LessonId) {
        self.lessons.retain(|l| *l != lesson);
    }

    /// Replaces the order with `ids`, which must name every lesson exactly once.
    pub fn reorder(&mut self, ids: Vec<LessonId>) -> Result<(), Invalid> {
        let mut given = ids.clone();
        given.sort();
        let mut current = self.lessons.clone();
        current.sort();
        if given.windows(2).any(|w| w[0] == w[1]) {
            return Err(Invalid::new("names a lesson twice"));
        }
        if given != current {
            return Err(Invalid::new(
                "must name every lesson of the course exactly once",
            ));
        }
        self.lessons = ids;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn content_is_limited_to_100_kb() {
        assert!(LessonContent::parse(&"x".repeat(100 * 1024)).is_ok());
        assert!(LessonContent::parse(&"x".repeat(100 * 1024 + 1)).is_err());
    }

    #[test]
    fn reordering_needs_every_lesson_once() {
        let (a, b) = (LessonId::new(), LessonId::new());
        let mut outline = Outline {
            lessons: vec![a, b],
            version: 1,
        };
        assert!(outline.reorder(vec![a]).is_err());
        assert!(outline.reorder(vec![a, a]).is_err());
        assert!(outline.reorder(vec![a, LessonId::new()]).is_err());
        outline.reorder(vec![b, a]).unwrap();
        assert_eq!(outline.order_of(a), Some(2));
    }

    proptest! {
        #[test]
        fn orders_stay_unique_and_dense(ops in proptest::collection::vec((0u8..3, 0u32..12), 0..40)) {
            let mut outline = Outline::default();
            for (op, order) in ops {
                match op {
                    0 => outline.insert(LessonId::new(), if order == 0 { None } else { Some(order) }),
                    1 if !outline.lessons.is_empty() => {
                        let l = outline.lessons[order as usize % outline.lessons.len()];
                        outline.move_to(l, order);
                    }
                    _ if !outline.lessons.is_empty() => {
                        let l = outline.lessons[order as usize % outline.lessons.len()];
                        outline.remove(l);
                    }
                    _ => {}
                }
                let mut orders: Vec<u32> = outline.lessons.iter().map(|l| outline.order_of(*l).unwrap()).collect();
                orders.sort();
                prop_assert_eq!(orders, (1..=outline.lessons.len() as u32).collect::<Vec<_>>());
            }
        }
    }
}
