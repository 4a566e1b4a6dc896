//! Registration, sign in, refresh rotation with reuse detection, sign out, check, JWKS.

use base64::Engine;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn registering_returns_201_with_the_user_and_never_the_password() {
    // GIVEN a fresh app
    let app = TestApp::spawn().await;
    // WHEN a student registers
    let reply = app
        .register("Ada@Example.org", "ada", "student")
        .await
        .assert(201);
    // THEN the seed's shape comes back
    let user = &reply.body["data"];
    assert_eq!(reply.body["message"], "User registered successfully");
    assert_eq!(user["email"], "Ada@Example.org");
    assert_eq!(user["username"], "ada");
    assert_eq!(user["role"], "student");
    assert_eq!(user["preferredStudyTime"], "morning");
    assert_eq!(user["notificationPreference"], true);
    assert_eq!(user["currentStreak"], 0);
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(user.get("password").is_none() && user.get("passwordHash").is_none());
    assert!(!reply.body.to_string().contains("argon2"));
}

#[tokio::test]
async fn registering_as_admin_is_refused_naming_the_allowed_roles() {
    let app = TestApp::spawn().await;
    let reply = app
        .register("eve@example.org", "eve", "admin")
        .await
        .assert(400);
    assert_eq!(reply.code(), "validation_failed");
    let why = reply.body["details"]["role"].as_str().unwrap();
    assert!(
        why.contains("student") && why.contains("instructor"),
        "{why}"
    );
}

#[tokio::test]
async fn registering_as_an_instructor_is_refused_and_creates_nothing() {
    // GIVEN a fresh app
    let app = TestApp::spawn().await;
    // WHEN someone registers asking for the instructor role
    let reply = app
        .register("eve@example.org", "eve", "instructor")
        .await
        .assert(403);
    // THEN it is refused with a code that says why, and no account exists
    assert_eq!(reply.code(), "role_requires_admin");
    assert!(reply.body["error"].as_str().unwrap().contains("admin"));
    app.signin("eve@example.org", PASSWORD).await.assert(401);
    // AND registering as a student (named or by default) still works, as a student
    let student = app
        .register("eve@example.org", "eve", "student")
        .await
        .assert(201);
    assert_eq!(student.body["data"]["role"], "student");
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let email = lectern_domain::user::Email::parse("eve@example.org").unwrap();
    let stored = lectern_store::users::UserRepo::new(app.state.table.clone())
        .find_by_email(&tenant, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, lectern_domain::user::UserRole::Student);
}

#[tokio::test]
async fn an_admin_makes_an_instructor_whose_next_token_carries_the_role() {
    // GIVEN a registered student and the tenant's admin
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    // WHEN the admin grants her the instructor role
    app.put(
        &format!("/api/v1/users/{}/role", ada.id),
        Some(&admin.access),
        serde_json::json!({"role": "instructor"}),
    )
    .await
    .assert(200);
    // THEN her next sign-in carries it, and she may create courses
    let tokens = app
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    assert_eq!(tokens["user"]["role"], "instructor");
    app.post(
        "/api/v1/courses",
        tokens["accessToken"].as_str(),
        serde_json::json!({"title": "A course", "description": "About things.",
                           "category": "programming", "difficultyLevel": "beginner", "price": 0}),
    )
    .await
    .assert(201);
}

#[tokio::test]
async fn every_invalid_field_is_named_at_once() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "nope", "password": "short", "firstName": " ", "lastName": "L", "username": "x"}),
        )
        .await
        .assert(400);
    let details = &reply.body["details"];
    for field in ["email", "password", "firstName", "username"] {
        assert!(details[field].is_string(), "{field} missing in {details}");
    }
    assert!(details["password"].as_str().unwrap().contains("10"));
    assert!(details.get("lastName").is_none());
}

#[tokio::test]
async fn an_email_is_registered_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    let reply = app
        .register("ADA@example.org", "ada2", "student")
        .await
        .assert(409);
    assert_eq!(reply.code(), "email_taken");
}

#[tokio::test]
async fn a_username_is_taken_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "Ada", "student")
        .await
        .assert(201);
    let reply = app
        .register("bob@example.org", "ADA", "student")
        .await
        .assert(409);
    assert_eq!(reply.code(), "username_taken");
}

