//! `Idempotency-Key` on every POST: a client repeats a request safely and gets the first answer back
//! (the convention of Stripe and of the IETF draft "The Idempotency-Key HTTP Header Field", done as
//! Powertools' idempotency utility does it: once, around the handlers).
//!
//! A POST with the header is fingerprinted (method, path and query, a SHA-256 of the body) and its key
//! is claimed in the caller's scope ([`lectern_store::keys::idempotency`]: the signed-in user, or for
//! an anonymous call its tenant and client address) before the handler runs. Then:
//! - the handler's answer (status, body, and the headers that belong to it: `content-type`,
//!   `location`, `content-location`, `etag`) is kept with the key for 24 hours, 4xx answers
//!   included, as Stripe does (an answer over 256 KiB is returned but not kept: its key is released);
//! - a repeat with the same key and the same request gets that answer again, with
//!   `Idempotent-Replayed: true`, and does nothing else;
//! - the same key with another request is 422 `idempotency_key_reused`; while the first request still
//!   runs, 409 `request_in_progress`;
//! - a 5xx (or a 401: the caller was not identified) is not kept: the key is released, and a retry
//!   runs again;
//! - a key that is not 1 to 255 printable ASCII characters (without `#`) is 400
//!   `invalid_idempotency_key`.
//!
//! Requests without the header cost nothing: no store call, the body is not read here.
//!
//! Sign-in and refresh ([`NOT_IDEMPOTENT`]) ignore the header: their answers are live credentials,
//! which are not kept at rest, and repeating them is harmless (another session, another rotation).
//! So does the Stripe webhook, whose events are deduplicated by their own ids.
//!
//! A route that must tie the key to its own transaction (creating a payment: the key is claimed
//! before the provider is asked, and marked done in the payment's transaction) takes the
//! [`Idempotency`] extractor, and tells the layer what it did with [`KeySettled`] on its response.
//!
//! What stays open, as in Powertools: when the handler's effect is committed but the process dies
//! before the answer is kept, the key's claim lapses after [`LEASE`] and a retry runs again. Routes
//! whose effect must not repeat even then complete the key in their own transaction.

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_domain::user::now;
use lectern_store::idempotency::{Claim, IdempotencyRepo, Lease, StoredResponse};
use lectern_store::keys::{self, IdempotencyScope};
use sha2::{Digest, Sha256};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder,
};

use crate::auth::{AuthUser, Tenant};
use crate::error::ApiError;
use crate::request::ClientAddress;
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The response header of a repeated answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// The longest key taken (Stripe's limit).
pub const MAX_KEY_CHARS: usize = 255;

/// How long a request's claim on its key holds against a retry: longer than any function may run
/// (`template.yaml`: 10 s), with the payment provider's timeouts.
pub const LEASE: time::Duration = time::Duration::seconds(60);

/// The largest answer kept (a DynamoDB item holds 400 KB). Answers to creates are a few KB; a larger
/// one is returned but not kept, and its key released.
const MAX_KEPT_BODY: usize = 256 * 1024;

/// The answer's headers that are part of it; the rest (request id, rate limits) are the repeat's own.
const KEPT_HEADERS: [&str; 4] = ["content-type", "location", "content-location", "etag"];

/// POST routes that ignore `Idempotency-Key`: their answers are credentials (sign-in, refresh), or
/// they have their own deduplication (the Stripe webhook, by event id).
pub const NOT_IDEMPOTENT: &[&str] = &[
    "/api/v1/auth/signin",
    "/api/v1/auth/refresh",
    "/api/v1/webhooks/stripe",
];

/// Wraps a function's routes in the layer. Apply it before `finish`, so that its own answers carry
/// the request id like every other.
pub fn layer(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        idempotency_layer,
    ))
}

/// What a handler knows of its request's key ([`Idempotency`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyKey {
    /// This request holds the key: what it creates is `lease.resource_id`.
    Claimed {
        /// The client's key.
        key: String,
        /// The request's fingerprint.
        digest: String,
        lease: Lease,
    },
    /// A repeat of a request whose route completed the key in its own transaction
    /// ([`KeySettled::Completed`]): answer from what `resource_id` names, without doing it again.
    Repeat { resource_id: String },
}

