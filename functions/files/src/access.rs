//! Who may do what with a file (OWASP API #1: object-level authorization on every read and write).
//!
//! - Attach: a submission to a course the caller is enrolled in as a student; lesson content, lesson
//!   media and a course thumbnail to a course the caller teaches (or any, for admins); an avatar to
//!   oneself.
//! - Read (metadata, secure URL): the uploader, the course's instructor, the tenant's admins, and for
//!   lesson content and media the course's enrolled students. Everyone else is told the file does not
//!   exist (404), so ids cannot be probed.
//! - Delete: the uploader and admins; a file handed in with a submission, admins only.
//! - A lesson's download list: the course's instructor, admins and enrolled students; everyone else
//!   is told the lesson does not exist (404).

use std::collections::HashMap;

use lectern_domain::course::Course;
use lectern_domain::file::{FilePurpose, StoredFile};
use lectern_domain::{CourseId, UserId};
use lectern_store::enrollments::EnrollmentRepo;
use lectern_web::{ApiResult, AppState, AuthUser};

/// A file's course and the caller's enrollment in it, as far as reading it depends on them.
#[derive(Default)]
pub struct CourseContext {
    courses: HashMap<CourseId, Course>,
    enrolled: HashMap<CourseId, bool>,
}

impl CourseContext {
    /// The courses of `files` (and the caller's enrollments in them), in one batch get, and none at
    /// all when the caller's access does not depend on them.
    pub async fn load(
        state: &AppState,
        caller: &AuthUser,
        files: &[&StoredFile],
    ) -> ApiResult<CourseContext> {
        let mut courses: Vec<CourseId> = files
            .iter()
            .filter(|f| !decided_without_course(caller, f))
            .filter_map(|f| f.course_id)
            .collect();
        courses.sort();
        courses.dedup();
        Self::of_courses(state, caller, &courses).await
    }

    /// These courses and the caller's enrollments in them: one batch get per 50 courses (none for no
    /// courses).
    pub async fn of_courses(
        state: &AppState,
        caller: &AuthUser,
        courses: &[CourseId],
    ) -> ApiResult<CourseContext> {
        let mut context = CourseContext::default();
        let found = EnrollmentRepo::new(state.table.clone())
            .memberships(&caller.tenant, caller.id, courses)
            .await?;
        for membership in found {
            let id = membership.course_id;
            if let Some(course) = membership.course {
                context.courses.insert(id, course);
            }
            context
                .enrolled
                .insert(id, membership.enrollment.is_some_and(|e| e.is_active()));
        }
        Ok(context)
    }

    /// Whether the caller may read a course's lesson material (content and media): the course exists
    /// and is not being deleted, and the caller is an admin, its instructor, or actively enrolled.
    pub fn may_read_material(&self, caller: &AuthUser, course: CourseId) -> bool {
        let Some(c) = self
            .courses
            .get(&course)
            .filter(|c| c.deleting_since.is_none())
        else {
            return false;
        };
        may_manage(caller, c) || self.enrolled.get(&course).copied().unwrap_or(false)
    }
}

/// Whether the caller's access is settled by who they are alone (uploader, admin).
fn decided_without_course(caller: &AuthUser, file: &StoredFile) -> bool {
    caller.is_admin() || file.uploader_id == caller.id
}

/// Whether the caller may read the file (its metadata and a download URL).
pub fn may_read(caller: &AuthUser, file: &StoredFile, context: &CourseContext) -> bool {
    if file.tenant != caller.tenant {
        return false;
    }
    if decided_without_course(caller, file) {
        return true;
    }
    let Some(course_id) = file.course_id else {
        return false;
    };
    if context
        .courses
        .get(&course_id)
        .is_some_and(|c| c.instructor_id == caller.id)
    {
        return true;
    }
    matches!(
        file.purpose,
        FilePurpose::LessonContent | FilePurpose::LessonMedia
    ) && context.enrolled.get(&course_id).copied().unwrap_or(false)
}

/// Whether the caller may delete the file.
pub fn may_delete(caller: &AuthUser, file: &StoredFile) -> bool {
    file.tenant == caller.tenant && decided_without_course(caller, file)
}

/// Whether the caller may manage a course's files (its instructor, admins).
pub fn may_manage(caller: &AuthUser, course: &Course) -> bool {
    caller.is_admin() || caller.id == course.instructor_id
}

/// The id a purpose's objects are kept under: the course for course material, the user otherwise.
pub fn owner_of(purpose: FilePurpose, caller: UserId, course: Option<CourseId>) -> String {
    match (purpose, course) {
        (
            FilePurpose::LessonContent | FilePurpose::LessonMedia | FilePurpose::CourseThumbnail,
            Some(course),
        ) => course.to_string(),
        _ => caller.to_string(),
    }
}
