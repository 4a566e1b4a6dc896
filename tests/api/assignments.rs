//! Assignments, submissions and grading over HTTP: the lifecycle and its illegal moves, attempts (also
//! under concurrency), lateness and its deduction, rubrics, files, the grade log and report, the
//! authorization matrix, and store round trips.

use lectern_domain::file::{FilePurpose, FileStatus, StoredFile};
use lectern_domain::{FileId, TenantId, UserId};
use lectern_store::item::keyed_item;
use lectern_store::keys;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{Session, TestApp, assert_calls};

fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&Rfc3339)
        .unwrap()
}

/// A published course by `teacher` with `student` enrolled.
async fn course_with(app: &TestApp, teacher: &Session, student: &Session, title: &str) -> String {
    let course = app.course(teacher, json!({"title": title}), true).await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    course
}

/// Creates an assignment (fields of `extra` override a 100-point essay due in a week); its id.
async fn assignment(app: &TestApp, teacher: &Session, course: &str, extra: Value) -> String {
    let mut body =
        json!({"title": "Essay", "description": "Write.", "points": 100, "dueDate": in_days(7)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.assignment_from(teacher, course, body).await
}

async fn submit(
    app: &TestApp,
    who: &Session,
    assignment: &str,
    files: Value,
) -> crate::helpers::Reply {
    app.post(
        "/api/v1/assignments/submit",
        Some(&who.access),
        json!({"assignmentId": assignment, "submissionContent": "My essay", "fileIds": files}),
    )
    .await
}

async fn grade(
    app: &TestApp,
    who: &Session,
    assignment: &str,
    body: Value,
) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/assignments/{assignment}/grade"),
        Some(&who.access),
        body,
    )
    .await
}

fn rubric() -> Value {
    json!([
        {"criterionId": "content", "description": "Content", "points": 60,
         "ratings": [{"description": "Full", "points": 60}, {"description": "Some", "points": 30}]},
        {"criterionId": "style", "description": "Style", "points": 40,
         "ratings": [{"description": "Full", "points": 40}]}
    ])
}