#[tokio::test]
async fn of_concurrent_registrations_with_one_email_exactly_one_succeeds() {
    // GIVEN eight clients racing to register the same email
    let app = TestApp::spawn().await;
    let attempts = (0..8).map(|i| {
        let app = &app;
        async move {
            app.register("race@example.org", &format!("racer{i}"), "student")
                .await
        }
    });
    // WHEN they all run at once
    let replies = futures::future::join_all(attempts).await;
    // THEN one wins, the rest get 409 email_taken, and only one account exists
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == 409 && r.code() == "email_taken")
        .count();
    assert_eq!((created, conflicts), (1, 7));
    app.signin("race@example.org", PASSWORD).await.assert(200);
}

#[tokio::test]
async fn signing_in_returns_tokens_that_the_check_endpoint_accepts() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "instructor").await;
    let reply = app
        .get("/api/v1/auth/check", Some(&session.access))
        .await
        .assert(200);
    assert_eq!(reply.body["authenticated"], true);
    assert_eq!(reply.body["user"]["id"], session.id.as_str());
    assert_eq!(reply.body["user"]["role"], "instructor");
}

#[tokio::test]
async fn the_token_response_has_the_documented_shape() {
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    let reply = app.signin("ADA@example.org", PASSWORD).await.assert(200);
    assert_eq!(reply.body["tokenType"], "Bearer");
    assert_eq!(reply.body["expiresIn"], 900);
    assert_eq!(reply.body["user"]["email"], "ada@example.org");
    assert_eq!(
        reply.body["accessToken"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        3
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    let wrong = app
        .signin("ada@example.org", "not the password")
        .await
        .assert(401);
    let unknown = app.signin("nobody@example.org", PASSWORD).await.assert(401);
    assert_eq!(wrong.body["error"], unknown.body["error"]);
    assert_eq!(wrong.code(), unknown.code());
    assert_eq!(wrong.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn refreshing_rotates_and_a_reused_token_revokes_the_whole_session() {
    // GIVEN a signed-in user
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "student").await;
    // WHEN the refresh token is exchanged
    let first = app.refresh(&session.refresh).await.assert(200);
    let second_refresh = first.body["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, session.refresh);
    app.get("/api/v1/auth/check", first.body["accessToken"].as_str())
        .await
        .assert(200);
    // AND the old one is presented again (a stolen copy)
    let reuse = app.refresh(&session.refresh).await.assert(401);
    assert!(
        reuse.body["error"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    // THEN the newest token of that session is dead too
    app.refresh(&second_refresh).await.assert(401);
    // AND a new sign in still works
    app.signin("ada@example.org", PASSWORD).await.assert(200);
}

#[tokio::test]
async fn malformed_or_foreign_refresh_tokens_are_401() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "student").await;
    for bad in [
        "",
        "garbage",
        "a.b.c.d",
        &session.refresh.replacen("default", "nowhere", 1),
    ] {
        app.refresh(bad).await.assert(401);
    }
    // A token whose secret was altered names a real session but proves nothing, and revokes nothing.
    let mut forged = session.refresh.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    app.refresh(&forged).await.assert(401);
    app.refresh(&session.refresh).await.assert(200);
}

#[tokio::test]
async fn signing_out_revokes_the_session() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "student").await;
    let other = app
        .signin("ada@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    let reply = app
        .post(
            "/api/v1/auth/signout",
            None,
            json!({"refreshToken": session.refresh}),
        )
        .await
        .assert(204);
    assert!(reply.body.is_null());
    app.refresh(&session.refresh).await.assert(401);
    // Another sign-in (another device) is a separate session and keeps working.
    app.refresh(other["refreshToken"].as_str().unwrap())
        .await
        .assert(200);
}

#[tokio::test]
async fn check_refuses_missing_malformed_and_tampered_tokens() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "student").await;
    let reply = app.get("/api/v1/auth/check", None).await.assert(401);
    assert_eq!(reply.code(), "unauthorized");
    app.get("/api/v1/auth/check", Some("not-a-jwt"))
        .await
        .assert(401);
    // Claims changed to admin, signature kept: refused.
    let parts: Vec<&str> = session.access.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = String::from_utf8(engine.decode(parts[1]).unwrap()).unwrap();
    let forged = engine.encode(claims.replace("\"student\"", "\"admin\""));
    app.get(
        "/api/v1/auth/check",
        Some(&format!("{}.{}.{}", parts[0], forged, parts[2])),
    )
    .await
    .assert(401);
}

#[tokio::test]
async fn the_jwks_publishes_the_key_named_by_issued_tokens() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.org", "ada", "student").await;
    let jwks = app
        .get("/.well-known/jwks.json", None)
        .await
        .assert(200)
        .body;
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let header = session.access.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key["kid"]);
}

