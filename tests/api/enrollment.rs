//! Enrollment, lesson completion and progress: the rules, the races, and the counters.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_student_enrolls_completes_lessons_once_each_and_finishes_the_course() {
    // GIVEN a published course with two lessons and an enrolled student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    let one = app.lesson(&teacher, &course, "One", 10).await;
    let two = app.lesson(&teacher, &course, "Two", 25).await;
    let enrolled = app
        .post(
            &format!("/api/v1/courses/{course}/enroll"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(201)
        .body;
    assert_eq!(enrolled["data"]["status"], "active");
    assert_eq!(enrolled["data"]["progress"]["totalLessons"], 2);
    assert_eq!(enrolled["data"]["progress"]["completionPercentage"], 0.0);
    // WHEN the first lesson is completed twice
    let complete = |lesson: String| {
        let (app, course, token) = (&app, course.clone(), student.access.clone());
        async move {
            app.post(
                "/api/v1/lessons/complete",
                Some(&token),
                json!({"lessonId": lesson, "courseId": course}),
            )
            .await
            .assert(200)
            .body
        }
    };
    complete(one.clone()).await;
    let again = complete(one.clone()).await;
    // THEN it counts once
    let progress = &again["data"]["progress"];
    assert_eq!(progress["completedLessons"], 1);
    assert_eq!(progress["completionPercentage"], 50.0);
    assert_eq!(progress["estimatedTimeRemaining"], 25);
    assert!(again["data"]["completedAt"].is_null());
    // WHEN the last lesson is completed THEN the course is completed and counted
    let done = complete(two.clone()).await;
    assert_eq!(done["data"]["progress"]["completionPercentage"], 100.0);
    assert!(done["data"]["completedAt"].is_string());
    let progress = app
        .get(
            &format!("/api/v1/courses/{course}/progress"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(progress["courseTitle"], "A course");
    assert_eq!(progress["lessons"][0]["lessonId"], one.as_str());
    assert_eq!(progress["lessons"][0]["order"], 1);
    assert!(progress["lessons"][1]["completedAt"].is_string());
    let stats = app
        .get(
            &format!("/api/v1/courses/{course}/statistics"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(stats["totalEnrollments"], 1);
    assert_eq!(stats["totalCompletions"], 1);
    // AND a lesson of another course, or an unknown one, is refused
    let other = app.course(&teacher, json!({"title": "Other"}), true).await;
    let foreign = app.lesson(&teacher, &other, "Foreign", 5).await;
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": foreign, "courseId": course}),
    )
    .await
    .assert(404);
    // AND a student not enrolled cannot complete lessons
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": foreign, "courseId": other}),
    )
    .await
    .assert(403);
}

#[tokio::test]
async fn enrolling_twice_is_a_conflict_and_unenrolling_keeps_progress() {
    // GIVEN an enrolled student who completed a lesson
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    let lesson = app.lesson(&teacher, &course, "One", 10).await;
    app.lesson(&teacher, &course, "Two", 10).await;
    let enroll = format!("/api/v1/courses/{course}/enroll");
    app.post(&enroll, Some(&student.access), json!({}))
        .await
        .assert(201);
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson, "courseId": course}),
    )
    .await
    .assert(200);
    // WHEN they enroll again THEN 409
    let twice = app
        .post(&enroll, Some(&student.access), json!({}))
        .await
        .assert(409);
    assert_eq!(twice.code(), "already_enrolled");
    // WHEN they unenroll THEN the course counts one fewer and members-only parts close
    app.delete(&enroll, Some(&student.access)).await.assert(204);
    app.delete(&enroll, Some(&student.access)).await.assert(404);
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalEnrollments"], 0);
    app.get(
        &format!("/api/v1/courses/{course}/lessons"),
        Some(&student.access),
    )
    .await
    .assert(403);
    // AND enrolling again brings the progress back
    let back = app
        .post(&enroll, Some(&student.access), json!({}))
        .await
        .assert(201)
        .body;
    assert_eq!(back["data"]["progress"]["completedLessons"], 1);
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalEnrollments"], 1);
}

#[tokio::test]
async fn drafts_paid_courses_and_non_students_cannot_be_enrolled_in() {
    // GIVEN a draft, a paid course, an instructor and a student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let draft = app.course(&teacher, json!({}), false).await;
    let paid = app
        .course(&teacher, json!({"price": 4900, "currency": "eur"}), true)
        .await;
    let free = app.course(&teacher, json!({}), true).await;
    // THEN a draft is not found, a paid course needs payment, and only students enroll
    app.post(
        &format!("/api/v1/courses/{draft}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(404);
    let reply = app
        .post(
            &format!("/api/v1/courses/{paid}/enroll"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(402);
    assert_eq!(reply.code(), "payment_required");
    assert!(reply.body["error"].as_str().unwrap().contains("4900 EUR"));
    app.post(
        &format!("/api/v1/courses/{free}/enroll"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(403);
    app.post(&format!("/api/v1/courses/{free}/enroll"), None, json!({}))
        .await
        .assert(401);
}

#[tokio::test]
async fn concurrent_enrollments_count_exactly_and_one_student_gets_in_once() {
    // GIVEN a published course and twelve students
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let mut students = Vec::new();
    for i in 0..12 {
        students.push(
            app.user(&format!("s{i}@example.org"), &format!("stud{i}"), "student")
                .await,
        );
    }
    let path = format!("/api/v1/courses/{course}/enroll");
    // WHEN they all enroll at once, and the first one twice more at the same time
    let mut calls = Vec::new();
    for s in &students {
        calls.push(app.post(&path, Some(&s.access), json!({})));
    }
    calls.push(app.post(&path, Some(&students[0].access), json!({})));
    calls.push(app.post(&path, Some(&students[0].access), json!({})));
    let replies = futures::future::join_all(calls).await;
    // THEN every student is in once, the duplicates got 409, and the counter is exact
    let created = replies.iter().filter(|r| r.status.as_u16() == 201).count();
    let conflicts = replies.iter().filter(|r| r.status.as_u16() == 409).count();
    assert_eq!((created, conflicts), (12, 2));
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalEnrollments"], 12);
    // AND the instructor lists them with their progress, page by page
    let first = app
        .get(
            &format!("/api/v1/courses/{course}/students?limit=5"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(first["data"].as_array().unwrap().len(), 5);
    assert_eq!(first["data"][0]["enrollment"]["status"], "active");
    assert!(
        first["data"][0]["username"]
            .as_str()
            .unwrap()
            .starts_with('s')
    );
    let mut seen = 5;
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let next = app
            .get(
                &format!("/api/v1/courses/{course}/students?limit=5&cursor={c}"),
                Some(&teacher.access),
            )
            .await
            .assert(200)
            .body;
        seen += next["data"].as_array().unwrap().len();
        cursor = next["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 12);
    // AND students may not list them
    app.get(
        &format!("/api/v1/courses/{course}/students"),
        Some(&students[1].access),
    )
    .await
    .assert(403);
}
