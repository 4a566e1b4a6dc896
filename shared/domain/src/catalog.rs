//! The course catalog list: which courses match a filter and a search, in which order, and which of
//! them one page holds. Contract: seed 002 `GET /api/courses` (filters, search, page and limit) plus
//! sort orders and keyset positions for scrolling clients.
//!
//! Everything here is pure: the store reads a tenant's catalog range whole and hands the courses to
//! [`select`], which filters, sorts and cuts the page in memory (the total count needs every match
//! anyway).

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::course::{Course, CourseCategory, CourseStatus, DifficultyLevel};
use crate::ids::{CourseId, UserId};
use crate::validation::Invalid;

/// Longest search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The words of a text: maximal runs of alphanumeric characters (anything else, punctuation included,
/// separates words), each lowercased character by character.
///
/// Lowercasing character by character (rather than with `str::to_lowercase`, which lowercases a
/// final Σ to ς) keeps the lowercase of a word's prefix a prefix of the word's lowercase, so a search
/// for the start of a word always finds it.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
}

/// A search: words that must each begin some word of a course's title or description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    words: Vec<String>,
}

impl Search {
    /// At most [`MAX_SEARCH_CHARS`] characters; a search with no words matches every course.
    pub fn parse(value: &str) -> Result<Search, Invalid> {
        if value.chars().count() > MAX_SEARCH_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {MAX_SEARCH_CHARS} characters"
            )));
        }
        let mut words: Vec<String> = words(value).collect();
        words.sort();
        words.dedup();
        Ok(Search { words })
    }

    /// The distinct lowercase words searched for, sorted.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether every searched word is a prefix of some word of the title or the description.
    pub fn matches(&self, title: &str, description: &str) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let text: Vec<String> = words(title).chain(words(description)).collect();
        self.words
            .iter()
            .all(|wanted| text.iter().any(|word| word.starts_with(wanted.as_str())))
    }
}

/// The orders the catalog can be listed in. Every order ends with the course id, so it is total and
/// a position in it ([`Position`]) names exactly one place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatalogSort {
    /// Most recently created first.
    #[default]
    Newest,
    /// By title, case-insensitively, A to Z; then by id.
    Title,
    /// Highest average rating first; ties by more ratings, then newest.
    Rating,
    /// Most enrolled students first; ties by newest.
    Enrollments,
}

/// Which courses a list shows. The status range is the store's key condition; the rest are checked
/// on every course read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFilter {
    pub status: CourseStatus,
    pub category: Option<CourseCategory>,
    pub difficulty: Option<DifficultyLevel>,
    pub instructor: Option<UserId>,
    pub search: Search,
}

impl CatalogFilter {
    /// Every published course.
    pub fn published() -> CatalogFilter {
        CatalogFilter {
            status: CourseStatus::Published,
            category: None,
            difficulty: None,
            instructor: None,
            search: Search::default(),
        }
    }

    pub fn matches(&self, course: &Course) -> bool {
        course.status == self.status
            && course.deleting_since.is_none()
            && self.category.is_none_or(|c| c == course.category)
            && self.difficulty.is_none_or(|d| d == course.difficulty_level)
            && self.instructor.is_none_or(|i| i == course.instructor_id)
            && self
                .search
                .matches(course.title.as_str(), course.description.as_str())
    }

    /// A short digest of the filter and the order, carried by cursors so that a cursor is only used
    /// with the list it came from. Equal for filters that select the same courses in the same order
    /// (a search's case and word order do not matter). Not a secret: a forged cursor can only start a
    /// list the caller may read anyway somewhere else.
    pub fn fingerprint(&self, sort: CatalogSort) -> String {
        let canonical = serde_json::json!([
            self.status,
            self.category,
            self.difficulty,
            self.instructor,
            self.search.words(),
            sort,
        ])
        .to_string();
        format!("{:016x}", fnv1a(canonical.as_bytes()))
    }
}

/// FNV-1a, 64 bits: a stable hash (std's `DefaultHasher` may change between releases, and cursors
/// outlive deployments).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where a course stands in an order: the values it is sorted by, ending with its id. Positions of
/// one order compare (derived `Ord`) exactly as the list runs; descending values are `Reverse`d.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Position {
    Newest {
        /// Creation time, epoch milliseconds.
        created: Reverse<i64>,
        id: Reverse<CourseId>,
    },
    Title {
        /// The title, lowercased character by character.
        title: String,
        id: CourseId,
    },
    Rating {
        /// The average rating as shown (two decimals), in hundredths.
        rating: Reverse<u32>,
        ratings: Reverse<u32>,
        created: Reverse<i64>,
        id: Reverse<CourseId>,
    },
    Enrollments {
        enrollments: Reverse<u32>,
        created: Reverse<i64>,
        id: Reverse<CourseId>,
    },
}

