//! What browsers and SDKs expect of the HTTP layer: CORS (preflight answered for the configured
//! origins only), `Link` headers on paged lists beside the body's pagination, and compressed responses
//! when the client asks for them.

use std::io::Read;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};

/// One of the local server's default origins (a dev server on the same laptop).
const LOCAL_ORIGIN: &str = "http://localhost:3000";

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `Link` header as (rel, target) pairs.
fn links(reply: &Reply) -> Vec<(String, String)> {
    header(reply, "link")
        .unwrap_or_else(|| panic!("no Link header; body: {}", reply.body))
        .split(", ")
        .map(|link| {
            let (target, rel) = link.split_once(">; rel=\"").unwrap();
            (
                rel.trim_end_matches('"').to_owned(),
                target.trim_start_matches('<').to_owned(),
            )
        })
        .collect()
}

fn link(reply: &Reply, rel: &str) -> Option<String> {
    links(reply)
        .into_iter()
        .find(|(r, _)| r == rel)
        .map(|(_, target)| target)
}

/// A browser's preflight of a PUT with a bearer token and `If-Match` from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> Reply {
    app.call_with(
        Method::OPTIONS,
        "/api/v1/profile",
        None,
        None,
        &[
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization,content-type,if-match",
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn a_preflight_from_a_configured_origin_is_answered_and_one_from_elsewhere_is_not() {
    // Arrange
    let app = TestApp::spawn().await;
    // Act
    let allowed = preflight(&app, LOCAL_ORIGIN).await;
    let refused = preflight(&app, "https://evil.example").await;

    // Assert: the local origin may PUT with a bearer token and If-Match; no credentials mode
    assert!(allowed.status.is_success(), "{}", allowed.status);
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some(LOCAL_ORIGIN)
    );
    let methods = header(&allowed, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("PUT"), "{methods}");
    let headers = header(&allowed, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for wanted in ["authorization", "content-type", "if-match"] {
        assert!(headers.contains(wanted), "{headers}");
    }
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None);
    assert!(header(&allowed, "access-control-max-age").is_some());
    // AND another origin gets no permission
    assert_eq!(header(&refused, "access-control-allow-origin"), None);

    // Act: an actual request from the allowed origin
    let me = app.user("p@example.org", "pat", "student").await;
    let reply = app
        .call_with(
            Method::GET,
            &format!("/api/v1/users/{}/profile", me.id),
            Some(&me.access),
            None,
            &[("origin", LOCAL_ORIGIN)],
        )
        .await
        .assert(200);

    // Assert: the page may read the headers clients need
    assert_eq!(
        header(&reply, "access-control-allow-origin"),
        Some(LOCAL_ORIGIN)
    );
    let exposed = header(&reply, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for wanted in ["etag", "link", "x-request-id", "retry-after"] {
        assert!(exposed.contains(wanted), "{exposed}");
    }
    assert_eq!(reply.body["id"], json!(me.id));
}

#[tokio::test]
async fn a_cursor_list_links_its_first_and_next_pages_beside_next_cursor() {
    // Arrange: an admin and three more users: four pages of one
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for n in 0..3 {
        app.user(&format!("u{n}@example.org"), &format!("user{n}"), "student")
            .await;
    }

    // Act
    let first = app
        .get("/api/v1/users?limit=1&role=student", Some(&admin.access))
        .await
        .assert(200);

    // Assert: next carries the body's cursor and keeps the other parameters; first drops the cursor
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let next = link(&first, "next").unwrap();
    let parsed = reqwest::Url::parse(&format!("http://lectern.test{next}")).unwrap();
    assert_eq!(parsed.path(), "/api/v1/users");
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("limit".to_owned(), "1".to_owned()),
            ("role".to_owned(), "student".to_owned()),
            ("cursor".to_owned(), cursor.to_owned())
        ]
    );
    assert_eq!(
        link(&first, "first").as_deref(),
        Some("/api/v1/users?limit=1&role=student")
    );
    // (a cursor only goes forward: no prev or last)
    assert_eq!(link(&first, "prev"), None);

    // Act: follow the links to the end
    let mut seen = vec![first.body["data"][0]["id"].clone()];
    let mut target = Some(next);
    let mut pages = 1;
    while let Some(path) = target {
        let page = app.get(&path, Some(&admin.access)).await.assert(200);
        seen.extend(
            page.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].clone()),
        );
        target = link(&page, "next");
        assert_eq!(target.is_some(), page.body["nextCursor"].is_string());
        pages += 1;
        assert!(pages <= 4, "the links loop");
    }

    // Assert: every student once
    seen.sort_by_key(Value::to_string);
    seen.dedup();
    assert_eq!(seen.len(), 3);
}

