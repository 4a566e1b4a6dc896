//! Prerequisites: links both ways, cycles refused at any depth, and enrollment gated on completion.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn cycles_are_refused_at_any_depth_with_the_path_named() {
    // GIVEN courses A, B, C with C needing B and B needing A
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let a = app
        .course(&teacher, json!({"title": "Course A"}), true)
        .await;
    let b = app
        .course(&teacher, json!({"title": "Course B"}), true)
        .await;
    let c = app
        .course(&teacher, json!({"title": "Course C"}), true)
        .await;
    let link = |course: &str, pre: &str| {
        let (app, token) = (&app, teacher.access.clone());
        let (course, pre) = (course.to_owned(), pre.to_owned());
        async move {
            app.post(
                &format!("/api/v1/courses/{course}/prerequisites"),
                Some(&token),
                json!({"prerequisiteId": pre}),
            )
            .await
        }
    };
    let added = link(&b, &a).await.assert(201).body;
    assert_eq!(added["data"]["prerequisite"]["title"], "Course A");
    link(&c, &b).await.assert(201);
    link(&c, &b).await.assert(200);
    // WHEN A is made to need C THEN 409 names the path
    let cycle = link(&a, &c).await.assert(409);
    assert_eq!(cycle.code(), "prerequisite_cycle");
    assert_eq!(
        cycle.body["error"],
        "this would make a cycle: Course A → Course C → Course B → Course A"
    );
    // AND a course cannot need itself
    assert_eq!(link(&a, &a).await.assert(400).code(), "self_prerequisite");
    // AND the course page shows both directions
    let page_b = app
        .get(&format!("/api/v1/courses/{b}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page_b["prerequisites"][0]["prerequisiteId"], a.as_str());
    assert_eq!(page_b["requiredBy"][0]["courseId"], c.as_str());
    // WHEN a link is removed THEN both sides forget it, and the former cycle is allowed
    app.delete(
        &format!("/api/v1/courses/{b}/prerequisites/{a}"),
        Some(&teacher.access),
    )
    .await
    .assert(204);
    let page_a = app
        .get(&format!("/api/v1/courses/{a}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page_a["requiredBy"].as_array().unwrap().len(), 0);
    link(&a, &c).await.assert(201);
    // AND unknown courses are 404
    link(&a, "0190aaaa-0000-7000-8000-000000000000")
        .await
        .assert(404);
}

#[tokio::test]
async fn enrolling_needs_completed_prerequisites() {
    // GIVEN an intro course with one lesson that an advanced course requires
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let intro = app.course(&teacher, json!({"title": "Intro"}), true).await;
    let lesson = app.lesson(&teacher, &intro, "Only", 5).await;
    let advanced = app
        .course(&teacher, json!({"title": "Advanced"}), true)
        .await;
    app.post(
        &format!("/api/v1/courses/{advanced}/prerequisites"),
        Some(&teacher.access),
        json!({"prerequisiteId": intro}),
    )
    .await
    .assert(201);
    // WHEN the student enrolls in the advanced course first THEN 409 lists the missing course
    let refused = app
        .post(
            &format!("/api/v1/courses/{advanced}/enroll"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(409);
    assert_eq!(refused.code(), "prerequisites_missing");
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("\"Intro\"")
    );
    // WHEN they complete the intro course THEN they may enroll
    app.post(
        &format!("/api/v1/courses/{intro}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/courses/{advanced}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(409);
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson, "courseId": intro}),
    )
    .await
    .assert(200);
    app.post(
        &format!("/api/v1/courses/{advanced}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
}

fn default_tenant() -> lectern_domain::TenantId {
    lectern_domain::TenantId::parse("default").unwrap()
}

/// The stored item of a course, as the table holds it.
async fn stored_course(app: &TestApp, course: &str) -> lectern_store::Item {
    let id = lectern_domain::CourseId::parse(course).unwrap();
    app.state
        .table
        .get(&lectern_store::keys::course(&default_tenant(), id))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn linking_another_instructors_draft_answers_404_and_leaves_it_unwritten() {
    // GIVEN two instructors: one with a draft, the other with a published course
    let app = TestApp::spawn().await;
    let owner = app.user("owner@example.org", "owner", "instructor").await;
    let other = app.user("other@example.org", "other", "instructor").await;
    let draft = app
        .course(&owner, json!({"title": "Secret draft"}), false)
        .await;
    let mine = app.course(&other, json!({"title": "Mine"}), true).await;
    let before = stored_course(&app, &draft).await;

    // WHEN the other instructor links the draft as a prerequisite of their course
    let refused = app
        .post(
            &format!("/api/v1/courses/{mine}/prerequisites"),
            Some(&other.access),
            json!({"prerequisiteId": draft}),
        )
        .await
        .assert(404);

    // THEN it is answered as if the draft did not exist, naming nothing of it
    assert_eq!(refused.code(), "not_found");
    assert!(!refused.body.to_string().contains("Secret draft"));
    // AND neither course changed
    assert_eq!(stored_course(&app, &draft).await, before);
    let page = app
        .get(&format!("/api/v1/courses/{mine}"), Some(&other.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["prerequisites"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn linking_another_instructors_published_course_leaves_its_item_unchanged() {
    // GIVEN a published course of one instructor, and a course of another
    let app = TestApp::spawn().await;
    let owner = app.user("owner@example.org", "owner", "instructor").await;
    let other = app.user("other@example.org", "other", "instructor").await;
    let intro = app.course(&owner, json!({"title": "Intro"}), true).await;
    let advanced = app.course(&other, json!({"title": "Advanced"}), true).await;
    let before = stored_course(&app, &intro).await;

    // WHEN the other instructor makes it a prerequisite of theirs
    let linked = app
        .post(
            &format!("/api/v1/courses/{advanced}/prerequisites"),
            Some(&other.access),
            json!({"prerequisiteId": intro}),
        )
        .await
        .assert(201);

    // THEN the link is made and both pages show it
    assert_eq!(linked.body["data"]["prerequisite"]["title"], "Intro");
    let intro_page = app
        .get(&format!("/api/v1/courses/{intro}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(intro_page["requiredBy"][0]["courseId"], advanced.as_str());
    // AND the prerequisite's own stored item is exactly as it was
    assert_eq!(stored_course(&app, &intro).await, before);

    // WHEN the link is removed THEN the item is still untouched and the page forgets it
    app.delete(
        &format!("/api/v1/courses/{advanced}/prerequisites/{intro}"),
        Some(&other.access),
    )
    .await
    .assert(204);
    assert_eq!(stored_course(&app, &intro).await, before);
    let intro_page = app
        .get(&format!("/api/v1/courses/{intro}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(intro_page["requiredBy"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_course_is_required_by_a_bounded_number_of_courses() {
    // GIVEN a published course already required by as many courses as allowed
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let intro = app.course(&teacher, json!({"title": "Intro"}), true).await;
    for i in 0..40 {
        let course = app
            .course(&teacher, json!({"title": format!("Course {i}")}), false)
            .await;
        app.post(
            &format!("/api/v1/courses/{course}/prerequisites"),
            Some(&teacher.access),
            json!({"prerequisiteId": intro}),
        )
        .await
        .assert(201);
    }
    let one_more = app
        .course(&teacher, json!({"title": "One more"}), false)
        .await;

    // WHEN one more course names it
    let refused = app
        .post(
            &format!("/api/v1/courses/{one_more}/prerequisites"),
            Some(&teacher.access),
            json!({"prerequisiteId": intro}),
        )
        .await
        .assert(409);

    // THEN 409 names the limit, and the course has no prerequisite
    assert_eq!(refused.code(), "too_many_dependents");
    let page = app
        .get(
            &format!("/api/v1/courses/{one_more}"),
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(page["prerequisites"].as_array().unwrap().len(), 0);
    // AND the intro's page names its dependents that the caller may see
    let intro_page = app
        .get(&format!("/api/v1/courses/{intro}"), Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(intro_page["requiredBy"].as_array().unwrap().len(), 40);
}
