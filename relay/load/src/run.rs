//! One load run: peers up, calls ramped, a window measured, calls ended, the report.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, bail};
use salon_realtime_double::{Double, Options as DoubleOptions, Script};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

use crate::caller::{self, Frames, Line};
use crate::functions;
use crate::probe::Probes;
use crate::stats::{self, Percentiles};

const AUTH_TOKEN: &str = "load-auth-token";
const RELAY_SECRET: &str = "load-relay-secret-0123456789abcdef";
const STREAM_SECRET: &str = "load-stream-secret-0123456789abcdef";
const PUBLIC_URL: &str = "wss://relay.load.test";

/// What carries the calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The relay binary at this path.
    Relay(PathBuf),
    /// The null relay (the floor), run as `<this executable> null-relay`.
    Null(PathBuf),
}

/// The relay's audio mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Pcmu,
    Pcm24,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Pcmu => "pcmu",
            Mode::Pcm24 => "pcm24",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Mode> {
        match s {
            "pcmu" => Ok(Mode::Pcmu),
            "pcm24" => Ok(Mode::Pcm24),
            other => bail!("the mode is pcmu or pcm24, not {other:?}"),
        }
    }
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub mode: Mode,
    pub calls: usize,
    /// Calls start evenly spread over this.
    pub ramp: Duration,
    /// Calls run this long after the ramp before the window opens.
    pub warmup: Duration,
    /// The measurement window.
    pub window: Duration,
    /// The double's audio delta size.
    pub delta_ms: usize,
    /// Pins the relay to this CPU (with `taskset`).
    pub pin_relay: Option<usize>,
}

/// What a run found. Latencies are in milliseconds; CPU per call-second in milliseconds of CPU
/// per second of one call's audio.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: &'static str,
    pub mode: Mode,
    pub calls: usize,
    pub window_s: f64,
    /// The double's audio deltas: their size, paced in real time.
    pub delta_ms: usize,
    /// Calls that ran to the caller's hang-up with nothing wrong.
    pub calls_held: usize,
    pub calls_failed: usize,
    /// 20 ms frames of the caller that did not reach the double, and of the agent that did not
    /// reach the caller, in the window (beyond what is in flight at its edges).
    pub frames_lost_in: usize,
    pub frames_lost_out: usize,
    /// A turn's first frame, from the caller to the double.
    pub inbound: Percentiles,
    /// A reply's first delta from the double to the caller's first frame of it.
    pub outbound: Percentiles,
    pub relay_cpu_ms_per_call_s: f64,
    pub relay_rss_base_kib: u64,
    pub relay_rss_kib: u64,
    pub relay_kib_per_call: f64,
    pub relay_fds_base: usize,
    /// The relay's open descriptors a few seconds after the calls ended.
    pub relay_fds_after: usize,
    /// This process (callers, double, functions): share of one core.
    pub harness_cpu_percent: f64,
    /// How late the callers' 20 ms frame clocks ticked.
    pub harness_lateness: Percentiles,
    pub tool_calls: usize,
    pub barge_ins: usize,
    /// The first few failures, as said.
    pub errors: Vec<String>,
}

impl Report {
    /// The report in one line.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} calls {:.0}s: held {}/{}, lost {} in {} out, in p50/p99/max {:.2}/{:.2}/{:.2} ms, \
             out {:.2}/{:.2}/{:.2} ms, relay {:.3} ms CPU/call-s, {:.0} KiB/call, harness {:.0}% CPU, \
             late p99 {:.2} ms, {} tool calls, {} barge-ins, {} errors",
            self.target,
            self.mode.as_str(),
            self.calls,
            self.window_s,
            self.calls_held,
            self.calls,
            self.frames_lost_in,
            self.frames_lost_out,
            self.inbound.p50_ms,
            self.inbound.p99_ms,
            self.inbound.max_ms,
            self.outbound.p50_ms,
            self.outbound.p99_ms,
            self.outbound.max_ms,
            self.relay_cpu_ms_per_call_s,
            self.relay_kib_per_call,
            self.harness_cpu_percent,
            self.harness_lateness.p99_ms,
            self.tool_calls,
            self.barge_ins,
            self.errors.len(),
        )
    }
}

