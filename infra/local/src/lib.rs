//! The local server: every route group of Lectern in one process, for laptops and black-box tests.
//!
//! It serves exactly the routers the Lambda functions serve, merged, over the same `AppState` (by
//! default the embedded SQLite store under the local data folder), plus what only local runs have:
//! the local payment provider's simulation route, the interactive documentation, and CORS and
//! compression for browsers (which API Gateway and the functions leave out in AWS).
//!
//! # Layout
//! - `ROUTE_GROUPS`: every route group (name, route table, described routes), each once.
//! - `routes` / `app`: all route groups merged, with the one OpenAPI description of the whole API,
//!   and (local server only) its interactive documentation at `/docs`.
//! - `start_workers`: the payment queues' workers, polling the local (or SQS) queues.
//! - `start_event_router`: the domain-event router, fed from the SQLite file's stream of outbox items.
//! - `description`: that description, completed with the error responses every operation shares
//!   (`lectern_web::openapi::EdgeErrors`); `openapi_json`: it as the JSON committed in
//!   `docs/openapi.json`.
//! - `bootstrap_admin`: the first admin account, from `LECTERN_ADMIN_EMAIL` / `LECTERN_ADMIN_PASSWORD`.
//! - `serve` / `with_client_addresses`: runs an app on a listener until Ctrl-C, with each
//!   connection's peer address as the client address.
//! - [`browsers`]: CORS for the web clients' origins and response compression, around the app.
//! - [`s3`]: the embedded S3 endpoint (s3s + s3s-fs) the files group presigns against.

pub mod browsers;
pub mod s3;

use std::sync::Arc;

use axum::{Extension, Router};
use events_function::local::{FeedOptions, FeederHandle, spawn_feeder};
use events_function::{Consumer, EventRouter};
use lectern_domain::TenantId;
use lectern_domain::user::{Email, NewUser, Password, PersonName, User, UserRole, Username, now};
use lectern_queue::{Handler, WorkerHandle, WorkerOptions, spawn_worker};
use lectern_store::sqlite::SqliteTable;
use lectern_store::users::{UserRepo, UserWriteError};
use lectern_web::AppState;
use payments_function::Payments;
use payments_function::workers::{ConfirmationWorker, EventsWorker};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lectern API",
        description = "Lectern, a serverless e-learning backend. Errors share one shape: \
            `{\"error\", \"code\", \"requestId\", \"details\"?}`. Every response carries `x-request-id`. \
            Versioned resources (profiles, courses, lessons, assignments, submissions) answer an `ETag` \
            (`\"<version>-<fingerprint>\"`): a GET with `If-None-Match` naming it answers 304 while it is \
            current; a write with `If-Match` answers 412 `precondition_failed` when the resource's \
            version moved on (the tag's version is compared, so `\"<version>\"` built from a body's \
            `version` works too), beside the bodies' `version` field (409 `stale_version`). Paged lists \
            answer a `Link` header (RFC 8288: `rel=\"next\"`, `\"prev\"`, `\"first\"`, `\"last\"` where \
            known, relative to the request) beside the body's pagination.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// A route group as one Lambda function serves it, from the group's `route_group!` table.
#[derive(Clone, Copy)]
pub struct RouteGroup {
    /// The group's name: its crate (`auth`, `users`, …), or `webhooks` for the Stripe endpoint.
    pub name: &'static str,
    /// Every (method, path) the group serves.
    pub route_table: &'static [(&'static str, &'static str)],
    /// Its routes with their OpenAPI description.
    pub routes: fn() -> OpenApiRouter<AppState>,
    /// Each operation described alone (`route_group!`'s `operation_descriptions`).
    pub operation_descriptions: fn() -> Vec<(String, utoipa::openapi::OpenApi)>,
}

