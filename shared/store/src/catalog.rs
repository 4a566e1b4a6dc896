//! The catalog: a course's entries in the catalog's lists (written with the course), and reading one
//! page of a list.
//!
//! A course is listed once per scope it belongs to (every subset of its category, difficulty and
//! instructor: 8 scopes) and per order (newest, title, rating, enrollments): 32 small entries in the
//! course's own partition, each projected into GSI1 under its list's partition with its position in
//! the order as sort key ([`keys::catalog_sort_value`]). Each list has a count item. The entries and
//! counts change in the same transaction as the course ([`catalog_writes`]); ratings and enrollments
//! move their order's entries in the counter's transaction ([`sort_entries`]). So a page of any
//! filter in any order is one query of `limit` entries (by cursor; by page number the entries before
//! it too, at most [`MAX_PAGE_OFFSET`]), then one batch get of the page's courses, its instructors
//! and (when the page cannot tell) the list's count.
//!
//! Search uses term entries: one per distinct word prefix (up to [`keys::MAX_TERM_CHARS`]
//! characters) of the title and the description, newest first in GSI1. A search reads the first
//! [`SEARCH_PROBE`] entries of each word's term, keeps the word with the fewest matches (reading on,
//! up to [`MAX_SEARCH_MATCHES`], when every word has more), reads those courses and filters,
//! sorts and pages them in memory ([`lectern_domain::catalog::select`]), which also checks the other
//! words: its cost grows with the matches of its most selective word, never with the catalog, and
//! is capped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_domain::catalog::{self, CatalogFilter, CatalogSort, Position, Window};
use lectern_domain::course::{Course, CourseStatus};
use lectern_domain::user::User;
use lectern_domain::{CourseId, TenantId, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::item::{AttrValue, Item, from_item};
use crate::keys;
use crate::table::{
    ENTITY, Index, Key, MAX_BATCH_GET_KEYS, PK, Query, SK, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction,
};

/// Every order, each with its own entries.
pub const SORTS: [CatalogSort; 4] = [
    CatalogSort::Newest,
    CatalogSort::Title,
    CatalogSort::Rating,
    CatalogSort::Enrollments,
];

/// The furthest a page chosen by number may start: reading page n costs the entries before it,
/// so deeper pages are reached by cursor (`nextCursor`), which costs one page whatever its depth.
pub const MAX_PAGE_OFFSET: usize = 1_000;

/// Most term entries a search reads per word: a search matching more courses lists the newest
/// [`MAX_SEARCH_MATCHES`] of them.
pub const MAX_SEARCH_MATCHES: usize = 1_000;

/// Entries of each searched word read first, to find the most selective word.
pub const SEARCH_PROBE: usize = 20;

/// The attribute of an entry naming its course.
const COURSE_ID: &str = "courseId";
/// The attribute of an entry naming its course's instructor (never changes), so that a page's
/// instructors are read together with its courses.
const INSTRUCTOR_ID: &str = "instructorId";
/// The count attribute of a list's count item.
const COUNT: &str = "count";

/// The scopes a course is listed in: every subset of its category, difficulty and instructor.
fn scopes(course: &Course) -> Vec<String> {
    let mut scopes = Vec::with_capacity(8);
    for mask in 0u8..8 {
        scopes.push(keys::catalog_scope(
            (mask & 1 != 0).then_some(course.category),
            (mask & 2 != 0).then_some(course.difficulty_level),
            (mask & 4 != 0).then_some(course.instructor_id),
        ));
    }
    scopes
}

/// Whether a course has catalog entries: any course not being deleted.
fn listed(course: &Course) -> bool {
    course.deleting_since.is_none()
}

fn entry(course: &Course, key: Key, index_pk: String, index_sk: String, name: &str) -> Item {
    Item::from([
        (PK.to_owned(), AttrValue::S(key.pk)),
        (SK.to_owned(), AttrValue::S(key.sk)),
        (ENTITY.to_owned(), AttrValue::s(name)),
        (Index::Gsi1.pk_attr().to_owned(), AttrValue::S(index_pk)),
        (Index::Gsi1.sk_attr().to_owned(), AttrValue::S(index_sk)),
        (COURSE_ID.to_owned(), AttrValue::S(course.id.to_string())),
        (
            INSTRUCTOR_ID.to_owned(),
            AttrValue::S(course.instructor_id.to_string()),
        ),
    ])
}

/// The entries of a course in one order, by key (none while it is being deleted).
fn entries_of(course: &Course, sort: CatalogSort) -> BTreeMap<Key, Item> {
    if !listed(course) {
        return BTreeMap::new();
    }
    let value = keys::catalog_sort_value(&Position::of(course, sort));
    scopes(course)
        .into_iter()
        .map(|scope| {
            let key = keys::catalog_entry(&course.tenant, course.id, &scope, sort);
            let index_pk = keys::catalog_list_index_pk(&course.tenant, course.status, &scope, sort);
            (
                key.clone(),
                entry(course, key, index_pk, value.clone(), "CatalogEntry"),
            )
        })
        .collect()
}

/// The distinct word prefixes (1 to [`keys::MAX_TERM_CHARS`] characters) of a course's title and
/// description: what a search word can begin with.
fn terms(course: &Course) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for word in
        catalog::words(course.title.as_str()).chain(catalog::words(course.description.as_str()))
    {
        let mut prefix = String::new();
        for c in word.chars().take(keys::MAX_TERM_CHARS) {
            prefix.push(c);
            terms.insert(prefix.clone());
        }
    }
    terms
}

