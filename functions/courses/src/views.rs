//! Response shapes more than one resource shows. Field names are camelCase, as seed 002; timestamps
//! RFC 3339 with milliseconds.

use lectern_domain::course::{Course, CourseCategory, CourseStatus, DifficultyLevel};
use lectern_domain::enrollment::{Enrollment, EnrollmentStatus, Progress};
use lectern_domain::lesson::{Lesson, LessonContent};
use lectern_domain::rating::Rating;
use lectern_domain::user::User;
use lectern_domain::{CourseId, EnrollmentId, LessonId, RatingId, UserId};
use lectern_store::courses::CoursePage;
use lectern_web::views::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The instructor as a course shows them (seed 002 `instructor`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstructorView {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
}

impl From<&User> for InstructorView {
    fn from(u: &User) -> Self {
        InstructorView {
            id: u.id,
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
        }
    }
}

/// A course (seed 002 `CourseDetails`, the course's own fields).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseView {
    pub course_id: CourseId,
    pub title: String,
    pub description: String,
    pub thumbnail_url: Option<String>,
    pub category: CourseCategory,
    pub difficulty_level: DifficultyLevel,
    /// Minor units (cents); 0 = free.
    pub price: u64,
    /// ISO 4217.
    pub currency: String,
    pub status: CourseStatus,
    pub instructor: Option<InstructorView>,
    pub average_rating: f64,
    pub total_lessons: u32,
    pub total_enrollments: u32,
    pub total_ratings: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<String>,
    /// Send it back as `version` to update only what you read.
    pub version: u64,
}

impl CourseView {
    pub(crate) fn new(course: &Course, instructor: Option<InstructorView>) -> Self {
        CourseView {
            course_id: course.id,
            title: course.title.as_str().to_owned(),
            description: course.description.as_str().to_owned(),
            thumbnail_url: course.thumbnail_url.as_ref().map(|u| u.as_str().to_owned()),
            category: course.category,
            difficulty_level: course.difficulty_level,
            price: course.price.amount,
            currency: course.price.currency.to_string(),
            status: course.status,
            instructor,
            average_rating: course.average_rating(),
            total_lessons: course.total_lessons,
            total_enrollments: course.total_enrollments,
            total_ratings: course.total_ratings,
            created_at: timestamp(course.created_at),
            updated_at: timestamp(course.updated_at),
            published_at: course.published_at.map(timestamp),
            version: course.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkedCourse {
    pub course_id: CourseId,
    pub title: String,
    pub category: CourseCategory,
    pub difficulty_level: DifficultyLevel,
}

impl LinkedCourse {
    pub(crate) fn new(c: &Course) -> Self {
        LinkedCourse {
            course_id: c.id,
            title: c.title.as_str().to_owned(),
            category: c.category,
            difficulty_level: c.difficulty_level,
        }
    }
}

/// Seed 002 `CourseDetails.prerequisites[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrerequisiteView {
    /// The link's id (`{courseId}:{prerequisiteId}`).
    pub id: String,
    pub prerequisite_id: CourseId,
    pub prerequisite: LinkedCourse,
}

/// Seed 002 `CourseDetails.requiredBy[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequiredByView {
    pub id: String,
    pub course_id: CourseId,
    pub course: LinkedCourse,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewerView {
    pub first_name: String,
    pub last_name: String,
}

/// Seed 002 `CourseDetails.ratings[]` (the latest ten; all of them at `/ratings`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingView {
    pub rating_id: RatingId,
    pub rating: u8,
    pub review: Option<String>,
    pub student: ReviewerView,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

impl RatingView {
    pub(crate) fn new(r: &Rating) -> Self {
        RatingView {
            rating_id: r.id,
            rating: r.rating,
            review: r.review.clone(),
            student: ReviewerView {
                first_name: r.student_first_name.clone(),
                last_name: r.student_last_name.clone(),
            },
            created_at: timestamp(r.created_at),
            updated_at: timestamp(r.updated_at),
        }
    }
}

/// A student's enrollment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentView {
    pub enrollment_id: EnrollmentId,
    pub course_id: CourseId,
    pub student_id: UserId,
    pub status: EnrollmentStatus,
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity: Option<String>,
    pub progress: Progress,
}

impl EnrollmentView {
    pub(crate) fn new(e: &Enrollment, page: &CoursePage) -> Self {
        EnrollmentView {
            enrollment_id: e.id,
            course_id: e.course_id,
            student_id: e.student_id,
            status: e.status,
            enrolled_at: timestamp(e.enrolled_at),
            completed_at: e.completed_at.map(timestamp),
            last_activity: e.last_activity.map(timestamp),
            progress: e.progress(&page.lessons, &page.quiz_ids()),
        }
    }
}

/// A lesson (seed 002 `CourseDetails.lessons`); `content` only where one lesson is read.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonView {
    pub lesson_id: LessonId,
    pub course_id: CourseId,
    pub title: String,
    pub description: String,
    /// 1-based; unique and dense within the course.
    pub order: u32,
    /// Minutes.
    pub estimated_time: u32,
    /// Bytes of markdown content.
    pub content_length: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    pub version: u64,
}

impl LessonView {
    pub(crate) fn new(lesson: &Lesson, order: u32, content: Option<&LessonContent>) -> Self {
        LessonView {
            lesson_id: lesson.id,
            course_id: lesson.course_id,
            title: lesson.title.as_str().to_owned(),
            description: lesson.description.clone(),
            order,
            estimated_time: lesson.estimated_time,
            content_length: lesson.content_bytes,
            content: content.map(|c| c.as_str().to_owned()),
            created_at: timestamp(lesson.created_at),
            updated_at: timestamp(lesson.updated_at),
            version: lesson.version,
        }
    }
}
