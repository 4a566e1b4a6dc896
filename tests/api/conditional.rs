//! Conditional requests (RFC 9110 §13) over HTTP: every versioned resource (profile, course, lesson,
//! assignment, submission) answers an `ETag`; `If-None-Match` on a read gives 304 while nothing the
//! representation shows has changed; `If-Match` on a write gives 412 `precondition_failed` when the
//! resource moved on, leaving it as it was, and lets the write through when it names the current tag.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, Session, TestApp};

fn etag(reply: &Reply) -> String {
    reply
        .headers
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag; body: {}", reply.body))
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get_if_none_match(app: &TestApp, path: &str, who: &Session, tag: &str) -> Reply {
    app.call_with(
        Method::GET,
        path,
        Some(&who.access),
        None,
        &[("if-none-match", tag)],
    )
    .await
}

async fn write_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Session,
    body: Option<Value>,
    tag: &str,
) -> Reply {
    app.call_with(method, path, Some(&who.access), body, &[("if-match", tag)])
        .await
}

/// Grades `student`'s submission 90 as `teacher`, if it is at `tag`.
async fn grade(app: &TestApp, teacher: &Session, student: &Session, id: &str, tag: &str) -> Reply {
    write_if_match(
        app,
        Method::POST,
        &format!("/api/v1/assignments/{id}/grade"),
        teacher,
        Some(json!({"studentId": student.id, "grade": 90})),
        tag,
    )
    .await
}

/// A 304 carries the tag and no body.
fn assert_not_modified(reply: Reply, tag: &str) {
    assert_eq!(reply.status.as_u16(), 304, "body: {}", reply.body);
    assert_eq!(etag(&reply), tag);
    assert_eq!(reply.body, Value::Null);
}

fn assert_precondition_failed(reply: Reply) {
    let reply = reply.assert(412);
    assert_eq!(reply.code(), "precondition_failed");
    assert!(reply.body["requestId"].is_string() && reply.body["error"].is_string());
}

#[tokio::test]
async fn a_profile_answers_304_while_unchanged_and_412_to_a_write_over_a_stale_tag() {
    // Arrange
    let app = TestApp::spawn().await;
    let me = app.user("p@example.org", "pat", "student").await;
    let path = format!("/api/v1/users/{}/profile", me.id);
    let first = app.get(&path, Some(&me.access)).await.assert(200);
    let tag = etag(&first);
    assert!(tag.starts_with("\"1-"), "{tag}");

    // Act + Assert: unchanged → 304 with the tag and no body
    assert_not_modified(get_if_none_match(&app, &path, &me, &tag).await, &tag);
    // a tag of another state (or a weak twin of the current one, by weak comparison)
    get_if_none_match(&app, &path, &me, "\"9-0000000000000000\"")
        .await
        .assert(200);
    assert_not_modified(
        get_if_none_match(&app, &path, &me, &format!("W/{tag}")).await,
        &tag,
    );

    // Act: an update over the current tag succeeds and answers the new tag
    let updated = write_if_match(
        &app,
        Method::PUT,
        "/api/v1/profile",
        &me,
        Some(json!({"firstName": "Patricia"})),
        &tag,
    )
    .await
    .assert(200);
    let new_tag = etag(&updated);
    assert!(new_tag.starts_with("\"2-"), "{new_tag}");

    // Act: another update over the old tag → 412, and the profile is as the first update left it
    assert_precondition_failed(
        write_if_match(
            &app,
            Method::PUT,
            "/api/v1/profile/preferences",
            &me,
            Some(json!({"weeklyLearningGoal": 300})),
            &tag,
        )
        .await,
    );
    let now = app.get(&path, Some(&me.access)).await.assert(200);
    assert_eq!(now.body["firstName"], "Patricia");
    assert_eq!(now.body["version"], 2);
    assert_ne!(now.body["weeklyLearningGoal"], 300);
    // AND the old tag no longer gives 304
    get_if_none_match(&app, &path, &me, &tag).await.assert(200);
}

