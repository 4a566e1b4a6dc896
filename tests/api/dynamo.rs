//! The auth, admin, course and catalog flows again, with the app on the DynamoDB backend (moto's server
//! on loopback); the catalog's listings are compared with the SQLite backend's, filter by filter.

use std::sync::Arc;

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

async fn spawn_on_dynamo() -> TestApp {
    let table = lectern_testkit::moto::moto().await.fresh_table().await;
    TestApp::spawn_on(tempfile::tempdir().unwrap(), Arc::new(table)).await
}

#[tokio::test]
async fn on_dynamodb_register_sign_in_refresh_and_reuse_detection_work() {
    let app = spawn_on_dynamo().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    assert_eq!(
        app.register("ADA@example.org", "other", "student")
            .await
            .assert(409)
            .code(),
        "email_taken"
    );
    app.get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(200);
    let rotated = app.refresh(&ada.refresh).await.assert(200).body;
    app.refresh(&ada.refresh).await.assert(401);
    app.refresh(rotated["refreshToken"].as_str().unwrap())
        .await
        .assert(401);
    app.signin("ada@example.org", "wrong password!")
        .await
        .assert(401);
}

#[tokio::test]
async fn on_dynamodb_concurrent_registrations_with_one_email_let_exactly_one_in() {
    let app = spawn_on_dynamo().await;
    let attempts = (0..4).map(|i| {
        let app = &app;
        async move {
            app.register("race@example.org", &format!("racer{i}"), "student")
                .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    assert!(
        replies
            .iter()
            .all(|r| r.status == 201 || r.code() == "email_taken")
    );
}

#[tokio::test]
async fn on_dynamodb_profiles_update_and_admins_page_and_suspend() {
    let app = spawn_on_dynamo().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    app.user("bob@example.org", "bob", "student").await;
    app.put(
        "/api/v1/profile",
        Some(&ada.access),
        json!({"email": "augusta@example.org", "version": 1, "currentPassword": PASSWORD}),
    )
    .await
    .assert(200);
    app.signin("augusta@example.org", PASSWORD)
        .await
        .assert(200);
    let first = app
        .get("/api/v1/users?role=student&limit=1", Some(&admin.access))
        .await
        .assert(200)
        .body;
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/users?role=student&limit=1&cursor={cursor}"),
            Some(&admin.access),
        )
        .await
        .assert(200)
        .body;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    assert!(second.get("nextCursor").is_none());
    app.post(
        &format!("/api/v1/users/{}/suspend", ada.id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(200);
    app.refresh(&ada.refresh).await.assert(401);
    app.signin("augusta@example.org", PASSWORD)
        .await
        .assert(403);
}

#[tokio::test]
async fn on_dynamodb_a_course_is_built_listed_enrolled_in_completed_rated_and_deleted() {
    // GIVEN the app on DynamoDB, an instructor with a published course of two lessons and a
    // prerequisite
    let app = spawn_on_dynamo().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let intro = app
        .course(&teacher, json!({"title": "Intro to Rust"}), true)
        .await;
    let course = app
        .course(&teacher, json!({"title": "Rust on Lambda"}), true)
        .await;
    let one = app.lesson(&teacher, &course, "One", 10).await;
    let two = app.lesson(&teacher, &course, "Two", 10).await;
    app.post(
        &format!("/api/v1/courses/{course}/prerequisites"),
        Some(&teacher.access),
        json!({"prerequisiteId": intro}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/courses/{intro}/prerequisites"),
        Some(&teacher.access),
        json!({"prerequisiteId": course}),
    )
    .await
    .assert(409);
    // WHEN the catalog is searched THEN both courses are found by word prefix
    let found = app
        .get("/api/v1/courses?search=RUS&sort=title", None)
        .await
        .assert(200)
        .body;
    assert_eq!(found["pagination"]["totalCount"], 2);
    assert_eq!(found["data"][0]["title"], "Intro to Rust");
    // WHEN the student (with the prerequisite done: it has no lessons, so enroll needs completion)
    // enrolls in the intro course, it is refused for the advanced one
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(409);
    app.call(
        reqwest::Method::DELETE,
        &format!("/api/v1/courses/{course}/prerequisites/{intro}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    for lesson in [&one, &two, &one] {
        app.post(
            "/api/v1/lessons/complete",
            Some(&student.access),
            json!({"lessonId": lesson, "courseId": course}),
        )
        .await
        .assert(200);
    }
    app.post(
        &format!("/api/v1/courses/{course}/ratings"),
        Some(&student.access),
        json!({"rating": 5, "review": "Clear"}),
    )
    .await
    .assert(201);
    // THEN the course page shows it all, counted exactly
    let page = app
        .get(&format!("/api/v1/courses/{course}"), Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(page["lessons"][1]["lessonId"], two.as_str());
    assert_eq!(
        page["enrollment"]["progress"]["completionPercentage"],
        100.0
    );
    assert_eq!(page["statistics"]["totalEnrollments"], 1);
    assert_eq!(page["ratings"][0]["review"], "Clear");
    assert_eq!(page["averageRating"], 5.0);
    // AND deleting it removes it from the page and the catalog
    app.call(
        reqwest::Method::DELETE,
        &format!("/api/v1/courses/{course}"),
        Some(&teacher.access),
        None,
    )
    .await
    .assert(204);
    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(404);
    let left = app.get("/api/v1/courses", None).await.assert(200).body;
    assert_eq!(left["pagination"]["totalCount"], 1);
}

#[tokio::test]
async fn on_dynamodb_concurrent_enrollments_are_counted_exactly_and_a_duplicate_is_refused() {
    // GIVEN six students and a published course on DynamoDB
    let app = spawn_on_dynamo().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let mut students = Vec::new();
    for i in 0..6 {
        students.push(
            app.user(
                &format!("s{i}@example.org"),
                &format!("student{i}"),
                "student",
            )
            .await,
        );
    }
    // WHEN they enroll at once, the first one twice
    let path = format!("/api/v1/courses/{course}/enroll");
    let mut calls: Vec<_> = students
        .iter()
        .map(|s| app.post(&path, Some(&s.access), json!({})))
        .collect();
    calls.push(app.post(&path, Some(&students[0].access), json!({})));
    let replies = futures::future::join_all(calls).await;
    // THEN each is in once, the duplicate is refused, and the counter is exact
    let created = replies.iter().filter(|r| r.status == 201).count();
    let refused: Vec<&str> = replies
        .iter()
        .filter(|r| r.status == 409)
        .map(|r| r.code())
        .collect();
    assert_eq!((created, refused), (6, vec!["already_enrolled"]));
    let page = app
        .get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalEnrollments"], 6);
}

/// The catalog of [`catalog_listings_are_the_same_on_both_backends`]: two instructors, five
/// published courses with distinct enrollment counts and ratings, and a draft. Answers the
/// instructors' ids.
async fn seed_catalog(app: &TestApp) -> [String; 2] {
    let ann = app.user("ann@example.org", "ann", "instructor").await;
    let ben = app.user("ben@example.org", "ben", "instructor").await;
    let students = [
        app.user("s1@example.org", "student1", "student").await,
        app.user("s2@example.org", "student2", "student").await,
        app.user("s3@example.org", "student3", "student").await,
    ];
    // (title, category, difficulty, instructor, each student's rating: None = not enrolled)
    let courses = [
        (
            "Alpha Rust",
            "programming",
            "beginner",
            &ann,
            [Some(5), Some(5), Some(4)],
        ),
        (
            "bravo piano",
            "music",
            "beginner",
            &ann,
            [Some(3), None, None],
        ),
        (
            "Charlie Go",
            "programming",
            "advanced",
            &ben,
            [Some(4), Some(4), None],
        ),
        (
            "Delta Jazz",
            "music",
            "intermediate",
            &ben,
            [None, None, None],
        ),
        (
            "Echo Rust",
            "programming",
            "beginner",
            &ben,
            [None, Some(2), Some(1)],
        ),
    ];
    for (title, category, difficulty, teacher, ratings) in courses {
        let body = json!({"title": title, "category": category, "difficultyLevel": difficulty,
            "description": format!("{title}, from the start.")});
        let id = app.course(teacher, body, true).await;
        for (student, rating) in students.iter().zip(ratings) {
            let Some(rating) = rating else { continue };
            app.post(
                &format!("/api/v1/courses/{id}/enroll"),
                Some(&student.access),
                json!({}),
            )
            .await
            .assert(201);
            app.post(
                &format!("/api/v1/courses/{id}/ratings"),
                Some(&student.access),
                json!({"rating": rating}),
            )
            .await
            .assert(201);
        }
    }
    app.course(&ann, json!({"title": "Foxtrot Draft"}), false)
        .await;
    [ann.id, ben.id]
}

/// Every page of a listing, following `nextCursor`: the titles in order, and the total count.
async fn listing(app: &TestApp, query: &str) -> (Vec<String>, serde_json::Value) {
    let mut titles = Vec::new();
    let mut page = app
        .get(&format!("/api/v1/courses?limit=3&{query}"), None)
        .await
        .assert(200)
        .body;
    let total = page["pagination"]["totalCount"].clone();
    loop {
        for course in page["data"].as_array().unwrap() {
            titles.push(course["title"].as_str().unwrap().to_owned());
        }
        let Some(cursor) = page["nextCursor"].as_str() else {
            break;
        };
        page = app
            .get(
                &format!("/api/v1/courses?limit=3&{query}&cursor={cursor}"),
                None,
            )
            .await
            .assert(200)
            .body;
    }
    (titles, total)
}

#[tokio::test]
async fn catalog_listings_are_the_same_on_both_backends() {
    // GIVEN the same catalog on SQLite and on DynamoDB
    let sqlite = TestApp::spawn().await;
    let dynamo = spawn_on_dynamo().await;
    let (on_sqlite, on_dynamo) = tokio::join!(seed_catalog(&sqlite), seed_catalog(&dynamo));

    // WHEN every filter (category, difficulty, instructor, a search) is listed in every order,
    // page by page
    let mut compared = 0;
    for category in ["", "category=programming", "category=music"] {
        for difficulty in ["", "difficulty=beginner"] {
            for instructor in [None, Some(0), Some(1)] {
                for filter in ["", "search=rust"] {
                    for sort in ["newest", "title", "rating", "enrollments"] {
                        let query = |ids: &[String; 2]| {
                            let mut parts = vec![format!("sort={sort}")];
                            parts.extend(
                                [category, difficulty, filter]
                                    .into_iter()
                                    .filter(|p| !p.is_empty())
                                    .map(str::to_owned),
                            );
                            if let Some(i) = instructor {
                                parts.push(format!("instructorId={}", ids[i]));
                            }
                            parts.join("&")
                        };
                        let (qa, qb) = (query(&on_sqlite), query(&on_dynamo));
                        let (a, b) = tokio::join!(listing(&sqlite, &qa), listing(&dynamo, &qb));
                        // THEN both backends list the same courses in the same order, with the
                        // same count
                        assert_eq!(a, b, "{}", query(&on_sqlite));
                        assert_eq!(a.1, a.0.len(), "{}", query(&on_sqlite));
                        compared += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, 144);
    // AND the orders are the ones documented (spot checks on the whole catalog)
    assert_eq!(
        listing(&dynamo, "sort=title").await.0,
        [
            "Alpha Rust",
            "bravo piano",
            "Charlie Go",
            "Delta Jazz",
            "Echo Rust"
        ]
    );
    assert_eq!(
        listing(&dynamo, "sort=rating").await.0,
        [
            "Alpha Rust",
            "Charlie Go",
            "bravo piano",
            "Echo Rust",
            "Delta Jazz"
        ]
    );
    assert_eq!(
        listing(&dynamo, "sort=enrollments").await.0,
        [
            "Alpha Rust",
            "Echo Rust",
            "Charlie Go",
            "bravo piano",
            "Delta Jazz"
        ]
    );
    assert_eq!(
        listing(&dynamo, "sort=newest").await.0,
        [
            "Echo Rust",
            "Delta Jazz",
            "Charlie Go",
            "bravo piano",
            "Alpha Rust"
        ]
    );
}