impl Position {
    /// The position of a course in an order.
    pub fn of(course: &Course, sort: CatalogSort) -> Position {
        let created = Reverse(
            i64::try_from(course.created_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        );
        let id = course.id;
        match sort {
            CatalogSort::Newest => Position::Newest {
                created,
                id: Reverse(id),
            },
            CatalogSort::Title => Position::Title {
                title: course
                    .title
                    .as_str()
                    .chars()
                    .flat_map(char::to_lowercase)
                    .collect(),
                id,
            },
            CatalogSort::Rating => Position::Rating {
                // Averages are 0–5 with two decimals, so this is exact and small.
                rating: Reverse((course.average_rating() * 100.0).round() as u32),
                ratings: Reverse(course.total_ratings),
                created,
                id: Reverse(id),
            },
            CatalogSort::Enrollments => Position::Enrollments {
                enrollments: Reverse(course.total_enrollments),
                created,
                id: Reverse(id),
            },
        }
    }

    /// The order this position belongs to.
    pub fn sort(&self) -> CatalogSort {
        match self {
            Position::Newest { .. } => CatalogSort::Newest,
            Position::Title { .. } => CatalogSort::Title,
            Position::Rating { .. } => CatalogSort::Rating,
            Position::Enrollments { .. } => CatalogSort::Enrollments,
        }
    }
}

/// Which part of the ordered matches a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// The n-th page (1-based) of `limit` courses.
    Page(usize),
    /// The `limit` courses after a position (keyset: unaffected by courses added or removed before
    /// it). The position must be of the list's order.
    After(Position),
}

/// One page of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The courses of the page, in order.
    pub courses: Vec<Course>,
    /// How many courses match in all.
    pub total: usize,
    /// How many matching courses come before the page.
    pub offset: usize,
    /// The position of the page's last course, when more courses follow it.
    pub next: Option<Position>,
}

