//! The catalog list, `GET /api/v1/courses`: filters, search, sort orders, pages and cursors, drafts,
//! tenants, bad parameters, and its store round trips.

use lectern_domain::{CourseId, TenantId};
use lectern_store::catalog::SEARCH_PROBE;
use lectern_store::courses::CourseRepo;
use lectern_store::{Actor, Power};
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_calls};

/// Creates a draft course through the API and returns its id.
async fn draft(
    app: &TestApp,
    teacher: &Session,
    title: &str,
    description: &str,
    category: &str,
    difficulty: &str,
) -> String {
    app.post(
        "/api/v1/courses",
        Some(&teacher.access),
        json!({"title": title, "description": description, "category": category,
               "difficultyLevel": difficulty, "price": 1999, "currency": "eur"}),
    )
    .await
    .assert(201)
    .body["data"]["courseId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates and publishes a course through the API and returns its id.
async fn published(
    app: &TestApp,
    teacher: &Session,
    title: &str,
    description: &str,
    category: &str,
    difficulty: &str,
) -> String {
    let id = draft(app, teacher, title, description, category, difficulty).await;
    app.post(
        &format!("/api/v1/courses/{id}/publish"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(200);
    id
}

/// `n` published programming courses titled "Course 0" … in creation order; returns their ids.
async fn many(app: &TestApp, teacher: &Session, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            published(
                app,
                teacher,
                &format!("Course {i}"),
                "",
                "programming",
                "beginner",
            )
            .await,
        );
    }
    ids
}

/// Sets the counters enrollments and ratings maintain (no endpoint writes them yet).
async fn set_counters(app: &TestApp, id: &str, enrollments: u32, ratings: u32, rating_sum: u64) {
    let repo = CourseRepo::new(app.state.table.clone());
    let tenant = TenantId::parse("default").unwrap();
    let before = repo
        .get(&tenant, CourseId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut after = before.clone();
    after.total_enrollments = enrollments;
    after.total_ratings = ratings;
    after.rating_sum = rating_sum;
    after.version += 1;
    let instructor = Actor::new(tenant, before.instructor_id, Power::Teaching);
    repo.update(&instructor, &before, &after).await.unwrap();
}

async fn list(app: &TestApp, query: &str, token: Option<&str>) -> Value {
    app.get(&format!("/api/v1/courses{query}"), token)
        .await
        .assert(200)
        .body
}

fn titles(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["courseId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_catalog_lists_published_courses_newest_first_ten_to_a_page() {
    // GIVEN twelve published courses and a draft
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let created = many(&app, &teacher, 12).await;
    draft(&app, &teacher, "Secret Draft", "", "music", "advanced").await;
    // WHEN an anonymous caller lists the catalog with no parameters
    let body = list(&app, "", None).await;
    // THEN they get the ten newest published courses, and page 1 of 2
    let newest_first: Vec<String> = created.iter().rev().take(10).cloned().collect();
    assert_eq!(ids(&body), newest_first);
    assert_eq!(
        body["pagination"],
        json!({"page": 1, "limit": 10, "totalCount": 12, "totalPages": 2, "hasNext": true, "hasPrev": false})
    );
    assert!(body["nextCursor"].is_string());
    // AND each course carries its fields and its instructor
    let first = &body["data"][0];
    assert_eq!(first["title"], "Course 11");
    assert_eq!(first["status"], "published");
    assert_eq!(first["category"], "programming");
    assert_eq!(first["difficultyLevel"], "beginner");
    assert_eq!(
        (first["price"].as_u64(), first["currency"].as_str()),
        (Some(1999), Some("EUR"))
    );
    assert_eq!(
        first["instructor"],
        json!({"id": teacher.id, "firstName": "Ada", "lastName": "Lovelace", "username": "teacher"})
    );
    for field in [
        "averageRating",
        "totalLessons",
        "totalEnrollments",
        "totalRatings",
        "version",
    ] {
        assert!(first[field].is_number(), "{field}: {first}");
    }
    for field in ["createdAt", "updatedAt", "publishedAt", "description"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    assert!(!titles(&body).contains(&"Secret Draft".to_owned()));
}

#[tokio::test]
async fn each_filter_narrows_the_catalog() {
    // GIVEN courses of two instructors in several categories and difficulties
    let app = TestApp::spawn().await;
    let ada = app.user("a@example.org", "ada", "instructor").await;
    let bob = app.user("b@example.org", "bob", "instructor").await;
    published(&app, &ada, "Rust Basics", "", "programming", "beginner").await;
    published(&app, &ada, "Rust Macros", "", "programming", "advanced").await;
    published(&app, &bob, "Color Theory", "", "design", "beginner").await;
    published(&app, &bob, "Jazz Piano", "", "music", "intermediate").await;
    // WHEN the catalog is filtered by category, THEN only that category is listed
    let body = list(&app, "?category=programming", None).await;
    assert_eq!(titles(&body), ["Rust Macros", "Rust Basics"]);
    assert_eq!(body["pagination"]["totalCount"], 2);
    // WHEN by difficulty
    assert_eq!(
        titles(&list(&app, "?difficulty=beginner", None).await),
        ["Color Theory", "Rust Basics"]
    );
    // WHEN by instructor
    assert_eq!(
        titles(&list(&app, &format!("?instructorId={}", bob.id), None).await),
        ["Jazz Piano", "Color Theory"]
    );
    // WHEN by all three together
    let body = list(
        &app,
        &format!(
            "?category=programming&difficulty=advanced&instructorId={}",
            ada.id
        ),
        None,
    )
    .await;
    assert_eq!(titles(&body), ["Rust Macros"]);
    // AND a combination nothing matches is an empty first page
    let none = list(&app, "?category=music&difficulty=beginner", None).await;
    assert_eq!(none["data"], json!([]));
    assert_eq!(
        none["pagination"],
        json!({"page": 1, "limit": 10, "totalCount": 0, "totalPages": 0, "hasNext": false, "hasPrev": false})
    );
    assert_eq!(none["nextCursor"], Value::Null);
}

#[tokio::test]
async fn search_matches_word_prefixes_of_title_or_description_ignoring_case() {
    // GIVEN three courses
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    published(
        &app,
        &teacher,
        "Rust for the Web",
        "Axum, Lambda and DynamoDB.",
        "programming",
        "intermediate",
    )
    .await;
    published(
        &app,
        &teacher,
        "Web Design",
        "Layouts & typography.",
        "design",
        "beginner",
    )
    .await;
    published(
        &app,
        &teacher,
        "Écoute active",
        "Listening skills.",
        "language",
        "beginner",
    )
    .await;
    // WHEN searching a word prefix, THEN courses with a word starting with it match
    assert_eq!(
        titles(&list(&app, "?search=web", None).await),
        ["Web Design", "Rust for the Web"]
    );
    // AND case does not matter, in the query or the text (Unicode too)
    assert_eq!(
        titles(&list(&app, "?search=RUS", None).await),
        ["Rust for the Web"]
    );
    assert_eq!(
        titles(&list(&app, "?search=%C3%89COU", None).await),
        ["Écoute active"]
    );
    assert_eq!(
        titles(&list(&app, "?search=%C3%A9coute", None).await),
        ["Écoute active"]
    );
    // AND the description counts, and punctuation separates words
    assert_eq!(
        titles(&list(&app, "?search=dynamo%2Caxum", None).await),
        ["Rust for the Web"]
    );
    assert_eq!(
        titles(&list(&app, "?search=typo", None).await),
        ["Web Design"]
    );
    // AND every word must match
    assert_eq!(
        titles(&list(&app, "?search=web+layouts", None).await),
        ["Web Design"]
    );
    // AND a word inside another word, or a word in no course, matches nothing
    for miss in ["eb", "python", "rust+python"] {
        let body = list(&app, &format!("?search={miss}"), None).await;
        assert_eq!(body["data"], json!([]), "{miss}");
        assert_eq!(body["pagination"]["totalCount"], 0, "{miss}");
    }
    // AND search combines with the other filters
    assert_eq!(
        titles(&list(&app, "?search=web&category=design", None).await),
        ["Web Design"]
    );
}

#[tokio::test]
async fn each_sort_order_lists_as_documented() {
    // GIVEN three courses with different titles, ratings and enrollments
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let banana = published(&app, &teacher, "banana bread", "", "other", "beginner").await;
    let apple = published(&app, &teacher, "Apple Pie", "", "other", "beginner").await;
    let cherry = published(&app, &teacher, "cherry tart", "", "other", "beginner").await;
    set_counters(&app, &banana, 7, 2, 8).await; // 4.0 from 2 ratings
    set_counters(&app, &apple, 3, 4, 16).await; // 4.0 from 4 ratings
    set_counters(&app, &cherry, 7, 1, 5).await; // 5.0 from 1 rating
    // WHEN listed by each order, THEN:
    // newest first (the default)
    let newest = vec!["cherry tart", "Apple Pie", "banana bread"];
    assert_eq!(titles(&list(&app, "", None).await), newest);
    assert_eq!(titles(&list(&app, "?sort=newest", None).await), newest);
    // title, ignoring case
    assert_eq!(
        titles(&list(&app, "?sort=title", None).await),
        ["Apple Pie", "banana bread", "cherry tart"]
    );
    // rating: highest average, then more ratings
    let rated = list(&app, "?sort=rating", None).await;
    assert_eq!(titles(&rated), ["cherry tart", "Apple Pie", "banana bread"]);
    assert_eq!(rated["data"][0]["averageRating"], 5.0);
    assert_eq!(rated["data"][1]["totalRatings"], 4);
    // enrollments: most students, then newest
    let enrolled = list(&app, "?sort=enrollments", None).await;
    assert_eq!(
        titles(&enrolled),
        ["cherry tart", "banana bread", "Apple Pie"]
    );
    assert_eq!(enrolled["data"][1]["totalEnrollments"], 7);
}

#[tokio::test]
async fn pages_report_where_they_are_in_the_list() {
    // GIVEN five courses
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    many(&app, &teacher, 5).await;
    // WHEN listed two to a page, THEN each page says where it is
    let first = list(&app, "?limit=2", None).await;
    assert_eq!(titles(&first), ["Course 4", "Course 3"]);
    assert_eq!(
        first["pagination"],
        json!({"page": 1, "limit": 2, "totalCount": 5, "totalPages": 3, "hasNext": true, "hasPrev": false})
    );
    let second = list(&app, "?limit=2&page=2", None).await;
    assert_eq!(titles(&second), ["Course 2", "Course 1"]);
    assert_eq!(
        second["pagination"],
        json!({"page": 2, "limit": 2, "totalCount": 5, "totalPages": 3, "hasNext": true, "hasPrev": true})
    );
    let last = list(&app, "?limit=2&page=3", None).await;
    assert_eq!(titles(&last), ["Course 0"]);
    assert_eq!(
        last["pagination"],
        json!({"page": 3, "limit": 2, "totalCount": 5, "totalPages": 3, "hasNext": false, "hasPrev": true})
    );
    assert_eq!(last["nextCursor"], Value::Null);
    // AND a page past the end is empty but still counts the list
    let beyond = list(&app, "?limit=2&page=9", None).await;
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["pagination"]["totalCount"], 5);
    assert_eq!(beyond["pagination"]["hasNext"], false);
    assert_eq!(beyond["pagination"]["hasPrev"], true);
}

#[tokio::test]
async fn walking_every_page_by_cursor_yields_every_course_exactly_once_in_order() {
    // GIVEN seven courses
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let created = many(&app, &teacher, 7).await;
    for sort in ["newest", "title", "rating", "enrollments"] {
        // WHEN a client scrolls three at a time, following nextCursor
        let everything = ids(&list(&app, &format!("?sort={sort}&limit=100"), None).await);
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                None => format!("?sort={sort}&limit=3"),
                Some(c) => format!("?sort={sort}&limit=3&cursor={c}"),
            };
            let body = list(&app, &query, None).await;
            seen.extend(ids(&body));
            pages.push(body["pagination"].clone());
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        // THEN it sees every course once, in the list's order
        assert_eq!(seen, everything, "{sort}");
        assert_eq!(seen.len(), created.len(), "{sort}");
        // AND each page reports its number, as if paged by number
        let numbers: Vec<(u64, bool, bool)> = pages
            .iter()
            .map(|p| {
                (
                    p["page"].as_u64().unwrap(),
                    p["hasPrev"].as_bool().unwrap(),
                    p["hasNext"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            numbers,
            [(1, false, true), (2, true, true), (3, true, false)],
            "{sort}"
        );
    }
    // AND a course created while scrolling does not shift the pages that follow (keyset, not offset)
    let first = list(&app, "?limit=3", None).await;
    published(&app, &teacher, "Brand New", "", "programming", "beginner").await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = list(&app, &format!("?limit=3&cursor={cursor}"), None).await;
    assert_eq!(titles(&second), ["Course 3", "Course 2", "Course 1"]);
    assert_eq!(second["pagination"]["totalCount"], 8);
}

#[tokio::test]
async fn a_cursor_is_refused_with_another_sort_or_other_filters() {
    // GIVEN a cursor from the newest-first list
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    many(&app, &teacher, 3).await;
    let first = list(&app, "?limit=1", None).await;
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    // WHEN it is used with another sort, another filter, or tampered with, THEN 400 invalid_cursor
    for query in [
        format!("?limit=1&sort=title&cursor={cursor}"),
        format!("?limit=1&category=programming&cursor={cursor}"),
        format!("?limit=1&search=course&cursor={cursor}"),
        "?limit=1&cursor=not-a-cursor".to_owned(),
        format!("?limit=1&cursor={}x", &cursor[..cursor.len() - 1]),
    ] {
        let reply = app
            .get(&format!("/api/v1/courses{query}"), None)
            .await
            .assert(400);
        assert_eq!(reply.code(), "invalid_cursor", "{query}");
        assert!(reply.body["error"].as_str().unwrap().contains("cursor"));
    }
    // AND with the same sort and filters (another limit is fine), it continues the list
    let next = list(&app, &format!("?limit=2&sort=newest&cursor={cursor}"), None).await;
    assert_eq!(titles(&next), ["Course 1", "Course 0"]);
}

#[tokio::test]
async fn drafts_are_listed_only_for_their_instructor_and_admins() {
    // GIVEN two instructors with a draft each, one published course, a student and an admin
    let app = TestApp::spawn().await;
    let ada = app.user("a@example.org", "ada", "instructor").await;
    let bob = app.user("b@example.org", "bob", "instructor").await;
    let student = app.user("s@example.org", "student", "student").await;
    let admin = app.admin().await;
    draft(&app, &ada, "Ada's Draft", "", "science", "beginner").await;
    draft(&app, &bob, "Bob's Draft", "", "science", "beginner").await;
    published(&app, &ada, "Ada's Course", "", "science", "beginner").await;
    // WHEN anyone lists the default (published) catalog, THEN no draft appears
    for token in [
        None,
        Some(student.access.as_str()),
        Some(ada.access.as_str()),
        Some(admin.access.as_str()),
    ] {
        assert_eq!(titles(&list(&app, "", token).await), ["Ada's Course"]);
    }
    // WHEN a student or an anonymous caller asks for drafts, THEN they are refused
    let refused = app
        .get("/api/v1/courses?status=draft", Some(&student.access))
        .await
        .assert(403);
    assert_eq!(refused.code(), "forbidden");
    app.get("/api/v1/courses?status=draft", None)
        .await
        .assert(401);
    // WHEN an instructor asks for drafts, THEN they get their own only
    let own = list(&app, "?status=draft", Some(&ada.access)).await;
    assert_eq!(titles(&own), ["Ada's Draft"]);
    assert_eq!(own["data"][0]["status"], "draft");
    assert_eq!(own["pagination"]["totalCount"], 1);
    let own = list(
        &app,
        &format!("?status=draft&instructorId={}", ada.id),
        Some(&ada.access),
    )
    .await;
    assert_eq!(titles(&own), ["Ada's Draft"]);
    app.get(
        &format!("/api/v1/courses?status=draft&instructorId={}", bob.id),
        Some(&ada.access),
    )
    .await
    .assert(403);
    // AND an admin gets every draft, optionally one instructor's
    assert_eq!(
        titles(&list(&app, "?status=draft", Some(&admin.access)).await),
        ["Bob's Draft", "Ada's Draft"]
    );
    assert_eq!(
        titles(
            &list(
                &app,
                &format!("?status=draft&instructorId={}", bob.id),
                Some(&admin.access)
            )
            .await
        ),
        ["Bob's Draft"]
    );
}

/// Registers and signs in a user of the `acme` tenant.
async fn acme_user(app: &TestApp, email: &str, username: &str, role: &str) -> String {
    app.user_in("acme", email, username, role).await.access
}

#[tokio::test]
async fn another_tenants_courses_are_never_listed() {
    // GIVEN a published course in the default tenant and one in acme
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    published(&app, &teacher, "Default Course", "", "art", "beginner").await;
    let acme_teacher = Session {
        id: String::new(),
        access: acme_user(&app, "t@acme.org", "acmeteacher", "instructor").await,
        refresh: String::new(),
    };
    published(&app, &acme_teacher, "Acme Course", "", "art", "beginner").await;
    let acme_student = acme_user(&app, "s@acme.org", "acmestudent", "student").await;
    // WHEN each tenant's callers list the catalog, THEN they see their own tenant's courses only
    assert_eq!(titles(&list(&app, "", None).await), ["Default Course"]);
    assert_eq!(
        titles(&list(&app, "", Some(&teacher.access)).await),
        ["Default Course"]
    );
    let acme = list(&app, "?category=art", Some(&acme_student)).await;
    assert_eq!(titles(&acme), ["Acme Course"]);
    assert_eq!(acme["pagination"]["totalCount"], 1);
    // AND searching for the other tenant's course finds nothing
    assert_eq!(list(&app, "?search=acme", None).await["data"], json!([]));
    assert_eq!(
        list(&app, "?search=default", Some(&acme_student)).await["data"],
        json!([])
    );
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_the_field() {
    let app = TestApp::spawn().await;
    // GIVEN / WHEN an unknown category or difficulty, THEN 400 naming the allowed values
    let reply = app
        .get("/api/v1/courses?category=cooking", None)
        .await
        .assert(400);
    assert_eq!(reply.code(), "validation_failed");
    let message = reply.body["details"]["category"].as_str().unwrap();
    for allowed in ["programming", "design", "business", "music", "other"] {
        assert!(message.contains(allowed), "{message}");
    }
    let reply = app
        .get("/api/v1/courses?difficulty=expert", None)
        .await
        .assert(400);
    let message = reply.body["details"]["difficulty"].as_str().unwrap();
    for allowed in ["beginner", "intermediate", "advanced"] {
        assert!(message.contains(allowed), "{message}");
    }
    let reply = app
        .get("/api/v1/courses?sort=popular", None)
        .await
        .assert(400);
    assert!(
        reply.body["details"]["sort"]
            .as_str()
            .unwrap()
            .contains("enrollments")
    );
    let reply = app
        .get("/api/v1/courses?status=retired", None)
        .await
        .assert(400);
    let allowed = reply.body["details"]["status"].as_str().unwrap();
    assert!(
        allowed.contains("draft") && allowed.contains("archived"),
        "{allowed}"
    );
    // WHEN limit is 0 or 1000, or page is 0, THEN 400 naming it
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("instructorId=not-a-uuid", "instructorId"),
    ] {
        let reply = app
            .get(&format!("/api/v1/courses?{query}"), None)
            .await
            .assert(400);
        assert!(
            reply.body["details"][field].is_string(),
            "{query}: {}",
            reply.body
        );
    }
    // WHEN several are bad at once, THEN all are named
    let reply = app
        .get("/api/v1/courses?limit=0&page=0&instructorId=x", None)
        .await
        .assert(400);
    for field in ["limit", "page", "instructorId"] {
        assert!(
            reply.body["details"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    // WHEN the search is longer than 200 characters, THEN 400
    let reply = app
        .get(&format!("/api/v1/courses?search={}", "a".repeat(201)), None)
        .await
        .assert(400);
    assert!(
        reply.body["details"]["search"]
            .as_str()
            .unwrap()
            .contains("200")
    );
    // AND the limits themselves are fine
    list(&app, "?limit=1", None).await;
    list(&app, "?limit=100", None).await;
    list(&app, &format!("?search={}", "a".repeat(200)), None).await;
}

#[tokio::test]
async fn listing_the_catalog_costs_one_query_and_one_batch_get() {
    // GIVEN an app whose store counts calls, with courses by two instructors
    let (app, table) = TestApp::counting().await;
    let ada = app.user("a@example.org", "ada", "instructor").await;
    let bob = app.user("b@example.org", "bob", "instructor").await;
    many(&app, &ada, 3).await;
    many(&app, &bob, 3).await;
    table.take();
    // WHEN the catalog is listed, filtered, searched, sorted, or continued by cursor
    for query in [
        "",
        "?category=programming&difficulty=beginner&search=course&sort=title&limit=4",
    ] {
        let body = list(&app, query, None).await;
        // THEN it costs exactly one query and one batch get (of both instructors)
        assert_calls(&table, "GET /api/v1/courses", [0, 1, 1, 0, 0]);
        let names: std::collections::HashSet<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["instructor"]["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ada", "bob"].into_iter().collect());
        if let Some(cursor) = body["nextCursor"].as_str() {
            list(&app, &format!("{query}&cursor={cursor}"), None).await;
            assert_calls(&table, "GET /api/v1/courses", [0, 1, 1, 0, 0]);
        }
    }
    // AND an empty page needs no batch get
    list(&app, "?category=music", None).await;
    assert_calls(&table, "GET /api/v1/courses", [0, 0, 1, 0, 0]);
    // AND a cursor of another list is refused before any read
    let first = list(&app, "?limit=1", None).await;
    table.take();
    let cursor = first["nextCursor"].as_str().unwrap();
    app.get(&format!("/api/v1/courses?sort=title&cursor={cursor}"), None)
        .await
        .assert(400);
    assert_eq!(table.take().total(), 0);
}

/// Stores `n` published courses directly through the repository (the API would take minutes for
/// hundreds), alternating between two instructors and cycling through categories and
/// difficulties; the first `tagged` of them mention "quantum".
async fn stored(app: &TestApp, instructors: [&Session; 2], n: usize, tagged: usize) {
    use lectern_domain::course::{
        Course, CourseCategory, CourseDescription, CourseStatus, CourseTitle, DifficultyLevel,
        Price,
    };
    let repo = CourseRepo::new(app.state.table.clone());
    let tenant = TenantId::parse("default").unwrap();
    let categories = [
        CourseCategory::Programming,
        CourseCategory::Design,
        CourseCategory::Music,
    ];
    let levels = [
        DifficultyLevel::Beginner,
        DifficultyLevel::Intermediate,
        DifficultyLevel::Advanced,
    ];
    let now = time::OffsetDateTime::now_utc();
    for i in 0..n {
        let description = if i < tagged {
            "Quantum computing for everyone."
        } else {
            "Everything about things."
        };
        let mut course = Course::draft(
            tenant.clone(),
            lectern_domain::UserId::parse(&instructors[i % 2].id).unwrap(),
            CourseTitle::parse(&format!("Stored course {i}")).unwrap(),
            CourseDescription::parse(description).unwrap(),
            None,
            categories[i % 3],
            levels[(i / 3) % 3],
            Price::parse(0, "USD").unwrap(),
            now + time::Duration::milliseconds(i as i64),
        );
        course.status = CourseStatus::Published;
        course.published_at = Some(now);
        course.total_enrollments = (i % 7) as u32;
        course.total_ratings = (i % 4) as u32;
        course.rating_sum = u64::from(course.total_ratings) * ((i % 5) as u64 + 1).min(5);
        let instructor = Actor::new(tenant.clone(), course.instructor_id, Power::Teaching);
        repo.create(&instructor, &course).await.unwrap();
    }
}

#[tokio::test]
async fn items_read_per_catalog_page_do_not_grow_with_the_catalog() {
    // GIVEN a catalog of 10 published courses by two instructors, five of them about "quantum"
    let (app, table) = TestApp::counting().await;
    let ada = app.user("a@example.org", "ada", "instructor").await;
    let bob = app.user("b@example.org", "bob", "instructor").await;
    stored(&app, [&ada, &bob], 10, 5).await;
    let limit = 5;
    let mut queries = Vec::new();
    for sort in ["newest", "title", "rating", "enrollments"] {
        for filter in [
            String::new(),
            "&category=design".to_owned(),
            "&difficulty=advanced".to_owned(),
            format!("&instructorId={}", bob.id),
            format!(
                "&category=programming&difficulty=beginner&instructorId={}",
                ada.id
            ),
            "&search=quantum".to_owned(),
            "&search=QUANT+every&category=programming".to_owned(),
        ] {
            queries.push(format!("?limit={limit}&sort={sort}{filter}"));
        }
    }
    // The items one page reads: its first page, its second by number, and its second by cursor.
    let measure = |queries: Vec<String>| {
        let (app, table) = (&app, &table);
        async move {
            let mut reads = Vec::new();
            for query in queries {
                table.take();
                let first = list(app, &query, None).await;
                let mut read = vec![table.take().items_read];
                list(app, &format!("{query}&page=2"), None).await;
                read.push(table.take().items_read);
                if let Some(cursor) = first["nextCursor"].as_str() {
                    list(app, &format!("{query}&cursor={cursor}"), None).await;
                    read.push(table.take().items_read);
                }
                reads.push((query, read));
            }
            reads
        }
    };
    let small = measure(queries.clone()).await;
    // WHEN the catalog grows to 300 courses (the new ones never mention "quantum")
    stored(&app, [&ada, &bob], 290, 0).await;
    let large = measure(queries).await;
    // THEN every page of every order and filter reads at most its entries, its courses, the
    // list's count and its two instructors — whatever the catalog holds; page 2 by number also
    // reads the entries of page 1. A search reads the entries of its most selective word (five
    // matches), a probe of each other word, and those courses.
    for ((query, before), (_, after)) in small.iter().zip(&large) {
        let words = query
            .split("search=")
            .nth(1)
            .map(|s| s.split('&').next().unwrap_or_default().split('+').count());
        let bounds = match words {
            None => vec![2 * limit + 3, 3 * limit + 3, 2 * limit + 3],
            Some(words) => vec![2 * 5 + SEARCH_PROBE * (words - 1) + 2; 3],
        };
        for (reads, size) in [(before, 10), (after, 300)] {
            for (read, bound) in reads.iter().zip(&bounds) {
                assert!(
                    read <= bound,
                    "{query}: {read} items read with {size} courses ({reads:?}), bound {bound}"
                );
            }
        }
    }
}

#[tokio::test]
async fn enrolling_and_rating_move_a_course_in_the_catalog_orders() {
    // GIVEN two free published courses, Alpha older than Beta, and two students
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    let alpha = app.course(&teacher, json!({"title": "Alpha"}), true).await;
    let beta = app.course(&teacher, json!({"title": "Beta"}), true).await;
    let ann = app.user("ann@example.org", "ann", "student").await;
    let ben = app.user("ben@example.org", "ben", "student").await;
    let by = |sort: &'static str| {
        let app = &app;
        async move { titles(&list(app, &format!("?sort={sort}"), None).await) }
    };
    assert_eq!(
        by("enrollments").await,
        ["Beta", "Alpha"],
        "ties: newest first"
    );
    // WHEN both students enroll in Alpha and one in Beta
    for (student, course) in [(&ann, &alpha), (&ben, &alpha), (&ann, &beta)] {
        app.post(
            &format!("/api/v1/courses/{course}/enroll"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(201);
    }
    // THEN Alpha leads the enrollments order, with its count
    let enrolled = list(&app, "?sort=enrollments", None).await;
    assert_eq!(titles(&enrolled), ["Alpha", "Beta"]);
    assert_eq!(enrolled["data"][0]["totalEnrollments"], 2);
    // WHEN Ben leaves Alpha, THEN the tie puts the newest first again
    app.delete(
        &format!("/api/v1/courses/{alpha}/enroll"),
        Some(&ben.access),
    )
    .await
    .assert(204);
    assert_eq!(by("enrollments").await, ["Beta", "Alpha"]);
    // WHEN Ann rates Alpha 5 and Beta 3, THEN the rating order follows, and re-rating moves it back
    for (course, stars, status) in [(&alpha, 5, 201), (&beta, 3, 201)] {
        app.post(
            &format!("/api/v1/courses/{course}/ratings"),
            Some(&ann.access),
            json!({"rating": stars}),
        )
        .await
        .assert(status);
    }
    let rated = list(&app, "?sort=rating", None).await;
    assert_eq!(titles(&rated), ["Alpha", "Beta"]);
    assert_eq!(rated["data"][0]["averageRating"], 5.0);
    app.post(
        &format!("/api/v1/courses/{alpha}/ratings"),
        Some(&ann.access),
        json!({"rating": 1}),
    )
    .await
    .assert(200);
    assert_eq!(by("rating").await, ["Beta", "Alpha"]);
}
