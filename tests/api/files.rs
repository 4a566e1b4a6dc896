//! Files: uploads and downloads through presigned URLs against the embedded S3 endpoint, which checks
//! signatures and expiry as S3 does. Contract: issue "Assignments, submissions, grading, and secure
//! files on S3" §Files; seed 003 (secure_url, bulk permissions, file categories).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_calls};

/// A course with its instructor, an enrolled student, a student who is not enrolled, and an admin.
struct Class {
    teacher: Session,
    student: Session,
    outsider: Session,
    admin: Session,
    course: String,
    /// An assignment of the course (submissions name it).
    assignment: String,
}

async fn class(app: &TestApp) -> Class {
    let teacher = app.user("teach@x.org", "teach", "instructor").await;
    let student = app.user("stu@x.org", "stu", "student").await;
    let outsider = app.user("out@x.org", "out", "student").await;
    let admin = app.admin().await;
    let course = app.course(&teacher, json!({}), true).await;
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    let assignment = app.assignment(&teacher, &course, 10).await;
    Class {
        teacher,
        student,
        outsider,
        admin,
        course,
        assignment,
    }
}

pub(crate) async fn ask(app: &TestApp, who: &Session, body: Value) -> crate::helpers::Reply {
    app.post("/api/v1/files", Some(&who.access), body).await
}

/// PUTs `bytes` to an upload ticket's URL with its headers; answers the endpoint's status.
pub(crate) async fn upload(app: &TestApp, ticket: &Value, bytes: &[u8]) -> u16 {
    upload_to(app, ticket["uploadUrl"].as_str().unwrap(), ticket, bytes).await
}

async fn upload_to(app: &TestApp, url: &str, ticket: &Value, bytes: &[u8]) -> u16 {
    let mut request = app.client.put(url).body(bytes.to_vec());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name.eq_ignore_ascii_case("content-length") {
            continue; // reqwest sets it from the body
        }
        request = request.header(name, value.as_str().unwrap());
    }
    request.send().await.unwrap().status().as_u16()
}

/// Asks for, uploads and confirms a file; answers its id.
pub(crate) async fn uploaded(app: &TestApp, who: &Session, body: Value, bytes: &[u8]) -> String {
    let ticket = ask(app, who, body).await.assert(201).body;
    assert_eq!(upload(app, &ticket, bytes).await, 200);
    let id = ticket["fileId"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/files/{id}/confirm"),
        Some(&who.access),
        json!({}),
    )
    .await
    .assert(200);
    id
}

fn lesson_pdf(course: &str, size: usize) -> Value {
    json!({"fileName": "Week 1 notes.pdf", "contentType": "application/pdf", "size": size,
           "purpose": "lesson_content", "courseId": course})
}

/// The object key in a path-style presigned URL (`http://host/{bucket}/{key}?…`).
fn key_of(url: &str) -> String {
    let path = url.split('?').next().unwrap();
    let after_host = path.splitn(4, '/').nth(3).unwrap();
    after_host.split_once('/').unwrap().1.to_owned()
}