/// A search word's term: its first [`keys::MAX_TERM_CHARS`] characters.
fn term_of(word: &str) -> String {
    word.chars().take(keys::MAX_TERM_CHARS).collect()
}

fn term_entries(course: &Course) -> BTreeMap<Key, Item> {
    if !listed(course) {
        return BTreeMap::new();
    }
    let newest = keys::catalog_sort_value(&Position::of(course, CatalogSort::Newest));
    terms(course)
        .into_iter()
        .map(|term| {
            let key = keys::catalog_term(&course.tenant, course.id, &term);
            let index_pk = keys::catalog_term_index_pk(&course.tenant, course.status, &term);
            (
                key.clone(),
                entry(course, key, index_pk, newest.clone(), "CatalogTerm"),
            )
        })
        .collect()
}

/// The lists a course is counted in.
fn counts_of(course: &Course) -> BTreeSet<Key> {
    if !listed(course) {
        return BTreeSet::new();
    }
    scopes(course)
        .iter()
        .map(|scope| keys::catalog_count(&course.tenant, course.status, scope))
        .collect()
}

/// The writes that move a course's catalog presence from what `before` had to what `after` needs.
pub(crate) struct CatalogWrites {
    /// Entries and counts: at most 64 entry writes and 16 count changes, for the course's own
    /// transaction.
    pub first: Vec<TxAction>,
    /// Term entries (one per word prefix: unbounded by the transaction limit), written after it.
    pub terms: Vec<TxAction>,
}

