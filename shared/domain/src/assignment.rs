//! Assignments, submissions and grades. Contract: seed 002 `AssignmentDetails`, `AssignmentSubmission`,
//! `SubmissionStatus`, `POST /api/assignments/submit`; issue "Assignments, submissions, grading".
//!
//! A submission moves `not_started → in_progress → submitted → graded`; a student may submit again
//! while attempts remain (the new submission waits for grading again), and a graded submission may be
//! graded again (a regrade). Lateness is recorded when submitting; the late policy's deduction is
//! applied when grading, so the instructor sees the raw grade, the deduction and the result.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::course::HttpsUrl;
use crate::ids::{AssignmentId, CourseId, FileId, LessonId, SubmissionId, TenantId, UserId};
use crate::validation::{FieldErrors, Invalid};

/// The most points an assignment may be worth.
pub const MAX_POINTS: u32 = 1000;
/// The most files one submission may carry.
pub const MAX_FILES: usize = 10;
/// The most assignments one course holds: the course page reads every assignment's summary, so
/// this bounds what one page reads.
pub const MAX_ASSIGNMENTS_PER_COURSE: u32 = 100;
/// The longest submission text (characters).
pub const MAX_CONTENT_CHARS: usize = 50_000;

/// Seed 002 `SubmissionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    NotStarted,
    InProgress,
    Submitted,
    Graded,
}

impl SubmissionStatus {
    pub const ALL: [SubmissionStatus; 4] = [
        SubmissionStatus::NotStarted,
        SubmissionStatus::InProgress,
        SubmissionStatus::Submitted,
        SubmissionStatus::Graded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::NotStarted => "not_started",
            SubmissionStatus::InProgress => "in_progress",
            SubmissionStatus::Submitted => "submitted",
            SubmissionStatus::Graded => "graded",
        }
    }

    /// Whether the lifecycle allows moving from `self` to `to`: start once, submit (again, while
    /// attempts remain: that is checked apart), grade what was submitted, grade again.
    pub fn may_become(self, to: SubmissionStatus) -> bool {
        use SubmissionStatus::*;
        matches!(
            (self, to),
            (NotStarted, InProgress)
                | (NotStarted | InProgress | Submitted | Graded, Submitted)
                | (Submitted | Graded, Graded)
        )
    }
}

/// A move the lifecycle forbids (409 at the edge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a submission that is {} cannot become {}", .from.as_str(), .to.as_str())]
pub struct IllegalTransition {
    pub from: SubmissionStatus,
    pub to: SubmissionStatus,
}

/// How late work loses points: a percentage of the grade per started day late, never below
/// `floorPercent` of the grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LatePolicy {
    /// 0–100.
    pub deduction_percent_per_day: u8,
    /// 0–100: the share of the grade late work always keeps.
    pub floor_percent: u8,
}

impl LatePolicy {
    pub fn parse(per_day: i64, floor: i64) -> Result<Self, Invalid> {
        let percent = |v: i64| u8::try_from(v).ok().filter(|v| *v <= 100);
        match (percent(per_day), percent(floor)) {
            (Some(deduction_percent_per_day), Some(floor_percent)) => Ok(LatePolicy {
                deduction_percent_per_day,
                floor_percent,
            }),
            _ => Err(Invalid::new("percentages must be between 0 and 100")),
        }
    }

    /// The points deducted from `grade` for work `seconds_late` late: per started day, capped so
    /// the result keeps `floorPercent` of the grade. Never negative, never more than the grade.
    pub fn deduction(&self, grade: f64, seconds_late: i64) -> f64 {
        if seconds_late <= 0 || grade <= 0.0 {
            return 0.0;
        }
        let days = (seconds_late as u64).div_ceil(86_400);
        let percent = (u64::from(self.deduction_percent_per_day) * days)
            .min(100 - u64::from(self.floor_percent.min(100)));
        round2(grade * percent as f64 / 100.0).clamp(0.0, grade)
    }
}

