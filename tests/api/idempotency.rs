//! `Idempotency-Key` on every POST, across route groups: a repeat gets the first answer with
//! `Idempotent-Replayed: true` and does nothing twice; another request with the key is 422; a pair
//! at once does the work once; a 5xx lets the retry run; keys are the caller's own; the key's length
//! is checked; sign-in ignores it.

use std::sync::Arc;

use lectern_store::sqlite::SqliteTable;
use lectern_testkit::SabotagedTable;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, Session, TestApp, assert_calls};

const REPLAYED: &str = "idempotent-replayed";

/// POSTs `body` to `path` as `who` (anonymous without) with `Idempotency-Key: key`.
async fn post_with_key(
    app: &TestApp,
    who: Option<&Session>,
    path: &str,
    body: Value,
    key: &str,
) -> Reply {
    app.call_with(
        Method::POST,
        path,
        who.map(|s| s.access.as_str()),
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

/// The key a test sends to `path` (each path its own: one key is one request).
fn key_for(path: &str) -> String {
    format!("key:{path}")
}

/// Sends the same keyed request twice; asserts the second is the first answer (status, body,
/// `Location`) marked replayed, and the first is not; answers the first.
async fn assert_repeat_is_replayed(
    app: &TestApp,
    who: Option<&Session>,
    path: &str,
    body: Value,
    status: u16,
) -> Value {
    let first = post_with_key(app, who, path, body.clone(), &key_for(path))
        .await
        .assert(status);
    let again = post_with_key(app, who, path, body, &key_for(path))
        .await
        .assert(status);
    assert!(
        first.headers.get(REPLAYED).is_none(),
        "{path}: first answer"
    );
    assert_eq!(again.headers[REPLAYED], "true", "{path}: repeat");
    assert_eq!(again.body, first.body, "{path}: the same body");
    assert_eq!(
        again.headers.get("location"),
        first.headers.get("location"),
        "{path}"
    );
    assert_eq!(
        again.headers["content-type"], first.headers["content-type"],
        "{path}"
    );
    first.body
}

/// The number of drafts `teacher` has.
async fn drafts_of(app: &TestApp, teacher: &Session) -> i64 {
    app.get("/api/v1/courses?status=draft", Some(&teacher.access))
        .await
        .assert(200)
        .body["pagination"]["totalCount"]
        .as_i64()
        .unwrap()
}

fn new_course(title: &str) -> Value {
    json!({"title": title, "description": "About things.", "category": "programming",
           "difficultyLevel": "beginner", "price": 0})
}

#[tokio::test]
async fn repeating_a_create_course_with_its_key_returns_the_first_answer_and_creates_one_course() {
    // GIVEN an instructor
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    // WHEN they create a course twice with one key, THEN the repeat is the first answer, replayed
    let created = assert_repeat_is_replayed(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Rust"),
        201,
    )
    .await;
    // AND there is one course, the one answered
    assert_eq!(drafts_of(&app, &teacher).await, 1);
    let id = created["data"]["courseId"].as_str().unwrap();
    app.get(&format!("/api/v1/courses/{id}"), Some(&teacher.access))
        .await
        .assert(200);
}

#[tokio::test]
async fn repeating_an_enrollment_a_new_assignment_and_a_submission_with_their_keys_does_each_once()
{
    // GIVEN a published course, its instructor and a student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let course = app
        .course(&teacher, json!({"title": "Writing"}), true)
        .await;

    // WHEN the student enrolls twice with one key, THEN the repeat is replayed, one enrollment
    assert_repeat_is_replayed(
        &app,
        Some(&student),
        &format!("/api/v1/courses/{course}/enroll"),
        json!({}),
        201,
    )
    .await;
    let students = app
        .get(
            &format!("/api/v1/courses/{course}/students"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(students["data"].as_array().unwrap().len(), 1);

    // WHEN the instructor creates an assignment twice with one key, THEN one assignment
    let assignment = assert_repeat_is_replayed(
        &app,
        Some(&teacher),
        &format!("/api/v1/courses/{course}/assignments"),
        json!({"title": "Essay", "description": "Write.", "points": 100,
               "dueDate": "2099-01-01T00:00:00Z", "allowedAttempts": 3}),
        201,
    )
    .await["data"]["assignmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let assignments = app
        .get(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(
        assignments["assignments"].as_array().unwrap().len(),
        1,
        "{assignments}"
    );

    // WHEN the student submits twice with one key, THEN one attempt is counted, not two
    let submitted = assert_repeat_is_replayed(
        &app,
        Some(&student),
        "/api/v1/assignments/submit",
        json!({"assignmentId": assignment, "submissionContent": "My essay", "fileIds": []}),
        201,
    )
    .await;
    assert_eq!(submitted["attempts"], 1);
    let details = app
        .get(
            &format!("/api/v1/assignments/{assignment}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(details["submission"]["attempts"], 1, "{details}");
}

#[tokio::test]
async fn repeating_an_upload_request_with_its_key_returns_the_same_file() {
    // GIVEN an instructor's course, with files served
    let app = TestApp::spawn_with_files().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({"title": "Notes"}), false).await;
    // WHEN they ask twice with one key to upload a file, THEN the repeat is the first ticket
    let ticket = assert_repeat_is_replayed(
        &app,
        Some(&teacher),
        "/api/v1/files",
        json!({"fileName": "Week 1.pdf", "contentType": "application/pdf", "size": 1000,
               "purpose": "lesson_content", "courseId": course}),
        201,
    )
    .await;
    // AND the file it names is the one waiting for its upload
    let id = ticket["fileId"].as_str().unwrap();
    let file = app
        .get(&format!("/api/v1/files/{id}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(file["status"], "pending", "{file}");
}

#[tokio::test]
async fn repeating_a_registration_with_its_key_answers_the_account_made_once_and_other_addresses_have_their_own_keys()
 {
    // GIVEN a registration body
    let app = TestApp::spawn().await;
    let body = json!({"email": "ada@x.org", "password": PASSWORD, "firstName": "Ada",
                      "lastName": "Lovelace", "username": "ada"});
    // WHEN it is sent twice with one key, THEN the repeat is the first answer (not 409 email_taken)
    let first =
        assert_repeat_is_replayed(&app, None, "/api/v1/auth/register", body.clone(), 201).await;
    app.signin("ada@x.org", PASSWORD).await.assert(200);
    // WHEN another client address sends it with the same key, THEN it is its own request: it runs,
    // and the email is taken
    let other = TestApp::client_from("127.0.0.2");
    let elsewhere = app
        .send(
            &other,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(body),
            &[("idempotency-key", &key_for("/api/v1/auth/register"))],
        )
        .await
        .assert(409);
    assert_eq!(elsewhere.code(), "email_taken");
    assert!(elsewhere.headers.get(REPLAYED).is_none());
    assert!(first["data"]["id"].is_string(), "{first}");
}

#[tokio::test]
async fn the_same_key_with_another_request_is_422_and_does_nothing() {
    // GIVEN a course created with a key
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Rust"),
        "k",
    )
    .await
    .assert(201);
    // WHEN the key comes with another body, THEN 422 idempotency_key_reused
    let reused = post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Golang"),
        "k",
    )
    .await
    .assert(422);
    assert_eq!(reused.code(), "idempotency_key_reused");
    // AND with the same body on another path, too
    let elsewhere = post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/profile/check-username",
        new_course("Rust"),
        "k",
    )
    .await
    .assert(422);
    assert_eq!(elsewhere.code(), "idempotency_key_reused");
    // AND no second course exists
    assert_eq!(drafts_of(&app, &teacher).await, 1);
}

#[tokio::test]
async fn a_pair_sent_at_once_with_one_key_creates_one_course() {
    // GIVEN an instructor
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    // WHEN two requests with one key arrive together
    let (a, b) = tokio::join!(
        post_with_key(
            &app,
            Some(&teacher),
            "/api/v1/courses",
            new_course("Rust"),
            "pair"
        ),
        post_with_key(
            &app,
            Some(&teacher),
            "/api/v1/courses",
            new_course("Rust"),
            "pair"
        ),
    );
    // THEN one creates it, the other is 409 request_in_progress or the first's answer replayed
    let mut ids = Vec::new();
    for reply in [a, b] {
        match reply.status.as_u16() {
            201 => ids.push(reply.body["data"]["courseId"].clone()),
            409 => assert_eq!(reply.code(), "request_in_progress", "{}", reply.body),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(drafts_of(&app, &teacher).await, 1);
}

#[tokio::test]
async fn a_first_answer_that_is_a_5xx_releases_the_key_and_the_retry_runs() {
    // GIVEN an instructor, and a store whose next transaction fails
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SabotagedTable::healthy(
        SqliteTable::open(&dir.path().join("lectern.db")).unwrap(),
    ));
    let app = TestApp::spawn_on(dir, table.clone()).await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    table.fail_next_transactions(1);
    // WHEN a course is created with a key, THEN 503
    post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Rust"),
        "k",
    )
    .await
    .assert(503);
    // WHEN the request is retried with the key, THEN it runs (not a replay of the 503)
    let retried = post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Rust"),
        "k",
    )
    .await
    .assert(201);
    assert!(retried.headers.get(REPLAYED).is_none());
    // AND its answer is the one kept: a further repeat replays it, and one course exists
    let repeated = post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Rust"),
        "k",
    )
    .await
    .assert(201);
    assert_eq!(repeated.headers[REPLAYED], "true");
    assert_eq!(repeated.body, retried.body);
    assert_eq!(drafts_of(&app, &teacher).await, 1);
}

#[tokio::test]
async fn a_4xx_first_answer_is_kept_and_repeated() {
    // GIVEN a draft course and a student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let course = app.course(&teacher, json!({"title": "Soon"}), false).await;
    let enroll = format!("/api/v1/courses/{course}/enroll");
    // WHEN the student enrolls with a key before it is published, THEN 404
    let first = post_with_key(&app, Some(&student), &enroll, json!({}), "k")
        .await
        .assert(404);
    // WHEN the course is published and the request repeated with the key, THEN the 404 again,
    // replayed, and no enrollment
    app.post(
        &format!("/api/v1/courses/{course}/publish"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(200);
    let again = post_with_key(&app, Some(&student), &enroll, json!({}), "k")
        .await
        .assert(404);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers[REPLAYED], "true");
    let students = app
        .get(
            &format!("/api/v1/courses/{course}/students"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(students["data"], json!([]));
}

#[tokio::test]
async fn the_same_key_of_two_users_is_two_keys() {
    // GIVEN two instructors
    let app = TestApp::spawn().await;
    let ada = app.user("a@x.org", "ada", "instructor").await;
    let bob = app.user("b@x.org", "bob", "instructor").await;
    // WHEN each creates a course with the same key and body
    let a = post_with_key(&app, Some(&ada), "/api/v1/courses", new_course("Rust"), "k")
        .await
        .assert(201);
    let b = post_with_key(&app, Some(&bob), "/api/v1/courses", new_course("Rust"), "k")
        .await
        .assert(201);
    // THEN each has their own course; neither answer is the other's
    assert!(b.headers.get(REPLAYED).is_none());
    assert_ne!(a.body["data"]["courseId"], b.body["data"]["courseId"]);
    // AND each one's repeat is their own first answer
    for (who, first) in [(&ada, &a), (&bob, &b)] {
        let again = post_with_key(&app, Some(who), "/api/v1/courses", new_course("Rust"), "k")
            .await
            .assert(201);
        assert_eq!(again.headers[REPLAYED], "true");
        assert_eq!(again.body, first.body);
    }
    assert_eq!(drafts_of(&app, &ada).await, 1);
    assert_eq!(drafts_of(&app, &bob).await, 1);
}

#[tokio::test]
async fn keys_of_1_to_255_characters_are_taken_and_others_are_400_naming_the_limit() {
    // GIVEN an instructor
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let create = |key: String| {
        let app = &app;
        let teacher = &teacher;
        async move {
            post_with_key(
                app,
                Some(teacher),
                "/api/v1/courses",
                new_course("Rust"),
                &key,
            )
            .await
        }
    };
    // WHEN the key is 256 characters, or empty, THEN 400 invalid_idempotency_key naming the limit
    for key in ["k".repeat(256), String::new()] {
        let refused = create(key).await.assert(400);
        assert_eq!(refused.code(), "invalid_idempotency_key");
        assert!(refused.body["error"].as_str().unwrap().contains("255"));
    }
    assert_eq!(drafts_of(&app, &teacher).await, 0);
    // WHEN it is 255 characters, or one, THEN it is taken
    create("k".repeat(255)).await.assert(201);
    create("k".into()).await.assert(201);
    assert_eq!(drafts_of(&app, &teacher).await, 2);
}

#[tokio::test]
async fn sign_in_ignores_the_key_and_never_replays_tokens() {
    // GIVEN an account
    let app = TestApp::spawn().await;
    app.user("ada@x.org", "ada", "student").await;
    let body = json!({"email": "ada@x.org", "password": PASSWORD});
    // WHEN it signs in twice with one key, THEN two sessions, neither answer replayed
    let first = post_with_key(&app, None, "/api/v1/auth/signin", body.clone(), "k")
        .await
        .assert(200);
    let second = post_with_key(&app, None, "/api/v1/auth/signin", body, "k")
        .await
        .assert(200);
    assert!(second.headers.get(REPLAYED).is_none());
    assert_ne!(first.body["refreshToken"], second.body["refreshToken"]);
}

#[tokio::test]
async fn a_key_costs_one_write_before_and_one_after_and_a_repeat_two_calls() {
    // GIVEN an app whose store counts calls, and an instructor
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    table.take();
    // WHEN a course is created without a key, THEN its budget (store_calls.rs)
    app.post("/api/v1/courses", Some(&teacher.access), new_course("Rust"))
        .await
        .assert(201);
    assert_calls(&table, "POST /api/v1/courses", [1, 0, 0, 0, 1]);
    // WHEN with a key, THEN the claim (a conditional put) and the kept answer (an update) besides
    post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Go on"),
        "k",
    )
    .await
    .assert(201);
    assert_calls(&table, "POST /api/v1/courses", [1, 0, 0, 2, 1]);
    // WHEN repeated, THEN the claim that finds the key taken, and its read: nothing else
    post_with_key(
        &app,
        Some(&teacher),
        "/api/v1/courses",
        new_course("Go on"),
        "k",
    )
    .await
    .assert(201);
    assert_calls(&table, "POST /api/v1/courses", [1, 0, 0, 1, 0]);
}
