//! Paid courses: buying, the provider's webhooks through the queue, settlement (invoice, enrollment,
//! notification), duplicates, reordering, refunds, disputes, dead letters, idempotency keys, and who
//! may see what.

use std::time::{Duration, Instant};

use lectern_payments::{Outcome, events, webhook};
use lectern_queue::OutgoingMessage;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, Session, TestApp};

/// A published course at 49.00 EUR, its teacher and a student.
async fn paid_course(app: &TestApp) -> (Session, Session, String) {
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
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Signs an event with the app's webhook secret and posts it.
async fn send_event(app: &TestApp, event: &Value) -> Reply {
    let body = serde_json::to_vec(event).unwrap();
    let signature = webhook::sign(&app.payments.ingest.webhook_secret, now(), &body);
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

async fn is_enrolled(app: &TestApp, student: &Session, course: &str) -> bool {
    course_page(app, student, course).await["enrollment"]["status"] == "active"
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
    let secret = &app.payments.ingest.webhook_secret;

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
    let admin = app.admin().await;
    let dead = app
        .get("/api/v1/admin/dead-letters", Some(&admin.access))
        .await
        .assert(200)
        .body;
    assert_eq!(dead, json!([]));

    // The same event, correctly signed, goes through.
    send_event(&app, &event).await.assert(200);
    wait_for_status(&app, &student, id, "completed").await;
}

#[tokio::test]
async fn the_same_event_three_times_enrolls_once_and_issues_one_invoice() {
    let app = TestApp::spawn().await;
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
    let notifications = app
        .get("/api/v1/notifications", Some(&student.access))
        .await
        .body;
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

    let admin = app.admin().await;
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
    let admin = app.admin().await;
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