/// Two decimals, as grades are shown.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// What a student's graded work adds up to: the points earned over the points possible of the graded
/// assignments. One definition for the grade report (per course and overall) and the profile's
/// `averageGrade`, so the two never disagree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GradeTally {
    /// Points earned (after late deductions).
    pub earned: f64,
    /// Points possible of the graded assignments.
    pub possible: u32,
    /// Graded assignments.
    pub graded: u32,
    /// Assignments handed in (submitted or graded).
    pub submitted: u32,
}

impl GradeTally {
    /// Counts one assignment worth `points` with the student's submission to it, if any.
    pub fn add(&mut self, points: u32, submission: Option<&Submission>) {
        let Some(s) = submission else { return };
        if matches!(
            s.status,
            SubmissionStatus::Submitted | SubmissionStatus::Graded
        ) {
            self.submitted += 1;
        }
        if let Some(grade) = s.grade {
            self.earned += grade;
            self.possible += points;
            self.graded += 1;
        }
    }

    pub fn merge(&mut self, other: GradeTally) {
        self.earned += other.earned;
        self.possible += other.possible;
        self.graded += other.graded;
        self.submitted += other.submitted;
    }

    /// Percent of the possible points earned, one decimal: each graded assignment weighs its points
    /// (as gradebooks total them). `None` when nothing is graded.
    pub fn percent(&self) -> Option<f64> {
        (self.possible > 0)
            .then(|| (self.earned * 1000.0 / f64::from(self.possible)).round() / 10.0)
    }
}

/// One level of a rubric criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RubricRating {
    pub description: String,
    pub points: u32,
}

/// A rubric criterion: its most points and the ratings it can be given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RubricCriterion {
    /// Unique within the rubric; a rubric assessment names criteria by it.
    pub criterion_id: String,
    pub description: String,
    pub points: u32,
    pub ratings: Vec<RubricRating>,
}

/// What a client sends to create or replace an assignment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// 0–1000.
    pub points: i64,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    pub lesson_id: Option<LessonId>,
    /// An https URL; or give an inline `rubric` (not both).
    pub rubric_url: Option<String>,
    /// Criteria whose points add up to `points`.
    pub rubric: Option<Vec<RubricCriterion>>,
    /// Default 1; -1 = unlimited.
    pub allowed_attempts: Option<i64>,
    pub late_policy: Option<LatePolicyInput>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatePolicyInput {
    pub deduction_percent_per_day: i64,
    pub floor_percent: i64,
}

/// An assignment as stored (its own partition; a summary lives in the course's collection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub id: AssignmentId,
    pub tenant: TenantId,
    pub course_id: CourseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_id: Option<LessonId>,
    pub title: String,
    pub description: String,
    pub points: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub due_date: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<Vec<RubricCriterion>>,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_policy: Option<LatePolicy>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: u64,
}

/// What the course's collection keeps of an assignment (seed 002 `CourseDetails.assignments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentSummary {
    pub assignment_id: AssignmentId,
    pub course_id: CourseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_id: Option<LessonId>,
    pub title: String,
    pub description: String,
    pub points: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub due_date: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_url: Option<String>,
    pub allowed_attempts: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

fn parse_time(value: &str) -> Result<OffsetDateTime, Invalid> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Invalid::new("must be an RFC 3339 date-time"))
}

