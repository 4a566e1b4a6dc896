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
