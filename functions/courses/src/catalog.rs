//! The catalog list: filtered, searched, sorted and paged courses of the caller's tenant.

use axum::Extension;
use axum::extract::State;
use lectern_domain::catalog::{CatalogFilter, CatalogSort, Search};
use lectern_domain::course::{CourseCategory, CourseStatus, DifficultyLevel};
use lectern_domain::user::UserRole;
use lectern_domain::{FieldErrors, UserId};
use lectern_store::Cursor;
use lectern_store::catalog::{CatalogRepo, CatalogStart, MAX_PAGE_OFFSET};
use lectern_web::pagination::{PageLinks, PageTarget};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, MaybeAuthUser, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::views::{CourseView, InstructorView};

const TAG: &str = "courses";

/// Courses per page unless `limit` says otherwise (seed 002).
pub const DEFAULT_LIMIT: usize = 10;
/// Most courses one page holds.
pub const MAX_LIMIT: usize = 100;
/// Highest page number a request may ask for: far past any catalog, and small enough that the page's
/// offset cannot overflow whatever the limit.
pub const MAX_PAGE: usize = 1_000_000;

/// Seed 002 `GET /api/courses` query parameters, plus `sort`, `cursor` and `status`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCoursesParams {
    /// Only courses of this category.
    pub category: Option<CourseCategory>,
    /// Only courses of this difficulty.
    pub difficulty: Option<DifficultyLevel>,
    /// Only courses of this instructor (a user id).
    #[param(value_type = Option<String>, format = Uuid)]
    pub instructor_id: Option<String>,
    /// Words (at most 200 characters); each must begin a word of the title or the description,
    /// ignoring case. Punctuation separates words. A search looks at the 1,000 newest courses
    /// having a word that begins with each searched word (its first 16 characters).
    pub search: Option<String>,
    /// `newest` (default), `title` (A to Z, ignoring case), `rating` (highest average first, then
    /// most ratings), `enrollments` (most students first).
    // Inline: a schema only parameters name is not collected into the description's components.
    #[param(inline)]
    pub sort: Option<CatalogSort>,
    /// Page number, from 1 (default 1), starting within the first 1,000 courses ((page − 1) ×
    /// limit ≤ 1000); beyond, follow `nextCursor`. Ignored when `cursor` is given.
    pub page: Option<i64>,
    /// Courses per page, 1 to 100 (default 10).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page, for scrolling clients: continues after that page's last
    /// course, whatever was added or removed before it. Only valid with the same filters and sort.
    pub cursor: Option<String>,
    /// `published` (default), `draft` or `archived`: instructors list their own drafts and archived
    /// courses, admins every one. Archived courses are in no one else's catalog.
    pub status: Option<CourseStatus>,
}

/// Seed 002 `pagination`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// The page shown. With a `cursor`, the page that holds the first course shown (its position ÷
    /// `limit`, rounded up), so a client mixing both still gets a sensible number.
    pub page: usize,
    pub limit: usize,
    /// Courses matching the filters, on every page.
    pub total_count: usize,
    pub total_pages: usize,
    /// More courses follow this page.
    pub has_next: bool,
    /// Courses precede this page.
    pub has_prev: bool,
}

/// A page of the catalog.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseList {
    pub data: Vec<CourseView>,
    pub pagination: Pagination,
    /// Pass as `cursor` for the courses after this page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The list the caller asked for, checked: every bad parameter is named at once.
struct ListRequest {
    filter: CatalogFilter,
    sort: CatalogSort,
    start: CatalogStart,
    limit: usize,
}