/// The request's idempotency key, for a route that ties it to its own work; `None` without the header.
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Idempotency(
            parts.extensions.get::<IdempotencyKey>().cloned(),
        ))
    }
}

/// What a route that took [`Idempotency`] did with the key, put in its response's extensions; the
/// layer then neither keeps nor releases it by the usual rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySettled {
    /// Marked done in the route's transaction: repeats come to the route as
    /// [`IdempotencyKey::Repeat`].
    Completed,
    /// Left claimed: the outcome is unknown (a provider did not answer), and a retry after the
    /// lease takes the key over with the same resource id.
    Kept,
    /// Given back: nothing was done under it, and the answer is not to be kept.
    Released,
}

/// Checks the header: 1 to [`MAX_KEY_CHARS`] printable ASCII characters, no `#` (the key's
/// separator in the store).
pub fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value.to_str().map(str::trim).unwrap_or_default();
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
    if !valid {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_CHARS} printable ASCII \
                 characters (no '#'); this one has {}",
                key.len()
            ),
        ));
    }
    Ok(key.to_owned())
}

async fn idempotency_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST
        || NOT_IDEMPOTENT.contains(&request.uri().path())
        || !request.headers().contains_key(IDEMPOTENCY_KEY)
    {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let key = match parts.headers.get(IDEMPOTENCY_KEY).map(parse_key) {
        Some(Ok(key)) => key,
        Some(Err(e)) => return e.into_response(),
        None => return next.run(Request::from_parts(parts, body)).await,
    };
    // A caller that cannot be identified gets the handler's own refusal (401, unknown tenant).
    let Some(record_key) = scope_key(&mut parts, &state, &key).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let body = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let digest = fingerprint(&parts, &body);
    let repo = IdempotencyRepo::new(state.table.clone());
    let reserved = uuid::Uuid::now_v7().to_string();
    let claim = match repo
        .claim(&record_key, &digest, &reserved, now(), LEASE)
        .await
    {
        Ok(claim) => claim,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match claim {
        Claim::Mismatch => ApiError::Unprocessable {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was used with another request".into(),
        }
        .into_response(),
        Claim::InProgress => ApiError::conflict(
            "request_in_progress",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .into_response(),
        Claim::Done {
            response: Some(kept),
            ..
        } => replayed(replay(kept)),
        Claim::Done {
            resource_id,
            response: None,
        } => {
            parts
                .extensions
                .insert(IdempotencyKey::Repeat { resource_id });
            replayed(next.run(Request::from_parts(parts, Body::from(body))).await)
        }
        Claim::Acquired(lease) => {
            parts.extensions.insert(IdempotencyKey::Claimed {
                key,
                digest,
                lease: lease.clone(),
            });
            let response = next.run(Request::from_parts(parts, Body::from(body))).await;
            settle(&repo, &lease, response).await
        }
    }
}

/// The record's key: the signed-in caller's, or for an anonymous call its tenant's and address's.
/// `None` when the caller cannot be identified (a bad token: the handler answers 401).
async fn scope_key(parts: &mut Parts, state: &AppState, key: &str) -> Option<lectern_store::Key> {
    if parts
        .headers
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        let caller = AuthUser::from_request_parts(parts, state).await.ok()?;
        return Some(keys::idempotency(
            &caller.tenant,
            IdempotencyScope::User(caller.id),
            key,
        ));
    }
    let Tenant(tenant) = Tenant::from_request_parts(parts, state).await.ok()?;
    let ClientAddress(address) = ClientAddress::from_request_parts(parts, state).await.ok()?;
    Some(keys::idempotency(
        &tenant,
        IdempotencyScope::Client(&address.to_string()),
        key,
    ))
}

/// What makes two requests the same: method, path and query, and the body's SHA-256.
fn fingerprint(parts: &Parts, body: &Bytes) -> String {
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .as_bytes(),
    );
    hash.update(b"\n");
    hash.update(Sha256::digest(body));
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Keeps or releases the key by the handler's answer, and returns the answer.
async fn settle(repo: &IdempotencyRepo, lease: &Lease, response: Response) -> Response {
    match response.extensions().get::<KeySettled>() {
        Some(KeySettled::Completed | KeySettled::Kept) => return response,
        Some(KeySettled::Released) => {
            release(repo, lease).await;
            return response;
        }
        None => {}
    }
    let status = response.status();
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_KEPT_BODY as u64);
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED || !small {
        if !small {
            tracing::warn!("an answer too large to keep: its idempotency key is released");
        }
        release(repo, lease).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_KEPT_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            release(repo, lease).await;
            return ApiError::Internal(anyhow::anyhow!("reading the answer to keep: {e}"))
                .into_response();
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let kept = StoredResponse {
                status: status.as_u16(),
                headers: KEPT_HEADERS
                    .iter()
                    .filter_map(|name| {
                        let value = parts.headers.get(*name)?.to_str().ok()?;
                        Some(((*name).to_owned(), value.to_owned()))
                    })
                    .collect(),
                body: text.to_owned(),
            };
            // The answer is the client's whatever happens to the record: a record that could not be
            // completed lapses after its lease, and a retry then runs again.
            if let Err(e) = repo.complete(lease, &kept).await {
                tracing::error!(error = %e, "the answer of an idempotent request was not kept");
            }
        }
        Err(_) => release(repo, lease).await,
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn release(repo: &IdempotencyRepo, lease: &Lease) {
    if let Err(e) = repo.release(lease).await {
        // The claim then lapses after its lease instead.
        tracing::warn!(error = %e, "an idempotency key could not be released");
    }
}

/// The kept answer, again.
fn replay(kept: StoredResponse) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = status;
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn replayed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Describes the convention on every POST it applies to: the request header, the
/// `Idempotent-Replayed` header of successful answers, and the 400, 409 and 422 answers it adds.
/// Called once on the whole API's description, so that no handler repeats it.
pub fn document(api: &mut OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        if NOT_IDEMPOTENT.contains(&path.as_str()) {
            continue;
        }
        let Some(operation) = item.post.as_mut() else {
            continue;
        };
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        if !parameters
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY))
        {
            parameters.push(key_parameter());
        }
        let responses = &mut operation.responses.responses;
        for (status, response) in responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.insert(
                    "Idempotent-Replayed".into(),
                    HeaderBuilder::new()
                        .schema(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::String),
                        )
                        .description(Some(
                            "`true` when this is the kept answer to an earlier request with the \
                             same Idempotency-Key",
                        ))
                        .build(),
                );
            }
        }
        for (status, text) in [
            (
                "400",
                "an invalid Idempotency-Key (`invalid_idempotency_key`, naming the limit)",
            ),
            (
                "409",
                "a request with the same Idempotency-Key still running (`request_in_progress`)",
            ),
            (
                "422",
                "the Idempotency-Key was used with another request (`idempotency_key_reused`)",
            ),
        ] {
            match responses.get_mut(status) {
                Some(RefOr::T(response)) => {
                    if !response.description.contains(text) {
                        response.description = format!("{}; or {text}", response.description);
                    }
                }
                Some(RefOr::Ref(_)) => {}
                None => {
                    let mut described = text.to_owned();
                    if let Some(first) = described.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    responses.insert(
                        status.to_owned(),
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(described)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .build(),
                        ),
                    );
                }
            }
        }
    }
}

fn key_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Repeat the request safely: the same key with the same request gets the first answer \
             again (kept 24 hours, with `Idempotent-Replayed: true`) and does nothing twice. 1 to \
             255 printable ASCII characters, no '#'; scoped to the caller (the user, or an \
             anonymous caller's address).",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_CHARS)),
        ))
        .build()
}
