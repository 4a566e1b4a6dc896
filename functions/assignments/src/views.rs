//! Response shapes. Field names are camelCase, as seed 002; timestamps RFC 3339 with milliseconds.

use lectern_domain::assignment::{
    Assignment, AssignmentSummary, CriterionAssessment, GradeChange, LatePolicy, RubricCriterion,
    Submission, SubmissionStatus,
};
use lectern_domain::course::Course;
use lectern_domain::user::User;
use lectern_domain::{AssignmentId, CourseId, LessonId, SubmissionId, UserId};
use lectern_web::views::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// An assignment with everything an author set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub assignment_id: AssignmentId,
    pub course_id: CourseId,
    pub lesson_id: Option<LessonId>,
    pub title: String,
    pub description: String,
    pub points: u32,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    pub rubric_url: Option<String>,
    pub rubric: Option<Vec<RubricCriterion>>,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
    pub late_policy: Option<LatePolicy>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    pub version: u64,
}

impl From<&Assignment> for AssignmentView {
    fn from(a: &Assignment) -> Self {
        AssignmentView {
            assignment_id: a.id,
            course_id: a.course_id,
            lesson_id: a.lesson_id,
            title: a.title.clone(),
            description: a.description.clone(),
            points: a.points,
            due_date: timestamp(a.due_date),
            rubric_url: a.rubric_url.clone(),
            rubric: a.rubric.clone(),
            allowed_attempts: a.allowed_attempts,
            late_policy: a.late_policy,
            created_at: timestamp(a.created_at),
            updated_at: timestamp(a.updated_at),
            version: a.version,
        }
    }
}

/// A student as a submission names them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SubmissionStudent)]
pub struct StudentView {
    pub first_name: String,
    pub last_name: String,
    pub username: String,
}

impl From<&User> for StudentView {
    fn from(u: &User) -> Self {
        StudentView {
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
        }
    }
}

/// A submission (seed 002 `AssignmentDetails.submission(s)`), with attempts, lateness and the grade's
/// parts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionView {
    pub submission_id: SubmissionId,
    pub student_id: UserId,
    pub assignment_id: AssignmentId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentView>,
    pub status: SubmissionStatus,
    /// Submissions made so far.
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub assigned_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<String>,
    pub submission_content: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub file_ids: Vec<String>,
    pub late: bool,
    pub seconds_late: i64,
    /// The grade after the late deduction.
    pub grade: Option<f64>,
    /// The grade given, before the late deduction.
    pub raw_grade: Option<f64>,
    pub points_deducted: Option<f64>,
    pub feedback: Option<String>,
    pub rubric_assessment: Option<Vec<CriterionAssessment>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub graded_at: Option<String>,
    /// Increases with every change (0 before the student starts); `"<version>"` is an `If-Match` tag
    /// for grading what was read.
    pub version: u64,
}

impl SubmissionView {
    pub fn new(s: &Submission, a: &Assignment, student: Option<&User>) -> Self {
        SubmissionView {
            submission_id: s.id,
            student_id: s.student_id,
            assignment_id: s.assignment_id,
            student: student.map(StudentView::from),
            status: s.status,
            attempts: s.attempts,
            assigned_at: timestamp(s.assigned_at),
            due_date: timestamp(a.due_date),
            started_at: s.started_at.map(timestamp),
            submitted_at: s.submitted_at.map(timestamp),
            submission_content: s.content.clone(),
            file_ids: s.file_ids.iter().map(ToString::to_string).collect(),
            late: s.late,
            seconds_late: s.seconds_late,
            grade: s.grade,
            raw_grade: s.raw_grade,
            points_deducted: s.points_deducted,
            feedback: s.feedback.clone(),
            rubric_assessment: s.rubric_assessment.clone(),
            graded_at: s.graded_at.map(timestamp),
            version: s.version,
        }
    }
}

/// The course an assignment belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseRef {
    pub course_id: CourseId,
    pub title: String,
}

impl From<&Course> for CourseRef {
    fn from(c: &Course) -> Self {
        CourseRef {
            course_id: c.id,
            title: c.title.as_str().to_owned(),
        }
    }
}

/// An assignment in a list, with one student's standing in it (absent for an instructor's list
/// without `studentId`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentListItem {
    pub assignment_id: AssignmentId,
    pub course_id: CourseId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course: Option<CourseRef>,
    pub lesson_id: Option<LessonId>,
    pub title: String,
    pub description: String,
    pub points: u32,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    pub rubric_url: Option<String>,
    pub allowed_attempts: i32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SubmissionStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
}

impl AssignmentListItem {
    /// The summary with a student's submission (`with_status`: show `not_started` when they have
    /// none).
    pub fn new(
        a: &AssignmentSummary,
        course: Option<&Course>,
        submission: Option<&Submission>,
        with_status: bool,
    ) -> Self {
        AssignmentListItem {
            assignment_id: a.assignment_id,
            course_id: a.course_id,
            course: course.map(CourseRef::from),
            lesson_id: a.lesson_id,
            title: a.title.clone(),
            description: a.description.clone(),
            points: a.points,
            due_date: timestamp(a.due_date),
            rubric_url: a.rubric_url.clone(),
            allowed_attempts: a.allowed_attempts,
            created_at: timestamp(a.created_at),
            status: with_status
                .then(|| submission.map_or(SubmissionStatus::NotStarted, |s| s.status)),
            attempts: with_status.then(|| submission.map_or(0, |s| s.attempts)),
            grade: submission.and_then(|s| s.grade),
            submitted_at: submission.and_then(|s| s.submitted_at).map(timestamp),
            late: submission.map(|s| s.late),
        }
    }
}

/// One entry of a course's grade log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradeChangeView {
    pub change_id: uuid::Uuid,
    pub assignment_id: AssignmentId,
    pub submission_id: SubmissionId,
    pub student_id: UserId,
    pub graded_by: UserId,
    /// Absent for the first grade.
    pub old_grade: Option<f64>,
    pub new_grade: f64,
    #[schema(value_type = String, format = DateTime)]
    pub at: String,
}

impl From<GradeChange> for GradeChangeView {
    fn from(c: GradeChange) -> Self {
        GradeChangeView {
            change_id: c.id,
            assignment_id: c.assignment_id,
            submission_id: c.submission_id,
            student_id: c.student_id,
            graded_by: c.graded_by,
            old_grade: c.old_grade,
            new_grade: c.new_grade,
            at: timestamp(c.at),
        }
    }
}