fn parse(params: ListCoursesParams) -> ApiResult<ListRequest> {
    let mut errors = FieldErrors::new();
    let limit = match params.limit {
        None => Some(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => Some(n as usize),
        Some(_) => {
            errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
            None
        }
    };
    let page = match params.page {
        None => Some(1),
        Some(n) if (1..=MAX_PAGE as i64).contains(&n) => Some(n as usize),
        Some(_) => {
            errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
            None
        }
    };
    // Page n costs the courses before it: deep pages are reached by cursor.
    let page = match (page, limit) {
        (Some(n), Some(limit)) if n.saturating_sub(1).saturating_mul(limit) > MAX_PAGE_OFFSET => {
            errors.add(
                "page",
                format!(
                    "must start within the first {MAX_PAGE_OFFSET} courses (page × limit); follow \
                     nextCursor to go further"
                ),
            );
            None
        }
        (page, _) => page,
    };
    let instructor = match params.instructor_id.as_deref() {
        None => Some(None),
        Some(id) => errors.check("instructorId", UserId::parse(id)).map(Some),
    };
    let search = errors.check(
        "search",
        Search::parse(params.search.as_deref().unwrap_or_default()),
    );
    let (Some(limit), Some(page), Some(instructor), Some(search)) =
        (limit, page, instructor, search)
    else {
        return Err(errors.into());
    };
    let start = match params.cursor.filter(|c| !c.is_empty()) {
        Some(cursor) => CatalogStart::Cursor(Cursor::from_client(cursor)),
        None => CatalogStart::Page(page),
    };
    Ok(ListRequest {
        filter: CatalogFilter {
            status: params.status.unwrap_or(CourseStatus::Published),
            category: params.category,
            difficulty: params.difficulty,
            instructor,
            search,
        },
        sort: params.sort.unwrap_or_default(),
        start,
        limit,
    })
}

/// Who may list drafts (and archived courses, alike): admins all of them, instructors only their own
/// (the instructor filter is theirs whether they name it or not). Published courses are for everyone.
fn authorize(caller: Option<&AuthUser>, filter: &mut CatalogFilter) -> ApiResult<()> {
    if filter.status == CourseStatus::Published {
        return Ok(());
    }
    match caller {
        None => Err(ApiError::Unauthorized(
            "an access token is required to list drafts".into(),
        )),
        Some(caller) if caller.is_admin() => Ok(()),
        Some(caller) if caller.role == UserRole::Instructor => match filter.instructor {
            Some(other) if other != caller.id => Err(ApiError::Forbidden(
                "instructors list only their own drafts".into(),
            )),
            _ => {
                filter.instructor = Some(caller.id);
                Ok(())
            }
        },
        Some(_) => Err(ApiError::Forbidden(
            "only instructors and admins list drafts".into(),
        )),
    }
}

/// Seed 002 `GET /api/courses`: the tenant's published courses (anonymous callers: the default
/// tenant's), filtered by category, difficulty, instructor and a word-prefix search, sorted, and paged
/// by page number or by cursor. One query of the list's index entries and one batch get of the
/// page's courses, instructors and the list's count; a search reads the index entries of its words
/// (one query each) and their courses (see `lectern_store::catalog`).
#[utoipa::path(get, path = "/api/v1/courses", tag = TAG,
    security((), ("bearer" = [])),
    params(ListCoursesParams),
    responses(
        (status = 200, description = "A page of courses", body = CourseList),
        (status = 400, description = "A bad parameter (named in `details`, with the allowed values), or a cursor of another list (`invalid_cursor`)", body = ErrorBody),
        (status = 401, description = "Drafts or archived courses asked for without an access token", body = ErrorBody),
        (status = 403, description = "Drafts or archived courses asked for by a student, or another instructor's", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list_courses(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Query(params): Query<ListCoursesParams>,
) -> ApiResult<(Extension<PageLinks>, Json<CourseList>)> {
    let ListRequest {
        mut filter,
        sort,
        start,
        limit,
    } = parse(params)?;
    authorize(caller.as_ref(), &mut filter)?;
    let tenant = caller
        .as_ref()
        .map(|c| c.tenant.clone())
        .unwrap_or_else(|| state.tenants.default_tenant().clone());
    let repo = CatalogRepo::new(state.table.clone());
    let page = repo.list(&tenant, &filter, sort, &start, limit).await?;
    let instructors = &page.instructors;
    let total_pages = page.total.div_ceil(limit);
    let (page_number, has_prev) = match start {
        CatalogStart::Page(n) => (n, n > 1),
        CatalogStart::Cursor(_) => (page.offset / limit + 1, page.offset > 0),
    };
    let links = page_links(
        &start,
        page_number,
        total_pages,
        limit,
        page.next.as_ref().map(ToString::to_string),
    );
    let list = CourseList {
        data: page
            .courses
            .iter()
            .map(|course| {
                CourseView::new(
                    course,
                    instructors
                        .get(&course.instructor_id)
                        .map(InstructorView::from),
                )
            })
            .collect(),
        pagination: Pagination {
            page: page_number,
            limit,
            total_count: page.total,
            total_pages,
            has_next: page.next.is_some(),
            has_prev,
        },
        next_cursor: page.next.map(|c| c.to_string()),
    };
    Ok((Extension(links), Json(list)))
}

/// The catalog's `Link` header: `first`, `prev` and `last` by page number where a number may reach
/// them (a page starts within the first [`MAX_PAGE_OFFSET`] courses), `next` by number while the
/// client pages by number and by cursor once it scrolls by cursor or leaves that window.
fn page_links(
    start: &CatalogStart,
    page: usize,
    total_pages: usize,
    limit: usize,
    next: Option<String>,
) -> PageLinks {
    let numbered = |n: usize| n >= 1 && (n - 1).saturating_mul(limit) <= MAX_PAGE_OFFSET;
    let mut links = PageLinks::default().with("first", PageTarget::First);
    if page > 1 && numbered(page - 1) {
        links = links.with("prev", PageTarget::Number(page - 1));
    }
    if let Some(cursor) = next {
        links = match start {
            CatalogStart::Page(_) if numbered(page + 1) => {
                links.with("next", PageTarget::Number(page + 1))
            }
            _ => links.with("next", PageTarget::Cursor(cursor)),
        };
    }
    if numbered(total_pages) {
        links = links.with("last", PageTarget::Number(total_pages));
    }
    links
}
