//! moto's server on loopback, one per test process, for the DynamoDB and SQS backends' tests.
//!
//! moto is installed on first use into `target/tools/venv` (by `infra/scripts/install-tools.sh`, under
//! a file lock so that parallel test binaries install it once): no test is skipped for a missing
//! tool. `LECTERN_MOTO_SERVER` names another `moto_server` binary to use instead.
//!
//! moto's application runs behind one lock (`moto_serial.py` beside this crate's sources): moto does
//! not isolate concurrent requests from each other (concurrent `ADD`s can lose one; a cancelled
//! transaction restores whole tables), while DynamoDB serialises writes to an item and isolates
//! transactions. With the lock, tests of concurrency test the adapter, not moto.
//!
//! The server runs under a small shell that kills it when the read end of a pipe from this process
//! sees end-of-file, which happens however this process ends (even `SIGKILL`): moto never outlives
//! the tests. Each test makes a table (or queue) of its own, so tests running in parallel never see
//! each other's items and nothing needs resetting.
//!
//! With one request applied at a time, an SQS long poll (`WaitTimeSeconds` > 0) would hold every other
//! test's requests for its duration: SQS tests receive with `WaitTimeSeconds=0` only.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use lectern_store::dynamo::{DynamoTable, create_table};

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The write end of the pipe the shell watches: held for the life of the process (in a static).
    _lifeline: Mutex<ChildStdin>,
    shell: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static TABLES: AtomicUsize = AtomicUsize::new(0);
static QUEUES: AtomicUsize = AtomicUsize::new(0);

/// How long moto may take to start (a cold Python import is a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts on fresh ports, should a port be taken between choosing it and moto binding it.
const START_ATTEMPTS: usize = 3;