/// `before`: the course as stored (`None` for a new one). A course stored before the catalog had
/// its index (`indexed` false) has nothing to remove and is counted afresh: its update backfills.
pub(crate) fn catalog_writes(before: Option<&Course>, after: &Course) -> CatalogWrites {
    let before = before.filter(|b| b.indexed);
    let diff = |old: BTreeMap<Key, Item>, new: BTreeMap<Key, Item>, always: bool| {
        let mut actions: Vec<TxAction> = old
            .keys()
            .filter(|key| !new.contains_key(*key))
            .map(|key| TxAction::Delete {
                key: key.clone(),
                condition: None,
            })
            .collect();
        actions.extend(
            new.into_iter()
                .filter(|(key, item)| always || old.get(key) != Some(item))
                .map(|(_, item)| TxAction::Put {
                    item,
                    condition: None,
                }),
        );
        actions
    };
    let mut first = Vec::new();
    for sort in SORTS {
        let old = before.map(|b| entries_of(b, sort)).unwrap_or_default();
        first.extend(diff(old, entries_of(after, sort), false));
    }
    let old_counts = before.map(counts_of).unwrap_or_default();
    let new_counts = counts_of(after);
    for (key, by) in old_counts
        .difference(&new_counts)
        .map(|k| (k, -1))
        .chain(new_counts.difference(&old_counts).map(|k| (k, 1)))
    {
        first.push(TxAction::Update(Update {
            key: key.clone(),
            actions: vec![UpdateAction::Add(COUNT.into(), by)],
            condition: None,
        }));
    }
    let old_terms = before.map(term_entries).unwrap_or_default();
    CatalogWrites {
        first,
        terms: diff(old_terms, term_entries(after), false),
    }
}

/// The entries of one order rewritten for a course whose counters changed (`after`: the course as
/// it will be), for the counter's own transaction. Nothing for a course without entries (being
/// deleted, or not yet indexed: its next update writes them all).
pub(crate) fn sort_entries(after: &Course, sort: CatalogSort) -> Vec<TxAction> {
    if !after.indexed {
        return Vec::new();
    }
    entries_of(after, sort)
        .into_values()
        .map(|item| TxAction::Put {
            item,
            condition: None,
        })
        .collect()
}

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
    /// The page's instructors, by id (ids that name no user are absent).
    pub instructors: HashMap<UserId, User>,
    /// How many courses match in all (for a search, at most [`MAX_SEARCH_MATCHES`]).
    pub total: usize,
    /// How many matching courses come before the page.
    pub offset: usize,
    /// Where the next page starts, when one does.
    pub next: Option<Cursor>,
}

/// Where a cursor continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum After {
    /// After this sort key of the list's index partition.
    Entry(String),
    /// After this position (a search, ordered in memory).
    Position(Position),
}

/// A catalog cursor: the list it belongs to (the filter's and order's fingerprint), where it
/// continues (keyset, not offset: courses added or removed before it do not shift the pages after
/// it), and how many courses preceded that place when it was issued (for the page number shown).
#[derive(Serialize, Deserialize)]
struct CursorPayload {
    v: u8,
    /// [`CatalogFilter::fingerprint`] of the list.
    f: String,
    a: After,
    o: usize,
}

fn encode_cursor(fingerprint: String, after: After, offset: usize) -> Result<Cursor, StoreError> {
    let json = serde_json::to_vec(&CursorPayload {
        v: 2,
        f: fingerprint,
        a: after,
        o: offset,
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Cursor::from_client(URL_SAFE_NO_PAD.encode(json)))
}

/// Where a cursor continues, if it was issued for this very list (same filters, same order).
fn decode_cursor(
    cursor: &Cursor,
    fingerprint: &str,
    sort: CatalogSort,
) -> Result<(After, usize), StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_str())
        .map_err(|_| StoreError::InvalidCursor)?;
    let payload: CursorPayload =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let fits = match &payload.a {
        After::Entry(_) => true,
        After::Position(p) => p.sort() == sort,
    };
    if payload.v != 2 || payload.f != fingerprint || !fits {
        return Err(StoreError::InvalidCursor);
    }
    Ok((payload.a, payload.o))
}

/// An entry read from an index: its sort key, course and instructor.
struct Entry {
    index_sk: String,
    course: CourseId,
    instructor: Option<UserId>,
}