#[tokio::test]
async fn the_catalog_links_next_prev_first_and_last_pages_by_number() {
    // Arrange: five published courses, two per page
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    for n in 0..5 {
        app.course(&teacher, json!({"title": format!("Course {n}")}), true)
            .await;
    }

    // Act
    let middle = app
        .get("/api/v1/courses?limit=2&page=2&sort=title", None)
        .await
        .assert(200);
    let last = app
        .get("/api/v1/courses?limit=2&page=3&sort=title", None)
        .await
        .assert(200);

    // Assert: the body says page 2 of 3, and so do the links
    assert_eq!(middle.body["pagination"]["totalPages"], 3);
    assert_eq!(
        link(&middle, "next").as_deref(),
        Some("/api/v1/courses?limit=2&sort=title&page=3")
    );
    assert_eq!(
        link(&middle, "prev").as_deref(),
        Some("/api/v1/courses?limit=2&sort=title&page=1")
    );
    assert_eq!(
        link(&middle, "first").as_deref(),
        Some("/api/v1/courses?limit=2&sort=title")
    );
    assert_eq!(
        link(&middle, "last").as_deref(),
        Some("/api/v1/courses?limit=2&sort=title&page=3")
    );
    // AND the last page links no next
    assert_eq!(link(&last, "next"), None);
    assert_eq!(
        link(&last, "prev").as_deref(),
        Some("/api/v1/courses?limit=2&sort=title&page=2")
    );
    // AND following next gives what page 3 gives
    let followed = app
        .get(&link(&middle, "next").unwrap(), None)
        .await
        .assert(200);
    assert_eq!(followed.body["data"], last.body["data"]);
}

/// The raw body of a GET with `Accept-Encoding: encoding`, and its `Content-Encoding`.
async fn raw(app: &TestApp, path: &str, encoding: &str) -> (Option<String>, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_encoding = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    (content_encoding, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_asks_and_small_ones_are_not() {
    // Arrange: a catalog page of several kilobytes
    let app = TestApp::spawn().await;
    let teacher = app.user("t@example.org", "teacher", "instructor").await;
    for n in 0..20 {
        app.course(
            &teacher,
            json!({"title": format!("Course {n}"), "description": "A long description. ".repeat(10)}),
            true,
        )
        .await;
    }
    let path = "/api/v1/courses?limit=20";
    let (none, plain) = raw(&app, path, "identity").await;
    assert_eq!(none, None);
    let expected: Value = serde_json::from_slice(&plain).unwrap();
    assert!(plain.len() > 4096, "{}", plain.len());

    // Act
    let (gzip, gzipped) = raw(&app, path, "gzip").await;
    let (br, brotli_body) = raw(&app, path, "br").await;

    // Assert: each is encoded as asked, smaller, and decodes to the same JSON
    assert_eq!(gzip.as_deref(), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), expected);
    assert!(gzipped.len() < plain.len() / 2);

    assert_eq!(br.as_deref(), Some("br"));
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&brotli_body[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), expected);
    assert!(brotli_body.len() < plain.len() / 2);

    // Act + Assert: a small answer is sent as it is
    let (small, body) = raw(&app, "/.well-known/jwks.json", "gzip, br").await;
    assert_eq!(small, None);
    assert!(serde_json::from_slice::<Value>(&body).unwrap()["keys"].is_array());
}