#[tokio::test]
async fn ten_failed_sign_ins_from_one_address_lock_that_email_there_until_the_window_ends() {
    // GIVEN ada, and someone guessing her password
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    app.register("bob@example.org", "bob", "student")
        .await
        .assert(201);
    for _ in 0..10 {
        app.signin("ADA@example.org", "a wrong guess!")
            .await
            .assert(401);
    }
    // WHEN even the right password is tried
    let locked = app.signin("ada@example.org", PASSWORD).await.assert(429);
    // THEN it is refused with a clean 429 and a Retry-After within the 15-minute window
    assert_eq!(locked.code(), "too_many_attempts");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // AND other accounts are not affected
    app.signin("bob@example.org", PASSWORD).await.assert(200);
}

#[tokio::test]
async fn failures_from_the_previous_window_still_count_toward_the_lock() {
    // GIVEN ten failed sign-ins from this address counted in the previous 15-minute window
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    let window = unix_now() / 900;
    for _ in 0..10 {
        let seen = signin_failures(&app, "ada@example.org", window - 1, LOOPBACK).await;
        let earlier = attempt("ada@example.org", window - 1, LOOPBACK);
        let taken = users(&app)
            .reserve_signin(
                &earlier,
                &seen,
                lectern_store::users::SigninLimits {
                    account: 100,
                    network: 10,
                },
            )
            .await
            .unwrap();
        assert!(taken.is_some());
    }
    // WHEN the right password is tried in the current window
    // THEN the email is still locked: a window's edge does not reset the count
    assert_eq!(
        app.signin("ada@example.org", PASSWORD)
            .await
            .assert(429)
            .code(),
        "too_many_attempts"
    );
}

/// The address the test client's connections come from.
const LOOPBACK: &str = "127.0.0.1";

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn users(app: &TestApp) -> lectern_store::users::UserRepo {
    lectern_store::users::UserRepo::new(app.state.table.clone())
}

fn default_tenant() -> lectern_domain::TenantId {
    lectern_domain::TenantId::parse("default").unwrap()
}

fn attempt(email: &str, window: i64, network: &str) -> lectern_store::users::SigninAttempt {
    lectern_store::users::SigninAttempt {
        tenant: default_tenant(),
        email: lectern_domain::user::Email::parse(email).unwrap(),
        network: network.into(),
        window,
        expires_at: (window + 2) * 900,
    }
}