impl Assignment {
    /// Validates `input` (every field at once) into the fields of an assignment. `lesson_exists`
    /// says whether a lesson id names a lesson of the course.
    pub fn build(
        tenant: TenantId,
        course: CourseId,
        input: &AssignmentInput,
        lesson_exists: impl Fn(LessonId) -> bool,
        now: OffsetDateTime,
    ) -> Result<Assignment, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = input.title.trim();
        if !(1..=200).contains(&title.chars().count()) || title.chars().any(char::is_control) {
            errors.add("title", "must be 1-200 characters");
        }
        if input.description.chars().count() > 10_000 {
            errors.add("description", "must be at most 10000 characters");
        }
        let points = u32::try_from(input.points)
            .ok()
            .filter(|p| *p <= MAX_POINTS);
        if points.is_none() {
            errors.add("points", format!("must be between 0 and {MAX_POINTS}"));
        }
        let due_date = errors.check("dueDate", parse_time(&input.due_date));
        let lesson_id = match &input.lesson_id {
            None => None,
            Some(id) if lesson_exists(*id) => Some(*id),
            Some(_) => {
                errors.add("lessonId", "names no lesson of this course");
                None
            }
        };
        let rubric_url = match &input.rubric_url {
            None => None,
            Some(url) => errors
                .check("rubricUrl", HttpsUrl::parse(url))
                .map(|u| u.as_str().to_owned()),
        };
        if input.rubric_url.is_some() && input.rubric.is_some() {
            errors.add(
                "rubric",
                "give either rubricUrl or an inline rubric, not both",
            );
        }
        if let (Some(rubric), Some(points)) = (&input.rubric, points) {
            check_rubric(rubric, points, &mut errors);
        }
        let allowed_attempts = match input.allowed_attempts.unwrap_or(1) {
            -1 => -1,
            n if (1..=100).contains(&n) => n as i32,
            _ => {
                errors.add("allowedAttempts", "must be 1-100, or -1 for unlimited");
                1
            }
        };
        let late_policy = input.late_policy.as_ref().and_then(|p| {
            errors.check(
                "latePolicy",
                LatePolicy::parse(p.deduction_percent_per_day, p.floor_percent),
            )
        });
        let (Some(points), Some(due_date)) = (points, due_date) else {
            return Err(errors);
        };
        errors.into_result()?;
        Ok(Assignment {
            id: AssignmentId::new(),
            tenant,
            course_id: course,
            lesson_id,
            title: title.to_owned(),
            description: input.description.clone(),
            points,
            due_date,
            rubric_url,
            rubric: input.rubric.clone(),
            allowed_attempts,
            late_policy,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// This assignment with the fields of `input` (same id, course, creation; next version).
    pub fn replaced_by(
        &self,
        input: &AssignmentInput,
        lesson_exists: impl Fn(LessonId) -> bool,
        now: OffsetDateTime,
    ) -> Result<Assignment, FieldErrors> {
        let built = Assignment::build(
            self.tenant.clone(),
            self.course_id,
            input,
            lesson_exists,
            now,
        )?;
        Ok(Assignment {
            id: self.id,
            created_at: self.created_at,
            version: self.version + 1,
            ..built
        })
    }

    pub fn summary(&self) -> AssignmentSummary {
        AssignmentSummary {
            assignment_id: self.id,
            course_id: self.course_id,
            lesson_id: self.lesson_id,
            title: self.title.clone(),
            description: self.description.clone(),
            points: self.points,
            due_date: self.due_date,
            rubric_url: self.rubric_url.clone(),
            allowed_attempts: self.allowed_attempts,
            created_at: self.created_at,
        }
    }

    /// Whether a student who has submitted `attempts` times may submit again.
    pub fn allows_another_attempt(&self, attempts: u32) -> bool {
        self.allowed_attempts < 0 || i64::from(attempts) < i64::from(self.allowed_attempts)
    }

    /// Seconds after the due date (0 when on time).
    pub fn seconds_late(&self, at: OffsetDateTime) -> i64 {
        (at - self.due_date).whole_seconds().max(0)
    }
}

fn check_rubric(rubric: &[RubricCriterion], points: u32, errors: &mut FieldErrors) {
    if rubric.is_empty() || rubric.len() > 50 {
        errors.add("rubric", "must have 1-50 criteria");
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in rubric.iter().enumerate() {
        if c.criterion_id.trim().is_empty() || !seen.insert(c.criterion_id.as_str()) {
            errors.add(
                &format!("rubric[{i}].criterionId"),
                "must be present and unique",
            );
        }
        if c.ratings.is_empty() || c.ratings.iter().any(|r| r.points > c.points) {
            errors.add(
                &format!("rubric[{i}].ratings"),
                "must have at least one rating, none worth more than the criterion",
            );
        }
    }
    let total: u64 = rubric.iter().map(|c| u64::from(c.points)).sum();
    if total != u64::from(points) {
        errors.add(
            "rubric",
            format!("criteria add up to {total} points, but the assignment is worth {points}"),
        );
    }
}

/// Points given per rubric criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CriterionAssessment {
    pub criterion_id: String,
    pub points: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// A student's submission to an assignment, with its grade once graded. One per student and
/// assignment; submitting again replaces the work and counts an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: SubmissionId,
    pub assignment_id: AssignmentId,
    pub course_id: CourseId,
    pub student_id: UserId,
    pub status: SubmissionStatus,
    /// Submissions made so far.
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub assigned_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub file_ids: Vec<FileId>,
    #[serde(default)]
    pub late: bool,
    #[serde(default)]
    pub seconds_late: i64,
    /// The grade given, before any late deduction.
    #[serde(default)]
    pub raw_grade: Option<f64>,
    #[serde(default)]
    pub points_deducted: Option<f64>,
    /// `rawGrade - pointsDeducted`.
    #[serde(default)]
    pub grade: Option<f64>,
    #[serde(default)]
    pub feedback: Option<String>,
    #[serde(default)]
    pub rubric_assessment: Option<Vec<CriterionAssessment>>,
    #[serde(default)]
    pub graded_by: Option<UserId>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub graded_at: Option<OffsetDateTime>,
    pub version: u64,
}

/// Why a grade is refused (400 at the edge, naming the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradeRefusal {
    #[error("the grade has invalid fields")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
}

/// What an instructor gives: a grade, or a rubric assessment that sums to it.
#[derive(Debug, Clone)]
pub enum GradeInput {
    Points(f64),
    Rubric(Vec<CriterionAssessment>),
}

impl Submission {
    /// The submission of a student who has not started.
    pub fn not_started(
        assignment: &Assignment,
        student: UserId,
        now: OffsetDateTime,
    ) -> Submission {
        Submission {
            id: SubmissionId::of(assignment.id, student),
            assignment_id: assignment.id,
            course_id: assignment.course_id,
            student_id: student,
            status: SubmissionStatus::NotStarted,
            attempts: 0,
            assigned_at: now,
            started_at: None,
            submitted_at: None,
            content: None,
            file_ids: Vec::new(),
            late: false,
            seconds_late: 0,
            raw_grade: None,
            points_deducted: None,
            grade: None,
            feedback: None,
            rubric_assessment: None,
            graded_by: None,
            graded_at: None,
            version: 0,
        }
    }

