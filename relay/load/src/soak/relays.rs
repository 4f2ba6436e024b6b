//! The relay processes of a soak: one current relay that callers dial, and on a planned
//! restart a new one started first, made current, then the old one told SIGTERM and timed as
//! it drains (its calls carry on, then hear the Romanian goodbye) and exits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;
use tokio::time::Instant;

use super::tap::lock;

pub(crate) const AUTH_TOKEN: &str = "soak-auth-token-0123456789abcdef";
pub(crate) const RELAY_SECRET: &str = "soak-relay-secret-0123456789abcdef";
pub(crate) const STREAM_SECRET: &str = "soak-stream-secret-0123456789abcdef";
pub(crate) const PUBLIC_URL: &str = "wss://relay.soak.test";
/// How long a relay told SIGTERM lets its calls go on before bidding them goodbye: short, so
/// a restart meets calls mid-way.
pub(crate) const DRAIN_SECS: u64 = 2;
/// How long the relay waits for a tool: above the slow fault's delay.
pub(crate) const TOOL_TIMEOUT_SECS: u64 = 2;
/// A drained relay must be gone by then after SIGTERM (the drain, the goodbyes, the exit).
pub(crate) const EXIT_LIMIT: Duration = Duration::from_secs(DRAIN_SECS + 12);

/// Why a relay could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The binary is not where it was looked for.
    #[error("{0} is missing: build it first (cargo build -p salon-relay)")]
    Missing(PathBuf),
    /// It could not be started.
    #[error("starting the relay failed")]
    Spawn(#[source] std::io::Error),
    /// It started but never said where it listens.
    #[error("the relay did not say where it listens within 10 s")]
    Silent,
    /// SIGTERM could not be sent.
    #[error("sending SIGTERM to the relay failed")]
    Signal(#[source] std::io::Error),
}

/// The relay callers dial now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Current {
    pub port: u16,
    pub pid: u32,
}

/// A relay that was told SIGTERM: how long it took to exit (`None`: still running at the
/// limit, then killed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drained {
    pub pid: u32,
    pub exited_after: Option<Duration>,
}

/// The soak's relays.
#[derive(Debug)]
pub(crate) struct Relays {
    binary: PathBuf,
    functions_url: String,
    realtime_url: String,
    max_calls: usize,
    current: watch::Sender<Current>,
    /// The current child, killed on drop if still running.
    child: Mutex<Option<tokio::process::Child>>,
    /// Restarts are one at a time.
    restarting: tokio::sync::Mutex<()>,
    drained: Arc<Mutex<Vec<Drained>>>,
    /// Drain watchers still running.
    watchers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Relays {
    pub(crate) async fn start(
        binary: &Path,
        functions_url: String,
        realtime_url: String,
        max_calls: usize,
    ) -> Result<Relays, RelayError> {
        if !binary.exists() {
            return Err(RelayError::Missing(binary.into()));
        }
        let (child, current) = spawn(binary, &functions_url, &realtime_url, max_calls).await?;
        Ok(Relays {
            binary: binary.into(),
            functions_url,
            realtime_url,
            max_calls,
            current: watch::Sender::new(current),
            child: Mutex::new(Some(child)),
            restarting: tokio::sync::Mutex::new(()),
            drained: Arc::default(),
            watchers: Mutex::default(),
        })
    }

    pub(crate) fn current(&self) -> Current {
        *self.current.borrow()
    }

    /// Starts a new relay, makes it current, and tells the old one SIGTERM.
    pub(crate) async fn restart(&self) -> Result<(), RelayError> {
        let _one = self.restarting.lock().await;
        let (child, next) = spawn(
            &self.binary,
            &self.functions_url,
            &self.realtime_url,
            self.max_calls,
        )
        .await?;
        let old = lock(&self.child).replace(child);
        let old_pid = self.current.send_replace(next).pid;
        let status = tokio::process::Command::new("kill")
            .args(["-TERM", &old_pid.to_string()])
            .status()
            .await
            .map_err(RelayError::Signal)?;
        if !status.success() {
            return Err(RelayError::Signal(std::io::Error::other(
                "kill -TERM failed",
            )));
        }
        let told = Instant::now();
        let drained = self.drained.clone();
        let watcher = tokio::spawn(async move {
            let Some(mut old) = old else { return };
            let exited = tokio::time::timeout(EXIT_LIMIT, old.wait()).await.is_ok();
            if !exited {
                let _ = old.start_kill();
            }
            lock(&drained).push(Drained {
                pid: old_pid,
                exited_after: exited.then(|| told.elapsed()),
            });
        });
        lock(&self.watchers).push(watcher);
        Ok(())
    }

    /// Waits for the drained relays to exit; returns how each went.
    pub(crate) async fn drained(&self) -> Vec<Drained> {
        let watchers: Vec<_> = lock(&self.watchers).drain(..).collect();
        for w in watchers {
            let _ = w.await;
        }
        lock(&self.drained).clone()
    }
}

/// Starts one relay on a free port and reads the port from its log.
async fn spawn(
    binary: &Path,
    functions_url: &str,
    realtime_url: &str,
    max_calls: usize,
) -> Result<(tokio::process::Child, Current), RelayError> {
    let max_calls = max_calls.to_string();
    let (drain, tool_timeout) = (DRAIN_SECS.to_string(), TOOL_TIMEOUT_SECS.to_string());
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs([
            ("PORT", "0"),
            ("METRICS_PORT", "0"),
            ("RUST_LOG", "warn,relay=info"),
            ("RELAY_PUBLIC_URL", PUBLIC_URL),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("RELAY_SECRET", RELAY_SECRET),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET),
            ("FUNCTIONS_URL", functions_url),
            ("OPENAI_API_KEY", "sk-soak-test"),
            ("OPENAI_REALTIME_URL", realtime_url),
            ("AUDIO_MODE", "pcmu"),
            ("TURN_DETECTION", "server_vad"),
            ("VAD_SILENCE_MS", "500"),
            ("MAX_CALLS", max_calls.as_str()),
            ("MAX_PENDING_STREAMS", "64"),
            ("DRAIN_SECS", drain.as_str()),
            ("TOOL_TIMEOUT_SECS", tool_timeout.as_str()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(RelayError::Spawn)?;
    let pid = child
        .id()
        .ok_or(RelayError::Spawn(std::io::Error::other("no pid")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or(RelayError::Spawn(std::io::Error::other("no stdout")))?;
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if v["fields"]["message"] == "relay listening" {
                return v["fields"]["port"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or(RelayError::Silent)?;
    // Its log keeps being read, so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, Current { port, pid }))
}
