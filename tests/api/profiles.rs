//! Profiles and preferences.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn a_user_reads_their_own_profile_with_statistics() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let reply = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await
        .assert(200);
    assert_eq!(reply.body["id"], ada.id.as_str());
    assert_eq!(reply.body["username"], "ada");
    assert_eq!(reply.body["statistics"]["currentStreak"], 0);
    assert!(reply.body["statistics"]["lastLearned"].is_null());
    assert_eq!(reply.body["statistics"]["totalAssignmentsSubmitted"], 0);
    assert!(reply.body["statistics"]["averageGrade"].is_null());
}

#[tokio::test]
async fn the_profiles_grade_statistics_come_from_the_students_submissions() {
    // GIVEN a student in two courses: three assignments submitted (10/10 and 15/30 graded, one not
    // yet), one only started, one untouched; and a classmate with a grade of their own
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teach", "instructor").await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let bob = app.user("bob@example.org", "bob", "student").await;
    let mut assignments = Vec::new();
    for title in ["Writing", "Reading"] {
        let course = app.course(&teacher, json!({"title": title}), true).await;
        for who in [&ada, &bob] {
            app.post(
                &format!("/api/v1/courses/{course}/enroll"),
                Some(&who.access),
                json!({}),
            )
            .await
            .assert(201);
        }
        for points in [10, 30, 20] {
            assignments.push(app.assignment(&teacher, &course, points).await);
        }
    }
    let submit = |who: &crate::helpers::Session, assignment: &str| {
        let (access, assignment) = (who.access.clone(), assignment.to_owned());
        let app = &app;
        async move {
            app.post(
                "/api/v1/assignments/submit",
                Some(&access),
                json!({"assignmentId": assignment, "submissionContent": "Mine", "fileIds": []}),
            )
            .await
            .assert(201);
        }
    };
    let grade = |who: &crate::helpers::Session, assignment: &str, grade: f64| {
        let (student, assignment) = (who.id.clone(), assignment.to_owned());
        let (app, access) = (&app, teacher.access.clone());
        async move {
            app.post(
                &format!("/api/v1/assignments/{assignment}/grade"),
                Some(&access),
                json!({"studentId": student, "grade": grade}),
            )
            .await
            .assert(200);
        }
    };
    // Writing: 10 points (graded 10), 30 points (graded 15), 20 points (submitted, not graded).
    submit(&ada, &assignments[0]).await;
    grade(&ada, &assignments[0], 10.0).await;
    submit(&ada, &assignments[1]).await;
    grade(&ada, &assignments[1], 15.0).await;
    submit(&ada, &assignments[2]).await;
    // Reading: the 10-point one only started.
    app.post(
        &format!("/api/v1/assignments/{}/start", assignments[3]),
        Some(&ada.access),
        json!({}),
    )
    .await
    .assert(200);
    submit(&bob, &assignments[4]).await;
    grade(&bob, &assignments[4], 3.0).await;

    // WHEN ada reads her profile, and the admin reads it
    let own = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await
        .assert(200)
        .body;
    let admin = app.admin().await;
    let seen = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&admin.access),
        )
        .await
        .assert(200)
        .body;

    // THEN three were handed in, and the average is 25 of 40 points, as her grade report says
    for profile in [&own, &seen] {
        assert_eq!(profile["statistics"]["totalAssignmentsSubmitted"], 3);
        assert_eq!(profile["statistics"]["averageGrade"], 62.5);
    }
    let report = app
        .get(&format!("/api/v1/grades/{}", ada.id), Some(&ada.access))
        .await
        .assert(200)
        .body;
    assert_eq!(report["averageGrade"], own["statistics"]["averageGrade"]);
    // AND the classmate's statistics are their own
    let bobs = app
        .get(
            &format!("/api/v1/users/{}/profile", bob.id),
            Some(&bob.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(bobs["statistics"]["totalAssignmentsSubmitted"], 1);
    assert_eq!(bobs["statistics"]["averageGrade"], 10.0);
}

#[tokio::test]
async fn another_users_profile_is_404_but_an_admin_sees_it() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let bob = app.user("bob@example.org", "bob", "student").await;
    let path = format!("/api/v1/users/{}/profile", ada.id);
    let reply = app.get(&path, Some(&bob.access)).await.assert(404);
    assert_eq!(reply.code(), "not_found");
    let admin = app.admin().await;
    app.get(&path, Some(&admin.access)).await.assert(200);
    app.get("/api/v1/users/not-a-uuid/profile", Some(&admin.access))
        .await
        .assert(404);
    app.get(&path, None).await.assert(401);
}

#[tokio::test]
async fn updating_the_profile_persists_and_moves_the_email() {
    // GIVEN ada
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    // WHEN she changes her names, email, username and goal
    let reply = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"firstName": "Augusta", "email": "augusta@example.org", "username": "augusta", "weeklyLearningGoal": 300, "currentPassword": PASSWORD}),
        )
        .await
        .assert(200);
    assert_eq!(reply.body["message"], "Profile updated successfully");
    assert_eq!(reply.body["user"]["firstName"], "Augusta");
    assert_eq!(reply.body["user"]["version"], 2);
    // THEN it is stored, she signs in with the new email, and the old email and username are free
    let profile = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await
        .assert(200);
    assert_eq!(profile.body["weeklyLearningGoal"], 300);
    assert_eq!(profile.body["username"], "augusta");
    app.signin("augusta@example.org", PASSWORD)
        .await
        .assert(200);
    app.signin("ada@example.org", PASSWORD).await.assert(401);
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
}