#[tokio::test]
async fn an_upload_is_confirmed_and_downloaded_with_its_name() {
    // GIVEN an instructor's course
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let bytes = b"%PDF-1.4 lesson one".to_vec();

    // WHEN the instructor asks for an upload of lesson content, PUTs the bytes and confirms
    let ticket = ask(&app, &c.teacher, lesson_pdf(&c.course, bytes.len()))
        .await
        .assert(201)
        .body;
    assert!(ticket["expiresAt"].is_string());
    assert!(
        key_of(ticket["uploadUrl"].as_str().unwrap())
            .starts_with("pending/t/default/lesson_content/")
    );
    assert_eq!(upload(&app, &ticket, &bytes).await, 200);
    let id = ticket["fileId"].as_str().unwrap();
    let pending = app
        .get(&format!("/api/v1/files/{id}"), Some(&c.teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(pending["status"], "pending");
    let confirmed = app
        .post(
            &format!("/api/v1/files/{id}/confirm"),
            Some(&c.teacher.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;

    // THEN the file is active, and its secure URL downloads the same bytes under the original name
    assert_eq!(confirmed["status"], "active");
    assert_eq!(confirmed["size"], bytes.len());
    assert_eq!(confirmed["fileName"], "Week 1 notes.pdf");
    let secure = app
        .get(
            &format!("/api/v1/files/{id}/secure-url"),
            Some(&c.student.access),
        )
        .await
        .assert(200)
        .body;
    assert!(secure["expiresAt"].is_string());
    let download = app
        .client
        .get(secure["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 200);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"Week 1 notes.pdf\"; filename*=UTF-8''Week%201%20notes.pdf"
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);
    // The confirmed object moved out of the pending prefix the lifecycle rule expires.
    assert!(!key_of(secure["url"].as_str().unwrap()).starts_with("pending/"));
}

#[tokio::test]
async fn confirming_a_missing_or_different_upload_is_409_with_the_reason() {
    // GIVEN a pending lesson file of 10 bytes
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let ticket = ask(&app, &c.teacher, lesson_pdf(&c.course, 10))
        .await
        .assert(201)
        .body;
    let id = ticket["fileId"].as_str().unwrap();
    let confirm = || async {
        app.post(
            &format!("/api/v1/files/{id}/confirm"),
            Some(&c.teacher.access),
            json!({}),
        )
        .await
    };

    // WHEN nothing was uploaded THEN 409 upload_missing
    let missing = confirm().await.assert(409);
    assert_eq!(missing.code(), "upload_missing");

    // WHEN 11 bytes were uploaded to the key (through another URL signed for that size) THEN 409
    let store = app.state.files.clone().unwrap();
    let key = key_of(ticket["uploadUrl"].as_str().unwrap());
    let other = store
        .presign_put(&key, "application/pdf", 11, Duration::from_secs(60))
        .await
        .unwrap();
    let put = app
        .client
        .put(&other.url)
        .header("content-type", "application/pdf")
        .body(vec![b'x'; 11])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let wrong_size = confirm().await.assert(409);
    assert_eq!(wrong_size.code(), "upload_size_mismatch");
    assert!(
        wrong_size.body["error"]
            .as_str()
            .unwrap()
            .contains("11 bytes")
    );

    // WHEN 10 bytes of another content type were uploaded THEN 409
    let other = store
        .presign_put(&key, "text/plain", 10, Duration::from_secs(60))
        .await
        .unwrap();
    let put = app
        .client
        .put(&other.url)
        .header("content-type", "text/plain")
        .body(vec![b'x'; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let wrong_type = confirm().await.assert(409);
    assert_eq!(wrong_type.code(), "upload_content_type_mismatch");
    assert!(
        wrong_type.body["error"]
            .as_str()
            .unwrap()
            .contains("text/plain")
    );
}

#[tokio::test]
async fn the_endpoint_refuses_tampered_expired_and_reused_urls() {
    // GIVEN two upload tickets
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let bytes = b"0123456789".to_vec();
    let first = ask(&app, &c.teacher, lesson_pdf(&c.course, 10))
        .await
        .assert(201)
        .body;
    let second = ask(&app, &c.teacher, lesson_pdf(&c.course, 10))
        .await
        .assert(201)
        .body;
    let url = first["uploadUrl"].as_str().unwrap();

    // WHEN a byte of the signature is changed THEN 403
    let (head, signature) = url.split_once("X-Amz-Signature=").unwrap();
    let (sig, rest) = signature.split_at(64);
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{head}X-Amz-Signature={flipped}{}{rest}", &sig[1..]);
    assert_eq!(upload_to(&app, &tampered, &first, &bytes).await, 403);

    // WHEN a byte of the key is changed THEN 403
    let key = key_of(url);
    let last = key.chars().last().unwrap();
    let other_last = if last == '0' { '1' } else { '0' };
    let changed_key = format!("{}{other_last}", &key[..key.len() - 1]);
    let tampered = url.replacen(&key, &changed_key, 1);
    assert_eq!(upload_to(&app, &tampered, &first, &bytes).await, 403);

    // WHEN the first URL's signature is used for the second file's key THEN 403
    let second_key = key_of(second["uploadUrl"].as_str().unwrap());
    let reused = url.replacen(&key, &second_key, 1);
    assert_eq!(upload_to(&app, &reused, &first, &bytes).await, 403);

    // WHEN the body is larger than the signed length THEN 403
    assert_eq!(upload(&app, &first, b"01234567890").await, 403);

    // WHEN a URL that expired is used THEN 403
    let store = app.state.files.clone().unwrap();
    let short = store
        .presign_put(&key, "application/pdf", 10, Duration::from_secs(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = app
        .client
        .put(&short.url)
        .header("content-type", "application/pdf")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status().as_u16(), 403);

    // AND the genuine URL still works, so the refusals were about the tampering
    assert_eq!(upload(&app, &first, &bytes).await, 200);
}

#[tokio::test]
async fn uploads_over_a_purposes_limits_are_refused_naming_the_limit() {
    // GIVEN a user and a course
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;

    // WHEN an avatar is a PDF THEN 400 naming the accepted types
    let pdf = ask(
        &app,
        &c.student,
        json!({"fileName": "me.pdf", "contentType": "application/pdf", "size": 10, "purpose": "avatar"}),
    )
    .await
    .assert(400);
    assert_eq!(pdf.code(), "content_type_not_allowed");
    assert!(pdf.body["error"].as_str().unwrap().contains("image/png"));

    // WHEN an avatar is over 5 MB THEN 413 naming the limit
    let big = ask(
        &app,
        &c.student,
        json!({"fileName": "me.png", "contentType": "image/png", "size": 5 * 1024 * 1024 + 1, "purpose": "avatar"}),
    )
    .await
    .assert(413);
    assert_eq!(big.code(), "file_too_large");
    assert!(big.body["error"].as_str().unwrap().contains("5 MB"));

    // WHEN lesson media is over 100 MB THEN 413 naming the limit
    let video = ask(
        &app,
        &c.teacher,
        json!({"fileName": "l.mp4", "contentType": "video/mp4", "size": 100 * 1024 * 1024 + 1,
               "purpose": "lesson_media", "courseId": c.course}),
    )
    .await
    .assert(413);
    assert!(video.body["error"].as_str().unwrap().contains("100 MB"));

    // WHEN the purpose is unknown, or a name carries a path THEN 400
    ask(
        &app,
        &c.student,
        json!({"fileName": "a.png", "contentType": "image/png", "size": 1, "purpose": "backup"}),
    )
    .await
    .assert(400);
    let path = ask(
        &app,
        &c.student,
        json!({"fileName": "../a.png", "contentType": "image/png", "size": 1, "purpose": "avatar"}),
    )
    .await
    .assert(400);
    assert!(path.body["details"]["fileName"].is_string());

    // AND a valid avatar is accepted
    ask(
        &app,
        &c.student,
        json!({"fileName": "me.png", "contentType": "image/png", "size": 1024, "purpose": "avatar"}),
    )
    .await
    .assert(201);
}

#[tokio::test]
async fn only_those_allowed_may_attach_files_to_an_owner() {
    // GIVEN a course, its enrolled student, a student who is not, and another instructor
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let stranger = app.user("other@x.org", "otherteach", "instructor").await;
    let submission = |course: &str| {
        json!({"fileName": "essay.pdf", "contentType": "application/pdf", "size": 100,
               "purpose": "submission", "courseId": course, "assignmentId": c.assignment})
    };

    // THEN a student may not upload lesson content, nor another instructor to this course
    ask(&app, &c.student, lesson_pdf(&c.course, 10))
        .await
        .assert(403);
    ask(&app, &stranger, lesson_pdf(&c.course, 10))
        .await
        .assert(403);
    // AND only an enrolled student submits to the course
    ask(&app, &c.outsider, submission(&c.course))
        .await
        .assert(403);
    ask(&app, &c.student, submission(&c.course))
        .await
        .assert(201);
    // AND a submission names its assignment
    let mut no_assignment = submission(&c.course);
    no_assignment["assignmentId"] = Value::Null;
    let refused = ask(&app, &c.student, no_assignment).await.assert(400);
    assert!(refused.body["details"]["assignmentId"].is_string());
    // AND an assignment of no course of the caller's is not found
    let mut unknown = submission(&c.course);
    unknown["assignmentId"] = json!("0190f1f0-0000-7000-8000-000000000001");
    ask(&app, &c.student, unknown).await.assert(404);
    // AND an unknown course is 404, the admin may attach to any course
    ask(
        &app,
        &c.teacher,
        lesson_pdf("0190f1f0-0000-7000-8000-000000000002", 10),
    )
    .await
    .assert(404);
    ask(&app, &c.admin, lesson_pdf(&c.course, 10))
        .await
        .assert(201);
}

#[tokio::test]
async fn who_may_read_a_file_is_checked_and_everyone_else_gets_404() {
    // GIVEN lesson content by the instructor and a submission by the enrolled student
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let classmate = app.user("mate@x.org", "mate", "student").await;
    app.post(
        &format!("/api/v1/courses/{}/enroll", c.course),
        Some(&classmate.access),
        json!({}),
    )
    .await
    .assert(201);
    let stranger = app.user("other@x.org", "otherteach", "instructor").await;
    let foreign = app
        .user_in("acme", "acme@x.org", "acmeadmin", "student")
        .await;
    let lesson = uploaded(&app, &c.teacher, lesson_pdf(&c.course, 5), b"12345").await;
    let essay = uploaded(
        &app,
        &c.student,
        json!({"fileName": "essay.txt", "contentType": "text/plain", "size": 3,
               "purpose": "submission", "courseId": c.course,
               "assignmentId": c.assignment}),
        b"abc",
    )
    .await;

    // THEN each caller's view of each file is as the rules say
    let cases = [
        (&c.teacher, &lesson, 200),
        (&c.admin, &lesson, 200),
        (&c.student, &lesson, 200),
        (&classmate, &lesson, 200),
        (&c.outsider, &lesson, 404),
        (&stranger, &lesson, 404),
        (&foreign, &lesson, 404),
        (&c.student, &essay, 200),
        (&c.teacher, &essay, 200),
        (&c.admin, &essay, 200),
        (&classmate, &essay, 404),
        (&c.outsider, &essay, 404),
        (&stranger, &essay, 404),
        (&foreign, &essay, 404),
    ];
    for (who, file, status) in cases {
        for path in [
            format!("/api/v1/files/{file}"),
            format!("/api/v1/files/{file}/secure-url"),
        ] {
            let reply = app.get(&path, Some(&who.access)).await;
            assert_eq!(
                reply.status.as_u16(),
                status,
                "{path} as {}: {}",
                who.id,
                reply.body
            );
            if status == 404 {
                assert_eq!(reply.code(), "not_found");
            }
        }
    }
    // AND only the uploader confirms
    app.post(
        &format!("/api/v1/files/{essay}/confirm"),
        Some(&c.teacher.access),
        json!({}),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn bulk_permissions_answer_per_id_in_order() {
    // GIVEN lesson content and a submission
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = uploaded(&app, &c.teacher, lesson_pdf(&c.course, 5), b"12345").await;
    let essay = uploaded(
        &app,
        &c.student,
        json!({"fileName": "essay.txt", "contentType": "text/plain", "size": 3,
               "purpose": "submission", "courseId": c.course,
               "assignmentId": c.assignment}),
        b"abc",
    )
    .await;
    let ids =
        json!({"fileIds": [lesson, essay, "not-an-id", "0190f1f0-0000-7000-8000-0000000000ff"]});

    // WHEN the student, an outsider and the instructor ask
    let ask_as = |who: &Session| {
        let body = ids.clone();
        let token = who.access.clone();
        let app = &app;
        async move {
            app.post("/api/v1/files/permissions/bulk", Some(&token), body)
                .await
                .assert(200)
                .body["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["canRead"].as_bool().unwrap())
                .collect::<Vec<_>>()
        }
    };

    // THEN each gets one answer per id, in order
    assert_eq!(ask_as(&c.student).await, [true, true, false, false]);
    assert_eq!(ask_as(&c.outsider).await, [false, false, false, false]);
    assert_eq!(ask_as(&c.teacher).await, [true, true, false, false]);
    let first = app
        .post(
            "/api/v1/files/permissions/bulk",
            Some(&c.student.access),
            ids.clone(),
        )
        .await
        .body;
    assert_eq!(first["permissions"][0]["fileId"], lesson.as_str());
    // AND more than 100 ids is 400
    let many: Vec<String> = (0..101).map(|_| lesson.clone()).collect();
    app.post(
        "/api/v1/files/permissions/bulk",
        Some(&c.student.access),
        json!({ "fileIds": many }),
    )
    .await
    .assert(400);
}

#[tokio::test]
async fn the_categories_list_every_purpose_with_its_limits() {
    let app = TestApp::spawn_with_files().await;
    let body = app
        .get("/api/v1/files/categories", None)
        .await
        .assert(200)
        .body;
    let categories = body["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 5);
    let avatar = categories
        .iter()
        .find(|c| c["purpose"] == "avatar")
        .unwrap();
    assert_eq!(avatar["maxSize"], 5 * 1024 * 1024);
    assert!(
        avatar["contentTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("image/webp"))
    );
    let media = categories
        .iter()
        .find(|c| c["purpose"] == "lesson_media")
        .unwrap();
    assert_eq!(media["maxSize"], 100 * 1024 * 1024);
}

#[tokio::test]
async fn the_uploader_deletes_a_file_and_its_object() {
    // GIVEN a confirmed lesson file and a download URL for it
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = uploaded(&app, &c.teacher, lesson_pdf(&c.course, 5), b"12345").await;
    let url = app
        .get(
            &format!("/api/v1/files/{lesson}/secure-url"),
            Some(&c.teacher.access),
        )
        .await
        .assert(200)
        .body["url"]
        .as_str()
        .unwrap()
        .to_owned();

    // WHEN others try THEN a reader gets 403, a stranger 404
    app.delete(&format!("/api/v1/files/{lesson}"), Some(&c.student.access))
        .await
        .assert(403);
    app.delete(&format!("/api/v1/files/{lesson}"), Some(&c.outsider.access))
        .await
        .assert(404);

    // WHEN the uploader deletes it
    app.delete(&format!("/api/v1/files/{lesson}"), Some(&c.teacher.access))
        .await
        .assert(204);

    // THEN the file is gone, and so are its bytes
    app.get(&format!("/api/v1/files/{lesson}"), Some(&c.teacher.access))
        .await
        .assert(404);
    let download = app.client.get(&url).send().await.unwrap();
    assert_eq!(download.status().as_u16(), 404);
    // AND an admin may delete anyone's file
    let other = uploaded(&app, &c.teacher, lesson_pdf(&c.course, 5), b"12345").await;
    app.delete(&format!("/api/v1/files/{other}"), Some(&c.admin.access))
        .await
        .assert(204);
}

#[tokio::test]
async fn an_unreachable_object_store_is_a_503_in_the_error_shape() {
    // GIVEN an app whose object store points at a closed port
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let table = lectern_store::sqlite::SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
    let store =
        lectern_files::ObjectStore::with_static_credentials(&lectern_files::ObjectStoreConfig {
            bucket: "lectern-files".into(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            credentials: Some(lectern_files::store::StaticCredentials {
                access_key: "AKIDEXAMPLE".into(),
                secret_key: "secret".into(),
            }),
        });
    let app = TestApp::spawn_with(dir, Arc::new(table), Some(Arc::new(store))).await;
    let c = class(&app).await;
    // Presigning needs no network: the upload URL is issued.
    let ticket = ask(&app, &c.teacher, lesson_pdf(&c.course, 5))
        .await
        .assert(201)
        .body;

    // WHEN the upload is confirmed (S3 must be asked)
    let reply = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/files/{}/confirm",
                ticket["fileId"].as_str().unwrap()
            ),
            Some(&c.teacher.access),
            Some(json!({})),
        )
        .await;

    // THEN 503 in the error shape, with nothing internal leaked
    let reply = reply.assert(503);
    assert_eq!(reply.code(), "service_unavailable");
    assert!(reply.body["requestId"].is_string());
    assert!(!reply.body["error"].as_str().unwrap().contains("127.0.0.1"));
    // AND the file is still pending
    let file = app
        .get(
            &format!("/api/v1/files/{}", ticket["fileId"].as_str().unwrap()),
            Some(&c.teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(file["status"], "pending");
}

#[tokio::test]
async fn without_object_storage_the_files_endpoints_answer_503() {
    let app = TestApp::spawn().await;
    let teacher = app.user("teach@x.org", "teach", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let reply = ask(&app, &teacher, lesson_pdf(&course, 5))
        .await
        .assert(503);
    assert_eq!(reply.code(), "service_unavailable");
}

/// Asks for a lesson file upload through `/lessons/{id}/{kind}` (`content` or `media`).
async fn ask_lesson(
    app: &TestApp,
    who: &Session,
    lesson: &str,
    kind: &str,
    body: Value,
) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/lessons/{lesson}/{kind}"),
        Some(&who.access),
        body,
    )
    .await
}

/// Uploads and confirms a lesson file through `/lessons/{id}/{kind}`; answers its id.
async fn uploaded_to_lesson(
    app: &TestApp,
    who: &Session,
    lesson: &str,
    kind: &str,
    (name, content_type): (&str, &str),
    bytes: &[u8],
) -> String {
    let ticket = ask_lesson(
        app,
        who,
        lesson,
        kind,
        json!({"fileName": name, "contentType": content_type, "size": bytes.len()}),
    )
    .await
    .assert(201)
    .body;
    assert_eq!(upload(app, &ticket, bytes).await, 200);
    let id = ticket["fileId"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/files/{id}/confirm"),
        Some(&who.access),
        json!({}),
    )
    .await
    .assert(200);
    id
}

#[tokio::test]
async fn lesson_content_and_media_round_trip_to_an_enrolled_students_download() {
    // GIVEN a lesson of the instructor's course, with an enrolled student
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;
    let notes = b"%PDF-1.4 week one".to_vec();
    let clip = b"\x00\x00\x00\x18ftypmp42 video".to_vec();

    // WHEN the instructor asks through the lesson's routes, PUTs the bytes and confirms
    let ticket = ask_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        json!({"fileName": "Week 1 notes.pdf", "contentType": "application/pdf",
               "size": notes.len()}),
    )
    .await
    .assert(201)
    .body;
    // (the answer is POST /files's upload ticket, for lesson content of the course)
    for field in ["fileId", "uploadUrl", "headers", "expiresAt"] {
        assert!(!ticket[field].is_null(), "{field} in {ticket}");
    }
    assert!(
        key_of(ticket["uploadUrl"].as_str().unwrap())
            .starts_with(&format!("pending/t/default/lesson_content/{}/", c.course))
    );
    assert_eq!(upload(&app, &ticket, &notes).await, 200);
    let content = ticket["fileId"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            &format!("/api/v1/files/{content}/confirm"),
            Some(&c.teacher.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(
        (
            &confirmed["purpose"],
            &confirmed["courseId"],
            &confirmed["lessonId"]
        ),
        (&json!("lesson_content"), &json!(c.course), &json!(lesson))
    );
    let media = uploaded_to_lesson(
        &app,
        &c.teacher,
        &lesson,
        "media",
        ("clip.mp4", "video/mp4"),
        &clip,
    )
    .await;
    // AND an upload that is never confirmed, and a file of the course without a lesson
    ask_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        json!({"fileName": "draft.txt", "contentType": "text/plain", "size": 3}),
    )
    .await
    .assert(201);
    uploaded(&app, &c.teacher, lesson_pdf(&c.course, 3), b"abc").await;

    // THEN the enrolled student's download lists the two confirmed files of the lesson, oldest first
    let download = app
        .get(
            &format!("/api/v1/lessons/{lesson}/download"),
            Some(&c.student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(download["lessonId"], json!(lesson));
    assert_eq!(download["courseId"], json!(c.course));
    assert_eq!(download["title"], "Week 1");
    let files = download["files"].as_array().unwrap();
    let ids: Vec<&str> = files
        .iter()
        .map(|f| f["fileId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [content.as_str(), media.as_str()]);
    assert_eq!(files[0]["purpose"], "lesson_content");
    assert_eq!(files[0]["fileName"], "Week 1 notes.pdf");
    assert_eq!(files[1]["purpose"], "lesson_media");
    assert_eq!(files[1]["contentType"], "video/mp4");
    // AND each URL fetches the bytes under the original name
    for (file, bytes) in files.iter().zip([&notes, &clip]) {
        assert!(file["expiresAt"].is_string());
        let fetched = app
            .client
            .get(file["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(fetched.status().as_u16(), 200);
        let disposition = fetched.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.contains(file["fileName"].as_str().unwrap()));
        assert_eq!(&fetched.bytes().await.unwrap().to_vec(), bytes);
    }
}

#[tokio::test]
async fn a_lessons_files_are_downloaded_by_its_course_only_and_everyone_else_gets_404() {
    // GIVEN a lesson with a confirmed file, a classmate, a student who is not enrolled, another
    // instructor, and a user of another tenant
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;
    uploaded_to_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        ("notes.txt", "text/plain"),
        b"notes",
    )
    .await;
    let stranger = app.user("other@x.org", "otherteach", "instructor").await;
    let foreign = app
        .user_in("acme", "acme@x.org", "acmeadmin", "student")
        .await;
    let dropped = app.user("drop@x.org", "drop", "student").await;
    let enroll = format!("/api/v1/courses/{}/enroll", c.course);
    app.post(&enroll, Some(&dropped.access), json!({}))
        .await
        .assert(201);
    app.delete(&enroll, Some(&dropped.access)).await.assert(204);

    // THEN the course's people see the file; everyone else is told the lesson does not exist
    let path = format!("/api/v1/lessons/{lesson}/download");
    for (who, status) in [
        (&c.teacher, 200),
        (&c.admin, 200),
        (&c.student, 200),
        (&c.outsider, 404),
        (&dropped, 404),
        (&stranger, 404),
        (&foreign, 404),
    ] {
        let reply = app.get(&path, Some(&who.access)).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "as {}: {}",
            who.id,
            reply.body
        );
        if status == 200 {
            assert_eq!(reply.body["files"].as_array().unwrap().len(), 1);
        } else {
            assert_eq!(reply.code(), "not_found");
            assert!(reply.body.get("files").is_none());
        }
    }
    // AND an unknown or malformed lesson id is 404, and an anonymous caller 401
    for unknown in ["0190f1f0-0000-7000-8000-000000000003", "nope"] {
        app.get(
            &format!("/api/v1/lessons/{unknown}/download"),
            Some(&c.teacher.access),
        )
        .await
        .assert(404);
    }
    app.get(&path, None).await.assert(401);
}

#[tokio::test]
async fn only_the_courses_instructor_or_an_admin_uploads_lesson_material() {
    // GIVEN a lesson of the instructor's course
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;
    let stranger = app.user("other@x.org", "otherteach", "instructor").await;
    let foreign = app
        .user_in("acme", "acme@x.org", "acmeteach", "instructor")
        .await;
    let pdf = json!({"fileName": "n.pdf", "contentType": "application/pdf", "size": 10});

    // THEN students (enrolled or not) and other instructors are refused as POST /files refuses them
    let png = json!({"fileName": "n.png", "contentType": "image/png", "size": 10});
    for who in [&c.student, &c.outsider, &stranger] {
        for (kind, body) in [("content", &pdf), ("media", &png)] {
            let reply = ask_lesson(&app, who, &lesson, kind, body.clone()).await;
            assert_eq!(reply.status.as_u16(), 403, "{kind}: {}", reply.body);
            assert_eq!(reply.code(), "forbidden");
        }
    }
    // AND another tenant does not find the lesson, nor does anyone find an unknown one
    ask_lesson(&app, &foreign, &lesson, "content", pdf.clone())
        .await
        .assert(404);
    ask_lesson(
        &app,
        &c.teacher,
        "0190f1f0-0000-7000-8000-000000000004",
        "content",
        pdf.clone(),
    )
    .await
    .assert(404);
    // AND each route keeps its purpose's limits: a PDF is not media, a video is not content
    let not_media = ask_lesson(&app, &c.teacher, &lesson, "media", pdf.clone())
        .await
        .assert(400);
    assert_eq!(not_media.code(), "content_type_not_allowed");
    let video = json!({"fileName": "v.mp4", "contentType": "video/mp4", "size": 10});
    ask_lesson(&app, &c.teacher, &lesson, "content", video.clone())
        .await
        .assert(400);
    let huge =
        json!({"fileName": "v.mp4", "contentType": "video/mp4", "size": 200u64 * 1024 * 1024});
    let too_large = ask_lesson(&app, &c.teacher, &lesson, "media", huge)
        .await
        .assert(413);
    assert_eq!(too_large.code(), "file_too_large");
    // AND the admin may upload to any course's lesson
    ask_lesson(&app, &c.admin, &lesson, "media", video)
        .await
        .assert(201);
}

#[tokio::test]
async fn a_deleted_lessons_download_is_404() {
    // GIVEN a lesson with a confirmed file, then deleted
    let app = TestApp::spawn_with_files().await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;
    uploaded_to_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        ("notes.txt", "text/plain"),
        b"notes",
    )
    .await;
    app.delete(
        &format!("/api/v1/courses/{}/lessons/{lesson}", c.course),
        Some(&c.teacher.access),
    )
    .await
    .assert(204);

    // THEN neither its download nor a new upload finds it
    app.get(
        &format!("/api/v1/lessons/{lesson}/download"),
        Some(&c.student.access),
    )
    .await
    .assert(404);
    ask_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        json!({"fileName": "n.txt", "contentType": "text/plain", "size": 1}),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn on_dynamodb_a_lessons_files_are_found_by_the_lesson_id_alone() {
    // GIVEN the app on DynamoDB (moto) with the embedded S3 endpoint, and a lesson
    let dir = tempfile::tempdir().unwrap();
    let s3 = lectern_local::s3::start(&dir.path().join("objects"), "127.0.0.1:0")
        .await
        .unwrap();
    let store = lectern_files::ObjectStore::with_static_credentials(&s3.config);
    let table = lectern_testkit::moto::moto().await.fresh_table().await;
    let app = TestApp::spawn_with(dir, Arc::new(table), Some(Arc::new(store))).await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;

    // WHEN the instructor uploads content through the lesson's route and confirms it
    let id = uploaded_to_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        ("notes.md", "text/markdown"),
        b"# Week 1",
    )
    .await;

    // THEN the enrolled student's download (GSI1 on DynamoDB) lists it and its URL fetches the bytes
    let download = app
        .get(
            &format!("/api/v1/lessons/{lesson}/download"),
            Some(&c.student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(download["files"][0]["fileId"], json!(id));
    let url = download["files"][0]["url"].as_str().unwrap();
    let bytes = app.client.get(url).send().await.unwrap().bytes().await;
    assert_eq!(bytes.unwrap().as_ref(), b"# Week 1");
    app.get(
        &format!("/api/v1/lessons/{lesson}/download"),
        Some(&c.outsider.access),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn file_endpoints_stay_within_their_store_round_trips() {
    // GIVEN a counting store with object storage, a class with a lesson, the instructor's confirmed
    // lesson notes and the enrolled student's confirmed essay
    let (app, table) = TestApp::counting_with_files().await;
    let c = class(&app).await;
    let lesson = app.lesson(&c.teacher, &c.course, "Week 1", 30).await;
    let notes = uploaded_to_lesson(
        &app,
        &c.teacher,
        &lesson,
        "content",
        ("notes.txt", "text/plain"),
        b"notes",
    )
    .await;
    let essay = uploaded(
        &app,
        &c.student,
        json!({"fileName": "essay.txt", "contentType": "text/plain", "size": 3,
               "purpose": "submission", "courseId": c.course,
               "assignmentId": c.assignment}),
        b"abc",
    )
    .await;
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    let ticket = ask(&app, &c.teacher, lesson_pdf(&c.course, 5))
        .await
        .assert(201)
        .body;
    // Ask (the course; the pending file put with both storage quotas and its uploader checked, one
    // transaction).
    assert_calls(&table, "POST /api/v1/files", [0, 1, 0, 0, 1]);
    let id = ticket["fileId"].as_str().unwrap().to_owned();
    // (the bytes go to the object store, not the table)
    assert_eq!(upload(&app, &ticket, b"12345").await, 200);
    let confirmed = app
        .post(
            &format!("/api/v1/files/{id}/confirm"),
            Some(&c.teacher.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(confirmed["status"], "active");
    // Confirm (the file; the transaction that activates it, counts it against both quotas and checks
    // its uploader).
    assert_calls(
        &table,
        "POST /api/v1/files/{fileId}/confirm",
        [1, 0, 0, 0, 1],
    );
    let usage = app
        .get("/api/v1/files/usage", Some(&c.teacher.access))
        .await
        .assert(200)
        .body;
    assert!(usage["user"]["used"].as_u64().unwrap() >= 5);
    // Usage (the caller's storage counter).
    assert_calls(&table, "GET /api/v1/files/usage", [1, 0, 0, 0, 0]);
    app.get("/api/v1/files/usage", Some(&c.admin.access))
        .await
        .assert(200);
    // An admin's (+ the tenant's counter, in one batch get).
    assert_calls(&table, "GET /api/v1/files/usage", [0, 1, 0, 0, 0]);

    let categories = app
        .get("/api/v1/files/categories", None)
        .await
        .assert(200)
        .body;
    assert_eq!(categories["categories"].as_array().unwrap().len(), 5);
    assert_calls(&table, "GET /api/v1/files/categories", [0, 0, 0, 0, 0]);

    let file = app
        .get(&format!("/api/v1/files/{notes}"), Some(&c.teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(file["fileId"], json!(notes));
    // The uploader (the file alone).
    assert_calls(&table, "GET /api/v1/files/{fileId}", [1, 0, 0, 0, 0]);
    app.get(&format!("/api/v1/files/{notes}"), Some(&c.student.access))
        .await
        .assert(200);
    // An enrolled student (+ the course and their enrollment).
    assert_calls(&table, "GET /api/v1/files/{fileId}", [1, 1, 0, 0, 0]);

    let secure = app
        .get(
            &format!("/api/v1/files/{notes}/secure-url"),
            Some(&c.teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert!(secure["url"].is_string());
    // The uploader (the file alone; presigning is local).
    assert_calls(
        &table,
        "GET /api/v1/files/{fileId}/secure-url",
        [1, 0, 0, 0, 0],
    );
    app.get(
        &format!("/api/v1/files/{notes}/secure-url"),
        Some(&c.student.access),
    )
    .await
    .assert(200);
    // An enrolled student (+ the course and their enrollment).
    assert_calls(
        &table,
        "GET /api/v1/files/{fileId}/secure-url",
        [1, 1, 0, 0, 0],
    );

    let ids = json!({"fileIds": [notes, essay]});
    let admin = app
        .post(
            "/api/v1/files/permissions/bulk",
            Some(&c.admin.access),
            ids.clone(),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(admin["permissions"][1]["canRead"], true);
    // An admin (the files alone).
    assert_calls(
        &table,
        "POST /api/v1/files/permissions/bulk",
        [0, 1, 0, 0, 0],
    );
    let student = app
        .post(
            "/api/v1/files/permissions/bulk",
            Some(&c.student.access),
            ids,
        )
        .await
        .assert(200)
        .body;
    assert_eq!(student["permissions"][0]["canRead"], true);
    // A student (+ the courses of the files not theirs, and their enrollments).
    assert_calls(
        &table,
        "POST /api/v1/files/permissions/bulk",
        [0, 2, 0, 0, 0],
    );

    let pdf = json!({"fileName": "n.pdf", "contentType": "application/pdf", "size": 10});
    let content = ask_lesson(&app, &c.teacher, &lesson, "content", pdf)
        .await
        .assert(201)
        .body;
    assert!(content["uploadUrl"].is_string());
    // Lesson content (the lesson on GSI1; its course and the lesson; the pending file put with the
    // quotas and its uploader checked).
    assert_calls(
        &table,
        "POST /api/v1/lessons/{lessonId}/content",
        [0, 1, 1, 0, 1],
    );
    let png = json!({"fileName": "n.png", "contentType": "image/png", "size": 10});
    let media = ask_lesson(&app, &c.teacher, &lesson, "media", png)
        .await
        .assert(201)
        .body;
    assert!(media["uploadUrl"].is_string());
    assert_calls(
        &table,
        "POST /api/v1/lessons/{lessonId}/media",
        [0, 1, 1, 0, 1],
    );

    let download = app
        .get(
            &format!("/api/v1/lessons/{lesson}/download"),
            Some(&c.student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(download["files"][0]["fileId"], json!(notes));
    // Download (the lesson with its files on GSI1; the course and the caller's enrollment).
    assert_calls(
        &table,
        "GET /api/v1/lessons/{lessonId}/download",
        [0, 1, 1, 0, 0],
    );

    app.delete(&format!("/api/v1/files/{id}"), Some(&c.teacher.access))
        .await
        .assert(204);
    // Delete by the uploader (the file; the transaction that starts deleting it with the check of the
    // uploader, then, after the object, the item's delete with its bytes given back to both quotas in
    // one transaction).
    assert_calls(&table, "DELETE /api/v1/files/{fileId}", [1, 0, 0, 0, 2]);

    app.post(
        "/api/v1/assignments/submit",
        Some(&c.student.access),
        json!({"assignmentId": c.assignment, "fileIds": [essay]}),
    )
    .await
    .assert(201);
    // Submit with a file (the assignment; its context; the files; the submission with the files'
    // handed-in marks in one transaction).
    assert_calls(&table, "POST /api/v1/assignments/submit", [1, 2, 0, 0, 1]);
}
