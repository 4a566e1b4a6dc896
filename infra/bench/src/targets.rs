//! What the benchmark runs: the functions of `template.yaml` with the environment it gives them
//! (pointed at a local SQLite file), the floor, and each function's events from `events/` with the
//! status each must answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use serde_json::Value;

use crate::server::STORE_FILE;

/// Which half of the signing key a function gets (the template's `JwtPrivateKeyPem` / `JwtPublicKeyPem`),
/// if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHalf {
    Private,
    Public,
    /// The webhook function and the queue workers check no token.
    None,
}

/// How a function is invoked, and so what its answer must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Behind API Gateway: HTTP API (v2) events in, proxy responses (`statusCode`) out.
    Http,
    /// Behind an event source mapping (an SQS queue, the table's stream): batches in,
    /// `batchItemFailures` out.
    Worker,
}

/// A Lambda function of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The name `--functions` takes and the report shows.
    pub name: &'static str,
    /// The cargo package.
    pub package: &'static str,
    /// The binary (the template's `bootstrap`).
    pub binary: &'static str,
    /// Its events are `events/<events>.json` and `events/<events>-*.json`.
    pub events: &'static str,
    pub kind: Kind,
    pub key: KeyHalf,
    /// Variables the template gives this function beside the Globals and its key, as they are set in
    /// the bench's local runs (SQLite store, local queues).
    pub local_env: &'static [(&'static str, &'static str)],
    /// The same as the template sets them in AWS (SQS queues, the Stripe provider), for the init-only
    /// cold starts with the template's settings.
    pub aws_env: &'static [(&'static str, &'static str)],
    /// The SQLite file its local runs use, in the data folder. The webhook function gets a file of
    /// its own so that the seeding server's events worker does not drain (and race) its queue.
    pub sqlite_file: &'static str,
}

/// The webhook signing secret the bench gives the functions and signs its webhook events with.
pub const WEBHOOK_SECRET: &str = "whsec_lectern_bench";

/// Queue URLs and an SQS endpoint nothing listens on: the SQS client is built at init and makes no
/// call, and the workers' queues are only ever sent to by the events worker, which the bench runs on
/// the local queues.
const SQS_ENDPOINT: (&str, &str) = ("LECTERN_SQS_ENDPOINT", "http://127.0.0.1:9");
const EVENTS_QUEUE_URL: (&str, &str) = (
    "LECTERN_PAYMENT_EVENTS_QUEUE_URL",
    "http://127.0.0.1:9/000000000000/lectern-bench-events",
);
const CONFIRMATIONS_QUEUE_URL: (&str, &str) = (
    "LECTERN_PAYMENT_CONFIRMATIONS_QUEUE_URL",
    "http://127.0.0.1:9/000000000000/lectern-bench-confirmations",
);

