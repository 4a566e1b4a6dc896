//! The catalog at scale: pages of the catalog read from stores holding 100, 1,000 and 10,000
//! published courses (seeded through the repositories, not the API), with each page's latency and
//! the items it read (the counting store). The budget (ARCHITECTURE, issue 22 item 19): p50 at the
//! largest size within 1.5× of p50 at the smallest, and a page reads at most twice its size plus
//! its instructors (plus the list's count item).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lectern_domain::catalog::{CatalogFilter, CatalogSort, Search};
use lectern_domain::course::{
    Course, CourseCategory, CourseDescription, CourseStatus, CourseTitle, DifficultyLevel, Price,
};
use lectern_domain::user::{Email, NewUser, PersonName, User, UserRole, Username};
use lectern_domain::{TenantId, UserId};
use lectern_store::catalog::{CatalogRepo, CatalogStart};
use lectern_store::courses::CourseRepo;
use lectern_store::users::UserRepo;
use lectern_store::{Actor, Power, Table};
use lectern_testkit::counting::CountingTable;
use serde::Serialize;

use crate::stats::Summary;

/// Where the courses are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The embedded SQLite table, in a temporary folder.
    Sqlite,
    /// DynamoDB as moto serves it on loopback (installed on first use): its latencies are moto's,
    /// so only its items read compare with production.
    Dynamo,
}

#[derive(Debug, Clone)]
pub struct CatalogOptions {
    pub sizes: Vec<usize>,
    /// Pages read per scenario and size (after 5 unmeasured ones).
    pub requests: usize,
    /// Courses per page.
    pub limit: usize,
    pub backend: Backend,
    pub output: PathBuf,
}

/// Instructors the seeded courses alternate between.
const INSTRUCTORS: usize = 20;
/// Seeded courses that mention "quantum" (the search scenario's word), whatever the size.
const TAGGED: usize = 10;

/// One scenario at one size.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub size: usize,
    pub scenario: &'static str,
    pub latency: Summary,
    /// Items the largest page of the scenario read.
    pub items_read: usize,
    /// Distinct instructors on that page.
    pub instructors: usize,
    /// Courses on that page.
    pub courses: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogReport {
    pub backend: Backend,
    pub limit: usize,
    pub rows: Vec<Row>,
}

impl CatalogReport {
    /// p50 of the default list at the largest size ÷ at the smallest.
    pub fn growth(&self) -> Option<f64> {
        let default: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.scenario == SCENARIOS[0].0)
            .collect();
        let (first, last) = (default.first()?, default.last()?);
        (first.latency.p50_ms > 0.0).then(|| last.latency.p50_ms / first.latency.p50_ms)
    }

    /// Rows whose pages read more than twice their size, plus their instructors and the count.
    pub fn over_budget(&self) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| r.items_read > 2 * self.limit + r.instructors + 1)
            .collect()
    }
}

