//! User administration: role checks, listing, roles, suspension.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn students_and_instructors_get_403_from_admin_endpoints() {
    let app = TestApp::spawn().await;
    let student = app.user("s@example.org", "stu", "student").await;
    let teacher = app.user("t@example.org", "tea", "instructor").await;
    for token in [&student.access, &teacher.access] {
        let reply = app.get("/api/v1/users", Some(token)).await.assert(403);
        assert_eq!(reply.code(), "forbidden");
        app.post(
            &format!("/api/v1/users/{}/suspend", student.id),
            Some(token),
            json!({}),
        )
        .await
        .assert(403);
        app.put(
            &format!("/api/v1/users/{}/role", student.id),
            Some(token),
            json!({"role": "admin"}),
        )
        .await
        .assert(403);
    }
    app.get("/api/v1/users", None).await.assert(401);
}

#[tokio::test]
async fn listing_users_pages_with_a_cursor_and_filters_by_role() {
    // GIVEN an admin, 5 students and 2 instructors
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..5 {
        app.register(
            &format!("s{i}@example.org"),
            &format!("student{i}"),
            "student",
        )
        .await
        .assert(201);
    }
    for i in 0..2 {
        app.user(
            &format!("t{i}@example.org"),
            &format!("teacher{i}"),
            "instructor",
        )
        .await;
    }
    // WHEN students are listed two at a time
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?role=student&limit=2&cursor={c}"),
            None => "/api/v1/users?role=student&limit=2".into(),
        };
        let page = app.get(&path, Some(&admin.access)).await.assert(200).body;
        for user in page["data"].as_array().unwrap() {
            assert_eq!(user["role"], "student");
            seen.push(user["username"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // THEN every student appears once, oldest first
    assert_eq!(
        seen,
        (0..5).map(|i| format!("student{i}")).collect::<Vec<_>>()
    );
    // AND the whole list has everyone
    let all = app
        .get("/api/v1/users?limit=100", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(all["data"].as_array().unwrap().len(), 8);
    assert!(all.get("nextCursor").is_none());
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let limit = app
        .get("/api/v1/users?limit=101", Some(&admin.access))
        .await
        .assert(400);
    assert!(limit.body["details"]["limit"].is_string());
    let role = app
        .get("/api/v1/users?role=wizard", Some(&admin.access))
        .await
        .assert(400);
    assert!(
        role.body["details"]["role"]
            .as_str()
            .unwrap()
            .contains("student")
    );
    for cursor in [
        "garbage",
        "eyJ2IjoxfQ",
        "eyJ2IjoxLCJpIjoiR1NJMSIsInBrIjoiVCNhY21lI1VTRVIjeCIsInNrIjoiUFJPRklMRSIsImlwayI6IlQjYWNtZSNVU0VSUyIsImlzayI6IlJPTEUjc3R1ZGVudCN4In0",
    ] {
        let reply = app
            .get(
                &format!("/api/v1/users?cursor={cursor}"),
                Some(&admin.access),
            )
            .await
            .assert(400);
        assert_eq!(reply.code(), "invalid_cursor", "{cursor}");
    }
}

#[tokio::test]
async fn a_new_role_reaches_the_users_next_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let reply = app
        .put(
            &format!("/api/v1/users/{}/role", ada.id),
            Some(&admin.access),
            json!({"role": "instructor"}),
        )
        .await
        .assert(200);
    assert_eq!(reply.body["data"]["role"], "instructor");
    let refreshed = app.refresh(&ada.refresh).await.assert(200);
    assert_eq!(refreshed.body["user"]["role"], "instructor");
    let bad = app
        .put(
            &format!("/api/v1/users/{}/role", ada.id),
            Some(&admin.access),
            json!({"role": "king"}),
        )
        .await
        .assert(400);
    assert!(bad.body["details"]["role"].is_string());
}

#[tokio::test]
async fn suspension_revokes_sessions_and_blocks_sign_in_until_lifted() {
    // GIVEN ada signed in on two devices
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let second = app
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    // WHEN an admin suspends her
    let reply = app
        .post(
            &format!("/api/v1/users/{}/suspend", ada.id),
            Some(&admin.access),
            json!({}),
        )
        .await
        .assert(200);
    assert_eq!(reply.body["data"]["status"], "suspended");
    // THEN neither session refreshes, sign in is 403, and check is 403
    app.refresh(&ada.refresh).await.assert(401);
    app.refresh(second["refreshToken"].as_str().unwrap())
        .await
        .assert(401);
    assert_eq!(
        app.signin("ada@example.org", PASSWORD)
            .await
            .assert(403)
            .code(),
        "forbidden"
    );
    app.get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(403);
    // AND after unsuspending she signs in again
    app.post(
        &format!("/api/v1/users/{}/unsuspend", ada.id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    app.signin("ada@example.org", PASSWORD).await.assert(200);
}

#[tokio::test]
async fn an_admin_cannot_suspend_or_demote_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let reply = app
        .post(
            &format!("/api/v1/users/{}/suspend", admin.id),
            Some(&admin.access),
            json!({}),
        )
        .await
        .assert(409);
    assert_eq!(reply.code(), "own_account");
    app.put(
        &format!("/api/v1/users/{}/role", admin.id),
        Some(&admin.access),
        json!({"role": "student"}),
    )
    .await
    .assert(409);
    app.post(
        "/api/v1/users/00000000-0000-7000-8000-000000000000/suspend",
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(404);
}
