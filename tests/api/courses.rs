//! The course lifecycle: create (draft), read, update with optimistic locking, publish, delete.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn course_body() -> Value {
    json!({
        "title": "Rust for the Web", "description": "Axum, Lambda and DynamoDB.",
        "thumbnailUrl": "https://cdn.example.org/rust.png", "category": "programming",
        "difficultyLevel": "intermediate", "price": 0
    })
}

#[tokio::test]
async fn an_instructor_creates_a_draft_that_only_they_and_admins_see_until_published() {
    // GIVEN an instructor, a student and an admin
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let admin = app.admin().await;
    // WHEN the instructor creates a course
    let created = app
        .post("/api/v1/courses", Some(&teacher.access), course_body())
        .await
        .assert(201)
        .body;
    let course = &created["data"];
    assert_eq!(created["message"], "Course created successfully");
    assert_eq!(course["status"], "draft");
    assert_eq!(course["category"], "programming");
    assert_eq!(course["difficultyLevel"], "intermediate");
    assert_eq!(
        (course["price"].as_u64(), course["currency"].as_str()),
        (Some(0), Some("USD"))
    );
    assert_eq!(course["instructor"]["id"], teacher.id.as_str());
    assert_eq!(course["instructor"]["username"], "teacher");
    assert_eq!(course["totalEnrollments"], 0);
    let path = format!("/api/v1/courses/{}", course["courseId"].as_str().unwrap());
    // THEN the draft is hidden from students and anonymous callers, visible to its instructor and admins
    app.get(&path, Some(&student.access)).await.assert(404);
    app.get(&path, None).await.assert(404);
    app.get(&path, Some(&teacher.access)).await.assert(200);
    app.get(&path, Some(&admin.access)).await.assert(200);
    // AND once published, everyone sees it
    let published = app
        .post(&format!("{path}/publish"), Some(&teacher.access), json!({}))
        .await
        .assert(200)
        .body;
    assert_eq!(published["data"]["status"], "published");
    assert!(published["data"]["publishedAt"].is_string());
    let seen = app.get(&path, Some(&student.access)).await.assert(200).body;
    assert_eq!(seen["title"], "Rust for the Web");
    assert_eq!(seen["instructor"]["firstName"], "Ada");
    app.get(&path, None).await.assert(200);
}

#[tokio::test]
async fn students_cannot_create_courses_and_bad_fields_are_named() {
    let app = TestApp::spawn().await;
    let student = app.user("s@example.org", "student", "student").await;
    app.post("/api/v1/courses", Some(&student.access), course_body())
        .await
        .assert(403);
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let bad = app
        .post(
            "/api/v1/courses",
            Some(&teacher.access),
            json!({"title": "x", "category": "programming", "difficultyLevel": "beginner", "price": -5,
                   "thumbnailUrl": "http://insecure.example.org/a.png"}),
        )
        .await
        .assert(400);
    for field in ["title", "price", "thumbnailUrl"] {
        assert!(
            bad.body["details"][field].is_string(),
            "{field}: {}",
            bad.body
        );
    }
    let category = app
        .post(
            "/api/v1/courses",
            Some(&teacher.access),
            json!({"title": "Cooking", "category": "cooking", "difficultyLevel": "beginner"}),
        )
        .await
        .assert(400);
    assert!(
        category.body["details"]["category"]
            .as_str()
            .unwrap()
            .contains("programming")
    );
}

