//! Quizzes: questions and their correct answers, attempts, grading, and a student's standing. Also what
//! the course page and course progress show of them. Contract: issue "Quizzes"; seed 002
//! `CourseDetails.quizzes`, `CourseProgress.quizzes`.
//!
//! Everything here is pure: the store keeps these values, the HTTP edge parses requests into them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::ids::{AttemptId, CourseId, QuestionId, QuizId, TenantId, UserId};
use crate::validation::FieldErrors;

/// What the course page shows of a quiz, kept in the course's item collection beside the quiz itself
/// (seed 002 `CourseDetails.quizzes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuizSummary {
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

/// Which attempt's score stands for the student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoringPolicy {
    /// The best submitted attempt.
    #[default]
    KeepHighest,
    /// The most recently submitted attempt.
    KeepLatest,
}

/// The kinds of question (the wire's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    SingleChoice,
    MultipleChoice,
    TrueFalse,
    ShortAnswer,
}

/// A question's kind with its options and correct answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum QuestionKind {
    /// One option is correct (its 0-based index).
    SingleChoice {
        options: Vec<String>,
        correct_answer: u32,
    },
    /// A set of options is correct (0-based indices, ascending, distinct); all-or-nothing.
    MultipleChoice {
        options: Vec<String>,
        correct_answer: Vec<u32>,
    },
    TrueFalse {
        correct_answer: bool,
    },
    /// Matches exactly after trimming, ignoring case.
    ShortAnswer {
        correct_answer: String,
    },
}

/// One question of a quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    pub question_id: QuestionId,
    pub prompt: String,
    pub points: u32,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

impl Question {
    pub fn question_type(&self) -> QuestionType {
        match self.kind {
            QuestionKind::SingleChoice { .. } => QuestionType::SingleChoice,
            QuestionKind::MultipleChoice { .. } => QuestionType::MultipleChoice,
            QuestionKind::TrueFalse { .. } => QuestionType::TrueFalse,
            QuestionKind::ShortAnswer { .. } => QuestionType::ShortAnswer,
        }
    }

    /// The options of a choice question.
    pub fn options(&self) -> Option<&[String]> {
        match &self.kind {
            QuestionKind::SingleChoice { options, .. }
            | QuestionKind::MultipleChoice { options, .. } => Some(options),
            _ => None,
        }
    }

    /// The correct answer as the wire shows it (an index, indices, a boolean or a string).
    pub fn correct_answer(&self) -> Value {
        match &self.kind {
            QuestionKind::SingleChoice { correct_answer, .. } => Value::from(*correct_answer),
            QuestionKind::MultipleChoice { correct_answer, .. } => {
                Value::from(correct_answer.clone())
            }
            QuestionKind::TrueFalse { correct_answer } => Value::from(*correct_answer),
            QuestionKind::ShortAnswer { correct_answer } => Value::from(correct_answer.clone()),
        }
    }

    /// Parses a student's answer to this question: an option index, a list of option indices, a
    /// boolean or a string, as the question's type wants.
    pub fn parse_answer(&self, value: &Value) -> Result<GivenAnswer, String> {
        let index = |v: &Value, options: &[String]| -> Option<u32> {
            v.as_u64()
                .filter(|i| (*i as usize) < options.len())
                .map(|i| i as u32)
        };
        match &self.kind {
            QuestionKind::SingleChoice { options, .. } => index(value, options)
                .map(GivenAnswer::Index)
                .ok_or_else(|| format!("must be an option index from 0 to {}", options.len() - 1)),
            QuestionKind::MultipleChoice { options, .. } => {
                let message = || {
                    format!(
                        "must be a list of option indices from 0 to {}",
                        options.len() - 1
                    )
                };
                let list = value.as_array().ok_or_else(message)?;
                let chosen = list
                    .iter()
                    .map(|v| index(v, options))
                    .collect::<Option<BTreeSet<u32>>>()
                    .ok_or_else(message)?;
                Ok(GivenAnswer::Indices(chosen.into_iter().collect()))
            }
            QuestionKind::TrueFalse { .. } => value
                .as_bool()
                .map(GivenAnswer::Bool)
                .ok_or_else(|| "must be true or false".to_owned()),
            QuestionKind::ShortAnswer { .. } => match value.as_str() {
                Some(s) if s.chars().count() <= MAX_SHORT_ANSWER_CHARS => {
                    Ok(GivenAnswer::Text(s.to_owned()))
                }
                Some(_) => Err(format!(
                    "must be at most {MAX_SHORT_ANSWER_CHARS} characters"
                )),
                None => Err("must be a string".to_owned()),
            },
        }
    }