/// What the double plays on every connection, over and over: a greeting, a tool call (no
/// speech before it, as the model often does), the answer, a long reply the caller talks over
/// on every third reply, a short one.
fn script() -> Script {
    let text = serde_json::json!({
        "caller_transcripts": ["Aș vrea o programare mâine la ora zece."],
        "responses": [
            {"say": {"text": functions::GREETING, "ms": 2500}},
            {"calls": [{"name": "check_appointment_availability",
                        "arguments": {"data": "mâine", "ora": "10:00"}}]},
            {"say": {"text": "Da, mâine la ora zece este liber. Doriți să vă programez?", "ms": 2500}},
            {"say": {"text": "Perfect. Vă mai pot ajuta cu altceva? Avem și tratamente de păr, vopsit și coafat.", "ms": 4000}},
            {"say": {"text": "Sigur, vă ascult.", "ms": 1500}}
        ]
    });
    Script::from_json(&text.to_string()).expect("the load script is valid")
}

/// The descriptors this process may open.
fn fd_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The target process, killed when dropped.
struct Child {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
}

async fn spawn(
    options: &Options,
    functions_url: &str,
    realtime_url: &str,
) -> anyhow::Result<Child> {
    let (program, args): (PathBuf, Vec<String>) = match &options.target {
        Target::Relay(path) => (path.clone(), vec![]),
        Target::Null(path) => (
            path.clone(),
            vec![
                "null-relay".into(),
                "--realtime".into(),
                realtime_url.into(),
                "--mode".into(),
                options.mode.as_str().into(),
            ],
        ),
    };
    if !program.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release -p salon-relay -p salon-relay-load)",
            program.display()
        );
    }
    let mut command = match options.pin_relay {
        Some(cpu) => {
            let mut c = tokio::process::Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(&program);
            c
        }
        None => tokio::process::Command::new(&program),
    };
    let max_calls = (options.calls + 16).to_string();
    command
        .args(&args)
        .env_clear()
        .envs([
            ("PORT", "0"),
            ("METRICS_PORT", "0"),
            ("RUST_LOG", "info"),
            ("RELAY_PUBLIC_URL", PUBLIC_URL),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("RELAY_SECRET", RELAY_SECRET),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET),
            ("FUNCTIONS_URL", functions_url),
            ("OPENAI_API_KEY", "sk-load-test"),
            ("OPENAI_REALTIME_URL", realtime_url),
            ("AUDIO_MODE", options.mode.as_str()),
            ("TURN_DETECTION", "server_vad"),
            ("VAD_SILENCE_MS", "500"),
            ("MAX_CALLS", max_calls.as_str()),
            ("MAX_PENDING_STREAMS", "64"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command.spawn().context("starting the target")?;
    let pid = child.id().context("the target's pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("its stdout")?).lines();
    let port = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if v["fields"]["message"] == "relay listening" {
                return v["fields"]["port"].as_u64().map(|p| p as u16);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .context("the target did not say where it listens")?;
    // Its log keeps being read, so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Child { child, pid, port })
}

/// Runs the calls and measures them.
pub async fn run(options: Options) -> anyhow::Result<Report> {
    if let Some(limit) = fd_limit()
        && limit < options.calls * 6 + 64
    {
        bail!(
            "{} calls need about {} file descriptors and this process may open {limit}: raise it (ulimit -n)",
            options.calls,
            options.calls * 6 + 64
        );
    }
    let probes = Arc::new(Probes::default());
    let functions_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let functions_url = format!("http://{}", functions_listener.local_addr()?);
    let seen = functions::serve(functions_listener);
    let double = Double::start_with(
        script(),
        DoubleOptions {
            speed: Some(1.0),
            record: false,
            script_per_connection: true,
            delta_ms: vec![options.delta_ms],
            tap: Some(probes.clone()),
            ..DoubleOptions::default()
        },
    )
    .await?;
    let mut target = spawn(&options, &functions_url, &double.url()).await?;
    let pid = target.pid;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_base = stats::rss_kib(pid)?;
    let fds_base = stats::open_fds(pid)?;

    let line = Line {
        url: format!("ws://127.0.0.1:{}/twilio/stream", target.port),
        public_url: PUBLIC_URL.into(),
        auth_token: AUTH_TOKEN.into(),
        stream_secret: STREAM_SECRET.into(),
    };
    let frames = Arc::new(Frames::new());
    let began = Instant::now();
    let window_opens = began + options.ramp + options.warmup;
    let window_closes = window_opens + options.window;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..options.calls {
        let call_sid = format!("CAload{i:06}");
        let probe = probes.register(&call_sid);
        let (line, frames, probes) = (line.clone(), frames.clone(), probes.clone());
        // Spread over the ramp, and over the 20 ms frame period too (golden-ratio steps):
        // real calls' frame clocks are not in phase, and calls started a whole number of
        // periods apart would all send at once.
        let phase = Duration::from_micros(((i as f64 * 0.618_034).fract() * 20_000.0) as u64);
        let start_at = began + options.ramp.mul_f64(i as f64 / options.calls.max(1) as f64) + phase;
        tasks.spawn(async move {
            tokio::time::sleep_until(start_at).await;
            let report = caller::call(
                &line,
                &call_sid,
                &frames,
                probe.clone(),
                &probes,
                window_closes,
            )
            .await;
            (call_sid, probe, report)
        });
    }
    tokio::time::sleep_until(window_opens).await;
    let (relay_cpu0, own_cpu0) = (stats::cpu_time(pid)?, stats::cpu_time(std::process::id())?);
    probes.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep_until(window_closes).await;
    probes.measuring.store(false, Ordering::Relaxed);
    let (relay_cpu1, own_cpu1) = (stats::cpu_time(pid)?, stats::cpu_time(std::process::id())?);
    let rss = stats::rss_kib(pid)?;

    let mut calls = Vec::new();
    while let Some(done) = tasks.join_next().await {
        calls.push(done?);
    }
    // The relay reports each call to the functions as it ends; then its sockets close (but
    // for connections to the functions its HTTP client keeps for the next call).
    let expect_summaries = matches!(options.target, Target::Relay(_));
    let reported = Instant::now() + Duration::from_secs(10);
    while expect_summaries
        && Instant::now() < reported
        && seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .outcomes
            .len()
            < options.calls
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed = Instant::now() + Duration::from_secs(2);
    while Instant::now() < closed && stats::open_fds(pid).unwrap_or(usize::MAX) > fds_base {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fds_after = stats::open_fds(pid)?;
    let _ = target.child.start_kill();

    let window_s = options.window.as_secs_f64();
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    let mut errors = Vec::new();
    let (mut held, mut lost_in, mut lost_out, mut barge_ins) = (0, 0, 0, 0);
    let (mut inbound, mut outbound, mut lateness) = (Vec::new(), Vec::new(), Vec::new());
    for (sid, probe, report) in &calls {
        let state = probe.lock();
        let mut failure = report.failure.clone();
        if expect_summaries && failure.is_none() {
            match seen.outcomes.get(sid).map(String::as_str) {
                Some("caller_hung_up") => {}
                Some(other) => failure = Some(format!("{sid} ended as {other}")),
                None => failure = Some(format!("{sid} was never reported to the functions")),
            }
        }
        if state.connections != 1 && failure.is_none() {
            failure = Some(format!(
                "{sid} had {} Realtime connections",
                state.connections
            ));
        }
        lost_in += frames_lost(report.frames_sent as f64 * 20.0, state.received_ms, 40.0);
        let tolerance = 2.0 * options.delta_ms as f64 + 20.0 * (report.clears as f64 + 2.0);
        lost_out += frames_lost(state.sent_ms, report.heard_ms, tolerance);
        barge_ins += report.barge_ins;
        inbound.extend_from_slice(&state.inbound_us);
        outbound.extend_from_slice(&state.outbound_us);
        lateness.extend_from_slice(&report.lateness_us);
        match failure {
            None => held += 1,
            Some(why) => {
                if errors.len() < 10 {
                    errors.push(why);
                }
            }
        }
    }
    let call_seconds = options.calls as f64 * window_s;
    Ok(Report {
        target: match options.target {
            Target::Relay(_) => "relay",
            Target::Null(_) => "null-relay",
        },
        mode: options.mode,
        calls: options.calls,
        window_s,
        delta_ms: options.delta_ms,
        calls_held: held,
        calls_failed: options.calls - held,
        frames_lost_in: lost_in,
        frames_lost_out: lost_out,
        inbound: Percentiles::of(&mut inbound),
        outbound: Percentiles::of(&mut outbound),
        relay_cpu_ms_per_call_s: (relay_cpu1 - relay_cpu0).as_secs_f64() * 1000.0 / call_seconds,
        relay_rss_base_kib: rss_base,
        relay_rss_kib: rss,
        relay_kib_per_call: rss.saturating_sub(rss_base) as f64 / options.calls.max(1) as f64,
        relay_fds_base: fds_base,
        relay_fds_after: fds_after,
        harness_cpu_percent: (own_cpu1 - own_cpu0).as_secs_f64() * 100.0 / window_s,
        harness_lateness: Percentiles::of(&mut lateness),
        tool_calls: seen.tools,
        barge_ins,
        errors,
    })
}

/// Whole 20 ms frames missing from `got` beyond `tolerance` milliseconds.
fn frames_lost(expected_ms: f64, got_ms: f64, tolerance_ms: f64) -> usize {
    ((expected_ms - got_ms - tolerance_ms).max(0.0) / 20.0).floor() as usize
}
