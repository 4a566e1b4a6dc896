//! Lessons: authoring, order (unique and dense), content, and who may read them.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn lessons_keep_unique_dense_orders_through_inserts_moves_deletes_and_reorders() {
    // GIVEN a course with three lessons appended in turn
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), false).await;
    let a = app.lesson(&teacher, &course, "A", 10).await;
    let b = app.lesson(&teacher, &course, "B", 20).await;
    let c = app.lesson(&teacher, &course, "C", 30).await;
    let list = || {
        let (app, course, token) = (&app, course.clone(), teacher.access.clone());
        async move {
            let body = app
                .get(&format!("/api/v1/courses/{course}/lessons"), Some(&token))
                .await
                .assert(200)
                .body;
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["order"].as_u64().unwrap(),
                        l["lessonId"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list().await,
        vec![(1, a.clone()), (2, b.clone()), (3, c.clone())]
    );
    // WHEN a lesson is inserted at order 1
    let d = app
        .post(
            &format!("/api/v1/courses/{course}/lessons"),
            Some(&teacher.access),
            json!({"title": "D", "order": 1, "content": "intro"}),
        )
        .await
        .assert(201)
        .body;
    assert_eq!(d["data"]["order"], 1);
    let d = d["data"]["lessonId"].as_str().unwrap().to_owned();
    // THEN the others move down
    assert_eq!(
        list().await,
        vec![
            (1, d.clone()),
            (2, a.clone()),
            (3, b.clone()),
            (4, c.clone())
        ]
    );
    // WHEN one is moved, one deleted, and all reordered
    app.put(
        &format!("/api/v1/courses/{course}/lessons/{c}"),
        Some(&teacher.access),
        json!({"order": 2}),
    )
    .await
    .assert(200);
    assert_eq!(
        list().await,
        vec![
            (1, d.clone()),
            (2, c.clone()),
            (3, a.clone()),
            (4, b.clone())
        ]
    );
    app.delete(
        &format!("/api/v1/courses/{course}/lessons/{a}"),
        Some(&teacher.access),
    )
    .await
    .assert(204);
    assert_eq!(
        list().await,
        vec![(1, d.clone()), (2, c.clone()), (3, b.clone())]
    );
    let reordered = app
        .put(
            &format!("/api/v1/courses/{course}/lessons/order"),
            Some(&teacher.access),
            json!({"lessonIds": [b, c, d]}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(reordered["data"][0]["lessonId"], b.as_str());
    assert_eq!(
        list().await,
        vec![(1, b.clone()), (2, c.clone()), (3, d.clone())]
    );
    // THEN a reorder that is not exactly the course's lessons is refused
    for bad in [json!([b, c]), json!([b, c, d, d]), json!([b, c, a])] {
        let reply = app
            .put(
                &format!("/api/v1/courses/{course}/lessons/order"),
                Some(&teacher.access),
                json!({"lessonIds": bad}),
            )
            .await
            .assert(400);
        assert!(
            reply.body["details"]["lessonIds"].is_string(),
            "{}",
            reply.body
        );
    }
    // AND the course counts its lessons
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalLessons"], 3);
}

#[tokio::test]
async fn content_is_markdown_up_to_100_kb_and_read_one_lesson_at_a_time() {
    // GIVEN a course
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let path = format!("/api/v1/courses/{course}/lessons");
    // WHEN content over 100 KB is sent THEN it is refused, naming the field
    let reply = app
        .post(
            &path,
            Some(&teacher.access),
            json!({"title": "Big", "content": "x".repeat(100 * 1024 + 1)}),
        )
        .await
        .assert(400);
    assert!(
        reply.body["details"]["content"]
            .as_str()
            .unwrap()
            .contains("102400")
    );
    // AND content of exactly 100 KB is kept and read back whole, while lists leave it out
    let body = "# Title\n".to_string() + &"y".repeat(100 * 1024 - 8);
    let id = app
        .post(
            &path,
            Some(&teacher.access),
            json!({"title": "Full", "content": body, "estimatedTime": 15}),
        )
        .await
        .assert(201)
        .body["data"]["lessonId"]
        .as_str()
        .unwrap()
        .to_owned();
    let lesson = app
        .get(&format!("{path}/{id}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(lesson["content"].as_str().unwrap(), body);
    assert_eq!(lesson["contentLength"], 100 * 1024);
    let list = app.get(&path, Some(&teacher.access)).await.assert(200).body;
    assert!(list["data"][0].get("content").is_none());
    // AND bad fields are all named at once
    let reply = app
        .post(
            &path,
            Some(&teacher.access),
            json!({"title": "", "estimatedTime": -5, "order": 0}),
        )
        .await
        .assert(400);
    for field in ["title", "estimatedTime", "order"] {
        assert!(
            reply.body["details"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn only_members_read_lessons_and_only_the_owner_or_an_admin_writes_them() {
    // GIVEN a published course with a lesson, its instructor, another instructor, a student
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let other = app.user("o@example.org", "other", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let admin = app.admin().await;
    let course = app.course(&teacher, json!({}), true).await;
    let lesson = app.lesson(&teacher, &course, "One", 5).await;
    let path = format!("/api/v1/courses/{course}/lessons");
    // THEN a student not enrolled gets 403 for the members-only lessons, and 200 once enrolled
    app.get(&path, Some(&student.access)).await.assert(403);
    app.get(&format!("{path}/{lesson}"), Some(&student.access))
        .await
        .assert(403);
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    let read = app
        .get(&format!("{path}/{lesson}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(read["content"], "# One");
    // AND students and other instructors may not write; admins may
    app.post(&path, Some(&student.access), json!({"title": "X"}))
        .await
        .assert(403);
    app.post(&path, Some(&other.access), json!({"title": "X"}))
        .await
        .assert(403);
    app.put(
        &format!("{path}/{lesson}"),
        Some(&other.access),
        json!({"title": "X"}),
    )
    .await
    .assert(403);
    app.post(&path, Some(&admin.access), json!({"title": "By admin"}))
        .await
        .assert(201);
    // AND a stale version is refused
    app.put(
        &format!("{path}/{lesson}"),
        Some(&teacher.access),
        json!({"title": "New", "version": 7}),
    )
    .await
    .assert(409);
    // AND an unknown lesson is 404
    app.get(
        &format!("{path}/0190aaaa-0000-7000-8000-000000000000"),
        Some(&teacher.access),
    )
    .await
    .assert(404);
}