type Scenario = (&'static str, fn(&mut CatalogFilter) -> CatalogSort, bool);

/// The pages measured: a filter and an order, from the first page or by cursor from the second.
const SCENARIOS: [Scenario; 10] = [
    ("newest", |_| CatalogSort::Newest, false),
    ("newest, page 2 by cursor", |_| CatalogSort::Newest, true),
    ("title", |_| CatalogSort::Title, false),
    ("rating", |_| CatalogSort::Rating, false),
    ("enrollments", |_| CatalogSort::Enrollments, false),
    (
        "category",
        |f| {
            f.category = Some(CourseCategory::Design);
            CatalogSort::Newest
        },
        false,
    ),
    (
        "category + difficulty, by rating",
        |f| {
            f.category = Some(CourseCategory::Music);
            f.difficulty = Some(DifficultyLevel::Advanced);
            CatalogSort::Rating
        },
        false,
    ),
    (
        "difficulty, by title",
        |f| {
            f.difficulty = Some(DifficultyLevel::Beginner);
            CatalogSort::Title
        },
        false,
    ),
    ("instructor", |_| CatalogSort::Newest, false),
    (
        "search (10 matches), by enrollments",
        |f| {
            f.search = Search::parse("quantum").unwrap_or_default();
            CatalogSort::Enrollments
        },
        false,
    ),
];

const CATEGORIES: [CourseCategory; 9] = [
    CourseCategory::Programming,
    CourseCategory::Design,
    CourseCategory::Business,
    CourseCategory::Marketing,
    CourseCategory::Science,
    CourseCategory::Language,
    CourseCategory::Music,
    CourseCategory::Art,
    CourseCategory::Other,
];

const LEVELS: [DifficultyLevel; 3] = [
    DifficultyLevel::Beginner,
    DifficultyLevel::Intermediate,
    DifficultyLevel::Advanced,
];

async fn seed(
    table: Arc<dyn Table>,
    tenant: &TenantId,
    size: usize,
) -> anyhow::Result<Vec<UserId>> {
    let users = UserRepo::new(table.clone());
    let now = lectern_domain::user::now();
    let mut instructors = Vec::new();
    for i in 0..INSTRUCTORS {
        let new = NewUser {
            email: Email::parse(&format!("teacher{i}@example.org"))?,
            username: Username::parse(&format!("teacher{i}"))?,
            first_name: PersonName::parse("Ada")?,
            last_name: PersonName::parse("Lovelace")?,
            role: UserRole::Instructor,
            preferred_study_time: None,
        };
        let user = User::create(tenant.clone(), new, "not-a-hash".into(), now);
        users
            .create(&user)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        instructors.push(user.id);
    }
    let courses = CourseRepo::new(table);
    for i in 0..size {
        let description = if i < TAGGED {
            "Quantum computing from qubits to algorithms, with exercises."
        } else {
            "Lectures, exercises and projects, from the basics to practice."
        };
        let mut course = Course::draft(
            tenant.clone(),
            instructors[i % INSTRUCTORS],
            CourseTitle::parse(&format!("Course number {i}"))?,
            CourseDescription::parse(description)?,
            None,
            CATEGORIES[i % CATEGORIES.len()],
            LEVELS[(i / CATEGORIES.len()) % LEVELS.len()],
            Price::parse(0, "USD")?,
            now + time::Duration::milliseconds(i as i64),
        );
        course.status = CourseStatus::Published;
        course.published_at = Some(now);
        course.total_enrollments = (i * 7919 % 1000) as u32;
        course.total_ratings = (i % 13) as u32;
        course.rating_sum = u64::from(course.total_ratings) * (1 + (i % 5) as u64);
        // Each course is created as its instructor would create it, checked as they are.
        let actor = Actor::new(tenant.clone(), course.instructor_id, Power::Teaching);
        courses
            .create(&actor, &course)
            .await
            .with_context(|| format!("seeding course {i}"))?;
    }
    Ok(instructors)
}

async fn measure<T: Table>(
    counting: &Arc<CountingTable<T>>,
    repo: &CatalogRepo,
    tenant: &TenantId,
    size: usize,
    scenario: &Scenario,
    instructor: UserId,
    options: &CatalogOptions,
) -> anyhow::Result<Row> {
    let (name, shape, by_cursor) = scenario;
    let mut filter = CatalogFilter::published();
    let sort = shape(&mut filter);
    if *name == "instructor" {
        filter.instructor = Some(instructor);
    }
    let start = if *by_cursor {
        let first = repo
            .list(tenant, &filter, sort, &CatalogStart::Page(1), options.limit)
            .await?;
        CatalogStart::Cursor(first.next.context("a second page")?)
    } else {
        CatalogStart::Page(1)
    };
    let mut samples = Vec::with_capacity(options.requests);
    let (mut items_read, mut instructors, mut courses) = (0, 0, 0);
    for round in 0..options.requests + 5 {
        counting.take();
        let started = Instant::now();
        let page = repo
            .list(tenant, &filter, sort, &start, options.limit)
            .await?;
        let took: Duration = started.elapsed();
        let read = counting.take().items_read;
        if round >= 5 {
            samples.push(took);
            if read > items_read {
                items_read = read;
                instructors = page.instructors.len();
                courses = page.courses.len();
            }
        }
    }
    Ok(Row {
        size,
        scenario: name,
        latency: Summary::of(&samples),
        items_read,
        instructors,
        courses,
    })
}

async fn run_size<T: Table>(
    inner: T,
    size: usize,
    options: &CatalogOptions,
) -> anyhow::Result<Vec<Row>> {
    let counting = Arc::new(CountingTable::new(inner));
    let table: Arc<dyn Table> = counting.clone();
    let tenant = TenantId::parse("bench")?;
    let started = Instant::now();
    let instructors = seed(table.clone(), &tenant, size).await?;
    eprintln!(
        "seeded {size} courses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let repo = CatalogRepo::new(table);
    let mut rows = Vec::new();
    for scenario in &SCENARIOS {
        rows.push(
            measure(
                &counting,
                &repo,
                &tenant,
                size,
                scenario,
                instructors[0],
                options,
            )
            .await?,
        );
    }
    Ok(rows)
}

pub async fn run(options: &CatalogOptions) -> anyhow::Result<CatalogReport> {
    let mut rows = Vec::new();
    for &size in &options.sizes {
        match options.backend {
            Backend::Sqlite => {
                let (_dir, table) = lectern_testkit::temp_sqlite();
                rows.extend(run_size(table, size, options).await?);
            }
            Backend::Dynamo => {
                let table = lectern_testkit::moto::moto().await.fresh_table().await;
                rows.extend(run_size(table, size, options).await?);
            }
        }
    }
    let report = CatalogReport {
        backend: options.backend,
        limit: options.limit,
        rows,
    };
    if let Some(parent) = options.output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&options.output, serde_json::to_vec_pretty(&report)?)?;
    Ok(report)
}

pub fn render_table(report: &CatalogReport) -> String {
    let mut out = format!(
        "catalog on {:?}, {} courses a page\n{:>7}  {:<36} {:>8} {:>8} {:>6} {:>12}\n",
        report.backend, report.limit, "courses", "page", "p50 ms", "p95 ms", "items", "instructors"
    );
    for row in &report.rows {
        out += &format!(
            "{:>7}  {:<36} {:>8.3} {:>8.3} {:>6} {:>12}\n",
            row.size,
            row.scenario,
            row.latency.p50_ms,
            row.latency.p95_ms,
            row.items_read,
            row.instructors
        );
    }
    if let Some(growth) = report.growth() {
        out +=
            &format!("p50 of the newest page, largest size ÷ smallest: {growth:.2} (budget 1.5)\n");
    }
    let over = report.over_budget();
    out += &if over.is_empty() {
        format!(
            "every page read at most 2 × {} + its instructors + 1 (the count) items\n",
            report.limit
        )
    } else {
        format!(
            "{} pages read more than 2 × {} + their instructors + 1 items\n",
            over.len(),
            report.limit
        )
    };
    out
}
