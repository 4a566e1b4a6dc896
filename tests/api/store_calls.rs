//! Store round trips per endpoint (ARCHITECTURE "Budgets"): a read endpoint makes one store call, a write
//! one transaction after the reads it needs. Sign in is the documented exception: it reads the email
//! claim and the failed-sign-in windows in one batch, then the user the claim names while it counts
//! the attempt (one conditional update, concurrent with that read, so still three round trips in a
//! row), then starts the session (giving the attempt back in the same transaction). The data model's
//! access patterns (docs/data-model.md) say where an endpoint needs more and why.
//!
//! The rate limiter's conditional updates (one per policy that applies to a request, sent together
//! before the handler runs: `limits::each_request_takes_one_conditional_update_per_policy_that_applies`)
//! are counted apart by the counting store and are not in these budgets, which stay those of each
//! endpoint's own work.
//!
//! Budgets are asserted with [`assert_calls`], here and in the modules of the other capabilities;
//! [`every_operation_has_a_store_call_budget`] holds the list complete against the OpenAPI description.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_calls};

#[tokio::test]
async fn every_endpoint_stays_within_its_store_round_trips() {
    // GIVEN an app whose store counts calls, with an admin and ada signed in
    let (app, table) = TestApp::counting().await;
    let admin = app.admin().await;
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    assert_calls(&table, "POST /api/v1/auth/register", [0, 0, 0, 0, 1]);

    let tokens = app
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    assert_calls(&table, "POST /api/v1/auth/signin", [1, 1, 0, 1, 1]);
    let access = tokens["accessToken"].as_str().unwrap().to_owned();
    let id = tokens["user"]["id"].as_str().unwrap().to_owned();

    let refreshed = app
        .refresh(tokens["refreshToken"].as_str().unwrap())
        .await
        .assert(200)
        .body;
    assert_calls(&table, "POST /api/v1/auth/refresh", [0, 1, 0, 0, 1]);

    app.get("/api/v1/auth/check", Some(&access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/auth/check", [1, 0, 0, 0, 0]);

    app.get(&format!("/api/v1/users/{id}/profile"), Some(&access))
        .await
        .assert(200);
    // The statistics' grades: the enrollments (1 query; then 1 per course), then the user with the
    // submissions (1 batch get).
    assert_calls(
        &table,
        "GET /api/v1/users/{userId}/profile",
        [0, 1, 1, 0, 0],
    );

    app.put(
        "/api/v1/profile",
        Some(&access),
        json!({"firstName": "Augusta"}),
    )
    .await
    .assert(200);
    assert_calls(&table, "PUT /api/v1/profile", [1, 0, 0, 0, 1]);

    app.put(
        "/api/v1/profile/preferences",
        Some(&access),
        json!({"preferredStudyTime": "night"}),
    )
    .await
    .assert(200);
    assert_calls(&table, "PUT /api/v1/profile/preferences", [1, 0, 0, 0, 1]);

    app.post(
        "/api/v1/profile/check-username",
        None,
        json!({"username": "grace"}),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "POST /api/v1/profile/check-username",
        [1, 0, 0, 0, 0],
    );

    app.get("/api/v1/users?limit=10", Some(&admin.access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/users", [0, 0, 1, 0, 0]);

    app.put(
        &format!("/api/v1/users/{id}/role"),
        Some(&admin.access),
        json!({"role": "instructor"}),
    )
    .await
    .assert(200);
    assert_calls(&table, "PUT /api/v1/users/{userId}/role", [1, 0, 0, 0, 1]);

    app.post(
        &format!("/api/v1/users/{id}/suspend"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    // Suspend (reads the user and their sessions).
    assert_calls(
        &table,
        "POST /api/v1/users/{userId}/suspend",
        [1, 0, 1, 0, 1],
    );

    app.post(
        &format!("/api/v1/users/{id}/unsuspend"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "POST /api/v1/users/{userId}/unsuspend",
        [1, 0, 0, 0, 1],
    );

    app.post(
        "/api/v1/auth/signout",
        None,
        json!({"refreshToken": refreshed["refreshToken"]}),
    )
    .await
    .assert(204);
    assert_calls(&table, "POST /api/v1/auth/signout", [0, 0, 0, 0, 1]);

    app.call(Method::GET, "/.well-known/jwks.json", None, None)
        .await
        .assert(200);
    assert_calls(&table, "GET /.well-known/jwks.json", [0, 0, 0, 0, 0]);
    app.get("/api/v1/openapi.json", None).await.assert(200);
    assert_calls(&table, "GET /api/v1/openapi.json", [0, 0, 0, 0, 0]);

    let notifications = app
        .get("/api/v1/notifications", Some(&access))
        .await
        .assert(200)
        .body;
    assert_eq!(notifications["data"], json!([]));
    assert_calls(&table, "GET /api/v1/notifications", [0, 0, 1, 0, 0]);
    let marked = app
        .post("/api/v1/notifications/read", Some(&access), json!({}))
        .await
        .assert(200)
        .body;
    assert_eq!(marked["marked"], 0);
    // The unread ones (none here, so no write; with some, one transaction).
    assert_calls(&table, "POST /api/v1/notifications/read", [0, 0, 1, 0, 0]);
}

#[tokio::test]
async fn course_endpoints_stay_within_their_store_round_trips() {
    // GIVEN a counting store, a published course with a lesson and a prerequisite, and a student
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let intro = app.course(&teacher, json!({"title": "Intro"}), true).await;
    let course = app.course(&teacher, json!({}), true).await;
    let lesson = app.lesson(&teacher, &course, "One", 5).await;
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    app.post(
        &format!("/api/v1/courses/{course}/prerequisites"),
        Some(&teacher.access),
        json!({"prerequisiteId": intro}),
    )
    .await
    .assert(201);
    // Link (the course; the prerequisite with its required-by record; the walk found nothing
    // behind it).
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/prerequisites",
        [1, 1, 0, 0, 1],
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/courses/{course}/prerequisites/{intro}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    assert_calls(
        &table,
        "DELETE /api/v1/courses/{courseId}/prerequisites/{prerequisiteId}",
        [1, 1, 0, 0, 1],
    );

    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/courses/{courseId}", [0, 1, 1, 0, 0]);
    app.get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/courses/{courseId}", [0, 1, 1, 0, 0]);

    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/enroll",
        [0, 1, 1, 0, 1],
    );

    app.get(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&student.access),
    )
    .await
    .assert(200);
    // Lessons (page + enrollment).
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/lessons",
        [1, 0, 1, 0, 0],
    );
    app.get(
        &format!("/api/v1/courses/{course}/lessons/{lesson}"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/lessons/{lessonId}",
        [2, 0, 1, 0, 0],
    );

    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson, "courseId": course}),
    )
    .await
    .assert(200);
    assert_calls(&table, "POST /api/v1/lessons/complete", [1, 0, 1, 0, 1]);
    app.get(
        &format!("/api/v1/courses/{course}/progress"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/progress",
        [1, 0, 1, 0, 0],
    );

    app.post(
        &format!("/api/v1/courses/{course}/ratings"),
        Some(&student.access),
        json!({"rating": 5}),
    )
    .await
    .assert(201);
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/ratings",
        [0, 1, 1, 0, 1],
    );
    app.get(&format!("/api/v1/courses/{course}/ratings"), None)
        .await
        .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/ratings",
        [1, 0, 1, 0, 0],
    );

    app.post(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&teacher.access),
        json!({"title": "Two"}),
    )
    .await
    .assert(201);
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/lessons",
        [0, 0, 1, 0, 1],
    );
    app.get(
        &format!("/api/v1/courses/{course}/statistics"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/statistics",
        [1, 0, 0, 0, 0],
    );
    app.get(
        &format!("/api/v1/courses/{course}/students"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    // Students (page, enrollments, names).
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/students",
        [0, 1, 2, 0, 0],
    );
}

#[tokio::test]
async fn course_authoring_stays_within_its_store_round_trips() {
    // GIVEN a counting store, an instructor and an enrolled student
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    table.take();

    // WHEN the instructor creates, edits and publishes a course, THEN each is one write
    let course = app.course(&teacher, json!({}), false).await;
    // The instructor (named in the answer), then the course item with its catalog entries, counts
    // and search terms in one transaction (a long description's terms take more, of 100 each).
    assert_calls(&table, "POST /api/v1/courses", [1, 0, 0, 0, 1]);
    let path = format!("/api/v1/courses/{course}");
    let edited = app
        .put(&path, Some(&teacher.access), json!({"title": "Renamed"}))
        .await
        .assert(200)
        .body;
    assert_eq!(edited["data"]["title"], "Renamed");
    // The course, one transaction (its conditional update with its catalog entries and counts),
    // the instructor for the answer.
    assert_calls(&table, "PUT /api/v1/courses/{courseId}", [2, 0, 0, 0, 1]);
    let one = app.lesson(&teacher, &course, "One", 5).await;
    let two = app.lesson(&teacher, &course, "Two", 5).await;
    let three = app.lesson(&teacher, &course, "Three", 5).await;
    table.take();
    app.post(&format!("{path}/publish"), Some(&teacher.access), json!({}))
        .await
        .assert(200);
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/publish",
        [2, 0, 0, 0, 1],
    );
    app.post(&format!("{path}/enroll"), Some(&student.access), json!({}))
        .await
        .assert(201);
    table.take();

    // WHEN lessons are edited, reordered and deleted
    let moved = app
        .put(
            &format!("{path}/lessons/{three}"),
            Some(&teacher.access),
            json!({"title": "Third", "order": 1}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(moved["data"]["order"], 1);
    // The page (course, outline, lessons), then lesson and outline in one transaction.
    assert_calls(
        &table,
        "PUT /api/v1/courses/{courseId}/lessons/{lessonId}",
        [0, 0, 1, 0, 1],
    );
    let reordered = app
        .put(
            &format!("{path}/lessons/order"),
            Some(&teacher.access),
            json!({"lessonIds": [one, two, three]}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(reordered["data"][0]["lessonId"], one.as_str());
    // The page, then the outline alone, with the check of its author (a transaction of two).
    assert_calls(
        &table,
        "PUT /api/v1/courses/{courseId}/lessons/order",
        [0, 0, 1, 0, 1],
    );
    app.delete(&format!("{path}/lessons/{two}"), Some(&teacher.access))
        .await
        .assert(204);
    assert_calls(
        &table,
        "DELETE /api/v1/courses/{courseId}/lessons/{lessonId}",
        [0, 0, 1, 0, 1],
    );

    // WHEN the course is duplicated, the student leaves it, and it is deleted
    let copy = app
        .post(
            &format!("{path}/duplicate"),
            Some(&teacher.access),
            json!({}),
        )
        .await
        .assert(201)
        .body;
    assert_eq!(copy["data"]["totalLessons"], 2);
    // The page and the lessons' contents; the copy's items in one transaction, its course item
    // last (so a half-made copy is never a course), with its catalog entries; the instructor for
    // the answer.
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/duplicate",
        [1, 0, 2, 0, 2],
    );
    app.delete(&format!("{path}/enroll"), Some(&student.access))
        .await
        .assert(204);
    // The course and the enrollment together, then one transaction.
    assert_calls(
        &table,
        "DELETE /api/v1/courses/{courseId}/enroll",
        [0, 1, 0, 0, 1],
    );
    app.delete(&path, Some(&teacher.access)).await.assert(204);
    // The course and its count of entitling payments read, the course marked as being deleted
    // with its catalog entries removed (with that count unchanged: one transaction), its partition
    // read (1 query per 1,000 items, 1 per quiz), its items deleted in transactions of 100, the
    // course item last.
    assert_calls(&table, "DELETE /api/v1/courses/{courseId}", [2, 0, 1, 1, 2]);
    app.get(&path, None).await.assert(404);
}

/// The test modules that assert store-call budgets.
const BUDGETED: [&str; 8] = [
    include_str!("store_calls.rs"),
    include_str!("archive.rs"),
    include_str!("invitations.rs"),
    include_str!("assignments.rs"),
    include_str!("catalog.rs"),
    include_str!("files.rs"),
    include_str!("payments.rs"),
    include_str!("quizzes.rs"),
];

#[tokio::test]
async fn every_operation_has_a_store_call_budget() {
    // GIVEN the operations of the OpenAPI description the server gives
    let app = TestApp::spawn().await;
    let spec = app.get("/api/v1/openapi.json", None).await.assert(200).body;
    let operations: Vec<String> = lectern_testkit::openapi::operations(&spec)
        .into_iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(operations.len() > 80, "{}", operations.len());
    // THEN each is named by an `assert_calls` of some test (compared without white space, which
    // formatting moves)
    let squeeze = |text: &str| text.split_whitespace().collect::<String>();
    let sources: Vec<String> = BUDGETED.iter().map(|source| squeeze(source)).collect();
    let missing: Vec<&String> = operations
        .iter()
        .filter(|op| {
            let named = squeeze(&format!("assert_calls(&table, \"{op}\","));
            !sources.iter().any(|source| source.contains(&named))
        })
        .collect();
    assert!(missing.is_empty(), "no store-call budget: {missing:#?}");
}
