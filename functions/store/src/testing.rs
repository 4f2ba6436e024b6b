//! Test support: a moto DynamoDB server on loopback, and fresh stores of either backend.
//!
//! Compiled only with the `testing` feature, for this crate's tests and its dependents'.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use std::sync::atomic::AtomicBool;

use async_trait::async_trait;

use crate::table::{BackendError, Item, SkRange, Table, TransactError, Write};
use crate::{DynamoTable, EmbeddedTable, Store};

/// A moto server serving one request at a time (`scripts/moto_serial.py`).
pub struct MotoServer {
    endpoint: String,
    child: Mutex<Child>,
    /// Held open for the server's life: when this process exits, the server sees its stdin
    /// close and exits too, so a static server never outlives the tests.
    _stdin: Mutex<ChildStdin>,
}

/// The Python with moto installed: `MOTO_PYTHON`, else the test command's virtual environment.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_PYTHON") {
        return p.into();
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/salon-voice/venvs/moto/bin/python")
}

/// `scripts/moto_serial.py`: where this crate was built from, or else found upwards from the
/// test's working directory. The build path alone is not enough: a build directory shared by
/// two checkouts of the same sources (CI's clone and a working tree) may hold this crate as
/// built from the other one, whose path is gone.
fn moto_script() -> PathBuf {
    const SCRIPT: &str = "scripts/moto_serial.py";
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(SCRIPT);
    if built.exists() {
        return built;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    cwd.ancestors()
        .map(|dir| dir.join(SCRIPT))
        .find(|path| path.exists())
        .unwrap_or(built)
}

impl MotoServer {
    /// Starts a server on a free loopback port. Panics with the fix when moto is missing:
    /// the DynamoDB tests never skip.
    pub fn start() -> Self {
        let script = moto_script();
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {} ({e}); run the README's test command, which installs it, \
                     or set MOTO_PYTHON to a Python with moto[server]",
                    python.display()
                )
            });
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("moto prints its port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("moto did not start: {line:?}"));
        let stdin = child.stdin.take().expect("stdin is piped");
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        }
    }

    /// Returns one server for the whole test process.
    pub fn shared() -> &'static Self {
        static SERVER: OnceLock<MotoServer> = OnceLock::new();
        SERVER.get_or_init(Self::start)
    }

    /// Returns the server's URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Returns the DynamoDB requests the server answered since the last call, by operation
    /// (`GetItem`, `Query`, `TransactWriteItems`, ...), as they arrived on the wire.
    pub fn take_request_counts(&self) -> RequestCounts {
        use std::io::{Read, Write};
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("moto is listening");
        write!(
            stream,
            "GET /__salon/requests HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )
        .expect("moto takes the request");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("moto answers the request");
        let (_, body) = answer
            .split_once("\r\n\r\n")
            .expect("an HTTP answer has a head and a body");
        RequestCounts(serde_json::from_str(body).expect("moto's counts are JSON"))
    }

    /// Creates a fresh, empty table: moto copies whole tables inside transactions, so small
    /// per-test tables keep it fast.
    pub async fn fresh_table(&self) -> DynamoTable {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "salon-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let table = DynamoTable::local(&self.endpoint, name);
        table.create_table().await.expect("moto creates a table");
        table
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// DynamoDB requests by operation, as the server counted them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts(pub std::collections::BTreeMap<String, u64>);

impl RequestCounts {
    /// Every request.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Requests of one operation (`TransactWriteItems`).
    pub fn of(&self, operation: &str) -> u64 {
        self.0.get(operation).copied().unwrap_or(0)
    }
}

impl std::fmt::Display for RequestCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(op, n)| format!("{op} {n}")).collect();
        write!(f, "{} ({})", self.total(), parts.join(", "))
    }
}

/// A store on a fresh moto table.
pub async fn dynamo_store() -> Store {
    Store::new(Arc::new(MotoServer::shared().fresh_table().await))
}

/// A store in a fresh temporary directory, kept until the returned guard drops.
pub fn embedded_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let table = EmbeddedTable::open(dir.path()).expect("the embedded store opens");
    (Store::new(Arc::new(table)), dir)
}

/// A table that works until it is told to fail, as a store does when DynamoDB is unreachable.
pub struct BreakableTable {
    inner: Arc<dyn Table>,
    broken: AtomicBool,
    panicking: AtomicBool,
}

impl BreakableTable {
    /// Wraps a working table.
    pub fn new(inner: Arc<dyn Table>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            broken: AtomicBool::new(false),
            panicking: AtomicBool::new(false),
        })
    }

    /// Makes every later request fail (or work again).
    pub fn set_broken(&self, broken: bool) {
        self.broken.store(broken, Ordering::SeqCst);
    }

    /// Makes every later request panic (or work again): a bug below a handler, wherever it is.
    pub fn set_panicking(&self, panicking: bool) {
        self.panicking.store(panicking, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), BackendError> {
        assert!(
            !self.panicking.load(Ordering::SeqCst),
            "the table panics (test)"
        );
        if self.broken.load(Ordering::SeqCst) {
            Err(BackendError::msg("the table is unreachable (test)"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Table for BreakableTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, BackendError> {
        self.check()?;
        self.inner.get(pk, sk).await
    }

    async fn query(&self, pk: &str, range: SkRange<'_>) -> Result<Vec<Item>, BackendError> {
        self.check()?;
        self.inner.query(pk, range).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TransactError> {
        self.check()?;
        self.inner.transact(writes).await
    }
}

/// A breakable embedded store: the store, its switch, and the directory guard.
pub fn breakable_embedded_store() -> (Store, Arc<BreakableTable>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let table = EmbeddedTable::open(dir.path()).expect("the embedded store opens");
    let breakable = BreakableTable::new(Arc::new(table));
    (Store::new(breakable.clone()), breakable, dir)
}
