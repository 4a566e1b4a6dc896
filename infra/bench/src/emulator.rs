//! The Lambda Runtime API on 127.0.0.1: what a function process talks to in place of Lambda.
//!
//! It serves the four endpoints of the 2018-06-01 API that a custom runtime uses:
//! `GET /runtime/invocation/next` (a long poll answered with the next event and the real
//! `Lambda-Runtime-*` headers), `POST /runtime/invocation/{id}/response`,
//! `POST /runtime/invocation/{id}/error` and `POST /runtime/init/error`. The benchmark queues events
//! with [`Emulator::invoke`], which resolves when the function posts the answer for that request id,
//! and learns when the function is ready (its first `GET /next`) from [`Emulator::wait_ready`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

/// The API version prefix of every path.
const PREFIX: &str = "/2018-06-01/runtime";

/// What the function posted for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the handler's return value.
    Response(Bytes),
    /// `POST …/invocation/{id}/error`: the error type header (when sent) and the error document.
    Error {
        error_type: Option<String>,
        body: Bytes,
    },
}

/// An event waiting for the function's next poll, and where its outcome goes.
struct Pending {
    request_id: String,
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct Shared {
    function_arn: String,
    /// How long the function may take, for the deadline header (the template's `Timeout`).
    timeout: Duration,
    queue: Mutex<mpsc::Receiver<Pending>>,
    in_flight: StdMutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// When the first `GET /next` arrived.
    first_poll: watch::Sender<Option<Instant>>,
    /// The document of a `POST /init/error`.
    init_error: watch::Sender<Option<Bytes>>,
}

/// A running emulator for one function process.
pub struct Emulator {
    addr: SocketAddr,
    queue: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Serves the Runtime API on an ephemeral port of 127.0.0.1 for the function named `function_name`.
    pub async fn start(function_name: &str) -> anyhow::Result<Emulator> {
        let (queue, receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"),
            timeout: Duration::from_secs(10),
            queue: Mutex::new(receiver),
            in_flight: StdMutex::new(HashMap::new()),
            first_poll: watch::channel(None).0,
            init_error: watch::channel(None).0,
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{request_id}}/response"),
                post(response),
            )
            .route(
                &format!("{PREFIX}/invocation/{{request_id}}/error"),
                post(invocation_error),
            )
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the Runtime API emulator on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            // The server ends when the emulator is dropped (the task is aborted).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Emulator {
            addr,
            queue,
            shared,
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function process.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// Waits until the function first polls for an event, and answers when it did. Fails when the
    /// function reports an init error or `limit` passes.
    pub async fn wait_ready(&self, limit: Duration) -> anyhow::Result<Instant> {
        let mut polled = self.shared.first_poll.subscribe();
        let mut init_error = self.shared.init_error.subscribe();
        let wait = async {
            loop {
                if let Some(at) = *polled.borrow_and_update() {
                    return Ok(at);
                }
                if let Some(body) = init_error.borrow_and_update().clone() {
                    bail!(
                        "the function reported an init error: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                tokio::select! {
                    changed = polled.changed() => changed?,
                    changed = init_error.changed() => changed?,
                }
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .map_err(|_| anyhow!("the function did not poll for an event within {limit:?}"))?
    }

    /// Queues `event` for the function's next poll and waits (at most `limit`) for its outcome; answers
    /// the outcome and the time from queueing to the function's post.
    pub async fn invoke(
        &self,
        event: Bytes,
        limit: Duration,
    ) -> anyhow::Result<(Outcome, Duration)> {
        let (reply, outcome) = oneshot::channel();
        let start = Instant::now();
        self.queue
            .send(Pending {
                request_id: uuid::Uuid::new_v4().to_string(),
                event,
                reply,
            })
            .await
            .map_err(|_| anyhow!("the emulator stopped"))?;
        let outcome = tokio::time::timeout(limit, outcome)
            .await
            .map_err(|_| anyhow!("no answer within {limit:?}"))?
            .context("the invocation was dropped without an answer")?;
        Ok((outcome, start.elapsed()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /invocation/next`: the long poll. Answers the next queued event with Lambda's headers.
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.first_poll.send_if_modified(|at| {
        let first = at.is_none();
        if first {
            *at = Some(Instant::now());
        }
        first
    });
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return (StatusCode::GONE, "the emulator is shutting down").into_response();
    };
    let deadline = SystemTime::now()
        .checked_add(shared.timeout)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", pending.request_id.clone());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    set("lambda-runtime-trace-id", trace_id());
    set("content-type", "application/json".into());
    if let Ok(mut in_flight) = shared.in_flight.lock() {
        in_flight.insert(pending.request_id, pending.reply);
    }
    (StatusCode::OK, headers, pending.event).into_response()
}

/// An X-Ray trace header of the shape Lambda sends: `Root=1-<epoch hex>-<96 bits>;Parent=…;Sampled=0`.
fn trace_id() -> String {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        &id[..24],
        &id[16..32]
    )
}

/// Hands an outcome to the invocation waiting for it; unknown ids are the API's 400.
fn settle(shared: &Shared, request_id: &str, outcome: Outcome) -> Response {
    let waiting = shared
        .in_flight
        .lock()
        .ok()
        .and_then(|mut in_flight| in_flight.remove(request_id));
    match waiting {
        Some(reply) => {
            let _ = reply.send(outcome);
            (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
        )
            .into_response(),
    }
}

/// `POST /invocation/{id}/response`.
async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    settle(&shared, &request_id, Outcome::Response(body))
}

/// `POST /invocation/{id}/error`.
async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    settle(&shared, &request_id, Outcome::Error { error_type, body })
}

/// `POST /init/error`.
async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.init_error.send_replace(Some(body));
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(emulator: &Emulator, path: &str) -> String {
        format!("http://{}{PREFIX}{path}", emulator.runtime_api())
    }

    #[tokio::test]
    async fn next_carries_lambdas_headers_and_the_response_goes_to_its_own_invocation() {
        // GIVEN an emulator and two queued invocations
        let emulator = Arc::new(Emulator::start("bench-test").await.unwrap());
        let client = reqwest::Client::new();
        let first = tokio::spawn({
            let emulator = emulator.clone();
            async move {
                emulator
                    .invoke(Bytes::from_static(b"{\"n\":1}"), Duration::from_secs(5))
                    .await
            }
        });
        // WHEN the function polls
        let polled = client
            .get(url(&emulator, "/invocation/next"))
            .send()
            .await
            .unwrap();
        // THEN the event comes with every Lambda header
        assert_eq!(polled.status(), 200);
        let headers = polled.headers().clone();
        let id = headers["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 36, "a UUID request id");
        let deadline: u128 = headers["lambda-runtime-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(deadline > now && deadline <= now + 10_000);
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:bench-test"
        );
        assert!(
            headers["lambda-runtime-trace-id"]
                .to_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        assert_eq!(polled.text().await.unwrap(), "{\"n\":1}");
        assert!(
            emulator
                .wait_ready(Duration::from_secs(1))
                .await
                .unwrap()
                .elapsed()
                < Duration::from_secs(5)
        );
        // AND a second invocation is handed out only on the next poll, with its own id
        let second = tokio::spawn({
            let emulator = emulator.clone();
            async move {
                emulator
                    .invoke(Bytes::from_static(b"{\"n\":2}"), Duration::from_secs(5))
                    .await
            }
        });
        let polled = client
            .get(url(&emulator, "/invocation/next"))
            .send()
            .await
            .unwrap();
        let second_id = polled.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(second_id, id);
        // WHEN the answers are posted out of order, one as an error
        let posted = client
            .post(url(&emulator, &format!("/invocation/{second_id}/error")))
            .header("lambda-runtime-function-error-type", "Runtime.Boom")
            .body("{\"errorMessage\":\"boom\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        let posted = client
            .post(url(&emulator, &format!("/invocation/{id}/response")))
            .body("{\"statusCode\":200}")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        // THEN each invocation gets its own outcome
        let (outcome, _) = first.await.unwrap().unwrap();
        assert_eq!(
            outcome,
            Outcome::Response(Bytes::from_static(b"{\"statusCode\":200}"))
        );
        let (outcome, _) = second.await.unwrap().unwrap();
        assert_eq!(
            outcome,
            Outcome::Error {
                error_type: Some("Runtime.Boom".into()),
                body: Bytes::from_static(b"{\"errorMessage\":\"boom\"}"),
            }
        );
        // AND an unknown or already answered id is refused
        let again = client
            .post(url(&emulator, &format!("/invocation/{id}/response")))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 400);
    }

    #[tokio::test]
    async fn an_init_error_ends_the_wait_for_readiness_with_its_message() {
        // GIVEN an emulator whose function fails at init
        let emulator = Emulator::start("bench-test").await.unwrap();
        let posted = reqwest::Client::new()
            .post(url(&emulator, "/init/error"))
            .body("{\"errorMessage\":\"no config\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        // WHEN the bench waits for the first poll THEN it fails with the function's message
        let error = emulator
            .wait_ready(Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("no config"), "{error}");
    }
}
