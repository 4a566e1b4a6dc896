//! The Secrets Manager adapter against a fake that checks what it receives: each secret is read with
//! one signed `GetSecretValue`, and an error names the variable and the secret, never a value.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use lectern_aws::secrets::{fetch, named};
use lectern_testkit::secrets::{FakeSecretsManager, SecretRead};

const JWT_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lectern/jwt-AbCdEf";
const STRIPE_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lectern/stripe-GhIjKl";

fn config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDLECTERN",
            "secret",
            Some("session".into()),
            None,
            "tests",
        )))
        .http_client(lectern_aws::http_client())
        .endpoint_url(endpoint)
        .build()
}

async fn fake() -> FakeSecretsManager {
    FakeSecretsManager::start(BTreeMap::from([
        (
            JWT_ARN.to_owned(),
            "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n".to_owned(),
        ),
        (STRIPE_ARN.to_owned(), "sk_test_lectern".to_owned()),
    ]))
    .await
    .unwrap()
}

#[tokio::test]
async fn every_named_secret_is_read_once_with_a_signed_request() {
    // GIVEN two variables that name secrets, and the fake holding them
    let fake = fake().await;
    let named = named([
        (
            "LECTERN_JWT_PRIVATE_KEY_SECRET_ARN".to_owned(),
            JWT_ARN.to_owned(),
        ),
        (
            "STRIPE_SECRET_KEY_SECRET_ARN".to_owned(),
            STRIPE_ARN.to_owned(),
        ),
        ("LECTERN_TENANTS".to_owned(), "default".to_owned()),
    ]);

    // WHEN they are fetched
    let values = fetch(&named, &config(&fake.endpoint)).await.unwrap();

    // THEN each variable has its secret's string
    assert_eq!(values.len(), 2);
    assert!(values["LECTERN_JWT_PRIVATE_KEY"].starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(values["STRIPE_SECRET_KEY"], "sk_test_lectern");
    // AND the fake saw one GetSecretValue per secret, signed with the credentials, in the region
    let mut reads = fake.reads();
    reads.sort_by(|a, b| a.secret_id.cmp(&b.secret_id));
    let expected = |id: &str| SecretRead {
        secret_id: id.to_owned(),
        access_key: "AKIDLECTERN".to_owned(),
        region: "eu-west-1".to_owned(),
    };
    assert_eq!(reads, vec![expected(JWT_ARN), expected(STRIPE_ARN)]);
}

#[tokio::test]
async fn a_missing_secret_fails_the_start_naming_the_variable_and_the_secret() {
    // GIVEN a variable naming a secret the store does not have, beside one it has
    let fake = fake().await;
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lectern/gone-XyZ";
    let named = named([
        (
            "STRIPE_SECRET_KEY_SECRET_ARN".to_owned(),
            STRIPE_ARN.to_owned(),
        ),
        (
            "STRIPE_WEBHOOK_SECRET_SECRET_ARN".to_owned(),
            missing.to_owned(),
        ),
    ]);

    // WHEN they are fetched
    let error = fetch(&named, &config(&fake.endpoint)).await.unwrap_err();

    // THEN the error says which variable and which secret, and carries no secret's value
    let message = format!("{error:#}");
    assert!(
        message.contains("STRIPE_WEBHOOK_SECRET_SECRET_ARN"),
        "{message}"
    );
    assert!(message.contains(missing), "{message}");
    assert!(!message.contains("sk_test_lectern"), "{message}");
}

#[tokio::test]
async fn nothing_named_means_no_call() {
    // GIVEN an environment that names no secret (a local run)
    let fake = fake().await;
    let named = named([("LECTERN_JWT_PRIVATE_KEY".to_owned(), "pem".to_owned())]);

    // WHEN they are fetched
    let values = fetch(&named, &config(&fake.endpoint)).await.unwrap();

    // THEN nothing is read and nothing was asked
    assert!(values.is_empty());
    assert!(fake.reads().is_empty());
}