/// Starts moto, waits for it and keeps its pipe open. The shell's standard input is the pipe; moto's
/// is /dev/null. When the pipe closes, `read` returns and the watcher kills moto; when moto exits on
/// its own (a port already taken), the shell exits too, so the start-up loop notices at once.
const SUPERVISOR: &str = r#"
exec 3<&0
port=$1
shift
"$0" "$@" -H 127.0.0.1 -p "$port" </dev/null &
moto=$!
( read -r _ <&3; kill "$moto" 2>/dev/null ) &
watcher=$!
wait "$moto"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// The moto server of this test process, started (and installed) on first use.
///
/// Panics if moto cannot be started: a test that needs it cannot run without it, and the message
/// says where moto's log is.
pub async fn moto() -> &'static Moto {
    if let Some(moto) = MOTO.get() {
        return moto;
    }
    // Installing and starting block (a pip install, a process start-up): off the runtime's threads.
    // Each #[tokio::test] has a runtime of its own, so a test waiting here blocks only itself.
    tokio::task::spawn_blocking(|| {
        MOTO.get_or_init(|| match start() {
            Ok(moto) => moto,
            Err(e) => panic!("starting moto's server for the DynamoDB tests: {e:#}"),
        })
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// How to start moto: a program and its first arguments. By default the tools' Python running
/// `moto_serial.py`, installed first if it is not there yet.
fn moto_server() -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    if let Some(path) = std::env::var_os("LECTERN_MOTO_SERVER") {
        return Ok((PathBuf::from(path), Vec::new()));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_serial.py");
    crate::tools::venv_program("moto_server")?;
    Ok((crate::tools::venv_program("python")?, vec![script]))
}

fn start() -> anyhow::Result<Moto> {
    let (program, args) = moto_server()?;
    let mut errors = Vec::new();
    for _ in 0..START_ATTEMPTS {
        match start_on_a_free_port(&program, &args) {
            Ok(moto) => return Ok(moto),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    bail!("{}", errors.join("; "))
}

fn free_port() -> anyhow::Result<u16> {
    // Bound and dropped at once: the port is free now, and the OS does not hand it out again soon.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_on_a_free_port(program: &Path, args: &[PathBuf]) -> anyhow::Result<Moto> {
    let port = free_port()?;
    let log_path = crate::tools::tools_dir().join(format!("moto-{port}.log"));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(program)
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("spawning sh for moto")?;
    let lifeline = shell
        .stdin
        .take()
        .context("the shell's standard input was not piped")?;
    let moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _lifeline: Mutex::new(lifeline),
        shell: Mutex::new(shell),
    };
    // Ready when it says it runs on our port (so the port is ours, not another process's) and
    // accepts a connection there.
    let banner = format!("Running on http://127.0.0.1:{port}");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let exited = moto
            .shell
            .lock()
            .map_err(|_| anyhow::anyhow!("moto's process handle is poisoned"))?
            .try_wait()?;
        if let Some(status) = exited {
            bail!("moto exited ({status}); see {}", log_path.display());
        }
        let said_ready = std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains(&banner));
        if said_ready && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(moto);
        }
        if Instant::now() > deadline {
            // Dropping `moto` closes the pipe: the shell kills the server.
            bail!(
                "moto did not start within {START_TIMEOUT:?}; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A queue made on moto for one test, with its dead-letter queue.
#[derive(Clone, Debug)]
pub struct QueueUrls {
    pub queue_url: String,
    pub dead_letter_url: String,
}

fn test_credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new("test", "test", None, None, "lectern-tests")
}

/// A wedged emulator fails the test instead of hanging the suite.
fn test_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(60))
        .build()
}

impl Moto {
    /// A DynamoDB client pointed at moto, with static test credentials and the latest behaviour.
    pub fn dynamo_client(&self) -> Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .endpoint_url(&self.endpoint)
            .timeout_config(test_timeouts())
            .http_client(lectern_aws::http_client())
            .build();
        Client::from_conf(config)
    }

    /// An SQS client pointed at moto, with the same credentials, region and timeouts.
    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .endpoint_url(&self.endpoint)
            .timeout_config(test_timeouts())
            .http_client(lectern_aws::http_client())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// Creates a new, empty queue and its dead-letter queue, the queue's redrive policy moving a
    /// message there after `max_receives` receives. Names are unique in this process; `fifo` makes
    /// both FIFO queues (names ending in `.fifo`).
    pub async fn fresh_queue(&self, max_receives: u32, fifo: bool) -> QueueUrls {
        match self.create_queue_pair(max_receives, fifo).await {
            Ok(urls) => urls,
            Err(e) => panic!("creating a queue on moto: {e:#}"),
        }
    }

    async fn create_queue_pair(&self, max_receives: u32, fifo: bool) -> anyhow::Result<QueueUrls> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let client = self.sqs_client();
        let n = QUEUES.fetch_add(1, Ordering::Relaxed);
        let name = format!("lectern-{}-{n}", std::process::id());
        let suffix = if fifo { ".fifo" } else { "" };
        let create = |name: String| {
            let request = client.create_queue().queue_name(name);
            if fifo {
                request.attributes(QueueAttributeName::FifoQueue, "true")
            } else {
                request
            }
        };
        let dead_letter_url = create(format!("{name}-dlq{suffix}"))
            .send()
            .await?
            .queue_url
            .context("CreateQueue returned no URL")?;
        let dead_letter_arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .context("GetQueueAttributes returned no QueueArn")?;
        let redrive_policy = format!(
            r#"{{"deadLetterTargetArn":"{dead_letter_arn}","maxReceiveCount":"{max_receives}"}}"#
        );
        let queue_url = create(format!("{name}{suffix}"))
            .attributes(QueueAttributeName::RedrivePolicy, redrive_policy)
            .send()
            .await?
            .queue_url
            .context("CreateQueue returned no URL")?;
        Ok(QueueUrls {
            queue_url,
            dead_letter_url,
        })
    }

    /// Creates a new, empty table with Lectern's schema and returns its name (unique in this
    /// process, so parallel tests never share one).
    pub async fn fresh_table_name(&self) -> String {
        let name = format!(
            "lectern-{}-{}",
            std::process::id(),
            TABLES.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(e) = create_table(&self.dynamo_client(), &name).await {
            panic!("creating table {name} on moto: {:#}", anyhow::Error::new(e));
        }
        name
    }

    /// A new, empty table with Lectern's schema.
    pub async fn fresh_table(&self) -> DynamoTable {
        let name = self.fresh_table_name().await;
        DynamoTable::new(self.dynamo_client(), name)
    }
}
