//! Concurrent writers, on two handles of one table (two connections, or two clients): conditions
//! admit exactly one winner and no increment is lost. For SQLite also across real processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_store::sqlite::SqliteTable;
use lectern_store::{
    AttrValue, Condition, Item, Key, StoreError, StoreResult, Table, TxAction, Update, UpdateAction,
};
use tokio::sync::Barrier;

use crate::support::{Store, item};

const WRITERS: usize = 8;

/// Runs `WRITERS` tasks at once, alternating between two handles of the store, and returns their
/// results in writer order.
async fn race<T, F, Fut>(s: &Store, write: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Table>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let handles = [s.shared(), s.another_handle().await];
    let start = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let work = write(handles[i % 2].clone(), i);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

pub async fn of_concurrent_puts_if_not_exists_exactly_one_wins(s: &Store) {
    // WHEN eight writers put the same key if it does not exist
    let results: Vec<StoreResult<()>> = race(s, |t, i| async move {
        let mine = item("p", "one", &[("by", AttrValue::from(i as u64))]);
        t.put(mine, Some(Condition::NotExists)).await
    })
    .await;
    // THEN exactly one succeeds, the others' conditions fail, and the item is the winner's
    let winners: Vec<usize> = (0..WRITERS).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in &results {
        assert_matches!(result, Ok(()) | Err(StoreError::ConditionFailed));
    }
    let stored = s.get(&Key::new("p", "one")).await.unwrap().unwrap();
    assert_eq!(stored["by"], AttrValue::from(winners[0] as u64));
}

pub async fn concurrent_adds_are_all_counted(s: &Store) {
    const ADDS: usize = 5;
    race(s, |t, _| async move {
        for _ in 0..ADDS {
            t.update(Update {
                key: Key::new("p", "counter"),
                actions: vec![UpdateAction::Add("n".into(), 1)],
                condition: None,
            })
            .await
            .unwrap();
        }
    })
    .await;
    let counter = s.get(&Key::new("p", "counter")).await.unwrap().unwrap();
    assert_eq!(counter["n"], AttrValue::from((WRITERS * ADDS) as u64));
}

pub async fn concurrent_bounded_adds_stop_exactly_at_the_limit(s: &Store) {
    // WHEN eight writers each try to take a unit from a counter bounded at 3
    let results: Vec<StoreResult<Item>> = race(s, |t, _| async move {
        t.update(Update {
            key: Key::new("p", "bounded"),
            actions: vec![UpdateAction::Add("n".into(), 1)],
            condition: Some(Condition::AbsentOrBelow("n".into(), 3)),
        })
        .await
    })
    .await;
    // THEN exactly three are admitted, the rest fail their condition, and the counter says 3
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(admitted, 3, "{results:?}");
    for result in &results {
        assert_matches!(result, Ok(_) | Err(StoreError::ConditionFailed));
    }
    let counter = s.get(&Key::new("p", "bounded")).await.unwrap().unwrap();
    assert_eq!(counter["n"], AttrValue::int(3));
}

pub async fn of_concurrent_transactions_claiming_one_item_exactly_one_wins(s: &Store) {
    // Each writer claims one sentinel and writes an item of its own, atomically.
    let results: Vec<StoreResult<()>> = race(s, |t, i| async move {
        t.transact_write(vec![
            TxAction::Put {
                item: item("p", "sentinel", &[("by", AttrValue::from(i as u64))]),
                condition: Some(Condition::NotExists),
            },
            TxAction::Put {
                item: item("p", &format!("user{i}"), &[]),
                condition: None,
            },
        ])
        .await
    })
    .await;
    let winners: Vec<usize> = (0..WRITERS).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in &results {
        match result {
            // DynamoDB may also cancel a transaction that collides with one in flight.
            Ok(()) | Err(StoreError::TransactionConflict) => {}
            Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, &[0]),
            Err(other) => panic!("a losing transaction failed with {other:?}"),
        }
    }
    for i in 0..WRITERS {
        let user = s.get(&Key::new("p", format!("user{i}"))).await.unwrap();
        assert_eq!(user.is_some(), i == winners[0], "user{i}");
    }
}

// --- SQLite across processes -------------------------------------------------------------------

/// Set (to the database path) in the environment of a child process of the test below.
const CHILD_DB: &str = "LECTERN_CONFORMANCE_CHILD_DB";
/// Keys each child tries to claim, and increments each makes.
const ROUNDS: usize = 40;
const CHILDREN: usize = 2;

/// Starts two processes (this test binary, running [`child_process`]) that race on one file, then
/// checks that every key was claimed by exactly one of them and that no increment was lost.
pub fn processes_sharing_a_file_agree() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    // Create the schema before the race.
    drop(SqliteTable::open(&db).unwrap());
    let go = dir.path().join("go");
    let children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "sqlite_child_process", "--nocapture"])
                .args(["--test-threads", "1"])
                .env(CHILD_DB, &db)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Both children wait for this file, so that their writes overlap.
    std::fs::write(&go, b"").unwrap();
    let mut wins = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "a child failed:\n{stdout}");
        wins += stdout
            .lines()
            // The harness prints the test's name on the same line.
            .find_map(|l| l.split_once("WINS ").map(|(_, n)| n))
            .and_then(|n| n.split_whitespace().next()?.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("a child reported no wins:\n{stdout}"));
    }
    assert_eq!(wins, ROUNDS, "each key claimed exactly once");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let table = SqliteTable::open(&db).unwrap();
    let counter = runtime
        .block_on(table.get(&Key::new("p", "counter")))
        .unwrap()
        .unwrap();
    assert_eq!(counter["n"], AttrValue::from((CHILDREN * ROUNDS) as u64));
}

/// The child's side: claims every key it can and counts, printing how many claims it won.
pub fn child_process() {
    let Some(db) = std::env::var_os(CHILD_DB) else {
        return; // Not started as a child: nothing to do.
    };
    let db = std::path::PathBuf::from(db);
    let go = db.with_file_name("go");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !go.exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        std::thread::sleep(Duration::from_millis(1));
    }
    let table = SqliteTable::open(&db).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut wins = 0;
    runtime.block_on(async {
        for i in 0..ROUNDS {
            let claim = item("p", &format!("claim{i:02}"), &[]);
            match table.put(claim, Some(Condition::NotExists)).await {
                Ok(()) => wins += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(other) => panic!("claim {i}: {other:?}"),
            }
            table
                .update(Update {
                    key: Key::new("p", "counter"),
                    actions: vec![UpdateAction::Add("n".into(), 1)],
                    condition: None,
                })
                .await
                .unwrap();
        }
    });
    println!("WINS {wins}");
}
