//! `lectern-local`: serves the whole API on `LECTERN_ADDR` (default 127.0.0.1:3000) with data under
//! `LECTERN_DATA_DIR` (default `.lectern`). Unless `LECTERN_S3_BUCKET` names a real bucket, files go
//! to an embedded S3 endpoint on `LECTERN_S3_ADDR` (default: an ephemeral port on 127.0.0.1) storing
//! under `{data dir}/objects`. Browsers may call it from the origins of `LECTERN_CORS_ORIGINS` (default:
//! local front-end development servers). `lectern-local openapi` prints the OpenAPI document.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", lectern_local::openapi_json());
        return Ok(());
    }
    let mut config = lectern_runtime::start().await?;
    // Kept alive until the server stops.
    let _embedded_s3 = if config.object_store.is_none() {
        let addr = std::env::var("LECTERN_S3_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let s3 = lectern_local::s3::start(&config.data_dir.join("objects"), &addr).await?;
        println!(
            "S3 endpoint on http://{} (bucket {})",
            s3.addr, s3.config.bucket
        );
        config.object_store = Some(s3.config.clone());
        Some(s3)
    } else {
        None
    };
    let state = lectern_web::AppState::build(&config)
        .await?
        .with_object_store(&config)
        .await;
    if let (Ok(email), Ok(password)) = (
        std::env::var("LECTERN_ADMIN_EMAIL"),
        std::env::var("LECTERN_ADMIN_PASSWORD"),
    ) {
        let username = std::env::var("LECTERN_ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
        let tenant = config.tenants.default_tenant();
        if lectern_local::bootstrap_admin(&state, tenant, &email, &password, &username).await? {
            println!("created admin {email} in tenant {tenant}");
        }
    }
    // The queues get a connection of their own (not the store's): the workers poll them while
    // requests use the store.
    let payments = std::sync::Arc::new(payments_function::Payments::from_env(&config, None).await?);
    // This server serves the webhook endpoint too.
    payments.ingest.require_secret()?;
    // Kept alive until the server stops.
    let _workers = lectern_local::start_workers(&state, &payments);
    // In AWS the table's stream invokes the router; here it reads the SQLite file's (with DynamoDB
    // pointed at an emulator, events wait in the table: no stream reaches this process).
    let _events = match &config.store {
        lectern_web::state::StoreConfig::Sqlite { path } => Some(
            lectern_local::start_event_router(path, Vec::new(), Default::default())?,
        ),
        lectern_web::state::StoreConfig::Dynamo { .. } => None,
    };
    if payments.local.is_some() {
        println!(
            "payments: local provider (POST /api/v1/dev/payments/{{id}}/simulate pays or fails a payment)"
        );
    }
    let addr = std::env::var("LECTERN_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr} (set LECTERN_ADDR to use another address)"))?;
    println!(
        "Lectern listening on http://{} (data in {})",
        listener.local_addr()?,
        config.data_dir.display()
    );
    lectern_local::serve(listener, lectern_local::app(state, payments)).await?;
    Ok(())
}
