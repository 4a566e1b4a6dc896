//! Profiles: reading one (your own, or anyone's as an admin), updating your own profile and learning
//! preferences, and checking whether a username is free.

use axum::extract::State;
use lectern_auth::password::HashPool;
use lectern_domain::assignment::GradeTally;
use lectern_domain::user::{
    Email, Password, PersonName, StudyTime, User, Username, WeeklyGoal, now,
};
use lectern_domain::{FieldErrors, UserId};
use lectern_store::assignments::AssignmentRepo;
use lectern_store::sessions::SessionRepo;
use lectern_store::users::UserRepo;
use lectern_web::views::UserView;
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, IfMatch, Json, MaybeAuthUser, Path, Tagged,
    Tenant,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{check_target, own_user};
use crate::views::{
    PreferencesUpdated, PreferencesView, ProfileStatistics, ProfileUpdated, ProfileView,
    UsernameAvailability,
};

const TAG: &str = "profiles";

/// Seed 002 `GET /api/users/[userId]/profile`. Your own profile, or any profile of your tenant as an
/// admin; anyone else's is a 404, so that existence is not revealed. The statistics' grades come from
/// the same grade book as the grade report (issue §Grading: graded assignments count in the profile).
#[utoipa::path(get, path = "/api/v1/users/{userId}/profile", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user's id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: 304 while it is current")),
    responses(
        (status = 200, description = "The profile", body = ProfileView,
            headers(("ETag" = String, description = "The profile's entity tag, for `If-None-Match` and `If-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current (no body)"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such user visible to the caller", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn get_profile(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<UserId>,
) -> ApiResult<Tagged<ProfileView>> {
    if id != caller.id && !caller.is_admin() {
        return Err(ApiError::not_found("user"));
    }
    // The user rides along in the grade book's batch get: enrollments (1 query), each course's
    // assignments (1 query per course, concurrently), then the user with the submissions.
    let found = AssignmentRepo::new(state.table.clone())
        .student_grades(&caller.tenant, id, |_| true)
        .await?;
    let user = found.student.ok_or_else(|| ApiError::not_found("user"))?;
    let mut grades = GradeTally::default();
    for (assignment, submission) in found.courses.iter().flat_map(|c| &c.entries) {
        grades.add(assignment.points, submission.as_ref());
    }
    let view = UserView::from(&user);
    Ok(Tagged::new(
        user.version,
        ProfileView {
            statistics: ProfileStatistics {
                current_streak: view.current_streak,
                last_learned: view.last_learned.clone(),
                total_assignments_submitted: grades.submitted,
                average_grade: grades.percent(),
            },
            user: view,
        },
    ))
}

/// Seed 002 `PUT /api/profile/update`. Every field is optional; `role` and other fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// Seed 002 sends it; when present it must be the caller's own id.
    pub user_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub weekly_learning_goal: Option<i64>,
    /// Required with `newPassword` and with an `email` other than the current one.
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    /// The `version` you read; when sent, a profile changed since is refused with 409.
    pub version: Option<u64>,
}

/// What an update changed that sessions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Unchanged,
    /// Another email: the other sessions are signed out.
    EmailChanged,
    /// Another password: every session is signed out.
    PasswordChanged,
}

/// Applies an update request to a user, validating every field. The credentials (a new password, a
/// new email) need the current password, checked the same way for both. Returns the new user and what
/// changed of its credentials.
async fn apply_update(
    passwords: &HashPool,
    user: &User,
    body: &UpdateProfileRequest,
) -> ApiResult<(User, Credentials)> {
    let mut errors = FieldErrors::new();
    let mut next = user.clone();
    if let Some(v) = &body.first_name {
        next.first_name = errors
            .check("firstName", PersonName::parse(v))
            .unwrap_or(next.first_name);
    }
    if let Some(v) = &body.last_name {
        next.last_name = errors
            .check("lastName", PersonName::parse(v))
            .unwrap_or(next.last_name);
    }
    if let Some(v) = &body.email {
        next.email = errors.check("email", Email::parse(v)).unwrap_or(next.email);
    }
    if let Some(v) = &body.username {
        next.username = errors
            .check("username", Username::parse(v))
            .unwrap_or(next.username);
    }
    if let Some(v) = body.weekly_learning_goal {
        next.weekly_learning_goal = errors
            .check("weeklyLearningGoal", WeeklyGoal::parse(v))
            .unwrap_or(next.weekly_learning_goal);
    }
    let new_password = match &body.new_password {
        None => None,
        Some(v) => errors.check("newPassword", Password::parse(v)),
    };
    let email_changed = next.email != user.email;
    if body.current_password.is_none() {
        if body.new_password.is_some() {
            errors.add("currentPassword", "is required to set a new password");
        } else if email_changed {
            errors.add("currentPassword", "is required to change the email");
        }
    }
    errors.into_result()?;
    if (new_password.is_some() || email_changed)
        && let Some(current) = &body.current_password
        && !passwords.verify(current, &user.password_hash).await?
    {
        return Err(ApiError::invalid_field("currentPassword", "is incorrect"));
    }
    let credentials = match new_password {
        Some(new_password) => {
            next.password_hash = passwords.hash(&new_password).await?;
            Credentials::PasswordChanged
        }
        None if email_changed => Credentials::EmailChanged,
        None => Credentials::Unchanged,
    };
    Ok((next, credentials))
}

/// Seed 002 `PUT /api/profile/update`: the caller's own profile. Changing the password or the email
/// needs `currentPassword`. A new password signs out every session (the refresh tokens stop working);
/// a new email signs out every session but the caller's. Access tokens expire on their own.
#[utoipa::path(put, path = "/api/v1/profile", tag = TAG,
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The profile's `ETag` as read: a profile changed since → 412")),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "Updated", body = ProfileUpdated,
            headers(("ETag" = String, description = "The profile's new entity tag"))),
        (status = 400, description = "Invalid fields; `currentPassword` missing (with `newPassword` or a new `email`) or wrong", body = ErrorBody),
        (status = 403, description = "`userId` names someone else", body = ErrorBody),
        (status = 409, description = "Email or username taken, or a stale version", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the profile is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    Json(body): Json<UpdateProfileRequest>,
) -> ApiResult<Tagged<ProfileUpdated>> {
    let user = own_user(&state, &caller).await?;
    check_target(&user, body.user_id.as_deref(), body.version)?;
    if_match.check(user.version)?;
    let (mut next, credentials) = apply_update(&state.passwords, &user, &body).await?;
    if next != user {
        next.version = user.version + 1;
        next.updated_at = now();
        let sessions = SessionRepo::new(state.table.clone());
        let revocations = match credentials {
            Credentials::PasswordChanged => {
                sessions
                    .revoke_all_actions(&user.tenant, user.id, now())
                    .await?
            }
            Credentials::EmailChanged => {
                sessions
                    .revoke_others_actions(&user.tenant, user.id, caller.session, now())
                    .await?
            }
            Credentials::Unchanged => Vec::new(),
        };
        UserRepo::new(state.table.clone())
            .update(&caller.member(), &user, &next, revocations)
            .await
            .map_err(|e| if_match.lost_race(e))?;
    }
    Ok(Tagged::new(
        next.version,
        ProfileUpdated {
            message: "Profile updated successfully".into(),
            user: UserView::from(&next),
        },
    ))
}