/// Filters, orders and cuts one page out of a catalog range. `limit` must be at least 1.
pub fn select(
    courses: impl IntoIterator<Item = Course>,
    filter: &CatalogFilter,
    sort: CatalogSort,
    window: &Window,
    limit: usize,
) -> Selection {
    let limit = limit.max(1);
    let mut ranked: Vec<(Position, Course)> = courses
        .into_iter()
        .filter(|c| filter.matches(c))
        .map(|c| (Position::of(&c, sort), c))
        .collect();
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
    let total = ranked.len();
    let offset = match window {
        Window::Page(page) => page.saturating_sub(1).saturating_mul(limit).min(total),
        Window::After(after) => ranked.partition_point(|(position, _)| position <= after),
    };
    let end = offset.saturating_add(limit).min(total);
    // `end < total` implies `end = offset + limit ≥ 1`: the page is not empty.
    let next = if end < total {
        ranked.get(end - 1).map(|(position, _)| position.clone())
    } else {
        None
    };
    let courses = ranked.drain(offset..end).map(|(_, c)| c).collect();
    Selection {
        courses,
        total,
        offset,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{CourseDescription, CourseTitle, Price};
    use crate::ids::TenantId;
    use proptest::prelude::*;
    use time::OffsetDateTime;

    fn course(title: &str, description: &str, minute: i64) -> Course {
        let mut c = Course::draft(
            TenantId::parse("t").unwrap(),
            UserId::new(),
            CourseTitle::parse(title).unwrap(),
            CourseDescription::parse(description).unwrap(),
            None,
            CourseCategory::Programming,
            DifficultyLevel::Beginner,
            Price::parse(0, "USD").unwrap(),
            OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute),
        );
        c.status = CourseStatus::Published;
        c
    }

    fn titles(selection: &Selection) -> Vec<&str> {
        selection.courses.iter().map(|c| c.title.as_str()).collect()
    }

    fn search(s: &str) -> Search {
        Search::parse(s).unwrap()
    }

    #[test]
    fn words_are_split_at_punctuation_and_lowercased() {
        let w: Vec<String> = words("Rust's ÉCOLE: async/await, v2.0!").collect();
        assert_eq!(w, ["rust", "s", "école", "async", "await", "v2", "0"]);
    }

    #[test]
    fn a_search_matches_word_prefixes_in_title_or_description_whatever_the_case() {
        assert!(search("RUS web").matches("Rust for the Web", ""));
        assert!(search("axum").matches("Rust", "Axum, Lambda and DynamoDB."));
        assert!(search("dynamo lamb").matches("Rust", "Axum, Lambda and DynamoDB."));
        assert!(search("").matches("Anything", ""));
        assert!(search("  ,, ").matches("Anything", ""));
        // Every word must match, and only at the start of a word.
        assert!(!search("rust python").matches("Rust for the Web", ""));
        assert!(!search("ust").matches("Rust for the Web", ""));
        assert!(search("ΟΔΟΣ").matches("Οδοσο", ""));
    }

    #[test]
    fn a_search_longer_than_200_characters_is_refused() {
        assert!(Search::parse(&"a".repeat(MAX_SEARCH_CHARS)).is_ok());
        assert!(Search::parse(&"é".repeat(MAX_SEARCH_CHARS + 1)).is_err());
    }

    #[test]
    fn filters_check_every_field() {
        let mut c = course("Rust for the Web", "", 0);
        let mut filter = CatalogFilter::published();
        assert!(filter.matches(&c));
        filter.category = Some(CourseCategory::Music);
        assert!(!filter.matches(&c));
        filter.category = Some(CourseCategory::Programming);
        filter.difficulty = Some(DifficultyLevel::Advanced);
        assert!(!filter.matches(&c));
        filter.difficulty = Some(DifficultyLevel::Beginner);
        filter.instructor = Some(UserId::new());
        assert!(!filter.matches(&c));
        filter.instructor = Some(c.instructor_id);
        assert!(filter.matches(&c));
        c.deleting_since = Some(OffsetDateTime::UNIX_EPOCH);
        assert!(
            !filter.matches(&c),
            "a course being deleted is never listed"
        );
        c.deleting_since = None;
        c.status = CourseStatus::Draft;
        assert!(!filter.matches(&c));
    }

    #[test]
    fn each_order_sorts_as_documented() {
        let mut a = course("banana", "", 1);
        let mut b = course("Apple", "", 2);
        let mut c = course("cherry", "", 3);
        a.total_ratings = 2;
        a.rating_sum = 8; // 4.0 from 2
        b.total_ratings = 4;
        b.rating_sum = 16; // 4.0 from 4
        c.total_ratings = 1;
        c.rating_sum = 5; // 5.0
        a.total_enrollments = 7;
        b.total_enrollments = 3;
        c.total_enrollments = 7;
        let all = [a, b, c];
        let run = |sort| {
            let s = select(
                all.clone(),
                &CatalogFilter::published(),
                sort,
                &Window::Page(1),
                10,
            );
            titles(&s)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(CatalogSort::Newest), ["cherry", "Apple", "banana"]);
        assert_eq!(run(CatalogSort::Title), ["Apple", "banana", "cherry"]);
        assert_eq!(run(CatalogSort::Rating), ["cherry", "Apple", "banana"]);
        assert_eq!(run(CatalogSort::Enrollments), ["cherry", "banana", "Apple"]);
    }

    #[test]
    fn pages_and_positions_cut_the_same_list() {
        let all: Vec<Course> = (0..7)
            .map(|i| course(&format!("Course {i}"), "", i))
            .collect();
        let filter = CatalogFilter::published();
        let second = select(
            all.clone(),
            &filter,
            CatalogSort::Newest,
            &Window::Page(2),
            3,
        );
        assert_eq!(titles(&second), ["Course 3", "Course 2", "Course 1"]);
        assert_eq!((second.total, second.offset), (7, 3));
        let first = select(
            all.clone(),
            &filter,
            CatalogSort::Newest,
            &Window::Page(1),
            3,
        );
        let after = first.next.expect("more follow the first page");
        assert_eq!(
            select(
                all.clone(),
                &filter,
                CatalogSort::Newest,
                &Window::After(after),
                3
            ),
            second
        );
        let last = select(
            all.clone(),
            &filter,
            CatalogSort::Newest,
            &Window::Page(3),
            3,
        );
        assert_eq!(titles(&last), ["Course 0"]);
        assert_eq!(last.next, None);
        let beyond = select(all, &filter, CatalogSort::Newest, &Window::Page(9), 3);
        assert_eq!(
            (beyond.courses.len(), beyond.offset, beyond.next),
            (0, 7, None)
        );
    }

    #[test]
    fn fingerprints_differ_by_filter_and_order_but_not_by_search_case() {
        let mut filter = CatalogFilter::published();
        let plain = filter.fingerprint(CatalogSort::Newest);
        assert_ne!(plain, filter.fingerprint(CatalogSort::Title));
        filter.search = search("Web rust");
        let searched = filter.fingerprint(CatalogSort::Newest);
        assert_ne!(plain, searched);
        filter.search = search("RUST, web");
        assert_eq!(searched, filter.fingerprint(CatalogSort::Newest));
        filter.category = Some(CourseCategory::Art);
        assert_ne!(searched, filter.fingerprint(CatalogSort::Newest));
    }

    #[test]
    fn positions_round_trip_through_json() {
        let c = course("Rust", "", 5);
        for sort in [
            CatalogSort::Newest,
            CatalogSort::Title,
            CatalogSort::Rating,
            CatalogSort::Enrollments,
        ] {
            let p = Position::of(&c, sort);
            let back: Position = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
            assert_eq!((back.sort(), &back), (sort, &p));
        }
    }

    fn any_sort() -> impl Strategy<Value = CatalogSort> {
        prop_oneof![
            Just(CatalogSort::Newest),
            Just(CatalogSort::Title),
            Just(CatalogSort::Rating),
            Just(CatalogSort::Enrollments),
        ]
    }

    proptest! {
        #[test]
        fn a_course_matches_a_search_made_of_prefixes_of_its_title_words(
            title in "\\PC{3,60}",
            cuts in proptest::collection::vec((any::<prop::sample::Index>(), 1usize..8), 1..5),
        ) {
            let title_words: Vec<&str> = title
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            prop_assume!(!title_words.is_empty());
            let query = cuts
                .iter()
                .map(|(i, n)| i.get(&title_words).chars().take(*n).collect::<String>())
                .collect::<Vec<_>>()
                .join(" ");
            let search = Search::parse(&query).unwrap();
            prop_assert!(search.matches(&title, ""), "{:?} in {:?}", search, title);
            prop_assert!(search.matches("", &title), "{:?} in {:?}", search, title);
        }

        #[test]
        fn a_search_ignores_case(
            title in "[A-Za-z][A-Za-z ,.]{2,40}",
            cuts in proptest::collection::vec((any::<prop::sample::Index>(), 1usize..8), 1..4),
        ) {
            let title_words: Vec<&str> = title
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let query = cuts
                .iter()
                .map(|(i, n)| i.get(&title_words).chars().take(*n).collect::<String>())
                .collect::<Vec<_>>()
                .join(" ");
            for variant in [query.to_uppercase(), query.to_lowercase()] {
                let search = Search::parse(&variant).unwrap();
                prop_assert!(search.matches(&title.to_lowercase(), ""));
                prop_assert!(search.matches(&title.to_uppercase(), ""));
            }
        }

        #[test]
        fn walking_by_positions_visits_every_match_once_in_page_order(
            n in 0usize..30,
            limit in 1usize..7,
            sort in any_sort(),
            enrollments in proptest::collection::vec(0u32..3, 30),
            ratings in proptest::collection::vec((0u32..3, 0u64..4), 30),
        ) {
            let all: Vec<Course> = (0..n)
                .map(|i| {
                    let mut c = course(&format!("Course {}", i % 4), "", (i % 5) as i64);
                    c.total_enrollments = enrollments[i];
                    c.total_ratings = ratings[i].0;
                    c.rating_sum = u64::from(ratings[i].0) * ratings[i].1.min(5);
                    c
                })
                .collect();
            let filter = CatalogFilter::published();
            let everything = select(all.clone(), &filter, sort, &Window::Page(1), 100);
            let mut walked = Vec::new();
            let mut window = Window::Page(1);
            let mut page = 1;
            loop {
                let s = select(all.clone(), &filter, sort, &window, limit);
                let by_page = select(all.clone(), &filter, sort, &Window::Page(page), limit);
                prop_assert_eq!(&s, &by_page);
                walked.extend(s.courses.iter().map(|c| c.id));
                match s.next {
                    Some(p) => { window = Window::After(p); page += 1; }
                    None => break,
                }
            }
            let expected: Vec<CourseId> = everything.courses.iter().map(|c| c.id).collect();
            prop_assert_eq!(walked, expected);
        }
    }
}
