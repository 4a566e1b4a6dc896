//! Quizzes: what the course page and course progress show of them. Contract: issue "Courses" §Quizzes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::QuizId;

/// What the course page shows of a quiz, kept in the course's item collection beside the quiz itself
/// (seed 002 `CourseDetails.quizzes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuizSummary {
    #[schema(value_type = String, format = Uuid)]
    pub quiz_id: QuizId,
    pub title: String,
    pub description: Option<String>,
    pub total_questions: u32,
    pub total_points: u32,
    /// Minutes; absent = untimed.
    pub time_limit: Option<u32>,
    /// Percent needed to pass.
    pub passing_score: u8,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
}