/// Every route group the Lambda functions serve, each once: the local server, the OpenAPI
/// description and the tests that hold `template.yaml` to the groups read this list.
pub const ROUTE_GROUPS: [RouteGroup; 7] = [
    RouteGroup {
        name: "auth",
        route_table: auth_function::ROUTE_TABLE,
        routes: auth_function::routes,
        operation_descriptions: auth_function::operation_descriptions,
    },
    RouteGroup {
        name: "users",
        route_table: users_function::ROUTE_TABLE,
        routes: users_function::routes,
        operation_descriptions: users_function::operation_descriptions,
    },
    RouteGroup {
        name: "courses",
        route_table: courses_function::ROUTE_TABLE,
        routes: courses_function::routes,
        operation_descriptions: courses_function::operation_descriptions,
    },
    RouteGroup {
        name: "assignments",
        route_table: assignments_function::ROUTE_TABLE,
        routes: assignments_function::routes,
        operation_descriptions: assignments_function::operation_descriptions,
    },
    RouteGroup {
        name: "files",
        route_table: files_function::ROUTE_TABLE,
        routes: files_function::routes,
        operation_descriptions: files_function::operation_descriptions,
    },
    RouteGroup {
        name: "payments",
        route_table: payments_function::ROUTE_TABLE,
        routes: payments_function::routes,
        operation_descriptions: payments_function::operation_descriptions,
    },
    RouteGroup {
        name: "webhooks",
        route_table: payments_function::webhook_group::ROUTE_TABLE,
        routes: || payments_function::webhook_group::routes().with_state(()),
        operation_descriptions: payments_function::webhook_group::operation_descriptions,
    },
];

/// Every route group, merged, with the whole API's description.
pub fn routes() -> OpenApiRouter<AppState> {
    ROUTE_GROUPS.iter().fold(
        OpenApiRouter::with_openapi(ApiDoc::openapi()),
        |all, group| all.merge((group.routes)()),
    )
}

/// The servable app of every route group (with the local provider's simulation route when it is
/// active), answering browsers' CORS requests from the origins of `LECTERN_CORS_ORIGINS` (or local
/// development servers) and compressing larger answers.
pub fn app(state: AppState, payments: Arc<Payments>) -> Router {
    let (routes, _api) = routes().split_for_parts();
    let routes = routes
        .merge(payments_function::dev_routes(&payments))
        .merge(interactive_docs());
    let routes = lectern_web::idempotency::layer(routes, &state);
    let ingest = payments.ingest.clone();
    let origins = browsers::origins_from_env()
        .unwrap_or_else(|e| panic!("{}: {e:#}", browsers::ORIGINS_VARIABLE));
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
        .layer(Extension(payments))
        .layer(Extension(ingest))
        .layer(browsers::compression())
        .layer(browsers::cors(origins))
}

/// The path of the interactive API documentation.
pub const DOCS_PATH: &str = "/docs";

/// Swagger UI at [`DOCS_PATH`], over the description the auth group serves at
/// `/api/v1/openapi.json` (the same as `docs/openapi.json`): "Authorize" takes an access token, and
/// "Try it out" calls this server. Its assets are compiled in; nothing is fetched from elsewhere.
fn interactive_docs<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = utoipa_swagger_ui::Config::from("/api/v1/openapi.json")
        .persist_authorization(true)
        .try_it_out_enabled(true);
    utoipa_swagger_ui::SwaggerUi::new(DOCS_PATH)
        .config(config)
        .into()
}

/// The payment queues' workers, polling the queues as SQS's event source mappings would. They stop
/// when the handles are dropped.
pub fn start_workers(state: &AppState, payments: &Arc<Payments>) -> Vec<WorkerHandle> {
    let options = WorkerOptions {
        visibility: payments.local_queues.visibility,
        ..WorkerOptions::default()
    };
    let events: Arc<dyn Handler> = Arc::new(EventsWorker {
        table: state.table.clone(),
        provider: payments.provider.name().to_owned(),
        confirmations: payments.confirmations.clone(),
    });
    let confirmations: Arc<dyn Handler> = Arc::new(ConfirmationWorker {
        table: state.table.clone(),
    });
    vec![
        spawn_worker(payments.ingest.events.clone(), events, options),
        spawn_worker(payments.confirmations.clone(), confirmations, options),
    ]
}

