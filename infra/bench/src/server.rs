//! The local server (`lectern_local::app`) on 127.0.0.1:0, on its own tokio runtime in its own thread,
//! so that the load generator's tasks do not run on the server's workers.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, anyhow};
use lectern_domain::TenantId;
use lectern_web::state::{KeySource, StoreConfig};
use lectern_web::{AppState, Config, Tenants, TokenConfig};
use tokio::sync::oneshot;

/// The issuer and audience the template gives the functions by default.
pub const ISSUER: &str = "lectern";
pub const AUDIENCE: &str = "lectern-api";
/// The admin created on start (as `LECTERN_ADMIN_EMAIL` does for `lectern-local`).
pub const ADMIN_EMAIL: &str = "admin@bench.example.org";

/// The SQLite file the server seeds and holds open for the whole run, in the data folder.
pub const STORE_FILE: &str = "lectern.db";

/// The configuration of a local run: the SQLite file [`STORE_FILE`] under `data_dir`, signed with
/// `private_pem`.
pub fn config(data_dir: &Path, private_pem: &str) -> anyhow::Result<Config> {
    Ok(Config {
        store: StoreConfig::Sqlite {
            path: data_dir.join(STORE_FILE),
        },
        tenants: Tenants::new(vec![
            TenantId::parse("default").map_err(|e| anyhow!("tenant: {e}"))?,
        ])?,
        tokens: TokenConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            ttl: TokenConfig::DEFAULT_TTL,
        },
        keys: KeySource::PrivatePem(private_pem.to_owned()),
        data_dir: data_dir.to_path_buf(),
        object_store: None,
        // The bench measures the limiter's cost, not its refusals: the load run's students send
        // some 2,000 requests a second from one address, dozens a second each (the tenant's default
        // of 5,000 a second holds them).
        limits: lectern_web::limits::RateLimits {
            anonymous: lectern_web::limits::Rate::new(1_000_000_000, 60),
            writes: lectern_web::limits::Rate::new(1_000_000_000, 60),
            ..Default::default()
        },
        storage_quotas: Default::default(),
    })
}

/// A running local server; stops when dropped.
pub struct LocalServer {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalServer {
    /// Starts the app on `workers` worker threads, with the admin [`ADMIN_EMAIL`] created.
    pub async fn start(config: Config, workers: usize) -> anyhow::Result<LocalServer> {
        Self::start_with_consumers(config, workers, Vec::new()).await
    }

    /// As [`LocalServer::start`], with `consumers` subscribed to the domain events beside the
    /// platform's (the event router runs as in `lectern-local`).
    pub async fn start_with_consumers(
        config: Config,
        workers: usize,
        consumers: Vec<std::sync::Arc<dyn events_function::Consumer>>,
    ) -> anyhow::Result<LocalServer> {
        let (ready, started) = oneshot::channel::<anyhow::Result<SocketAddr>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lectern-local".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let bound = async {
                        let state = AppState::build(&config).await?;
                        let tenant = config.tenants.default_tenant().clone();
                        lectern_local::bootstrap_admin(
                            &state,
                            &tenant,
                            ADMIN_EMAIL,
                            crate::api::PASSWORD,
                            "admin",
                        )
                        .await?;
                        let payments = std::sync::Arc::new(
                            payments_function::Payments::from_env(&config, None).await?,
                        );
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                        anyhow::Ok((state, payments, listener))
                    }
                    .await;
                    let (state, payments, listener) = match bound {
                        Ok(bound) => bound,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready.send(listener.local_addr().map_err(Into::into));
                    let _workers = lectern_local::start_workers(&state, &payments);
                    let _events = match &config.store {
                        StoreConfig::Sqlite { path } => {
                            lectern_local::start_event_router(path, consumers, Default::default())
                                .map_err(|e| eprintln!("the event router did not start: {e:#}"))
                                .ok()
                        }
                        StoreConfig::Dynamo { .. } => None,
                    };
                    let app =
                        lectern_local::with_client_addresses(lectern_local::app(state, payments));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .context("starting the server thread")?;
        let addr = started
            .await
            .context("the local server stopped while starting")??;
        Ok(LocalServer {
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