/// Every function of `template.yaml`: the HTTP route groups, the Stripe webhook endpoint and the two
/// SQS workers. The payments group's local runs use the local payment provider, which made the
/// seeded payment (the template sets `stripe`: the events worker would look the intent up under
/// that provider's name and find no payment).
pub const FUNCTIONS: [Function; 10] = [
    Function::route_group("auth", "auth-function", KeyHalf::Private),
    Function::route_group("users", "users-function", KeyHalf::Public),
    Function::route_group("courses", "courses-function", KeyHalf::Public),
    Function::route_group("assignments", "assignments-function", KeyHalf::Public),
    Function {
        name: "files",
        package: "files-function",
        binary: "files-function",
        events: "files",
        kind: Kind::Http,
        key: KeyHalf::Public,
        // The template's bucket; the S3 client is built at init and presigns without a call. The
        // events read no object.
        local_env: &[
            ("LECTERN_S3_BUCKET", "lectern-bench-files"),
            ("LECTERN_S3_ENDPOINT", "http://127.0.0.1:9"),
        ],
        aws_env: &[("LECTERN_S3_BUCKET", "lectern-bench-files")],
        sqlite_file: STORE_FILE,
    },
    Function {
        name: "payments",
        package: "payments-function",
        binary: "payments-function",
        events: "payments",
        kind: Kind::Http,
        key: KeyHalf::Public,
        local_env: &[
            ("LECTERN_PAYMENTS_PROVIDER", "local"),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
        aws_env: &[
            ("LECTERN_PAYMENTS_PROVIDER", "stripe"),
            // As in the template: the payments function serves no webhook route and is not given
            // the webhook signing secret.
            ("STRIPE_SECRET_KEY", "sk_test_lectern_bench"),
            ("LECTERN_REFUND_WINDOW_DAYS", "14"),
            ("LECTERN_QUEUE", "sqs"),
            SQS_ENDPOINT,
            EVENTS_QUEUE_URL,
            CONFIRMATIONS_QUEUE_URL,
        ],
        sqlite_file: STORE_FILE,
    },
    Function {
        name: "stripe-webhook",
        package: "payments-function",
        binary: "stripe-webhook",
        events: "stripe-webhook",
        kind: Kind::Http,
        key: KeyHalf::None,
        local_env: &[
            ("LECTERN_PAYMENTS_PROVIDER", "stripe"),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
        aws_env: &[
            ("LECTERN_PAYMENTS_PROVIDER", "stripe"),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("LECTERN_QUEUE", "sqs"),
            SQS_ENDPOINT,
            EVENTS_QUEUE_URL,
        ],
        sqlite_file: "webhook.db",
    },
    Function {
        name: "payment-events",
        package: "payment-workers-function",
        binary: "payment-events-worker",
        events: "sqs-payment-events",
        kind: Kind::Worker,
        key: KeyHalf::None,
        local_env: &[("LECTERN_PAYMENTS_PROVIDER", "local")],
        aws_env: &[
            ("LECTERN_PAYMENTS_PROVIDER", "stripe"),
            ("LECTERN_QUEUE", "sqs"),
            SQS_ENDPOINT,
            CONFIRMATIONS_QUEUE_URL,
        ],
        sqlite_file: STORE_FILE,
    },
    Function {
        name: "confirmations",
        package: "payment-workers-function",
        binary: "payment-confirmation-worker",
        events: "sqs-payment-confirmations",
        kind: Kind::Worker,
        key: KeyHalf::None,
        local_env: &[],
        aws_env: &[],
        sqlite_file: STORE_FILE,
    },
    Function {
        name: "event-router",
        package: "events-function",
        binary: "events-function",
        events: "dynamodb-stream-outbox",
        kind: Kind::Worker,
        key: KeyHalf::None,
        local_env: &[],
        aws_env: &[],
        sqlite_file: STORE_FILE,
    },
];

impl Function {
    /// A route group's function in the template's usual shape: its package's one binary, its own
    /// events, the Globals only, the shared SQLite file.
    const fn route_group(name: &'static str, package: &'static str, key: KeyHalf) -> Function {
        Function {
            name,
            package,
            binary: package,
            events: name,
            kind: Kind::Http,
            key,
            local_env: &[],
            aws_env: &[],
            sqlite_file: STORE_FILE,
        }
    }
}

/// The hello-world `lambda_runtime` binary every init is compared with.
pub const FLOOR_PACKAGE: &str = "lectern-bench-floor";

impl Function {
    pub fn named(name: &str) -> anyhow::Result<Function> {
        FUNCTIONS
            .iter()
            .find(|f| f.name == name)
            .copied()
            .with_context(|| {
                let known: Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
                format!(
                    "no function {name:?}; the functions are {}",
                    known.join(", ")
                )
            })
    }
}

/// An Ed25519 key pair in the PEM forms the template passes (PKCS#8 private, SPKI public).
#[derive(Clone)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

impl KeyPair {
    pub fn generate() -> anyhow::Result<KeyPair> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Ok(KeyPair {
            private_pem: key
                .to_pkcs8_pem(LineEnding::LF)
                .context("encoding the private key")?
                .to_string(),
            public_pem: key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .context("encoding the public key")?,
        })
    }
}

/// The variables Lambda sets for every function (those `lambda_runtime` reads, and the usual others).
pub fn lambda_environment(function_name: &str, runtime_api: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        // The template's Globals: MemorySize 256.
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        // The execution role's temporary credentials (never used: every endpoint is local).
        ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH0"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "bench/secret/key/not/used/anywhere/0000000",
        ),
        ("AWS_SESSION_TOKEN", "bench-session-token"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The template's environment for `function` (Globals, its own key and variables), with the store
/// and queues pointed at the SQLite file in `data_dir` instead of DynamoDB and SQS.
pub fn function_environment(
    function: &Function,
    data_dir: &Path,
    keys: &KeyPair,
) -> Vec<(String, String)> {
    let key = match function.key {
        KeyHalf::Private => Some(("LECTERN_JWT_PRIVATE_KEY", keys.private_pem.clone())),
        KeyHalf::Public => Some(("LECTERN_JWT_PUBLIC_KEY", keys.public_pem.clone())),
        KeyHalf::None => None,
    };
    let mut env: Vec<(String, String)> = vec![
        ("LECTERN_STORE".into(), "sqlite".into()),
        (
            "LECTERN_SQLITE_PATH".into(),
            data_dir.join(function.sqlite_file).display().to_string(),
        ),
        ("LECTERN_DATA_DIR".into(), data_dir.display().to_string()),
        ("LECTERN_TENANTS".into(), "default".into()),
        ("LECTERN_JWT_ISSUER".into(), crate::server::ISSUER.into()),
        (
            "LECTERN_JWT_AUDIENCE".into(),
            crate::server::AUDIENCE.into(),
        ),
        ("RUST_LOG".into(), "info".into()),
    ];
    env.extend(key.map(|(name, pem)| (name.to_owned(), pem)));
    env.extend(owned(function.local_env));
    env
}

fn owned(vars: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
}

/// The variables that hold secrets: in AWS the template names a Secrets Manager secret for each
/// (`{NAME}_SECRET_ARN`) instead of setting it, and the function reads it at cold start.
pub const SECRET_VARIABLES: [&str; 3] = [
    "LECTERN_JWT_PRIVATE_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
];

/// The ARN the bench's AWS settings give the secret of `variable`.
pub fn secret_arn(variable: &str) -> String {
    format!("arn:aws:secretsmanager:eu-west-1:000000000000:secret:lectern-bench/{variable}")
}

/// What the bench's Secrets Manager serves: every secret any function's AWS settings name.
pub fn bench_secrets(keys: &KeyPair) -> std::collections::BTreeMap<String, String> {
    FUNCTIONS
        .iter()
        .flat_map(|f| {
            function_environment(f, Path::new(""), keys)
                .into_iter()
                .chain(owned(f.aws_env))
        })
        .filter(|(k, _)| SECRET_VARIABLES.contains(&k.as_str()))
        .map(|(k, v)| (secret_arn(&k), v))
        .collect()
}

/// The template's environment as in AWS (`LECTERN_STORE=dynamodb`, and the payments group's SQS
/// queues and Stripe settings), with the SDKs pointed at a closed local port (the credentials are
/// [`lambda_environment`]'s): an init must not call the network but for its secrets, so it
/// completes; an invocation would fail, so none is made. Secrets are named by ARN, as the template
/// does, and read from the Secrets Manager at `secrets_endpoint` (the bench's fake on loopback).
pub fn aws_environment(
    function: &Function,
    data_dir: &Path,
    keys: &KeyPair,
    secrets_endpoint: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = function_environment(function, data_dir, keys)
        .into_iter()
        .filter(|(k, _)| {
            k != "LECTERN_STORE"
                && k != "LECTERN_SQLITE_PATH"
                && !function.local_env.iter().any(|(local, _)| local == k)
        })
        .collect();
    env.extend(owned(function.aws_env));
    env.extend(
        [
            ("LECTERN_STORE", "dynamodb"),
            ("LECTERN_TABLE_NAME", "lectern-bench"),
            ("LECTERN_DYNAMODB_ENDPOINT", "http://127.0.0.1:9"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut named = false;
    for (name, value) in &mut env {
        if SECRET_VARIABLES.contains(&name.as_str()) {
            *value = secret_arn(name);
            name.push_str(lectern_runtime::secrets::ARN_SUFFIX);
            named = true;
        }
    }
    if named {
        env.push(("LECTERN_SECRETS_ENDPOINT".into(), secrets_endpoint.into()));
    }
    env
}

/// What a response must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Status(u16),
    /// Any 2xx (a write that creates first and replaces after).
    Success,
    /// A worker's answer to an SQS batch: `{"batchItemFailures": []}`, every record handled.
    NoBatchItemFailures,
}

impl Expect {
    /// Whether a function's response document says what it must.
    pub fn accepts(self, response: &[u8]) -> bool {
        let Ok(value) = serde_json::from_slice::<Value>(response) else {
            return false;
        };
        let status = value["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok());
        match self {
            Expect::Status(s) => status == Some(s),
            Expect::Success => status.is_some_and(|s| (200..300).contains(&s)),
            Expect::NoBatchItemFailures => value["batchItemFailures"]
                .as_array()
                .is_some_and(Vec::is_empty),
        }
    }

    /// How the report names it.
    pub fn label(self) -> String {
        match self {
            Expect::Status(s) => s.to_string(),
            Expect::Success => "2xx".into(),
            Expect::NoBatchItemFailures => "no fail".into(),
        }
    }
}

/// How an event from `events/` is made to hit seeded data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Sent as it is.
    None,
    /// A new email and username on every invocation, so that each registration succeeds.
    UniqueRegistration,
    /// The sample course and lesson ids replaced by the seeded course and its first lesson; with the
    /// enrolled student's token when given.
    SeededCourse { bearer: bool },
    /// The admin's token in place of the sample's forged one.
    AdminToken,
    /// A new event id, signed now with [`WEBHOOK_SECRET`] (as Stripe signs each delivery).
    SignedWebhook,
    /// The SQS record's Stripe event made a new event about the seeded payment (a redelivered
    /// success: recorded, and the settlement queued again).
    PaymentEvent,
    /// The SQS record's settlement made the seeded payment's (settling it again changes nothing).
    Settlement,
}

/// The course and lesson ids the sample events name.
const SAMPLE_COURSE_ID: &str = "01a205c1-41ac-7511-b6d3-02c2c876fd83";
const SAMPLE_LESSON_ID: &str = "01a205c1-52bd-7622-a7e4-13d3d987fe94";

/// One sample event and what it must answer.
#[derive(Debug, Clone)]
pub struct EventPlan {
    /// The file's stem (`auth-signin`).
    pub name: String,
    /// GET, POST, … (from `requestContext.http.method`).
    pub method: String,
    pub expect: Expect,
    pub rewrite: Rewrite,
    event: String,
}

/// The data the rewritten events point at.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub course_id: String,
    pub lesson_id: String,
    pub student_token: String,
    pub admin_token: String,
    /// Distinguishes this run's registrations and event ids from an earlier run's on the same file.
    pub nonce: String,
    /// The student's completed payment for a paid course.
    pub payment: SeededPayment,
}

/// A payment as the provider's events describe it.
#[derive(Debug, Clone, Default)]
pub struct SeededPayment {
    pub id: String,
    /// The provider's PaymentIntent id.
    pub intent: String,
    pub user_id: String,
    pub course_id: String,
    pub amount: i64,
    pub currency: String,
}

impl EventPlan {
    /// The event for invocation number `n`.
    pub fn render(&self, n: usize, seeded: &Seeded) -> anyhow::Result<bytes::Bytes> {
        let text = match &self.rewrite {
            Rewrite::None => self.event.clone(),
            Rewrite::UniqueRegistration => {
                let mut event: Value = serde_json::from_str(&self.event)?;
                let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap_or("{}"))?;
                body["email"] = format!("bench-{}-{n}@example.org", seeded.nonce).into();
                body["username"] = format!("b{}-{n}", seeded.nonce).into();
                let body = body.to_string();
                event["headers"]["content-length"] = body.len().to_string().into();
                event["body"] = body.into();
                event.to_string()
            }
            Rewrite::SeededCourse { bearer } => {
                let text = self
                    .event
                    .replace(SAMPLE_COURSE_ID, &seeded.course_id)
                    .replace(SAMPLE_LESSON_ID, &seeded.lesson_id);
                if *bearer {
                    with_bearer(&text, &seeded.student_token)?
                } else {
                    text
                }
            }
            Rewrite::AdminToken => with_bearer(&self.event, &seeded.admin_token)?,
            Rewrite::SignedWebhook => {
                let mut event: Value = serde_json::from_str(&self.event)?;
                let mut stripe: Value =
                    serde_json::from_str(event["body"].as_str().unwrap_or("{}"))?;
                stripe["id"] = format!("evt_bench_{}_{n}", seeded.nonce).into();
                let body = stripe.to_string();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_secs();
                event["headers"]["stripe-signature"] = lectern_payments::webhook::sign(
                    WEBHOOK_SECRET,
                    i64::try_from(now)?,
                    body.as_bytes(),
                )
                .into();
                event["headers"]["content-length"] = body.len().to_string().into();
                event["body"] = body.into();
                event.to_string()
            }
            Rewrite::PaymentEvent => {
                let payment = &seeded.payment;
                self.with_record_body(n, seeded, |mut stripe| {
                    stripe["id"] = format!("evt_bench_{}_{n}", seeded.nonce).into();
                    let intent = &mut stripe["data"]["object"];
                    intent["id"] = payment.intent.clone().into();
                    intent["amount"] = payment.amount.into();
                    intent["amount_received"] = payment.amount.into();
                    intent["currency"] = payment.currency.to_lowercase().into();
                    intent["metadata"] = serde_json::json!({
                        "paymentId": payment.id,
                        "courseId": payment.course_id,
                        "userId": payment.user_id,
                        "tenantId": "default",
                    });
                    stripe
                })?
            }
            Rewrite::Settlement => self.with_record_body(
                n,
                seeded,
                |_| serde_json::json!({ "tenant": "default", "paymentId": seeded.payment.id }),
            )?,
        };
        Ok(text.into())
    }
}

impl EventPlan {
    /// The SQS batch with its first record's body (JSON) rewritten by `f` and a new message id.
    fn with_record_body(
        &self,
        n: usize,
        seeded: &Seeded,
        f: impl FnOnce(Value) -> Value,
    ) -> anyhow::Result<String> {
        let mut batch: Value = serde_json::from_str(&self.event)?;
        let record = batch["Records"]
            .get_mut(0)
            .with_context(|| format!("{} has no Records", self.name))?;
        let body: Value = serde_json::from_str(record["body"].as_str().unwrap_or("{}"))?;
        record["body"] = f(body).to_string().into();
        record["messageId"] = format!("bench-{}-{n}", seeded.nonce).into();
        if let Some(records) = batch["Records"].as_array_mut() {
            records.truncate(1);
        }
        Ok(batch.to_string())
    }
}

fn with_bearer(event: &str, token: &str) -> anyhow::Result<String> {
    let mut event: Value = serde_json::from_str(event)?;
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    Ok(event.to_string())
}

/// What each sample event must answer, and how it is pointed at seeded data. An event not listed
/// here must answer 2xx as it is.
fn plan_for(name: &str) -> (Expect, Rewrite) {
    match name {
        // Anonymous by design: the rejection path of the auth extractor.
        "auth-check-anonymous" => (Expect::Status(401), Rewrite::None),
        "auth-register" => (Expect::Status(201), Rewrite::UniqueRegistration),
        "courses-get" | "courses-list" => {
            (Expect::Status(200), Rewrite::SeededCourse { bearer: false })
        }
        "courses-rate" => (Expect::Success, Rewrite::SeededCourse { bearer: true }),
        "users-list" => (Expect::Status(200), Rewrite::AdminToken),
        // The seeded student's own payments and wallet.
        "payments-list" | "payments-wallet" => {
            (Expect::Status(200), Rewrite::SeededCourse { bearer: true })
        }
        // The enrolled student's assignments (the seed gives the course one) and lesson files.
        "assignments-course" | "assignments-mine" | "files-lesson-download" => {
            (Expect::Status(200), Rewrite::SeededCourse { bearer: true })
        }
        "stripe-webhook-payment-succeeded" => (Expect::Status(200), Rewrite::SignedWebhook),
        "sqs-payment-events" => (Expect::NoBatchItemFailures, Rewrite::PaymentEvent),
        "sqs-payment-confirmations" => (Expect::NoBatchItemFailures, Rewrite::Settlement),
        // Outbox records of the table's stream: delivered (again, on later invocations: skipped).
        "dynamodb-stream-outbox" => (Expect::NoBatchItemFailures, Rewrite::None),
        _ => (Expect::Success, Rewrite::None),
    }
}

/// The events named `events/<prefix>.json` and `events/<prefix>-*.json`, in file name order.
pub fn events_of(root: &Path, prefix: &str) -> anyhow::Result<Vec<EventPlan>> {
    let dir = root.join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_stem()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n == prefix || n.starts_with(&format!("{prefix}-")))
        })
        .collect();
    files.sort();
    let mut plans = Vec::new();
    for file in files {
        let event = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let parsed: Value = serde_json::from_str(&event)
            .with_context(|| format!("{} is not JSON", file.display()))?;
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let (expect, rewrite) = plan_for(&name);
        let method = match parsed["Records"][0]["eventSource"].as_str() {
            Some("aws:sqs") => "SQS",
            Some("aws:dynamodb") => "STREAM",
            _ => parsed["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or("GET"),
        };
        plans.push(EventPlan {
            method: method.to_owned(),
            name,
            expect,
            rewrite,
            event,
        });
    }
    if plans.is_empty() {
        bail!("no events/{prefix}*.json to invoke a function with");
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The template's functions (logical id, `BuildMethod`), read from its text: a resource line at
    /// two spaces of indent, its `Type` and `Metadata` below it.
    fn template_functions() -> Vec<(String, String)> {
        let template = std::fs::read_to_string(root().join("template.yaml")).unwrap();
        let lines: Vec<&str> = template.lines().collect();
        let mut functions = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(id) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) else {
                continue;
            };
            if id.starts_with(' ')
                || lines.get(i + 1).map(|l| l.trim()) != Some("Type: AWS::Serverless::Function")
            {
                continue;
            }
            let method = lines[i + 1..]
                .iter()
                .take_while(|l| l.starts_with("    ") || l.is_empty())
                .find_map(|l| l.trim().strip_prefix("BuildMethod:"))
                .map(|m| m.split('#').next().unwrap_or_default().trim().to_owned())
                .unwrap_or_default();
            functions.push((id.to_owned(), method));
        }
        functions
    }

    #[test]
    fn every_function_of_the_template_is_built_by_a_make_target_for_its_binary() {
        // GIVEN the template's functions and the Makefile's build-<LogicalId> targets
        let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
        let functions = template_functions();
        assert_eq!(functions.len(), FUNCTIONS.len(), "{functions:?}");
        let mut built = Vec::new();
        for (id, method) in &functions {
            // THEN each is built by make (the static musl build), by a target that builds one binary
            assert_eq!(method, "makefile", "{id}");
            let target = format!("build-{id}:");
            let recipe = makefile
                .lines()
                .skip_while(|l| *l != target)
                .nth(1)
                .unwrap_or_else(|| panic!("the Makefile has no {target}"));
            let (package, binary) = recipe
                .trim()
                .strip_prefix("$(call lambda,")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.split_once(','))
                .unwrap_or_else(|| panic!("{target} does not build a binary: {recipe}"));
            built.push((package.to_owned(), binary.to_owned()));
        }
        // AND those binaries, of those packages, are the functions the bench measures
        built.sort();
        let mut expected: Vec<(String, String)> = FUNCTIONS
            .iter()
            .map(|f| (f.package.to_owned(), f.binary.to_owned()))
            .collect();
        expected.sort();
        assert_eq!(built, expected);
    }

    #[test]
    fn every_functions_events_are_found_with_their_methods() {
        for function in FUNCTIONS {
            let plans = events_of(&root(), function.events).unwrap();
            assert!(!plans.is_empty());
            assert!(plans.iter().all(|p| p.name.starts_with(function.events)));
            let batches = plans
                .iter()
                .all(|p| p.method == "SQS" || p.method == "STREAM");
            assert_eq!(batches, function.kind == Kind::Worker, "{}", function.name);
        }
        let auth = events_of(&root(), "auth").unwrap();
        let register = auth.iter().find(|p| p.name == "auth-register").unwrap();
        assert_eq!(register.method, "POST");
        assert_eq!(register.expect, Expect::Status(201));
    }

    #[test]
    fn registrations_are_unique_and_course_events_point_at_the_seeded_course() {
        let seeded = Seeded {
            course_id: "c-1".into(),
            lesson_id: "l-1".into(),
            student_token: "tok".into(),
            admin_token: "admin".into(),
            nonce: "x".into(),
            payment: SeededPayment::default(),
        };
        let auth = events_of(&root(), "auth").unwrap();
        let register = auth.iter().find(|p| p.name == "auth-register").unwrap();
        let event: Value = serde_json::from_slice(&register.render(7, &seeded).unwrap()).unwrap();
        let body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["email"], "bench-x-7@example.org");
        assert_eq!(
            event["headers"]["content-length"],
            event["body"].as_str().unwrap().len().to_string()
        );
        let courses = events_of(&root(), "courses").unwrap();
        let rate = courses.iter().find(|p| p.name == "courses-rate").unwrap();
        let event: Value = serde_json::from_slice(&rate.render(0, &seeded).unwrap()).unwrap();
        assert_eq!(event["rawPath"], "/api/v1/courses/c-1/ratings");
        assert_eq!(event["headers"]["authorization"], "Bearer tok");
        let files = events_of(&root(), "files").unwrap();
        let download = files
            .iter()
            .find(|p| p.name == "files-lesson-download")
            .unwrap();
        let event: Value = serde_json::from_slice(&download.render(0, &seeded).unwrap()).unwrap();
        assert_eq!(event["rawPath"], "/api/v1/lessons/l-1/download");
        assert_eq!(event["pathParameters"]["lessonId"], "l-1");
    }

    fn seeded() -> Seeded {
        Seeded {
            nonce: "x".into(),
            payment: SeededPayment {
                id: "0193a5c0-0000-7000-8000-000000000001".into(),
                intent: "pi_local_1".into(),
                user_id: "0193a5c0-0000-7000-8000-000000000002".into(),
                course_id: "0193a5c0-0000-7000-8000-000000000003".into(),
                amount: 1234,
                currency: "EUR".into(),
            },
            ..Seeded::default()
        }
    }

    fn plan(prefix: &str) -> EventPlan {
        events_of(&root(), prefix).unwrap().remove(0)
    }

    #[test]
    fn webhook_events_get_a_new_id_and_a_signature_the_endpoint_accepts() {
        let webhook = plan("stripe-webhook");
        assert_eq!(
            (webhook.expect, &webhook.rewrite),
            (Expect::Status(200), &Rewrite::SignedWebhook)
        );
        let event: Value = serde_json::from_slice(&webhook.render(3, &seeded()).unwrap()).unwrap();
        let body = event["body"].as_str().unwrap();
        let stripe: Value = serde_json::from_str(body).unwrap();
        assert_eq!(stripe["id"], "evt_bench_x_3");
        let signature = event["headers"]["stripe-signature"].as_str().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        lectern_payments::webhook::verify(
            Some(signature),
            body.as_bytes(),
            WEBHOOK_SECRET,
            now,
            300,
        )
        .unwrap();
        assert_eq!(event["headers"]["content-length"], body.len().to_string());
    }

    #[test]
    fn worker_batches_name_the_seeded_payment_with_new_ids() {
        let events = plan("sqs-payment-events");
        assert_eq!(events.method, "SQS");
        let batch: Value = serde_json::from_slice(&events.render(5, &seeded()).unwrap()).unwrap();
        let records = batch["Records"].as_array().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["messageId"], "bench-x-5");
        let stripe: Value = serde_json::from_str(records[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(stripe["id"], "evt_bench_x_5");
        let intent = &stripe["data"]["object"];
        assert_eq!(intent["id"], "pi_local_1");
        assert_eq!(intent["amount"], 1234);
        assert_eq!(intent["currency"], "eur");
        assert_eq!(
            intent["metadata"]["paymentId"],
            "0193a5c0-0000-7000-8000-000000000001"
        );

        let settle = plan("sqs-payment-confirmations");
        let batch: Value = serde_json::from_slice(&settle.render(6, &seeded()).unwrap()).unwrap();
        let body: Value =
            serde_json::from_str(batch["Records"][0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"tenant": "default", "paymentId": "0193a5c0-0000-7000-8000-000000000001"})
        );
    }

    #[test]
    fn answers_are_checked_by_kind() {
        assert!(Expect::Status(200).accepts(br#"{"statusCode":200,"body":""}"#));
        assert!(!Expect::Status(200).accepts(br#"{"statusCode":201}"#));
        assert!(Expect::Success.accepts(br#"{"statusCode":204}"#));
        assert!(Expect::NoBatchItemFailures.accepts(br#"{"batchItemFailures":[]}"#));
        assert!(
            !Expect::NoBatchItemFailures
                .accepts(br#"{"batchItemFailures":[{"itemIdentifier":"m-1"}]}"#)
        );
        assert!(!Expect::NoBatchItemFailures.accepts(br#"{"statusCode":200}"#));
        assert!(!Expect::Status(200).accepts(b"not json"));
    }

    #[test]
    fn the_aws_settings_replace_the_local_ones() {
        let keys = KeyPair::generate().unwrap();
        let dir = Path::new("/tmp/bench");
        let webhook = Function::named("stripe-webhook").unwrap();
        let local = function_environment(&webhook, dir, &keys);
        let get = |env: &[(String, String)], k: &str| {
            let found: Vec<&String> = env.iter().filter(|(n, _)| n == k).map(|(_, v)| v).collect();
            assert!(found.len() <= 1, "{k} set twice");
            found.first().map(|v| v.to_string())
        };
        assert_eq!(
            get(&local, "LECTERN_SQLITE_PATH").as_deref(),
            Some("/tmp/bench/webhook.db")
        );
        assert_eq!(get(&local, "LECTERN_QUEUE"), None);
        let aws = aws_environment(&webhook, dir, &keys, "http://127.0.0.1:7");
        assert_eq!(get(&aws, "LECTERN_STORE").as_deref(), Some("dynamodb"));
        // The signing secret is named, not given, as the template does
        assert_eq!(get(&aws, "STRIPE_WEBHOOK_SECRET"), None);
        assert_eq!(
            get(&aws, "STRIPE_WEBHOOK_SECRET_SECRET_ARN"),
            Some(secret_arn("STRIPE_WEBHOOK_SECRET"))
        );
        assert_eq!(
            get(&aws, "LECTERN_SECRETS_ENDPOINT").as_deref(),
            Some("http://127.0.0.1:7")
        );
        assert_eq!(
            bench_secrets(&keys).get(&secret_arn("STRIPE_WEBHOOK_SECRET")),
            Some(&WEBHOOK_SECRET.to_owned())
        );
        assert_eq!(get(&aws, "LECTERN_QUEUE").as_deref(), Some("sqs"));
        assert_eq!(get(&aws, "LECTERN_SQLITE_PATH"), None);
        assert!(get(&aws, "LECTERN_PAYMENT_EVENTS_QUEUE_URL").is_some());
        let payments = aws_environment(
            &Function::named("payments").unwrap(),
            dir,
            &keys,
            "http://127.0.0.1:7",
        );
        assert!(get(&payments, "STRIPE_SECRET_KEY_SECRET_ARN").is_some());
        let auth = aws_environment(&Function::named("auth").unwrap(), dir, &keys, "x");
        assert_eq!(get(&auth, "LECTERN_JWT_PRIVATE_KEY"), None);
        assert_eq!(
            bench_secrets(&keys)
                .get(&secret_arn("LECTERN_JWT_PRIVATE_KEY"))
                .map(String::as_str),
            Some(keys.private_pem.as_str())
        );
        // A function that holds no secret makes no call at init
        let users = aws_environment(&Function::named("users").unwrap(), dir, &keys, "x");
        assert_eq!(get(&users, "LECTERN_SECRETS_ENDPOINT"), None);
        assert_eq!(
            get(&payments, "LECTERN_PAYMENTS_PROVIDER").as_deref(),
            Some("stripe")
        );
    }

    #[test]
    fn a_generated_key_pair_is_read_back_by_the_functions_config() {
        let keys = KeyPair::generate().unwrap();
        assert!(keys.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(keys.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        lectern_auth::SigningKeys::from_pem(&keys.private_pem).unwrap();
        lectern_auth::keys::PublicKey::from_pem(&keys.public_pem).unwrap();
    }
}
