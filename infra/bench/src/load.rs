//! The `load` run: the local server on 127.0.0.1 with a seeded catalog, driven by closed-loop virtual
//! students at a few concurrency levels, each for a bounded time, with a realistic mix of requests.
//! Reports throughput and latency percentiles per level and per action; every answer is checked.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::api::{Api, SeededCourse};
use crate::server::LocalServer;
use crate::stats::Summary;
use crate::targets::KeyPair;

/// The p99 the throughput figure is quoted at (the budget's "req/s at p99 < 50 ms").
pub const P99_LIMIT_MS: f64 = 50.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The whole run's measured time, shared equally by the levels.
    pub duration: Duration,
    /// Virtual students at each level, in order.
    pub concurrency: Vec<usize>,
    pub courses: usize,
    pub lessons: usize,
    /// The server's tokio worker threads.
    pub server_workers: usize,
    pub output: PathBuf,
}

/// What one virtual student does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `GET /api/v1/courses` with filters, search, sorts and pages.
    BrowseCatalog,
    /// `GET /api/v1/courses/{id}`.
    CourseDetails,
    /// `POST /api/v1/courses/{id}/enroll` (a course the student is not in yet).
    Enroll,
    /// `POST /api/v1/lessons/complete` (a lesson of a course the student is in).
    CompleteLesson,
    /// `POST /api/v1/auth/signin` (argon2id verification: deliberately slow).
    SignIn,
}

const ACTIONS: [Action; 5] = [
    Action::BrowseCatalog,
    Action::CourseDetails,
    Action::Enroll,
    Action::CompleteLesson,
    Action::SignIn,
];

impl Action {
    /// The mix, in percent: mostly reading, some progress, few enrollments and sign-ins.
    fn weight(self) -> u64 {
        match self {
            Action::BrowseCatalog => 45,
            Action::CourseDetails => 35,
            Action::Enroll => 5,
            Action::CompleteLesson => 14,
            Action::SignIn => 1,
        }
    }

    fn pick(roll: u64) -> Action {
        let mut roll = roll % 100;
        for action in ACTIONS {
            if roll < action.weight() {
                return action;
            }
            roll -= action.weight();
        }
        Action::BrowseCatalog
    }
}

/// The figures of one action at one level.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    pub action: Action,
    pub requests: usize,
    pub latency: Summary,
}

/// The figures of one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelResult {
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: usize,
    pub requests_per_second: f64,
    pub latency: Summary,
    pub errors: usize,
    pub error_samples: Vec<String>,
    pub actions: Vec<ActionResult>,
}

/// Everything a `load` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub cores: usize,
    pub server_workers: usize,
    pub courses: usize,
    pub lessons_per_course: usize,
    pub students: usize,
    pub mix_percent: Vec<(Action, u64)>,
    pub levels: Vec<LevelResult>,
    /// The highest throughput of a level whose p99 stayed under [`P99_LIMIT_MS`].
    pub best_requests_per_second_at_p99_under_50ms: Option<f64>,
}

impl LoadReport {
    pub fn errors(&self) -> usize {
        self.levels.iter().map(|l| l.errors).sum()
    }
}

/// A virtual student: their token and where they are in the catalog.
struct Student {
    email: String,
    token: String,
    enrolled: Vec<usize>,
    next_course: usize,
    rng: u64,
}

