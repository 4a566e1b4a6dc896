//! The test app and its typed client. Every response the client receives from the app is checked
//! against the API description (`docs/openapi.json`): the whole suite is a contract test.

use std::sync::Arc;

use lectern_store::Table;
use lectern_store::sqlite::SqliteTable;
use lectern_testkit::openapi::{Contract, Exchange, UNDESCRIBED_PREFIXES};
use lectern_web::state::{KeySource, StoreConfig};
use lectern_web::{AppState, Config, Tenants};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";
pub const ADMIN_EMAIL: &str = "admin@lectern.test";
/// The platform operator's account (an admin of the default tenant, named in the test apps'
/// configuration).
pub const OPERATOR_EMAIL: &str = "ops@lectern.test";

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// The embedded S3 endpoint, for apps spawned with one ([`TestApp::spawn_with_files`]).
    pub s3: Option<lectern_local::s3::EmbeddedS3>,
    /// The payments' provider, secret and queues.
    pub payments: Arc<payments_function::Payments>,
    /// Access tokens of the tenants' admins who granted roles ([`TestApp::grant_role`]).
    admins: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The payment queues' workers, running while the app does.
    _workers: Vec<lectern_queue::WorkerHandle>,
    /// The event router, fed from the store file's stream while the app runs.
    _events: events_function::local::FeederHandle,
    /// The API description every response is checked against: the committed one, loaded and
    /// compiled once per test process ([`Contract::committed`]).
    pub contract: &'static Contract,
}

/// The local queues in tests: a message comes back after a second, and dead-letters after its third
/// receive, so retries and the dead-letter queue show within seconds.
pub fn local_queues() -> payments_function::queues::LocalQueues {
    payments_function::queues::LocalQueues {
        policy: lectern_queue::QueuePolicy::new(3),
        visibility: std::time::Duration::from_secs(1),
    }
}

/// The event router in tests: a failed delivery comes back after 300 ms, and dead-letters after its
/// third attempt.
pub fn feed_options() -> events_function::local::FeedOptions {
    events_function::local::FeedOptions {
        retry_after: std::time::Duration::from_millis(300),
        max_attempts: 3,
        ..Default::default()
    }
}

/// A response: status, headers and JSON body (Null when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn assert(self, status: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// Tokens and identity of a signed-in user.
pub struct Session {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        store: StoreConfig::Sqlite {
            path: dir.join("lectern.db"),
        },
        tenants: Tenants::new(vec![
            lectern_domain::TenantId::parse("default").unwrap(),
            lectern_domain::TenantId::parse("acme").unwrap(),
        ])
        .unwrap(),
        tokens: lectern_auth_config(),
        keys: KeySource::LocalFile(dir.join("jwt.pem")),
        data_dir: dir.to_path_buf(),
        object_store: None,
        limits: Default::default(),
        storage_quotas: Default::default(),
    }
}

fn lectern_auth_config() -> lectern_web::TokenConfig {
    lectern_web::TokenConfig {
        issuer: "lectern-test".into(),
        audience: "lectern-api".into(),
        ttl: std::time::Duration::from_secs(900),
    }
}