/// The failed sign-ins stored against `email` in `window` and the one before, as sign in reads them.
async fn signin_failures(
    app: &TestApp,
    email: &str,
    window: i64,
    network: &str,
) -> lectern_store::users::SigninFailures {
    let email = lectern_domain::user::Email::parse(email).unwrap();
    users(app)
        .find_for_signin(&default_tenant(), &email, window, network)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn forty_concurrent_wrong_sign_ins_check_at_most_ten_passwords() {
    // GIVEN ada
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    // WHEN forty wrong passwords for her arrive at once from one address
    let guesses = (0..40).map(|i| {
        let app = &app;
        async move {
            app.signin("ada@example.org", &format!("wrong guess {i}"))
                .await
        }
    });
    let replies = futures::future::join_all(guesses).await;
    // THEN exactly ten are checked (401), the rest are refused unchecked (429 with Retry-After)
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let refused: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!((checked, refused.len()), (10, 30));
    for reply in refused {
        assert_eq!(reply.code(), "too_many_attempts");
        assert!(reply.headers.contains_key("retry-after"));
    }
    // AND the stored count is exactly the ten checked failures
    let stored = signin_failures(&app, "ada@example.org", unix_now() / 900, LOOPBACK).await;
    assert_eq!((stored.account_total(), stored.network_total()), (10, 10));
    // AND even her right password is refused from there, leaving the count as it is
    app.signin("ada@example.org", PASSWORD).await.assert(429);
    let stored = signin_failures(&app, "ada@example.org", unix_now() / 900, LOOPBACK).await;
    assert_eq!(stored.account_total(), 10);
}

#[tokio::test]
async fn a_stranger_guessing_from_one_address_does_not_lock_the_owner_out() {
    // GIVEN ada, and a stranger at 127.0.0.2 guessing her password twelve times
    let app = TestApp::spawn().await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);
    let stranger = TestApp::client_from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..12 {
        let reply = app
            .signin_from(&stranger, "ada@example.org", &format!("guess {i}"))
            .await;
        statuses.push(reply.status.as_u16());
    }
    // THEN the stranger's first ten are checked and the rest throttled
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[10..], [429; 2]);
    // WHEN ada signs in from her own address (127.0.0.3)
    let owner = TestApp::client_from("127.0.0.3");
    let reply = app.signin_from(&owner, "ada@example.org", PASSWORD).await;
    // THEN she is in
    reply.assert(200);
    // AND the stranger's address stays throttled, even with the right password
    let again = app
        .signin_from(&stranger, "ada@example.org", PASSWORD)
        .await
        .assert(429);
    assert_eq!(again.code(), "too_many_attempts");
    // AND what is stored: the stranger's ten failures, none from ada's address (her success gave its
    // unit back)
    let window = unix_now() / 900;
    let stranger_count = signin_failures(&app, "ada@example.org", window, "127.0.0.2").await;
    assert_eq!(
        (
            stranger_count.network_total(),
            stranger_count.account_total()
        ),
        (10, 10)
    );
    let owner_count = signin_failures(&app, "ada@example.org", window, "127.0.0.3").await;
    assert_eq!(owner_count.network_total(), 0);
}

#[tokio::test]
async fn an_access_token_typed_other_than_at_jwt_is_refused() {
    // GIVEN ada's access token, typed `at+jwt` (RFC 9068)
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = ada.access.split('.').collect();
    let header: serde_json::Value =
        serde_json::from_slice(&engine.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    // WHEN the same claims are signed with the same key as a plain JWT (an ID token, say)
    let claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    let pem = std::fs::read(app.dir.path().join("jwt.pem")).unwrap();
    let mut plain = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    plain.kid = header["kid"].as_str().map(str::to_owned);
    plain.typ = Some("JWT".into());
    let forged = jsonwebtoken::encode(
        &plain,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_pem(&pem).unwrap(),
    )
    .unwrap();
    // THEN it is refused where the original is accepted
    app.get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(200);
    let reply = app
        .get("/api/v1/auth/check", Some(&forged))
        .await
        .assert(401);
    assert_eq!(reply.code(), "unauthorized");
}

#[tokio::test]
async fn a_session_ends_thirty_days_after_sign_in_whatever_its_rotations() {
    // GIVEN a session of ada's signed in 31 days ago and refreshed two days ago
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let sessions = lectern_store::sessions::SessionRepo::new(app.state.table.clone());
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let user = lectern_domain::UserId::parse(&ada.id).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let first = sessions
        .start(&tenant, user, now - time::Duration::days(31), Vec::new())
        .await
        .unwrap();
    let (_, latest) = sessions
        .rotate(&first, now - time::Duration::days(2))
        .await
        .unwrap();
    // WHEN its newest refresh token is presented
    let reply = app.refresh(&latest.expose()).await;
    // THEN it is refused, and the session is gone
    let reply = reply.assert(401);
    assert!(
        reply.body["error"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
    let stored = sessions.sessions(&tenant, user).await.unwrap();
    assert!(stored.iter().all(|s| s.id != first.session), "{stored:?}");
    // AND the sign-in of today still refreshes, its next token ending 30 days after that sign-in
    assert_eq!(stored.len(), 1);
    let today = &stored[0];
    assert_eq!(
        today.ends_at,
        (today.signed_in_at + time::Duration::days(30)).unix_timestamp()
    );
    app.refresh(&ada.refresh).await.assert(200);
}
