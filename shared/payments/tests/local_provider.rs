//! The local provider keeps Stripe's rules: ids and client secrets, idempotency keys, outcomes
//! decided by `settle`, refundable amounts, and Stripe's error codes.

use std::collections::BTreeMap;

use lectern_payments::{
    CreateIntent, CreateRefund, IntentStatus, LocalProvider, Outcome, PaymentProvider,
    ProviderError,
};

fn metadata() -> BTreeMap<String, String> {
    [
        ("tenantId", "t_acme"),
        ("paymentId", "pay_1"),
        ("courseId", "c_rust"),
        ("userId", "u_ada"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn create(key: &str) -> CreateIntent {
    CreateIntent {
        amount: 4900,
        currency: "eur".into(),
        metadata: metadata(),
        idempotency_key: key.into(),
        description: Some("Rust for course builders".into()),
    }
}

fn refund(intent: &str, amount: Option<i64>, key: &str) -> CreateRefund {
    CreateRefund {
        payment_intent: intent.into(),
        amount,
        idempotency_key: key.into(),
        metadata: BTreeMap::new(),
    }
}

fn code(error: ProviderError) -> (u16, String) {
    match error {
        ProviderError::Rejected { status, code, .. } => (status, code.unwrap_or_default()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_intent_awaits_a_payment_method_with_a_client_secret() {
    let provider = LocalProvider::new();
    let intent = provider.create_intent(&create("pay_1")).await.unwrap();

    assert_eq!(provider.name(), "local");
    assert!(intent.id.starts_with("pi_local_") && intent.id.len() == "pi_local_".len() + 32);
    let secret = intent.client_secret.as_deref().unwrap();
    assert!(
        secret.starts_with(&format!("{}_secret_", intent.id)),
        "{secret}"
    );
    assert_eq!(intent.status, IntentStatus::RequiresPaymentMethod);
    assert_eq!((intent.amount, intent.currency.as_str()), (4900, "EUR"));
    assert_eq!(intent.metadata, metadata());
    assert_eq!(intent.latest_charge, None);
    assert_eq!(provider.retrieve_intent(&intent.id).await.unwrap(), intent);
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_intent() {
    let provider = LocalProvider::new();
    let first = provider.create_intent(&create("pay_1")).await.unwrap();
    // The currency's case does not make it another request.
    let mut again = create("pay_1");
    again.currency = "EUR".into();
    let second = provider.create_intent(&again).await.unwrap();
    let other = provider.create_intent(&create("pay_2")).await.unwrap();

    assert_eq!(first, second);
    assert_ne!(first.id, other.id);
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let provider = LocalProvider::new();
    provider.create_intent(&create("pay_1")).await.unwrap();
    let mut changed = create("pay_1");
    changed.amount = 100;

    let error = provider.create_intent(&changed).await.unwrap_err();
    assert_eq!(code(error), (400, "idempotency_error".into()));
}

#[tokio::test]
async fn invalid_amounts_currencies_and_keys_are_refused_as_stripe_would() {
    let provider = LocalProvider::new();
    let mut zero = create("k1");
    zero.amount = 0;
    let mut currency = create("k2");
    currency.currency = "euro".into();
    let key = create("");

    assert_eq!(
        code(provider.create_intent(&zero).await.unwrap_err()),
        (400, "parameter_invalid_integer".into())
    );
    assert_eq!(
        code(provider.create_intent(&currency).await.unwrap_err()).0,
        400
    );
    assert_eq!(
        code(provider.create_intent(&key).await.unwrap_err()),
        (400, "idempotency_key_invalid".into())
    );
}

#[tokio::test]
async fn an_unknown_intent_is_resource_missing() {
    let provider = LocalProvider::new();
    for id in ["pi_local_nope", "../v1/charges"] {
        let error = provider.retrieve_intent(id).await.unwrap_err();
        assert_eq!(code(error), (404, "resource_missing".into()));
    }
    let error = provider
        .settle("pi_local_nope", Outcome::Succeeded)
        .unwrap_err();
    assert_eq!(code(error), (404, "resource_missing".into()));
}

#[tokio::test]
async fn settling_successfully_charges_the_intent() {
    let provider = LocalProvider::new();
    let intent = provider.create_intent(&create("pay_1")).await.unwrap();

    let settled = provider.settle(&intent.id, Outcome::Succeeded).unwrap();

    assert_eq!(settled.status, IntentStatus::Succeeded);
    let charge = settled.latest_charge.as_deref().unwrap();
    assert!(charge.starts_with("ch_local_"), "{charge}");
    assert_eq!(provider.retrieve_intent(&intent.id).await.unwrap(), settled);
    // A succeeded intent cannot be settled again.
    let error = provider.settle(&intent.id, Outcome::Failed).unwrap_err();
    assert_eq!(code(error), (400, "payment_intent_unexpected_state".into()));
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_intent_open_for_another_try() {
    let provider = LocalProvider::new();
    let intent = provider.create_intent(&create("pay_1")).await.unwrap();

    let failed = provider.settle(&intent.id, Outcome::Failed).unwrap();
    assert_eq!(failed.status, IntentStatus::RequiresPaymentMethod);
    let failed_charge = failed.latest_charge.clone().unwrap();

    let paid = provider.settle(&intent.id, Outcome::Succeeded).unwrap();
    assert_eq!(paid.status, IntentStatus::Succeeded);
    assert_ne!(paid.latest_charge.unwrap(), failed_charge);
}

#[tokio::test]
async fn an_intent_that_has_not_succeeded_cannot_be_refunded() {
    let provider = LocalProvider::new();
    let intent = provider.create_intent(&create("pay_1")).await.unwrap();

    let error = provider
        .refund(&refund(&intent.id, None, "r1"))
        .await
        .unwrap_err();
    assert_eq!(code(error), (400, "payment_intent_unexpected_state".into()));

    // The refused key is not burnt: once paid, the same refund request goes through.
    provider.settle(&intent.id, Outcome::Succeeded).unwrap();
    let refunded = provider.refund(&refund(&intent.id, None, "r1")).await;
    assert_eq!(refunded.unwrap().amount, 4900);
}

#[tokio::test]
async fn refunds_take_what_is_left_and_no_more() {
    let provider = LocalProvider::new();
    let intent = provider.create_intent(&create("pay_1")).await.unwrap();
    provider.settle(&intent.id, Outcome::Succeeded).unwrap();

    // A partial refund, replayed with its key, counts once.
    let partial = provider
        .refund(&refund(&intent.id, Some(900), "r1"))
        .await
        .unwrap();
    let replay = provider
        .refund(&refund(&intent.id, Some(900), "r1"))
        .await
        .unwrap();
    assert_eq!(partial, replay);
    assert!(partial.id.starts_with("re_local_"), "{}", partial.id);
    assert_eq!(
        (
            partial.status.as_str(),
            partial.amount,
            partial.currency.as_str()
        ),
        ("succeeded", 900, "EUR")
    );
    assert_eq!(provider.amount_refunded(&intent.id), Some(900));

    let too_much = provider
        .refund(&refund(&intent.id, Some(4001), "r2"))
        .await
        .unwrap_err();
    assert_eq!(code(too_much), (400, "amount_too_large".into()));

    let rest = provider
        .refund(&refund(&intent.id, None, "r3"))
        .await
        .unwrap();
    assert_eq!(rest.amount, 4000);

    let again = provider
        .refund(&refund(&intent.id, None, "r4"))
        .await
        .unwrap_err();
    assert_eq!(code(again), (400, "charge_already_refunded".into()));
}

#[tokio::test]
async fn clones_share_one_set_of_intents_behind_the_port() {
    // GIVEN the routes holding the provider as a trait object and a simulate route holding a clone
    let local = LocalProvider::new();
    let port: std::sync::Arc<dyn PaymentProvider> = std::sync::Arc::new(local.clone());
    let intent = port.create_intent(&create("pay_1")).await.unwrap();

    // WHEN the simulate route settles it
    local.settle(&intent.id, Outcome::Succeeded).unwrap();

    // THEN the routes see it paid
    let seen = port.retrieve_intent(&intent.id).await.unwrap();
    assert_eq!(seen.status, IntentStatus::Succeeded);
}
