//! `StripeClient` against a fake Stripe on 127.0.0.1 that checks what Stripe checks (Bearer key,
//! form fields) and records what it was sent (`Idempotency-Key`, `Stripe-Version`), answering in
//! Stripe's shapes; and the sorting of Stripe's failures into `Rejected` and `Unavailable`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::Method;
use lectern_payments::{
    CreateIntent, CreateRefund, IntentStatus, PaymentProvider, ProviderError, STRIPE_API_VERSION,
    StripeClient,
};
use lectern_testkit::stripe::{FakeStripe, KEY};
use serde_json::json;

fn client(stripe: &FakeStripe) -> StripeClient {
    StripeClient::new(KEY.into(), Some(format!("{}/", stripe.url))).unwrap()
}

fn create_request() -> CreateIntent {
    CreateIntent {
        amount: 4900,
        currency: "EUR".into(),
        metadata: BTreeMap::from([
            ("tenantId".to_owned(), "t_acme".to_owned()),
            ("paymentId".to_owned(), "pay_1".to_owned()),
            ("courseId".to_owned(), "c_rust".to_owned()),
            ("userId".to_owned(), "u_ada".to_owned()),
        ]),
        idempotency_key: "payment-pay_1".into(),
        description: Some("Course: Rust & friends".into()),
    }
}

fn rejected(error: ProviderError) -> (u16, Option<String>, String) {
    match error {
        ProviderError::Rejected {
            status,
            code,
            message,
        } => (status, code, message),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn creating_an_intent_posts_stripes_form_with_key_version_and_idempotency_key() {
    // GIVEN Stripe
    let stripe = FakeStripe::start().await;

    // WHEN an intent is created
    let intent = client(&stripe)
        .create_intent(&create_request())
        .await
        .unwrap();

    // THEN Stripe got one POST with the form fields, the key and the headers
    let seen = stripe.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v1/payment_intents")
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk_test_51FakeKeyForLectern")
    );
    assert_eq!(request.header("idempotency-key"), Some("payment-pay_1"));
    assert_eq!(request.header("stripe-version"), Some(STRIPE_API_VERSION));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.field("amount"), Some("4900"));
    assert_eq!(request.field("currency"), Some("eur"));
    assert_eq!(
        request.field("automatic_payment_methods[enabled]"),
        Some("true")
    );
    assert_eq!(request.field("description"), Some("Course: Rust & friends"));
    for (key, value) in [
        ("tenantId", "t_acme"),
        ("paymentId", "pay_1"),
        ("courseId", "c_rust"),
        ("userId", "u_ada"),
    ] {
        assert_eq!(request.field(&format!("metadata[{key}]")), Some(value));
    }
    // AND the answer is read into the port's intent, currency upper-cased
    assert_eq!(intent.id, "pi_3PfakE");
    assert_eq!(intent.client_secret.as_deref(), Some("pi_3PfakE_secret_x"));
    assert_eq!(intent.status, IntentStatus::RequiresPaymentMethod);
    assert_eq!((intent.amount, intent.currency.as_str()), (4900, "EUR"));
    assert_eq!(intent.metadata, create_request().metadata);
    assert_eq!(intent.latest_charge, None);
}

#[tokio::test]
async fn retrieving_an_intent_is_a_get_without_an_idempotency_key() {
    let stripe = FakeStripe::start().await;

    let intent = client(&stripe).retrieve_intent("pi_3PfakE").await.unwrap();

    let seen = stripe.seen();
    assert_eq!(
        (seen[0].method.clone(), seen[0].path.as_str()),
        (Method::GET, "/v1/payment_intents/pi_3PfakE")
    );
    assert_eq!(seen[0].header("idempotency-key"), None);
    assert_eq!(seen[0].header("stripe-version"), Some(STRIPE_API_VERSION));
    assert_eq!(intent.status, IntentStatus::Succeeded);
    assert_eq!(intent.currency, "EUR");
    assert_eq!(intent.latest_charge.as_deref(), Some("ch_3PfakE"));
    assert_eq!(intent.metadata["paymentId"], "pay_1");
}

#[tokio::test]
async fn an_unknown_intent_is_rejected_as_missing() {
    let stripe = FakeStripe::start().await;
    let error = client(&stripe)
        .retrieve_intent("pi_unknown")
        .await
        .unwrap_err();
    assert_eq!(
        rejected(error),
        (
            404,
            Some("resource_missing".into()),
            "No such payment_intent: 'pi_unknown'".into()
        )
    );
}

#[tokio::test]
async fn an_id_that_would_reshape_the_url_is_never_sent() {
    let stripe = FakeStripe::start().await;
    let error = client(&stripe)
        .retrieve_intent("pi_1/../../v1/charges")
        .await
        .unwrap_err();
    assert_eq!(rejected(error).0, 404);
    assert!(stripe.seen().is_empty());
}

#[tokio::test]
async fn a_refund_posts_the_intent_amount_and_metadata() {
    let stripe = FakeStripe::start().await;

    let refund = client(&stripe)
        .refund(&CreateRefund {
            payment_intent: "pi_3PfakE".into(),
            amount: Some(900),
            idempotency_key: "refund-r1".into(),
            metadata: BTreeMap::from([("refundId".to_owned(), "r1".to_owned())]),
        })
        .await
        .unwrap();

    let seen = stripe.seen();
    assert_eq!(
        (seen[0].method.clone(), seen[0].path.as_str()),
        (Method::POST, "/v1/refunds")
    );
    assert_eq!(seen[0].header("idempotency-key"), Some("refund-r1"));
    assert_eq!(seen[0].field("payment_intent"), Some("pi_3PfakE"));
    assert_eq!(seen[0].field("amount"), Some("900"));
    assert_eq!(seen[0].field("metadata[refundId]"), Some("r1"));
    assert_eq!(refund.id, "re_3PfakE");
    assert_eq!(
        (
            refund.status.as_str(),
            refund.amount,
            refund.currency.as_str()
        ),
        ("succeeded", 900, "EUR")
    );
}