#[tokio::test]
async fn a_course_page_tag_changes_with_its_lessons_and_a_stale_if_match_leaves_the_course_alone() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({"title": "Tagged"}), true).await;
    let path = format!("/api/v1/courses/{course}");
    let tag = etag(&app.get(&path, Some(&teacher.access)).await.assert(200));
    assert_not_modified(get_if_none_match(&app, &path, &teacher, &tag).await, &tag);

    // Act: a lesson added changes the page, not the course item's version
    app.lesson(&teacher, &course, "One", 10).await;
    let page = get_if_none_match(&app, &path, &teacher, &tag)
        .await
        .assert(200);
    let page_tag = etag(&page);
    assert_ne!(page_tag, tag);
    assert_eq!(page.body["lessons"].as_array().unwrap().len(), 1);

    // Act: an update naming the current tag passes
    let version = page.body["version"].as_u64().unwrap();
    let updated = write_if_match(
        &app,
        Method::PUT,
        &path,
        &teacher,
        Some(json!({"title": "Tagged twice"})),
        &page_tag,
    )
    .await
    .assert(200);
    assert_eq!(updated.body["data"]["version"], version + 1);

    // Act: an update and a delete over the old tag → 412; the course keeps its title and exists
    assert_precondition_failed(
        write_if_match(
            &app,
            Method::PUT,
            &path,
            &teacher,
            Some(json!({"title": "Lost update"})),
            &page_tag,
        )
        .await,
    );
    assert_precondition_failed(
        write_if_match(&app, Method::DELETE, &path, &teacher, None, &page_tag).await,
    );
    let stored = app.get(&path, Some(&teacher.access)).await.assert(200);
    assert_eq!(stored.body["title"], "Tagged twice");
    assert_eq!(stored.body["version"], version + 1);

    // Act: a delete naming the current tag passes
    let current = etag(&stored);
    write_if_match(&app, Method::DELETE, &path, &teacher, None, &current)
        .await
        .assert(204);
    app.get(&path, Some(&teacher.access)).await.assert(404);
}

#[tokio::test]
async fn a_lesson_answers_304_until_it_moves_and_412_to_a_write_over_a_stale_tag() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let first = app.lesson(&teacher, &course, "First", 10).await;
    let path = format!("/api/v1/courses/{course}/lessons/{first}");
    let tag = etag(&app.get(&path, Some(&teacher.access)).await.assert(200));
    assert_not_modified(get_if_none_match(&app, &path, &teacher, &tag).await, &tag);

    // Act: another lesson placed before it moves it to position 2: its page changes
    let second = app.lesson(&teacher, &course, "Second", 5).await;
    app.put(
        &format!("/api/v1/courses/{course}/lessons/order"),
        Some(&teacher.access),
        json!({"lessonIds": [second, first]}),
    )
    .await
    .assert(200);
    let moved = get_if_none_match(&app, &path, &teacher, &tag)
        .await
        .assert(200);
    assert_eq!(moved.body["order"], 2);
    let moved_tag = etag(&moved);

    // Act: an update over the current tag passes
    write_if_match(
        &app,
        Method::PUT,
        &path,
        &teacher,
        Some(json!({"title": "First, edited"})),
        &moved_tag,
    )
    .await
    .assert(200);

    // Act: an update and a delete over the previous tag → 412; the lesson stays as edited
    assert_precondition_failed(
        write_if_match(
            &app,
            Method::PUT,
            &path,
            &teacher,
            Some(json!({"title": "Lost update"})),
            &moved_tag,
        )
        .await,
    );
    assert_precondition_failed(
        write_if_match(&app, Method::DELETE, &path, &teacher, None, &moved_tag).await,
    );
    let stored = app.get(&path, Some(&teacher.access)).await.assert(200);
    assert_eq!(stored.body["title"], "First, edited");

    // Act: a delete naming the current tag passes
    write_if_match(&app, Method::DELETE, &path, &teacher, None, &etag(&stored))
        .await
        .assert(204);
    app.get(&path, Some(&teacher.access)).await.assert(404);
}