    /// Whether an answer is correct. Multiple choice is all-or-nothing; short answers match after
    /// trimming, ignoring case.
    pub fn is_correct(&self, answer: &GivenAnswer) -> bool {
        match (&self.kind, answer) {
            (QuestionKind::SingleChoice { correct_answer, .. }, GivenAnswer::Index(i)) => {
                i == correct_answer
            }
            (QuestionKind::MultipleChoice { correct_answer, .. }, GivenAnswer::Indices(chosen)) => {
                let chosen: BTreeSet<&u32> = chosen.iter().collect();
                let correct: BTreeSet<&u32> = correct_answer.iter().collect();
                chosen == correct
            }
            (QuestionKind::TrueFalse { correct_answer }, GivenAnswer::Bool(b)) => {
                b == correct_answer
            }
            (QuestionKind::ShortAnswer { correct_answer }, GivenAnswer::Text(text)) => {
                normalise(text) == normalise(correct_answer)
            }
            _ => false,
        }
    }
}

fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The longest short answer a student may send.
pub const MAX_SHORT_ANSWER_CHARS: usize = 1_000;

/// A student's answer to one question, parsed against the question's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum GivenAnswer {
    Index(u32),
    Indices(Vec<u32>),
    Bool(bool),
    Text(String),
}

impl GivenAnswer {
    pub fn to_json(&self) -> Value {
        match self {
            GivenAnswer::Index(i) => Value::from(*i),
            GivenAnswer::Indices(v) => Value::from(v.clone()),
            GivenAnswer::Bool(b) => Value::from(*b),
            GivenAnswer::Text(s) => Value::from(s.clone()),
        }
    }
}

/// A question as its author sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionInput {
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    pub prompt: String,
    /// Choice questions only: 2 to 10 options.
    pub options: Option<Vec<String>>,
    /// An option index (single choice), a list of indices (multiple choice), a boolean (true/false) or
    /// a string (short answer).
    pub correct_answer: Value,
    /// 1 to 100; default 1.
    pub points: Option<i64>,
}

/// A quiz as its author sends it, with its questions.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuizInput {
    pub title: String,
    pub description: Option<String>,
    /// Minutes, 1 to 600; absent = untimed.
    pub time_limit: Option<i64>,
    /// 1 to 100, or -1 for unlimited; default 1.
    pub allowed_attempts: Option<i64>,
    /// Percent needed to pass, 0 to 100.
    pub passing_score: i64,
    /// Default `keep_highest`.
    pub scoring_policy: Option<ScoringPolicy>,
    /// 1 to 100 questions.
    pub questions: Vec<QuestionInput>,
}

/// A quiz of a course, with its questions and their correct answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quiz {
    pub id: QuizId,
    pub tenant: TenantId,
    pub course_id: CourseId,
    pub title: String,
    pub description: Option<String>,
    /// Minutes; `None` = untimed.
    pub time_limit: Option<u32>,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
    pub passing_score: u8,
    pub scoring_policy: ScoringPolicy,
    pub questions: Vec<Question>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: u64,
}

const MAX_QUESTIONS: usize = 100;

/// The most quizzes one course holds: the course page reads every quiz's summary, so this bounds
/// what one page reads.
pub const MAX_QUIZZES_PER_COURSE: u32 = 100;
const MAX_OPTIONS: usize = 10;

fn check_text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Option<String> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min || len > max || value.chars().any(|c| c.is_control() && c != '\n') {
        errors.add(field, format!("must be {min}-{max} characters"));
        return None;
    }
    Some(value.to_owned())
}

fn check_range(
    errors: &mut FieldErrors,
    field: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    if range.contains(&value) {
        Some(value)
    } else {
        errors.add(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        );
        None
    }
}

