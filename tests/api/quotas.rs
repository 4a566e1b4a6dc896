//! Storage quotas: a user's and a tenant's confirmed files are limited in bytes, checked when an upload
//! is asked for and again, atomically, when it is confirmed; deleting a file gives its bytes back.
//! Contract: issue 22 item 18 ("Uploads have no quota").

use serde_json::{Value, json};

use crate::files::{ask, upload, uploaded};
use crate::helpers::{Session, TestApp};

/// An app whose users may keep `per_user` bytes each and whose default tenant `per_tenant` in all.
async fn app_with_quotas(per_user: u64, per_tenant: u64) -> TestApp {
    TestApp::spawn_with_files_configured(|config| {
        config.storage_quotas = lectern_domain::file::StorageQuotas {
            per_user,
            per_tenant,
        };
    })
    .await
}

fn avatar(size: usize) -> Value {
    json!({"fileName": "me.png", "contentType": "image/png", "size": size, "purpose": "avatar"})
}

async fn usage(app: &TestApp, who: &Session) -> Value {
    app.get("/api/v1/files/usage", Some(&who.access))
        .await
        .assert(200)
        .body
}

async fn confirm(app: &TestApp, who: &Session, id: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/files/{id}/confirm"),
        Some(&who.access),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn an_upload_over_the_users_quota_is_refused_naming_used_and_limit() {
    // GIVEN a user with 60 of their 100 bytes used
    let app = app_with_quotas(100, 10_000).await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    uploaded(&app, &ann, avatar(60), &[1; 60]).await;

    // WHEN they ask to upload 50 more
    let refused = ask(&app, &ann, avatar(50)).await.assert(413);

    // THEN the request is refused, naming what is used and the limit
    assert_eq!(refused.code(), "storage_quota_exceeded");
    let message = refused.body["error"].as_str().unwrap();
    assert!(
        message.contains("60") && message.contains("100"),
        "{message}"
    );
    // AND nothing was recorded: their usage is unchanged, and 40 bytes still fit
    assert_eq!(
        usage(&app, &ann).await["user"],
        json!({"used": 60, "limit": 100})
    );
    uploaded(&app, &ann, avatar(40), &[2; 40]).await;
    assert_eq!(
        usage(&app, &ann).await["user"],
        json!({"used": 100, "limit": 100})
    );
}

#[tokio::test]
async fn a_confirm_is_refused_when_a_concurrent_upload_took_the_space() {
    // GIVEN two uploads of 60 bytes asked for while nothing was used (each fits on its own), both
    // uploaded
    let app = app_with_quotas(100, 10_000).await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let first = ask(&app, &ann, avatar(60)).await.assert(201).body;
    let second = ask(&app, &ann, avatar(60)).await.assert(201).body;
    assert_eq!(upload(&app, &first, &[1; 60]).await, 200);
    assert_eq!(upload(&app, &second, &[2; 60]).await, 200);
    let (first, second) = (
        first["fileId"].as_str().unwrap().to_owned(),
        second["fileId"].as_str().unwrap().to_owned(),
    );
    confirm(&app, &ann, &first).await.assert(200);

    // WHEN the second is confirmed
    let refused = confirm(&app, &ann, &second).await.assert(413);

    // THEN it is refused with the quota's figures, and stays pending
    assert_eq!(refused.code(), "storage_quota_exceeded");
    assert!(
        refused.body["error"].as_str().unwrap().contains("100"),
        "{}",
        refused.body
    );
    let pending = app
        .get(&format!("/api/v1/files/{second}"), Some(&ann.access))
        .await
        .assert(200)
        .body;
    assert_eq!(pending["status"], "pending");
    // AND confirming the first again is answered as before, counted once
    let again = confirm(&app, &ann, &first).await.assert(200).body;
    assert_eq!(again["status"], "active");
    assert_eq!(
        usage(&app, &ann).await["user"],
        json!({"used": 60, "limit": 100})
    );
}

#[tokio::test]
async fn deleting_a_file_gives_its_bytes_back() {
    // GIVEN a user whose quota is nearly full
    let app = app_with_quotas(100, 10_000).await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let file = uploaded(&app, &ann, avatar(90), &[1; 90]).await;
    ask(&app, &ann, avatar(20)).await.assert(413);

    // WHEN they delete the file
    app.delete(&format!("/api/v1/files/{file}"), Some(&ann.access))
        .await
        .assert(204);

    // THEN its bytes are free again, and another file fits
    assert_eq!(
        usage(&app, &ann).await["user"],
        json!({"used": 0, "limit": 100})
    );
    uploaded(&app, &ann, avatar(95), &[2; 95]).await;
    assert_eq!(usage(&app, &ann).await["user"]["used"], 95);
    // AND deleting a pending upload gives nothing back that was never counted
    let pending = ask(&app, &ann, avatar(5)).await.assert(201).body;
    app.delete(
        &format!("/api/v1/files/{}", pending["fileId"].as_str().unwrap()),
        Some(&ann.access),
    )
    .await
    .assert(204);
    assert_eq!(usage(&app, &ann).await["user"]["used"], 95);
}

#[tokio::test]
async fn two_users_quotas_are_independent() {
    // GIVEN ann, whose quota is full
    let app = app_with_quotas(100, 10_000).await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let bob = app.user("bob@x.org", "bob", "student").await;
    uploaded(&app, &ann, avatar(100), &[1; 100]).await;
    ask(&app, &ann, avatar(1)).await.assert(413);

    // WHEN bob uploads
    uploaded(&app, &bob, avatar(80), &[2; 80]).await;

    // THEN bob's bytes count against his quota only
    assert_eq!(
        usage(&app, &bob).await["user"],
        json!({"used": 80, "limit": 100})
    );
    assert_eq!(
        usage(&app, &ann).await["user"],
        json!({"used": 100, "limit": 100})
    );
}

#[tokio::test]
async fn the_tenants_quota_holds_across_its_users_and_only_admins_see_it() {
    // GIVEN a tenant of 150 bytes in which ann keeps 100
    let app = app_with_quotas(100, 150).await;
    let ann = app.user("ann@x.org", "ann", "student").await;
    let bob = app.user("bob@x.org", "bob", "student").await;
    let admin = app.admin().await;
    uploaded(&app, &ann, avatar(100), &[1; 100]).await;

    // WHEN bob, whose own quota is empty, asks for 60 bytes
    let refused = ask(&app, &bob, avatar(60)).await.assert(413);

    // THEN the tenant's quota refuses it, naming the tenant's figures
    assert_eq!(refused.code(), "storage_quota_exceeded");
    let message = refused.body["error"].as_str().unwrap();
    assert!(
        message.contains("organisation") && message.contains("150"),
        "{message}"
    );
    // AND 50 bytes still fit
    uploaded(&app, &bob, avatar(50), &[2; 50]).await;
    // AND the tenant's figures are an admin's to see, not a student's
    let seen = usage(&app, &admin).await;
    assert_eq!(seen["tenant"], json!({"used": 150, "limit": 150}));
    assert_eq!(seen["user"], json!({"used": 0, "limit": 100}));
    assert!(usage(&app, &bob).await.get("tenant").is_none());
    // AND another tenant's quota is its own
    let other = app.user_in("acme", "cy@acme.org", "cyd", "student").await;
    uploaded(&app, &other, avatar(100), &[3; 100]).await;
}