/// Runs the load and writes the JSON; the caller prints [`render_table`].
pub async fn run(options: &LoadOptions) -> anyhow::Result<LoadReport> {
    ensure!(
        !options.concurrency.is_empty() && options.concurrency.iter().all(|c| *c > 0),
        "--concurrency needs positive levels"
    );
    ensure!(
        options.courses > 0 && options.lessons > 0,
        "--courses and --lessons must be positive"
    );
    let data = tempfile::tempdir().context("a temporary data folder")?;
    let keys = KeyPair::generate()?;
    let server = LocalServer::start(
        crate::server::config(data.path(), &keys.private_pem)?,
        options.server_workers,
    )
    .await?;
    let api = Api::new(&server.base)?;

    eprintln!(
        "seeding {} courses of {} lessons",
        options.courses, options.lessons
    );
    api.instructor("teacher@load.example.org", "load-teacher")
        .await?;
    let teacher = api.signin("teacher@load.example.org").await?;
    let mut catalog = Vec::with_capacity(options.courses);
    for n in 0..options.courses {
        catalog.push(
            api.published_course(&teacher, n, options.lessons, 0)
                .await?,
        );
    }
    let catalog = Arc::new(catalog);
    let students_needed = options.concurrency.iter().copied().max().unwrap_or(1);
    eprintln!("seeding {students_needed} students");
    let mut students = Vec::with_capacity(students_needed);
    for n in 0..students_needed {
        let email = format!("student{n}@load.example.org");
        api.register(&email, &format!("student-{n}"), "student")
            .await?;
        students.push(Student {
            token: api.signin(&email).await?,
            email,
            enrolled: Vec::new(),
            next_course: (n * 7) % options.courses,
            rng: 0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1),
        });
    }

    let per_level = options.duration / options.concurrency.len() as u32;
    let mut levels = Vec::new();
    for &concurrency in &options.concurrency {
        eprintln!("{concurrency} concurrent students for {per_level:?}");
        let started = Instant::now();
        let deadline = started + per_level;
        let mut tasks = Vec::with_capacity(concurrency);
        for student in students.drain(..concurrency) {
            let (api, catalog) = (api.clone(), catalog.clone());
            tasks.push(tokio::spawn(async move {
                drive(api, catalog, student, deadline).await
            }));
        }
        let mut samples: Vec<(Action, Duration)> = Vec::new();
        let mut errors = 0;
        let mut error_samples = Vec::new();
        let mut back = Vec::with_capacity(concurrency);
        for task in tasks {
            let run = task.await.context("a virtual student panicked")?;
            samples.extend(run.samples);
            errors += run.errors;
            error_samples.extend(run.error_samples);
            back.push(run.student);
        }
        let seconds = started.elapsed().as_secs_f64();
        // The students keep their enrollments for the next level.
        back.append(&mut students);
        students = back;
        error_samples.truncate(5);
        let all: Vec<Duration> = samples.iter().map(|(_, d)| *d).collect();
        levels.push(LevelResult {
            concurrency,
            seconds,
            requests: all.len(),
            requests_per_second: all.len() as f64 / seconds,
            latency: Summary::of(&all),
            errors,
            error_samples,
            actions: ACTIONS
                .iter()
                .map(|action| {
                    let of: Vec<Duration> = samples
                        .iter()
                        .filter(|(a, _)| a == action)
                        .map(|(_, d)| *d)
                        .collect();
                    ActionResult {
                        action: *action,
                        requests: of.len(),
                        latency: Summary::of(&of),
                    }
                })
                .collect(),
        });
    }
    drop(server);

    let report = LoadReport {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        server_workers: options.server_workers,
        courses: options.courses,
        lessons_per_course: options.lessons,
        students: students_needed,
        mix_percent: ACTIONS.iter().map(|a| (*a, a.weight())).collect(),
        best_requests_per_second_at_p99_under_50ms: levels
            .iter()
            .filter(|l| l.latency.p99_ms < P99_LIMIT_MS && l.errors == 0)
            .map(|l| l.requests_per_second)
            .reduce(f64::max),
        levels,
    };
    if let Some(parent) = options.output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&options.output, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", options.output.display()))?;
    Ok(report)
}

struct StudentRun {
    student: Student,
    samples: Vec<(Action, Duration)>,
    errors: usize,
    error_samples: Vec<String>,
}

