//! Quizzes: authoring with validation, hidden answers, attempts within limits (also when racing),
//! grading of every question type, time limits, scoring policies, results, and who may do what.

use lectern_domain::quiz::QuizStanding;
use lectern_domain::user::now;
use lectern_domain::{CourseId, QuizId, TenantId, UserId};
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::quizzes::QuizRepo;
use lectern_store::{AttrValue, Update, UpdateAction, keys};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, Session, TestApp, assert_calls};

fn tenant() -> TenantId {
    TenantId::parse("default").unwrap()
}

/// A course by `teacher`, published unless `draft`; returns its id.
async fn course(app: &TestApp, teacher: &Session, draft: bool) -> String {
    let created = app
        .post(
            "/api/v1/courses",
            Some(&teacher.access),
            json!({"title": "Rust for the Web", "category": "programming", "difficultyLevel": "beginner"}),
        )
        .await
        .assert(201)
        .body;
    let id = created["data"]["courseId"].as_str().unwrap().to_owned();
    if !draft {
        app.post(
            &format!("/api/v1/courses/{id}/publish"),
            Some(&teacher.access),
            json!({}),
        )
        .await
        .assert(200);
    }
    id
}

/// Enrolls a student in a published course.
async fn enroll(app: &TestApp, course_id: &str, student: &Session) {
    app.post(
        &format!("/api/v1/courses/{course_id}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
}

/// Four questions, one of each type, worth 2 + 3 + 1 + 4 = 10 points.
fn quiz_body() -> Value {
    json!({
        "title": "Basics", "description": "Warm-up", "passingScore": 60, "allowedAttempts": -1,
        "questions": [
            {"type": "single_choice", "prompt": "2+2?", "options": ["3", "4", "5"], "correctAnswer": 1, "points": 2},
            {"type": "multiple_choice", "prompt": "Primes?", "options": ["2", "4", "5"], "correctAnswer": [0, 2], "points": 3},
            {"type": "true_false", "prompt": "Rust has a borrow checker", "correctAnswer": true},
            {"type": "short_answer", "prompt": "Capital of France?", "correctAnswer": "Paris", "points": 4}
        ]
    })
}

async fn create_quiz(app: &TestApp, teacher: &Session, course_id: &str, body: Value) -> Value {
    app.post(
        &format!("/api/v1/courses/{course_id}/quizzes"),
        Some(&teacher.access),
        body,
    )
    .await
    .assert(201)
    .body["data"]
        .clone()
}

/// Answers keyed by the quiz's question ids, in question order.
fn answers(quiz: &Value, values: [Value; 4]) -> Value {
    let ids = quiz["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["questionId"].as_str().unwrap().to_owned());
    json!({"answers": ids.zip(values).collect::<serde_json::Map<_, _>>()})
}

fn all_correct(quiz: &Value) -> Value {
    answers(
        quiz,
        [json!(1), json!([2, 0]), json!(true), json!("  pARIS ")],
    )
}

async fn start(app: &TestApp, who: &Session, quiz_id: &str) -> Reply {
    app.post(
        &format!("/api/v1/quizzes/{quiz_id}/attempts"),
        Some(&who.access),
        json!({}),
    )
    .await
}

async fn submit(
    app: &TestApp,
    who: &Session,
    quiz_id: &str,
    attempt_id: &str,
    body: Value,
) -> Reply {
    app.post(
        &format!("/api/v1/quizzes/{quiz_id}/attempts/{attempt_id}/submit"),
        Some(&who.access),
        body,
    )
    .await
}

/// A published course with a quiz, its instructor and one enrolled student.
struct Setup {
    app: TestApp,
    teacher: Session,
    student: Session,
    course_id: String,
    quiz: Value,
    quiz_id: String,
}

async fn setup(body: Value) -> Setup {
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course_id = course(&app, &teacher, false).await;
    enroll(&app, &course_id, &student).await;
    let quiz = create_quiz(&app, &teacher, &course_id, body).await;
    let quiz_id = quiz["quizId"].as_str().unwrap().to_owned();
    Setup {
        app,
        teacher,
        student,
        course_id,
        quiz,
        quiz_id,
    }
}

async fn standing(app: &TestApp, quiz_id: &str, student: &Session) -> Option<QuizStanding> {
    QuizRepo::new(app.state.table.clone())
        .standings(
            &tenant(),
            &[QuizId::parse(quiz_id).unwrap()],
            UserId::parse(&student.id).unwrap(),
        )
        .await
        .unwrap()
        .remove(0)
}

async fn total_quizzes(app: &TestApp, course_id: &str) -> u32 {
    CourseRepo::new(app.state.table.clone())
        .get(&tenant(), CourseId::parse(course_id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .total_quizzes
}

#[tokio::test]
async fn an_instructor_creates_a_quiz_in_one_transaction_and_deletes_it_again() {
    // GIVEN a published course with an enrolled student
    let Setup {
        app,
        teacher,
        course_id,
        quiz,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    // THEN the created quiz carries ids, defaults and (for its author) the correct answers
    assert_eq!(quiz["title"], "Basics");
    assert_eq!(quiz["courseId"], course_id.as_str());
    assert_eq!(quiz["scoringPolicy"], "keep_highest");
    assert_eq!(
        (
            quiz["totalQuestions"].as_u64(),
            quiz["totalPoints"].as_u64()
        ),
        (Some(4), Some(10))
    );
    assert!(quiz["timeLimit"].is_null());
    let questions = quiz["questions"].as_array().unwrap();
    assert!(questions.iter().all(|q| q["questionId"].is_string()));
    assert_eq!(questions[1]["correctAnswer"], json!([0, 2]));
    assert_eq!(questions[2]["points"], 1);
    assert!(questions[2].get("options").is_none());
    // AND the course counts it, and the course page's summary exists
    assert_eq!(total_quizzes(&app, &course_id).await, 1);
    let (c, q) = (
        CourseId::parse(&course_id).unwrap(),
        QuizId::parse(&quiz_id).unwrap(),
    );
    let summary = app
        .state
        .table
        .get(&keys::quiz_summary(&tenant(), c, q))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary["totalPoints"], AttrValue::int(10));
    assert_eq!(summary["entity"], AttrValue::s("QuizSummary"));
    // WHEN the instructor deletes it
    app.call(
        Method::DELETE,
        &format!("/api/v1/quizzes/{quiz_id}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    // THEN quiz, summary and count are gone
    app.get(&format!("/api/v1/quizzes/{quiz_id}"), Some(&teacher.access))
        .await
        .assert(404);
    assert_eq!(total_quizzes(&app, &course_id).await, 0);
    assert!(
        app.state
            .table
            .get(&keys::quiz_summary(&tenant(), c, q))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn invalid_quizzes_are_refused_naming_the_field_path() {
    // GIVEN an instructor's course
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course_id = course(&app, &teacher, false).await;
    let path = format!("/api/v1/courses/{course_id}/quizzes");
    // WHEN fields are out of range or answers do not fit their questions
    let mut body = quiz_body();
    body["timeLimit"] = json!(601);
    body["allowedAttempts"] = json!(0);
    body["passingScore"] = json!(-1);
    body["questions"][2]["correctAnswer"] = json!("yes");
    body["questions"][0]["correctAnswer"] = json!(3);
    body["questions"][1]["options"] = json!(["only one"]);
    body["questions"][3]["points"] = json!(101);
    let bad = app
        .post(&path, Some(&teacher.access), body)
        .await
        .assert(400);
    // THEN each is named
    assert_eq!(bad.code(), "validation_failed");
    for field in [
        "timeLimit",
        "allowedAttempts",
        "passingScore",
        "questions[0].correctAnswer",
        "questions[1].options",
        "questions[2].correctAnswer",
        "questions[3].points",
    ] {
        assert!(
            bad.body["details"][field].is_string(),
            "{field}: {}",
            bad.body
        );
    }
    // AND an unknown question type names the allowed ones, no questions at all is refused
    let mut body = quiz_body();
    body["questions"][1]["type"] = json!("essay");
    let bad = app
        .post(&path, Some(&teacher.access), body)
        .await
        .assert(400);
    assert!(
        bad.body["details"]["questions[1].type"]
            .as_str()
            .unwrap()
            .contains("short_answer"),
        "{}",
        bad.body
    );
    let mut body = quiz_body();
    body["questions"] = json!([]);
    let bad = app
        .post(&path, Some(&teacher.access), body)
        .await
        .assert(400);
    assert!(bad.body["details"]["questions"].is_string());
    // AND nothing was written
    assert_eq!(total_quizzes(&app, &course_id).await, 0);
}

#[tokio::test]
async fn students_never_see_the_correct_answers_but_the_instructor_and_admins_do() {
    // GIVEN a quiz and an enrolled student
    let Setup {
        app,
        teacher,
        student,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    let admin = app.admin().await;
    let path = format!("/api/v1/quizzes/{quiz_id}");
    // WHEN the student reads it, THEN no question carries its answer, but prompts and options are there
    let seen = app.get(&path, Some(&student.access)).await.assert(200).body;
    for q in seen["questions"].as_array().unwrap() {
        assert!(q.get("correctAnswer").is_none(), "{q}");
    }
    assert_eq!(seen["questions"][0]["options"], json!(["3", "4", "5"]));
    assert_eq!(seen["questions"][3]["type"], "short_answer");
    // AND the instructor and an admin see the answers
    for who in [&teacher, &admin] {
        let full = app.get(&path, Some(&who.access)).await.assert(200).body;
        assert_eq!(full["questions"][3]["correctAnswer"], "Paris");
    }
}

#[tokio::test]
async fn every_question_type_is_graded_and_a_pass_is_recorded_on_the_enrollment() {
    // GIVEN a quiz with one question of each type and unlimited attempts
    let Setup {
        app,
        student,
        course_id,
        quiz,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    // WHEN the student answers everything correctly (the short answer padded and in odd case)
    let attempt = start(&app, &student, &quiz_id).await.assert(201).body;
    assert_eq!(attempt["attemptNumber"], 1);
    assert!(attempt["deadline"].is_null());
    let graded = submit(
        &app,
        &student,
        &quiz_id,
        attempt["attemptId"].as_str().unwrap(),
        all_correct(&quiz),
    )
    .await
    .assert(200)
    .body;
    // THEN everything scores
    assert_eq!(graded["attemptId"], attempt["attemptId"]);
    assert_eq!(
        (graded["score"].as_u64(), graded["maxScore"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(graded["percentage"], 100.0);
    assert_eq!(graded["passed"], true);
    assert!(graded["submittedAt"].is_string());
    assert!(
        graded["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["correct"] == true)
    );
    // AND the enrollment records the quiz as passed
    let enrollment = EnrollmentRepo::new(app.state.table.clone())
        .get(
            &tenant(),
            CourseId::parse(&course_id).unwrap(),
            UserId::parse(&student.id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        enrollment
            .passed_quizzes
            .contains_key(&QuizId::parse(&quiz_id).unwrap())
    );
    // AND the student's progress shows it passed, which completes this quiz-only course
    let progress = app
        .get(
            &format!("/api/v1/courses/{course_id}/progress"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(progress["quizzes"][0]["quizId"], quiz_id.as_str());
    assert_eq!(progress["quizzes"][0]["status"], "passed");
    assert_eq!(progress["quizzes"][0]["attempts"], 1);
    assert!(
        progress["quizzes"][0]["percentage"].is_number(),
        "{progress}"
    );
    assert_eq!(progress["progress"]["completedQuizzes"], 1);
    assert!(progress["completedAt"].is_string(), "{progress}");
    // WHEN a second attempt chooses a subset of the multiple-choice answer and a wrong short answer
    let attempt = start(&app, &student, &quiz_id).await.assert(201).body;
    assert_eq!(attempt["attemptNumber"], 2);
    let graded = submit(
        &app,
        &student,
        &quiz_id,
        attempt["attemptId"].as_str().unwrap(),
        answers(&quiz, [json!(1), json!([0]), json!(false), json!("Lyon")]),
    )
    .await
    .assert(200)
    .body;
    // THEN multiple choice is all-or-nothing and each question's points are reported
    let awarded: Vec<u64> = graded["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pointsAwarded"].as_u64().unwrap())
        .collect();
    assert_eq!(awarded, [2, 0, 0, 0]);
    assert_eq!(graded["results"][1]["correct"], false);
    assert_eq!(
        (graded["score"].as_u64(), graded["percentage"].as_f64()),
        (Some(2), Some(20.0))
    );
    assert_eq!(graded["passed"], false);
    // AND the standing keeps the highest score and remembers the pass
    let kept = standing(&app, &quiz_id, &student).await.unwrap();
    assert_eq!(
        (kept.count, kept.kept_score, kept.passed),
        (2, Some(10), true)
    );
}

#[tokio::test]
async fn answers_of_the_wrong_type_or_for_unknown_questions_are_400() {
    let Setup {
        app,
        student,
        quiz,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    let attempt = start(&app, &student, &quiz_id).await.assert(201).body;
    let attempt_id = attempt["attemptId"].as_str().unwrap();
    let q0 = quiz["questions"][0]["questionId"].as_str().unwrap();
    let q2 = quiz["questions"][2]["questionId"].as_str().unwrap();
    // WHEN a true/false question gets a string, THEN 400 naming it
    let bad = submit(
        &app,
        &student,
        &quiz_id,
        attempt_id,
        json!({"answers": {q2: "true"}}),
    )
    .await
    .assert(400);
    assert!(
        bad.body["details"][format!("answers.{q2}")].is_string(),
        "{}",
        bad.body
    );
    // AND an option index out of range is refused too
    submit(
        &app,
        &student,
        &quiz_id,
        attempt_id,
        json!({"answers": {q0: 7}}),
    )
    .await
    .assert(400);
    // AND a question id of no question of the quiz
    let unknown = QuizId::new().to_string();
    let bad = submit(
        &app,
        &student,
        &quiz_id,
        attempt_id,
        json!({"answers": {&unknown: 1}}),
    )
    .await
    .assert(400);
    assert!(bad.body["details"][format!("answers.{unknown}")].is_string());
    // AND the attempt is still open
    submit(&app, &student, &quiz_id, attempt_id, all_correct(&quiz))
        .await
        .assert(200);
}

#[tokio::test]
async fn attempts_beyond_the_allowed_number_are_409_and_submitting_twice_is_409() {
    // GIVEN a quiz allowing two attempts
    let mut body = quiz_body();
    body["allowedAttempts"] = json!(2);
    let Setup {
        app,
        student,
        quiz,
        quiz_id,
        ..
    } = setup(body).await;
    // WHEN the student starts two attempts and submits one of them twice
    let first = start(&app, &student, &quiz_id).await.assert(201).body;
    start(&app, &student, &quiz_id).await.assert(201);
    let id = first["attemptId"].as_str().unwrap();
    submit(&app, &student, &quiz_id, id, all_correct(&quiz))
        .await
        .assert(200);
    let again = submit(&app, &student, &quiz_id, id, all_correct(&quiz))
        .await
        .assert(409);
    // THEN the second submission is refused, as is a third attempt
    assert_eq!(again.code(), "already_submitted");
    let third = start(&app, &student, &quiz_id).await.assert(409);
    assert_eq!(third.code(), "attempts_exhausted");
    assert_eq!(standing(&app, &quiz_id, &student).await.unwrap().count, 2);
    // AND another student's attempt id is not the caller's: 404
    submit(
        &app,
        &student,
        &quiz_id,
        &QuizId::new().to_string(),
        all_correct(&quiz),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn of_concurrent_starts_with_one_attempt_allowed_exactly_one_succeeds() {
    // GIVEN a quiz allowing one attempt
    let mut body = quiz_body();
    body["allowedAttempts"] = json!(1);
    let Setup {
        app,
        student,
        quiz_id,
        ..
    } = setup(body).await;
    // WHEN the student starts it six times at once
    let replies = futures::future::join_all((0..6).map(|_| start(&app, &student, &quiz_id))).await;
    // THEN exactly one is 201, the rest 409 attempts_exhausted, and one attempt is stored
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    assert!(
        replies
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.status == 409 && r.code() == "attempts_exhausted")
    );
    assert_eq!(standing(&app, &quiz_id, &student).await.unwrap().count, 1);
    let (attempts, _) = QuizRepo::new(app.state.table.clone())
        .attempts(&tenant(), QuizId::parse(&quiz_id).unwrap(), None, 100, None)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
}

#[tokio::test]
async fn a_submission_after_the_time_limit_and_grace_is_409_and_the_attempt_expires() {
    // GIVEN a one-minute quiz and a started attempt
    let mut body = quiz_body();
    body["timeLimit"] = json!(1);
    let Setup {
        app,
        student,
        quiz,
        quiz_id,
        ..
    } = setup(body).await;
    let attempt = start(&app, &student, &quiz_id).await.assert(201).body;
    assert!(attempt["deadline"].as_str().unwrap() > attempt["startedAt"].as_str().unwrap());
    let attempt_id = attempt["attemptId"].as_str().unwrap();
    // AND 91 seconds have passed (the stored start and deadline moved back)
    let key = keys::quiz_attempt(
        &tenant(),
        QuizId::parse(&quiz_id).unwrap(),
        UserId::parse(&student.id).unwrap(),
        lectern_domain::AttemptId::parse(attempt_id).unwrap(),
    );
    let rfc = lectern_web::views::timestamp;
    let started = now() - std::time::Duration::from_secs(91);
    app.state
        .table
        .update(Update {
            key: key.clone(),
            actions: vec![
                UpdateAction::Set("startedAt".into(), AttrValue::S(rfc(started))),
                UpdateAction::Set(
                    "deadline".into(),
                    AttrValue::S(rfc(started + std::time::Duration::from_secs(60))),
                ),
            ],
            condition: None,
        })
        .await
        .unwrap();
    // WHEN the student submits, THEN 409 time_limit_exceeded, and the attempt is recorded expired
    let late = submit(&app, &student, &quiz_id, attempt_id, all_correct(&quiz))
        .await
        .assert(409);
    assert_eq!(late.code(), "time_limit_exceeded");
    let stored = app.state.table.get(&key).await.unwrap().unwrap();
    assert_eq!(stored["status"], AttrValue::s("expired"));
    assert!(!stored.contains_key("submittedAt"));
    // AND submitting again still says so, and nothing was kept
    let again = submit(&app, &student, &quiz_id, attempt_id, all_correct(&quiz))
        .await
        .assert(409);
    assert_eq!(again.code(), "time_limit_exceeded");
    assert_eq!(
        standing(&app, &quiz_id, &student).await.unwrap().kept_score,
        None
    );
}

#[tokio::test]
async fn keep_highest_and_keep_latest_keep_different_scores() {
    // GIVEN two quizzes of one course, one per scoring policy
    let Setup {
        app,
        teacher,
        student,
        course_id,
        quiz: highest,
        quiz_id: highest_id,
    } = setup(quiz_body()).await;
    let mut body = quiz_body();
    body["scoringPolicy"] = json!("keep_latest");
    let latest = create_quiz(&app, &teacher, &course_id, body).await;
    let latest_id = latest["quizId"].as_str().unwrap().to_owned();
    assert_eq!(latest["scoringPolicy"], "keep_latest");
    // WHEN the student scores 10, then 2, in each
    for (quiz, id) in [(&highest, &highest_id), (&latest, &latest_id)] {
        for body in [
            all_correct(quiz),
            answers(quiz, [json!(1), json!([]), json!(false), json!("")]),
        ] {
            let attempt = start(&app, &student, id).await.assert(201).body;
            submit(
                &app,
                &student,
                id,
                attempt["attemptId"].as_str().unwrap(),
                body,
            )
            .await
            .assert(200);
        }
    }
    // THEN keep_highest keeps 10 and keep_latest keeps 2; both remember the pass
    let standings = QuizRepo::new(app.state.table.clone())
        .standings(
            &tenant(),
            &[
                QuizId::parse(&highest_id).unwrap(),
                QuizId::parse(&latest_id).unwrap(),
                QuizId::new(),
            ],
            UserId::parse(&student.id).unwrap(),
        )
        .await
        .unwrap();
    let (h, l) = (standings[0].clone().unwrap(), standings[1].clone().unwrap());
    assert_eq!(
        (h.kept_score, h.kept_percentage, h.passed),
        (Some(10), Some(100.0), true)
    );
    assert_eq!(
        (l.kept_score, l.kept_percentage, l.passed),
        (Some(2), Some(20.0), true)
    );
    assert!(l.last_submitted_at.is_some());
    assert!(standings[2].is_none());
}

#[tokio::test]
async fn students_see_their_own_results_and_the_instructor_sees_everyones() {
    // GIVEN two enrolled students who each submitted one attempt
    let Setup {
        app,
        teacher,
        student: ann,
        course_id,
        quiz,
        quiz_id,
    } = setup(quiz_body()).await;
    let bob = app.user("b@example.org", "bob", "student").await;
    enroll(&app, &course_id, &bob).await;
    for who in [&ann, &bob] {
        let attempt = start(&app, who, &quiz_id).await.assert(201).body;
        submit(
            &app,
            who,
            &quiz_id,
            attempt["attemptId"].as_str().unwrap(),
            all_correct(&quiz),
        )
        .await
        .assert(200);
    }
    start(&app, &ann, &quiz_id).await.assert(201);
    let path = format!("/api/v1/quizzes/{quiz_id}/results");
    // WHEN ann reads the results, THEN she sees her two attempts only
    let own = app.get(&path, Some(&ann.access)).await.assert(200).body;
    let data = own["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|a| a["studentId"] == ann.id.as_str()));
    assert_eq!(data[0]["score"], 10);
    assert_eq!(data[1]["status"], "in_progress");
    // AND she may not ask for bob's
    app.get(&format!("{path}?studentId={}", bob.id), Some(&ann.access))
        .await
        .assert(403);
    // WHEN the instructor reads them, THEN all three attempts, in pages
    let first = app
        .get(&format!("{path}?limit=2"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("{path}?limit=2&cursor={cursor}"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second.get("nextCursor").is_none());
    // AND filtered to bob, only bob's
    let bobs = app
        .get(
            &format!("{path}?studentId={}", bob.id),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(bobs["data"].as_array().unwrap().len(), 1);
    assert_eq!(bobs["data"][0]["studentId"], bob.id.as_str());
}

#[tokio::test]
async fn who_may_do_what_with_a_quiz() {
    // GIVEN a published course's quiz, a draft course's quiz, and a cast of callers
    let Setup {
        app,
        teacher,
        student,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    let outsider = app.user("o@example.org", "outsider", "student").await;
    let other_teacher = app.user("x@example.org", "other", "instructor").await;
    let draft = course(&app, &teacher, true).await;
    let draft_quiz = create_quiz(&app, &teacher, &draft, quiz_body()).await;
    let draft_quiz_id = draft_quiz["quizId"].as_str().unwrap();
    let quiz_path = format!("/api/v1/quizzes/{quiz_id}");
    // THEN a student not enrolled gets 403 on a published course's quiz, 404 on a draft's
    app.get(&quiz_path, Some(&outsider.access))
        .await
        .assert(403);
    start(&app, &outsider, &quiz_id).await.assert(403);
    app.get(&format!("{quiz_path}/results"), Some(&outsider.access))
        .await
        .assert(403);
    app.get(
        &format!("/api/v1/quizzes/{draft_quiz_id}"),
        Some(&outsider.access),
    )
    .await
    .assert(404);
    // AND another instructor can neither create, read as author, nor delete
    app.post(
        &format!("/api/v1/courses/{}/quizzes", draft),
        Some(&other_teacher.access),
        quiz_body(),
    )
    .await
    .assert(404);
    app.get(&quiz_path, Some(&other_teacher.access))
        .await
        .assert(403);
    app.call(
        Method::DELETE,
        &quiz_path,
        Some(&other_teacher.access),
        None,
    )
    .await
    .assert(403);
    // AND students cannot delete, instructors do not take attempts, anonymous callers get 401
    app.call(Method::DELETE, &quiz_path, Some(&student.access), None)
        .await
        .assert(403);
    start(&app, &teacher, &quiz_id).await.assert(403);
    app.get(&quiz_path, None).await.assert(401);
    app.get("/api/v1/quizzes/not-a-uuid", Some(&teacher.access))
        .await
        .assert(404);
    // AND a user of another tenant does not find the quiz at all
    app.call_with(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"email": "t@example.org", "password": PASSWORD, "firstName": "A", "lastName": "B",
                    "username": "teacher"})),
        &[("x-tenant-id", "acme")],
    )
    .await
    .assert(201);
    let acme = app
        .call_with(
            Method::POST,
            "/api/v1/auth/signin",
            None,
            Some(json!({"email": "t@example.org", "password": PASSWORD})),
            &[("x-tenant-id", "acme")],
        )
        .await
        .assert(200)
        .body;
    let acme_token = acme["accessToken"].as_str().unwrap();
    app.get(&quiz_path, Some(acme_token)).await.assert(404);
    app.call(Method::DELETE, &quiz_path, Some(acme_token), None)
        .await
        .assert(404);
    app.get(&format!("{quiz_path}/results"), Some(acme_token))
        .await
        .assert(404);
}

#[tokio::test]
async fn quiz_endpoints_stay_within_their_store_round_trips() {
    // GIVEN an app whose store counts calls, with a course, a quiz and an enrolled student
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course_id = course(&app, &teacher, false).await;
    enroll(&app, &course_id, &student).await;
    table.take();
    // WHEN each endpoint is called, THEN it makes exactly these calls
    let quiz = create_quiz(&app, &teacher, &course_id, quiz_body()).await;
    // Create: course, then one transaction.
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/quizzes",
        [1, 0, 0, 0, 1],
    );
    let quiz_id = quiz["quizId"].as_str().unwrap();
    app.get(&format!("/api/v1/quizzes/{quiz_id}"), Some(&student.access))
        .await
        .assert(200);
    // Read: quiz, then its context.
    assert_calls(&table, "GET /api/v1/quizzes/{quizId}", [1, 1, 0, 0, 0]);
    let attempt = start(&app, &student, quiz_id).await.assert(201).body;
    assert_calls(
        &table,
        "POST /api/v1/quizzes/{quizId}/attempts",
        [1, 1, 0, 0, 1],
    );
    let id = attempt["attemptId"].as_str().unwrap();
    submit(
        &app,
        &student,
        quiz_id,
        id,
        answers(&quiz, [json!(0), json!([]), json!(false), json!("")]),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "POST /api/v1/quizzes/{quizId}/attempts/{attemptId}/submit",
        [1, 1, 0, 0, 1],
    );
    app.get(
        &format!("/api/v1/quizzes/{quiz_id}/results"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/quizzes/{quizId}/results",
        [1, 1, 1, 0, 0],
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/quizzes/{quiz_id}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    // The quiz, then its course; quiz, summary and count in one transaction; then its partition
    // (attempts, standings), read and deleted 100 at a time.
    assert_calls(&table, "DELETE /api/v1/quizzes/{quizId}", [2, 0, 1, 0, 2]);
}

#[tokio::test]
async fn a_timed_quiz_shows_its_questions_to_a_student_only_inside_an_open_attempt() {
    // GIVEN a ten-minute quiz and an enrolled student who has not started it
    let mut body = quiz_body();
    body["timeLimit"] = json!(10);
    let Setup {
        app,
        teacher,
        student,
        quiz_id,
        ..
    } = setup(body).await;
    let path = format!("/api/v1/quizzes/{quiz_id}");

    // WHEN the student reads the quiz without an attempt
    let before = app.get(&path, Some(&student.access)).await.assert(200).body;

    // THEN they get its summary without questions
    assert_eq!(before["title"], "Basics");
    assert_eq!(before["timeLimit"], 10);
    assert_eq!(before["totalQuestions"], 4);
    assert!(before.get("questions").is_none(), "{before}");
    assert!(!before.to_string().contains("Capital of France?"));
    // AND the instructor always sees them, with the answers
    let teachers = app.get(&path, Some(&teacher.access)).await.assert(200).body;
    assert_eq!(teachers["questions"][3]["correctAnswer"], "Paris");

    // WHEN the student starts an attempt THEN it carries the questions, without answers
    let attempt = start(&app, &student, &quiz_id).await.assert(201).body;
    assert_eq!(attempt["questions"][3]["prompt"], "Capital of France?");
    assert!(attempt["questions"][3].get("correctAnswer").is_none());
    let attempt_id = attempt["attemptId"].as_str().unwrap();
    // AND reading the quiz within that attempt shows them too
    let inside = app
        .get(
            &format!("{path}?attemptId={attempt_id}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(inside["questions"].as_array().unwrap().len(), 4);
    assert!(inside["questions"][0].get("correctAnswer").is_none());

    // WHEN the attempt is submitted THEN it is no longer open, and the questions are hidden again
    let quiz = teachers;
    submit(&app, &student, &quiz_id, attempt_id, all_correct(&quiz))
        .await
        .assert(200);
    let after = app
        .get(
            &format!("{path}?attemptId={attempt_id}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert!(after.get("questions").is_none(), "{after}");
    // AND another student's attempt id opens nothing
    let other = app.user("o@example.org", "other", "student").await;
    let course_id = quiz["courseId"].as_str().unwrap().to_owned();
    enroll(&app, &course_id, &other).await;
    let borrowed = app
        .get(
            &format!("{path}?attemptId={attempt_id}"),
            Some(&other.access),
        )
        .await
        .assert(200)
        .body;
    assert!(borrowed.get("questions").is_none());
}

#[tokio::test]
async fn an_untimed_quiz_shows_its_questions_to_enrolled_students_without_an_attempt() {
    // GIVEN an untimed quiz and an enrolled student
    let Setup {
        app,
        student,
        quiz_id,
        ..
    } = setup(quiz_body()).await;
    // WHEN the student reads it THEN its questions are there, without answers
    let quiz = app
        .get(&format!("/api/v1/quizzes/{quiz_id}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(quiz["questions"].as_array().unwrap().len(), 4);
    assert!(quiz["questions"][0].get("correctAnswer").is_none());
}