#[tokio::test]
async fn a_submission_goes_from_not_started_to_graded_and_regraded_with_every_change_logged() {
    // GIVEN a course with a lesson, an enrolled student and an assignment with an inline rubric
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = course_with(&app, &teacher, &student, "Writing").await;
    let lesson = app.lesson(&teacher, &course, "Essays", 10).await;
    let id = assignment(
        &app,
        &teacher,
        &course,
        json!({"lessonId": lesson, "rubric": rubric(), "allowedAttempts": 2}),
    )
    .await;

    // THEN the course's list shows it not started for the student
    let list = app
        .get(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(list["assignments"][0]["assignmentId"], id.as_str());
    assert_eq!(list["assignments"][0]["status"], "not_started");
    assert_eq!(list["studentId"], student.id.as_str());

    // WHEN the student grades nothing yet: grading an unsubmitted submission is illegal
    grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "grade": 50}),
    )
    .await
    .assert(404);
    // WHEN the student starts, THEN in_progress; starting again is an illegal transition
    let started = app
        .post(
            &format!("/api/v1/assignments/{id}/start"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(started["status"], "in_progress");
    let again = app
        .post(
            &format!("/api/v1/assignments/{id}/start"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(409);
    assert_eq!(again.code(), "illegal_transition");
    grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "grade": 50}),
    )
    .await
    .assert(409);

    // WHEN they submit, THEN 201 with the seed's AssignmentSubmission
    let submitted = submit(&app, &student, &id, json!([]))
        .await
        .assert(201)
        .body;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["attempts"], 1);
    assert_eq!(submitted["late"], false);
    assert_eq!(submitted["submissionContent"], "My essay");
    assert_eq!(submitted["assignment"]["points"], 100);
    assert_eq!(submitted["course"]["title"], "Writing");
    assert!(submitted["startedAt"].is_string() && submitted["submittedAt"].is_string());
    // AND starting after submitting is illegal
    app.post(
        &format!("/api/v1/assignments/{id}/start"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(409);

    // WHEN graded with a rubric assessment, THEN the grade is its sum
    let graded = grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "feedback": "Good", "rubricAssessment": [
            {"criterionId": "content", "points": 50}, {"criterionId": "style", "points": 30.5}]}),
    )
    .await
    .assert(200)
    .body;
    assert_eq!(graded["data"]["status"], "graded");
    assert_eq!(graded["data"]["grade"], 80.5);
    assert_eq!(graded["data"]["pointsDeducted"], 0.0);
    assert_eq!(graded["data"]["feedback"], "Good");
    // AND an assessment that misses a criterion or exceeds one is refused, naming the field
    let bad = grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "rubricAssessment": [{"criterionId": "content", "points": 61}]}),
    )
    .await
    .assert(400);
    assert!(
        bad.body["details"]["rubricAssessment[0].points"].is_string(),
        "{}",
        bad.body
    );
    grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "grade": 101}),
    )
    .await
    .assert(400);
    grade(&app, &teacher, &id, json!({"studentId": student.id}))
        .await
        .assert(400);

    // WHEN regraded, THEN the log holds both changes, newest first, old → new, by whom
    let regraded = grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "grade": 90}),
    )
    .await
    .assert(200)
    .body;
    assert_eq!(regraded["message"], "Submission regraded");
    let log = app
        .get(
            &format!("/api/v1/courses/{course}/grade-log"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (
            entries[0]["oldGrade"].clone(),
            entries[0]["newGrade"].clone()
        ),
        (json!(80.5), json!(90.0))
    );
    assert!(entries[1]["oldGrade"].is_null());
    assert_eq!(entries[0]["gradedBy"], teacher.id.as_str());
    assert_eq!(entries[0]["studentId"], student.id.as_str());

    // THEN the details show the student their submission with course and lesson context
    let details = app
        .get(&format!("/api/v1/assignments/{id}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(details["course"]["title"], "Writing");
    assert_eq!(details["lesson"]["lessonId"], lesson.as_str());
    assert_eq!(details["lesson"]["order"], 1);
    assert_eq!(details["submission"]["grade"], 90.0);
    assert!(details.get("submissions").is_none());
    // AND the instructor every submission with the student's name
    let details = app
        .get(&format!("/api/v1/assignments/{id}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert!(details.get("submission").is_none());
    assert_eq!(details["submissions"][0]["student"]["username"], "student");
    // AND resubmitting (a second attempt) waits for grading again
    let second = submit(&app, &student, &id, json!([]))
        .await
        .assert(201)
        .body;
    assert_eq!(
        (second["status"].clone(), second["attempts"].clone()),
        (json!("submitted"), json!(2))
    );
    let listed = app
        .get(
            &format!("/api/v1/assignments/{id}/submissions?status=submitted"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let graded_list = app
        .get(
            &format!("/api/v1/assignments/{id}/submissions?status=graded"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert!(graded_list["data"].as_array().unwrap().is_empty());
    let unknown = app
        .get(
            &format!("/api/v1/assignments/{id}/submissions?status=done"),
            Some(&teacher.access),
        )
        .await
        .assert(400);
    assert!(
        unknown.body.to_string().contains("graded"),
        "{}",
        unknown.body
    );
}

#[tokio::test]
async fn attempts_are_counted_and_of_two_concurrent_submits_past_the_limit_one_gets_409() {
    // GIVEN a one-attempt assignment and an unlimited one
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = course_with(&app, &teacher, &student, "Course").await;
    let once = assignment(&app, &teacher, &course, json!({})).await;
    let unlimited = assignment(&app, &teacher, &course, json!({"allowedAttempts": -1})).await;

    // WHEN two submits race for the single attempt
    let (a, b) = tokio::join!(
        submit(&app, &student, &once, json!([])),
        submit(&app, &student, &once, json!([]))
    );
    // THEN exactly one is accepted and the other is 409 attempts_exhausted
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let refused = if a.status.as_u16() == 409 { a } else { b };
    assert_eq!(refused.code(), "attempts_exhausted");
    let third = submit(&app, &student, &once, json!([])).await.assert(409);
    assert_eq!(third.code(), "attempts_exhausted");
    // AND an unlimited assignment takes any number
    for n in 1..=3 {
        let s = submit(&app, &student, &unlimited, json!([]))
            .await
            .assert(201)
            .body;
        assert_eq!(s["attempts"], n);
    }
}

#[tokio::test]
async fn late_work_is_accepted_marked_and_loses_points_per_started_day_down_to_the_floor() {
    // GIVEN assignments due in the past with a 10%-per-day policy (floor 75%) and without one
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = course_with(&app, &teacher, &student, "Course").await;
    let policy = json!({"deductionPercentPerDay": 10, "floorPercent": 75});
    // 1 day and a bit late: two started days.
    let past = (OffsetDateTime::now_utc() - time::Duration::hours(30))
        .format(&Rfc3339)
        .unwrap();
    let two_days = assignment(
        &app,
        &teacher,
        &course,
        json!({"dueDate": past, "latePolicy": policy}),
    )
    .await;
    let long_ago = assignment(
        &app,
        &teacher,
        &course,
        json!({"dueDate": in_days(-10), "latePolicy": policy}),
    )
    .await;
    let lenient = assignment(&app, &teacher, &course, json!({"dueDate": in_days(-10)})).await;

    // WHEN the student submits late, THEN it is accepted and marked
    let s = submit(&app, &student, &two_days, json!([]))
        .await
        .assert(201)
        .body;
    assert_eq!(s["late"], true);
    let seconds = s["secondsLate"].as_i64().unwrap();
    assert!((30 * 3600..31 * 3600).contains(&seconds), "{seconds}");
    submit(&app, &student, &long_ago, json!([]))
        .await
        .assert(201);
    submit(&app, &student, &lenient, json!([]))
        .await
        .assert(201);

    // WHEN graded 80 of 100, THEN 2 days cost 20%, 10 days stop at the 75% floor, no policy costs nothing
    let g = grade(
        &app,
        &teacher,
        &two_days,
        json!({"studentId": student.id, "grade": 80}),
    )
    .await
    .assert(200)
    .body;
    assert_eq!(
        (
            g["data"]["rawGrade"].clone(),
            g["data"]["pointsDeducted"].clone(),
            g["data"]["grade"].clone()
        ),
        (json!(80.0), json!(16.0), json!(64.0))
    );
    let g = grade(
        &app,
        &teacher,
        &long_ago,
        json!({"studentId": student.id, "grade": 80}),
    )
    .await
    .assert(200)
    .body;
    assert_eq!(
        (
            g["data"]["pointsDeducted"].clone(),
            g["data"]["grade"].clone()
        ),
        (json!(20.0), json!(60.0))
    );
    let g = grade(
        &app,
        &teacher,
        &lenient,
        json!({"studentId": student.id, "grade": 80}),
    )
    .await
    .assert(200)
    .body;
    assert_eq!(g["data"]["grade"], 80.0);
    assert_eq!(g["data"]["late"], true);

    // AND the grade report averages the graded work: (64 + 60 + 80) / 300
    let report = app
        .get(
            &format!("/api/v1/grades/{}", student.id),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(report["averageGrade"], 68.0);
    assert_eq!(report["gradedAssignments"], 3);
    assert_eq!(
        report["courses"][0]["assignments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(report["student"]["username"], "student");
}

pub(crate) fn stored_file(uploader: &str, status: FileStatus, purpose: FilePurpose) -> StoredFile {
    let id = FileId::new();
    StoredFile {
        id,
        tenant: TenantId::parse("default").unwrap(),
        uploader_id: UserId::parse(uploader).unwrap(),
        purpose,
        file_name: "essay.pdf".into(),
        content_type: "application/pdf".into(),
        size: 1234,
        course_id: None,
        lesson_id: None,
        assignment_id: None,
        object_key: format!("default/submissions/{id}"),
        status,
        created_at: OffsetDateTime::now_utc(),
        confirmed_at: None,
        submitted_for: None,
        deleting_since: None,
    }
}

pub(crate) async fn put_file(app: &TestApp, file: &StoredFile) -> String {
    let key = keys::file(&file.tenant, file.id);
    app.state
        .table
        .put(keyed_item(file, key, "File").unwrap(), None)
        .await
        .unwrap();
    file.id.to_string()
}

#[tokio::test]
async fn a_submission_takes_only_the_students_own_confirmed_submission_files() {
    // GIVEN the student's active and pending uploads, another student's, and an avatar
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let other = app.user("o@example.org", "other", "student").await;
    let course = course_with(&app, &teacher, &student, "Course").await;
    let id = assignment(&app, &teacher, &course, json!({"allowedAttempts": -1})).await;
    let mine = put_file(
        &app,
        &stored_file(&student.id, FileStatus::Active, FilePurpose::Submission),
    )
    .await;
    let pending = put_file(
        &app,
        &stored_file(&student.id, FileStatus::Pending, FilePurpose::Submission),
    )
    .await;
    let foreign = put_file(
        &app,
        &stored_file(&other.id, FileStatus::Active, FilePurpose::Submission),
    )
    .await;
    let avatar = put_file(
        &app,
        &stored_file(&student.id, FileStatus::Active, FilePurpose::Avatar),
    )
    .await;
    let unknown = FileId::new().to_string();

    // WHEN each bad file is attached, THEN 400 naming it
    for (bad, why) in [
        (&pending, "not confirmed"),
        (&foreign, "not a submission file"),
        (&avatar, "not a submission file"),
        (&unknown, "not a submission file"),
    ] {
        let r = submit(&app, &student, &id, json!([mine, bad]))
            .await
            .assert(400);
        let message = r.body["details"]["fileIds[1]"].as_str().unwrap_or_default();
        assert!(
            message.contains(bad.as_str()) && message.contains(why),
            "{}",
            r.body
        );
    }
    submit(&app, &student, &id, json!([mine, mine]))
        .await
        .assert(400);
    // AND nothing was submitted meanwhile
    let details = app
        .get(&format!("/api/v1/assignments/{id}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(details["submission"]["status"], "not_started");

    // WHEN their own confirmed file is attached, THEN it is submitted with it
    let s = submit(&app, &student, &id, json!([mine]))
        .await
        .assert(201)
        .body;
    assert_eq!(s["fileIds"], json!([mine]));
    assert_eq!(s["files"][0]["fileName"], "essay.pdf");
}

#[tokio::test]
async fn assignments_are_validated_replaced_and_deleted_by_their_course_managers_only() {
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = course_with(&app, &teacher, &student, "Course").await;
    // A rubric that does not add up, points out of range, a bad date, a lesson of no course: 400
    let bad = app
        .post(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
            json!({"title": "X", "points": 90, "dueDate": "soon", "rubric": rubric(), "lessonId": FileId::new().to_string()}),
        )
        .await
        .assert(400);
    for field in ["rubric", "dueDate", "lessonId"] {
        assert!(
            bad.body["details"][field].is_string(),
            "{field}: {}",
            bad.body
        );
    }
    let bad = app
        .post(&format!("/api/v1/courses/{course}/assignments"), Some(&teacher.access),
            json!({"title": "X", "points": 1001, "dueDate": in_days(1), "latePolicy": {"deductionPercentPerDay": 101, "floorPercent": 0}}))
        .await
        .assert(400);
    assert!(
        bad.body["details"]["points"].is_string() && bad.body["details"]["latePolicy"].is_string()
    );
    // A student cannot create; the teacher can, replace and delete
    app.post(
        &format!("/api/v1/courses/{course}/assignments"),
        Some(&student.access),
        json!({"title": "X", "points": 1, "dueDate": in_days(1)}),
    )
    .await
    .assert(403);
    let id = assignment(&app, &teacher, &course, json!({})).await;
    let replaced = app
        .put(&format!("/api/v1/assignments/{id}"), Some(&teacher.access),
            json!({"title": "Essay 2", "points": 50, "dueDate": in_days(3), "rubricUrl": "https://example.org/rubric"}))
        .await
        .assert(200)
        .body;
    assert_eq!(
        (
            replaced["data"]["title"].clone(),
            replaced["data"]["points"].clone(),
            replaced["data"]["version"].clone()
        ),
        (json!("Essay 2"), json!(50), json!(2))
    );
    app.put(
        &format!("/api/v1/assignments/{id}"),
        Some(&student.access),
        json!({"title": "Mine", "points": 5, "dueDate": in_days(3)}),
    )
    .await
    .assert(403);
    let stats = app
        .get(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(stats["assignments"][0]["title"], "Essay 2");
    assert!(stats["assignments"][0].get("status").is_none());
    app.delete(&format!("/api/v1/assignments/{id}"), Some(&student.access))
        .await
        .assert(403);
    app.delete(&format!("/api/v1/assignments/{id}"), Some(&teacher.access))
        .await
        .assert(204);
    app.get(&format!("/api/v1/assignments/{id}"), Some(&teacher.access))
        .await
        .assert(404);
    let list = app
        .get(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert!(list["assignments"].as_array().unwrap().is_empty());

    // AND deleting the course takes its assignments' partitions (submissions) with it
    let kept = assignment(&app, &teacher, &course, json!({})).await;
    submit(&app, &student, &kept, json!([])).await.assert(201);
    app.delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(204);
    let tenant = TenantId::parse("default").unwrap();
    let kept = lectern_domain::AssignmentId::parse(&kept).unwrap();
    let left = app
        .state
        .table
        .query(&lectern_store::Query::partition(keys::assignment_pk(
            &tenant, kept,
        )))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
}

#[tokio::test]
async fn my_assignments_span_active_enrollments_with_filters_sorts_and_pages() {
    // GIVEN two courses the student is in, one they left, with assignments due at different times
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let one = course_with(&app, &teacher, &student, "One").await;
    let two = course_with(&app, &teacher, &student, "Two").await;
    let left = course_with(&app, &teacher, &student, "Left").await;
    let late = assignment(
        &app,
        &teacher,
        &one,
        json!({"title": "Due last", "dueDate": in_days(9)}),
    )
    .await;
    let soon = assignment(
        &app,
        &teacher,
        &two,
        json!({"title": "Due first", "dueDate": in_days(1)}),
    )
    .await;
    let mid = assignment(
        &app,
        &teacher,
        &one,
        json!({"title": "Due mid", "dueDate": in_days(5)}),
    )
    .await;
    assignment(&app, &teacher, &left, json!({})).await;
    app.delete(
        &format!("/api/v1/courses/{left}/enroll"),
        Some(&student.access),
    )
    .await
    .assert(204);
    submit(&app, &student, &mid, json!([])).await.assert(201);

    // WHEN listed by due date, THEN soonest first, with course and status, left course not included
    let all = app
        .get("/api/v1/assignments", Some(&student.access))
        .await
        .assert(200)
        .body;
    let ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["assignmentId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [soon.as_str(), mid.as_str(), late.as_str()]);
    assert_eq!(all["data"][1]["status"], "submitted");
    assert_eq!(all["data"][0]["course"]["title"], "Two");
    // AND by creation, newest first; paged two at a time
    let page = app
        .get(
            "/api/v1/assignments?sort=createdAt&limit=2",
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["assignmentId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mid.as_str(), soon.as_str()]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/assignments?sort=createdAt&limit=2&cursor={cursor}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(rest["data"][0]["assignmentId"], late.as_str());
    assert!(rest.get("nextCursor").is_none());
    // AND filtered by status and by course
    let pending = app
        .get(
            "/api/v1/assignments?status=not_started",
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(pending["data"].as_array().unwrap().len(), 2);
    let in_one = app
        .get(
            &format!("/api/v1/assignments?courseId={one}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(in_one["data"].as_array().unwrap().len(), 2);
    app.get("/api/v1/assignments?sort=title", Some(&student.access))
        .await
        .assert(400);
    app.get("/api/v1/assignments?cursor=zz", Some(&student.access))
        .await
        .assert(400);
}

#[tokio::test]
async fn students_see_only_their_own_work_instructors_only_their_courses_and_other_tenants_nothing()
{
    // GIVEN a course with an assignment, its student with a submission, an outsider student, another
    // instructor, an admin, and an instructor of another tenant
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let peer = app.user("p@example.org", "peer", "student").await;
    let outsider = app.user("o@example.org", "outsider", "student").await;
    let stranger = app.user("x@example.org", "stranger", "instructor").await;
    let admin = app.admin().await;
    let foreign = app
        .user_in("acme", "f@acme.org", "foreign", "instructor")
        .await;
    let course = course_with(&app, &teacher, &student, "Course").await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&peer.access),
        json!({}),
    )
    .await
    .assert(201);
    let id = assignment(&app, &teacher, &course, json!({})).await;
    submit(&app, &student, &id, json!([])).await.assert(201);
    let draft = app.course(&teacher, json!({"title": "Draft"}), false).await;
    let hidden = assignment(&app, &teacher, &draft, json!({})).await;

    let path = |p: &str| {
        p.replace("{id}", &id)
            .replace("{course}", &course)
            .replace("{student}", &student.id)
    };
    let reads = [
        "/api/v1/assignments/{id}",
        "/api/v1/assignments/{id}/submissions",
        "/api/v1/courses/{course}/assignments?studentId={student}",
        "/api/v1/courses/{course}/grade-log",
        "/api/v1/grades/{student}",
    ];
    // THEN the teacher and the admin read everything
    for who in [&teacher, &admin] {
        for p in reads {
            app.get(&path(p), Some(&who.access)).await.assert(200);
        }
    }
    // AND a fellow student reads the assignment (their own, empty submission) but not the rest
    let d = app
        .get(&path(reads[0]), Some(&peer.access))
        .await
        .assert(200)
        .body;
    assert_eq!(d["submission"]["status"], "not_started");
    assert_eq!(d["submission"]["studentId"], peer.id.as_str());
    for p in &reads[1..] {
        app.get(&path(p), Some(&peer.access)).await.assert(403);
    }
    // AND an outsider student and another instructor are refused (the course is public: 403)
    for who in [&outsider, &stranger] {
        for p in reads {
            app.get(&path(p), Some(&who.access)).await.assert(403);
        }
        app.post(
            &format!("/api/v1/assignments/{id}/start"),
            Some(&who.access),
            json!({}),
        )
        .await
        .assert(403);
    }
    // AND neither a student nor another instructor may grade
    for who in [&peer, &stranger] {
        grade(
            &app,
            who,
            &id,
            json!({"studentId": student.id, "grade": 100}),
        )
        .await
        .assert(403);
    }
    // AND the instructor may not submit or start
    submit(&app, &teacher, &id, json!([])).await.assert(403);
    // AND a draft's assignment is 404 for anyone but its managers
    app.get(
        &format!("/api/v1/assignments/{hidden}"),
        Some(&student.access),
    )
    .await
    .assert(404);
    app.get(
        &format!("/api/v1/assignments/{hidden}"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    // AND another tenant finds nothing at all
    for p in reads {
        app.get(&path(p), Some(&foreign.access)).await.assert(404);
    }
    grade(
        &app,
        &foreign,
        &id,
        json!({"studentId": student.id, "grade": 1}),
    )
    .await
    .assert(404);
    submit(&app, &foreign, &id, json!([])).await.assert(404);
    app.delete(&format!("/api/v1/assignments/{id}"), Some(&foreign.access))
        .await
        .assert(404);
    // AND the grade report of a student is the student's, not their peers'
    app.get(
        &format!("/api/v1/grades/{}", peer.id),
        Some(&student.access),
    )
    .await
    .assert(403);
    app.get(
        &format!("/api/v1/grades/{}", UserId::new()),
        Some(&admin.access),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn assignment_endpoints_stay_within_their_store_round_trips() {
    // GIVEN a counting store, two courses with an enrolled student and an assignment each
    let (app, table) = TestApp::counting().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let one = course_with(&app, &teacher, &student, "One").await;
    let two = course_with(&app, &teacher, &student, "Two").await;
    let id = assignment(&app, &teacher, &one, json!({})).await;
    let other = assignment(&app, &teacher, &two, json!({})).await;
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    assignment(&app, &teacher, &one, json!({"title": "Second"})).await;
    // Create (course page, one transaction).
    assert_calls(
        &table,
        "POST /api/v1/courses/{courseId}/assignments",
        [0, 0, 1, 0, 1],
    );
    app.get(
        &format!("/api/v1/courses/{one}/assignments"),
        Some(&student.access),
    )
    .await
    .assert(200);
    // Course assignments (course + summaries; enrollment + submissions).
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/assignments",
        [0, 1, 1, 0, 0],
    );
    app.get(&format!("/api/v1/assignments/{id}"), Some(&student.access))
        .await
        .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/assignments/{assignmentId}",
        [1, 1, 0, 0, 0],
    );
    app.post(
        &format!("/api/v1/assignments/{id}/start"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(200);
    // The assignment, its context (course, enrollment, submission), then the submission's put with
    // the check of its author (a transaction of two).
    assert_calls(
        &table,
        "POST /api/v1/assignments/{assignmentId}/start",
        [1, 1, 0, 0, 1],
    );
    submit(&app, &student, &id, json!([])).await.assert(201);
    assert_calls(&table, "POST /api/v1/assignments/submit", [1, 1, 0, 0, 1]);
    app.get(&format!("/api/v1/assignments/{id}"), Some(&teacher.access))
        .await
        .assert(200);
    // Details, instructor (+ submissions page and names).
    assert_calls(
        &table,
        "GET /api/v1/assignments/{assignmentId}",
        [1, 2, 1, 0, 0],
    );
    app.get(
        &format!("/api/v1/assignments/{id}/submissions"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    // Submissions (+ names).
    assert_calls(
        &table,
        "GET /api/v1/assignments/{assignmentId}/submissions",
        [1, 2, 1, 0, 0],
    );
    grade(
        &app,
        &teacher,
        &id,
        json!({"studentId": student.id, "grade": 70}),
    )
    .await
    .assert(200);
    // Grade (assignment, context, submission; one transaction).
    assert_calls(
        &table,
        "POST /api/v1/assignments/{assignmentId}/grade",
        [2, 1, 0, 0, 1],
    );
    app.get("/api/v1/assignments", Some(&student.access))
        .await
        .assert(200);
    // My assignments (enrollments + one per course; submissions).
    assert_calls(&table, "GET /api/v1/assignments", [0, 1, 3, 0, 0]);
    app.get(
        &format!("/api/v1/courses/{one}/grade-log"),
        Some(&teacher.access),
    )
    .await
    .assert(200);
    assert_calls(
        &table,
        "GET /api/v1/courses/{courseId}/grade-log",
        [1, 0, 1, 0, 0],
    );
    app.get(
        &format!("/api/v1/grades/{}", student.id),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_calls(&table, "GET /api/v1/grades/{userId}", [0, 1, 3, 0, 0]);
    let replaced = app
        .put(
            &format!("/api/v1/assignments/{other}"),
            Some(&teacher.access),
            json!({"title": "Essay 2", "points": 50, "dueDate": in_days(3)}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(replaced["data"]["version"], 2);
    // The assignment, then its course's page (the lessons it may name; who the caller is), then
    // assignment and summary in one transaction.
    assert_calls(
        &table,
        "PUT /api/v1/assignments/{assignmentId}",
        [1, 0, 1, 0, 1],
    );
    app.delete(
        &format!("/api/v1/assignments/{other}"),
        Some(&teacher.access),
    )
    .await
    .assert(204);
    // The assignment and its context; assignment, summary and count in one transaction; then
    // its partition (submissions), read and deleted 100 at a time: here one empty read.
    assert_calls(
        &table,
        "DELETE /api/v1/assignments/{assignmentId}",
        [1, 1, 1, 0, 1],
    );
}

#[tokio::test]
async fn the_course_page_shows_assignments_by_lesson_with_the_callers_status() {
    // GIVEN a course with a lesson, an assignment on it and one on the course, and a student who
    // submitted the lesson's
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = course_with(&app, &teacher, &student, "Writing").await;
    let lesson = app.lesson(&teacher, &course, "Drafts", 10).await;
    let on_lesson = assignment(
        &app,
        &teacher,
        &course,
        json!({"lessonId": lesson, "dueDate": in_days(2)}),
    )
    .await;
    let on_course = assignment(
        &app,
        &teacher,
        &course,
        json!({"title": "Final", "dueDate": in_days(9)}),
    )
    .await;
    submit(&app, &student, &on_lesson, json!([]))
        .await
        .assert(201);
    // WHEN the student reads the course page
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    // THEN the lesson carries its assignment with the student's status, the course lists both by due
    // date, and the statistics count them
    assert_eq!(
        page["lessons"][0]["assignments"][0]["assignmentId"],
        on_lesson.as_str()
    );
    assert_eq!(page["lessons"][0]["assignments"][0]["status"], "submitted");
    assert_eq!(page["assignments"][0]["assignmentId"], on_lesson.as_str());
    assert_eq!(page["assignments"][1]["assignmentId"], on_course.as_str());
    assert_eq!(page["assignments"][1]["status"], "not_started");
    assert_eq!(page["statistics"]["totalAssignments"], 2);
    // AND the instructor sees the assignments without a status of their own
    let managed = app
        .get(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert!(managed["assignments"][0]["status"].is_null());
    // AND once graded, the student's progress counts the assignment as completed, with its grade
    grade(
        &app,
        &teacher,
        &on_lesson,
        json!({"studentId": student.id, "grade": 80, "feedback": "Good"}),
    )
    .await
    .assert(200);
    let progress = app
        .get(
            &format!("/api/v1/courses/{course}/progress"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(progress["progress"]["totalAssignments"], 2);
    assert_eq!(progress["progress"]["completedAssignments"], 1);
    assert_eq!(progress["assignments"][0]["status"], "graded");
    assert_eq!(progress["assignments"][0]["grade"], 80.0);
    assert!(progress["assignments"][0]["submittedAt"].is_string());
    assert_eq!(progress["assignments"][1]["status"], "not_started");
}
