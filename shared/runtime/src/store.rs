//! Opening the stores the configuration names: the table (SQLite or DynamoDB) and the object store.
//! No network calls: SDK clients connect on first use.

use std::sync::Arc;

use anyhow::Context;
use lectern_files::ObjectStore;
use lectern_store::Table;
use lectern_store::sqlite::{SharedConnection, SqliteTable};

use crate::config::{Config, StoreConfig};

/// Opens the store of the configuration: the SQLite file (created with its folder if absent), or a
/// DynamoDB client for the table. No network calls. What the queue workers need, who check no
/// token; `lectern_web::AppState::build` for the route groups.
pub async fn open_table(config: &Config) -> anyhow::Result<Arc<dyn Table>> {
    Ok(open_store(config).await?.table)
}

/// An opened store: the table, and with the SQLite backend the file's connection.
pub struct OpenedStore {
    pub table: Arc<dyn Table>,
    /// For the local queues a function keeps in the store's file (the payments function, the events
    /// worker), so that its cold start opens the file once; `None` with DynamoDB.
    pub sqlite: Option<SharedConnection>,
}

/// Opens the store as [`open_table`] does, keeping the SQLite connection at hand.
pub async fn open_store(config: &Config) -> anyhow::Result<OpenedStore> {
    Ok(match &config.store {
        StoreConfig::Sqlite { path } => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let table = SqliteTable::open(path)
                .with_context(|| format!("opening the SQLite store at {}", path.display()))?;
            OpenedStore {
                sqlite: Some(table.connection()),
                table: Arc::new(table),
            }
        }
        StoreConfig::Dynamo { table, endpoint } => {
            let client =
                aws_sdk_dynamodb::Client::new(&lectern_aws::sdk_config(endpoint.as_deref()).await);
            OpenedStore {
                table: Arc::new(lectern_store::dynamo::DynamoTable::new(
                    client,
                    table.clone(),
                )),
                sqlite: None,
            }
        }
    })
}

/// Connects the object store of the configuration, if it has one (`LECTERN_S3_BUCKET`). Only what
/// serves files calls this, so the others never build the S3 client.
pub async fn open_object_store(config: &Config) -> Option<ObjectStore> {
    match &config.object_store {
        Some(store) => Some(ObjectStore::connect(store).await),
        None => None,
    }
}
