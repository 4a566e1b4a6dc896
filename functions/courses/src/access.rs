//! Who may see and manage a course. Managers (the course's instructor while they are one, admins) see
//! and change everything of it; a published course is for everyone in the tenant (and anonymous
//! callers of the default tenant); an archived course for its managers and its actively enrolled
//! students; a draft for its managers only; a course being deleted for nobody. A course the caller may
//! not see is answered 404, as if it did not exist, so drafts are not revealed. A course's quizzes
//! are for its managers and its actively enrolled students; only students take them.

use lectern_domain::CourseId;
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::user::UserRole;
use lectern_store::Actor;
use lectern_store::courses::{CoursePage, CourseRepo};
use lectern_store::enrollments::EnrollmentRepo;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser};

/// Admins, and the course's instructor while they are one: owning a course gives no power to an
/// owner made a student. (The token's role is checked here; writes check the stored role too.)
pub(crate) fn may_manage(caller: &AuthUser, course: &Course) -> bool {
    caller.is_admin() || (caller.id == course.instructor_id && caller.role == UserRole::Instructor)
}

/// The caller as the actor of a change to a course they manage ([`AuthUser::manager_of`]).
pub(crate) fn manager(caller: &AuthUser, course: &Course) -> Actor {
    caller.manager_of(course.instructor_id)
}

/// Whether the caller may see a course, as far as the course alone tells: published ones everyone
/// in the tenant (and anonymous callers of the default tenant), drafts and archived ones their
/// instructor and admins; one being deleted nobody. An archived course's enrolled students see it
/// too: [`may_see_course`] asks their enrollment.
pub(crate) fn may_see(caller: Option<&AuthUser>, course: &Course) -> bool {
    course.deleting_since.is_none()
        && (course.is_published() || caller.is_some_and(|c| may_manage(c, course)))
}

/// [`may_see`], and for an archived course its actively enrolled students as well: their enrollment
/// is read (one get) only then, so other courses' reads keep their budgets.
pub(crate) async fn may_see_course(
    state: &AppState,
    caller: Option<&AuthUser>,
    course: &Course,
) -> ApiResult<bool> {
    if may_see(caller, course) {
        return Ok(true);
    }
    let Some(caller) = caller.filter(|_| course.is_archived()) else {
        return Ok(false);
    };
    Ok(EnrollmentRepo::new(state.table.clone())
        .get(&caller.tenant, course.id, caller.id)
        .await?
        .is_some_and(|e| e.is_active()))
}

/// The tenant a course at the path is looked for in: the caller's, or the default one for anonymous
/// callers.
fn tenant_of(state: &AppState, caller: Option<&AuthUser>) -> lectern_domain::TenantId {
    caller
        .map(|c| c.tenant.clone())
        .unwrap_or_else(|| state.tenants.default_tenant().clone())
}

/// The course at the path, if the caller may see it ([`may_see_course`]). Otherwise 404.
pub(crate) async fn visible_course(
    state: &AppState,
    caller: Option<&AuthUser>,
    course_id: CourseId,
) -> ApiResult<Course> {
    let course = CourseRepo::new(state.table.clone())
        .get(&tenant_of(state, caller), course_id)
        .await?
        .ok_or_else(|| ApiError::not_found("course"))?;
    if may_see_course(state, caller, &course).await? {
        Ok(course)
    } else {
        Err(ApiError::not_found("course"))
    }
}

/// A course the caller manages (its instructor, or an admin); others get 403, or 404 for a draft
/// they cannot see.
pub(crate) async fn managed_course(
    state: &AppState,
    caller: &AuthUser,
    course_id: CourseId,
) -> ApiResult<Course> {
    let course = visible_course(state, Some(caller), course_id).await?;
    if !may_manage(caller, &course) {
        return Err(ApiError::Forbidden(
            "only the course's instructor or an admin may change it".into(),
        ));
    }
    Ok(course)
}

/// The course page, if the caller may see the course (404 otherwise, as for [`visible_course`]).
pub(crate) async fn visible_page(
    state: &AppState,
    caller: Option<&AuthUser>,
    course_id: CourseId,
) -> ApiResult<CoursePage> {
    let page = course_page(state, caller, course_id).await?;
    if may_see_course(state, caller, &page.course).await? {
        Ok(page)
    } else {
        Err(ApiError::not_found("course"))
    }
}

/// The course page in the caller's tenant, whoever may see it (404 for no course, or one being
/// deleted).
pub(crate) async fn course_page(
    state: &AppState,
    caller: Option<&AuthUser>,
    course_id: CourseId,
) -> ApiResult<CoursePage> {
    CourseRepo::new(state.table.clone())
        .page(&tenant_of(state, caller), course_id)
        .await?
        .filter(|p| p.course.deleting_since.is_none())
        .ok_or_else(|| ApiError::not_found("course"))
}

/// Lessons, quizzes and progress are for the course's members: its instructor, admins, and students
/// enrolled now. Others get 403 (they can see the course exists).
pub(crate) fn require_member(
    caller: &AuthUser,
    course: &Course,
    enrollment: Option<&Enrollment>,
) -> ApiResult<()> {
    if may_manage(caller, course) || enrollment.is_some_and(Enrollment::is_active) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the course's enrolled students, its instructor and admins may see this".into(),
        ))
    }
}

/// What the caller is to a quiz of a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuizRole {
    /// The course's instructor or an admin.
    Manager,
    /// A student enrolled (active) in the course.
    Student,
}

/// The caller's role for a quiz of `course`: its managers and its enrolled students; others get 404
/// while the course is a draft they cannot see (or is gone), else 403.
pub(crate) fn quiz_role(
    caller: &AuthUser,
    course: Option<&Course>,
    enrollment: Option<&Enrollment>,
) -> ApiResult<QuizRole> {
    let course = course
        .filter(|c| c.deleting_since.is_none())
        .ok_or_else(|| ApiError::not_found("quiz"))?;
    if may_manage(caller, course) {
        return Ok(QuizRole::Manager);
    }
    if enrollment.is_some_and(Enrollment::is_active) {
        return Ok(QuizRole::Student);
    }
    if course.is_published() {
        Err(ApiError::Forbidden(
            "only students enrolled in the course may take its quizzes".into(),
        ))
    } else {
        Err(ApiError::not_found("quiz"))
    }
}

/// Refuses a quiz's managers where only its students act (attempts).
pub(crate) fn students_only(role: QuizRole) -> ApiResult<()> {
    match role {
        QuizRole::Student => Ok(()),
        QuizRole::Manager => Err(ApiError::Forbidden(
            "only students enrolled in the course take its quizzes".into(),
        )),
    }
}