fn entry_of(item: &Item) -> Result<Entry, StoreError> {
    let text = |name: &str| item.get(name).and_then(AttrValue::as_str);
    let course = text(COURSE_ID)
        .and_then(|id| CourseId::parse(id).ok())
        .ok_or_else(|| StoreError::Corrupt("catalog entry without its course".into()))?;
    Ok(Entry {
        index_sk: text(Index::Gsi1.sk_attr()).unwrap_or_default().to_owned(),
        course,
        instructor: text(INSTRUCTOR_ID).and_then(|id| UserId::parse(id).ok()),
    })
}

#[derive(Clone)]
pub struct CatalogRepo {
    table: Arc<dyn Table>,
}

/// What one batch read of a page brings back.
#[derive(Default)]
struct Read {
    courses: HashMap<CourseId, Course>,
    users: HashMap<UserId, User>,
    count: Option<i64>,
}

impl CatalogRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        CatalogRepo { table }
    }

    /// Courses, users and a count item by key, in batches of 100 (one for a page of up to 100 keys).
    async fn read(
        &self,
        tenant: &TenantId,
        courses: &[CourseId],
        users: &[UserId],
        count: Option<Key>,
    ) -> Result<Read, StoreError> {
        let mut keys: Vec<Key> = courses.iter().map(|c| keys::course(tenant, *c)).collect();
        keys.extend(users.iter().map(|u| keys::user(tenant, *u)));
        keys.extend(count.clone());
        let mut read = Read::default();
        let batches = keys
            .chunks(MAX_BATCH_GET_KEYS)
            .map(|chunk| self.table.batch_get(chunk));
        let found = futures::future::try_join_all(batches).await?;
        for (key, item) in keys.iter().zip(found.into_iter().flatten()) {
            let Some(item) = item else { continue };
            if Some(key) == count.as_ref() {
                read.count = item.get(COUNT).and_then(AttrValue::as_i64);
            } else if key.sk == "PROFILE" {
                let user: User = from_item(item)?;
                read.users.insert(user.id, user);
            } else {
                let course: Course = from_item(item)?;
                read.courses.insert(course.id, course);
            }
        }
        Ok(read)
    }

    /// A page of the tenant's catalog: the courses matching `filter` in `sort` order, with their
    /// instructors. Without a search: one query of the list's index partition and one batch get.
    /// A cursor issued for another filter or order is [`StoreError::InvalidCursor`], and so is a page
    /// number starting beyond [`MAX_PAGE_OFFSET`] (the handler refuses those first).
    #[tracing::instrument(skip(self, filter, start), fields(tenant = %tenant))]
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &CatalogFilter,
        sort: CatalogSort,
        start: &CatalogStart,
        limit: usize,
    ) -> Result<CatalogPage, StoreError> {
        let limit = limit.max(1);
        let fingerprint = filter.fingerprint(sort);
        // Check the cursor before reading anything: a bad one costs no read.
        let after = match start {
            CatalogStart::Page(page) => {
                let offset = page.saturating_sub(1).saturating_mul(limit);
                if offset > MAX_PAGE_OFFSET {
                    return Err(StoreError::InvalidCursor);
                }
                None
            }
            CatalogStart::Cursor(cursor) => Some(decode_cursor(cursor, &fingerprint, sort)?),
        };
        if filter.search.is_empty() {
            self.list_entries(tenant, filter, sort, start, after, limit, fingerprint)
                .await
        } else {
            self.search(tenant, filter, sort, start, after, limit, fingerprint)
                .await
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn list_entries(
        &self,
        tenant: &TenantId,
        filter: &CatalogFilter,
        sort: CatalogSort,
        start: &CatalogStart,
        after: Option<(After, usize)>,
        limit: usize,
        fingerprint: String,
    ) -> Result<CatalogPage, StoreError> {
        let scope = keys::catalog_scope(filter.category, filter.difficulty, filter.instructor);
        let mut query = Query::index(
            Index::Gsi1,
            keys::catalog_list_index_pk(tenant, filter.status, &scope, sort),
        );
        let (skip, offset) = match (start, after) {
            (_, Some((After::Entry(sk), offset))) => {
                query = query.sort_key(SortKeyCondition::GreaterThan(sk));
                (0, offset)
            }
            (_, Some((After::Position(_), _))) => return Err(StoreError::InvalidCursor),
            (CatalogStart::Page(page), None) => {
                let offset = page.saturating_sub(1).saturating_mul(limit);
                (offset, offset)
            }
            (CatalogStart::Cursor(_), None) => return Err(StoreError::InvalidCursor),
        };
        let found = self.table.query(&query.limit(skip + limit)).await?;
        let skipped = found.items.len().min(skip);
        let entries = found
            .items
            .iter()
            .skip(skip)
            .map(entry_of)
            .collect::<Result<Vec<_>, _>>()?;
        // The list's count is read only when the page cannot tell it: a page that ends the list
        // knows how many came before it and how many it holds.
        let known_total = found.next.is_none().then(|| match start {
            CatalogStart::Page(_) => skipped + entries.len(),
            CatalogStart::Cursor(_) => offset + entries.len(),
        });
        let ids: Vec<CourseId> = entries.iter().map(|e| e.course).collect();
        let mut seen = HashSet::new();
        let instructors: Vec<UserId> = entries
            .iter()
            .filter_map(|e| e.instructor)
            .filter(|i| seen.insert(*i))
            .collect();
        let count = known_total
            .is_none()
            .then(|| keys::catalog_count(tenant, filter.status, &scope));
        let read = if ids.is_empty() && count.is_none() {
            Read::default()
        } else {
            self.read(tenant, &ids, &instructors, count).await?
        };
        let mut courses_by_id = read.courses;
        // Index reads are eventually consistent: a course changed a moment ago may still sit in a
        // list it left; what the page shows is checked against the filter on the course itself.
        let courses: Vec<Course> = ids
            .iter()
            .filter_map(|id| courses_by_id.remove(id))
            .filter(|c| filter.matches(c))
            .collect();
        let total = known_total.unwrap_or_else(|| {
            usize::try_from(read.count.unwrap_or(0))
                .unwrap_or(0)
                .max(offset + entries.len())
        });
        let next = match (found.next, entries.last()) {
            (Some(_), Some(last)) => Some(encode_cursor(
                fingerprint,
                After::Entry(last.index_sk.clone()),
                offset + entries.len(),
            )?),
            _ => None,
        };
        Ok(CatalogPage {
            courses,
            instructors: read.users,
            total,
            offset,
            next,
        })
    }

    /// A search: the newest [`MAX_SEARCH_MATCHES`] entries of each word's term, intersected, then
    /// those courses read, filtered, sorted and paged in memory.
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        tenant: &TenantId,
        filter: &CatalogFilter,
        sort: CatalogSort,
        start: &CatalogStart,
        after: Option<(After, usize)>,
        limit: usize,
        fingerprint: String,
    ) -> Result<CatalogPage, StoreError> {
        let window = match (start, after) {
            (_, Some((After::Position(p), _))) => Window::After(p),
            (_, Some((After::Entry(_), _))) | (CatalogStart::Cursor(_), None) => {
                return Err(StoreError::InvalidCursor);
            }
            (CatalogStart::Page(page), None) => Window::Page(*page),
        };
        // A word that begins another searched word matches whenever that one does.
        let words = filter.search.words();
        let mut terms: Vec<String> = words
            .iter()
            .filter(|w| !words.iter().any(|o| o != *w && o.starts_with(w.as_str())))
            .map(|w| term_of(w))
            .collect();
        terms.sort();
        terms.dedup();
        // Probe every word's entries, then take the words whose entries were all read and keep
        // the fewest: the most selective word's matches are the candidates, and the other words
        // and filters are checked on the courses. When every word matches more than a probe,
        // the longest word's entries are read on, up to MAX_SEARCH_MATCHES.
        let index_pk = |term: &str| keys::catalog_term_index_pk(tenant, filter.status, term);
        let probes = terms.iter().map(|term| {
            let query = Query::index(Index::Gsi1, index_pk(term)).limit(SEARCH_PROBE);
            async move { self.table.query(&query).await }
        });
        let probes = futures::future::try_join_all(probes).await?;
        let complete = probes
            .iter()
            .filter(|page| page.next.is_none())
            .min_by_key(|page| page.items.len());
        let items: Vec<Item> = match complete {
            Some(page) => page.items.clone(),
            None => {
                let (longest, probe) = terms
                    .iter()
                    .zip(&probes)
                    .max_by_key(|(term, _)| term.chars().count())
                    .ok_or(StoreError::InvalidCursor)?;
                let mut items = probe.items.clone();
                let rest = Query::index(Index::Gsi1, index_pk(longest))
                    .limit(MAX_SEARCH_MATCHES.saturating_sub(items.len()))
                    .after(probe.next.clone());
                items.extend(self.table.query(&rest).await?.items);
                items
            }
        };
        let candidates = items
            .iter()
            .map(entry_of)
            .collect::<Result<Vec<Entry>, _>>()?;
        let ids: Vec<CourseId> = candidates.iter().map(|e| e.course).collect();
        let mut seen = HashSet::new();
        let instructors: Vec<UserId> = candidates
            .iter()
            .filter_map(|e| e.instructor)
            .filter(|i| seen.insert(*i))
            .collect();
        // Instructors come with the candidates when they fit one batch; otherwise only the page's
        // are read, after it is known.
        let together = ids.len() + instructors.len() <= MAX_BATCH_GET_KEYS;
        let read = if ids.is_empty() {
            Read::default()
        } else if together {
            self.read(tenant, &ids, &instructors, None).await?
        } else {
            self.read(tenant, &ids, &[], None).await?
        };
        let selection = catalog::select(read.courses.into_values(), filter, sort, &window, limit);
        let users = if together || selection.courses.is_empty() {
            read.users
        } else {
            let mut seen = HashSet::new();
            let page_instructors: Vec<UserId> = selection
                .courses
                .iter()
                .map(|c| c.instructor_id)
                .filter(|i| seen.insert(*i))
                .collect();
            self.read(tenant, &[], &page_instructors, None).await?.users
        };
        let next = selection
            .next
            .map(|position| {
                encode_cursor(
                    fingerprint,
                    After::Position(position),
                    selection.offset + selection.courses.len(),
                )
            })
            .transpose()?;
        Ok(CatalogPage {
            courses: selection.courses,
            instructors: users,
            total: selection.total,
            offset: selection.offset,
            next,
        })
    }

    /// Every course of one instructor (published and drafts), from their own index partition: the
    /// read grows with their courses, not the tenant's.
    #[tracing::instrument(skip(self))]
    pub async fn of_instructor(
        &self,
        tenant: &TenantId,
        instructor: UserId,
    ) -> Result<Vec<Course>, StoreError> {
        let mut query = Query::index(
            Index::Gsi1,
            keys::instructor_courses_index_pk(tenant, instructor),
        );
        let mut courses = Vec::new();
        loop {
            let page = self.table.query(&query).await?;
            for item in page.items {
                courses.push(from_item(item)?);
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => return Ok(courses),
            }
        }
    }
}

