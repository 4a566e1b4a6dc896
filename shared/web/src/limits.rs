//! Rate limits, shared by every function: one layer ([`layer`]) counts each request in fixed
//! windows in the store and answers 429 `rate_limited` with `Retry-After` past a limit. Every answer
//! carries the IETF fields (draft-ietf-httpapi-ratelimit-headers-11) of the caller's own policy:
//! `RateLimit-Policy: "anonymous";q=600;w=60` and `RateLimit: "anonymous";r=42;t=17`.
//!
//! Policies (configuration: [`RateLimits::from_env`], template parameters; docs/security-model.md):
//! - `anonymous`: requests without a valid access token, per client network (an IPv4 address, an
//!   IPv6 /64) and tenant: register, sign in, refresh, the catalog and every other anonymous read.
//! - `writes`: requests with a valid access token and a method that writes, per user.
//! - `tenant`: every request of a tenant. DynamoDB takes at most 1,000 writes a second on one item,
//!   so the tenant's window is split into shards (separate partition keys), each request counted in
//!   one chosen at random with a limit of its share of the quota: at most 500 counts a second per
//!   shard at the full rate ([`RateLimits::tenant_shards`]). Over the window the shards' counts even
//!   out; a request may be refused while another shard still has room by the randomness of a few
//!   requests, never by more than the shards' rounding.
//! - `registration_probes`: registrations that met an email already registered, per client network
//!   (the auth function's register, with [`Limiter::take_probe`]).
//!
//! A request costs one conditional update per policy that applies to it (two at most, sent together,
//! so one round trip), none when this process already saw its window full: a window's count only
//! grows, so "full until its end" is known without asking the store again, and a flood past a limit
//! costs the store nothing. A store failure lets the request through (the limiter is not what should
//! take the API down) and is logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_domain::TenantId;
/// The limits' configuration, read at start with the rest ([`lectern_runtime::Config`]).
pub use lectern_runtime::config::{Rate, RateLimits};
use lectern_store::Table;
use lectern_store::limits::{RateLimitRepo, RateWindow, Taken};

use crate::auth::TENANT_HEADER;
use crate::error::ApiError;
use crate::request::ClientAddress;
use crate::state::AppState;

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// One policy as a request meets it.
#[derive(Debug, Clone)]
struct Check {
    policy: &'static str,
    rate: Rate,
    /// The limit of this window (a tenant shard's share of the quota).
    limit: i64,
    window: RateWindow,
}

/// What a check answered.
enum Outcome {
    /// Admitted with this many requests left in the window (for this subject).
    Admitted {
        remaining: i64,
    },
    Refused,
    /// The store failed: let through.
    Unknown,
}

/// The limits and their windows in the store. Shared by a function's requests.
pub struct Limiter {
    limits: RateLimits,
    repo: RateLimitRepo,
    /// Windows seen full, until their end (epoch seconds).
    full: Mutex<HashMap<String, i64>>,
}

/// Windows remembered full before the memo is pruned of the ended ones.
const FULL_MEMO_SIZE: usize = 4_096;