    fn to(&self, status: SubmissionStatus) -> Result<Submission, IllegalTransition> {
        if !self.status.may_become(status) {
            return Err(IllegalTransition {
                from: self.status,
                to: status,
            });
        }
        let mut next = self.clone();
        next.status = status;
        next.version += 1;
        Ok(next)
    }

    /// Starts work: `not_started → in_progress`.
    pub fn start(&self, now: OffsetDateTime) -> Result<Submission, IllegalTransition> {
        let mut next = self.to(SubmissionStatus::InProgress)?;
        next.started_at = Some(now);
        Ok(next)
    }

    /// Submits work (the caller checked the attempts left): counts an attempt and records lateness.
    /// A resubmission waits for grading again; the previous grade is kept until then.
    pub fn submit(
        &self,
        assignment: &Assignment,
        content: Option<String>,
        files: Vec<FileId>,
        now: OffsetDateTime,
    ) -> Result<Submission, IllegalTransition> {
        let mut next = self.to(SubmissionStatus::Submitted)?;
        next.started_at = next.started_at.or(Some(now));
        next.submitted_at = Some(now);
        next.attempts += 1;
        next.content = content;
        next.file_ids = files;
        next.seconds_late = assignment.seconds_late(now);
        next.late = next.seconds_late > 0;
        Ok(next)
    }

