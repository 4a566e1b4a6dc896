//! A store that fails every write: clients get a clean 503, and nothing is half-written.

use std::sync::Arc;

use lectern_store::sqlite::SqliteTable;
use lectern_testkit::SabotagedTable;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn when_every_write_fails_registration_is_a_clean_503_and_nothing_is_stored() {
    // GIVEN an app whose store refuses writes
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    let sabotaged = Arc::new(SabotagedTable::new(SqliteTable::open(&path).unwrap()));
    let app = TestApp::spawn_on(dir, sabotaged).await;
    // WHEN someone registers
    let reply = app
        .register("ada@example.org", "ada", "student")
        .await
        .assert(503);
    // THEN the error is clean: no internal text
    assert_eq!(reply.code(), "service_unavailable");
    assert!(reply.body["requestId"].is_string());
    assert!(!reply.body.to_string().to_lowercase().contains("sabotage"));
    assert_eq!(reply.headers["retry-after"], "1");
    // AND with the store healthy again, nothing of it exists: the email and username are free
    let healthy = TestApp::spawn_on(app.dir, Arc::new(SqliteTable::open(&path).unwrap())).await;
    healthy
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(401);
    healthy
        .register("ada@example.org", "ada", "student")
        .await
        .assert(201);
}

#[tokio::test]
async fn when_writes_fail_sign_in_is_503_and_reads_still_work() {
    // GIVEN ada registered while the store was healthy
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    let healthy = TestApp::spawn_on(
        tempfile::tempdir().unwrap(),
        Arc::new(SqliteTable::open(&path).unwrap()),
    )
    .await;
    let ada = healthy.user("ada@example.org", "ada", "student").await;
    // WHEN the store starts failing writes (same data, same keys)
    let broken = TestApp::spawn_on(
        dir,
        Arc::new(SabotagedTable::new(SqliteTable::open(&path).unwrap())),
    )
    .await;
    // THEN signing in (which writes a session) is 503, refreshing too, but reading a profile works
    broken.signin("ada@example.org", PASSWORD).await.assert(503);
    broken.refresh(&ada.refresh).await.assert(503);
    // The refresh token was not consumed by the failed attempt.
    healthy.refresh(&ada.refresh).await.assert(200);
}

#[tokio::test]
async fn when_writes_fail_enrolling_is_a_clean_503_and_nothing_is_counted() {
    // GIVEN a published course and a student, made while the store was healthy
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    let healthy = TestApp::spawn_on(
        tempfile::tempdir().unwrap(),
        Arc::new(SqliteTable::open(&path).unwrap()),
    )
    .await;
    let teacher = healthy.user("t@example.org", "teacher", "instructor").await;
    let student = healthy.user("s@example.org", "student", "student").await;
    let course = healthy.course(&teacher, serde_json::json!({}), true).await;
    let lesson = healthy.lesson(&teacher, &course, "One", 5).await;
    // WHEN the store fails writes (same data, same signing keys)
    for entry in std::fs::read_dir(healthy.dir.path()).unwrap() {
        let entry = entry.unwrap();
        // The signing key and the webhook secret; not the healthy app's own queue file.
        let queues = entry
            .file_name()
            .to_string_lossy()
            .starts_with("lectern.db");
        if entry.file_type().unwrap().is_file() && !queues {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let broken = TestApp::spawn_on(
        dir,
        Arc::new(SabotagedTable::new(SqliteTable::open(&path).unwrap())),
    )
    .await;
    // THEN enrolling, adding a lesson and rating are 503, and the course page still reads
    let enroll = format!("/api/v1/courses/{course}/enroll");
    let reply = broken
        .post(&enroll, Some(&student.access), serde_json::json!({}))
        .await
        .assert(503);
    assert_eq!(reply.code(), "service_unavailable");
    broken
        .post(
            &format!("/api/v1/courses/{course}/lessons"),
            Some(&teacher.access),
            serde_json::json!({"title": "Two"}),
        )
        .await
        .assert(503);
    let page = broken
        .get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalEnrollments"], 0);
    assert_eq!(page["totalLessons"], 1);
    // AND nothing was half-written: the student is not enrolled and can enroll once healthy
    healthy
        .post(
            "/api/v1/lessons/complete",
            Some(&student.access),
            serde_json::json!({"lessonId": lesson, "courseId": course}),
        )
        .await
        .assert(403);
    healthy
        .post(&enroll, Some(&student.access), serde_json::json!({}))
        .await
        .assert(201);
}
