//! Built events have Stripe's shape and parse back to what was put in; events as Stripe sends them
//! (extra fields, expanded references, types Lectern ignores) parse too.

use std::collections::BTreeMap;

use lectern_payments::events::{
    charge_refunded_event, dispute_event, new_event_id, payment_intent_event,
};
use lectern_payments::webhook::{sign, verify};
use lectern_payments::{
    CreateIntent, EventObject, Intent, IntentStatus, LocalProvider, Outcome, PaymentProvider,
    STRIPE_API_VERSION, StripeEvent,
};
use serde_json::json;

const CREATED: i64 = 1_718_000_000;

fn intent(status: IntentStatus) -> Intent {
    Intent {
        id: "pi_3PbE1x".into(),
        client_secret: Some("pi_3PbE1x_secret_abc".into()),
        status,
        amount: 4900,
        currency: "EUR".into(),
        metadata: BTreeMap::from([
            ("tenantId".to_owned(), "t_acme".to_owned()),
            ("paymentId".to_owned(), "pay_1".to_owned()),
        ]),
        latest_charge: Some("ch_3PbE1x".into()),
    }
}

fn parse(value: &serde_json::Value) -> StripeEvent {
    StripeEvent::parse(&serde_json::to_vec(value).unwrap()).unwrap()
}

#[test]
fn a_built_event_has_stripes_envelope() {
    let event = payment_intent_event(
        "payment_intent.succeeded",
        &intent(IntentStatus::Succeeded),
        "evt_1",
        CREATED,
    );

    assert_eq!(event["id"], "evt_1");
    assert_eq!(event["object"], "event");
    assert_eq!(event["api_version"], STRIPE_API_VERSION);
    assert_eq!(event["created"], CREATED);
    assert_eq!(event["livemode"], false);
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(
        event["request"],
        json!({"id": null, "idempotency_key": null})
    );
    assert_eq!(event["type"], "payment_intent.succeeded");
    let object = &event["data"]["object"];
    assert_eq!(object["object"], "payment_intent");
    assert_eq!(object["currency"], "eur");
    assert_eq!(object["status"], "succeeded");
    assert_eq!(object["amount_received"], 4900);
    assert_eq!(object["metadata"]["tenantId"], "t_acme");
    assert_eq!(object["last_payment_error"], json!(null));
}

#[test]
fn a_payment_intent_event_parses_back() {
    for (kind, status) in [
        ("payment_intent.succeeded", IntentStatus::Succeeded),
        ("payment_failed", IntentStatus::RequiresPaymentMethod),
    ] {
        let source = intent(status.clone());
        let event = parse(&payment_intent_event(kind, &source, "evt_1", CREATED));

        assert_eq!(event.id, "evt_1");
        assert_eq!(event.created, CREATED);
        assert_eq!(
            event.object,
            EventObject::PaymentIntent {
                id: source.id.clone(),
                amount: 4900,
                currency: "EUR".into(),
                status,
                metadata: source.metadata.clone(),
                latest_charge: source.latest_charge.clone(),
            }
        );
        assert_eq!(event.payment_intent_id(), Some("pi_3PbE1x"));
    }
}

#[test]
fn a_failed_payment_event_says_why() {
    let event = payment_intent_event(
        "payment_intent.payment_failed",
        &intent(IntentStatus::RequiresPaymentMethod),
        "evt_1",
        CREATED,
    );
    assert_eq!(event["type"], "payment_intent.payment_failed");
    let error = &event["data"]["object"]["last_payment_error"];
    assert_eq!(error["type"], "card_error");
    assert_eq!(error["code"], "card_declined");
    assert_eq!(error["charge"], "ch_3PbE1x");
}

#[test]
fn a_charge_refunded_event_parses_back() {
    let partial = charge_refunded_event("ch_1", "pi_1", 4900, 900, "EUR", "evt_2", CREATED);
    let full = charge_refunded_event("ch_1", "pi_1", 4900, 4900, "eur", "evt_3", CREATED);

    assert_eq!(partial["type"], "charge.refunded");
    assert_eq!(partial["data"]["object"]["currency"], "eur");
    let event = parse(&partial);
    assert_eq!(event.event_type, "charge.refunded");
    assert_eq!(
        event.object,
        EventObject::Charge {
            id: "ch_1".into(),
            payment_intent: Some("pi_1".into()),
            amount: 4900,
            amount_refunded: 900,
            currency: "EUR".into(),
            refunded: false,
        }
    );
    assert!(matches!(
        parse(&full).object,
        EventObject::Charge { refunded: true, .. }
    ));
    assert_eq!(event.payment_intent_id(), Some("pi_1"));
}