fn parse_question(errors: &mut FieldErrors, at: &str, input: &QuestionInput) -> Option<Question> {
    let prompt = check_text(errors, &format!("{at}.prompt"), &input.prompt, 1, 2_000);
    let points = check_range(
        errors,
        &format!("{at}.points"),
        input.points.unwrap_or(1),
        1..=100,
    );
    let answer_field = format!("{at}.correctAnswer");
    let options_field = format!("{at}.options");
    let is_choice = matches!(
        input.question_type,
        QuestionType::SingleChoice | QuestionType::MultipleChoice
    );
    let options = match (&input.options, is_choice) {
        (Some(options), true) if (2..=MAX_OPTIONS).contains(&options.len()) => {
            let checked: Vec<Option<String>> = options
                .iter()
                .enumerate()
                .map(|(i, o)| check_text(errors, &format!("{options_field}[{i}]"), o, 1, 500))
                .collect();
            checked.into_iter().collect::<Option<Vec<String>>>()
        }
        (_, true) => {
            errors.add(&options_field, "a choice question needs 2 to 10 options");
            None
        }
        (Some(_), false) => {
            errors.add(&options_field, "only choice questions have options");
            None
        }
        (None, false) => Some(Vec::new()),
    };
    let count = input.options.as_ref().map_or(0, Vec::len);
    let index = |v: &Value| {
        v.as_u64()
            .filter(|i| (*i as usize) < count)
            .map(|i| i as u32)
    };
    let kind = match input.question_type {
        QuestionType::SingleChoice => match index(&input.correct_answer) {
            Some(i) => options.map(|options| QuestionKind::SingleChoice {
                options,
                correct_answer: i,
            }),
            None => {
                errors.add(&answer_field, "must be the index of one of the options");
                None
            }
        },
        QuestionType::MultipleChoice => {
            let indices = input
                .correct_answer
                .as_array()
                .and_then(|list| list.iter().map(index).collect::<Option<BTreeSet<u32>>>())
                .filter(|set| !set.is_empty());
            match indices {
                Some(set) => options.map(|options| QuestionKind::MultipleChoice {
                    options,
                    correct_answer: set.into_iter().collect(),
                }),
                None => {
                    errors.add(
                        &answer_field,
                        "must be a non-empty list of indices of the options",
                    );
                    None
                }
            }
        }
        QuestionType::TrueFalse => match input.correct_answer.as_bool() {
            Some(b) => Some(QuestionKind::TrueFalse { correct_answer: b }),
            None => {
                errors.add(&answer_field, "must be true or false");
                None
            }
        },
        QuestionType::ShortAnswer => match input.correct_answer.as_str() {
            Some(s) => check_text(errors, &answer_field, s, 1, 500)
                .map(|correct_answer| QuestionKind::ShortAnswer { correct_answer }),
            None => {
                errors.add(&answer_field, "must be a string");
                None
            }
        },
    };
    Some(Question {
        question_id: QuestionId::new(),
        prompt: prompt?,
        points: points? as u32,
        kind: kind?,
    })
}

