//! Who may see and do what with money. A payment or an invoice is its student's and the tenant's
//! admins'; others get 404, as for one that does not exist. Refunds: admins, and the course's
//! instructor within the refund window. Revenue: admins (the tenant's), instructors (their courses').
//! Dead letters: a tenant's admins see their tenant's, platform operators every tenant's.

use lectern_domain::payment::Payment;
use lectern_domain::user::{User, UserRole, now};
use lectern_domain::{CourseId, PaymentId, TenantId};
use lectern_store::Power;
use lectern_store::catalog::CatalogRepo;
use lectern_store::courses::CourseRepo;
use lectern_store::payments::PaymentRepo;
use lectern_store::users::UserRepo;
use lectern_web::{Admin, ApiError, ApiResult, AppState, AuthUser, RequireRole};

use crate::Payments;

/// A payment the caller may see: their own, or any for an admin. Others get 404.
pub async fn visible_payment(
    state: &AppState,
    caller: &AuthUser,
    id: PaymentId,
) -> ApiResult<Payment> {
    PaymentRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .filter(|p| p.user_id == caller.id || caller.is_admin())
        .ok_or_else(|| ApiError::not_found("payment"))
}

/// The tenant-wide lists (overdue invoices, disputes) are their admins'.
pub fn require_admin(caller: &AuthUser) -> ApiResult<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this action needs the admin role".into(),
        ))
    }
}

/// Revenue is seen by instructors and admins.
pub fn may_see_revenue(caller: &AuthUser) -> ApiResult<()> {
    if caller.role == UserRole::Student {
        return Err(ApiError::Forbidden(
            "this action needs the instructor or admin role".into(),
        ));
    }
    Ok(())
}

/// Whose revenue counters the caller reads: the tenant's or one course's (admins), the one course
/// asked if it is theirs (instructors; another's is 404), or each of the instructor's courses.
pub async fn revenue_scopes(
    state: &AppState,
    caller: &AuthUser,
    course: Option<CourseId>,
) -> ApiResult<Vec<Option<CourseId>>> {
    let t = &caller.tenant;
    Ok(match (caller.is_admin(), course) {
        (true, course) => vec![course],
        (false, Some(course)) => {
            let owned = CourseRepo::new(state.table.clone())
                .get(t, course)
                .await?
                .is_some_and(|c| c.instructor_id == caller.id);
            if !owned {
                return Err(ApiError::not_found("course"));
            }
            vec![Some(course)]
        }
        (false, None) => CatalogRepo::new(state.table.clone())
            .of_instructor(t, caller.id)
            .await?
            .into_iter()
            .map(|c| Some(c.id))
            .collect(),
    })
}

/// The power a refund needs of its caller. Students refund nothing (not even courses they once
/// taught): as for any payment not theirs to refund, it is not found.
pub fn refund_power(caller: &AuthUser) -> ApiResult<Power> {
    match caller.role {
        UserRole::Admin => Ok(Power::Admin),
        UserRole::Instructor => Ok(Power::Teaching),
        UserRole::Student => Err(ApiError::not_found("payment")),
    }
}

/// Admins refund any payment; an instructor only their course's (others' are 404), and only within
/// the refund window after the payment (403).
pub async fn may_refund(
    state: &AppState,
    ctx: &Payments,
    caller: &AuthUser,
    payment: &Payment,
) -> ApiResult<()> {
    if caller.is_admin() {
        return Ok(());
    }
    let course = CourseRepo::new(state.table.clone())
        .get(&caller.tenant, payment.course_id)
        .await?;
    let owns = course.is_some_and(|c| c.instructor_id == caller.id);
    if !owns {
        return Err(ApiError::not_found("payment"));
    }
    let within = payment
        .succeeded_at
        .is_some_and(|at| now() - at <= ctx.refund_window);
    if !within {
        return Err(ApiError::Forbidden(format!(
            "instructors may refund within {} days of the payment; ask an admin",
            ctx.refund_window.whole_days()
        )));
    }
    Ok(())
}

/// Whose dead letters the caller may see: their tenant's, or (a platform operator) everyone's.
pub enum LetterScope {
    Tenant(TenantId),
    Everything,
}

impl LetterScope {
    pub fn admits(&self, tenant: Option<&TenantId>) -> bool {
        match self {
            LetterScope::Everything => true,
            LetterScope::Tenant(mine) => tenant == Some(mine),
        }
    }
}

/// An admin is an operator when the configuration lists their account (read only when it lists
/// any account of their tenant, so tenants without operators pay no store call).
pub async fn letter_scope(
    state: &AppState,
    ctx: &Payments,
    admin: &RequireRole<Admin>,
) -> ApiResult<LetterScope> {
    if ctx.operators.any_in(&admin.tenant) {
        let user = UserRepo::new(state.table.clone())
            .get(&admin.tenant, admin.id)
            .await?;
        return Ok(letter_scope_of(ctx, admin, user.as_ref()));
    }
    Ok(LetterScope::Tenant(admin.tenant.clone()))
}

/// The scope of an admin whose account was read as `user`.
pub fn letter_scope_of(
    ctx: &Payments,
    admin: &RequireRole<Admin>,
    user: Option<&User>,
) -> LetterScope {
    if user.is_some_and(|u| ctx.operators.lists(&admin.tenant, &u.email)) {
        LetterScope::Everything
    } else {
        LetterScope::Tenant(admin.tenant.clone())
    }
}