#[test]
fn dispute_events_parse_back() {
    for (kind, full_kind, status) in [
        ("created", "charge.dispute.created", "needs_response"),
        ("charge.dispute.closed", "charge.dispute.closed", "lost"),
    ] {
        let built = dispute_event(
            kind,
            "du_1",
            "ch_1",
            "pi_1",
            4900,
            "EUR",
            "fraudulent",
            status,
            "evt_4",
            CREATED,
        );
        assert_eq!(built["type"], full_kind);
        assert_eq!(built["data"]["object"]["evidence"]["receipt"], json!(null));
        let event = parse(&built);
        assert_eq!(
            event.object,
            EventObject::Dispute {
                id: "du_1".into(),
                charge: "ch_1".into(),
                payment_intent: Some("pi_1".into()),
                amount: 4900,
                currency: "EUR".into(),
                reason: "fraudulent".into(),
                status: status.into(),
            }
        );
    }
}

#[test]
fn unknown_event_types_and_fields_parse() {
    // GIVEN an event Lectern does not act on, with fields from a newer API version
    let body = json!({
        "id": "evt_9", "object": "event", "api_version": "2099-01-01", "created": CREATED,
        "type": "customer.created", "brand_new_field": {"x": 1},
        "data": {"object": {"id": "cus_1", "object": "customer", "email": null}}
    });
    let event = parse(&body);
    assert_eq!(event.event_type, "customer.created");
    assert_eq!(
        event.object,
        EventObject::Other(body["data"]["object"].clone())
    );
    assert_eq!(event.payment_intent_id(), None);
}

#[test]
fn expanded_references_and_new_statuses_are_read() {
    let body = json!({
        "id": "evt_8", "object": "event", "created": CREATED, "type": "payment_intent.amount_capturable_updated",
        "data": {"object": {
            "id": "pi_1", "object": "payment_intent", "amount": 100, "currency": "usd",
            "status": "requires_capture", "metadata": {}, "future_field": true,
            "latest_charge": {"id": "ch_9", "object": "charge"}
        }}
    });
    match parse(&body).object {
        EventObject::PaymentIntent {
            status,
            latest_charge,
            currency,
            ..
        } => {
            assert_eq!(status, IntentStatus::RequiresCapture);
            assert_eq!(latest_charge.as_deref(), Some("ch_9"));
            assert_eq!(currency, "USD");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bodies_that_are_not_events_are_refused() {
    for body in [
        &b"not json"[..],
        br#"{"id":"evt_1"}"#,
        br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"object":"payment_intent","id":"pi_1"}}}"#,
    ] {
        assert!(StripeEvent::parse(body).is_err(), "{}", String::from_utf8_lossy(body));
    }
}

#[tokio::test]
async fn a_simulated_payment_travels_as_a_signed_event_that_the_webhook_side_accepts() {
    // GIVEN a local intent that the developer marks paid
    let provider = LocalProvider::new();
    let intent = provider
        .create_intent(&CreateIntent {
            amount: 1999,
            currency: "usd".into(),
            metadata: BTreeMap::from([("paymentId".to_owned(), "pay_7".to_owned())]),
            idempotency_key: "pay_7".into(),
            description: None,
        })
        .await
        .unwrap();
    let paid = provider.settle(&intent.id, Outcome::Succeeded).unwrap();

    // WHEN the simulate route posts it as Stripe would
    let event_id = new_event_id();
    let body = serde_json::to_vec(&payment_intent_event(
        "payment_intent.succeeded",
        &paid,
        &event_id,
        CREATED,
    ))
    .unwrap();
    let header = sign("whsec_local", CREATED + 1, &body);

    // THEN the webhook side verifies and reads it
    assert_eq!(
        verify(Some(&header), &body, "whsec_local", CREATED + 5, 300),
        Ok(CREATED + 1)
    );
    let event = StripeEvent::parse(&body).unwrap();
    assert_eq!(event.id, event_id);
    match event.object {
        EventObject::PaymentIntent {
            id,
            status,
            metadata,
            latest_charge,
            ..
        } => {
            assert_eq!(id, intent.id);
            assert_eq!(status, IntentStatus::Succeeded);
            assert_eq!(metadata["paymentId"], "pay_7");
            assert_eq!(latest_charge, paid.latest_charge);
        }
        other => panic!("{other:?}"),
    }
}
