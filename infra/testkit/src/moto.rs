//! moto's server on loopback, one per test process, for the DynamoDB backend's tests.
//!
//! moto is installed on first use into `target/tools/venv` (by `infra/scripts/install-tools.sh`, under
//! a file lock so that parallel test binaries install it once): no test is skipped for a missing tool.
//! The server runs under a shell that kills it when this process's end of a pipe closes, so it never
//! outlives the tests. Each test gets a table of its own, so tests in parallel never see each other.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use lectern_store::dynamo::{DynamoTable, create_table};
use tokio::sync::OnceCell;

/// A running moto server.
pub struct Moto {
    pub endpoint: String,
    // Keeps the pipe open: when the test process exits, it closes and the shell stops moto.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static MOTO: OnceCell<Moto> = OnceCell::const_new();
static TABLES: AtomicUsize = AtomicUsize::new(0);

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn moto_server() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("LECTERN_MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let root = workspace();
    let binary = root.join("target/tools/venv/bin/moto_server");
    if !binary.exists() {
        std::fs::create_dir_all(root.join("target/tools"))?;
        let lock = std::fs::File::create(root.join("target/tools/install.lock"))?;
        lock.lock()?;
        let status = Command::new("bash")
            .arg(root.join("infra/scripts/install-tools.sh"))
            .status()?;
        anyhow::ensure!(status.success(), "installing moto failed: {status}");
    }
    Ok(binary)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start() -> anyhow::Result<Moto> {
    let binary = moto_server()?;
    let port = free_port()?;
    let log = std::fs::File::create(workspace().join(format!("target/tools/moto-{port}.log")))?;
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} & pid=$!; read _; kill $pid",
        binary.display()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin for moto"))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Moto {
        endpoint,
        _stdin: Mutex::new(stdin),
        _child: Mutex::new(child),
    })
}

/// The moto server of this test process, started on first use.
pub async fn moto() -> &'static Moto {
    MOTO.get_or_init(|| async { start().await.expect("starting moto's server") })
        .await
}

impl Moto {
    /// A DynamoDB client pointed at moto, with static test credentials.
    pub fn dynamo_client(&self) -> Client {
        let credentials =
            aws_credential_types::Credentials::new("test", "test", None, None, "lectern-tests");
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(&self.endpoint)
            .build();
        Client::from_conf(config)
    }

    /// A new, empty table with Lectern's schema.
    pub async fn fresh_table(&self) -> DynamoTable {
        let client = self.dynamo_client();
        let name = format!(
            "lectern-{}-{}",
            std::process::id(),
            TABLES.fetch_add(1, Ordering::SeqCst)
        );
        create_table(&client, &name)
            .await
            .expect("creating a table on moto");
        DynamoTable::new(client, name)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Ok(mut stdin) = self._stdin.lock() {
            let _ = stdin.write_all(b"\n");
        }
    }
}