impl Quiz {
    /// Checks an author's quiz; every invalid field is named by its path (`questions[2].correctAnswer`).
    pub fn create(
        tenant: TenantId,
        course_id: CourseId,
        input: &QuizInput,
        now: OffsetDateTime,
    ) -> Result<Quiz, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = check_text(&mut errors, "title", &input.title, 1, 200);
        let description = match &input.description {
            Some(d) if d.chars().count() > 5_000 => {
                errors.add("description", "must be at most 5000 characters");
                None
            }
            Some(d) => Some(Some(d.trim().to_owned()).filter(|d| !d.is_empty())),
            None => Some(None),
        };
        let time_limit = match input.time_limit {
            Some(minutes) => {
                check_range(&mut errors, "timeLimit", minutes, 1..=600).map(|m| Some(m as u32))
            }
            None => Some(None),
        };
        let allowed_attempts = match input.allowed_attempts.unwrap_or(1) {
            -1 => Some(-1),
            n if (1..=100).contains(&n) => Some(n as i32),
            _ => {
                errors.add(
                    "allowedAttempts",
                    "must be between 1 and 100, or -1 for unlimited",
                );
                None
            }
        };
        let passing_score = check_range(&mut errors, "passingScore", input.passing_score, 0..=100);
        if input.questions.is_empty() || input.questions.len() > MAX_QUESTIONS {
            errors.add("questions", "must hold 1 to 100 questions");
        }
        let questions: Vec<Option<Question>> = input
            .questions
            .iter()
            .take(MAX_QUESTIONS)
            .enumerate()
            .map(|(i, q)| parse_question(&mut errors, &format!("questions[{i}]"), q))
            .collect();
        let (
            Some(title),
            Some(description),
            Some(time_limit),
            Some(allowed_attempts),
            Some(passing_score),
            Some(questions),
        ) = (
            title,
            description,
            time_limit,
            allowed_attempts,
            passing_score,
            questions.into_iter().collect::<Option<Vec<_>>>(),
        )
        else {
            return Err(errors);
        };
        errors.into_result()?;
        Ok(Quiz {
            id: QuizId::new(),
            tenant,
            course_id,
            title,
            description,
            time_limit,
            allowed_attempts,
            passing_score: passing_score as u8,
            scoring_policy: input.scoring_policy.unwrap_or_default(),
            questions,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub fn total_points(&self) -> u32 {
        self.questions.iter().map(|q| q.points).sum()
    }

    /// What the course page shows of it.
    pub fn summary(&self) -> QuizSummary {
        QuizSummary {
            quiz_id: self.id,
            title: self.title.clone(),
            description: self.description.clone(),
            total_questions: self.questions.len() as u32,
            total_points: self.total_points(),
            time_limit: self.time_limit,
            passing_score: self.passing_score,
            allowed_attempts: self.allowed_attempts,
        }
    }

    /// Whether a student who has started `started` attempts may start another.
    pub fn allows_another_attempt(&self, started: u32) -> bool {
        self.allowed_attempts < 0 || started < self.allowed_attempts as u32
    }

    /// Parses a student's answers (question id → answer). Unknown question ids and answers of the
    /// wrong shape are named as `answers.<questionId>`. Unanswered questions are simply wrong.
    pub fn parse_answers(
        &self,
        answers: &BTreeMap<String, Value>,
    ) -> Result<BTreeMap<QuestionId, GivenAnswer>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut parsed = BTreeMap::new();
        for (id, value) in answers {
            let field = format!("answers.{id}");
            let question = QuestionId::parse(id)
                .ok()
                .and_then(|qid| self.questions.iter().find(|q| q.question_id == qid));
            match question {
                None => errors.add(&field, "names no question of this quiz"),
                Some(q) => match q.parse_answer(value) {
                    Ok(answer) => {
                        parsed.insert(q.question_id, answer);
                    }
                    Err(message) => errors.add(&field, message),
                },
            }
        }
        errors.into_result().map(|()| parsed)
    }

    /// Grades answers: each question earns its points when correct; the quiz is passed when the
    /// percentage reaches the passing score.
    pub fn grade(&self, answers: &BTreeMap<QuestionId, GivenAnswer>) -> Grade {
        let results: Vec<QuestionResult> = self
            .questions
            .iter()
            .map(|q| {
                let correct = answers.get(&q.question_id).is_some_and(|a| q.is_correct(a));
                QuestionResult {
                    question_id: q.question_id,
                    correct,
                    points_awarded: if correct { q.points } else { 0 },
                }
            })
            .collect();
        let score: u32 = results.iter().map(|r| r.points_awarded).sum();
        let max_score = self.total_points();
        Grade {
            score,
            max_score,
            percentage: percentage(score, max_score),
            // Exact, in integers: 79.96 % must not pass an 80 % quiz by rounding.
            passed: u64::from(score) * 100 >= u64::from(self.passing_score) * u64::from(max_score),
            results,
        }
    }
}

/// 0–100 with one decimal.
fn percentage(score: u32, max: u32) -> f64 {
    if max == 0 {
        return 0.0;
    }
    (f64::from(score) * 1000.0 / f64::from(max)).round() / 10.0
}

/// How one question was graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResult {
    pub question_id: QuestionId,
    pub correct: bool,
    pub points_awarded: u32,
}

