//! A suspension or a demotion takes effect at once for writes: the access token a user still holds
//! proves who they were, but every write checks their account as it is now (active, and the role the
//! write needs) in its own transaction. Reads stop when the token expires; refresh gives no token to a
//! suspended user and the new role to a demoted one.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

async fn suspend(app: &TestApp, admin: &Session, user: &Session) {
    app.post(
        &format!("/api/v1/users/{}/suspend", user.id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
}

async fn set_role(app: &TestApp, admin: &Session, user: &Session, role: &str) {
    app.put(
        &format!("/api/v1/users/{}/role", user.id),
        Some(&admin.access),
        json!({ "role": role }),
    )
    .await
    .assert(200);
}

async fn course_as(app: &TestApp, who: &Session, course: &str) -> Value {
    app.get(&format!("/api/v1/courses/{course}"), Some(&who.access))
        .await
        .assert(200)
        .body
}

fn quiz_body() -> Value {
    json!({
        "title": "Basics", "description": "Warm-up", "passingScore": 60, "allowedAttempts": -1,
        "questions": [
            {"type": "true_false", "prompt": "Rust has a borrow checker", "correctAnswer": true}
        ]
    })
}

/// A published free course and a published paid one by `teacher`.
async fn courses(app: &TestApp, teacher: &Session) -> (String, String) {
    let free = app.course(teacher, json!({"title": "Free"}), true).await;
    let paid = app
        .course(
            teacher,
            json!({"title": "Paid", "price": 4900, "currency": "eur"}),
            true,
        )
        .await;
    (free, paid)
}

#[tokio::test]
async fn a_suspended_students_token_can_no_longer_enroll_buy_or_change_their_profile() {
    // GIVEN a student signed in, two courses, and an admin who suspends the student
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ada = app.user("ada@x.org", "ada", "student").await;
    let (free, paid) = courses(&app, &teacher).await;
    suspend(&app, &admin, &ada).await;

    // WHEN she uses the access token she still holds to enroll, buy and edit her profile
    let enroll = app
        .post(
            &format!("/api/v1/courses/{free}/enroll"),
            Some(&ada.access),
            json!({}),
        )
        .await
        .assert(403);
    let buy = app
        .post(
            "/api/v1/payments/course",
            Some(&ada.access),
            json!({"courseId": paid}),
        )
        .await
        .assert(403);
    let profile = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({"firstName": "Eve"}),
        )
        .await
        .assert(403);
    let preferences = app
        .put(
            "/api/v1/profile/preferences",
            Some(&ada.access),
            json!({"preferredStudyTime": "night"}),
        )
        .await
        .assert(403);

    // THEN each is refused as a suspended account, in the one error shape
    for reply in [&enroll, &buy, &profile, &preferences] {
        assert_eq!(reply.code(), "account_suspended", "{}", reply.body);
        assert!(reply.body["requestId"].as_str().is_some());
    }
    // AND nothing was written: no enrollment, no payment, the profile as it was
    assert_eq!(
        course_as(&app, &teacher, &free).await["statistics"]["totalEnrollments"],
        0
    );
    let students = app
        .get(
            &format!("/api/v1/courses/{free}/students"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(students["data"], json!([]), "{students}");
    let payments = app
        .get("/api/v1/payments", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(payments["data"], json!([]), "{payments}");
    let stored = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&admin.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(stored["firstName"], "Ada", "{stored}");
    assert_eq!(stored["status"], "suspended", "{stored}");
}

#[tokio::test]
async fn a_suspended_student_cannot_refresh_and_once_unsuspended_writes_again() {
    // GIVEN a suspended student
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ada = app.user("ada@x.org", "ada", "student").await;
    let (free, _) = courses(&app, &teacher).await;
    suspend(&app, &admin, &ada).await;

    // WHEN she refreshes, THEN no new token is issued (the suspension revoked her sessions)
    let refused = app.refresh(&ada.refresh).await.assert(401);
    assert!(
        refused.body.get("accessToken").is_none(),
        "{}",
        refused.body
    );

    // WHEN an admin lifts the suspension, THEN the token she holds writes again
    app.post(
        &format!("/api/v1/users/{}/unsuspend", ada.id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/courses/{free}/enroll"),
        Some(&ada.access),
        json!({}),
    )
    .await
    .assert(201);
    assert_eq!(
        course_as(&app, &teacher, &free).await["statistics"]["totalEnrollments"],
        1
    );
}

#[tokio::test]
async fn a_demoted_instructors_token_can_no_longer_edit_publish_or_add_to_their_courses() {
    // GIVEN an instructor with a published course and a draft, then made a student by an admin
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let published = app
        .course(&teacher, json!({"title": "Published"}), true)
        .await;
    let draft = app.course(&teacher, json!({"title": "Draft"}), false).await;
    set_role(&app, &admin, &teacher, "student").await;

    // WHEN the token issued before the demotion edits, publishes and adds a quiz, a lesson and an
    // assignment
    let token = Some(teacher.access.as_str());
    let replies = [
        app.put(
            &format!("/api/v1/courses/{published}"),
            token,
            json!({"title": "Hijacked"}),
        )
        .await,
        app.post(
            &format!("/api/v1/courses/{draft}/publish"),
            token,
            json!({}),
        )
        .await,
        app.post(
            &format!("/api/v1/courses/{published}/quizzes"),
            token,
            quiz_body(),
        )
        .await,
        app.post(
            &format!("/api/v1/courses/{published}/lessons"),
            token,
            json!({"title": "Intro", "estimatedTime": 5, "content": "# Intro"}),
        )
        .await,
        app.post(
            &format!("/api/v1/courses/{published}/assignments"),
            token,
            json!({"title": "Essay", "description": "Write.", "points": 10,
                   "dueDate": "2099-01-01T00:00:00Z"}),
        )
        .await,
    ];

    // THEN each is refused because the role changed
    for reply in replies {
        let reply = reply.assert(403);
        assert_eq!(reply.code(), "role_changed", "{}", reply.body);
    }
    // AND the courses read back unchanged
    let course = course_as(&app, &admin, &published).await;
    assert_eq!(course["title"], "Published", "{course}");
    assert_eq!(course["version"], 2, "{course}");
    assert_eq!(course["quizzes"], json!([]), "{course}");
    assert_eq!(course["lessons"], json!([]), "{course}");
    assert_eq!(course["assignments"], json!([]), "{course}");
    let draft = course_as(&app, &admin, &draft).await;
    assert_eq!(draft["status"], "draft", "{draft}");
}

#[tokio::test]
async fn a_demoted_instructors_token_can_no_longer_grade() {
    // GIVEN a student's submission to an instructor's assignment, then the instructor is demoted
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    let assignment = app.assignment(&teacher, &course, 10).await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    app.post(
        "/api/v1/assignments/submit",
        Some(&student.access),
        json!({"assignmentId": assignment, "submissionContent": "My essay", "fileIds": []}),
    )
    .await
    .assert(201);
    set_role(&app, &admin, &teacher, "student").await;

    // WHEN the old token grades the submission
    let reply = app
        .post(
            &format!("/api/v1/assignments/{assignment}/grade"),
            Some(&teacher.access),
            json!({"studentId": student.id, "grade": 10}),
        )
        .await
        .assert(403);

    // THEN it is refused, and the submission is still ungraded
    assert_eq!(reply.code(), "role_changed", "{}", reply.body);
    let mine = app
        .get(
            &format!("/api/v1/assignments/{assignment}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(mine["submission"]["status"], "submitted", "{mine}");
    assert!(mine["submission"]["grade"].is_null(), "{mine}");
}

#[tokio::test]
async fn a_demoted_instructors_token_can_no_longer_refund() {
    // GIVEN a completed payment for an instructor's course, then the instructor is demoted
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let (_, paid) = courses(&app, &teacher).await;
    let bought = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": paid}),
        )
        .await
        .assert(201)
        .body;
    let id = bought["payment"]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/dev/payments/{id}/simulate"),
        Some(&student.access),
        json!({"outcome": "succeeded"}),
    )
    .await
    .assert(202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let payment = app
            .get(&format!("/api/v1/payments/{id}"), Some(&student.access))
            .await
            .assert(200)
            .body;
        if payment["status"] == "completed" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{payment}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    set_role(&app, &admin, &teacher, "student").await;

    // WHEN the old token refunds it
    let reply = app
        .post(
            &format!("/api/v1/payments/{id}/refund"),
            Some(&teacher.access),
            json!({}),
        )
        .await
        .assert(403);

    // THEN it is refused before the provider is asked, and the payment stays completed
    assert_eq!(reply.code(), "role_changed", "{}", reply.body);
    let payment = app
        .get(&format!("/api/v1/payments/{id}"), Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(payment["status"], "completed", "{payment}");
    assert_eq!(payment["refundedAmount"], 0, "{payment}");
}

#[tokio::test]
async fn a_demoted_admins_token_can_no_longer_administer_users() {
    // GIVEN a second admin, demoted by the first
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let second = app.user("b@x.org", "boss", "admin").await;
    let ada = app.user("ada@x.org", "ada", "student").await;
    set_role(&app, &admin, &second, "instructor").await;

    // WHEN the second admin's old token suspends a student and grants a role
    let suspend = app
        .post(
            &format!("/api/v1/users/{}/suspend", ada.id),
            Some(&second.access),
            json!({}),
        )
        .await
        .assert(403);
    let grant = app
        .put(
            &format!("/api/v1/users/{}/role", ada.id),
            Some(&second.access),
            json!({"role": "admin"}),
        )
        .await
        .assert(403);

    // THEN both are refused, and the student is as she was
    assert_eq!(suspend.code(), "role_changed", "{}", suspend.body);
    assert_eq!(grant.code(), "role_changed", "{}", grant.body);
    let stored = app
        .get(
            &format!("/api/v1/users/{}/profile", ada.id),
            Some(&admin.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(stored["status"], "active", "{stored}");
    assert_eq!(stored["role"], "student", "{stored}");
}

#[tokio::test]
async fn an_active_instructor_still_edits_publishes_adds_and_grades() {
    // GIVEN an instructor in good standing (the row of the matrix that must keep working)
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let published = app
        .course(&teacher, json!({"title": "Published"}), true)
        .await;
    let draft = app.course(&teacher, json!({"title": "Draft"}), false).await;
    let token = Some(teacher.access.as_str());

    // WHEN they edit, publish, add a quiz and an assignment, and grade
    app.put(
        &format!("/api/v1/courses/{published}"),
        token,
        json!({"title": "Renamed"}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/courses/{draft}/publish"),
        token,
        json!({}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/courses/{published}/quizzes"),
        token,
        quiz_body(),
    )
    .await
    .assert(201);
    let assignment = app.assignment(&teacher, &published, 10).await;
    app.post(
        &format!("/api/v1/courses/{published}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    app.post(
        "/api/v1/assignments/submit",
        Some(&student.access),
        json!({"assignmentId": assignment, "submissionContent": "My essay", "fileIds": []}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/assignments/{assignment}/grade"),
        token,
        json!({"studentId": student.id, "grade": 9}),
    )
    .await
    .assert(200);

    // THEN every change is stored
    let course = course_as(&app, &teacher, &published).await;
    assert_eq!(course["title"], "Renamed", "{course}");
    assert_eq!(course["quizzes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        course_as(&app, &teacher, &draft).await["status"],
        "published"
    );
    let mine = app
        .get(
            &format!("/api/v1/assignments/{assignment}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(mine["submission"]["grade"], 9.0, "{mine}");
}

#[tokio::test]
async fn after_a_demotion_refresh_gives_a_token_with_the_new_role() {
    // GIVEN an instructor with a course, demoted to student
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({"title": "Mine"}), true).await;
    set_role(&app, &admin, &teacher, "student").await;

    // WHEN they refresh
    let tokens = app.refresh(&teacher.refresh).await.assert(200).body;
    let access = tokens["accessToken"].as_str().unwrap();

    // THEN the new token carries the student role, and owning the course gives it no power
    assert_eq!(tokens["user"]["role"], "student", "{tokens}");
    let check = app
        .get("/api/v1/auth/check", Some(access))
        .await
        .assert(200);
    assert_eq!(check.body["user"]["role"], "student");
    app.put(
        &format!("/api/v1/courses/{course}"),
        Some(access),
        json!({"title": "Hijacked"}),
    )
    .await
    .assert(403);
    assert_eq!(course_as(&app, &admin, &course).await["title"], "Mine");
}