impl Limiter {
    pub fn new(limits: RateLimits, table: Arc<dyn Table>) -> Limiter {
        Limiter {
            limits,
            repo: RateLimitRepo::new(table),
            full: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    fn memo_key(window: &RateWindow) -> String {
        format!(
            "{}#{}#{}#{}",
            window.tenant, window.policy, window.subject, window.start
        )
    }

    fn known_full(&self, window: &RateWindow, now: i64) -> bool {
        let full = self.full.lock().unwrap_or_else(|e| e.into_inner());
        full.get(&Self::memo_key(window))
            .is_some_and(|end| *end > now)
    }

    fn remember_full(&self, window: &RateWindow, now: i64) {
        let mut full = self.full.lock().unwrap_or_else(|e| e.into_inner());
        if full.len() >= FULL_MEMO_SIZE {
            full.retain(|_, end| *end > now);
            if full.len() >= FULL_MEMO_SIZE {
                full.clear();
            }
        }
        full.insert(Self::memo_key(window), window.end());
    }

    async fn take(&self, check: &Check, now: i64) -> Outcome {
        if self.known_full(&check.window, now) {
            return Outcome::Refused;
        }
        match self.repo.take(&check.window, check.limit).await {
            Ok(Taken::Admitted { count }) => Outcome::Admitted {
                remaining: (check.limit - count).max(0),
            },
            Ok(Taken::Refused) => {
                self.remember_full(&check.window, now);
                Outcome::Refused
            }
            Err(error) => {
                tracing::warn!(
                    policy = check.policy,
                    ?error,
                    "rate limit not checked: the store failed"
                );
                Outcome::Unknown
            }
        }
    }

    /// Counts a registration that may meet a taken email against the client network's
    /// `registration_probes` policy, before the work: `Ok(window)` to give back with a
    /// registration that did not meet one ([`RateLimitRepo::give_back`]), or 429 `rate_limited`
    /// when the network had its share. A store failure refuses too (nothing was counted, and this
    /// bound is what keeps emails from being probed).
    pub async fn take_probe(
        &self,
        tenant: &TenantId,
        client: ClientAddress,
        now: i64,
    ) -> Result<RateWindow, ApiError> {
        let rate = self.limits.registration_probes;
        let check = Check {
            policy: "registration_probes",
            rate,
            limit: rate.quota,
            window: RateWindow::at(
                tenant.clone(),
                "registration_probes",
                RateWindow::subject_of_network(&client.network()),
                now,
                rate.window_secs,
            ),
        };
        if self.known_full(&check.window, now) {
            return Err(refusal(&check, now));
        }
        match self.repo.take(&check.window, check.limit).await? {
            Taken::Admitted { .. } => Ok(check.window),
            Taken::Refused => {
                self.remember_full(&check.window, now);
                Err(refusal(&check, now))
            }
        }
    }

    /// The repository of the windows, to give a probe's unit back.
    pub fn windows(&self) -> &RateLimitRepo {
        &self.repo
    }
}

/// Who a request counts against.
enum Caller {
    Anonymous {
        tenant: TenantId,
        network: Option<String>,
    },
    User {
        tenant: TenantId,
        id: String,
        writes: bool,
    },
}

fn caller(state: &AppState, request: &Request) -> Caller {
    let headers = request.headers();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    // Only a valid token names a user: a forged one must not spend someone else's quota.
    if let Some(claims) = token
        .and_then(|t| state.verifier.verify(t).ok())
        .filter(|c| state.tenants.contains(&c.tid))
    {
        let writes = !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        return Caller::User {
            tenant: claims.tid,
            id: claims.sub.to_string(),
            writes,
        };
    }
    let tenant = anonymous_tenant(state, headers);
    let network = ClientAddress::from_extensions(request.extensions()).map(|c| c.network());
    Caller::Anonymous { tenant, network }
}

/// The tenant an anonymous request names (`x-tenant-id`), as `Tenant` reads it; a name the
/// deployment does not know counts against the default tenant (the request itself gets 400).
fn anonymous_tenant(state: &AppState, headers: &HeaderMap) -> TenantId {
    headers
        .get(TENANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|id| state.tenants.get(id.trim()))
        .unwrap_or_else(|| state.tenants.default_tenant())
        .clone()
}

fn checks(limits: &RateLimits, caller: &Caller, now: i64) -> (Option<Check>, Check) {
    let (tenant, own) = match caller {
        Caller::Anonymous { tenant, network } => (
            tenant,
            network.as_ref().map(|network| {
                (
                    "anonymous",
                    limits.anonymous,
                    RateWindow::subject_of_network(network),
                )
            }),
        ),
        Caller::User { tenant, id, writes } => (
            tenant,
            writes.then(|| ("writes", limits.writes, id.clone())),
        ),
    };
    let own = own.map(|(policy, rate, subject)| Check {
        policy,
        rate,
        limit: rate.quota,
        window: RateWindow::at(tenant.clone(), policy, subject, now, rate.window_secs),
    });
    let shards = limits.tenant_shards();
    let shard = (uuid::Uuid::new_v4().as_u128() % shards as u128) as i64;
    let tenant_check = Check {
        policy: "tenant",
        rate: limits.tenant,
        limit: lectern_runtime::config::ceil_div(limits.tenant.quota, shards),
        window: RateWindow::at(
            tenant.clone(),
            "tenant",
            format!("shard{shard}"),
            now,
            limits.tenant.window_secs,
        ),
    };
    (own, tenant_check)
}

/// Seconds until a window ends (at least 1).
fn reset(check: &Check, now: i64) -> i64 {
    (check.window.end() - now).max(1)
}

fn refusal(check: &Check, now: i64) -> ApiError {
    let whom = match check.policy {
        "anonymous" => "from your network",
        "writes" => "from your account",
        "tenant" => "for this organisation",
        _ => "of this kind from your network",
    };
    ApiError::RateLimited {
        message: format!(
            "too many requests {whom}: at most {} every {} s",
            check.rate.quota, check.rate.window_secs
        ),
        retry_after_secs: reset(check, now) as u64,
    }
}

fn set_fields(headers: &mut HeaderMap, check: &Check, remaining: i64, now: i64) {
    let policy = format!(
        "\"{}\";q={};w={}",
        check.policy, check.rate.quota, check.rate.window_secs
    );
    let state = format!("\"{}\";r={remaining};t={}", check.policy, reset(check, now));
    if let (Ok(policy), Ok(state)) = (
        HeaderValue::from_str(&policy),
        HeaderValue::from_str(&state),
    ) {
        headers.insert(RATELIMIT_POLICY, policy);
        headers.insert(RATELIMIT, state);
    }
}

/// The middleware: counts the request in its caller's window and its tenant's, concurrently.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let limiter = state.limiter.clone();
    let (own, tenant) = checks(limiter.limits(), &caller(&state, &request), now);
    let (own_outcome, tenant_outcome) = tokio::join!(
        async {
            match &own {
                Some(check) => Some(limiter.take(check, now).await),
                None => None,
            }
        },
        limiter.take(&tenant, now)
    );
    let refused = match (&own, &own_outcome, &tenant_outcome) {
        (Some(check), Some(Outcome::Refused), _) => Some(check),
        (_, _, Outcome::Refused) => Some(&tenant),
        _ => None,
    };
    if let Some(check) = refused {
        tracing::warn!(policy = check.policy, "request rate limited");
        let mut response = refusal(check, now).into_response();
        set_fields(response.headers_mut(), check, 0, now);
        return response;
    }
    let mut response = next.run(request).await;
    // A 429 of the handler's own (the sign-in throttle, registration probes) is about another
    // limit: this policy's remaining quota beside it would tell the client to go on.
    if let (Some(check), Some(Outcome::Admitted { remaining })) = (&own, own_outcome)
        && response.status() != StatusCode::TOO_MANY_REQUESTS
    {
        set_fields(response.headers_mut(), check, remaining, now);
    }
    response
}

/// Puts a function's routes behind the limits (inside [`crate::finish`]'s request layer, so a 429
/// carries the request id). Unmatched paths are not counted: they do no work.
pub fn layer(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes.route_layer(axum::middleware::from_fn_with_state(state.clone(), limit))
}
