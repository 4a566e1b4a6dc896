//! The catalog list: one query of a tenant's catalog range on GSI1, cut into a page in memory by
//! [`lectern_domain::catalog::select`], and one batch get of the page's instructors.
//!
//! Why the whole range: the list's total count needs every match, and difficulty, instructor and
//! word-prefix search are not key conditions. The range holds only course items (a few KB each), so
//! reading it costs about one read unit per 4 KB, fine up to tens of thousands of courses per tenant;
//! beyond that a search service should serve the catalog (see `docs/data-model.md`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_domain::catalog::{self, CatalogFilter, CatalogSort, Position, Window};
use lectern_domain::course::Course;
use lectern_domain::user::User;
use lectern_domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::item::from_item;
use crate::keys;
use crate::table::{Index, MAX_BATCH_GET_KEYS, Query, SortKeyCondition, StoreError, Table};

/// Where a catalog page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogStart {
    /// The n-th page (1-based).
    Page(usize),
    /// After the position a previous page's `next` cursor names.
    Cursor(Cursor),
}

/// One page of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPage {
    /// The page's courses, in the list's order.
    pub courses: Vec<Course>,
    /// How many courses match in all.
    pub total: usize,
    /// How many matching courses come before the page.
    pub offset: usize,
    /// Where the next page starts, when one does.
    pub next: Option<Cursor>,
}

/// A catalog cursor: the list it belongs to (the filter's and order's fingerprint) and the position
/// of the last course it showed. Keyset, not offset: courses added or removed before the position do
/// not shift the pages after it.
#[derive(Serialize, Deserialize)]
struct CursorPayload {
    v: u8,
    /// [`CatalogFilter::fingerprint`] of the list.
    f: String,
    p: Position,
}

fn encode_cursor(fingerprint: String, position: Position) -> Result<Cursor, StoreError> {
    let json = serde_json::to_vec(&CursorPayload {
        v: 1,
        f: fingerprint,
        p: position,
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Cursor::from_client(URL_SAFE_NO_PAD.encode(json)))
}

/// The position a cursor names, if it was issued for this very list (same filters, same order).
fn decode_cursor(
    cursor: &Cursor,
    fingerprint: &str,
    sort: CatalogSort,
) -> Result<Position, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_str())
        .map_err(|_| StoreError::InvalidCursor)?;
    let payload: CursorPayload =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if payload.v != 1 || payload.f != fingerprint || payload.p.sort() != sort {
        return Err(StoreError::InvalidCursor);
    }
    Ok(payload.p)
}

#[derive(Clone)]
pub struct CatalogRepo {
    table: Arc<dyn Table>,
}

impl CatalogRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        CatalogRepo { table }
    }

    /// A page of the tenant's catalog: the courses matching `filter` in `sort` order. One query of
    /// GSI1 `T#{t}#CATALOG`, sort key beginning `{status}#` (or `{status}#{category}#`), read whole.
    /// A cursor issued for another filter or order is [`StoreError::InvalidCursor`].
    #[tracing::instrument(skip(self, filter, start), fields(tenant = %tenant))]
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &CatalogFilter,
        sort: CatalogSort,
        start: &CatalogStart,
        limit: usize,
    ) -> Result<CatalogPage, StoreError> {
        let fingerprint = filter.fingerprint(sort);
        // Check the cursor before reading anything: a bad one costs no read.
        let window = match start {
            CatalogStart::Page(page) => Window::Page(*page),
            CatalogStart::Cursor(cursor) => {
                Window::After(decode_cursor(cursor, &fingerprint, sort)?)
            }
        };
        let query = Query::index(Index::Gsi1, keys::catalog_index_pk(tenant)).sort_key(
            SortKeyCondition::BeginsWith(keys::catalog_index_prefix(
                filter.status,
                filter.category,
            )),
        );
        let page = self.table.query(&query).await?;
        let courses = page
            .items
            .into_iter()
            .map(from_item::<Course>)
            .collect::<Result<Vec<_>, _>>()?;
        let selection = catalog::select(courses, filter, sort, &window, limit);
        let next = selection
            .next
            .map(|position| encode_cursor(fingerprint, position))
            .transpose()?;
        Ok(CatalogPage {
            courses: selection.courses,
            total: selection.total,
            offset: selection.offset,
            next,
        })
    }

    /// Every course of one instructor (published and drafts), from the tenant's catalog range.
    #[tracing::instrument(skip(self))]
    pub async fn of_instructor(
        &self,
        tenant: &TenantId,
        instructor: UserId,
    ) -> Result<Vec<Course>, StoreError> {
        let mut query = Query::index(Index::Gsi1, keys::catalog_index_pk(tenant));
        let mut courses = Vec::new();
        loop {
            let page = self.table.query(&query).await?;
            for item in page.items {
                let course: Course = from_item(item)?;
                if course.instructor_id == instructor {
                    courses.push(course);
                }
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok(courses),
            }
        }
    }

    /// The instructors of a page's courses, by id: one batch get of the distinct ids (none when
    /// there are none). Ids that name no user are absent from the map.
    #[tracing::instrument(skip_all, fields(tenant = %tenant))]
    pub async fn instructors(
        &self,
        tenant: &TenantId,
        courses: &[Course],
    ) -> Result<HashMap<UserId, User>, StoreError> {
        let mut seen = HashSet::new();
        let ids: Vec<UserId> = courses
            .iter()
            .map(|c| c.instructor_id)
            .filter(|id| seen.insert(*id))
            .collect();
        let mut found = HashMap::with_capacity(ids.len());
        // A page holds at most 100 courses, so this is one batch get.
        for chunk in ids.chunks(MAX_BATCH_GET_KEYS) {
            let keys: Vec<_> = chunk.iter().map(|id| keys::user(tenant, *id)).collect();
            for item in self.table.batch_get(&keys).await?.into_iter().flatten() {
                let user: User = from_item(item)?;
                found.insert(user.id, user);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_domain::course::DifficultyLevel;

    fn position() -> Position {
        Position::Title {
            title: "rust".into(),
            id: lectern_domain::CourseId::new(),
        }
    }

    #[test]
    fn a_cursor_is_accepted_only_by_its_own_list() {
        let filter = CatalogFilter::published();
        let fingerprint = filter.fingerprint(CatalogSort::Title);
        let last = position();
        let cursor = encode_cursor(fingerprint.clone(), last.clone()).unwrap();
        assert_eq!(
            decode_cursor(&cursor, &fingerprint, CatalogSort::Title).unwrap(),
            last
        );
        // Another order, another filter, or garbage: refused.
        assert!(matches!(
            decode_cursor(
                &cursor,
                &filter.fingerprint(CatalogSort::Newest),
                CatalogSort::Newest
            ),
            Err(StoreError::InvalidCursor)
        ));
        let mut other = filter.clone();
        other.difficulty = Some(DifficultyLevel::Advanced);
        assert!(matches!(
            decode_cursor(
                &cursor,
                &other.fingerprint(CatalogSort::Title),
                CatalogSort::Title
            ),
            Err(StoreError::InvalidCursor)
        ));
        for garbage in ["", "!!", "e30"] {
            assert!(matches!(
                decode_cursor(
                    &Cursor::from_client(garbage),
                    &fingerprint,
                    CatalogSort::Title
                ),
                Err(StoreError::InvalidCursor)
            ));
        }
    }
}
