//! The HTTP edge: one error shape, request ids, body limits, precise 400s, JSON 404/405.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_unknown_route_is_a_json_404_whose_request_id_matches_the_header() {
    let app = TestApp::spawn().await;
    let reply = app.get("/api/v1/nowhere", None).await.assert(404);
    assert_eq!(reply.code(), "not_found");
    let header = reply.headers["x-request-id"].to_str().unwrap();
    assert_eq!(reply.body["requestId"], header);
    assert!(!header.is_empty());
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = TestApp::spawn().await;
    let reply = app
        .call(Method::DELETE, "/api/v1/auth/signin", None, None)
        .await
        .assert(405);
    assert_eq!(reply.code(), "method_not_allowed");
    assert!(reply.body["error"].is_string());
}

#[tokio::test]
async fn malformed_json_is_a_400_that_says_so() {
    let app = TestApp::spawn().await;
    let reply = app
        .exchange(
            app.client
                .post(format!("{}/api/v1/auth/signin", app.base))
                .header("content-type", "application/json")
                .body("{\"email\": "),
        )
        .await
        .assert(400);
    assert_eq!(reply.code(), "malformed_json");
}

#[tokio::test]
async fn a_missing_field_and_a_wrong_type_are_named() {
    let app = TestApp::spawn().await;
    let missing = app
        .post("/api/v1/auth/signin", None, json!({"email": "a@b.org"}))
        .await
        .assert(400);
    assert_eq!(
        missing.body["details"]["password"],
        "missing field `password`"
    );
    let wrong = app
        .post(
            "/api/v1/auth/signin",
            None,
            json!({"email": "a@b.org", "password": 12}),
        )
        .await
        .assert(400);
    assert!(
        wrong.body["details"]["password"]
            .as_str()
            .unwrap()
            .starts_with("invalid type")
    );
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/api/v1/auth/signin",
            None,
            json!({"email": "a@b.org", "password": "x".repeat(1024 * 1024 + 1)}),
        )
        .await
        .assert(413);
    assert_eq!(reply.code(), "payload_too_large");
}

#[tokio::test]
async fn a_webhook_body_over_one_mebibyte_is_413_in_the_error_shape() {
    // GIVEN the Stripe webhook endpoint, which reads its body raw (the signature covers the bytes)
    let app = TestApp::spawn().await;

    // WHEN more than the body limit is posted to it
    let reply = app
        .exchange(
            app.client
                .post(format!("{}/api/v1/webhooks/stripe", app.base))
                .header("content-type", "application/json")
                .header("stripe-signature", "t=1,v1=00")
                .body(vec![b' '; 1024 * 1024 + 1]),
        )
        .await;

    // THEN it is the JSON 413 of every other route (checked against the description), not a
    // plain-text rejection
    assert_eq!(reply.assert(413).code(), "payload_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;
    let reply = app
        .exchange(
            app.client
                .post(format!("{}/api/v1/auth/signin", app.base))
                .header("content-type", "text/plain")
                .body("email=a"),
        )
        .await
        .assert(415);
    assert_eq!(reply.code(), "unsupported_media_type");
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json", None).await.assert(200).body;
    assert!(doc["paths"]["/api/v1/auth/register"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_interactive_documentation_and_its_assets_are_served_from_this_server() {
    // GIVEN the local server
    let app = TestApp::spawn().await;
    let fetch = |path: &'static str| {
        let request = app.client.get(format!("{}{path}", app.base));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, kind, response.text().await.unwrap())
        }
    };

    // WHEN the documentation page is opened
    let (status, kind, page) = fetch("/docs/").await;

    // THEN it is Swagger UI's page, whose scripts and styles are this server's own
    assert_eq!(status, 200, "{page}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("https://"),
        "nothing is loaded from elsewhere: {page}"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui-standalone-preset.js",
    ] {
        let (status, _, body) = fetch(asset).await;
        assert_eq!(status, 200, "{asset}");
        assert!(body.len() > 1000, "{asset} is {} bytes", body.len());
    }
    // AND it loads this server's description, keeping the bearer token the user enters
    let (status, _, init) = fetch("/docs/swagger-initializer.js").await;
    assert_eq!(status, 200);
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    let compact: String = init.split_whitespace().collect();
    assert!(compact.contains("\"persistAuthorization\":true"), "{init}");
    let description = app.get("/api/v1/openapi.json", None).await.assert(200);
    assert!(description.body["components"]["securitySchemes"]["bearer"].is_object());
}