/// The count of a list (tests and the bench compare it with what the list holds).
pub async fn count(
    table: &dyn Table,
    tenant: &TenantId,
    status: CourseStatus,
    scope: &str,
) -> Result<i64, StoreError> {
    Ok(table
        .get(&keys::catalog_count(tenant, status, scope))
        .await?
        .and_then(|item| item.get(COUNT).and_then(AttrValue::as_i64))
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::CourseRepo;
    use lectern_domain::course::{
        CourseCategory, CourseDescription, CourseTitle, DifficultyLevel, Price,
    };

    fn published(tenant: &TenantId) -> Course {
        let mut course = Course::draft(
            tenant.clone(),
            UserId::new(),
            CourseTitle::parse("Quantum basics").unwrap(),
            CourseDescription::parse("Qubits.").unwrap(),
            None,
            CourseCategory::Science,
            DifficultyLevel::Beginner,
            Price::parse(0, "USD").unwrap(),
            time::OffsetDateTime::now_utc(),
        );
        course.status = CourseStatus::Published;
        course
    }

    #[tokio::test]
    async fn a_course_stored_before_the_index_is_listed_after_its_next_update() {
        // GIVEN a published course stored as before the catalog index: its item alone
        let dir = tempfile::tempdir().unwrap();
        let table: Arc<dyn Table> =
            Arc::new(crate::sqlite::SqliteTable::open(&dir.path().join("lectern.db")).unwrap());
        let tenant = TenantId::parse("acme").unwrap();
        let course = published(&tenant);
        let mut item = crate::courses::course_item(&course).unwrap();
        item.remove("indexed");
        table.put(item, None).await.unwrap();
        let catalog = CatalogRepo::new(table.clone());
        let page = |filter: CatalogFilter| {
            let catalog = catalog.clone();
            let tenant = tenant.clone();
            async move {
                catalog
                    .list(
                        &tenant,
                        &filter,
                        CatalogSort::Newest,
                        &CatalogStart::Page(1),
                        10,
                    )
                    .await
                    .unwrap()
            }
        };
        let mut search = CatalogFilter::published();
        search.search = lectern_domain::catalog::Search::parse("qubit").unwrap();
        assert!(page(CatalogFilter::published()).await.courses.is_empty());
        // WHEN its instructor updates it (here with nothing changed but its version), twice
        let instructor = User {
            id: course.instructor_id,
            ..User::create(
                tenant.clone(),
                lectern_domain::user::NewUser {
                    email: lectern_domain::user::Email::parse("t@example.org").unwrap(),
                    username: lectern_domain::user::Username::parse("teacher").unwrap(),
                    first_name: lectern_domain::user::PersonName::parse("Ada").unwrap(),
                    last_name: lectern_domain::user::PersonName::parse("Lovelace").unwrap(),
                    role: lectern_domain::user::UserRole::Instructor,
                    preferred_study_time: None,
                },
                "hash".into(),
                time::OffsetDateTime::now_utc(),
            )
        };
        crate::users::UserRepo::new(table.clone())
            .create(&instructor)
            .await
            .unwrap();
        let actor =
            crate::actor::Actor::new(tenant.clone(), instructor.id, crate::actor::Power::Teaching);
        let courses = CourseRepo::new(table.clone());
        for indexed in [false, true] {
            let before = courses.get(&tenant, course.id).await.unwrap().unwrap();
            assert_eq!(before.indexed, indexed);
            let mut after = before.clone();
            after.version += 1;
            courses.update(&actor, &before, &after).await.unwrap();
        }
        // THEN it is listed, found by search, and counted once in each of its lists
        let listed = page(CatalogFilter::published()).await;
        assert_eq!(listed.courses.len(), 1);
        assert_eq!(listed.total, 1);
        assert_eq!(page(search).await.courses.len(), 1);
        for scope in [
            "ALL".to_owned(),
            "C=science".to_owned(),
            format!("C=science,D=beginner,I={}", course.instructor_id),
        ] {
            assert_eq!(
                count(table.as_ref(), &tenant, CourseStatus::Published, &scope)
                    .await
                    .unwrap(),
                1,
                "{scope}"
            );
        }
    }

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
        let last = After::Position(position());
        let cursor = encode_cursor(fingerprint.clone(), last.clone(), 3).unwrap();
        assert_eq!(
            decode_cursor(&cursor, &fingerprint, CatalogSort::Title).unwrap(),
            (last, 3)
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
