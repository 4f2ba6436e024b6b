//! The `relay` binary itself, configured by environment variables and pointed at test peers:
//! what a flood of unfinished frames costs it in memory.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use salon_realtime_double::{Double, Script};
use salon_wire::CallOutcome;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the flood may add to the relay's resident memory. Bounded frames and messages and the
/// pending cap keep it to a few hundred KiB; unbounded, each socket could hold 16 MiB.
const GROWTH_BOUND_KB: u64 = 20 * 1024;

/// The relay's resident set size, in KiB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// The relay binary, started with the test peers' URLs; stops it when dropped.
struct Binary {
    child: tokio::process::Child,
    port: u16,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn spawn_relay(functions: &FakeFunctions, double: &Double) -> Binary {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .env_clear()
        .envs([
            ("PORT", "0"),
            ("METRICS_PORT", "0"),
            ("RUST_LOG", "info"),
            ("RELAY_PUBLIC_URL", PUBLIC_URL),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("RELAY_SECRET", RELAY_SECRET),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET),
            ("FUNCTIONS_URL", functions.url.as_str()),
            ("OPENAI_API_KEY", "sk-test-key"),
            ("OPENAI_REALTIME_URL", double.url().as_str()),
            ("AUDIO_MODE", "pcmu"),
            ("MAX_CALLS", "4"),
            ("MAX_PENDING_STREAMS", "4"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the relay binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if v["fields"]["message"] == "relay listening" {
                return v["fields"]["port"].as_u64().unwrap() as u16;
            }
        }
        panic!("the relay exited before listening");
    })
    .await
    .expect("the relay says where it listens");
    // Keep reading its log, so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Binary { child, port }
}

#[tokio::test]
async fn a_flood_of_unfinished_frames_does_not_grow_the_relays_memory() {
    let double = Double::start(
        Script::from_json(
            &json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}]}).to_string(),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let functions = FakeFunctions::start().await;
    let relay = spawn_relay(&functions, &double).await;
    let pid = relay.child.id().unwrap();
    let addr = format!("127.0.0.1:{}", relay.port);
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let before = rss_kb(pid);

    // More sockets than MAX_CALLS and MAX_PENDING_STREAMS; each starts a 15 MiB frame (under
    // the old 16 MiB default) or a 4 MiB message of small frames, and never finishes it.
    let chunk = vec![0u8; 64 * 1024];
    let mut held = Vec::new();
    let mut written = 0usize;
    for i in 0..16 {
        let Ok(mut tcp) = raw_upgrade(&addr).await else {
            continue;
        };
        if i % 4 == 3 {
            let piece = vec![0u8; 8 * 1024];
            'message: for n in 0..512 {
                let mut frame = frame_header(if n == 0 { 2 } else { 0 }, false, piece.len() as u64);
                frame.extend(&piece);
                if tcp.write_all(&frame).await.is_err() {
                    break 'message;
                }
                written += frame.len();
            }
        } else {
            let declared = 15 * 1024 * 1024;
            if tcp
                .write_all(&frame_header(2, false, declared))
                .await
                .is_ok()
            {
                let mut left = declared as usize - 1;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if tcp.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                    written += n;
                    left -= n;
                }
            }
        }
        held.push(tcp);
    }
    let after = rss_kb(pid);
    let growth = after.saturating_sub(before);
    assert!(
        growth < GROWTH_BOUND_KB,
        "the relay grew by {growth} KiB ({before} -> {after}) after {written} bytes of unfinished frames"
    );

    // And a real call is still let in.
    let began = Instant::now();
    let twilio = TwilioSide::dial_url(
        &format!("ws://{addr}"),
        Some(stream_token()),
        json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}),
    )
    .await;
    double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .expect("the real call is admitted");
    twilio.hang_up();
    let summary = functions.wait_summary(Duration::from_secs(10)).await;
    assert_eq!(summary.outcome, CallOutcome::CallerHungUp);
    assert!(began.elapsed() < Duration::from_secs(15));
    drop(held);
}