/// One virtual student's closed loop until `deadline`.
async fn drive(
    api: Api,
    catalog: Arc<Vec<SeededCourse>>,
    mut student: Student,
    deadline: Instant,
) -> StudentRun {
    let mut samples = Vec::new();
    let mut errors = 0;
    let mut error_samples = Vec::new();
    while Instant::now() < deadline {
        let mut action = Action::pick(next(&mut student.rng));
        // Enroll while there are courses left; complete lessons once enrolled somewhere.
        if action == Action::Enroll && student.enrolled.len() == catalog.len() {
            action = Action::CompleteLesson;
        }
        if action == Action::CompleteLesson && student.enrolled.is_empty() {
            action = Action::Enroll;
        }
        let roll = next(&mut student.rng) as usize;
        let (method, path, body, status) = match action {
            Action::BrowseCatalog => {
                const QUERIES: [&str; 5] = [
                    "?limit=20",
                    "?category=programming&limit=10",
                    "?sort=title&limit=10&page=2",
                    "?search=learning&limit=10",
                    "?difficulty=beginner&sort=enrollments",
                ];
                let query = QUERIES[roll % QUERIES.len()];
                (Method::GET, format!("/api/v1/courses{query}"), None, 200)
            }
            Action::CourseDetails => {
                let course = &catalog[roll % catalog.len()];
                (
                    Method::GET,
                    format!("/api/v1/courses/{}", course.id),
                    None,
                    200,
                )
            }
            Action::Enroll => {
                let index = (student.next_course..student.next_course + catalog.len())
                    .map(|i| i % catalog.len())
                    .find(|i| !student.enrolled.contains(i))
                    .unwrap_or(0);
                student.next_course = index + 1;
                (
                    Method::POST,
                    format!("/api/v1/courses/{}/enroll", catalog[index].id),
                    Some(json!({})),
                    201,
                )
            }
            Action::CompleteLesson => {
                let course = &catalog[student.enrolled[roll % student.enrolled.len()]];
                let lesson = &course.lessons[(roll / 7) % course.lessons.len()];
                (
                    Method::POST,
                    "/api/v1/lessons/complete".to_owned(),
                    Some(json!({ "lessonId": lesson, "courseId": course.id })),
                    200,
                )
            }
            Action::SignIn => (
                Method::POST,
                "/api/v1/auth/signin".to_owned(),
                Some(json!({ "email": student.email, "password": crate::api::PASSWORD })),
                200,
            ),
        };
        let token = (action != Action::SignIn).then_some(student.token.as_str());
        let started = Instant::now();
        let reply = api.call(method.clone(), &path, token, body.as_ref()).await;
        samples.push((action, started.elapsed()));
        match reply {
            Ok((got, reply)) if got == status => match action {
                Action::Enroll => {
                    if let Some(i) = catalog.iter().position(|c| path.contains(&c.id)) {
                        student.enrolled.push(i);
                    }
                }
                Action::SignIn => {
                    if let Some(token) = reply["accessToken"].as_str() {
                        student.token = token.to_owned();
                    }
                }
                _ => {}
            },
            Ok((got, reply)) => {
                errors += 1;
                if error_samples.len() < 5 {
                    error_samples.push(format!(
                        "{method} {path}: {got} (expected {status}) {reply}"
                    ));
                }
            }
            Err(e) => {
                errors += 1;
                if error_samples.len() < 5 {
                    error_samples.push(format!("{method} {path}: {e:#}"));
                }
            }
        }
    }
    StudentRun {
        student,
        samples,
        errors,
        error_samples,
    }
}

/// xorshift64*: a fast, seedable generator, enough to pick actions.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// The report as text.
pub fn render_table(report: &LoadReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Lectern load: local server on 127.0.0.1 ({} worker threads, {} cores shared with the client), {} courses x {} lessons, {} students",
        report.server_workers,
        report.cores,
        report.courses,
        report.lessons_per_course,
        report.students
    );
    let mix: Vec<String> = report
        .mix_percent
        .iter()
        .map(|(a, w)| format!("{a:?} {w}%"))
        .collect();
    let _ = writeln!(out, "mix: {}\n", mix.join(", "));
    let _ = writeln!(
        out,
        "{:<16} {:>11} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "level / action",
        "concurrency",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors"
    );
    for level in &report.levels {
        let _ = writeln!(
            out,
            "{:<16} {:>11} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            "all",
            level.concurrency,
            level.requests,
            level.requests_per_second,
            level.latency.p50_ms,
            level.latency.p95_ms,
            level.latency.p99_ms,
            level.errors
        );
        for action in &level.actions {
            let _ = writeln!(
                out,
                "  {:<14} {:>11} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
                format!("{:?}", action.action),
                "",
                action.requests,
                action.requests as f64 / level.seconds,
                action.latency.p50_ms,
                action.latency.p95_ms,
                action.latency.p99_ms
            );
        }
        for sample in &level.error_samples {
            let _ = writeln!(out, "  error: {sample}");
        }
    }
    let _ = writeln!(
        out,
        "\nreq/s at p99 < {P99_LIMIT_MS} ms: {}",
        report
            .best_requests_per_second_at_p99_under_50ms
            .map(|r| format!("{r:.0}"))
            .unwrap_or_else(|| "none of the levels".into())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_adds_up_to_a_hundred_and_every_action_is_picked() {
        assert_eq!(ACTIONS.iter().map(|a| a.weight()).sum::<u64>(), 100);
        let mut rng = 42;
        let picked: Vec<Action> = (0..10_000).map(|_| Action::pick(next(&mut rng))).collect();
        for action in ACTIONS {
            assert!(picked.contains(&action), "{action:?}");
        }
        let browse = picked
            .iter()
            .filter(|a| **a == Action::BrowseCatalog)
            .count();
        assert!((4000..5000).contains(&browse), "{browse}");
    }
}