    /// Grades (or regrades) the submission: the grade within `0..=points` (a rubric assessment
    /// covers the rubric's criteria, each within its points, and sums to the grade), then the late
    /// policy's deduction.
    pub fn grade(
        &self,
        assignment: &Assignment,
        input: GradeInput,
        feedback: Option<String>,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<Submission, GradeRefusal> {
        let mut errors = FieldErrors::new();
        let (raw, assessment) = match input {
            GradeInput::Points(points) => (points, None),
            GradeInput::Rubric(assessment) => {
                match &assignment.rubric {
                    None => errors.add("rubricAssessment", "the assignment has no inline rubric"),
                    Some(rubric) => {
                        for (i, a) in assessment.iter().enumerate() {
                            match rubric.iter().find(|c| c.criterion_id == a.criterion_id) {
                                None => errors.add(
                                    &format!("rubricAssessment[{i}].criterionId"),
                                    "names no criterion of the rubric",
                                ),
                                Some(c) if !(0.0..=f64::from(c.points)).contains(&a.points) => {
                                    errors.add(
                                        &format!("rubricAssessment[{i}].points"),
                                        format!("must be between 0 and {}", c.points),
                                    )
                                }
                                Some(_) => {}
                            }
                        }
                        if rubric.iter().any(|c| {
                            assessment
                                .iter()
                                .filter(|a| a.criterion_id == c.criterion_id)
                                .count()
                                != 1
                        }) {
                            errors.add(
                                "rubricAssessment",
                                "must assess every criterion of the rubric exactly once",
                            );
                        }
                    }
                }
                (assessment.iter().map(|a| a.points).sum(), Some(assessment))
            }
        };
        if !raw.is_finite() || !(0.0..=f64::from(assignment.points)).contains(&raw) {
            errors.add(
                "grade",
                format!("must be between 0 and {}", assignment.points),
            );
        }
        if feedback
            .as_ref()
            .is_some_and(|f| f.chars().count() > MAX_CONTENT_CHARS)
        {
            errors.add("feedback", "must be at most 50000 characters");
        }
        if !errors.is_empty() {
            return Err(GradeRefusal::Invalid(errors));
        }
        let mut next = self.to(SubmissionStatus::Graded)?;
        let raw = round2(raw);
        let deducted = assignment
            .late_policy
            .map_or(0.0, |p| p.deduction(raw, self.seconds_late));
        next.raw_grade = Some(raw);
        next.points_deducted = Some(deducted);
        next.grade = Some(round2(raw - deducted));
        next.feedback = feedback;
        next.rubric_assessment = assessment;
        next.graded_by = Some(by);
        next.graded_at = Some(now);
        Ok(next)
    }
}

/// One entry of a course's grade change log: every grade set or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradeChange {
    pub id: uuid::Uuid,
    pub course_id: CourseId,
    pub assignment_id: AssignmentId,
    pub submission_id: SubmissionId,
    pub student_id: UserId,
    pub graded_by: UserId,
    /// `None` for the first grade.
    pub old_grade: Option<f64>,
    pub new_grade: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl GradeChange {
    /// The log entry of grading `before` into `after`.
    pub fn between(before: &Submission, after: &Submission, by: UserId) -> GradeChange {
        GradeChange {
            id: uuid::Uuid::now_v7(),
            course_id: after.course_id,
            assignment_id: after.assignment_id,
            submission_id: after.id,
            student_id: after.student_id,
            graded_by: by,
            old_grade: before.grade,
            new_grade: after.grade.unwrap_or(0.0),
            at: after.graded_at.unwrap_or(after.assigned_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;

    fn input(points: i64) -> AssignmentInput {
        AssignmentInput {
            title: "Essay".into(),
            description: String::new(),
            points,
            due_date: "2030-01-01T00:00:00Z".into(),
            lesson_id: None,
            rubric_url: None,
            rubric: None,
            allowed_attempts: None,
            late_policy: None,
        }
    }

    fn assignment(points: i64) -> Assignment {
        Assignment::build(
            TenantId::parse("t").unwrap(),
            CourseId::new(),
            &input(points),
            |_| false,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap()
    }

    fn criterion(id: &str, points: u32) -> RubricCriterion {
        RubricCriterion {
            criterion_id: id.into(),
            description: id.into(),
            points,
            ratings: vec![RubricRating {
                description: "full".into(),
                points,
            }],
        }
    }

    #[test]
    fn an_assignment_is_checked_field_by_field() {
        let mut bad = input(1001);
        bad.allowed_attempts = Some(0);
        bad.due_date = "tomorrow".into();
        bad.rubric_url = Some("http://x".into());
        let errors = Assignment::build(
            TenantId::parse("t").unwrap(),
            CourseId::new(),
            &bad,
            |_| true,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_err();
        for field in ["points", "allowedAttempts", "dueDate", "rubricUrl"] {
            assert!(errors.fields().contains_key(field), "{field}: {errors:?}");
        }
        assert_eq!(assignment(10).allowed_attempts, 1);
    }

    #[test]
    fn a_rubric_must_add_up_to_the_points() {
        let mut i = input(10);
        i.rubric = Some(vec![criterion("a", 4), criterion("b", 5)]);
        let t = TenantId::parse("t").unwrap();
        let e = Assignment::build(
            t.clone(),
            CourseId::new(),
            &i,
            |_| true,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_err();
        assert!(e.fields()["rubric"].contains("add up to 9"));
        i.rubric = Some(vec![criterion("a", 4), criterion("b", 6)]);
        assert!(
            Assignment::build(t, CourseId::new(), &i, |_| true, OffsetDateTime::UNIX_EPOCH).is_ok()
        );
    }

    #[test]
    fn the_lifecycle_refuses_illegal_moves() {
        use SubmissionStatus::*;
        let a = assignment(10);
        let now = OffsetDateTime::UNIX_EPOCH;
        let fresh = Submission::not_started(&a, UserId::new(), now);
        let by = UserId::new();
        assert!(matches!(
            fresh.grade(&a, GradeInput::Points(5.0), None, by, now),
            Err(GradeRefusal::Illegal(_))
        ));
        let started = fresh.start(now).unwrap();
        assert_eq!(started.status, InProgress);
        assert!(started.start(now).is_err());
        let submitted = started.submit(&a, Some("x".into()), vec![], now).unwrap();
        assert_eq!((submitted.status, submitted.attempts), (Submitted, 1));
        assert!(submitted.start(now).is_err());
        let graded = submitted
            .grade(&a, GradeInput::Points(7.0), None, by, now)
            .unwrap();
        assert_eq!((graded.status, graded.grade), (Graded, Some(7.0)));
        assert!(
            graded
                .grade(&a, GradeInput::Points(8.0), None, by, now)
                .is_ok()
        );
        assert!(matches!(
            graded.grade(&a, GradeInput::Points(11.0), None, by, now),
            Err(GradeRefusal::Invalid(_))
        ));
        for from in SubmissionStatus::ALL {
            assert!(!from.may_become(NotStarted));
        }
    }

    #[test]
    fn a_tally_weighs_graded_work_by_points_and_counts_what_was_handed_in() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let (ten, thirty) = (assignment(10), assignment(30));
        let by = UserId::new();
        let submitted = |a: &Assignment| {
            Submission::not_started(a, UserId::new(), now)
                .submit(a, None, vec![], now)
                .unwrap()
        };
        let graded = |a: &Assignment, points: f64| {
            submitted(a)
                .grade(a, GradeInput::Points(points), None, by, now)
                .unwrap()
        };
        let mut tally = GradeTally::default();
        assert_eq!(tally.percent(), None);
        tally.add(10, None);
        tally.add(10, Some(&Submission::not_started(&ten, UserId::new(), now)));
        tally.add(10, Some(&submitted(&ten)));
        assert_eq!(
            (tally.submitted, tally.graded, tally.percent()),
            (1, 0, None)
        );
        // 10/10 and 15/30: 25 of 40 points, not the mean of 100% and 50%.
        let mut other = GradeTally::default();
        other.add(10, Some(&graded(&ten, 10.0)));
        other.add(30, Some(&graded(&thirty, 15.0)));
        tally.merge(other);
        assert_eq!((tally.submitted, tally.graded), (3, 2));
        assert_eq!(tally.percent(), Some(62.5));
    }

    #[test]
    fn late_work_loses_points_per_started_day_down_to_the_floor() {
        let p = LatePolicy::parse(10, 50).unwrap();
        assert_eq!(p.deduction(80.0, 0), 0.0);
        assert_eq!(p.deduction(80.0, 1), 8.0);
        assert_eq!(p.deduction(80.0, 86_400), 8.0);
        assert_eq!(p.deduction(80.0, 86_401), 16.0);
        assert_eq!(p.deduction(80.0, 86_400 * 30), 40.0);
        let mut a = assignment(100);
        a.late_policy = Some(p);
        let now = a.due_date + Duration::hours(30);
        let s = Submission::not_started(&a, UserId::new(), now)
            .submit(&a, None, vec![], now)
            .unwrap();
        assert!(s.late);
        assert_eq!(s.seconds_late, 30 * 3600);
        let g = s
            .grade(&a, GradeInput::Points(90.0), None, UserId::new(), now)
            .unwrap();
        assert_eq!(
            (g.raw_grade, g.points_deducted, g.grade),
            (Some(90.0), Some(18.0), Some(72.0))
        );
    }

    #[test]
    fn a_rubric_assessment_sums_to_the_grade_and_covers_every_criterion() {
        let mut i = input(10);
        i.rubric = Some(vec![criterion("a", 4), criterion("b", 6)]);
        let a = Assignment::build(
            TenantId::parse("t").unwrap(),
            CourseId::new(),
            &i,
            |_| true,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let s = Submission::not_started(&a, UserId::new(), now)
            .submit(&a, None, vec![], now)
            .unwrap();
        let assess = |a_pts: f64, b: Option<f64>| {
            let mut v = vec![CriterionAssessment {
                criterion_id: "a".into(),
                points: a_pts,
                comments: None,
            }];
            if let Some(b) = b {
                v.push(CriterionAssessment {
                    criterion_id: "b".into(),
                    points: b,
                    comments: None,
                });
            }
            GradeInput::Rubric(v)
        };
        let g = s
            .grade(&a, assess(3.0, Some(5.5)), None, UserId::new(), now)
            .unwrap();
        assert_eq!(g.grade, Some(8.5));
        assert!(
            s.grade(&a, assess(3.0, None), None, UserId::new(), now)
                .is_err()
        );
        assert!(
            s.grade(&a, assess(5.0, Some(1.0)), None, UserId::new(), now)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn a_deduction_never_goes_below_the_floor_nor_negative(
            per_day in 0u8..=100, floor in 0u8..=100, grade in 0.0f64..=1000.0, late in -100_000i64..10_000_000,
        ) {
            let p = LatePolicy::parse(i64::from(per_day), i64::from(floor)).unwrap();
            let d = p.deduction(grade, late);
            prop_assert!(d >= 0.0);
            prop_assert!(d <= grade);
            let kept = grade - d;
            prop_assert!(kept + 0.01 >= grade * f64::from(floor) / 100.0, "kept {kept} of {grade}, floor {floor}%");
        }

        #[test]
        fn only_lifecycle_moves_are_allowed(from in 0usize..4, to in 0usize..4) {
            let (f, t) = (SubmissionStatus::ALL[from], SubmissionStatus::ALL[to]);
            // Start once, submit from anywhere (attempts are checked apart), grade only what was
            // submitted; nothing returns to not_started or in_progress.
            let allowed = [(0, 1), (0, 2), (1, 2), (2, 2), (3, 2), (2, 3), (3, 3)];
            prop_assert_eq!(f.may_become(t), allowed.contains(&(from, to)));
        }
    }
}