#[tokio::test]
async fn an_assignment_answers_304_while_unchanged_and_412_to_a_write_over_a_stale_tag() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let id = app.assignment(&teacher, &course, 100).await;
    let path = format!("/api/v1/assignments/{id}");
    let tag = etag(&app.get(&path, Some(&teacher.access)).await.assert(200));
    assert_not_modified(get_if_none_match(&app, &path, &teacher, &tag).await, &tag);
    let replacement = |title: &str| {
        json!({"title": title, "description": "Write.", "points": 50,
               "dueDate": "2099-01-01T00:00:00Z"})
    };

    // Act: a replacement over the current tag passes
    let replaced = write_if_match(
        &app,
        Method::PUT,
        &path,
        &teacher,
        Some(replacement("Essay 2")),
        &tag,
    )
    .await
    .assert(200);
    assert_eq!(replaced.body["data"]["version"], 2);

    // Act: a replacement and a delete over the old tag → 412; the assignment stays as replaced
    assert_precondition_failed(
        write_if_match(
            &app,
            Method::PUT,
            &path,
            &teacher,
            Some(replacement("Lost update")),
            &tag,
        )
        .await,
    );
    assert_precondition_failed(
        write_if_match(&app, Method::DELETE, &path, &teacher, None, &tag).await,
    );
    let stored = app.get(&path, Some(&teacher.access)).await.assert(200);
    assert_eq!(stored.body["title"], "Essay 2");
    assert_eq!(stored.body["version"], 2);
    get_if_none_match(&app, &path, &teacher, &tag)
        .await
        .assert(200);

    // Act: a delete naming the current tag passes
    write_if_match(&app, Method::DELETE, &path, &teacher, None, &etag(&stored))
        .await
        .assert(204);
    app.get(&path, Some(&teacher.access)).await.assert(404);
}

#[tokio::test]
async fn a_submission_changes_its_students_assignment_tag_and_a_grade_over_a_stale_one_gets_412() {
    // Arrange: a student enrolled in a course with an assignment
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    let id = app
        .assignment_from(
            &teacher,
            &course,
            json!({"title": "Essay", "description": "Write.", "points": 100,
                   "dueDate": "2099-01-01T00:00:00Z", "allowedAttempts": -1}),
        )
        .await;
    let path = format!("/api/v1/assignments/{id}");
    let before = etag(&app.get(&path, Some(&student.access)).await.assert(200));
    assert_not_modified(
        get_if_none_match(&app, &path, &student, &before).await,
        &before,
    );
    let submit = || {
        app.post(
            "/api/v1/assignments/submit",
            Some(&student.access),
            json!({"assignmentId": id, "submissionContent": "Mine"}),
        )
    };

    // Act: the student submits; the answer tags the submission, and their assignment page changed
    let first = submit().await.assert(201);
    let first_tag = etag(&first);
    assert!(first_tag.starts_with(&format!("\"{}-", first.body["version"])));
    let page = get_if_none_match(&app, &path, &student, &before)
        .await
        .assert(200);
    assert_eq!(page.body["submission"]["status"], "submitted");

    // Act: they resubmit; grading over the first submission's tag → 412, nothing graded
    submit().await.assert(201);
    assert_precondition_failed(grade(&app, &teacher, &student, &id, &first_tag).await);
    let listed = app
        .get(
            &format!("/api/v1/assignments/{id}/submissions"),
            Some(&teacher.access),
        )
        .await
        .assert(200);
    let mine = &listed.body["data"][0];
    assert_eq!(mine["status"], "submitted");
    assert_eq!(mine["grade"], Value::Null);

    // Act: grading over the tag of what the instructor just listed passes
    let current = format!("\"{}\"", mine["version"]);
    let graded = grade(&app, &teacher, &student, &id, &current)
        .await
        .assert(200);
    assert_eq!(graded.body["data"]["status"], "graded");
    assert_eq!(graded.body["data"]["grade"], 90.0);
}
