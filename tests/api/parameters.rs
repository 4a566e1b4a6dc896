//! Numbers and cursors taken from requests: every one is checked, and a bad one is a 400 naming the
//! parameter, never an overflow (a panic in a debug build, a wrapped value in release).

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};

/// The largest unsigned 64-bit number, the usual overflow probe.
const U64_MAX: &str = "18446744073709551615";

fn assert_names(reply: &Reply, code: &str, field: &str) {
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert!(
        reply.body["details"][field].is_string(),
        "{field} not named: {}",
        reply.body
    );
}

#[tokio::test]
async fn the_assignments_cursor_is_checked_and_an_overflowing_one_is_400() {
    // GIVEN a student enrolled in a course with three assignments
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let course = app.course(&teacher, json!({}), true).await;
    for _ in 0..3 {
        app.assignment(&teacher, &course, 10).await;
    }
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);

    // WHEN the cursor is the largest number, negative, or not a number
    for cursor in [U64_MAX, "-1", "abc", "99999999999999999999999"] {
        let reply = app
            .get(
                &format!("/api/v1/assignments?limit=2&cursor={cursor}"),
                Some(&student.access),
            )
            .await
            .assert(400);
        // THEN 400 names the cursor
        assert_names(&reply, "invalid_cursor", "cursor");
    }

    // AND a cursor the list gave still pages through it
    let first = app
        .get("/api/v1/assignments?limit=2", Some(&student.access))
        .await
        .assert(200)
        .body;
    let next = first["nextCursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("/api/v1/assignments?limit=2&cursor={next}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second.get("nextCursor").is_none_or(Value::is_null));
}

#[tokio::test]
async fn a_catalog_page_number_out_of_range_is_400_naming_it() {
    // GIVEN a catalog with a course
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    app.course(&teacher, json!({}), true).await;

    // WHEN the page number overflows, is beyond any catalog, or is not positive
    for page in [U64_MAX, "9223372036854775807", "0", "-1", "x"] {
        let reply = app
            .get(&format!("/api/v1/courses?page={page}"), None)
            .await
            .assert(400);
        // THEN 400 names the page
        assert_names(&reply, "validation_failed", "page");
    }
    // AND the limit likewise
    let reply = app
        .get(&format!("/api/v1/courses?limit={U64_MAX}"), None)
        .await
        .assert(400);
    assert_names(&reply, "validation_failed", "limit");
    // AND a page past the last one is an empty page, not an error
    let beyond = app
        .get("/api/v1/courses?page=50&limit=20", None)
        .await
        .assert(200)
        .body;
    assert_eq!(beyond["data"].as_array().unwrap().len(), 0);
    // AND a page starting beyond the first 1,000 courses is reached by cursor, not by number
    let deep = app.get("/api/v1/courses?page=1000", None).await.assert(400);
    assert_names(&deep, "validation_failed", "page");
}

#[tokio::test]
async fn wallet_and_list_cursors_and_limits_are_checked() {
    // GIVEN a signed-in student
    let app = TestApp::spawn().await;
    let student = app.user("s@example.org", "student", "student").await;

    // WHEN the payments list, invoices and notifications get a forged cursor or an overflowing limit
    for list in [
        "/api/v1/payments",
        "/api/v1/invoices",
        "/api/v1/notifications",
    ] {
        for cursor in [U64_MAX, "not-a-cursor", "eyJ2IjoxfQ"] {
            let reply = app
                .get(&format!("{list}?cursor={cursor}"), Some(&student.access))
                .await
                .assert(400);
            // THEN 400 names the cursor
            assert_names(&reply, "invalid_cursor", "cursor");
        }
        for limit in [U64_MAX, "0", "101"] {
            let reply = app
                .get(&format!("{list}?limit={limit}"), Some(&student.access))
                .await
                .assert(400);
            // AND the limit
            assert_names(&reply, "validation_failed", "limit");
        }
    }
}
