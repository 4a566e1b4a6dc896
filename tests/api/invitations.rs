//! Invitations: a tenant's admin invites an email address to register as a student or an instructor;
//! the token is shown once, stored hashed, works once and expires; a tenant with the `invite` policy
//! admits invited people only. Contract: issue 22 item 14.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, Session, TestApp};

async fn invite(app: &TestApp, admin: &Session, email: &str, role: &str) -> Reply {
    app.post(
        "/api/v1/invitations",
        Some(&admin.access),
        json!({"email": email, "role": role}),
    )
    .await
}

/// Registers in `tenant`, with an invitation token if given.
async fn register_in(
    app: &TestApp,
    tenant: &str,
    email: &str,
    username: &str,
    token: Option<&str>,
) -> Reply {
    let mut body = json!({
        "email": email, "password": PASSWORD, "firstName": "Ivy", "lastName": "Invited",
        "username": username,
    });
    if let Some(token) = token {
        body["invitationToken"] = json!(token);
    }
    app.call_with(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(body),
        &[("x-tenant-id", tenant)],
    )
    .await
}

async fn pending_ids(app: &TestApp, admin: &Session) -> Vec<String> {
    app.get("/api/v1/invitations", Some(&admin.access))
        .await
        .assert(200)
        .body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn token_of(created: &Value) -> String {
    created["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_invited_instructor_registers_with_the_token_once() {
    // GIVEN an admin's invitation of ivy as an instructor
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = invite(&app, &admin, "Ivy@X.org", "instructor")
        .await
        .assert(201)
        .body;
    let token = token_of(&created);
    let id = created["invitation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["invitation"]["role"], "instructor");
    assert_eq!(pending_ids(&app, &admin).await, vec![id.clone()]);
    // AND the store keeps the token's hash, not the token
    let stored = app
        .state
        .table
        .get(&lectern_store::keys::invitation(
            &lectern_domain::TenantId::parse("default").unwrap(),
            lectern_domain::InvitationId::parse(&id).unwrap(),
        ))
        .await
        .unwrap()
        .unwrap();
    let secret = token.split_once('.').unwrap().1;
    assert!(!format!("{stored:?}").contains(secret));

    // WHEN ivy registers with it
    let registered = register_in(&app, "default", "ivy@x.org", "ivy", Some(&token))
        .await
        .assert(201)
        .body;

    // THEN she is an instructor, and the invitation is used up
    assert_eq!(registered["data"]["role"], "instructor");
    let signed_in = app.signin("ivy@x.org", PASSWORD).await.assert(200).body;
    assert_eq!(signed_in["user"]["role"], "instructor");
    assert!(pending_ids(&app, &admin).await.is_empty());
    let again = register_in(&app, "default", "ivy@x.org", "ivy2", Some(&token))
        .await
        .assert(403);
    assert_eq!(again.code(), "invitation_invalid");
    // AND without an invitation, asking for the instructor role is still refused
    let refused = app
        .register("joe@x.org", "joe", "instructor")
        .await
        .assert(403);
    assert_eq!(refused.code(), "role_requires_admin");
}

#[tokio::test]
async fn an_invite_only_tenant_admits_only_a_valid_invitation_for_the_address() {
    // GIVEN acme, whose policy is invite, and its admin's invitation of ann as a student
    let app = TestApp::spawn_configured(|config| {
        config.tenants = config
            .tenants
            .clone()
            .with_registration(
                lectern_domain::TenantId::parse("acme").unwrap(),
                lectern_domain::user::RegistrationPolicy::parse("invite").unwrap(),
            )
            .unwrap();
    })
    .await;
    let admin = app.admin_in("acme", "boss@acme.org", "boss").await;
    let token = token_of(
        &invite(&app, &admin, "ann@acme.org", "student")
            .await
            .assert(201)
            .body,
    );

    // WHEN someone registers without one THEN 403 invitation_required
    let refused = register_in(&app, "acme", "eve@acme.org", "eve", None)
        .await
        .assert(403);
    assert_eq!(refused.code(), "invitation_required");
    // AND another address with ann's token, or a forged token, is refused alike
    for (email, token) in [
        ("eve@acme.org", token.clone()),
        ("ann@acme.org", format!("{}x", token)),
        ("ann@acme.org", "garbage".to_owned()),
    ] {
        let refused = register_in(&app, "acme", email, "eve", Some(&token))
            .await
            .assert(403);
        assert_eq!(refused.code(), "invitation_invalid", "{email} {token}");
    }
    // AND ann's token in another tenant finds nothing
    let refused = register_in(&app, "default", "ann@acme.org", "ann", Some(&token))
        .await
        .assert(403);
    assert_eq!(refused.code(), "invitation_invalid");
    // WHEN ann registers with it THEN she is a student of acme
    let ann = register_in(&app, "acme", "ann@acme.org", "ann", Some(&token))
        .await
        .assert(201)
        .body;
    assert_eq!(ann["data"]["role"], "student");
    // AND the default tenant stays open
    register_in(&app, "default", "eve@x.org", "eve", None)
        .await
        .assert(201);
}

#[tokio::test]
async fn a_revoked_or_expired_invitation_admits_no_one() {
    // GIVEN two invitations, one of which expired
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let revoked = invite(&app, &admin, "rev@x.org", "student")
        .await
        .assert(201)
        .body;
    let token = lectern_auth::invitation::InvitationToken::issue();
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(8);
    lectern_store::invitations::InvitationRepo::new(app.state.table.clone())
        .create(&lectern_domain::invitation::Invitation {
            id: token.id,
            tenant,
            email: lectern_domain::user::Email::parse("old@x.org").unwrap(),
            role: lectern_domain::invitation::InvitedRole::Student,
            secret_hash: token.secret_hash(),
            invited_by: lectern_domain::UserId::parse(&admin.id).unwrap(),
            created_at: long_ago,
            expires_at: long_ago + lectern_domain::invitation::INVITATION_LIFETIME,
        })
        .await
        .unwrap();
    let id = revoked["invitation"]["id"].as_str().unwrap();
    assert_eq!(pending_ids(&app, &admin).await, vec![id.to_owned()]);

    // WHEN the admin revokes the other
    app.delete(&format!("/api/v1/invitations/{id}"), Some(&admin.access))
        .await
        .assert(204);

    // THEN neither admits its address, and none is pending
    for (email, token) in [
        ("rev@x.org", token_of(&revoked)),
        ("old@x.org", token.expose()),
    ] {
        let refused = register_in(&app, "default", email, "someone", Some(&token))
            .await
            .assert(403);
        assert_eq!(refused.code(), "invitation_invalid");
    }
    assert!(pending_ids(&app, &admin).await.is_empty());
    app.delete(&format!("/api/v1/invitations/{id}"), Some(&admin.access))
        .await
        .assert(404);
}

#[tokio::test]
async fn only_the_tenants_admins_manage_its_invitations() {
    // GIVEN an invitation of the default tenant, its student and instructor, and acme's admin
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let student = app.user("stu@x.org", "stu", "student").await;
    let teacher = app.user("tea@x.org", "tea", "instructor").await;
    let other = app.admin_in("acme", "boss@acme.org", "boss").await;
    let created = invite(&app, &admin, "ivy@x.org", "instructor")
        .await
        .assert(201)
        .body;
    let id = created["invitation"]["id"].as_str().unwrap().to_owned();

    // WHEN non-admins try THEN 403, and nothing is made
    for who in [&student, &teacher] {
        invite(&app, who, "pal@x.org", "instructor")
            .await
            .assert(403);
        app.get("/api/v1/invitations", Some(&who.access))
            .await
            .assert(403);
        app.delete(&format!("/api/v1/invitations/{id}"), Some(&who.access))
            .await
            .assert(403);
    }
    app.post(
        "/api/v1/invitations",
        None,
        json!({"email": "pal@x.org", "role": "student"}),
    )
    .await
    .assert(401);
    // AND another tenant's admin neither sees nor revokes it
    assert!(pending_ids(&app, &other).await.is_empty());
    app.delete(&format!("/api/v1/invitations/{id}"), Some(&other.access))
        .await
        .assert(404);
    assert_eq!(pending_ids(&app, &admin).await, vec![id]);
    // AND an invitation cannot make an admin
    let refused = invite(&app, &admin, "pal@x.org", "admin").await.assert(400);
    assert!(
        refused.body.to_string().contains("role"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn invitations_stay_within_their_store_round_trips() {
    // GIVEN a counting store and an admin
    let (app, table) = TestApp::counting().await;
    let admin = app.admin().await;
    table.take();

    // WHEN each endpoint is called once, THEN it makes exactly these calls
    let created = invite(&app, &admin, "ivy@x.org", "instructor")
        .await
        .assert(201)
        .body;
    // The invitation, put.
    crate::helpers::assert_calls(&table, "POST /api/v1/invitations", [0, 0, 0, 1, 0]);
    pending_ids(&app, &admin).await;
    // One page of the tenant's invitation partition.
    crate::helpers::assert_calls(&table, "GET /api/v1/invitations", [0, 0, 1, 0, 0]);
    register_in(
        &app,
        "default",
        "ivy@x.org",
        "ivy",
        Some(&token_of(&created)),
    )
    .await
    .assert(201);
    // The invitation read, then the claims, the user and the invitation's deletion in one
    // transaction.
    crate::helpers::assert_calls(&table, "POST /api/v1/auth/register", [1, 0, 0, 0, 1]);
    let other = invite(&app, &admin, "pal@x.org", "student")
        .await
        .assert(201)
        .body;
    table.take();
    app.delete(
        &format!(
            "/api/v1/invitations/{}",
            other["invitation"]["id"].as_str().unwrap()
        ),
        Some(&admin.access),
    )
    .await
    .assert(204);
    // The invitation, deleted if it exists.
    crate::helpers::assert_calls(
        &table,
        "DELETE /api/v1/invitations/{invitationId}",
        [0, 0, 0, 1, 0],
    );
}
