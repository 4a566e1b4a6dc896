//! A fake Stripe API on loopback that checks what Stripe checks (the Bearer key [`KEY`], form
//! fields) and records what it was sent (`Idempotency-Key`, `Stripe-Version`), answering in Stripe's
//! shapes; a test can replace the next answer with a canned one (an error, a delay). The Stripe
//! adapter's own tests and the API tests that run the app against "Stripe" share it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The secret key the fake accepts.
pub const KEY: &str = "sk_test_51FakeKeyForLectern";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A canned answer that replaces the next normal one.
struct Canned {
    status: StatusCode,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    delay: Duration,
}

#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<Seen>>,
    canned: Mutex<VecDeque<Canned>>,
}

pub struct FakeStripe {
    state: Arc<Fake>,
    /// Where it listens: `http://127.0.0.1:{port}`.
    pub url: String,
}

impl FakeStripe {
    /// Starts the fake on a free port of loopback.
    pub async fn start() -> FakeStripe {
        let state = Arc::new(Fake::default());
        let app = Router::new().fallback(answer).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeStripe { state, url }
    }

    /// Answers the next request with `status` and `body` instead of the normal answer.
    pub fn answer_next(&self, status: u16, body: Value) {
        self.answer_next_with(status, body.to_string(), vec![], Duration::ZERO);
    }

    /// As [`FakeStripe::answer_next`], with headers and after a delay.
    pub fn answer_next_with(
        &self,
        status: u16,
        body: String,
        headers: Vec<(&'static str, &'static str)>,
        delay: Duration,
    ) {
        self.state.canned.lock().unwrap().push_back(Canned {
            status: StatusCode::from_u16(status).unwrap(),
            body,
            headers,
            delay,
        });
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

fn stripe_error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"type": kind, "code": code, "message": message}});
    (status, [("request-id", "req_fake")], axum::Json(body)).into_response()
}

/// The fake's one handler: records the request, then answers like Stripe.
async fn answer(
    State(fake): State<Arc<Fake>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let seen = Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        headers: headers.clone(),
        form,
    };
    fake.seen.lock().unwrap().push(seen.clone());

    if seen.header("authorization") != Some(&format!("Bearer {KEY}")) {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****",
        );
    }
    let canned = fake.canned.lock().unwrap().pop_front();
    if let Some(canned) = canned {
        tokio::time::sleep(canned.delay).await;
        let mut response = (canned.status, canned.body).into_response();
        for (name, value) in canned.headers {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        return response;
    }

    match (method, seen.path.as_str()) {
        (Method::POST, "/v1/payment_intents") => {
            let (Some(amount), Some(currency)) = (seen.field("amount"), seen.field("currency"))
            else {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: amount.",
                );
            };
            let metadata: BTreeMap<&str, &str> = seen
                .form
                .iter()
                .filter_map(|(k, v)| {
                    let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                    Some((key, v.as_str()))
                })
                .collect();
            axum::Json(json!({
                "id": "pi_3PfakE", "object": "payment_intent",
                "amount": amount.parse::<i64>().unwrap(), "amount_received": 0,
                "automatic_payment_methods": {"enabled": true},
                "client_secret": "pi_3PfakE_secret_x", "currency": currency,
                "description": seen.field("description"), "latest_charge": null, "livemode": false,
                "metadata": metadata, "status": "requires_payment_method"
            }))
            .into_response()
        }
        (Method::GET, "/v1/payment_intents/pi_3PfakE") => axum::Json(json!({
            "id": "pi_3PfakE", "object": "payment_intent", "amount": 4900,
            "client_secret": "pi_3PfakE_secret_x", "currency": "eur",
            "latest_charge": "ch_3PfakE", "metadata": {"paymentId": "pay_1"}, "status": "succeeded"
        }))
        .into_response(),
        (Method::GET, path) if path.starts_with("/v1/payment_intents/") => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            "No such payment_intent: 'pi_unknown'",
        ),
        (Method::POST, "/v1/refunds") => axum::Json(json!({
            "id": "re_3PfakE", "object": "refund",
            "amount": seen.field("amount").map_or(4900, |a| a.parse::<i64>().unwrap()),
            "charge": "ch_3PfakE", "currency": "eur", "metadata": {},
            "payment_intent": seen.field("payment_intent"), "status": "succeeded"
        }))
        .into_response(),
        _ => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            "Unrecognized request URL.",
        ),
    }
}