/// A graded set of answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    pub score: u32,
    pub max_score: u32,
    pub percentage: f64,
    pub passed: bool,
    pub results: Vec<QuestionResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    InProgress,
    Submitted,
    /// Submitted after its deadline and grace: not graded, but it counts as an attempt.
    Expired,
}

/// One student's attempt at a quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub id: AttemptId,
    pub quiz_id: QuizId,
    pub student_id: UserId,
    /// 1 for the student's first attempt at the quiz.
    pub attempt_number: u32,
    pub status: AttemptStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// Absent (not null) until submitted: the store's "not yet submitted" condition tests absence.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub answers: BTreeMap<QuestionId, GivenAnswer>,
    #[serde(default)]
    pub score: Option<u32>,
    pub max_score: u32,
    #[serde(default)]
    pub percentage: Option<f64>,
    #[serde(default)]
    pub passed: Option<bool>,
    #[serde(default)]
    pub results: Vec<QuestionResult>,
}

/// Why an attempt cannot be submitted.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitRefusal {
    AlreadySubmitted,
    /// Past the deadline and its grace; the attempt as it is to be recorded (expired).
    TimeLimitExceeded(Box<Attempt>),
}

impl Attempt {
    /// How long after the deadline a submission is still accepted (network, clocks).
    pub const GRACE: Duration = Duration::seconds(30);

    /// A new attempt, the student's `number`th.
    pub fn start(quiz: &Quiz, student: UserId, number: u32, now: OffsetDateTime) -> Attempt {
        Attempt {
            id: AttemptId::new(),
            quiz_id: quiz.id,
            student_id: student,
            attempt_number: number,
            status: AttemptStatus::InProgress,
            started_at: now,
            deadline: quiz
                .time_limit
                .map(|minutes| now + Duration::minutes(i64::from(minutes))),
            submitted_at: None,
            answers: BTreeMap::new(),
            score: None,
            max_score: quiz.total_points(),
            percentage: None,
            passed: None,
            results: Vec::new(),
        }
    }

    /// The attempt graded with these answers, or why it cannot be.
    pub fn submit(
        &self,
        quiz: &Quiz,
        answers: BTreeMap<QuestionId, GivenAnswer>,
        now: OffsetDateTime,
    ) -> Result<Attempt, SubmitRefusal> {
        match self.status {
            AttemptStatus::Submitted => return Err(SubmitRefusal::AlreadySubmitted),
            AttemptStatus::Expired => {
                return Err(SubmitRefusal::TimeLimitExceeded(Box::new(self.clone())));
            }
            AttemptStatus::InProgress => {}
        }
        if self.deadline.is_some_and(|d| now > d + Self::GRACE) {
            let mut expired = self.clone();
            expired.status = AttemptStatus::Expired;
            return Err(SubmitRefusal::TimeLimitExceeded(Box::new(expired)));
        }
        let grade = quiz.grade(&answers);
        Ok(Attempt {
            status: AttemptStatus::Submitted,
            submitted_at: Some(now),
            answers,
            score: Some(grade.score),
            max_score: grade.max_score,
            percentage: Some(grade.percentage),
            passed: Some(grade.passed),
            results: grade.results,
            ..self.clone()
        })
    }
}

/// A student's standing in a quiz: how many attempts they started, and the score that stands under
/// the quiz's scoring policy. Kept on one item per student and quiz, so progress reads it in one go.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizStanding {
    /// Attempts started (what `allowedAttempts` limits).
    #[serde(default)]
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_score: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_percentage: Option<f64>,
    /// Whether any attempt passed.
    #[serde(default)]
    pub passed: bool,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_submitted_at: Option<OffsetDateTime>,
    /// Bumped by every recorded submission (0 before the first).
    #[serde(default)]
    pub version: u64,
}

