//! Courses: what a catalog entry is made of, and the rules its values follow. Contract: seed 002
//! `CourseDetails`, `CourseCategory`, `DifficultyLevel`; issue "Courses" (price in minor units with an
//! ISO 4217 currency, draft until published).

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use time::OffsetDateTime;

use crate::ids::{CourseId, TenantId, UserId};
use crate::validation::Invalid;

/// Seed 002 `CourseCategory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CourseCategory {
    Programming,
    Design,
    Business,
    Marketing,
    Science,
    Language,
    Music,
    Art,
    Other,
}

/// Seed 002 `DifficultyLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifficultyLevel {
    Beginner,
    Intermediate,
    Advanced,
}

/// Whether students can see and enroll in a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CourseStatus {
    /// Being written: its instructor and admins see it.
    Draft,
    /// In the catalog, open to enrollment and purchase.
    Published,
    /// Retired (Canvas: concluded): out of the catalog, closed to new enrollments and purchases;
    /// its enrolled students keep reading it with their progress and grades. Unarchiving publishes
    /// it again.
    Archived,
}

/// A course title: 3–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CourseTitle(String);

impl CourseTitle {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let len = value.chars().count();
        if !(3..=200).contains(&len) || value.chars().any(char::is_control) {
            return Err(Invalid::new("must be 3-200 characters"));
        }
        Ok(CourseTitle(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A course description: at most 10,000 characters (plain text or markdown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CourseDescription(String);

impl CourseDescription {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        if value.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(CourseDescription(value.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 currency code, upper case (`USD`, `EUR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Three ASCII letters, in either case; stored upper case.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let bytes = value.trim().as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(Invalid::new(
                "must be a three-letter ISO 4217 currency code",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A course's price in the currency's minor units (cents): 0 means free. At most 1,000,000.00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub amount: u64,
    pub currency: Currency,
}

impl Price {
    pub const MAX_MINOR_UNITS: i64 = 100_000_000;

    pub fn parse(amount: i64, currency: &str) -> Result<Self, Invalid> {
        if !(0..=Self::MAX_MINOR_UNITS).contains(&amount) {
            return Err(Invalid::new(format!(
                "must be between 0 and {} (minor units, e.g. cents)",
                Self::MAX_MINOR_UNITS
            )));
        }
        Ok(Price {
            amount: amount as u64,
            currency: Currency::parse(currency)?,
        })
    }

    pub fn is_free(&self) -> bool {
        self.amount == 0
    }
}

/// An `https` URL (a thumbnail), at most 2,048 characters. Plain `http` is refused so that pages
/// served over TLS never load mixed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let host = value
            .strip_prefix("https://")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
        match host {
            Some(host)
                if !host.is_empty()
                    && value.len() <= 2048
                    && !value.chars().any(char::is_whitespace) =>
            {
                Ok(HttpsUrl(value.to_owned()))
            }
            _ => Err(Invalid::new(
                "must be an https:// URL of at most 2048 characters",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A course as stored. Counters that lists show (lessons, enrollments, ratings) are kept on the item
/// and maintained by the writes that change them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Course {
    pub id: CourseId,
    pub tenant: TenantId,
    pub instructor_id: UserId,
    pub title: CourseTitle,
    pub description: CourseDescription,
    pub thumbnail_url: Option<HttpsUrl>,
    pub category: CourseCategory,
    pub difficulty_level: DifficultyLevel,
    pub price: Price,
    pub status: CourseStatus,
    pub total_lessons: u32,
    #[serde(default)]
    pub total_quizzes: u32,
    #[serde(default)]
    pub total_assignments: u32,
    /// Students enrolled now (unenrolling takes one off).
    pub total_enrollments: u32,
    /// Enrollments that reached completion (every lesson done, every quiz passed).
    #[serde(default)]
    pub total_completions: u32,
    pub total_ratings: u32,
    /// Sum of all ratings (1–5 each); the average is derived from it.
    pub rating_sum: u64,
    /// Courses a student must have completed before enrolling in this one.
    #[serde(default)]
    pub prerequisites: Vec<CourseId>,
    /// Bumped by every change to `prerequisites`, so that concurrent link changes (which could close
    /// a cycle together) are serialised. The other direction lives apart, in [`RequiredBy`], so that
    /// linking never writes another instructor's course.
    #[serde(default)]
    pub links_version: u64,
    /// Set when deletion starts: from then on the course is invisible, and deleting it again resumes.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleting_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    pub version: u64,
    /// Whether the catalog's lists, counts and search terms include this course. Courses stored
    /// before the catalog had its index lack it; the next update of such a course writes them.
    #[serde(default)]
    pub indexed: bool,
}

/// The courses that name a course as a prerequisite: a record of its own beside the course (so that
/// another instructor linking to it never rewrites the course), bounded so that the course page that
/// lists them reads a bounded number of items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredBy {
    #[serde(default)]
    pub courses: Vec<CourseId>,
    /// 0 before the first link; bumped by every change, which is conditioned on the version read.
    #[serde(default)]
    pub version: u64,
}

impl RequiredBy {
    /// Most courses that may name one course as a prerequisite.
    pub const MAX: usize = 40;

    pub fn is_full(&self) -> bool {
        self.courses.len() >= Self::MAX
    }

    /// The record with `course` added.
    pub fn with(&self, course: CourseId) -> RequiredBy {
        let mut next = self.clone();
        if !next.courses.contains(&course) {
            next.courses.push(course);
        }
        next.version += 1;
        next
    }

    /// The record with `course` removed.
    pub fn without(&self, course: CourseId) -> RequiredBy {
        let mut next = self.clone();
        next.courses.retain(|c| *c != course);
        next.version += 1;
        next
    }
}

impl Course {
    /// The average rating, 0 when unrated.
    pub fn average_rating(&self) -> f64 {
        if self.total_ratings == 0 {
            0.0
        } else {
            (self.rating_sum as f64 / f64::from(self.total_ratings) * 100.0).round() / 100.0
        }
    }

    pub fn is_published(&self) -> bool {
        self.status == CourseStatus::Published && self.deleting_since.is_none()
    }

    pub fn is_archived(&self) -> bool {
        self.status == CourseStatus::Archived && self.deleting_since.is_none()
    }

    /// A new draft course with no content yet.
    #[allow(clippy::too_many_arguments)]
    pub fn draft(
        tenant: TenantId,
        instructor_id: UserId,
        title: CourseTitle,
        description: CourseDescription,
        thumbnail_url: Option<HttpsUrl>,
        category: CourseCategory,
        difficulty_level: DifficultyLevel,
        price: Price,
        now: OffsetDateTime,
    ) -> Course {
        Course {
            id: CourseId::new(),
            tenant,
            instructor_id,
            title,
            description,
            thumbnail_url,
            category,
            difficulty_level,
            price,
            status: CourseStatus::Draft,
            total_lessons: 0,
            total_quizzes: 0,
            total_assignments: 0,
            total_enrollments: 0,
            total_completions: 0,
            total_ratings: 0,
            rating_sum: 0,
            prerequisites: Vec::new(),
            links_version: 0,
            deleting_since: None,
            indexed: false,
            created_at: now,
            updated_at: now,
            published_at: None,
            version: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn enums_use_the_seed_wire_names() {
        assert_eq!(
            serde_json::to_string(&CourseCategory::Programming).unwrap(),
            "\"programming\""
        );
        assert_eq!(
            serde_json::to_string(&DifficultyLevel::Intermediate).unwrap(),
            "\"intermediate\""
        );
        let unknown = serde_json::from_str::<CourseCategory>("\"cooking\"")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("programming") && unknown.contains("other"),
            "{unknown}"
        );
    }

    #[test]
    fn prices_are_minor_units_with_a_currency() {
        let price = Price::parse(1999, "eur").unwrap();
        assert_eq!((price.amount, price.currency.as_str()), (1999, "EUR"));
        assert!(Price::parse(0, "USD").unwrap().is_free());
        assert!(Price::parse(-1, "USD").is_err());
        assert!(Price::parse(100, "US").is_err());
        assert!(Price::parse(100, "U$D").is_err());
        assert_eq!(
            serde_json::to_value(price).unwrap(),
            serde_json::json!({"amount": 1999, "currency": "EUR"})
        );
    }

    #[test]
    fn titles_and_urls_are_checked() {
        assert!(CourseTitle::parse("  Rust  ").is_ok());
        assert!(CourseTitle::parse("ab").is_err());
        assert!(HttpsUrl::parse("https://cdn.example.org/t.png").is_ok());
        for bad in [
            "http://x.org/t.png",
            "https:///nohost",
            "javascript:alert(1)",
            "https://a b",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_currency_is_three_upper_case_letters(s in "\\PC{0,6}") {
            if let Ok(c) = Currency::parse(&s) {
                prop_assert!(c.as_str().len() == 3 && c.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            }
        }

        #[test]
        fn a_currency_round_trips_through_json(s in "[a-zA-Z]{3}") {
            let c = Currency::parse(&s).unwrap();
            let back: Currency = serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap();
            prop_assert_eq!(back, c);
        }
    }
}