#[tokio::test]
async fn a_full_refund_sends_no_amount() {
    let stripe = FakeStripe::start().await;
    let refund = client(&stripe)
        .refund(&CreateRefund {
            payment_intent: "pi_3PfakE".into(),
            amount: None,
            idempotency_key: "refund-r2".into(),
            metadata: BTreeMap::new(),
        })
        .await
        .unwrap();
    assert_eq!(stripe.seen()[0].field("amount"), None);
    assert_eq!(refund.amount, 4900);
}

#[tokio::test]
async fn a_declined_card_is_rejected_with_stripes_code_and_message() {
    let stripe = FakeStripe::start().await;
    stripe.answer_next(
        402,
        json!({"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.", "doc_url": "https://stripe.com/docs/error-codes/card-declined"
        }}),
    );

    let error = client(&stripe)
        .create_intent(&create_request())
        .await
        .unwrap_err();

    assert!(!error.is_retryable());
    assert_eq!(error.code(), Some("card_declined"));
    assert_eq!(
        rejected(error),
        (
            402,
            Some("card_declined".into()),
            "Your card has insufficient funds.".into()
        )
    );
}

#[tokio::test]
async fn a_wrong_key_is_rejected_with_the_error_type_as_code() {
    let stripe = FakeStripe::start().await;
    let client = StripeClient::new("sk_test_wrong".into(), Some(stripe.url.clone())).unwrap();

    let error = client.create_intent(&create_request()).await.unwrap_err();

    let (status, code, message) = rejected(error);
    assert_eq!(
        (status, code.as_deref()),
        (401, Some("invalid_request_error"))
    );
    assert!(message.starts_with("Invalid API Key"), "{message}");
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_unavailable() {
    let stripe = FakeStripe::start().await;
    stripe.answer_next(
        500,
        json!({"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}),
    );
    stripe.answer_next(
        429,
        json!({"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}}),
    );
    stripe.answer_next_with(
        502,
        "<html>Bad gateway</html>".into(),
        vec![],
        Duration::ZERO,
    );
    let client = client(&stripe);

    for expected in ["HTTP 500", "HTTP 429", "HTTP 502"] {
        let error = client.create_intent(&create_request()).await.unwrap_err();
        assert!(error.is_retryable(), "{error:?}");
        let shown = error.to_string();
        assert!(shown.contains(expected), "{shown}");
        // The key never appears in what gets logged.
        assert!(!format!("{error:?}").contains(KEY));
    }
}

#[tokio::test]
async fn a_conflict_stripe_says_to_retry_is_unavailable() {
    // GIVEN Stripe still running the first request with this idempotency key
    let stripe = FakeStripe::start().await;
    let body = json!({"error": {"type": "idempotency_error", "code": "idempotency_key_in_use",
        "message": "There is currently another in-progress request using this Idempotent Key"}});
    stripe.answer_next_with(
        409,
        body.to_string(),
        vec![("stripe-should-retry", "true")],
        Duration::ZERO,
    );

    let error = client(&stripe)
        .create_intent(&create_request())
        .await
        .unwrap_err();

    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_unavailable() {
    let stripe = FakeStripe::start().await;
    stripe.answer_next_with(200, "{\"id\": 42}".into(), vec![], Duration::ZERO);
    let error = client(&stripe)
        .create_intent(&create_request())
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    // GIVEN a port nobody listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = StripeClient::new(KEY.into(), Some(url)).unwrap();

    let error = client.retrieve_intent("pi_3PfakE").await.unwrap_err();

    assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_stripe_that_does_not_answer_in_time_is_unavailable() {
    let stripe = FakeStripe::start().await;
    stripe.answer_next_with(200, "{}".into(), vec![], Duration::from_secs(5));
    let client = StripeClient::with_timeouts(
        KEY.into(),
        Some(stripe.url.clone()),
        Duration::from_secs(1),
        Duration::from_millis(300),
    )
    .unwrap();

    let started = std::time::Instant::now();
    let error = client.retrieve_intent("pi_3PfakE").await.unwrap_err();

    assert!(error.is_retryable(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn an_idempotency_key_that_cannot_be_a_header_is_refused_before_sending() {
    let stripe = FakeStripe::start().await;
    let mut request = create_request();
    request.idempotency_key = "pay_1\r\nX-Injected: 1".into();

    let error = client(&stripe).create_intent(&request).await.unwrap_err();

    assert_eq!(rejected(error).0, 400);
    assert!(stripe.seen().is_empty());
}

#[tokio::test]
async fn https_goes_through_rustls_and_an_unfinished_handshake_is_unavailable() {
    // GIVEN a server that reads the client's first bytes and hangs up
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let first_bytes = tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = [0u8; 5];
        socket.read_exact(&mut buffer).await.unwrap();
        buffer
    });
    let client = StripeClient::new(KEY.into(), Some(url)).unwrap();

    // WHEN the client calls it
    let error = client.retrieve_intent("pi_3PfakE").await.unwrap_err();

    // THEN it opened with a TLS handshake record (not plain HTTP carrying the key) and failed softly
    let record = first_bytes.await.unwrap();
    assert_eq!(record[0], 0x16, "{record:?}");
    assert!(error.is_retryable(), "{error:?}");
}
