//! Rate limits (OWASP API4): per client network on anonymous requests, per user on writes, per
//! tenant overall, with the IETF `RateLimit-Policy` / `RateLimit` fields and 429 `rate_limited` with
//! `Retry-After`; the password hashers' bounded pool; and registrations that meet a taken email,
//! bounded per client network. Each test sets tight limits; the defaults never trip the suite.

use std::time::Duration;

use lectern_auth::password::HashPoolSize;
use lectern_domain::TenantId;
use lectern_domain::user::Email;
use lectern_store::limits::{RateLimitRepo, RateWindow};
use lectern_store::users::UserRepo;
use lectern_web::limits::Rate;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, Reply, TestApp};

/// A window no test straddles the end of (windows start at multiples of their length).
const DAY: i64 = 86_400;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The `RateLimit` field's `r` and `t`, and the `RateLimit-Policy` field, of a reply.
fn fields(reply: &Reply) -> (i64, i64, String) {
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} field; body: {}", reply.body))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let state = header("ratelimit");
    let param = |name: &str| {
        state
            .split(';')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {state}"))
            .parse::<i64>()
            .unwrap()
    };
    (param("r"), param("t"), header("ratelimit-policy"))
}

fn retry_after(reply: &Reply) -> i64 {
    reply
        .headers
        .get("retry-after")
        .expect("a Retry-After field")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn window(policy: &'static str, subject: String, length: i64) -> RateWindow {
    RateWindow::at(
        TenantId::parse("default").unwrap(),
        policy,
        subject,
        now(),
        length,
    )
}

fn network(ip: &str) -> String {
    RateWindow::subject_of_network(ip)
}

async fn count(app: &TestApp, window: &RateWindow) -> i64 {
    RateLimitRepo::new(app.state.table.clone())
        .count(window)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_over_the_anonymous_limit_from_one_address_gets_429_while_another_address_is_served()
 {
    // GIVEN anonymous requests limited to 3 a day per client network
    let app = TestApp::spawn_configured(|c| c.limits.anonymous = Rate::new(3, DAY)).await;
    for _ in 0..3 {
        app.get("/api/v1/courses", None).await.assert(200);
    }

    // WHEN a fourth anonymous request comes from the same address
    let refused = app.get("/api/v1/courses", None).await.assert(429);

    // THEN it is refused with the one error shape, Retry-After and the policy's fields
    assert_eq!(refused.code(), "rate_limited");
    assert!(
        refused.body["requestId"]
            .as_str()
            .is_some_and(|id| id.len() > 8)
    );
    let wait = retry_after(&refused);
    assert!((1..=DAY).contains(&wait), "{wait}");
    let (remaining, reset, policy) = fields(&refused);
    assert_eq!(policy, "\"anonymous\";q=3;w=86400");
    assert_eq!((remaining, reset), (0, wait));

    // AND another address is served, with its own quota
    let elsewhere = TestApp::client_from("127.0.0.2");
    let served = app
        .send(&elsewhere, Method::GET, "/api/v1/courses", None, None, &[])
        .await
        .assert(200);
    assert_eq!(fields(&served).0, 2);

    // AND the store counts the admitted requests only
    assert_eq!(
        count(&app, &window("anonymous", network("127.0.0.1"), DAY)).await,
        3
    );
    assert_eq!(
        count(&app, &window("anonymous", network("127.0.0.2"), DAY)).await,
        1
    );
}

#[tokio::test]
async fn the_ratelimit_fields_count_down_with_each_request() {
    // GIVEN anonymous requests limited to 5 a day
    let app = TestApp::spawn_configured(|c| c.limits.anonymous = Rate::new(5, DAY)).await;

    // WHEN five requests are made
    let mut seen = Vec::new();
    for _ in 0..5 {
        let reply = app.get("/api/v1/courses", None).await.assert(200);
        seen.push(fields(&reply));
    }

    // THEN each says one fewer remains, the same reset and the same policy
    let remaining: Vec<i64> = seen.iter().map(|(r, _, _)| *r).collect();
    assert_eq!(remaining, vec![4, 3, 2, 1, 0]);
    for (_, reset, policy) in &seen {
        assert!((1..=DAY).contains(reset), "{reset}");
        assert_eq!(policy, "\"anonymous\";q=5;w=86400");
    }
    assert!(seen.windows(2).all(|w| w[1].1 <= w[0].1));
}

#[tokio::test]
async fn a_user_over_the_write_limit_gets_429_while_their_reads_and_other_users_go_on() {
    // GIVEN writes limited to 3 a day per user, and two students
    let app = TestApp::spawn_configured(|c| c.limits.writes = Rate::new(3, DAY)).await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    let grace = app.user("grace@example.org", "grace", "student").await;

    // WHEN ada changes her name four times
    for (n, name) in ["One", "Two", "Three"].iter().enumerate() {
        let reply = app
            .put(
                "/api/v1/profile",
                Some(&ada.access),
                json!({ "firstName": name }),
            )
            .await
            .assert(200);
        let (remaining, _, policy) = fields(&reply);
        assert_eq!(policy, "\"writes\";q=3;w=86400");
        assert_eq!(remaining, 2 - n as i64);
    }
    let refused = app
        .put(
            "/api/v1/profile",
            Some(&ada.access),
            json!({ "firstName": "Four" }),
        )
        .await
        .assert(429);

    // THEN the fourth is refused and not applied; her reads go on
    assert_eq!(refused.code(), "rate_limited");
    assert!(retry_after(&refused) >= 1);
    assert_eq!(fields(&refused).0, 0);
    let me = app
        .get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(200);
    assert_eq!(me.body["user"]["firstName"], "Three");
    assert_eq!(count(&app, &window("writes", ada.id.clone(), DAY)).await, 3);

    // AND another user's writes go on
    app.put(
        "/api/v1/profile",
        Some(&grace.access),
        json!({ "firstName": "Grace" }),
    )
    .await
    .assert(200);
}

#[tokio::test]
async fn a_tenant_over_its_limit_gets_429_from_every_address_while_other_tenants_go_on() {
    // GIVEN a tenant limited to 4 requests a day
    let app = TestApp::spawn_configured(|c| c.limits.tenant = Rate::new(4, DAY)).await;
    for _ in 0..4 {
        app.get("/api/v1/courses", None).await.assert(200);
    }

    // WHEN a fifth request of the tenant comes, from another address
    let elsewhere = TestApp::client_from("127.0.0.2");
    let refused = app
        .send(&elsewhere, Method::GET, "/api/v1/courses", None, None, &[])
        .await
        .assert(429);

    // THEN it is refused on the tenant's policy
    assert_eq!(refused.code(), "rate_limited");
    let (remaining, reset, policy) = fields(&refused);
    assert_eq!(policy, "\"tenant\";q=4;w=86400");
    assert_eq!((remaining, reset), (0, retry_after(&refused)));
    assert_eq!(
        count(&app, &window("tenant", "shard0".into(), DAY)).await,
        4
    );

    // AND another tenant is served
    app.send(
        &elsewhere,
        Method::GET,
        "/api/v1/courses",
        None,
        None,
        &[("x-tenant-id", "acme")],
    )
    .await
    .assert(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ins_past_the_hash_pool_gets_503_with_retry_after_and_costs_no_attempts() {
    // GIVEN one password hasher with one place in its queue, and a student
    let app = TestApp::spawn_configured(|c| {
        c.limits.hashes = HashPoolSize {
            concurrent: 1,
            queued: 1,
            wait: Duration::from_secs(30),
        }
    })
    .await;
    app.register("ada@example.org", "ada", "student")
        .await
        .assert(201);

    // WHEN eight wrong passwords for her arrive together
    let replies =
        futures::future::join_all((0..8).map(|_| app.signin("ada@example.org", "wrong password")))
            .await;

    // THEN those the pool could not take are 503 `server_busy` with Retry-After, the rest checked
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    let checked = replies.iter().filter(|r| r.status == 401).count();
    assert_eq!(busy.len() + checked, 8, "only 401 and 503 answers");
    assert!(!busy.is_empty(), "the pool turned some away");
    assert!(checked >= 1);
    for reply in &busy {
        assert_eq!(reply.code(), "server_busy");
        assert!(retry_after(reply) >= 1);
    }

    // AND only the checked ones count as failed sign-ins
    let email = Email::parse("ada@example.org").unwrap();
    let window = now().div_euclid(15 * 60);
    let (_, failures) = UserRepo::new(app.state.table.clone())
        .find_for_signin(
            &TenantId::parse("default").unwrap(),
            &email,
            window,
            "127.0.0.1",
        )
        .await
        .unwrap();
    assert_eq!(failures.network_total(), checked as i64);

    // AND once the flood is over she signs in
    app.signin("ada@example.org", PASSWORD).await.assert(200);
}

#[tokio::test]
async fn registrations_meeting_taken_emails_are_bounded_per_address_while_new_people_register() {
    // GIVEN registrations that meet a taken email limited to 2 a day per client network, and five
    // people registered from one address (one of them after picking a taken username)
    let app = TestApp::spawn_configured(|c| c.limits.registration_probes = Rate::new(2, DAY)).await;
    for i in 0..5 {
        app.register(
            &format!("s{i}@example.org"),
            &format!("student{i}"),
            "student",
        )
        .await
        .assert(201);
    }
    let taken_name = app
        .register("late@example.org", "student0", "student")
        .await
        .assert(409);
    assert_eq!(taken_name.code(), "username_taken");
    app.register("late@example.org", "late", "student")
        .await
        .assert(201);

    // WHEN a stranger there tries emails that are registered
    for (email, name) in [("s1@example.org", "probe1"), ("s2@example.org", "probe2")] {
        let probe = app.register(email, name, "student").await.assert(409);
        assert_eq!(probe.code(), "email_taken");
    }
    let third = app
        .register("s3@example.org", "probe3", "student")
        .await
        .assert(429);

    // THEN past two the address's registrations are refused, whatever the email, and nothing is
    // written for them
    assert_eq!(third.code(), "rate_limited");
    assert!(retry_after(&third) >= 1);
    assert!(
        third.headers.get("ratelimit").is_none(),
        "the anonymous policy's quota is not what refused it"
    );
    let fresh = app
        .register("new@example.org", "fresh", "student")
        .await
        .assert(429);
    assert_eq!(fresh.code(), "rate_limited");
    let free = app
        .post(
            "/api/v1/profile/check-username",
            None,
            json!({ "username": "fresh" }),
        )
        .await
        .assert(200);
    assert_eq!(free.body["available"], true);
    assert_eq!(
        count(
            &app,
            &window("registration_probes", network("127.0.0.1"), DAY)
        )
        .await,
        2
    );

    // AND a newcomer elsewhere registers
    let elsewhere = TestApp::client_from("127.0.0.2");
    app.send(
        &elsewhere,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({
            "email": "new@example.org", "password": PASSWORD, "firstName": "New",
            "lastName": "Comer", "username": "fresh"
        })),
        &[],
    )
    .await
    .assert(201);
}

#[tokio::test]
async fn each_request_takes_one_conditional_update_per_policy_that_applies() {
    // GIVEN an app whose store counts calls, and a signed-in student
    let (app, table) = TestApp::counting().await;
    let ada = app.user("ada@example.org", "ada", "student").await;
    table.take();

    // WHEN an anonymous read, a signed-in read, a signed-in write and a registration are made
    app.get("/api/v1/courses", None).await.assert(200);
    let anonymous = table.take();
    app.get("/api/v1/auth/check", Some(&ada.access))
        .await
        .assert(200);
    let read = table.take();
    app.put(
        "/api/v1/profile/preferences",
        Some(&ada.access),
        json!({"preferredStudyTime": "night"}),
    )
    .await
    .assert(200);
    let write = table.take();
    app.register("grace@example.org", "grace", "student")
        .await
        .assert(201);
    let register = table.take();

    // THEN the anonymous read counts for its network and its tenant, the signed-in read for its
    // tenant, the write for its user and its tenant, and the registration for its network, its
    // tenant and its registration probes (given back within its own transaction)
    assert_eq!(anonymous.rate_limit, 2);
    assert_eq!(read.rate_limit, 1);
    assert_eq!(write.rate_limit, 2);
    assert_eq!(register.rate_limit, 3);
    assert_eq!((register.update, register.transact_write), (0, 1));
}