impl QuizStanding {
    /// The standing after a submitted attempt, under the scoring policy.
    pub fn record(&self, policy: ScoringPolicy, attempt: &Attempt) -> QuizStanding {
        let (Some(score), Some(percentage), Some(submitted_at)) =
            (attempt.score, attempt.percentage, attempt.submitted_at)
        else {
            return self.clone();
        };
        let replaces = match policy {
            ScoringPolicy::KeepHighest => self.kept_score.is_none_or(|kept| score > kept),
            ScoringPolicy::KeepLatest => self.last_submitted_at.is_none_or(|t| submitted_at >= t),
        };
        let mut next = self.clone();
        if replaces {
            next.kept_score = Some(score);
            next.kept_percentage = Some(percentage);
        }
        next.passed = self.passed || attempt.passed == Some(true);
        next.last_submitted_at = Some(
            self.last_submitted_at
                .map_or(submitted_at, |t| t.max(submitted_at)),
        );
        next.version = self.version + 1;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn input(questions: Value) -> QuizInput {
        serde_json::from_value(json!({
            "title": "Ownership", "passingScore": 50, "questions": questions
        }))
        .unwrap()
    }

    fn quiz() -> Quiz {
        let questions = json!([
            {"type": "single_choice", "prompt": "2+2?", "options": ["3", "4"], "correctAnswer": 1, "points": 2},
            {"type": "multiple_choice", "prompt": "Primes?", "options": ["2", "4", "5"], "correctAnswer": [2, 0], "points": 3},
            {"type": "true_false", "prompt": "Rust is memory safe", "correctAnswer": true},
            {"type": "short_answer", "prompt": "Capital of France", "correctAnswer": "Paris", "points": 4}
        ]);
        Quiz::create(
            TenantId::parse("default").unwrap(),
            CourseId::new(),
            &input(questions),
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap()
    }

    fn answers(quiz: &Quiz, values: [Value; 4]) -> BTreeMap<QuestionId, GivenAnswer> {
        let raw = quiz
            .questions
            .iter()
            .zip(values)
            .map(|(q, v)| (q.question_id.to_string(), v))
            .collect();
        quiz.parse_answers(&raw).unwrap()
    }

    #[test]
    fn a_valid_quiz_gets_defaults_and_question_ids() {
        let q = quiz();
        assert_eq!(q.allowed_attempts, 1);
        assert_eq!(q.scoring_policy, ScoringPolicy::KeepHighest);
        assert_eq!(q.total_points(), 10);
        assert_eq!(
            q.questions[1].kind,
            QuestionKind::MultipleChoice {
                options: vec!["2".into(), "4".into(), "5".into()],
                correct_answer: vec![0, 2]
            }
        );
        let summary = q.summary();
        assert_eq!((summary.total_questions, summary.total_points), (4, 10));
    }

    #[test]
    fn invalid_fields_are_named_by_their_path() {
        let mut bad = input(json!([
            {"type": "single_choice", "prompt": "x", "options": ["a"], "correctAnswer": 0},
            {"type": "true_false", "prompt": "x", "correctAnswer": "yes", "points": 0},
            {"type": "multiple_choice", "prompt": "x", "options": ["a", "b"], "correctAnswer": [5]},
            {"type": "short_answer", "prompt": "", "options": ["a", "b"], "correctAnswer": 3}
        ]));
        bad.time_limit = Some(0);
        bad.allowed_attempts = Some(0);
        bad.passing_score = 101;
        let errors = Quiz::create(
            TenantId::parse("default").unwrap(),
            CourseId::new(),
            &bad,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.fields().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "allowedAttempts",
                "passingScore",
                "questions[0].options",
                "questions[1].correctAnswer",
                "questions[1].points",
                "questions[2].correctAnswer",
                "questions[3].correctAnswer",
                "questions[3].options",
                "questions[3].prompt",
                "timeLimit"
            ]
        );
        let empty = input(json!([]));
        let errors = Quiz::create(
            TenantId::parse("default").unwrap(),
            CourseId::new(),
            &empty,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_err();
        assert!(errors.fields().contains_key("questions"));
    }

    #[test]
    fn each_question_type_is_graded() {
        let q = quiz();
        let all = q.grade(&answers(
            &q,
            [json!(1), json!([0, 2]), json!(true), json!("  pARIS ")],
        ));
        assert_eq!((all.score, all.max_score, all.percentage), (10, 10, 100.0));
        assert!(all.passed);
        let partial = q.grade(&answers(
            &q,
            [json!(0), json!([0]), json!(true), json!("Lyon")],
        ));
        assert_eq!(partial.score, 1);
        assert_eq!(
            partial
                .results
                .iter()
                .map(|r| r.points_awarded)
                .collect::<Vec<_>>(),
            [0, 0, 1, 0]
        );
        assert_eq!(partial.percentage, 10.0);
        assert!(!partial.passed);
        assert_eq!(q.grade(&BTreeMap::new()).score, 0);
    }

    #[test]
    fn answers_of_the_wrong_shape_or_for_unknown_questions_are_refused() {
        let q = quiz();
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        raw.insert(q.questions[0].question_id.to_string(), json!("1"));
        raw.insert(q.questions[1].question_id.to_string(), json!([0, 7]));
        raw.insert(q.questions[2].question_id.to_string(), json!(1));
        raw.insert(q.questions[3].question_id.to_string(), json!(["Paris"]));
        raw.insert(QuestionId::new().to_string(), json!(true));
        raw.insert("nope".into(), json!(true));
        let errors = q.parse_answers(&raw).unwrap_err();
        assert_eq!(errors.fields().len(), 6);
    }

    #[test]
    fn passing_is_decided_in_integers() {
        let mut q = quiz();
        q.passing_score = 80;
        // 9 of 10 points: passes at 80 % and at 90 %, fails at 91 %.
        let grade = q.grade(&answers(
            &q,
            [json!(1), json!([0, 2]), json!(false), json!("Paris")],
        ));
        assert_eq!((grade.score, grade.percentage), (9, 90.0));
        assert!(grade.passed);
        q.passing_score = 91;
        assert!(
            !q.grade(&answers(
                &q,
                [json!(1), json!([0, 2]), json!(false), json!("Paris")]
            ))
            .passed
        );
    }

    #[test]
    fn attempts_expire_after_the_deadline_and_its_grace() {
        let mut q = quiz();
        q.time_limit = Some(1);
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let attempt = Attempt::start(&q, UserId::new(), 1, t0);
        assert_eq!(attempt.deadline, Some(t0 + Duration::minutes(1)));
        let in_grace = t0 + Duration::seconds(89);
        let submitted = attempt.submit(&q, BTreeMap::new(), in_grace).unwrap();
        assert_eq!(submitted.status, AttemptStatus::Submitted);
        assert_eq!(
            submitted.submit(&q, BTreeMap::new(), in_grace),
            Err(SubmitRefusal::AlreadySubmitted)
        );
        match attempt.submit(&q, BTreeMap::new(), t0 + Duration::seconds(91)) {
            Err(SubmitRefusal::TimeLimitExceeded(expired)) => {
                assert_eq!(expired.status, AttemptStatus::Expired)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_standing_follows_the_scoring_policy() {
        let q = quiz();
        let student = UserId::new();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let submit = |values, at| {
            Attempt::start(&q, student, 1, t0)
                .submit(&q, answers(&q, values), at)
                .unwrap()
        };
        let high = submit(
            [json!(1), json!([0, 2]), json!(true), json!("Paris")],
            t0 + Duration::seconds(1),
        );
        let low = submit(
            [json!(0), json!([0]), json!(true), json!("x")],
            t0 + Duration::seconds(2),
        );
        let start = QuizStanding {
            count: 2,
            ..QuizStanding::default()
        };
        let highest = start
            .record(ScoringPolicy::KeepHighest, &high)
            .record(ScoringPolicy::KeepHighest, &low);
        assert_eq!(
            (
                highest.kept_score,
                highest.passed,
                highest.version,
                highest.count
            ),
            (Some(10), true, 2, 2)
        );
        let latest = start
            .record(ScoringPolicy::KeepLatest, &high)
            .record(ScoringPolicy::KeepLatest, &low);
        assert_eq!((latest.kept_score, latest.passed), (Some(1), true));
        assert_eq!(latest.last_submitted_at, Some(t0 + Duration::seconds(2)));
        // A late-arriving earlier submission does not displace the latest.
        let reordered = start
            .record(ScoringPolicy::KeepLatest, &low)
            .record(ScoringPolicy::KeepLatest, &high);
        assert_eq!(reordered.kept_score, Some(1));
    }

    #[test]
    fn a_quiz_and_an_attempt_survive_json() {
        let q = quiz();
        let back: Quiz = serde_json::from_value(serde_json::to_value(&q).unwrap()).unwrap();
        assert_eq!(back, q);
        let a = Attempt::start(&q, UserId::new(), 1, OffsetDateTime::UNIX_EPOCH)
            .submit(
                &q,
                answers(&q, [json!(1), json!([0]), json!(true), json!("x")]),
                OffsetDateTime::UNIX_EPOCH,
            )
            .unwrap();
        let back: Attempt = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        let unsubmitted = serde_json::to_value(Attempt::start(
            &q,
            UserId::new(),
            1,
            OffsetDateTime::UNIX_EPOCH,
        ))
        .unwrap();
        assert!(unsubmitted.get("submittedAt").is_none());
    }

    fn arb_question() -> impl Strategy<Value = QuestionInput> {
        let points = 1i64..=100;
        prop_oneof![
            (2usize..=10, points.clone())
                .prop_flat_map(|(n, p)| (0..n as u64).prop_map(move |c| (n, p, json!(c)))),
            (2usize..=10, points.clone()).prop_flat_map(|(n, p)| {
                proptest::collection::btree_set(0..n as u64, 1..=n)
                    .prop_map(move |s| (n, p, json!(s.into_iter().collect::<Vec<_>>())))
            }),
            (any::<bool>(), points.clone()).prop_map(|(b, p)| (0, p, json!(b))),
            ("[a-zA-Z ]{0,8}[a-z][a-zA-Z ]{0,8}", points).prop_map(|(s, p)| (1, p, json!(s))),
        ]
        .prop_map(|(n, p, answer)| {
            let question_type = match (n, &answer) {
                (0, _) => QuestionType::TrueFalse,
                (1, _) => QuestionType::ShortAnswer,
                (_, Value::Array(_)) => QuestionType::MultipleChoice,
                _ => QuestionType::SingleChoice,
            };
            QuestionInput {
                question_type,
                prompt: "Q".into(),
                options: (n >= 2).then(|| (0..n).map(|i| format!("option {i}")).collect()),
                correct_answer: answer,
                points: Some(p),
            }
        })
    }

    proptest! {
        #[test]
        fn scores_never_exceed_the_maximum_and_correct_answers_score_everything(
            questions in proptest::collection::vec(arb_question(), 1..20),
            passing in 0i64..=100,
            noise in proptest::collection::vec(any::<u8>(), 20),
        ) {
            let input = QuizInput {
                title: "P".into(), description: None, time_limit: None, allowed_attempts: None,
                passing_score: passing, scoring_policy: None, questions,
            };
            let quiz = Quiz::create(TenantId::parse("default").unwrap(), CourseId::new(), &input, OffsetDateTime::UNIX_EPOCH).unwrap();
            // All correct answers (short answers shouted and padded) score 100 % and pass.
            let correct: BTreeMap<String, Value> = quiz.questions.iter().map(|q| {
                let v = match q.correct_answer() {
                    Value::String(s) => json!(format!("  {}  ", s.to_uppercase())),
                    v => v,
                };
                (q.question_id.to_string(), v)
            }).collect();
            let grade = quiz.grade(&quiz.parse_answers(&correct).unwrap());
            prop_assert_eq!(grade.score, grade.max_score);
            prop_assert_eq!(grade.percentage, 100.0);
            prop_assert!(grade.passed);
            // Arbitrary answers never score above the maximum.
            let some: BTreeMap<String, Value> = quiz.questions.iter().zip(&noise).map(|(q, n)| {
                let v = match q.question_type() {
                    QuestionType::SingleChoice => json!(u64::from(*n) % 2),
                    QuestionType::MultipleChoice => json!([u64::from(*n) % 2]),
                    QuestionType::TrueFalse => json!(n % 2 == 0),
                    QuestionType::ShortAnswer => json!(n.to_string()),
                };
                (q.question_id.to_string(), v)
            }).collect();
            let grade = quiz.grade(&quiz.parse_answers(&some).unwrap());
            prop_assert!(grade.score <= grade.max_score);
            prop_assert!((0.0..=100.0).contains(&grade.percentage));
        }
    }
}
