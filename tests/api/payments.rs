//! Paid courses: buying, the provider's webhooks through the queue, settlement (invoice, enrollment,
//! notification), duplicates, reordering, refunds, disputes, dead letters, idempotency keys, and who
//! may see what.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_payments::{Outcome, events, webhook};
use lectern_queue::{OutgoingMessage, Queue};
use reqwest::Method;
use serde_json::{Value, json};

use lectern_domain::enrollment::Grant;

use crate::helpers::{Counter, Reply, Session, TestApp, assert_calls, counting_store};

/// A published course at 49.00 EUR, its teacher and a student.
pub(crate) async fn paid_course(app: &TestApp) -> (Session, Session, String) {
    let teacher = app.user("t@x.org", "teacher", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let course = app
        .course(
            &teacher,
            json!({"title": "Rust, Seriously", "price": 4900, "currency": "eur"}),
            true,
        )
        .await;
    (teacher, student, course)
}

async fn buy(app: &TestApp, student: &Session, course: &str) -> Value {
    app.post(
        "/api/v1/payments/course",
        Some(&student.access),
        json!({"courseId": course}),
    )
    .await
    .assert(201)
    .body
}

/// Polls `check` until it answers `Some`, for at most 15 seconds.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn payment_status(app: &TestApp, who: &Session, id: &str) -> String {
    app.get(&format!("/api/v1/payments/{id}"), Some(&who.access))
        .await
        .assert(200)
        .body["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn wait_for_status(app: &TestApp, who: &Session, id: &str, status: &str) {
    eventually(&format!("payment {id} to be {status}"), || async {
        (payment_status(app, who, id).await == status).then_some(())
    })
    .await
}

/// Posts a body to the webhook endpoint with a `Stripe-Signature` header (or none).
async fn post_webhook(app: &TestApp, body: &[u8], signature: Option<&str>) -> Reply {
    let mut request = app
        .client
        .post(format!("{}/api/v1/webhooks/stripe", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    app.exchange(request).await
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Signs an event with the app's webhook secret and posts it.
async fn send_event(app: &TestApp, event: &Value) -> Reply {
    let body = serde_json::to_vec(event).unwrap();
    let signature = webhook::sign(app.payments.ingest.secret().unwrap(), now(), &body);
    post_webhook(app, &body, Some(&signature)).await
}

/// Settles the payment's intent at the local provider and answers Stripe's event for it.
fn succeeded_event(app: &TestApp, intent_id: &str) -> Value {
    let intent = app
        .payments
        .local
        .as_ref()
        .unwrap()
        .settle(intent_id, Outcome::Succeeded)
        .unwrap();
    events::payment_intent_event(
        "payment_intent.succeeded",
        &intent,
        &events::new_event_id(),
        now(),
    )
}

async fn course_page(app: &TestApp, who: &Session, course: &str) -> Value {
    app.get(&format!("/api/v1/courses/{course}"), Some(&who.access))
        .await
        .assert(200)
        .body
}

async fn enrollment_count(app: &TestApp, teacher: &Session, course: &str) -> i64 {
    course_page(app, teacher, course).await["statistics"]["totalEnrollments"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn is_enrolled(app: &TestApp, student: &Session, course: &str) -> bool {
    course_page(app, student, course).await["enrollment"]["status"] == "active"
}

/// No queue holds a dead letter (asked as `admin`).
async fn assert_no_dead_letters(app: &TestApp, admin: &Session) {
    let dead = app
        .get("/api/v1/admin/dead-letters", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(dead, json!([]));
}

#[tokio::test]
async fn a_paid_course_is_bought_end_to_end_offline() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    // Enrolling directly still asks for payment.
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(402);

    let created = buy(&app, &student, &course).await;
    let payment = &created["payment"];
    let id = payment["id"].as_str().unwrap();
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["amount"], 4900);
    assert_eq!(payment["currency"], "EUR");
    assert_eq!(payment["paymentMethod"], "local");
    assert_eq!(payment["courseTitle"], "Rust, Seriously");
    let intent = payment["providerPaymentId"].as_str().unwrap();
    assert!(intent.starts_with("pi_"), "{intent}");
    assert!(
        created["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{intent}_secret_"))
    );
    // The invoice is open until the payment completes.
    let invoice_id = payment["invoiceId"].as_str().unwrap();
    let invoice = app
        .get(
            &format!("/api/v1/invoices/{invoice_id}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(invoice["status"], "open");
    assert!(invoice["number"].is_null());
    assert!(!is_enrolled(&app, &student, &course).await);

    // The student pays: the provider's signed event goes through the webhook, queue and workers.
    let started = Instant::now();
    let simulated = app
        .post(
            &format!("/api/v1/dev/payments/{id}/simulate"),
            Some(&student.access),
            json!({"outcome": "succeeded"}),
        )
        .await
        .assert(202)
        .body;
    assert_eq!(simulated["eventType"], "payment_intent.succeeded");
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    println!("webhook to enrollment: {:?}", started.elapsed());

    assert_eq!(payment_status(&app, &student, id).await, "completed");
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
    let invoice = app
        .get(
            &format!("/api/v1/invoices/{invoice_id}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["number"], "INV-000001");
    assert_eq!(invoice["amount"], 4900);
    let notifications = eventually("the notification", || async {
        let list = app
            .get("/api/v1/notifications", Some(&student.access))
            .await
            .assert(200)
            .body;
        (list["data"].as_array().unwrap().len() == 1).then_some(list)
    })
    .await;
    assert_eq!(notifications["data"][0]["kind"], "purchase_confirmed");
    assert_eq!(notifications["data"][0]["data"]["paymentId"], id);
    assert_eq!(notifications["data"][0]["read"], false);
    let notification = notifications["data"][0]["id"].as_str().unwrap();
    let marked = app
        .post(
            "/api/v1/notifications/read",
            Some(&student.access),
            json!({"ids": [notification]}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(marked["marked"], 1);
    let again = app
        .post(
            "/api/v1/notifications/read",
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(again["marked"], 0);
    let read = app
        .get("/api/v1/notifications", Some(&student.access))
        .await
        .body;
    assert_eq!(read["data"][0]["read"], true);

    // The wallet and the analytics see it.
    let wallet = app
        .get("/api/v1/wallet", Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(wallet["payments"][0]["id"], id);
    assert_eq!(wallet["invoices"][0]["number"], "INV-000001");
    assert_eq!(wallet["totals"][0]["spent"], 4900);
    assert_eq!(wallet["spendingByCategory"][0]["key"], "programming");
    let admin = app.admin().await;
    let analytics = app
        .get("/api/v1/payments/analytics", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(analytics["totals"][0]["revenue"], 4900);
    assert_eq!(analytics["totals"][0]["payments"], 1);
    assert_eq!(analytics["byCourse"][0]["courseId"], course);
    let mine = app
        .get(
            "/api/v1/payments/analytics?period=month",
            Some(&teacher.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(mine["series"][0]["net"], 4900);
    app.get("/api/v1/payments/analytics", Some(&student.access))
        .await
        .assert(403);

    // Buying again is refused.
    let again = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await;
    assert!(matches!(again.code(), "already_paid" | "already_enrolled"));
}

#[tokio::test]
async fn webhooks_with_a_bad_signature_are_refused_and_nothing_is_queued() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    let body = serde_json::to_vec(&event).unwrap();
    let secret = app.payments.ingest.secret().unwrap();

    let wrong_secret = webhook::sign("whsec_not_ours", now(), &body);
    let stale = webhook::sign(secret, now() - 301, &body);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'4').unwrap();
    tampered[at] = b'1';
    let for_body = webhook::sign(secret, now(), &body);
    for (body, signature) in [
        (&body, Some(wrong_secret.as_str())),
        (&body, Some(stale.as_str())),
        (&tampered, Some(for_body.as_str())),
        (&body, None),
        (&body, Some("t=abc,v1=zz")),
    ] {
        let reply = post_webhook(&app, body, signature).await.assert(400);
        assert_eq!(reply.code(), "invalid_signature");
    }
    // Nothing reached the queue: the payment is still pending a while later, and no dead letters.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(payment_status(&app, &student, id).await, "pending");
    assert_no_dead_letters(&app, &app.admin().await).await;

    // The same event, correctly signed, goes through.
    send_event(&app, &event).await.assert(200);
    wait_for_status(&app, &student, id, "completed").await;
}

#[tokio::test]
async fn the_same_event_three_times_enrolls_once_and_issues_one_invoice() {
    the_same_event_three_times_settles_once(TestApp::spawn().await).await;
}

#[tokio::test]
async fn with_the_queues_on_the_stores_connection_the_same_event_three_times_settles_once() {
    // The payments' queues on the store's SQLite connection, as the Lambda function opens them.
    the_same_event_three_times_settles_once(TestApp::spawn_on_one_connection().await).await;
}

/// The success three times, once more under another event id, and the client confirming: one
/// enrollment, one invoice (numbered without gaps), nothing dead-lettered.
async fn the_same_event_three_times_settles_once(app: TestApp) {
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    for _ in 0..3 {
        send_event(&app, &event).await.assert(200);
    }
    // Another delivery of the same news under a new event id changes nothing either.
    let mut twin = event.clone();
    twin["id"] = json!(events::new_event_id());
    send_event(&app, &twin).await.assert(200);
    // And the client confirming at the same time.
    app.post(
        &format!("/api/v1/payments/{id}/confirm"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(200);

    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
    let admin = app.admin().await;
    let invoices = app
        .get("/api/v1/invoices", Some(&admin.access))
        .await
        .assert(200)
        .body;
    let numbers: Vec<&Value> = invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["number"])
        .collect();
    assert_eq!(numbers, vec![&json!("INV-000001")]);
    let analytics = app
        .get("/api/v1/payments/analytics", Some(&admin.access))
        .await
        .body;
    assert_eq!(analytics["totals"][0]["revenue"], 4900);
    assert_eq!(analytics["totals"][0]["payments"], 1);
    // The notification follows from the settlement's `payment.completed` event.
    let notifications = eventually("the notification", || async {
        let body = app
            .get("/api/v1/notifications", Some(&student.access))
            .await
            .body;
        (body["data"].as_array().map(Vec::len) == Some(1)).then_some(body)
    })
    .await;
    assert_eq!(notifications["data"].as_array().unwrap().len(), 1);

    // The next paid invoice of the tenant takes the next number: no gaps.
    let other = app.user("o@x.org", "other", "student").await;
    let second = buy(&app, &other, &course).await["payment"].clone();
    let event = succeeded_event(&app, second["providerPaymentId"].as_str().unwrap());
    send_event(&app, &event).await.assert(200);
    let invoice_id = second["invoiceId"].as_str().unwrap();
    eventually("the second invoice", || async {
        let invoice = app
            .get(
                &format!("/api/v1/invoices/{invoice_id}"),
                Some(&other.access),
            )
            .await
            .body;
        (invoice["number"] == "INV-000002").then_some(())
    })
    .await;
    assert_no_dead_letters(&app, &admin).await;
}

#[tokio::test]
async fn a_refund_before_the_success_it_refunds_ends_as_in_order() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let intent = payment["providerPaymentId"].as_str().unwrap();
    let succeeded = succeeded_event(&app, intent);
    let charge = succeeded["data"]["object"]["latest_charge"]
        .as_str()
        .unwrap()
        .to_owned();
    let refunded = events::charge_refunded_event(
        &charge,
        intent,
        4900,
        4900,
        "eur",
        &events::new_event_id(),
        now(),
    );

    send_event(&app, &refunded).await.assert(200);
    wait_for_status(&app, &student, id, "refunded").await;
    send_event(&app, &succeeded).await.assert(200);
    // The success is recorded (the invoice is paid, then refunded), but no enrollment follows.
    let invoice_id = payment["invoiceId"].as_str().unwrap();
    let invoice = eventually("the invoice to be paid", || async {
        let invoice = app
            .get(
                &format!("/api/v1/invoices/{invoice_id}"),
                Some(&student.access),
            )
            .await
            .body;
        (invoice["status"] == "paid").then_some(invoice)
    })
    .await;
    assert_eq!(invoice["refundedAmount"], 4900);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(payment_status(&app, &student, id).await, "refunded");
    assert!(!is_enrolled(&app, &student, &course).await);
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 0);
    let admin = app.admin().await;
    let analytics = app
        .get("/api/v1/payments/analytics", Some(&admin.access))
        .await
        .body;
    assert_eq!(analytics["totals"][0]["revenue"], 4900);
    assert_eq!(analytics["totals"][0]["refunds"], 4900);
    assert_eq!(analytics["totals"][0]["net"], 0);
}

#[tokio::test]
async fn a_refund_through_the_api_revokes_the_enrollment() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/dev/payments/{id}/simulate"),
        Some(&student.access),
        json!({"outcome": "succeeded"}),
    )
    .await
    .assert(202);
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;

    // Not the student, not another instructor; the course's instructor may (within the window).
    let path = format!("/api/v1/payments/{id}/refund");
    app.post(&path, Some(&student.access), json!({}))
        .await
        .assert(404);
    let stranger = app.user("i2@x.org", "stranger", "instructor").await;
    app.post(&path, Some(&stranger.access), json!({}))
        .await
        .assert(404);
    app.post(&path, Some(&teacher.access), json!({"amount": 99999}))
        .await
        .assert(400);
    let accepted = app
        .post(
            &path,
            Some(&teacher.access),
            json!({"reason": "changed their mind"}),
        )
        .await
        .assert(202)
        .body;
    assert!(accepted["refundId"].as_str().unwrap().starts_with("re_"));
    assert_eq!(accepted["amount"], 4900);

    wait_for_status(&app, &student, id, "refunded").await;
    eventually("the enrollment to be revoked", || async {
        (!is_enrolled(&app, &student, &course).await).then_some(())
    })
    .await;
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 0);
    let kinds = eventually("the refund notification", || async {
        let list = app
            .get("/api/v1/notifications", Some(&student.access))
            .await
            .body;
        let mut kinds: Vec<String> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.sort();
        (kinds.len() == 2).then_some(kinds)
    })
    .await;
    // (Both happened within the same second of the provider's clock, so their order is not asserted.)
    assert_eq!(kinds, ["payment_refunded", "purchase_confirmed"]);
    // A refunded payment cannot be refunded again; the student may buy the course again.
    app.post(&path, Some(&teacher.access), json!({}))
        .await
        .assert(409);
    let again = buy(&app, &student, &course).await;
    assert_ne!(again["payment"]["id"], id);
    let wallet = app.get("/api/v1/wallet", Some(&student.access)).await.body;
    assert_eq!(wallet["refunds"][0]["amount"], 4900);
}

#[tokio::test]
async fn disputes_are_recorded_and_a_lost_dispute_revokes_access() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let intent = payment["providerPaymentId"].as_str().unwrap();
    let succeeded = succeeded_event(&app, intent);
    let charge = succeeded["data"]["object"]["latest_charge"]
        .as_str()
        .unwrap()
        .to_owned();
    send_event(&app, &succeeded).await.assert(200);
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;

    let dispute = |kind: &str, status: &str| {
        events::dispute_event(
            kind,
            "dp_test_1",
            &charge,
            intent,
            4900,
            "eur",
            "fraudulent",
            status,
            &events::new_event_id(),
            now(),
        )
    };
    send_event(&app, &dispute("charge.dispute.created", "needs_response"))
        .await
        .assert(200);
    wait_for_status(&app, &student, id, "disputed").await;
    // Access is kept while the dispute is open.
    assert!(is_enrolled(&app, &student, &course).await);
    let admin = app.admin().await;
    let disputes = app
        .get("/api/v1/disputes", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(disputes["data"][0]["dispute"]["id"], "dp_test_1");
    assert_eq!(disputes["data"][0]["payment"]["id"], id);
    app.get("/api/v1/disputes", Some(&student.access))
        .await
        .assert(403);
    let wallet = app.get("/api/v1/wallet", Some(&student.access)).await.body;
    assert_eq!(wallet["disputes"][0]["reason"], "fraudulent");

    send_event(&app, &dispute("charge.dispute.closed", "lost"))
        .await
        .assert(200);
    wait_for_status(&app, &student, id, "refunded").await;
    eventually("the enrollment to be revoked", || async {
        (!is_enrolled(&app, &student, &course).await).then_some(())
    })
    .await;
    // A late "created" does not reopen the closed dispute.
    send_event(&app, &dispute("charge.dispute.created", "needs_response"))
        .await
        .assert(200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(payment_status(&app, &student, id).await, "refunded");
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_while_its_batch_mates_go_through() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    // Correctly signed, but not an event any worker can read: it fails on every receive.
    let poison = json!({"id": "evt_poison", "object": "event"});
    send_event(&app, &poison).await.assert(200);
    let event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    send_event(&app, &event).await.assert(200);
    wait_for_status(&app, &student, id, "completed").await;

    // (A letter no tenant can be found for is the platform operator's.)
    let admin = app.operator().await;
    let dead = eventually("the dead letter", || async {
        let dead = app
            .get(
                "/api/v1/admin/dead-letters?queue=payment-events",
                Some(&admin.access),
            )
            .await
            .assert(200)
            .body;
        (dead.as_array().unwrap().len() == 1).then_some(dead)
    })
    .await;
    assert_eq!(dead[0]["queue"], "payment-events");
    let body: Value = serde_json::from_str(dead[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["id"], "evt_poison");
    assert!(dead[0]["receiveCount"].as_u64().unwrap() >= 3);
    app.get("/api/v1/admin/dead-letters", Some(&student.access))
        .await
        .assert(403);
    app.get("/api/v1/admin/dead-letters?queue=nope", Some(&admin.access))
        .await
        .assert(400);

    // Redriven, it is tried again (and, still poison, set aside again).
    let redriven = app
        .post(
            "/api/v1/admin/dead-letters/redrive",
            Some(&admin.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(redriven["redriven"], 1);
    eventually("the poison to come back to the dead letters", || async {
        let dead = app
            .get("/api/v1/admin/dead-letters", Some(&admin.access))
            .await
            .body;
        (dead.as_array().unwrap().len() == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_settlement_that_cannot_be_read_is_retried_then_dead_lettered() {
    let app = TestApp::spawn().await;
    app.payments
        .confirmations
        .send(OutgoingMessage::new("not a settlement"))
        .await
        .unwrap();
    let admin = app.operator().await;
    eventually("the dead letter", || async {
        let dead = app
            .get(
                "/api/v1/admin/dead-letters?queue=payment-confirmations",
                Some(&admin.access),
            )
            .await
            .body;
        (dead.as_array().unwrap().len() == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys_give_the_same_payment_and_refuse_another_request() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let other_course = app
        .course(
            &teacher,
            json!({"title": "Go, Seriously", "price": 2500, "currency": "usd"}),
            true,
        )
        .await;
    let with_key = |course: &str| {
        app.call_with(
            Method::POST,
            "/api/v1/payments/course",
            Some(&student.access),
            Some(json!({"courseId": course})),
            &[("idempotency-key", "order-7")],
        )
    };
    let first = with_key(&course).await.assert(201).body;
    let second = with_key(&course).await.assert(201).body;
    assert_eq!(first["payment"]["id"], second["payment"]["id"]);
    assert_eq!(first["clientSecret"], second["clientSecret"]);
    let reused = with_key(&other_course).await.assert(422);
    assert_eq!(reused.code(), "idempotency_key_reused");
    // Without a key, the payment that can still be paid is handed back rather than a second one.
    let again = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(again["payment"]["id"], first["payment"]["id"]);
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_students_buy_published_paid_courses() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let buy_as = |who: &Session, body: Value| {
        let token = who.access.clone();
        let app = &app;
        async move {
            app.post("/api/v1/payments/course", Some(&token), body)
                .await
        }
    };
    buy_as(&teacher, json!({"courseId": course}))
        .await
        .assert(403);
    let free = app
        .course(&teacher, json!({"title": "Free stuff"}), true)
        .await;
    assert_eq!(
        buy_as(&student, json!({"courseId": free}))
            .await
            .assert(400)
            .code(),
        "course_is_free"
    );
    let draft = app
        .course(
            &teacher,
            json!({"title": "Not yet", "price": 100, "currency": "usd"}),
            false,
        )
        .await;
    buy_as(&student, json!({"courseId": draft}))
        .await
        .assert(404);
    buy_as(&student, json!({"courseId": "nope"}))
        .await
        .assert(400);
    app.call_with(
        Method::POST,
        "/api/v1/payments/course",
        Some(&student.access),
        Some(json!({"courseId": course})),
        &[("idempotency-key", "")],
    )
    .await
    .assert(400);
}

#[tokio::test]
async fn payments_and_invoices_are_private() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let invoice = payment["invoiceId"].as_str().unwrap();
    let peer = app.user("p@x.org", "peer", "student").await;
    let outsider = app.user_in("acme", "a@x.org", "acmeuser", "student").await;
    for who in [&peer, &outsider] {
        app.get(&format!("/api/v1/payments/{id}"), Some(&who.access))
            .await
            .assert(404);
        app.get(&format!("/api/v1/invoices/{invoice}"), Some(&who.access))
            .await
            .assert(404);
        app.post(
            &format!("/api/v1/payments/{id}/confirm"),
            Some(&who.access),
            json!({}),
        )
        .await
        .assert(404);
        app.post(
            &format!("/api/v1/dev/payments/{id}/simulate"),
            Some(&who.access),
            json!({"outcome": "succeeded"}),
        )
        .await
        .assert(404);
        let list = app.get("/api/v1/payments", Some(&who.access)).await.body;
        assert_eq!(list["data"], json!([]));
    }
    app.get("/api/v1/invoices/overdue", Some(&student.access))
        .await
        .assert(403);
    let admin = app.admin().await;
    let all = app
        .get("/api/v1/payments?status=pending", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(all["data"][0]["id"], id);
    let none = app
        .get("/api/v1/payments?status=completed", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(none["data"], json!([]));
    app.get("/api/v1/payments?status=paid", Some(&admin.access))
        .await
        .assert(400);
}

#[tokio::test]
async fn a_failed_attempt_can_be_followed_by_a_success() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let path = format!("/api/v1/dev/payments/{id}/simulate");
    let simulate =
        |outcome: &'static str| app.post(&path, Some(&student.access), json!({"outcome": outcome}));
    simulate("failed").await.assert(202);
    wait_for_status(&app, &student, id, "failed").await;
    let failed = app
        .get(&format!("/api/v1/payments/{id}"), Some(&student.access))
        .await
        .body;
    assert!(failed["failureReason"].is_string());
    simulate("succeeded").await.assert(202);
    wait_for_status(&app, &student, id, "completed").await;
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
}

/// A queue that keeps what is sent to it (and delivers nothing), or refuses everything when down.
struct TestQueue {
    sent: std::sync::Mutex<Vec<OutgoingMessage>>,
    down: bool,
}

impl TestQueue {
    fn new(down: bool) -> Arc<TestQueue> {
        Arc::new(TestQueue {
            sent: std::sync::Mutex::new(Vec::new()),
            down,
        })
    }

    fn check(&self) -> lectern_queue::QueueResult<()> {
        if self.down {
            return Err(lectern_queue::QueueError::Unavailable(anyhow::anyhow!(
                "the test queue is down"
            )));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Queue for TestQueue {
    fn name(&self) -> &str {
        "payment-events"
    }
    async fn send(&self, message: OutgoingMessage) -> lectern_queue::QueueResult<()> {
        self.check()?;
        self.sent.lock().unwrap().push(message);
        Ok(())
    }
    async fn receive(
        &self,
        _max: usize,
        _visibility: Duration,
    ) -> lectern_queue::QueueResult<Vec<lectern_queue::Received>> {
        self.check()?;
        Ok(Vec::new())
    }
    async fn delete(&self, _receipt: &str) -> lectern_queue::QueueResult<()> {
        self.check()
    }
    async fn dead_letters(
        &self,
        _max: usize,
    ) -> lectern_queue::QueueResult<Vec<lectern_queue::DeadLetter>> {
        self.check()?;
        Ok(Vec::new())
    }
    async fn redrive(&self) -> lectern_queue::QueueResult<usize> {
        self.check()?;
        Ok(0)
    }
    async fn redrive_ids(&self, _ids: &[String]) -> lectern_queue::QueueResult<usize> {
        self.check()?;
        Ok(0)
    }
}

/// Replaces the events queue the webhook endpoint sends to.
fn with_events_queue(payments: &mut payments_function::Payments, queue: Arc<TestQueue>) {
    payments.ingest = Arc::new(payments_function::Ingest {
        webhook_secret: payments.ingest.webhook_secret.clone(),
        events: queue,
    });
}

#[tokio::test]
async fn the_webhook_endpoint_only_verifies_and_enqueues() {
    let queue = TestQueue::new(false);
    let (dir, table) = counting_store();
    let sent = queue.clone();
    let app = TestApp::spawn_customised(dir, table.clone(), None, move |p| {
        with_events_queue(p, sent)
    })
    .await;
    let event = json!({"id": "evt_budget", "object": "event", "type": "payment_intent.succeeded",
        "created": now(), "data": {"object": {"object": "payment_intent", "id": "pi_x"}}});
    table.take();
    send_event(&app, &event).await.assert(200);
    // No store call; one message, deduplicated by the event id, carrying the body byte for byte.
    assert_calls(&table, "POST /api/v1/webhooks/stripe", [0, 0, 0, 0, 0]);
    let sent = queue.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].dedup_id.as_deref(), Some("evt_budget"));
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, event);
}

#[tokio::test]
async fn when_the_events_queue_is_down_the_webhook_is_a_503_so_the_provider_retries() {
    let app = TestApp::spawn_with_payments(|p| with_events_queue(p, TestQueue::new(true))).await;
    let event = json!({"id": "evt_down", "object": "event", "type": "charge.refunded",
        "created": now(), "data": {"object": {"object": "charge", "id": "ch_x"}}});
    let reply = send_event(&app, &event).await.assert(503);
    assert_eq!(reply.code(), "service_unavailable");
    assert!(!reply.body.to_string().contains("test queue"));
}

#[tokio::test]
async fn when_the_provider_is_down_buying_is_a_clean_503_and_nothing_is_recorded() {
    let app = TestApp::spawn_with_payments(|p| {
        // Nothing listens on the discard port of loopback: connection refused.
        let stripe = lectern_payments::StripeClient::new(
            "sk_test_lectern".into(),
            Some("http://127.0.0.1:9".into()),
        )
        .unwrap();
        p.provider = Arc::new(stripe);
        p.local = None;
    })
    .await;
    let (_, student, course) = paid_course(&app).await;
    let reply = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await
        .assert(503);
    assert!(!reply.body.to_string().contains("sk_test"));
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .body;
    assert_eq!(mine["data"], json!([]));
    let invoices = app
        .get("/api/v1/invoices", Some(&student.access))
        .await
        .body;
    assert_eq!(invoices["data"], json!([]));
    // Without the local provider there is no simulation route.
    app.post(
        "/api/v1/dev/payments/0193a5c0-7e2f-7b44-8a21-3c7b5d9e0f12/simulate",
        Some(&student.access),
        json!({"outcome": "succeeded"}),
    )
    .await
    .assert(404);
}

#[tokio::test]
async fn a_store_outage_while_handling_an_event_is_retried_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(lectern_testkit::SabotagedTable::healthy(
        lectern_store::sqlite::SqliteTable::open(&dir.path().join("t.db")).unwrap(),
    ));
    let app = TestApp::spawn_on(dir, table.clone()).await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    // The next two writes fail: the events worker's first try (and maybe the settlement's).
    table.fail_next_writes(2);
    send_event(&app, &event).await.assert(200);
    wait_for_status(&app, &student, id, "completed").await;
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    assert_eq!(table.failures_left(), 0);
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
    assert_no_dead_letters(&app, &app.admin().await).await;
}

#[tokio::test]
async fn on_dynamodb_and_sqs_a_paid_course_is_bought_settled_and_refunded() {
    let moto = lectern_testkit::moto::moto().await;
    let table = moto.fresh_table().await;
    let (events, confirmations) = (
        moto.fresh_queue(3, false).await,
        moto.fresh_queue(3, false).await,
    );
    let client = moto.sqs_client();
    let sqs = move |urls: lectern_testkit::moto::QueueUrls| -> Arc<dyn Queue> {
        Arc::new(lectern_queue::SqsQueue::new(
            client.clone(),
            urls.queue_url,
            Some(urls.dead_letter_url),
        ))
    };
    let app = TestApp::spawn_customised(
        tempfile::tempdir().unwrap(),
        Arc::new(table),
        None,
        move |p| {
            p.ingest = Arc::new(payments_function::Ingest {
                webhook_secret: p.ingest.webhook_secret.clone(),
                events: sqs(events),
            });
            p.confirmations = sqs(confirmations);
        },
    )
    .await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    // Twice: the second delivery is recognised and changes nothing.
    send_event(&app, &event).await.assert(200);
    send_event(&app, &event).await.assert(200);
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    let invoice_id = payment["invoiceId"].as_str().unwrap();
    let invoice = app
        .get(
            &format!("/api/v1/invoices/{invoice_id}"),
            Some(&student.access),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(invoice["number"], "INV-000001");
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);

    app.post(
        &format!("/api/v1/payments/{id}/refund"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(202);
    wait_for_status(&app, &student, id, "refunded").await;
    eventually("the enrollment to be revoked", || async {
        (!is_enrolled(&app, &student, &course).await).then_some(())
    })
    .await;
    let admin = app.admin().await;
    let analytics = app
        .get("/api/v1/payments/analytics", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(analytics["totals"][0]["revenue"], 4900);
    assert_eq!(analytics["totals"][0]["net"], 0);
}

#[tokio::test]
async fn store_calls_per_payment_request() {
    // GIVEN an app whose store counts calls, a paid course and its student (nothing is queued in
    // this test, so the workers make no store call of their own)
    let (app, table) = TestApp::counting().await;
    let (_, student, course) = paid_course(&app).await;
    table.take();
    // WHEN each endpoint is called once, THEN it makes exactly these calls
    let payment = buy(&app, &student, &course).await["payment"].clone();
    // Purchase slot and idempotency key; the course; the admission (enrollment, prerequisites);
    // one transaction.
    assert_calls(&table, "POST /api/v1/payments/course", [1, 2, 0, 0, 1]);
    let id = payment["id"].as_str().unwrap();
    app.get(&format!("/api/v1/payments/{id}"), Some(&student.access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/payments/{paymentId}", [1, 0, 0, 0, 0]);
    app.get("/api/v1/payments", Some(&student.access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/payments", [0, 0, 1, 0, 0]);
    app.get("/api/v1/wallet", Some(&student.access))
        .await
        .assert(200);
    assert_calls(&table, "GET /api/v1/wallet", [0, 0, 1, 0, 0]);
    let invoice = payment["invoiceId"].as_str().unwrap();
    app.get(
        &format!("/api/v1/invoices/{invoice}"),
        Some(&student.access),
    )
    .await
    .assert(200);
    assert_calls(&table, "GET /api/v1/invoices/{invoiceId}", [1, 0, 0, 0, 0]);

    // WHEN the student lists their invoices, THEN one query of their wallet on GSI1
    let mine = app
        .get("/api/v1/invoices", Some(&student.access))
        .await
        .assert(200)
        .body;
    assert_eq!(mine["data"][0]["id"], invoice);
    assert_calls(&table, "GET /api/v1/invoices", [0, 0, 1, 0, 0]);

    // GIVEN an admin and another student's invoice of four days ago, never paid
    let admin = app.admin().await;
    let late = app.user("l@x.org", "late", "student").await;
    let old = overdue_payment(&app, &late, &course).await;
    table.take();
    // WHEN the admin lists the tenant's invoices, THEN one query of the tenant's invoices partition
    let all = app
        .get("/api/v1/invoices", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_calls(&table, "GET /api/v1/invoices", [0, 0, 1, 0, 0]);
    // WHEN the admin lists the overdue invoices, THEN the open-invoice entries due before now (one
    // query), then those invoices (one batch get)
    let overdue = app
        .get("/api/v1/invoices/overdue", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(overdue[0]["paymentId"], old.id.to_string());
    assert_calls(&table, "GET /api/v1/invoices/overdue", [0, 1, 1, 0, 0]);
}

/// The payment queues of [`counting_with_held_queues`]: while held, their workers receive nothing.
#[derive(Clone, Default)]
struct Hold(Arc<std::sync::atomic::AtomicBool>);

impl Hold {
    /// Holds the queues' deliveries and waits for the workers' store calls to stop, then resets the
    /// counter: what the next request queues waits, and its count is its own.
    async fn hold(&self, table: &Counter) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        quiet(table).await;
    }

    fn release(&self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    fn held(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A payment queue that receives nothing while its [`Hold`] is held (sending, dead letters and
/// redriving go through).
struct HeldQueue {
    inner: Arc<dyn Queue>,
    hold: Hold,
}

#[async_trait::async_trait]
impl Queue for HeldQueue {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: OutgoingMessage) -> lectern_queue::QueueResult<()> {
        self.inner.send(message).await
    }
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> lectern_queue::QueueResult<Vec<lectern_queue::Received>> {
        if self.hold.held() {
            return Ok(Vec::new());
        }
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> lectern_queue::QueueResult<()> {
        self.inner.delete(receipt).await
    }
    async fn dead_letters(
        &self,
        max: usize,
    ) -> lectern_queue::QueueResult<Vec<lectern_queue::DeadLetter>> {
        self.inner.dead_letters(max).await
    }
    async fn redrive(&self) -> lectern_queue::QueueResult<usize> {
        self.inner.redrive().await
    }
    async fn redrive_ids(&self, ids: &[String]) -> lectern_queue::QueueResult<usize> {
        self.inner.redrive_ids(ids).await
    }
}

/// An app whose store counts calls and whose payment queues (events and confirmations) can be held,
/// so a request that queues work is counted without the workers' calls.
async fn counting_with_held_queues() -> (TestApp, Arc<Counter>, Hold) {
    let (dir, table) = counting_store();
    let hold = Hold::default();
    let held = hold.clone();
    let app = TestApp::spawn_customised(dir, table.clone(), None, move |p| {
        let held_queue = |inner: &Arc<dyn Queue>| -> Arc<dyn Queue> {
            Arc::new(HeldQueue {
                inner: inner.clone(),
                hold: held.clone(),
            })
        };
        p.confirmations = held_queue(&p.confirmations);
        p.ingest = Arc::new(payments_function::Ingest {
            webhook_secret: p.ingest.webhook_secret.clone(),
            events: held_queue(&p.ingest.events),
        });
    })
    .await;
    (app, table, hold)
}

/// Waits until the store has seen no call for half a second (the workers are done), the counter reset.
async fn quiet(table: &Counter) {
    table.take();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if table.take().total() == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the store never went quiet");
    }
}

#[tokio::test]
async fn store_calls_per_request_on_paid_payments() {
    // GIVEN a counting app with holdable queues, a paid course, its teacher, a student whose
    // payment succeeded at the provider but whose event was lost, and an admin
    let (app, table, hold) = counting_with_held_queues().await;
    let (teacher, student, course) = paid_course(&app).await;
    let admin = app.admin().await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    let confirm = format!("/api/v1/payments/{id}/confirm");

    // WHEN the student confirms (the queues held, so the settlement it queues waits)
    hold.hold(&table).await;
    let confirmed = app
        .post(&confirm, Some(&student.access), json!({}))
        .await
        .assert(200)
        .body;
    // THEN the success is recorded: the payment (visible to the caller?), the confirmation event
    // (seen?), then one transaction (the payment's new facts and the event), which answers the
    // payment as written. The settlement goes to the confirmation queue.
    assert_eq!(confirmed["status"], "completed");
    assert_calls(
        &table,
        "POST /api/v1/payments/{paymentId}/confirm",
        [2, 0, 0, 0, 1],
    );

    // GIVEN the settlement done (enrolled), and another student's payment settled and disputed
    hold.release();
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    let other = app.user("o@x.org", "other", "student").await;
    let second = buy(&app, &other, &course).await["payment"].clone();
    let second_id = second["id"].as_str().unwrap();
    let intent = second["providerPaymentId"].as_str().unwrap();
    let succeeded = succeeded_event(&app, intent);
    send_event(&app, &succeeded).await.assert(200);
    wait_for_status(&app, &other, second_id, "completed").await;
    let dispute = events::dispute_event(
        "charge.dispute.created",
        "dp_budget",
        succeeded["data"]["object"]["latest_charge"]
            .as_str()
            .unwrap(),
        intent,
        4900,
        "eur",
        "fraudulent",
        "needs_response",
        &events::new_event_id(),
        now(),
    );
    send_event(&app, &dispute).await.assert(200);
    wait_for_status(&app, &other, second_id, "disputed").await;
    quiet(&table).await;

    // WHEN confirmed again, THEN only the payment is read: it succeeded already
    let again = app
        .post(&confirm, Some(&student.access), json!({}))
        .await
        .assert(200)
        .body;
    assert_eq!(again["status"], "completed");
    assert_calls(
        &table,
        "POST /api/v1/payments/{paymentId}/confirm",
        [1, 0, 0, 0, 0],
    );

    // WHEN the admin lists the disputes, THEN the tenant's dispute entries (one query), then their
    // payments (one batch get)
    let disputes = app
        .get("/api/v1/disputes", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(disputes["data"][0]["dispute"]["id"], "dp_budget");
    assert_calls(&table, "GET /api/v1/disputes", [0, 1, 1, 0, 0]);

    // WHEN the admin asks for the analytics, THEN the tenant's revenue days and its revenue by
    // course (two queries)
    let analytics = app
        .get("/api/v1/payments/analytics", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(analytics["totals"][0]["revenue"], 9800);
    assert_calls(&table, "GET /api/v1/payments/analytics", [0, 0, 2, 0, 0]);
    // WHEN the teacher asks, THEN their courses (one query of the catalog), the revenue days of each
    // (one query per course) and the revenue by course (one query)
    let theirs = app
        .get("/api/v1/payments/analytics", Some(&teacher.access))
        .await
        .assert(200)
        .body;
    assert_eq!(theirs["byCourse"][0]["courseId"], course);
    assert_calls(&table, "GET /api/v1/payments/analytics", [0, 0, 3, 0, 0]);

    // WHEN the teacher refunds the first payment (the queues held, so the provider's refund event
    // waits)
    hold.hold(&table).await;
    let refunded = app
        .post(
            &format!("/api/v1/payments/{id}/refund"),
            Some(&teacher.access),
            json!({"reason": "changed their mind"}),
        )
        .await
        .assert(202)
        .body;
    // THEN the payment with the caller's account (still an active instructor? read concurrently,
    // so no round trip is added), then its course (is the caller its instructor?) are read and
    // nothing is written: the provider refunds, and the payment changes when its `charge.refunded`
    // event comes through the events queue
    assert_eq!(refunded["amount"], 4900);
    assert_calls(
        &table,
        "POST /api/v1/payments/{paymentId}/refund",
        [3, 0, 0, 0, 0],
    );
    hold.release();
    wait_for_status(&app, &student, id, "refunded").await;
}

#[tokio::test]
async fn store_calls_of_the_dead_letter_endpoints() {
    // GIVEN a counting app with holdable queues and a poison event dead-lettered after its third
    // receive
    let (app, table, hold) = counting_with_held_queues().await;
    let admin = app.operator().await;
    let poison = json!({"id": "evt_poison_budget", "object": "event"});
    send_event(&app, &poison).await.assert(200);
    eventually("the dead letter", || async {
        let dead = app
            .get("/api/v1/admin/dead-letters", Some(&admin.access))
            .await
            .assert(200)
            .body;
        (dead.as_array().unwrap().len() == 1).then_some(())
    })
    .await;
    quiet(&table).await;

    // WHEN the operator lists the dead letters, THEN one get (the account, to match it against the
    // configured operators) and both queues' dead-letter queues are peeked (a letter's tenant comes
    // from the message; this poison names no payment, so no mapping is read)
    let dead = app
        .get("/api/v1/admin/dead-letters", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(dead[0]["queue"], "payment-events");
    assert_calls(&table, "GET /api/v1/admin/dead-letters", [1, 0, 0, 0, 0]);

    // WHEN the operator redrives them (the queues held, so the poison is not tried again
    // meanwhile), THEN the account is read again and each dead-letter queue is moved back whole
    hold.hold(&table).await;
    let redriven = app
        .post(
            "/api/v1/admin/dead-letters/redrive",
            Some(&admin.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(redriven["redriven"], 1);
    assert_calls(
        &table,
        "POST /api/v1/admin/dead-letters/redrive",
        [1, 0, 0, 0, 0],
    );
    hold.release();
}

#[tokio::test]
async fn confirm_records_a_success_the_webhook_has_not_brought_yet() {
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let confirm = format!("/api/v1/payments/{id}/confirm");
    // Not paid yet: confirm just answers the state.
    let pending = app
        .post(&confirm, Some(&student.access), json!({}))
        .await
        .assert(200)
        .body;
    assert_eq!(pending["status"], "pending");
    // Paid at the provider, but its event is lost on the way.
    succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    let confirmed = app
        .post(&confirm, Some(&student.access), json!({}))
        .await
        .assert(200)
        .body;
    assert_eq!(confirmed["status"], "completed");
    eventually("the enrollment", || async {
        is_enrolled(&app, &student, &course).await.then_some(())
    })
    .await;
    // Confirming again changes nothing.
    app.post(&confirm, Some(&student.access), json!({}))
        .await
        .assert(200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
}

#[tokio::test]
async fn an_event_whose_amount_differs_from_the_payment_is_refused() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    let mut event = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    event["data"]["object"]["amount"] = json!(100);
    send_event(&app, &event).await.assert(200);
    let mut other_currency = event.clone();
    other_currency["id"] = json!(events::new_event_id());
    other_currency["data"]["object"]["amount"] = json!(4900);
    other_currency["data"]["object"]["currency"] = json!("usd");
    send_event(&app, &other_currency).await.assert(200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(payment_status(&app, &student, id).await, "pending");
    assert!(!is_enrolled(&app, &student, &course).await);
}

#[tokio::test]
async fn invoices_unpaid_past_their_due_date_are_overdue() {
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let old = overdue_payment(&app, &student, &course).await;
    // A fresh one is not overdue.
    let other = app.user("o@x.org", "other", "student").await;
    buy(&app, &other, &course).await;
    let admin = app.admin().await;
    let overdue = app
        .get("/api/v1/invoices/overdue", Some(&admin.access))
        .await
        .assert(200)
        .body;
    let overdue = overdue.as_array().unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["paymentId"], old.id.to_string());
    assert_eq!(overdue[0]["status"], "open");
}

/// A payment of `student` for `course` created four days ago and never paid (its invoice was due
/// after three), written straight to the store.
async fn overdue_payment(
    app: &TestApp,
    student: &Session,
    course: &str,
) -> lectern_domain::payment::Payment {
    let old = lectern_domain::payment::Payment::pending(
        lectern_domain::TenantId::parse("default").unwrap(),
        lectern_domain::UserId::parse(&student.id).unwrap(),
        lectern_domain::CourseId::parse(course).unwrap(),
        "Rust, Seriously".into(),
        4900,
        lectern_domain::course::Currency::parse("eur").unwrap(),
        "local".into(),
        "pi_old".into(),
        time::OffsetDateTime::now_utc() - time::Duration::days(4),
    );
    lectern_store::payments::PaymentRepo::new(app.state.table.clone())
        .create(
            &lectern_store::Actor::new(
                old.tenant.clone(),
                old.user_id,
                lectern_store::Power::Member,
            ),
            &old,
            None,
            None,
        )
        .await
        .unwrap();
    old
}

/// The app with payment queues that deduplicate nothing, as SQS standard queues (production's) do:
/// an event Stripe sends again, or a settlement queued again, reaches its worker again.
async fn spawn_without_queue_dedup() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    let table = lectern_store::sqlite::SqliteTable::open(&path).unwrap();
    let policy = lectern_queue::QueuePolicy {
        max_receives: 3,
        dedup_window: Duration::ZERO,
    };
    TestApp::spawn_customised(dir, Arc::new(table), None, move |p| {
        let open = |name: &str| -> Arc<dyn Queue> {
            Arc::new(lectern_queue::SqliteQueue::open(&path, name, policy).unwrap())
        };
        p.confirmations = open(payments_function::queues::CONFIRMATIONS_QUEUE);
        p.ingest = Arc::new(payments_function::Ingest {
            webhook_secret: p.ingest.webhook_secret.clone(),
            events: open(payments_function::queues::EVENTS_QUEUE),
        });
    })
    .await
}

/// Buys the course and pays through the provider's signed `payment_intent.succeeded`; waits for the
/// enrollment. Answers the payment id and the event, to be sent again.
pub(crate) async fn buy_and_pay(app: &TestApp, student: &Session, course: &str) -> (String, Value) {
    let payment = buy(app, student, course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap().to_owned();
    let succeeded = succeeded_event(app, payment["providerPaymentId"].as_str().unwrap());
    send_event(app, &succeeded).await.assert(200);
    wait_for_status(app, student, &id, "completed").await;
    eventually("the enrollment", || async {
        is_enrolled(app, student, course).await.then_some(())
    })
    .await;
    (id, succeeded)
}

/// What the student's enrollment in the course records as granting it.
async fn grant_of(app: &TestApp, student: &Session, course: &str) -> Option<Grant> {
    let tenant = lectern_domain::TenantId::parse("default").unwrap();
    let enrollment = lectern_store::enrollments::EnrollmentRepo::new(app.state.table.clone())
        .get(
            &tenant,
            lectern_domain::CourseId::parse(course).unwrap(),
            lectern_domain::UserId::parse(&student.id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    enrollment.granted_by
}

fn paid_by(payment: &str) -> Option<Grant> {
    Some(Grant::Payment {
        payment_id: lectern_domain::PaymentId::parse(payment).unwrap(),
    })
}

#[tokio::test]
async fn a_late_event_about_a_refunded_payment_leaves_the_access_a_newer_payment_bought() {
    // GIVEN a student who bought P1, paid, was refunded (and unenrolled), then bought P2 and paid
    let app = spawn_without_queue_dedup().await;
    let (teacher, student, course) = paid_course(&app).await;
    let (p1, p1_succeeded) = buy_and_pay(&app, &student, &course).await;
    assert_eq!(grant_of(&app, &student, &course).await, paid_by(&p1));
    app.post(
        &format!("/api/v1/payments/{p1}/refund"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(202);
    wait_for_status(&app, &student, &p1, "refunded").await;
    eventually("the refund to revoke the enrollment", || async {
        (!is_enrolled(&app, &student, &course).await).then_some(())
    })
    .await;
    let (p2, _) = buy_and_pay(&app, &student, &course).await;
    assert_ne!(p1, p2);

    // WHEN Stripe sends P1's success again, and a lost dispute about P1 arrives late
    send_event(&app, &p1_succeeded).await.assert(200);
    let charge = p1_succeeded["data"]["object"]["latest_charge"]
        .as_str()
        .unwrap();
    let intent = p1_succeeded["data"]["object"]["id"].as_str().unwrap();
    let lost = events::dispute_event(
        "charge.dispute.closed",
        "dp_late",
        charge,
        intent,
        4900,
        "eur",
        "fraudulent",
        "lost",
        &events::new_event_id(),
        now(),
    );
    send_event(&app, &lost).await.assert(200);
    // (a dead-letter redrive queues P1's settlement again too)
    app.payments
        .confirmations
        .send(OutgoingMessage::new(
            json!({"tenant": "default", "paymentId": p1}).to_string(),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // THEN the student is still enrolled, by P2, which is still completed
    assert!(is_enrolled(&app, &student, &course).await);
    assert_eq!(grant_of(&app, &student, &course).await, paid_by(&p2));
    assert_eq!(payment_status(&app, &student, &p2).await, "completed");
    assert_eq!(payment_status(&app, &student, &p1).await, "refunded");
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
}

#[tokio::test]
async fn a_student_who_unenrolls_from_a_paid_course_re_enrolls_without_paying_again() {
    // GIVEN a paid course with a lesson, bought and paid, the lesson completed, then unenrolled
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let lesson = app.lesson(&teacher, &course, "One", 10).await;
    app.lesson(&teacher, &course, "Two", 10).await;
    let (payment, _) = buy_and_pay(&app, &student, &course).await;
    app.post(
        "/api/v1/lessons/complete",
        Some(&student.access),
        json!({"lessonId": lesson, "courseId": course}),
    )
    .await
    .assert(200);
    app.delete(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
    )
    .await
    .assert(204);
    assert!(!is_enrolled(&app, &student, &course).await);

    // WHEN the student enrolls again
    let enrolled = app
        .post(
            &format!("/api/v1/courses/{course}/enroll"),
            Some(&student.access),
            json!({}),
        )
        .await
        .assert(201)
        .body;

    // THEN they are in, by the same payment, with their progress back
    assert_eq!(enrolled["data"]["status"], "active");
    assert_eq!(enrolled["data"]["progress"]["completedLessons"], 1);
    assert!(is_enrolled(&app, &student, &course).await);
    assert_eq!(grant_of(&app, &student, &course).await, paid_by(&payment));
    assert_eq!(enrollment_count(&app, &teacher, &course).await, 1);
    // Buying again while the payment entitles them is still refused, and nothing new is charged.
    let again = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await
        .assert(409);
    assert_eq!(again.code(), "already_paid");
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .body;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn buying_again_while_a_payment_entitles_the_student_is_409_already_paid() {
    // GIVEN a student who paid for a course and then unenrolled
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let (payment, _) = buy_and_pay(&app, &student, &course).await;
    app.delete(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
    )
    .await
    .assert(204);
    // WHEN they try to buy it again, THEN 409 `already_paid` naming the payment
    let again = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await
        .assert(409);
    assert_eq!(again.code(), "already_paid");
    assert!(again.body["error"].as_str().unwrap().contains(&payment));
    // AND a settlement of that payment queued again (a redrive) does not enroll them behind their back
    app.payments
        .confirmations
        .send(OutgoingMessage::new(
            json!({"tenant": "default", "paymentId": payment}).to_string(),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!is_enrolled(&app, &student, &course).await);
}

#[tokio::test]
async fn the_providers_own_error_text_never_reaches_the_client() {
    // GIVEN the app on (a fake) Stripe that refuses the next request in its own words
    let stripe = lectern_testkit::stripe::FakeStripe::start().await;
    let url = stripe.url.clone();
    let app = TestApp::spawn_with_payments(move |p| {
        let client = lectern_payments::StripeClient::new(
            lectern_testkit::stripe::KEY.into(),
            Some(format!("{url}/")),
        )
        .unwrap();
        p.provider = Arc::new(client);
        p.local = None;
    })
    .await;
    let (_, student, course) = paid_course(&app).await;
    stripe.answer_next(
        400,
        json!({"error": {"type": "invalid_request_error", "code": "parameter_invalid_integer",
            "message": "Amount must be at least 50 cents (acct_1InternalDetail)"}}),
    );

    // WHEN the student buys the course
    let reply = app
        .post(
            "/api/v1/payments/course",
            Some(&student.access),
            json!({"courseId": course}),
        )
        .await
        .assert(502);

    // THEN they get our message and a request id to quote, not Stripe's words; nothing is recorded
    assert_eq!(reply.code(), "payment_provider_rejected");
    let text = reply.body.to_string();
    assert!(!text.contains("acct_1InternalDetail"), "{text}");
    assert!(!text.contains("50 cents"), "{text}");
    assert!(!reply.body["requestId"].as_str().unwrap().is_empty());
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .body;
    assert_eq!(mine["data"], json!([]));
}

/// The local provider a network away, as Stripe is: creating an intent takes a while, so requests
/// sent together overlap.
struct DistantProvider(Arc<lectern_payments::LocalProvider>);

#[async_trait::async_trait]
impl lectern_payments::PaymentProvider for DistantProvider {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    async fn create_intent(
        &self,
        request: &lectern_payments::CreateIntent,
    ) -> Result<lectern_payments::Intent, lectern_payments::ProviderError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.0.create_intent(request).await
    }
    async fn retrieve_intent(
        &self,
        id: &str,
    ) -> Result<lectern_payments::Intent, lectern_payments::ProviderError> {
        self.0.retrieve_intent(id).await
    }
    async fn refund(
        &self,
        request: &lectern_payments::CreateRefund,
    ) -> Result<lectern_payments::Refund, lectern_payments::ProviderError> {
        self.0.refund(request).await
    }
}

#[tokio::test]
async fn the_same_idempotency_key_sent_at_once_makes_one_payment() {
    // GIVEN a student and a paid course, and a provider a network away
    let app = TestApp::spawn_with_payments(|p| {
        if let Some(local) = &p.local {
            p.provider = Arc::new(DistantProvider(local.clone()));
        }
    })
    .await;
    let (_, student, course) = paid_course(&app).await;
    let call = || {
        app.call_with(
            Method::POST,
            "/api/v1/payments/course",
            Some(&student.access),
            Some(json!({"courseId": course})),
            &[("idempotency-key", "order-at-once")],
        )
    };
    // WHEN four requests with the same key arrive together
    let (a, b, c, d) = tokio::join!(call(), call(), call(), call());

    // THEN each is the first's payment, or 409 `request_in_progress` while the first runs
    let mut ids = Vec::new();
    for reply in [a, b, c, d] {
        match reply.status.as_u16() {
            201 => ids.push(reply.body["payment"]["id"].clone()),
            409 => assert_eq!(reply.code(), "request_in_progress", "{}", reply.body),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .body;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["id"], ids[0]);
    // AND the key repeated afterwards answers the same payment
    let later = call().await.assert(201).body;
    assert_eq!(later["payment"]["id"], ids[0]);
}

#[tokio::test]
async fn idempotency_keys_up_to_255_characters_work_and_longer_ones_are_400_naming_the_limit() {
    // GIVEN a student and a paid course
    let app = TestApp::spawn().await;
    let (_, student, course) = paid_course(&app).await;
    let with_key = |key: String| {
        let app = &app;
        let token = student.access.clone();
        let course = course.clone();
        async move {
            app.call_with(
                Method::POST,
                "/api/v1/payments/course",
                Some(&token),
                Some(json!({"courseId": course})),
                &[("idempotency-key", key.as_str())],
            )
            .await
        }
    };
    // WHEN the longest key is used twice, THEN one payment, answered twice
    let first = with_key("k".repeat(255)).await.assert(201).body;
    let again = with_key("k".repeat(255)).await.assert(201).body;
    assert_eq!(first["payment"]["id"], again["payment"]["id"]);
    // WHEN a key one character longer is used, THEN 400 naming the limit, and nothing more is made
    let refused = with_key("k".repeat(256)).await.assert(400);
    assert_eq!(refused.code(), "invalid_idempotency_key");
    assert!(refused.body["error"].as_str().unwrap().contains("255"));
    let mine = app
        .get("/api/v1/payments", Some(&student.access))
        .await
        .body;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_course_with_paid_enrollments_cannot_be_deleted_until_they_are_refunded() {
    // GIVEN a paid course a student bought and paid for
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let (payment, _) = buy_and_pay(&app, &student, &course).await;
    let path = format!("/api/v1/courses/{course}");

    // WHEN its instructor, or an admin, deletes it, THEN 409 naming how many paid
    let refused = app.delete(&path, Some(&teacher.access)).await.assert(409);
    assert_eq!(refused.code(), "course_has_paid_enrollments");
    assert!(
        refused.body["error"].as_str().unwrap().contains("1 paid"),
        "{}",
        refused.body
    );
    let admin = app.admin().await;
    let refused = app.delete(&path, Some(&admin.access)).await.assert(409);
    assert_eq!(refused.code(), "course_has_paid_enrollments");
    // AND the course and the student's access are intact
    assert_eq!(
        course_page(&app, &student, &course).await["title"],
        "Rust, Seriously"
    );
    assert!(is_enrolled(&app, &student, &course).await);

    // WHEN the payment is refunded, THEN the course can be deleted
    app.post(
        &format!("/api/v1/payments/{payment}/refund"),
        Some(&admin.access),
        json!({}),
    )
    .await
    .assert(202);
    wait_for_status(&app, &student, &payment, "refunded").await;
    app.delete(&path, Some(&teacher.access)).await.assert(204);
    app.get(&path, None).await.assert(404);
}

#[tokio::test]
async fn a_payment_that_succeeds_after_its_course_was_deleted_is_kept_as_a_dead_letter() {
    // GIVEN a pending payment for a course its instructor then deletes
    let app = TestApp::spawn().await;
    let (teacher, student, course) = paid_course(&app).await;
    let payment = buy(&app, &student, &course).await["payment"].clone();
    let id = payment["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/courses/{course}"), Some(&teacher.access))
        .await
        .assert(204);

    // WHEN the student's payment succeeds at the provider
    let succeeded = succeeded_event(&app, payment["providerPaymentId"].as_str().unwrap());
    send_event(&app, &succeeded).await.assert(200);
    wait_for_status(&app, &student, id, "completed").await;

    // THEN its settlement is not dropped: it waits in the dead letters for an admin to refund it
    let admin = app.admin().await;
    let dead = eventually("the settlement in the dead letters", || async {
        let dead = app
            .get(
                "/api/v1/admin/dead-letters?queue=payment-confirmations",
                Some(&admin.access),
            )
            .await
            .assert(200)
            .body;
        (dead.as_array().unwrap().len() == 1).then_some(dead)
    })
    .await;
    let body: Value = serde_json::from_str(dead[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["paymentId"], id);
}

/// The dead letters `who` is shown, as (queue, tenant, body) sorted.
async fn letters_seen_by(app: &TestApp, who: &Session) -> Vec<(String, Value, String)> {
    let dead = app
        .get("/api/v1/admin/dead-letters", Some(&who.access))
        .await
        .assert(200)
        .body;
    let mut seen: Vec<(String, Value, String)> = dead
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["queue"].as_str().unwrap().to_owned(),
                d["tenant"].clone(),
                d["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.2.cmp(&b.2));
    seen
}

#[tokio::test]
async fn dead_letters_are_seen_and_redriven_by_their_tenants_admin_and_by_the_operator_only() {
    // GIVEN admins of two tenants, a student, and a platform operator named in the configuration
    let app = TestApp::spawn().await;
    let admin_a = app.admin().await;
    let admin_b = app.admin_in("acme", "admin@acme.test", "acmeadmin").await;
    let operator = app.operator().await;
    let student = app.user("s@x.org", "student", "student").await;
    // AND dead letters of each tenant: a settlement of tenant A, a Stripe event about an intent of
    // tenant B's (its metadata), and an event no tenant can be found for
    let settle_a = json!({"tenant": "default", "paymentId": "not-a-payment"}).to_string();
    app.payments
        .confirmations
        .send(OutgoingMessage::new(settle_a.clone()))
        .await
        .unwrap();
    let event_b = json!({"id": "evt_acme_lost", "object": "event", "type": "payment_intent.succeeded",
        "created": now(), "data": {"object": {"object": "payment_intent", "id": "pi_acme_unknown",
        "amount": 4900, "currency": "eur", "status": "succeeded",
        "metadata": {"tenantId": "acme", "paymentId": "01936f4e-0000-7000-8000-000000000000"}}}});
    send_event(&app, &event_b).await.assert(200);
    let nobodys = json!({"id": "evt_nobodys", "object": "event"});
    send_event(&app, &nobodys).await.assert(200);
    eventually("three dead letters", || async {
        (letters_seen_by(&app, &operator).await.len() == 3).then_some(())
    })
    .await;

    // WHEN each lists them, THEN an admin sees their own tenant's only, the operator all of them
    let seen_a = letters_seen_by(&app, &admin_a).await;
    assert_eq!(
        seen_a,
        [(
            "payment-confirmations".to_owned(),
            json!("default"),
            settle_a.clone()
        )]
    );
    let seen_b = letters_seen_by(&app, &admin_b).await;
    assert_eq!(seen_b.len(), 1, "{seen_b:?}");
    assert_eq!(seen_b[0].0, "payment-events");
    assert_eq!(seen_b[0].1, json!("acme"));
    assert!(seen_b[0].2.contains("evt_acme_lost"));
    let all = letters_seen_by(&app, &operator).await;
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .any(|l| l.1.is_null() && l.2.contains("evt_nobodys"))
    );
    app.get("/api/v1/admin/dead-letters", Some(&student.access))
        .await
        .assert(403);
    app.post(
        "/api/v1/admin/dead-letters/redrive",
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(403);

    // WHEN tenant B's admin redrives, THEN only B's letter moves; A's and the unowned stay
    let redriven = app
        .post(
            "/api/v1/admin/dead-letters/redrive",
            Some(&admin_b.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(redriven["redriven"], 1);
    let left = letters_seen_by(&app, &operator).await;
    assert!(left.iter().any(|l| l.2 == settle_a), "{left:?}");
    assert!(left.iter().any(|l| l.2.contains("evt_nobodys")), "{left:?}");
    assert!(
        !left.iter().any(|l| l.2.contains("evt_acme_lost")),
        "{left:?}"
    );
    // AND tenant A's admin redrives their own only
    let redriven = app
        .post(
            "/api/v1/admin/dead-letters/redrive",
            Some(&admin_a.access),
            json!({}),
        )
        .await
        .assert(200)
        .body;
    assert_eq!(redriven["redriven"], 1);
    let left = letters_seen_by(&app, &operator).await;
    assert!(left.iter().any(|l| l.2.contains("evt_nobodys")), "{left:?}");
    assert!(!left.iter().any(|l| l.2 == settle_a), "{left:?}");
}

#[test]
fn operators_are_read_from_the_configuration_and_malformed_entries_are_refused() {
    use payments_function::operators::Operators;
    let operators = Operators::parse(" default:Ops@Lectern.test , acme:root@acme.test").unwrap();
    let default = lectern_domain::TenantId::parse("default").unwrap();
    let email = lectern_domain::user::Email::parse("ops@lectern.test").unwrap();
    assert!(operators.lists(&default, &email));
    assert!(operators.any_in(&default));
    assert!(!operators.any_in(&lectern_domain::TenantId::parse("other").unwrap()));
    assert_eq!(Operators::parse("").unwrap(), Operators::default());
    assert!(Operators::parse("no-colon").is_err());
    assert!(Operators::parse("default:not an email").is_err());
}

#[tokio::test]
async fn an_instructors_revenue_reads_their_own_courses_whatever_the_catalog_holds() {
    // GIVEN an instructor with one course, and another with twelve (published and drafts), one of
    // them sold
    let (app, table) = TestApp::counting().await;
    let ada = app.user("ada@x.org", "ada", "instructor").await;
    let bob = app.user("bob@x.org", "bob", "instructor").await;
    let student = app.user("s@x.org", "student", "student").await;
    let hers = app.course(&ada, json!({"title": "Hers"}), true).await;
    let sold = app
        .course(
            &bob,
            json!({"title": "Sold", "price": 4900, "currency": "eur"}),
            true,
        )
        .await;
    for i in 0..11 {
        app.course(&bob, json!({"title": format!("His {i}")}), i % 2 == 0)
            .await;
    }
    let id = buy(&app, &student, &sold).await["payment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/dev/payments/{id}/simulate"),
        Some(&student.access),
        json!({"outcome": "succeeded"}),
    )
    .await
    .assert(202);
    wait_for_status(&app, &student, &id, "completed").await;
    table.take();

    // WHEN she reads her revenue over all her courses
    let mine = app
        .get("/api/v1/payments/analytics", Some(&ada.access))
        .await
        .assert(200)
        .body;

    // THEN it shows none of his sale, and the store read her course only: her courses (1 item),
    // then that course's revenue days and totals (none yet)
    assert_eq!(mine["byCourse"], json!([]), "{mine}");
    assert_eq!(mine["totals"], json!([]), "{mine}");
    let calls = table.take();
    assert_eq!(calls.items_read, 1, "items read for one course of hers");
    assert_eq!(
        calls.query, 3,
        "her courses, then her course's days and totals"
    );
    let _ = hers;
}