#[tokio::test]
async fn only_the_instructor_or_an_admin_updates_and_a_stale_version_is_409() {
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let other = app.user("o@example.org", "other", "instructor").await;
    let created = app
        .post("/api/v1/courses", Some(&teacher.access), course_body())
        .await
        .assert(201)
        .body;
    let path = format!(
        "/api/v1/courses/{}",
        created["data"]["courseId"].as_str().unwrap()
    );
    app.post(&format!("{path}/publish"), Some(&teacher.access), json!({}))
        .await
        .assert(200);
    app.put(&path, Some(&other.access), json!({"title": "Mine now"}))
        .await
        .assert(403);
    let updated = app
        .put(
            &path,
            Some(&teacher.access),
            json!({"title": "Rust, Seriously", "price": 4900, "currency": "eur", "version": 2}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(updated["data"]["title"], "Rust, Seriously");
    assert_eq!(
        (
            updated["data"]["price"].as_u64(),
            updated["data"]["currency"].as_str()
        ),
        (Some(4900), Some("EUR"))
    );
    assert_eq!(updated["data"]["version"], 3);
    let stale = app
        .put(
            &path,
            Some(&teacher.access),
            json!({"title": "Late", "version": 2}),
        )
        .await
        .assert(409);
    assert_eq!(stale.code(), "stale_version");
    assert_eq!(app.get(&path, None).await.body["title"], "Rust, Seriously");
}

#[tokio::test]
async fn deleting_a_course_removes_it_for_everyone() {
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let created = app
        .post("/api/v1/courses", Some(&teacher.access), course_body())
        .await
        .assert(201)
        .body;
    let path = format!(
        "/api/v1/courses/{}",
        created["data"]["courseId"].as_str().unwrap()
    );
    app.post(&format!("{path}/publish"), Some(&teacher.access), json!({}))
        .await
        .assert(200);
    app.call(Method::DELETE, &path, Some(&student.access), None)
        .await
        .assert(403);
    app.call(Method::DELETE, &path, Some(&teacher.access), None)
        .await
        .assert(204);
    app.get(&path, Some(&teacher.access)).await.assert(404);
    app.get("/api/v1/courses/not-a-uuid", None)
        .await
        .assert(404);
}

#[tokio::test]
async fn an_admin_creates_a_course_for_an_instructor_but_not_for_a_student() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let mut body = course_body();
    body["instructorId"] = json!(teacher.id);
    let created = app
        .post("/api/v1/courses", Some(&admin.access), body.clone())
        .await
        .assert(201)
        .body;
    assert_eq!(created["data"]["instructor"]["id"], teacher.id.as_str());
    body["instructorId"] = json!(student.id);
    let refused = app
        .post("/api/v1/courses", Some(&admin.access), body)
        .await
        .assert(400);
    assert!(refused.body["details"]["instructorId"].is_string());
}

#[tokio::test]
async fn a_course_of_one_tenant_is_invisible_to_another() {
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let created = app
        .post("/api/v1/courses", Some(&teacher.access), course_body())
        .await
        .assert(201)
        .body;
    let path = format!(
        "/api/v1/courses/{}",
        created["data"]["courseId"].as_str().unwrap()
    );
    app.post(&format!("{path}/publish"), Some(&teacher.access), json!({}))
        .await
        .assert(200);
    let acme = app
        .user_in("acme", "a@acme.org", "acmeuser", "student")
        .await;
    app.get(&path, Some(&acme.access)).await.assert(404);
    // AND its members-only parts, enrollment, ratings and quizzes are not found either
    for (method, tail) in [
        (Method::POST, "/enroll"),
        (Method::GET, "/lessons"),
        (Method::GET, "/progress"),
        (Method::POST, "/ratings"),
        (Method::GET, "/students"),
        (Method::POST, "/duplicate"),
        (Method::DELETE, ""),
    ] {
        let body = (method == Method::POST).then(|| json!({"rating": 5}));
        let reply = app
            .call(
                method.clone(),
                &format!("{path}{tail}"),
                Some(&acme.access),
                body,
            )
            .await;
        assert_eq!(reply.status, 404, "{method} {tail}: {}", reply.body);
    }
    let teacher_in_acme = app
        .user_in("acme", "t@acme.org", "acmeteacher", "instructor")
        .await;
    app.put(
        &path,
        Some(&teacher_in_acme.access),
        json!({"title": "Mine now"}),
    )
    .await
    .assert(404);
}

/// Every item left in a course's partition.
async fn partition_size(app: &TestApp, course: &str) -> usize {
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let id = lectern_domain::CourseId::parse(course).unwrap();
    app.state
        .table
        .query(&lectern_store::Query::partition(
            lectern_store::keys::course_pk(&tenant, id),
        ))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn deleting_a_course_removes_everything_in_it_even_past_one_transaction() {
    // GIVEN a course with 55 lessons (110 items with their contents), an enrolled student with a
    // rating, and a prerequisite link each way
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let before = app.course(&teacher, json!({"title": "Before"}), true).await;
    let course = app.course(&teacher, json!({"title": "Big"}), true).await;
    let after = app.course(&teacher, json!({"title": "After"}), true).await;
    for i in 0..55 {
        app.lesson(&teacher, &course, &format!("Lesson {i}"), 1)
            .await;
    }
    for (c, p) in [(&course, &before), (&after, &course)] {
        app.post(
            &format!("/api/v1/courses/{c}/prerequisites"),
            Some(&teacher.access),
            json!({"prerequisiteId": p}),
        )
        .await
        .assert(201);
    }
    let lesson_of_before = app.lesson(&teacher, &before, "Intro", 1).await;
    app.post(
        &format!("/api/v1/courses/{before}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson_of_before, "courseId": before}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/courses/{course}/ratings"),
        Some(&student.access),
        json!({"rating": 4}),
    )
    .await
    .assert(201);
    assert!(partition_size(&app, &course).await > 110);
    // WHEN it is deleted
    app.delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(204);
    // THEN nothing of it is left, and the linked courses forget it
    assert_eq!(partition_size(&app, &course).await, 0);
    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(404);
    let b = app
        .get(&format!("/api/v1/courses/{before}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(b["requiredBy"].as_array().unwrap().len(), 0);
    let a = app
        .get(&format!("/api/v1/courses/{after}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(a["prerequisites"].as_array().unwrap().len(), 0);
    // AND deleting it again is 404
    app.delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(404);
}

#[tokio::test]
async fn a_deletion_cut_short_leaves_no_visible_course_and_deleting_again_finishes_it() {
    // GIVEN a course with a lesson whose deletion stopped after marking it (as a crash would leave it)
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    app.lesson(&teacher, &course, "One", 1).await;
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let id = lectern_domain::CourseId::parse(&course).unwrap();
    let repo = lectern_store::courses::CourseRepo::new(app.state.table.clone());
    let stored = repo.get(&tenant, id).await.unwrap().unwrap();
    let mut marked = stored.clone();
    marked.deleting_since = Some(time::OffsetDateTime::now_utc());
    marked.version += 1;
    let instructor = lectern_store::Actor::new(
        tenant.clone(),
        stored.instructor_id,
        lectern_store::Power::Teaching,
    );
    repo.update(&instructor, &stored, &marked).await.unwrap();
    // THEN nobody sees it, not even its instructor
    app.get(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(404);
    app.get(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&teacher.access),
    )
    .await
    .assert(404);
    // AND its instructor's delete finishes the job
    app.delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(204);
    assert_eq!(partition_size(&app, &course).await, 0);
}

#[tokio::test]
async fn duplicating_copies_lessons_and_quizzes_into_a_new_draft_without_students() {
    // GIVEN a published course with two lessons, a quiz, an enrolled student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = app
        .course(&teacher, json!({"title": "Original"}), true)
        .await;
    let first = app.lesson(&teacher, &course, "First", 10).await;
    app.lesson(&teacher, &course, "Second", 20).await;
    app.post(
        &format!("/api/v1/courses/{course}/quizzes"),
        Some(&teacher.access),
        json!({"title": "Check", "passingScore": 50, "questions": [
            {"type": "true_false", "prompt": "Sure?", "correctAnswer": true}
        ]}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    // WHEN a student tries to duplicate it THEN 403; WHEN its instructor does THEN 201
    app.post(
        &format!("/api/v1/courses/{course}/duplicate"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(403);
    let copy = app
        .post(
            &format!("/api/v1/courses/{course}/duplicate"),
            Some(&teacher.access),
            json!({}),
        )
        .await
        .assert(201)
        .body["data"]
        .clone();
    assert_eq!(copy["title"], "Original (copy)");
    assert_eq!(copy["status"], "draft");
    assert_eq!(copy["totalEnrollments"], 0);
    let copy_id = copy["courseId"].as_str().unwrap();
    assert_ne!(copy_id, course);
    // THEN the copy has the lessons in order, with content, and the quiz under a new id
    let page = app
        .get(&format!("/api/v1/courses/{copy_id}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    let titles: Vec<&str> = page["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["First", "Second"]);
    assert_ne!(page["lessons"][0]["lessonId"], first.as_str());
    assert_eq!(page["quizzes"][0]["title"], "Check");
    assert_eq!(
        (
            page["totalLessons"].as_u64(),
            page["statistics"]["totalQuizzes"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let lesson = page["lessons"][0]["lessonId"].as_str().unwrap();
    let read = app
        .get(
            &format!("/api/v1/courses/{copy_id}/lessons/{lesson}"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(read["content"], "# First");
    // AND the draft is invisible to students, and the original keeps its student
    app.get(&format!("/api/v1/courses/{copy_id}"), Some(&student.access))
        .await
        .assert(404);
    let original = app
        .get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(original["totalEnrollments"], 1);
}

/// The assignment fields only the course's members see on its page.
const MEMBERS_ONLY: [&str; 3] = ["description", "rubricUrl", "createdAt"];

fn assert_public_assignment(a: &Value) {
    assert_eq!(a["title"], "Essay");
    assert_eq!(a["points"], 50);
    assert_eq!(a["dueDate"], "2099-01-01T00:00:00.000Z");
    for field in MEMBERS_ONLY {
        assert!(a.get(field).is_none(), "{field} shown: {a}");
    }
}

#[tokio::test]
async fn the_course_page_shows_non_members_only_the_title_points_and_due_date_of_assignments() {
    // GIVEN a published course with a lesson and an assignment with a description and a rubric
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let other = app.user("o@example.org", "other", "instructor").await;
    let outsider = app.user("s@example.org", "outsider", "student").await;
    let member = app.user("m@example.org", "member", "student").await;
    let admin = app.admin().await;
    let course = app.course(&teacher, json!({}), true).await;
    let lesson = app.lesson(&teacher, &course, "One", 5).await;
    app.assignment_from(
        &teacher,
        &course,
        json!({"title": "Essay", "description": "The secret brief.", "points": 50,
               "dueDate": "2099-01-01T00:00:00Z", "lessonId": lesson,
               "rubricUrl": "https://example.org/rubric"}),
    )
    .await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&member.access),
        json!({}),
    )
    .await
    .assert(201);

    // WHEN anonymous callers, students not enrolled and other instructors read the page
    for token in [None, Some(&outsider.access), Some(&other.access)] {
        let page = app
            .get(
                &format!("/api/v1/courses/{course}"),
                token.map(String::as_str),
            )
            .await
            .assert(200)
            .body;
        // THEN each assignment shows its title, points and due date only
        assert_public_assignment(&page["assignments"][0]);
        assert_public_assignment(&page["lessons"][0]["assignments"][0]);
        assert!(!page.to_string().contains("The secret brief."));
        assert!(!page.to_string().contains("https://example.org/rubric"));
    }

    // WHEN members read it (an enrolled student, the instructor, an admin) THEN they see the rest
    for token in [&member.access, &teacher.access, &admin.access] {
        let page = app
            .get(&format!("/api/v1/courses/{course}"), Some(token))
            .await
            .assert(200)
            .body;
        let a = &page["assignments"][0];
        assert_eq!(a["description"], "The secret brief.");
        assert_eq!(a["rubricUrl"], "https://example.org/rubric");
        assert_eq!(
            page["lessons"][0]["assignments"][0]["description"],
            "The secret brief."
        );
    }
}

#[tokio::test]
async fn a_course_holds_at_most_100_quizzes_and_100_assignments_so_its_page_stays_bounded() {
    // GIVEN a course with 100 quizzes and 100 assignments
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), false).await;
    let quiz = json!({"title": "Check", "passingScore": 50, "allowedAttempts": 1,
        "questions": [{"type": "true_false", "prompt": "Yes?", "correctAnswer": true}]});
    for _ in 0..100 {
        app.post(
            &format!("/api/v1/courses/{course}/quizzes"),
            Some(&teacher.access),
            quiz.clone(),
        )
        .await
        .assert(201);
        app.assignment(&teacher, &course, 10).await;
    }
    // WHEN the instructor adds one more of each
    let refused_quiz = app
        .post(
            &format!("/api/v1/courses/{course}/quizzes"),
            Some(&teacher.access),
            quiz,
        )
        .await
        .assert(409);
    let refused_assignment = app
        .post(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
            json!({"title": "Essay", "description": "Write.", "points": 10,
                   "dueDate": "2099-01-01T00:00:00Z"}),
        )
        .await
        .assert(409);
    // THEN both are refused, naming the limit
    assert_eq!(refused_quiz.code(), "too_many_quizzes");
    assert!(refused_quiz.body["error"].as_str().unwrap().contains("100"));
    assert_eq!(refused_assignment.code(), "too_many_assignments");
    assert!(
        refused_assignment.body["error"]
            .as_str()
            .unwrap()
            .contains("100")
    );
    // AND the course page shows the 100 of each it holds
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["quizzes"].as_array().unwrap().len(), 100);
    assert_eq!(page["assignments"].as_array().unwrap().len(), 100);
}
