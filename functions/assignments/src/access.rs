//! Who the caller is to a course or an assignment. Managers (the course's instructor, admins) see and
//! change everything of the course; students enrolled now see the assignments and only their own
//! work; everyone else gets 403 for a published course and 404 for one they cannot see (a draft, a
//! course being deleted, another tenant's: keys carry the tenant, so it is never found).

use lectern_domain::assignment::Assignment;
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::user::UserRole;
use lectern_domain::{AssignmentId, CourseId};
use lectern_store::assignments::{AssignmentContext, AssignmentRepo};
use lectern_store::courses::CourseRepo;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser};

/// What the caller is to a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The course's instructor or an admin.
    Manager,
    /// A student enrolled (active) in the course.
    Student,
}

/// Admins, and the course's instructor while they are one (writes check the stored role too).
pub fn may_manage(caller: &AuthUser, course: &Course) -> bool {
    caller.is_admin() || (caller.id == course.instructor_id && caller.role == UserRole::Instructor)
}

/// The caller's role in `course` (absent or being deleted: 404 as `what`).
pub fn role_in(
    caller: &AuthUser,
    course: Option<&Course>,
    enrollment: Option<&Enrollment>,
    what: &str,
) -> ApiResult<Role> {
    let course = course
        .filter(|c| c.deleting_since.is_none())
        .ok_or_else(|| ApiError::not_found(what))?;
    if may_manage(caller, course) {
        return Ok(Role::Manager);
    }
    if enrollment.is_some_and(Enrollment::is_active) {
        return Ok(Role::Student);
    }
    if course.is_published() {
        Err(ApiError::Forbidden(
            "only the course's enrolled students, its instructor and admins may see this".into(),
        ))
    } else {
        Err(ApiError::not_found(what))
    }
}

/// Refuses a student where only managers may act.
pub fn managers_only(role: Role) -> ApiResult<()> {
    match role {
        Role::Manager => Ok(()),
        Role::Student => Err(ApiError::Forbidden(
            "only the course's instructor or an admin may do this".into(),
        )),
    }
}

/// Refuses a manager where only students act (they have no submission of their own).
pub fn students_only(role: Role) -> ApiResult<()> {
    match role {
        Role::Student => Ok(()),
        Role::Manager => Err(ApiError::Forbidden(
            "only students enrolled in the course work on its assignments".into(),
        )),
    }
}

/// The assignment at the path with the caller's context (course, enrollment, own submission,
/// lesson) and role: one get and one batch get.
pub async fn assignment_for(
    state: &AppState,
    caller: &AuthUser,
    id: AssignmentId,
) -> ApiResult<(Assignment, AssignmentContext, Role)> {
    let repo = AssignmentRepo::new(state.table.clone());
    let assignment = repo
        .get(&caller.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let ctx = repo.context(&assignment, caller.id).await?;
    let role = role_in(
        caller,
        ctx.course.as_ref(),
        ctx.enrollment.as_ref(),
        "assignment",
    )?;
    Ok((assignment, ctx, role))
}

/// A course the caller manages (one get); 403 for others who can see it, else 404.
pub async fn managed_course(
    state: &AppState,
    caller: &AuthUser,
    id: CourseId,
) -> ApiResult<Course> {
    let course = CourseRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?;
    managers_only(role_in(caller, course.as_ref(), None, "course")?)?;
    course.ok_or_else(|| ApiError::not_found("course"))
}
