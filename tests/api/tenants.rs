//! Tenant isolation: the tenant travels in the token, and keys are tenant-prefixed.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn one_email_registers_separately_in_each_tenant_and_tenants_never_see_each_other() {
    // GIVEN ada in the default tenant and another ada in acme
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let acme = app
        .call_with(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ada@example.org", "password": PASSWORD, "firstName": "A", "lastName": "B", "username": "ada"})),
            &[("x-tenant-id", "acme")],
        )
        .await
        .assert(201);
    let acme_id = acme.body["data"]["id"].as_str().unwrap().to_owned();
    assert_ne!(acme_id, ada.id);
    // THEN the default tenant's admin cannot see the acme user
    app.get(
        &format!("/api/v1/users/{acme_id}/profile"),
        Some(&admin.access),
    )
    .await
    .assert(404);
    app.post(
        &format!("/api/v1/users/{acme_id}/suspend"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(404);
    let list = app
        .get("/api/v1/users?limit=100", Some(&admin.access))
        .await
        .body;
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["id"] != acme_id.as_str())
    );
    // AND signing in without the header reaches the default tenant's ada, with it acme's
    let default_signin = app.signin("ada@example.org", PASSWORD).await.assert(200);
    assert_eq!(default_signin.body["user"]["id"], ada.id.as_str());
    let acme_signin = app
        .call_with(
            reqwest::Method::POST,
            "/api/v1/auth/signin",
            None,
            Some(json!({"email": "ada@example.org", "password": PASSWORD})),
            &[("x-tenant-id", "acme")],
        )
        .await
        .assert(200);
    assert_eq!(acme_signin.body["user"]["id"], acme_id.as_str());
}

#[tokio::test]
async fn an_unknown_tenant_is_refused() {
    let app = TestApp::spawn().await;
    let reply = app
        .call_with(
            reqwest::Method::POST,
            "/api/v1/auth/signin",
            None,
            Some(json!({"email": "ada@example.org", "password": PASSWORD})),
            &[("x-tenant-id", "nowhere")],
        )
        .await
        .assert(400);
    assert_eq!(reply.code(), "unknown_tenant");
}

#[tokio::test]
async fn a_tenant_restricted_to_its_domains_refuses_other_addresses() {
    // GIVEN acme admitting registrations from acme.org only, and the default tenant open
    let app = TestApp::spawn_configured(|config| {
        config.tenants = config
            .tenants
            .clone()
            .with_registration(
                lectern_domain::TenantId::parse("acme").unwrap(),
                lectern_domain::user::RegistrationPolicy::parse("domains:acme.org").unwrap(),
            )
            .unwrap();
    })
    .await;
    let register =
        |email: &'static str, tenant: &'static str| {
            let app = &app;
            async move {
                app.call_with(
                reqwest::Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD, "firstName": "A", "lastName": "B",
                            "username": email.split('@').next().unwrap()})),
                &[("x-tenant-id", tenant)],
            )
            .await
            }
        };
    // WHEN an outsider registers in acme
    let refused = register("eve@gmail.com", "acme").await.assert(403);
    // THEN it is refused with its code, and no account exists there
    assert_eq!(refused.code(), "email_domain_not_allowed");
    let signin = app
        .call_with(
            reqwest::Method::POST,
            "/api/v1/auth/signin",
            None,
            Some(json!({"email": "eve@gmail.com", "password": PASSWORD})),
            &[("x-tenant-id", "acme")],
        )
        .await;
    signin.assert(401);
    // AND acme's own addresses register there, and the open tenant takes anyone
    register("ada@acme.org", "acme").await.assert(201);
    register("eve@gmail.com", "default").await.assert(201);
}