/// The event router, fed from the stream of the SQLite file at `path` as DynamoDB Streams feeds it in
/// AWS: the platform's consumers and `extra` ones (tests add theirs). It opens the file again, so
/// that its polling and its consumers' writes do not wait behind requests (and are not counted with
/// them). It stops when the handle is dropped.
pub fn start_event_router(
    path: &std::path::Path,
    extra: Vec<Arc<dyn Consumer>>,
    options: FeedOptions,
) -> anyhow::Result<FeederHandle> {
    let stream = Arc::new(SqliteTable::open(path)?);
    let table: Arc<dyn lectern_store::Table> = stream.clone();
    let mut consumers = events_function::platform_consumers(&table);
    consumers.extend(extra);
    let router = Arc::new(EventRouter::new(table, consumers));
    Ok(spawn_feeder(stream, router, options))
}

/// Operations that call no dependency (store, queue, object store): they cannot answer 503.
pub const SELF_CONTAINED_OPERATIONS: &[&str] = &["jwks", "openapi_document", "categories"];
/// Operations that read their body as bytes (a signature covers it), not through `Json`.
pub const RAW_BODY_OPERATIONS: &[&str] = &["stripe_webhook"];
/// Operations other than GETs that write nothing to the store (they read, or write to a queue):
/// they cannot lose a write race (409 `conflict`).
pub const NO_STORE_WRITE_OPERATIONS: &[&str] = &[
    "check_username",
    "bulk_permissions",
    "redrive",
    "stripe_webhook",
];

/// The whole API's OpenAPI description: every route group's operations, each with the error
/// responses of the shared edge besides its own. Modifiers of `ApiDoc` run before the groups are
/// merged in, so this one runs here, on the merged description.
pub fn description() -> utoipa::openapi::OpenApi {
    let (_, mut api) = routes().split_for_parts();
    lectern_web::idempotency::document(&mut api);
    lectern_web::openapi::EdgeErrors {
        self_contained: SELF_CONTAINED_OPERATIONS,
        raw_body: RAW_BODY_OPERATIONS,
        no_store_writes: NO_STORE_WRITE_OPERATIONS,
    }
    .modify(&mut api);
    api
}

/// The OpenAPI document, pretty-printed, as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = description().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// Creates the first admin of `tenant` unless an account with that email exists. Returns whether one
/// was created.
pub async fn bootstrap_admin(
    state: &AppState,
    tenant: &TenantId,
    email: &str,
    password: &str,
    username: &str,
) -> anyhow::Result<bool> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("LECTERN_ADMIN_EMAIL {e}"))?;
    let password =
        Password::parse(password).map_err(|e| anyhow::anyhow!("LECTERN_ADMIN_PASSWORD {e}"))?;
    let username =
        Username::parse(username).map_err(|e| anyhow::anyhow!("LECTERN_ADMIN_USERNAME {e}"))?;
    let repo = UserRepo::new(state.table.clone());
    if repo.find_by_email(tenant, &email).await?.is_some() {
        return Ok(false);
    }
    let hash = lectern_auth::password::hash(&password).await?;
    let admin = User::create(
        tenant.clone(),
        NewUser {
            email,
            username,
            first_name: PersonName::parse("Lectern").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Admin").map_err(anyhow::Error::msg)?,
            role: UserRole::Admin,
            preferred_study_time: None,
        },
        hash,
        now(),
    );
    match repo.create(&admin).await {
        Ok(()) => Ok(true),
        // Another process created it first.
        Err(UserWriteError::EmailTaken) => Ok(false),
        Err(e) => Err(anyhow::anyhow!("creating the admin: {e}")),
    }
}

/// The app as a service that records each connection's peer address, which `ClientAddress` reads.
pub fn with_client_addresses(
    app: Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    app.into_make_service_with_connect_info::<std::net::SocketAddr>()
}

/// Serves `app` until Ctrl-C, with each connection's peer address (the client address of the rate
/// limits, idempotency keys of anonymous calls and the sign-in throttle, as API Gateway's source IP
/// is in AWS).
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, with_client_addresses(app))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
