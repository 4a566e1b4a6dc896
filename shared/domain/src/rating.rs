//! Ratings: one per student and course, with an optional review. Contract: seed 002
//! `CourseDetails.ratings`; issue "Courses" §Ratings.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{CourseId, RatingId, UserId};
use crate::validation::Invalid;

/// Stars: 1–5.
pub fn parse_stars(value: i64) -> Result<u8, Invalid> {
    if !(1..=5).contains(&value) {
        return Err(Invalid::new("must be an integer from 1 to 5"));
    }
    Ok(value as u8)
}

/// A review: at most 2,000 characters; blank means none.
pub fn parse_review(value: &str) -> Result<Option<String>, Invalid> {
    if value.chars().count() > 2_000 {
        return Err(Invalid::new("must be at most 2000 characters"));
    }
    let value = value.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rating {
    pub id: RatingId,
    pub course_id: CourseId,
    pub student_id: UserId,
    /// Shown beside the review (copied when rating, as the seed's `student` object).
    pub student_first_name: String,
    pub student_last_name: String,
    pub rating: u8,
    pub review: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The latest reviews of a course, kept on one item so the course page reads them with the course.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentRatings {
    pub ratings: Vec<Rating>,
    /// 0 while never written.
    pub version: u64,
}

impl RecentRatings {
    pub const KEEP: usize = 10;

    /// Puts a new or changed rating first, dropping the student's earlier one and the oldest.
    pub fn record(&mut self, rating: Rating) {
        self.ratings.retain(|r| r.student_id != rating.student_id);
        self.ratings.insert(0, rating);
        self.ratings.truncate(Self::KEEP);
    }
}
