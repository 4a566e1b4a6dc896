//! The auth and admin flows again, with the app on the DynamoDB backend (moto's server on loopback).

use std::sync::Arc;

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

async fn spawn_on_dynamo() -> TestApp {
    let table = lectern_testkit::moto::moto().await.fresh_table().await;
    TestApp::spawn_on(tempfile::tempdir().unwrap(), Arc::new(table)).await
}

#[tokio::test]
async fn on_dynamodb_register_sign_in_refresh_and_reuse_detection_work() {
    let app = spawn_on_dynamo().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    assert_eq!(
        app.register("ADA@example.org", "other", "student")
            .await
            .assert(409)
            .code(),
        "email_taken"
    );
    app.get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(200);
    let rotated = app.refresh(&ada.refresh).await.assert(200).body;
    app.refresh(&ada.refresh).await.assert(401);
    app.refresh(rotated["refreshToken"].as_str().unwrap())
        .await
        .assert(401);
    app.signin("ada@example.org", "wrong password!")
        .await
        .assert(401);
}

#[tokio::test]
async fn on_dynamodb_concurrent_registrations_with_one_email_let_exactly_one_in() {
    let app = spawn_on_dynamo().await;
    let attempts = (0..4).map(|i| {
        let app = &app;
        async move {
            app.register("race@example.org", &format!("racer{i}"), "student")
                .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    assert!(
        replies
            .iter()
            .all(|r| r.status == 201 || r.code() == "email_taken")
    );
}

#[tokio::test]
async fn on_dynamodb_profiles_update_and_admins_page_and_suspend() {
    let app = spawn_on_dynamo().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    app.user("bob@example.org", "bob", "student").await;
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"email": "augusta@example.org", "version": 1}),
    )
    .await
    .assert(200);
    app.signin("augusta@example.org", PASSWORD)
        .await
        .assert(200);
    let first = app
        .get("/api/v1/users?role=student&limit=1", Some(&admin.access))
        .await
        .assert(200)
        .body;
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/users?role=student&limit=1&cursor={cursor}"),
            Some(&admin.access),
        )
        .await
        .assert(200)
        .body;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    assert!(second.get("nextCursor").is_none());
    app.post(
        &format!("/api/v1/users/{}/suspend", ada.id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    app.refresh(&ada.refresh).await.assert(401);
    app.signin("augusta@example.org", PASSWORD)
        .await
        .assert(403);
}
