//! Request bodies written from seed 002: the fields it sends that the API's own shapes do not need
//! (`studentId`, `fileUrl` and `rubricUrl` on a submission, `instructorId` on a new lesson) are
//! accepted when they agree with the caller and the resource, and refused with 400 naming the field
//! when they do not.

use lectern_domain::file::{FilePurpose, FileStatus};
use serde_json::json;

use crate::assignments::{put_file, stored_file};
use crate::helpers::{Session, TestApp};

/// A published course by `teacher` with `student` enrolled, and a 100-point essay with a rubric URL.
async fn essay(app: &TestApp, teacher: &Session, student: &Session) -> (String, String) {
    let course = app.course(teacher, json!({}), true).await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    let id = app
        .assignment_from(
            teacher,
            &course,
            json!({"title": "Essay", "description": "Write.", "points": 100,
                   "dueDate": "2099-01-01T00:00:00Z", "rubricUrl": "https://example.org/rubric",
                   "allowedAttempts": -1}),
        )
        .await;
    (course, id)
}

#[tokio::test]
async fn a_seed_shaped_submission_naming_the_caller_their_file_and_the_rubric_is_accepted() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let (_, id) = essay(&app, &teacher, &student).await;
    let file = put_file(
        &app,
        &stored_file(&student.id, FileStatus::Active, FilePurpose::Submission),
    )
    .await;

    // Act: the seed's body, its fileUrl being the file's address in the API
    let submitted = app
        .post(
            "/api/v1/assignments/submit",
            Some(&student.access),
            json!({"assignmentId": id, "studentId": student.id,
                   "fileUrl": format!("https://api.example.org/api/v1/files/{file}"),
                   "rubricUrl": "https://example.org/rubric"}),
        )
        .await
        .assert(201);

    // Assert: submitted with that file, as the caller
    assert_eq!(submitted.body["status"], "submitted");
    assert_eq!(submitted.body["studentId"], json!(student.id));
    assert_eq!(submitted.body["fileIds"], json!([file]));
    assert_eq!(submitted.body["files"][0]["fileName"], "essay.pdf");
}

#[tokio::test]
async fn a_submission_naming_another_student_a_foreign_file_or_another_rubric_gets_400_naming_it() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let other = app.user("o@example.org", "other", "student").await;
    let (_, id) = essay(&app, &teacher, &student).await;
    let theirs = put_file(
        &app,
        &stored_file(&other.id, FileStatus::Active, FilePurpose::Submission),
    )
    .await;

    for (field, value) in [
        ("studentId", json!(other.id)),
        ("studentId", json!("not-an-id")),
        ("fileUrl", json!(format!("/api/v1/files/{theirs}"))),
        ("fileUrl", json!("https://elsewhere.example/essay.pdf")),
        ("rubricUrl", json!("https://example.org/another-rubric")),
    ] {
        // Act
        let mut body = json!({"assignmentId": id, "submissionContent": "Mine"});
        body[field] = value.clone();
        let refused = app
            .post("/api/v1/assignments/submit", Some(&student.access), body)
            .await
            .assert(400);

        // Assert: the field is named, and nothing was submitted
        assert!(
            refused.body["details"][field].is_string(),
            "{field} = {value}: {}",
            refused.body
        );
    }
    let details = app
        .get(&format!("/api/v1/assignments/{id}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(details["submission"]["status"], "not_started");
}

#[tokio::test]
async fn a_lesson_naming_its_courses_instructor_is_created_and_one_naming_someone_else_gets_400() {
    // Arrange
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let other = app.user("o@example.org", "other", "student").await;
    let course = app.course(&teacher, json!({}), false).await;
    let path = format!("/api/v1/courses/{course}/lessons");
    let lesson = |instructor: &str| {
        json!({"title": "Intro", "description": "First", "order": 1, "estimatedTime": 10,
               "instructorId": instructor})
    };

    // Act: the seed's body naming the course's instructor
    let created = app
        .post(&path, Some(&teacher.access), lesson(&teacher.id))
        .await
        .assert(201);

    // Assert
    assert_eq!(created.body["data"]["title"], "Intro");

    // Act: naming someone else
    let refused = app
        .post(&path, Some(&teacher.access), lesson(&other.id))
        .await
        .assert(400);

    // Assert: the field is named, and the course still has one lesson
    assert!(
        refused.body["details"]["instructorId"].is_string(),
        "{}",
        refused.body
    );
    let lessons = app.get(&path, Some(&teacher.access)).await.assert(200);
    assert_eq!(lessons.body["total"], 1);
}
