//! What the benchmark runs: the functions of `template.yaml` with the environment it gives them
//! (pointed at a local SQLite file), the floor, and each function's events from `events/` with the
//! status each must answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use serde_json::Value;

/// Which half of the signing key a function gets (the template's `JwtPrivateKeyPem` / `JwtPublicKeyPem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHalf {
    Private,
    Public,
}

/// A Lambda function of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The route group (`auth`); its events are `events/<name>-*.json`.
    pub name: &'static str,
    /// The cargo package and its binary.
    pub package: &'static str,
    pub key: KeyHalf,
}

/// Every HTTP route-group function of `template.yaml` (the Stripe webhook function and the SQS
/// workers are not benchmarked yet).
pub const FUNCTIONS: [Function; 4] = [
    Function {
        name: "auth",
        package: "auth-function",
        key: KeyHalf::Private,
    },
    Function {
        name: "users",
        package: "users-function",
        key: KeyHalf::Public,
    },
    Function {
        name: "courses",
        package: "courses-function",
        key: KeyHalf::Public,
    },
    Function {
        name: "payments",
        package: "payments-function",
        key: KeyHalf::Public,
    },
];

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
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The template's environment for `function` (Globals plus its own key), with the store pointed at
/// the SQLite file in `data_dir` instead of DynamoDB.
pub fn function_environment(
    function: &Function,
    data_dir: &Path,
    keys: &KeyPair,
) -> Vec<(String, String)> {
    let key = match function.key {
        KeyHalf::Private => ("LECTERN_JWT_PRIVATE_KEY", keys.private_pem.clone()),
        KeyHalf::Public => ("LECTERN_JWT_PUBLIC_KEY", keys.public_pem.clone()),
    };
    vec![
        ("LECTERN_STORE".into(), "sqlite".into()),
        (
            "LECTERN_SQLITE_PATH".into(),
            data_dir.join("lectern.db").display().to_string(),
        ),
        ("LECTERN_DATA_DIR".into(), data_dir.display().to_string()),
        ("LECTERN_TENANTS".into(), "default".into()),
        ("LECTERN_JWT_ISSUER".into(), crate::server::ISSUER.into()),
        (
            "LECTERN_JWT_AUDIENCE".into(),
            crate::server::AUDIENCE.into(),
        ),
        ("RUST_LOG".into(), "info".into()),
        (key.0.into(), key.1),
    ]
}

/// The template's environment as in AWS (`LECTERN_STORE=dynamodb`), with the SDK pointed at a closed
/// local port and Lambda-style temporary credentials: an init must not call the network, so it
/// completes; an invocation would fail, so none is made.
pub fn dynamo_environment(
    function: &Function,
    data_dir: &Path,
    keys: &KeyPair,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = function_environment(function, data_dir, keys)
        .into_iter()
        .filter(|(k, _)| k != "LECTERN_STORE" && k != "LECTERN_SQLITE_PATH")
        .collect();
    env.extend(
        [
            ("LECTERN_STORE", "dynamodb"),
            ("LECTERN_TABLE_NAME", "lectern-bench"),
            ("LECTERN_DYNAMODB_ENDPOINT", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH0"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "bench/secret/key/not/used/anywhere/0000000",
            ),
            ("AWS_SESSION_TOKEN", "bench-session-token"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// What a response must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Status(u16),
    /// Any 2xx (a write that creates first and replaces after).
    Success,
}

impl Expect {
    pub fn accepts(self, status: u16) -> bool {
        match self {
            Expect::Status(s) => s == status,
            Expect::Success => (200..300).contains(&status),
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
    /// The sample course id replaced by a seeded course; with a student's token when given.
    SeededCourse { bearer: bool },
    /// The admin's token in place of the sample's forged one.
    AdminToken,
}

/// The course id the sample events name.
const SAMPLE_COURSE_ID: &str = "01a205c1-41ac-7511-b6d3-02c2c876fd83";

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
    pub student_token: String,
    pub admin_token: String,
    /// Distinguishes this run's registrations from an earlier run's on the same file.
    pub nonce: String,
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
                let text = self.event.replace(SAMPLE_COURSE_ID, &seeded.course_id);
                if *bearer {
                    with_bearer(&text, &seeded.student_token)?
                } else {
                    text
                }
            }
            Rewrite::AdminToken => with_bearer(&self.event, &seeded.admin_token)?,
        };
        Ok(text.into())
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
        _ => (Expect::Success, Rewrite::None),
    }
}

/// The events of `function` (`events/<name>-*.json`), in file name order.
pub fn events_of(root: &Path, function: &str) -> anyhow::Result<Vec<EventPlan>> {
    let dir = root.join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{function}-")))
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
        plans.push(EventPlan {
            method: parsed["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or("GET")
                .to_owned(),
            name,
            expect,
            rewrite,
            event,
        });
    }
    if plans.is_empty() {
        bail!("no events/{function}-*.json to invoke the {function} function with");
    }
    Ok(plans)
}

/// The status code of a Lambda proxy response document (`{"statusCode": 200, …}`).
pub fn status_of(response: &[u8]) -> Option<u16> {
    let value: Value = serde_json::from_slice(response).ok()?;
    value["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn every_functions_events_are_found_with_their_methods() {
        for function in FUNCTIONS {
            let plans = events_of(&root(), function.name).unwrap();
            assert!(!plans.is_empty());
            assert!(plans.iter().all(|p| p.name.starts_with(function.name)));
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
            student_token: "tok".into(),
            admin_token: "admin".into(),
            nonce: "x".into(),
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
