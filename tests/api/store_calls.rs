//! Store round trips per endpoint (ARCHITECTURE "Budgets"): a read endpoint makes one store call, a write
//! one transaction after the reads it needs. Sign in is the documented exception: it reads the email
//! claim and the failed-sign-in window in one batch, then the user the claim names.

use lectern_testkit::counting::Calls;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

fn calls(get: usize, batch_get: usize, query: usize, transact_write: usize) -> Calls {
    Calls {
        get,
        batch_get,
        query,
        transact_write,
        ..Calls::default()
    }
}

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
    assert_eq!(table.take(), calls(0, 0, 0, 1), "register");

    let tokens = app
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    assert_eq!(table.take(), calls(1, 1, 0, 1), "signin");
    let access = tokens["accessToken"].as_str().unwrap().to_owned();
    let id = tokens["user"]["id"].as_str().unwrap().to_owned();

    let refreshed = app
        .refresh(tokens["refreshToken"].as_str().unwrap())
        .await
        .assert(200)
        .body;
    assert_eq!(table.take(), calls(0, 1, 0, 1), "refresh");

    app.get("/api/v1/auth/check", Some(&access))
        .await
        .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 0), "check");

    app.get(&format!("/api/v1/users/{id}/profile"), Some(&access))
        .await
        .assert(200);
    // The statistics' grades: the enrollments (1 query; then 1 per course), then the user with the
    // submissions (1 batch get).
    assert_eq!(table.take(), calls(0, 1, 1, 0), "profile");

    app.put(
        "/api/v1/profile",
        Some(&access),
        json!({"firstName": "Augusta"}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 1), "profile update");

    app.put(
        "/api/v1/profile/preferences",
        Some(&access),
        json!({"preferredStudyTime": "night"}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 1), "preferences");

    app.post(
        "/api/v1/profile/check-username",
        None,
        json!({"username": "grace"}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 0), "check-username");

    app.get("/api/v1/users?limit=10", Some(&admin.access))
        .await
        .assert(200);
    assert_eq!(table.take(), calls(0, 0, 1, 0), "list users");

    app.put(
        &format!("/api/v1/users/{id}/role"),
        Some(&admin.access),
        json!({"role": "instructor"}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 1), "set role");

    app.post(
        &format!("/api/v1/users/{id}/suspend"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    assert_eq!(
        table.take(),
        calls(1, 0, 1, 1),
        "suspend (reads the user and their sessions)"
    );

    app.post(
        &format!("/api/v1/users/{id}/unsuspend"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 1), "unsuspend");

    app.post(
        "/api/v1/auth/signout",
        None,
        json!({"refreshToken": refreshed["refreshToken"]}),
    )
    .await
    .assert(204);
    assert_eq!(table.take(), calls(0, 0, 0, 1), "signout");

    app.call(Method::GET, "/.well-known/jwks.json", None, None)
        .await
        .assert(200);
    assert_eq!(table.take().total(), 0, "jwks");
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
    assert_eq!(
        table.take(),
        calls(2, 0, 0, 1),
        "link (course, prerequisite; the walk found nothing behind it)"
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/courses/{course}/prerequisites/{intro}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    assert_eq!(table.take(), calls(2, 0, 0, 1), "unlink");

    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200);
    assert_eq!(table.take(), calls(0, 1, 1, 0), "course page, anonymous");
    app.get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200);
    assert_eq!(table.take(), calls(0, 1, 1, 0), "course page, signed in");

    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    assert_eq!(table.take(), calls(0, 1, 1, 1), "enroll");

    app.get(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_eq!(
        table.take(),
        calls(1, 0, 1, 0),
        "lessons (page + enrollment)"
    );
    app.get(
        &format!("/api/v1/courses/{course}/lessons/{lesson}"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(2, 0, 1, 0), "lesson with content");

    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson, "courseId": course}),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 1, 1), "complete a lesson");
    app.get(
        &format!("/api/v1/courses/{course}/progress"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 1, 0), "progress");

    app.post(
        &format!("/api/v1/courses/{course}/ratings"),
        Some(&student.access),
        json!({"rating": 5}),
    )
    .await
    .assert(201);
    assert_eq!(table.take(), calls(0, 1, 1, 1), "rate");
    app.get(&format!("/api/v1/courses/{course}/ratings"), None)
        .await
        .assert(200);
    assert_eq!(table.take(), calls(1, 0, 1, 0), "ratings");

    app.post(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&teacher.access),
        json!({"title": "Two"}),
    )
    .await
    .assert(201);
    assert_eq!(table.take(), calls(0, 0, 1, 1), "add a lesson");
    app.get(
        &format!("/api/v1/courses/{course}/statistics"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    assert_eq!(table.take(), calls(1, 0, 0, 0), "statistics");
    app.get(
        &format!("/api/v1/courses/{course}/students"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    assert_eq!(
        table.take(),
        calls(0, 1, 2, 0),
        "students (page, enrollments, names)"
    );
}
