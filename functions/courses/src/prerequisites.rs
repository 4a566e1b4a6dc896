//! Prerequisites between courses. Contract: seed 002 `CourseDetails.prerequisites` / `requiredBy`;
//! issue "Courses" §Prerequisites (a cycle at any depth → 409 naming the path; self → 400).
//!
//! Only a course the caller may read can be a prerequisite (a published one, or one they manage); any
//! other is answered 404 as if it did not exist, so drafts are not revealed. Linking writes the
//! caller's own course and the prerequisite's bounded `RequiredBy` record, never the prerequisite's
//! course item, which the transaction only checks.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::CourseId;
use lectern_domain::course::{Course, RequiredBy};
use lectern_store::StoreError;
use lectern_store::courses::CourseRepo;
use lectern_web::views::Envelope;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, PathId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{managed_course, manager, may_see};
use crate::views::{LinkedCourse, PrerequisiteView};

const TAG: &str = "courses";

/// Most prerequisites one course may have.
const MAX_PREREQUISITES: usize = 20;
/// Most courses the cycle search may walk through (they are all checked in the linking transaction,
/// which holds 100 actions).
const MAX_WALK: usize = 98;
const RETRIES: usize = 5;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddPrerequisiteRequest {
    pub prerequisite_id: CourseId,
}

/// A prerequisite named in the path: a course id, answered "prerequisite not found" when malformed,
/// as when it is not a prerequisite of the course.
#[derive(Debug, Clone, Copy)]
pub struct PrerequisitePath(CourseId);

impl PathId for PrerequisitePath {
    const RESOURCE: &'static str = "prerequisite";

    fn from_path(value: &str) -> Option<Self> {
        CourseId::parse(value).ok().map(PrerequisitePath)
    }
}

/// What the walk from the new prerequisite found.
enum Walk {
    /// The walked courses; none of them leads back.
    Clear(Vec<Course>),
    /// The path from the course back to itself.
    Cycle(Vec<String>),
}

/// Walks the prerequisites of `prerequisite` (breadth first, one batch get per level) looking for
/// `course`: finding it means linking would close a cycle.
async fn walk(repo: &CourseRepo, course: &Course, prerequisite: &Course) -> ApiResult<Walk> {
    let mut walked = vec![prerequisite.clone()];
    let mut parent: HashMap<CourseId, CourseId> = HashMap::new();
    let mut level = vec![prerequisite.clone()];
    while !level.is_empty() {
        let mut next_ids = Vec::new();
        for c in &level {
            for p in &c.prerequisites {
                if *p == course.id {
                    // course → prerequisite → … → c → course
                    let titles: HashMap<CourseId, String> = walked
                        .iter()
                        .map(|w| (w.id, w.title.as_str().to_owned()))
                        .collect();
                    let mut chain = vec![c.id];
                    while let Some(up) = parent.get(chain.last().unwrap_or(&c.id)) {
                        chain.push(*up);
                    }
                    chain.reverse();
                    let mut path = vec![course.title.as_str().to_owned()];
                    path.extend(chain.iter().filter_map(|id| titles.get(id).cloned()));
                    path.push(course.title.as_str().to_owned());
                    return Ok(Walk::Cycle(path));
                }
                if !walked.iter().any(|w| w.id == *p) && !next_ids.contains(p) {
                    parent.insert(*p, c.id);
                    next_ids.push(*p);
                }
            }
        }
        if walked.len() + next_ids.len() > MAX_WALK {
            return Err(ApiError::conflict(
                "prerequisites_too_deep",
                "the chain of prerequisites behind this course is too long to check",
            ));
        }
        level = repo
            .get_many(&course.tenant, &next_ids)
            .await?
            .into_iter()
            .flatten()
            .collect();
        walked.extend(level.iter().cloned());
    }
    Ok(Walk::Clear(walked))
}