/// Seed 002 `PUT /api/profile/preferences`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesRequest {
    /// When present, must be the caller's own id.
    pub user_id: Option<String>,
    pub notification_preference: Option<bool>,
    pub preferred_study_time: Option<StudyTime>,
    pub weekly_learning_goal: Option<i64>,
    pub version: Option<u64>,
}

/// Seed 002 `PUT /api/profile/preferences`: the caller's learning preferences.
#[utoipa::path(put, path = "/api/v1/profile/preferences", tag = TAG,
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The profile's `ETag` as read: a profile changed since → 412")),
    request_body = PreferencesRequest,
    responses(
        (status = 200, description = "Updated", body = PreferencesUpdated,
            headers(("ETag" = String, description = "The profile's new entity tag"))),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 409, description = "A stale version", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the profile is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update_preferences(
    State(state): State<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    Json(body): Json<PreferencesRequest>,
) -> ApiResult<Tagged<PreferencesUpdated>> {
    let user = own_user(&state, &caller).await?;
    check_target(&user, body.user_id.as_deref(), body.version)?;
    if_match.check(user.version)?;
    let mut next = user.clone();
    if let Some(goal) = body.weekly_learning_goal {
        next.weekly_learning_goal = WeeklyGoal::parse(goal)
            .map_err(|e| ApiError::invalid_field("weeklyLearningGoal", e.0))?;
    }
    if let Some(v) = body.notification_preference {
        next.notification_preference = v;
    }
    if let Some(v) = body.preferred_study_time {
        next.preferred_study_time = Some(v);
    }
    if next != user {
        next.version = user.version + 1;
        next.updated_at = now();
        UserRepo::new(state.table.clone())
            .update(&caller.member(), &user, &next, Vec::new())
            .await
            .map_err(|e| if_match.lost_race(e))?;
    }
    Ok(Tagged::new(
        next.version,
        PreferencesUpdated {
            message: "Preferences updated successfully".into(),
            user: PreferencesView {
                id: next.id,
                notification_preference: next.notification_preference,
                preferred_study_time: next.preferred_study_time,
                weekly_learning_goal: next.weekly_learning_goal.minutes(),
                version: next.version,
            },
        },
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckUsernameRequest {
    pub username: String,
}

/// Seed 002 `POST /api/profile/check-username`. Anonymous callers (a registration form) ask about
/// their tenant (`x-tenant-id` or the default); a signed-in caller about theirs, and their own username
/// counts as available to them.
#[utoipa::path(post, path = "/api/v1/profile/check-username", tag = TAG,
    security((), ("bearer" = [])),
    params(("x-tenant-id" = Option<String>, Header, description = "Tenant of an anonymous caller")),
    request_body = CheckUsernameRequest,
    responses(
        (status = 200, description = "Whether the username is free", body = UsernameAvailability),
        (status = 400, description = "Not a valid username (the rules are in the message)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn check_username(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Tenant(anonymous_tenant): Tenant,
    Json(body): Json<CheckUsernameRequest>,
) -> ApiResult<Json<UsernameAvailability>> {
    let username =
        Username::parse(&body.username).map_err(|e| ApiError::invalid_field("username", e.0))?;
    let tenant = caller
        .as_ref()
        .map(|c| c.tenant.clone())
        .unwrap_or(anonymous_tenant);
    let repo = UserRepo::new(state.table.clone());
    let holder = repo.username_holder(&tenant, &username).await?;
    let available = match holder {
        None => true,
        Some(holder) => caller.is_some_and(|c| c.id == holder),
    };
    Ok(Json(UsernameAvailability { available }))
}