impl TestApp {
    /// The app on a fresh SQLite store.
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_on(dir, Arc::new(table)).await
    }

    /// The app on a fresh SQLite store, its configuration changed by `customise` (tenants' policies).
    pub async fn spawn_configured(customise: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_inner(
            dir,
            Arc::new(table),
            None,
            None,
            |_| {},
            customise,
            Vec::new(),
        )
        .await
    }

    /// The app on a fresh SQLite store, with an embedded S3 endpoint on its temporary folder.
    pub async fn spawn_with_files() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_with_s3(dir, Arc::new(table)).await
    }

    /// The app over `table` with an embedded S3 endpoint on its data folder.
    async fn spawn_with_s3(dir: tempfile::TempDir, table: Arc<dyn Table>) -> TestApp {
        Self::spawn_with_s3_configured(dir, table, |_| {}).await
    }

    /// The app on a fresh SQLite store with an embedded S3 endpoint, its configuration changed by
    /// `customise` (storage quotas).
    pub async fn spawn_with_files_configured(customise: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_with_s3_configured(dir, Arc::new(table), customise).await
    }

    async fn spawn_with_s3_configured(
        dir: tempfile::TempDir,
        table: Arc<dyn Table>,
        customise: impl FnOnce(&mut Config),
    ) -> TestApp {
        let s3 = lectern_local::s3::start(&dir.path().join("objects"), "127.0.0.1:0")
            .await
            .unwrap();
        let store = lectern_files::ObjectStore::with_static_credentials(&s3.config);
        let mut app = Self::spawn_inner(
            dir,
            table,
            Some(Arc::new(store)),
            None,
            |_| {},
            customise,
            Vec::new(),
        )
        .await;
        app.s3 = Some(s3);
        app
    }

    /// The app over a given table (sabotaged, or DynamoDB on moto), with its data folder.
    pub async fn spawn_on(dir: tempfile::TempDir, table: Arc<dyn Table>) -> TestApp {
        Self::spawn_with(dir, table, None).await
    }

    /// The app over a given table and object store.
    pub async fn spawn_with(
        dir: tempfile::TempDir,
        table: Arc<dyn Table>,
        files: Option<Arc<lectern_files::ObjectStore>>,
    ) -> TestApp {
        Self::spawn_customised(dir, table, files, |_| {}).await
    }

    /// The app on a fresh SQLite store, its payments' dependencies changed by `customise` (another
    /// provider, other queues).
    pub async fn spawn_with_payments(
        customise: impl FnOnce(&mut payments_function::Payments),
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_customised(dir, Arc::new(table), None, customise).await
    }

    /// The app on a fresh SQLite store, with `consumers` subscribed to the domain events beside the
    /// platform's.
    pub async fn spawn_with_consumers(
        consumers: Vec<Arc<dyn events_function::Consumer>>,
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        Self::spawn_inner(dir, Arc::new(table), None, None, |_| {}, |_| {}, consumers).await
    }

    /// The app on a fresh SQLite store whose connection the payments' queues share, as the
    /// payments function and the events worker open them in Lambda.
    pub async fn spawn_on_one_connection() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        let connection = table.connection();
        Self::spawn_inner(
            dir,
            Arc::new(table),
            None,
            Some(&connection),
            |_| {},
            |_| {},
            Vec::new(),
        )
        .await
    }

    /// The app over a given table and object store, its payments' dependencies changed by
    /// `customise`.
    pub async fn spawn_customised(
        dir: tempfile::TempDir,
        table: Arc<dyn Table>,
        files: Option<Arc<lectern_files::ObjectStore>>,
        customise: impl FnOnce(&mut payments_function::Payments),
    ) -> TestApp {
        Self::spawn_inner(dir, table, files, None, customise, |_| {}, Vec::new()).await
    }

    /// The app; the payments' local queues on `queues_on`, the store's connection, if given.
    async fn spawn_inner(
        dir: tempfile::TempDir,
        table: Arc<dyn Table>,
        files: Option<Arc<lectern_files::ObjectStore>>,
        queues_on: Option<&lectern_store::sqlite::SharedConnection>,
        customise: impl FnOnce(&mut payments_function::Payments),
        customise_config: impl FnOnce(&mut Config),
        consumers: Vec<Arc<dyn events_function::Consumer>>,
    ) -> TestApp {
        let mut config = config(dir.path());
        customise_config(&mut config);
        let mut state = AppState::with_table(&config, table).unwrap();
        state.files = files;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut payments = payments_function::Payments::build(&config, local_queues(), queues_on)
            .await
            .unwrap();
        payments.operators =
            payments_function::operators::Operators::parse(&format!("default:{OPERATOR_EMAIL}"))
                .unwrap();
        customise(&mut payments);
        let payments = Arc::new(payments);
        let workers = lectern_local::start_workers(&state, &payments);
        let events = lectern_local::start_event_router(
            &dir.path().join("lectern.db"),
            consumers,
            feed_options(),
        )
        .unwrap();
        let app = lectern_local::app(state.clone(), payments.clone());
        tokio::spawn(async move {
            axum::serve(listener, lectern_local::with_client_addresses(app)).await
        });
        TestApp {
            base,
            client: reqwest::Client::new(),
            state,
            dir,
            s3: None,
            payments,
            admins: Default::default(),
            _workers: workers,
            _events: events,
            contract: Contract::committed(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(&self.client, method, path, token, body, headers)
            .await
    }

    /// A request from `client` (one bound to another local address: [`TestApp::client_from`]).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = client.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.exchange(request).await
    }

    /// Sends a request built by hand (a raw body, a content type of its own) and reads the reply. A
    /// reply from this app is checked against the API description first, as every reply of
    /// [`TestApp::call`] is: a response the description does not allow fails the test.
    pub async fn exchange(&self, request: reqwest::RequestBuilder) -> Reply {
        let (client, request) = request.build_split();
        let request = request.unwrap();
        let method = request.method().clone();
        let url = request.url().clone();
        let response = client.execute(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        if let Some(path) = url.as_str().strip_prefix(&self.base) {
            self.check_contract(method.as_str(), path, status, &headers, &bytes);
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Panics, naming the operation, the status and what is wrong, when a response of this app is
    /// not one the API description allows. Paths outside the API (the interactive documentation,
    /// the local provider's simulation) are not checked.
    #[track_caller]
    fn check_contract(
        &self,
        method: &str,
        path: &str,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) {
        // CORS preflights are the browser's, answered by the CORS layer before any operation.
        if UNDESCRIBED_PREFIXES.iter().any(|p| path.starts_with(p)) || method == "OPTIONS" {
            return;
        }
        let exchange = Exchange {
            method,
            path,
            status: status.as_u16(),
            content_type: headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            body,
        };
        if let Err(breach) = self.contract.check(&exchange) {
            panic!("the response breaks the API description (docs/openapi.json): {breach}");
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn register(&self, email: &str, username: &str, role: &str) -> Reply {
        self.post(
            "/api/v1/auth/register",
            None,
            json!({
                "email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace",
                "username": username, "role": role, "preferredStudyTime": "morning"
            }),
        )
        .await
    }

    /// A client whose connections come from `address`, a loopback address other than 127.0.0.1
    /// (Linux answers on all of 127.0.0.0/8): another client address, as the server sees it.
    pub fn client_from(address: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    }

    /// Signs in from a client of [`TestApp::client_from`].
    pub async fn signin_from(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> Reply {
        self.send(
            client,
            Method::POST,
            "/api/v1/auth/signin",
            None,
            Some(json!({"email": email, "password": password})),
            &[],
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/signin",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers a user and signs them in. Registration makes students; any other role is granted by
    /// the tenant's admin ([`TestApp::grant_role`]) before the sign-in, as a real tenant does.
    pub async fn user(&self, email: &str, username: &str, role: &str) -> Session {
        let id = self
            .register(email, username, "student")
            .await
            .assert(201)
            .body["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if role != "student" {
            self.grant_role("default", &id, role).await;
        }
        let tokens = self.signin(email, PASSWORD).await.assert(200).body;
        Session {
            id,
            access: tokens["accessToken"].as_str().unwrap().to_owned(),
            refresh: tokens["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Registers a user in another tenant (`x-tenant-id`) and signs them in there; a role other than
    /// `student` is granted by that tenant's admin first.
    pub async fn user_in(&self, tenant: &str, email: &str, username: &str, role: &str) -> Session {
        let header = [("x-tenant-id", tenant)];
        let registered = self
            .call_with(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({
                    "email": email, "password": PASSWORD, "firstName": "Ada",
                    "lastName": "Lovelace", "username": username
                })),
                &header,
            )
            .await
            .assert(201);
        let id = registered.body["data"]["id"].as_str().unwrap().to_owned();
        if role != "student" {
            self.grant_role(tenant, &id, role).await;
        }
        let tokens = self
            .call_with(
                Method::POST,
                "/api/v1/auth/signin",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
                &header,
            )
            .await
            .assert(200)
            .body;
        Session {
            id,
            access: tokens["accessToken"].as_str().unwrap().to_owned(),
            refresh: tokens["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Gives user `id` of `tenant` the `role`, as that tenant's admin does through user administration
    /// (`PUT /api/v1/users/{id}/role`). The admin is created on first use, as the local server does.
    pub async fn grant_role(&self, tenant: &str, id: &str, role: &str) {
        let admin = self.admin_token_of(tenant).await;
        self.put(
            &format!("/api/v1/users/{id}/role"),
            Some(&admin),
            json!({ "role": role }),
        )
        .await
        .assert(200);
    }

    /// An access token of `tenant`'s admin (the bootstrap admin), signed in once per app.
    async fn admin_token_of(&self, tenant: &str) -> String {
        let mut admins = self.admins.lock().await;
        if let Some(token) = admins.get(tenant) {
            return token.clone();
        }
        let tenant_id = lectern_domain::TenantId::parse(tenant).unwrap();
        lectern_local::bootstrap_admin(&self.state, &tenant_id, ADMIN_EMAIL, PASSWORD, "admin")
            .await
            .unwrap();
        let tokens = self
            .call_with(
                Method::POST,
                "/api/v1/auth/signin",
                None,
                Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD})),
                &[("x-tenant-id", tenant)],
            )
            .await
            .assert(200)
            .body;
        let token = tokens["accessToken"].as_str().unwrap().to_owned();
        admins.insert(tenant.to_owned(), token.clone());
        token
    }

    /// Creates the default tenant's admin (as the local server does on first start) and signs in.
    pub async fn admin(&self) -> Session {
        let tenant = lectern_domain::TenantId::parse("default").unwrap();
        lectern_local::bootstrap_admin(&self.state, &tenant, ADMIN_EMAIL, PASSWORD, "admin")
            .await
            .unwrap();
        let tokens = self.signin(ADMIN_EMAIL, PASSWORD).await.assert(200).body;
        Session {
            id: tokens["user"]["id"].as_str().unwrap().to_owned(),
            access: tokens["accessToken"].as_str().unwrap().to_owned(),
            refresh: tokens["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates an admin in `tenant` (as the local server does for its first admin) and signs them in
    /// there.
    pub async fn admin_in(&self, tenant: &str, email: &str, username: &str) -> Session {
        let id = lectern_domain::TenantId::parse(tenant).unwrap();
        lectern_local::bootstrap_admin(&self.state, &id, email, PASSWORD, username)
            .await
            .unwrap();
        let tokens = self
            .call_with(
                Method::POST,
                "/api/v1/auth/signin",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
                &[("x-tenant-id", tenant)],
            )
            .await
            .assert(200)
            .body;
        Session {
            id: tokens["user"]["id"].as_str().unwrap().to_owned(),
            access: tokens["accessToken"].as_str().unwrap().to_owned(),
            refresh: tokens["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// The platform operator ([`OPERATOR_EMAIL`]), signed in.
    pub async fn operator(&self) -> Session {
        self.admin_in("default", OPERATOR_EMAIL, "operator").await
    }

    /// An app on a fresh SQLite store wrapped in a call counter, and the counter.
    pub async fn counting() -> (TestApp, Arc<Counter>) {
        let (dir, table) = counting_store();
        (TestApp::spawn_on(dir, table.clone()).await, table)
    }

    /// As [`TestApp::counting`], with an embedded S3 endpoint on its temporary folder (as
    /// [`TestApp::spawn_with_files`]).
    pub async fn counting_with_files() -> (TestApp, Arc<Counter>) {
        let (dir, table) = counting_store();
        (TestApp::spawn_with_s3(dir, table.clone()).await, table)
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Creates a course as `teacher` (fields of `body` override a free programming course) and
    /// publishes it when asked; answers its id.
    pub async fn course(&self, teacher: &Session, body: Value, publish: bool) -> String {
        let mut fields = json!({
            "title": "A course", "description": "About things.", "category": "programming",
            "difficultyLevel": "beginner", "price": 0
        });
        if let (Some(fields), Some(extra)) = (fields.as_object_mut(), body.as_object()) {
            fields.extend(extra.clone());
        }
        let created = self
            .post("/api/v1/courses", Some(&teacher.access), fields)
            .await
            .assert(201)
            .body;
        let id = created["data"]["courseId"].as_str().unwrap().to_owned();
        if publish {
            self.post(
                &format!("/api/v1/courses/{id}/publish"),
                Some(&teacher.access),
                json!({}),
            )
            .await
            .assert(200);
        }
        id
    }

    /// Adds an essay worth `points`, due far in the future, to a course as `teacher`; answers its id.
    pub async fn assignment(&self, teacher: &Session, course: &str, points: u32) -> String {
        self.assignment_from(
            teacher,
            course,
            json!({"title": "Essay", "description": "Write.", "points": points,
                   "dueDate": "2099-01-01T00:00:00Z"}),
        )
        .await
    }

    /// Adds the assignment `body` describes to a course as `teacher`; answers its id.
    pub async fn assignment_from(&self, teacher: &Session, course: &str, body: Value) -> String {
        self.post(
            &format!("/api/v1/courses/{course}/assignments"),
            Some(&teacher.access),
            body,
        )
        .await
        .assert(201)
        .body["data"]["assignmentId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Adds a lesson to a course as `teacher`; answers its id.
    pub async fn lesson(
        &self,
        teacher: &Session,
        course: &str,
        title: &str,
        minutes: u32,
    ) -> String {
        self.post(
            &format!("/api/v1/courses/{course}/lessons"),
            Some(&teacher.access),
            json!({"title": title, "estimatedTime": minutes, "content": format!("# {title}")}),
        )
        .await
        .assert(201)
        .body["data"]["lessonId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refreshToken": refresh_token }),
        )
        .await
    }
}

/// The counting store of [`TestApp::counting`].
pub type Counter = lectern_testkit::counting::CountingTable<SqliteTable>;

/// A fresh SQLite store in a temporary folder, wrapped in a call counter.
pub fn counting_store() -> (tempfile::TempDir, Arc<Counter>) {
    let dir = tempfile::tempdir().unwrap();
    let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
    (dir, Arc::new(Counter::new(table)))
}

/// Asserts the store calls one request to `endpoint` made since the counter was last read, as
/// `[gets, batch gets, queries, single-item writes (put, update, delete), transactions]`.
/// `endpoint` names the operation as the OpenAPI description does ("GET /api/v1/courses/{courseId}"):
/// `store_calls::every_operation_has_a_store_call_budget` finds every operation among these names.
#[track_caller]
pub fn assert_calls(table: &Counter, endpoint: &str, expected: [usize; 5]) {
    let c = table.take();
    let seen = [
        c.get,
        c.batch_get,
        c.query,
        c.put + c.update + c.delete,
        c.transact_write,
    ];
    assert_eq!(
        seen, expected,
        "store calls of {endpoint}: [get, batch get, query, write, transaction]"
    );
}