#[tokio::test]
async fn taking_someone_elses_email_or_username_is_409() {
    let app = TestApp::spawn().await;
    app.user("bob@example.org", "bob", "student").await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let email = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"email": "BOB@example.org", "currentPassword": PASSWORD}),
        )
        .await
        .assert(409);
    assert_eq!(email.code(), "email_taken");
    let name = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"username": "Bob"}),
        )
        .await
        .assert(409);
    assert_eq!(name.code(), "username_taken");
    // Nothing half-written: ada is unchanged.
    let profile = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await;
    assert_eq!(
        (
            profile.body["email"].as_str(),
            profile.body["version"].as_u64()
        ),
        (Some("ada@example.org"), Some(1))
    );
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_signs_out_every_session() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let missing = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"newPassword": "a brand new password"}),
        )
        .await
        .assert(400);
    assert!(missing.body["details"]["currentPassword"].is_string());
    let wrong = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"newPassword": "a brand new password", "currentPassword": "nope nope nope"}),
        )
        .await
        .assert(400);
    assert_eq!(wrong.body["details"]["currentPassword"], "is incorrect");
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"newPassword": "a brand new password", "currentPassword": PASSWORD}),
    )
    .await
    .assert(200);
    app.signin("ada@example.org", PASSWORD).await.assert(401);
    app.signin("ada@example.org", "a brand new password")
        .await
        .assert(200);
    app.refresh(&ada.refresh).await.assert(401);
}

#[tokio::test]
async fn role_and_unknown_fields_cannot_be_mass_assigned() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let reply = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"role": "admin"}),
        )
        .await
        .assert(400);
    assert!(reply.body["details"].to_string().contains("role"));
    let check = app.get("/api/v1/auth/check", Some(&ada.access)).await;
    assert_eq!(check.body["user"]["role"], "student");
}

#[tokio::test]
async fn a_body_naming_another_user_is_403() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let bob = app.user("bob@example.org", "bob", "student").await;
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"userId": bob.id, "firstName": "X"}),
    )
    .await
    .assert(403);
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"userId": ada.id, "firstName": "Y"}),
    )
    .await
    .assert(200);
}

#[tokio::test]
async fn a_stale_version_is_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"firstName": "One", "version": 1}),
    )
    .await
    .assert(200);
    let stale = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"firstName": "Two", "version": 1}),
        )
        .await
        .assert(409);
    assert_eq!(stale.code(), "stale_version");
    let profile = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await;
    assert_eq!(profile.body["firstName"], "One");
}

#[tokio::test]
async fn concurrent_profile_writes_never_lose_an_update_silently() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let writes = (0..6).map(|i| {
        let (app, token) = (&app, ada.access.clone());
        async move {
            app.put(
                "/api/v1/profile",
                Some(&token),
                json!({"weeklyLearningGoal": 100 + i}),
            )
            .await
        }
    });
    let replies = futures::future::join_all(writes).await;
    let ok = replies.iter().filter(|r| r.status == 200).count() as u64;
    assert!(
        replies
            .iter()
            .all(|r| r.status == 200 || r.code() == "stale_version")
    );
    // Every 200 bumped the version exactly once.
    let profile = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await;
    assert_eq!(profile.body["version"].as_u64().unwrap(), 1 + ok);
}

#[tokio::test]
async fn preferences_are_updated_and_validated() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let reply = app
        .put(
            "/api/v1/profile/preferences",
            Some(&ada.access),
            json!({"notificationPreference": false, "preferredStudyTime": "night", "weeklyLearningGoal": 90}),
        )
        .await
        .assert(200);
    assert_eq!(reply.body["message"], "Preferences updated successfully");
    assert_eq!(reply.body["user"]["preferredStudyTime"], "night");
    assert_eq!(reply.body["user"]["notificationPreference"], false);
    let bad = app
        .put(
            "/api/v1/profile/preferences",
            Some(&ada.access),
            json!({"preferredStudyTime": "noon"}),
        )
        .await
        .assert(400);
    assert!(
        bad.body["details"]["preferredStudyTime"]
            .as_str()
            .unwrap()
            .contains("morning")
    );
    let goal = app
        .put(
            "/api/v1/profile/preferences",
            Some(&ada.access),
            json!({"weeklyLearningGoal": 99999}),
        )
        .await
        .assert(400);
    assert!(goal.body["details"]["weeklyLearningGoal"].is_string());
    let profile = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&ada.access),
        )
        .await;
    assert_eq!(profile.body["weeklyLearningGoal"], 90);
}

#[tokio::test]
async fn username_availability_is_answered() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let check = |name: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/profile/check-username",
                token.as_deref(),
                json!({"username": name}),
            )
            .await
        }
    };
    assert_eq!(
        check("ADA", None).await.assert(200).body["available"],
        false
    );
    assert_eq!(
        check("grace", None).await.assert(200).body["available"],
        true
    );
    assert_eq!(
        check("ada", Some(ada.access.clone()))
            .await
            .assert(200)
            .body["available"],
        true
    );
    check("a", None).await.assert(400);
}
