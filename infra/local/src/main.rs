//! `lectern-local`: serves the whole API on `LECTERN_ADDR` (default 127.0.0.1:3000) with data under
//! `LECTERN_DATA_DIR` (default `.lectern`). `lectern-local openapi` prints the OpenAPI document.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", lectern_local::openapi_json());
        return Ok(());
    }
    lectern_web::telemetry::init();
    let config = lectern_web::Config::from_env()?;
    let state = lectern_web::AppState::build(&config).await?;
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
    let addr = std::env::var("LECTERN_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr} (set LECTERN_ADDR to use another address)"))?;
    println!(
        "Lectern listening on http://{} (data in {})",
        listener.local_addr()?,
        config.data_dir.display()
    );
    lectern_local::serve(listener, lectern_local::app(state)).await?;
    Ok(())
}
