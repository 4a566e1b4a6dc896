//! The store under test and small helpers the behaviours share.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use lectern_store::dynamo::DynamoTable;
use lectern_store::sqlite::SqliteTable;
use lectern_store::{AttrValue, Item, Key, Query, Table};

/// A store under test: one backend's table, and the means to open it again as another process would.
/// It derefs to the table, so behaviours call `s.put(..)`, `s.query(..)` directly.
pub struct Store {
    table: Arc<dyn Table>,
    backend: Backend,
}

enum Backend {
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Dynamo {
        name: String,
    },
}

impl Store {
    pub async fn sqlite() -> Store {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        Store {
            table: Arc::new(SqliteTable::open(&path).unwrap()),
            backend: Backend::Sqlite { path, _dir: dir },
        }
    }

    pub async fn dynamo() -> Store {
        let moto = lectern_testkit::moto::moto().await;
        let name = moto.fresh_table_name().await;
        Store {
            table: Arc::new(DynamoTable::new(moto.dynamo_client(), name.clone())),
            backend: Backend::Dynamo { name },
        }
    }

    /// The table, to hand to spawned tasks.
    pub fn shared(&self) -> Arc<dyn Table> {
        self.table.clone()
    }

    /// A second handle on the same table with a connection (or client) of its own, as a second
    /// process would have.
    pub async fn another_handle(&self) -> Arc<dyn Table> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Arc::new(SqliteTable::open(path).unwrap()),
            Backend::Dynamo { name } => {
                let moto = lectern_testkit::moto::moto().await;
                Arc::new(DynamoTable::new(moto.dynamo_client(), name.clone()))
            }
        }
    }
}

impl Deref for Store {
    type Target = dyn Table;

    fn deref(&self) -> &Self::Target {
        &*self.table
    }
}

/// An item with its key and the given attributes.
pub fn item(pk: &str, sk: &str, attrs: &[(&str, AttrValue)]) -> Item {
    let mut item = Item::from([
        ("PK".to_string(), AttrValue::s(pk)),
        ("SK".to_string(), AttrValue::s(sk)),
    ]);
    for (name, value) in attrs {
        item.insert(name.to_string(), value.clone());
    }
    item
}

/// An item in GSI1 partition `ipk` with index sort key `isk`.
pub fn indexed(pk: &str, sk: &str, ipk: &str, isk: &str) -> Item {
    item(
        pk,
        sk,
        &[("GSI1PK", AttrValue::s(ipk)), ("GSI1SK", AttrValue::s(isk))],
    )
}

/// The sort keys of items, in order.
pub fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| key(i).sk).collect()
}

/// The table key of an item.
pub fn key(item: &Item) -> Key {
    Key::of(item).expect("an item read from the store has string keys")
}

/// Puts items unconditionally.
pub async fn put_all(s: &Store, items: impl IntoIterator<Item = Item>) {
    for item in items {
        s.put(item, None).await.unwrap();
    }
}

/// Reads a query page by page (`page` items at most each), checking every page's size, and returns
/// the items in the order read and the number of pages.
pub async fn walk(s: &Store, base: &Query, page: usize) -> (Vec<Item>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let query = base.clone().limit(page).after(cursor);
        let p = s.query(&query).await.unwrap();
        pages += 1;
        assert!(
            p.items.len() <= page,
            "a page of {} > {page}",
            p.items.len()
        );
        items.extend(p.items);
        match p.next {
            Some(next) => cursor = Some(next),
            None => return (items, pages),
        }
        assert!(pages <= 1000, "the walk does not end");
    }
}
