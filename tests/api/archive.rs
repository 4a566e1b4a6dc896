//! Archiving a course (Canvas: concluding it): out of the catalog, closed to new enrollments and
//! purchases, while its enrolled students keep reading it with their progress; its instructor or an
//! admin archives and unarchives it. Contract: issue 22 item 4 (a course with paid enrollments cannot
//! be deleted, so it is retired instead).

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};
use crate::payments::{buy_and_pay, is_enrolled, paid_course};

async fn archive(app: &TestApp, who: &Session, course: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/courses/{course}/archive"),
        Some(&who.access),
        json!({}),
    )
    .await
}

async fn unarchive(app: &TestApp, who: &Session, course: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/courses/{course}/unarchive"),
        Some(&who.access),
        json!({}),
    )
    .await
}

async fn catalog_ids(app: &TestApp) -> Vec<String> {
    app.get("/api/v1/courses", None).await.assert(200).body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["courseId"].as_str().unwrap().to_owned())
        .collect()
}

async fn enroll(app: &TestApp, who: &Session, course: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&who.access),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn an_archived_course_leaves_the_catalog_and_takes_no_new_students() {
    // GIVEN a published course in the catalog with one student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let bob = app.user("bob@x.org", "bob", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    enroll(&app, &ann, &course).await.assert(201);
    assert!(catalog_ids(&app).await.contains(&course));

    // WHEN its instructor archives it
    let archived = archive(&app, &teacher, &course).await.assert(200).body;

    // THEN it is archived and out of the catalog
    assert_eq!(archived["data"]["status"], "archived");
    assert!(!catalog_ids(&app).await.contains(&course));
    // AND no one new may enroll (409 naming why), and strangers no longer find it
    let refused = enroll(&app, &bob, &course).await.assert(409);
    assert_eq!(refused.code(), "course_archived");
    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(404);
    app.get(&format!("/api/v1/courses/{course}"), Some(&bob.access))
        .await
        .assert(404);
    // AND its instructor lists it among their archived courses
    let mine = app
        .get("/api/v1/courses?status=archived", Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(mine["data"][0]["courseId"], json!(course));
    // AND archiving again changes nothing
    let again = archive(&app, &teacher, &course).await.assert(200).body;
    assert_eq!(again["data"]["status"], "archived");
}

#[tokio::test]
async fn enrolled_students_keep_reading_an_archived_course_with_their_progress() {
    // GIVEN a student who completed one of a course's two lessons
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let course = app.course(&teacher, json!({}), false).await;
    let one = app.lesson(&teacher, &course, "One", 10).await;
    app.lesson(&teacher, &course, "Two", 10).await;
    app.post(
        &format!("/api/v1/courses/{course}/publish"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(200);
    enroll(&app, &ann, &course).await.assert(201);
    app.post(
        "/api/v1/lessons/complete",
        Some(&ann.access),
        json!({"lessonId": one, "courseId": course}),
    )
    .await
    .assert(200);

    // WHEN the course is archived
    archive(&app, &teacher, &course).await.assert(200);

    // THEN she still reads its page, its lessons and her progress
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&ann.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["status"], "archived");
    assert_eq!(page["enrollment"]["progress"]["completionPercentage"], 50.0);
    let lesson = app
        .get(
            &format!("/api/v1/courses/{course}/lessons/{one}"),
            Some(&ann.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(lesson["title"], "One");
    let progress = app
        .get(
            &format!("/api/v1/courses/{course}/progress"),
            Some(&ann.access),
        )
        .await
        .assert(200)
        .body;
    assert!(progress["lessons"][0]["completedAt"].is_string());
}

#[tokio::test]
async fn an_archived_paid_course_cannot_be_bought_and_its_payers_keep_access() {
    // GIVEN a paid course one student paid for, and another student who has not
    let app = TestApp::spawn().await;
    let (teacher, payer, course) = paid_course(&app).await;
    buy_and_pay(&app, &payer, &course).await;
    let other = app.user("o@x.org", "other", "student").await;

    // WHEN its deletion is refused, THEN the refusal points at archiving
    let refused = app
        .delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(409);
    assert_eq!(refused.code(), "course_has_paid_enrollments");
    assert!(
        refused.body["error"].as_str().unwrap().contains("archive"),
        "{}",
        refused.body
    );

    // WHEN it is archived instead
    archive(&app, &teacher, &course).await.assert(200);

    // THEN no one may buy it
    let refused = app
        .post(
            "/api/v1/payments/course",
            Some(&other.access),
            json!({"courseId": course}),
        )
        .await
        .assert(409);
    assert_eq!(refused.code(), "course_archived");
    // AND the payer is still enrolled and reads it
    assert!(is_enrolled(&app, &payer, &course).await);
    app.get(&format!("/api/v1/courses/{course}"), Some(&payer.access))
        .await
        .assert(200);
}

#[tokio::test]
async fn unarchiving_puts_the_course_back_in_the_catalog_and_open_to_enrollment() {
    // GIVEN an archived course
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    archive(&app, &teacher, &course).await.assert(200);

    // WHEN its instructor unarchives it
    let back = unarchive(&app, &teacher, &course).await.assert(200).body;

    // THEN it is published again, in the catalog, and open to enrollment
    assert_eq!(back["data"]["status"], "published");
    assert!(catalog_ids(&app).await.contains(&course));
    enroll(&app, &ann, &course).await.assert(201);
}

#[tokio::test]
async fn only_the_courses_instructor_or_an_admin_archives_a_published_course() {
    // GIVEN a published course, a draft, another instructor, a student and an admin
    let app = TestApp::spawn().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let rival = app.user("r@x.org", "rival", "instructor").await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let admin = app.admin().await;
    let course = app.course(&teacher, json!({}), true).await;
    let draft = app.course(&teacher, json!({}), false).await;

    // WHEN others try THEN they are refused and the course stays published
    archive(&app, &rival, &course).await.assert(403);
    archive(&app, &ann, &course).await.assert(403);
    assert!(catalog_ids(&app).await.contains(&course));
    // AND a draft has nothing to retire: it is deleted instead
    let refused = archive(&app, &teacher, &draft).await.assert(409);
    assert_eq!(refused.code(), "course_not_published");
    // AND an admin archives and unarchives anyone's course
    archive(&app, &admin, &course).await.assert(200);
    // (an archived course is its managers' and students' only: to another instructor it is not found)
    unarchive(&app, &rival, &course).await.assert(404);
    let back: Value = unarchive(&app, &admin, &course).await.assert(200).body;
    assert_eq!(back["data"]["status"], "published");
}

#[tokio::test]
async fn archiving_stays_within_its_store_round_trips() {
    // GIVEN a counting store with a published course and an enrolled student
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    enroll(&app, &ann, &course).await.assert(201);
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    archive(&app, &teacher, &course).await.assert(200);
    // The course; its status with its catalog entries and search terms moved (one transaction,
    // while they fit in 100 actions); the instructor for the view.
    crate::helpers::assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/archive",
        [2, 0, 0, 0, 1],
    );
    app.get(&format!("/api/v1/courses/{course}"), Some(&ann.access))
        .await
        .assert(200);
    // An archived course's page for its student: the page query, the student's enrollment (to
    // see it at all), then the page's batch get as for any course.
    crate::helpers::assert_calls(&table, "GET /api/v1/courses/{courseId}", [1, 1, 1, 0, 0]);
    unarchive(&app, &teacher, &course).await.assert(200);
    crate::helpers::assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/unarchive",
        [2, 0, 0, 0, 1],
    );
}
