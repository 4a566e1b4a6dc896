//! Ratings: enrolled students only, one each, an exact average under concurrency, newest first.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn ratings_are_one_per_student_exact_on_write_and_listed_newest_first() {
    // GIVEN a published course, two enrolled students and one who is not
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let ann = app.user("ann@example.org", "ann", "student").await;
    let bob = app.user("bob@example.org", "bob", "student").await;
    let eve = app.user("eve@example.org", "eve", "student").await;
    for s in [&ann, &bob] {
        app.post(
            &format!("/api/v1/courses/{course}/enroll"),
            Some(&s.access),
            json!({}),
        )
        .await
        .assert(201);
    }
    let path = format!("/api/v1/courses/{course}/ratings");
    // WHEN they rate, and ann rates again
    let first = app
        .post(
            &path,
            Some(&ann.access),
            json!({"rating": 5, "review": "  Great  "}),
        )
        .await
        .assert(201)
        .body;
    assert_eq!(first["data"]["review"], "Great");
    assert_eq!(first["data"]["student"]["firstName"], "Ada");
    app.post(&path, Some(&bob.access), json!({"rating": 2}))
        .await
        .assert(201);
    let again = app
        .post(
            &path,
            Some(&ann.access),
            json!({"rating": 4, "review": "Good"}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(again["data"]["ratingId"], first["data"]["ratingId"]);
    // THEN the course counts two ratings averaging 3, and lists them newest first
    let page = app
        .get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalRatings"], 2);
    assert_eq!(page["averageRating"], 3.0);
    assert_eq!(page["ratings"].as_array().unwrap().len(), 2);
    assert_eq!(page["ratings"][0]["review"], "Good");
    let list = app
        .get(&format!("{path}?limit=1"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(list["data"][0]["rating"], 4);
    let rest = app
        .get(
            &format!(
                "{path}?limit=1&cursor={}",
                list["nextCursor"].as_str().unwrap()
            ),
            None,
        )
        .await
        .assert(200)
        .body;
    assert_eq!(rest["data"][0]["rating"], 2);
    // AND a student not enrolled, and bad values, are refused
    app.post(&path, Some(&eve.access), json!({"rating": 5}))
        .await
        .assert(403);
    for bad in [
        json!({"rating": 0}),
        json!({"rating": 6}),
        json!({"rating": 3, "review": "x".repeat(2001)}),
    ] {
        app.post(&path, Some(&ann.access), bad).await.assert(400);
    }
    app.get(&format!("{path}?limit=0"), None).await.assert(400);
}

#[tokio::test]
async fn concurrent_ratings_keep_the_average_exact() {
    // GIVEN eight enrolled students
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let course = app.course(&teacher, json!({}), true).await;
    let mut students = Vec::new();
    for i in 0..8 {
        let s = app
            .user(
                &format!("r{i}@example.org"),
                &format!("rater{i}"),
                "student",
            )
            .await;
        app.post(
            &format!("/api/v1/courses/{course}/enroll"),
            Some(&s.access),
            json!({}),
        )
        .await
        .assert(201);
        students.push(s);
    }
    // WHEN they all rate at once (1, 2, 3, 4, 5, 1, 2, 3)
    let path = format!("/api/v1/courses/{course}/ratings");
    let calls = students
        .iter()
        .enumerate()
        .map(|(i, s)| app.post(&path, Some(&s.access), json!({"rating": i % 5 + 1})));
    let replies = futures::future::join_all(calls).await;
    assert!(replies.iter().all(|r| r.status.as_u16() == 201));
    // THEN the counters hold every rating exactly
    let page = app
        .get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200)
        .body;
    assert_eq!(page["totalRatings"], 8);
    assert_eq!(page["averageRating"], 2.63);
    assert_eq!(page["ratings"].as_array().unwrap().len(), 8);
}
