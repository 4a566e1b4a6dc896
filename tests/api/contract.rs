//! The API description is a contract every test keeps: [`TestApp`] checks each response it receives
//! against `docs/openapi.json` (status listed for the operation, content type, body against its
//! schema). These tests show that the check is the committed description and that it bites.

use serde_json::Value;

use crate::helpers::TestApp;
use lectern_testkit::openapi::Contract;

/// An app whose responses are checked against the committed description changed by `doctor`.
async fn app_checked_against(doctor: impl FnOnce(&mut Value)) -> TestApp {
    let mut app = TestApp::spawn().await;
    let mut doc = app.contract.document().clone();
    doctor(&mut doc);
    app.contract = Box::leak(Box::new(Contract::new(doc).unwrap()));
    app
}

#[tokio::test]
async fn responses_are_checked_against_the_description_the_server_serves() {
    // GIVEN the app
    let app = TestApp::spawn().await;

    // WHEN its description is fetched (the fetch itself checked against the committed one)
    let served = app.get("/api/v1/openapi.json", None).await.assert(200).body;

    // THEN the contract every response is checked against is that description
    assert_eq!(&served, app.contract.document());
}

#[tokio::test]
#[should_panic(
    expected = "GET /api/v1/files/categories (categories) answered 200: the body does \
                           not match its schema"
)]
async fn a_body_that_breaks_its_schema_fails_the_test() {
    // GIVEN a description whose category list also requires a `total` the server never sends
    let app = app_checked_against(|doc| {
        doc["components"]["schemas"]["Categories"]["required"]
            .as_array_mut()
            .unwrap()
            .push("total".into());
    })
    .await;

    // WHEN the list is fetched THEN the test fails, naming the operation, the status and the field
    app.get("/api/v1/files/categories", None).await;
}

#[tokio::test]
#[should_panic(
    expected = "GET /api/v1/files/categories (categories) answered 200, a status its \
                           description does not list"
)]
async fn a_status_the_operation_does_not_list_fails_the_test() {
    // GIVEN a description of the category list without its 200
    let app = app_checked_against(|doc| {
        let responses = doc["paths"]["/api/v1/files/categories"]["get"]["responses"]
            .as_object_mut()
            .unwrap();
        responses.remove("200");
    })
    .await;

    // WHEN the list is fetched THEN the test fails
    app.get("/api/v1/files/categories", None).await;
}

#[tokio::test]
#[should_panic(
    expected = "GET /api/v1/nowhere (no operation) answered 404: the body does not \
                           match its schema"
)]
async fn an_error_outside_every_operation_is_checked_for_the_error_shape() {
    // GIVEN a description whose error shape also requires a `hint`
    let app = app_checked_against(|doc| {
        doc["components"]["schemas"]["ErrorBody"]["required"]
            .as_array_mut()
            .unwrap()
            .push("hint".into());
    })
    .await;

    // WHEN an unknown path is fetched THEN its 404 is checked against the error shape, and fails
    app.get("/api/v1/nowhere", None).await;
}

#[tokio::test]
async fn a_bad_token_on_a_route_open_to_anonymous_callers_is_a_documented_401() {
    // GIVEN a published course and routes anonymous callers may use, which refuse a token that was
    // sent but proves nothing
    let app = TestApp::spawn().await;
    let teacher = app.user("t@lectern.test", "teacher", "instructor").await;
    let course = app.course(&teacher, serde_json::json!({}), true).await;
    let bogus = Some("not-a-token");

    // WHEN each is called with it THEN each answers 401 `unauthorized`, a status its description
    // lists (the client checks every response against the description)
    for reply in [
        app.get(&format!("/api/v1/courses/{course}"), bogus).await,
        app.get(&format!("/api/v1/courses/{course}/ratings"), bogus)
            .await,
        app.post(
            "/api/v1/profile/check-username",
            bogus,
            serde_json::json!({"username": "someone"}),
        )
        .await,
    ] {
        assert_eq!(reply.assert(401).code(), "unauthorized");
    }
    // AND without a token they stay open
    app.get(&format!("/api/v1/courses/{course}"), None)
        .await
        .assert(200);
}