/// Makes another course a prerequisite of this one (the course's instructor or an admin).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/prerequisites", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = AddPrerequisiteRequest,
    responses(
        (status = 201, description = "Linked", body = Envelope<PrerequisiteView>),
        (status = 200, description = "Already linked", body = Envelope<PrerequisiteView>),
        (status = 400, description = "Not a course id, or the course itself (`self_prerequisite`)", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course, or no prerequisite the caller may read (another instructor's draft is not found)", body = ErrorBody),
        (status = 409, description = "It would close a cycle (`prerequisite_cycle`, the path in the message), the course has 20 prerequisites (`too_many_prerequisites`), or the prerequisite is required by 40 courses (`too_many_dependents`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn add_prerequisite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<AddPrerequisiteRequest>,
) -> ApiResult<(StatusCode, Json<Envelope<PrerequisiteView>>)> {
    let prerequisite_id = body.prerequisite_id;
    let repo = CourseRepo::new(state.table.clone());
    for _ in 0..RETRIES {
        let course = managed_course(&state, &caller, course_id).await?;
        if prerequisite_id == course.id {
            return Err(ApiError::bad_request(
                "self_prerequisite",
                "a course cannot be its own prerequisite",
            ));
        }
        let (prerequisite, required_by) = repo
            .with_required_by(&caller.tenant, prerequisite_id)
            .await?
            .filter(|(p, _)| may_see(Some(&caller), p))
            .ok_or_else(|| ApiError::not_found("prerequisite course"))?;
        let view = PrerequisiteView {
            id: format!("{}:{}", course.id, prerequisite.id),
            prerequisite_id: prerequisite.id,
            prerequisite: LinkedCourse::new(&prerequisite),
        };
        if course.prerequisites.contains(&prerequisite.id) {
            return Ok((
                StatusCode::OK,
                Json(Envelope::new("Already a prerequisite", view)),
            ));
        }
        if course.prerequisites.len() >= MAX_PREREQUISITES {
            return Err(ApiError::conflict(
                "too_many_prerequisites",
                format!("a course has at most {MAX_PREREQUISITES} prerequisites"),
            ));
        }
        if required_by.is_full() {
            return Err(ApiError::conflict(
                "too_many_dependents",
                format!(
                    "a course may be the prerequisite of at most {} courses",
                    RequiredBy::MAX
                ),
            ));
        }
        let walked = match walk(&repo, &course, &prerequisite).await? {
            Walk::Cycle(path) => {
                return Err(ApiError::conflict(
                    "prerequisite_cycle",
                    format!("this would make a cycle: {}", path.join(" → ")),
                ));
            }
            Walk::Clear(walked) => walked,
        };
        match repo
            .link(
                &manager(&caller, &course),
                &course,
                &prerequisite,
                &required_by,
                &walked,
            )
            .await
        {
            Ok(()) => {
                return Ok((
                    StatusCode::CREATED,
                    Json(Envelope::new("Prerequisite added", view)),
                ));
            }
            Err(StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent_change",
        "the prerequisites kept changing while this request ran; retry",
    ))
}

/// Removes a prerequisite (the course's instructor or an admin).
#[utoipa::path(delete, path = "/api/v1/courses/{courseId}/prerequisites/{prerequisiteId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("prerequisiteId" = String, Path, description = "The prerequisite course's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course, or not a prerequisite of it", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn remove_prerequisite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((course_id, PrerequisitePath(prerequisite_id))): Path<(CourseId, PrerequisitePath)>,
) -> ApiResult<StatusCode> {
    let repo = CourseRepo::new(state.table.clone());
    for _ in 0..RETRIES {
        let course = managed_course(&state, &caller, course_id).await?;
        if !course.prerequisites.contains(&prerequisite_id) {
            return Err(ApiError::not_found("prerequisite"));
        }
        let required_by = repo
            .with_required_by(&caller.tenant, prerequisite_id)
            .await?
            .map(|(_, record)| record);
        match repo
            .unlink(
                &manager(&caller, &course),
                &course,
                prerequisite_id,
                required_by.as_ref(),
            )
            .await
        {
            Ok(()) => return Ok(StatusCode::NO_CONTENT),
            Err(StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent_change",
        "the prerequisites kept changing while this request ran; retry",
    ))
}
