//! The relay's front door, through real sockets on loopback: what it lets in, how long it
//! waits, how much it buffers, what it logs, and how it drains.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use salon_realtime_double::{Double, Script};
use salon_relay::audio::AudioMode;
use salon_relay::config::UpgradeSignature;
use salon_relay::twilio::{MAX_FRAME_BYTES, MAX_MEDIA_PAYLOAD_CHARS, MAX_MESSAGE_BYTES};
use salon_wire::CallOutcome;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;

struct Rig {
    double: Double,
    functions: FakeFunctions,
    relay: Relay,
}

async fn rig(script: Value, tune: impl FnOnce(&mut salon_relay::Config)) -> Rig {
    let double = Double::start(Script::from_json(&script.to_string()).unwrap())
        .await
        .unwrap();
    let functions = FakeFunctions::start().await;
    let mut config = config(&functions, &double.url(), AudioMode::Pcmu);
    tune(&mut config);
    let relay = Relay::start(config).await;
    Rig {
        double,
        functions,
        relay,
    }
}

fn greeting(ms: u32) -> Value {
    json!({"responses": [{"say": {"text": "Bună ziua!", "ms": ms}}]})
}

/// Reads until the relay closes the socket; returns how long that took, `None` if it stayed
/// open for `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    tokio::time::timeout(within, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return began.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// The HTTP status a refused upgrade got.
fn refusal(result: Result<impl std::fmt::Debug, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_upgrade_needs_twilios_signature_unless_the_check_is_off() {
    let on = rig(greeting(300), |_| {}).await;
    let unsigned = format!("{}/twilio/stream", on.relay.url);
    assert_eq!(
        refusal(tokio_tungstenite::connect_async(unsigned.as_str()).await),
        403
    );
    let mut forged = on.relay.stream_request();
    forged
        .headers_mut()
        .insert("x-twilio-signature", "Zm9yZ2Vk".parse().unwrap());
    assert_eq!(refusal(tokio_tungstenite::connect_async(forged).await), 403);
    assert!(
        tokio_tungstenite::connect_async(on.relay.stream_request())
            .await
            .is_ok(),
        "a signed upgrade is let in"
    );
    assert_eq!(on.relay.metric("relay_streams_refused_total"), 2.0);

    let off = rig(greeting(300), |c| {
        c.upgrade_signature = UpgradeSignature::Off
    })
    .await;
    let unsigned = format!("{}/twilio/stream", off.relay.url);
    let (ws, _) = tokio_tungstenite::connect_async(unsigned.as_str())
        .await
        .expect("with the check off, an unsigned upgrade is let in");
    drop(ws);
    // And a call still needs its stream token: the check off opens the door, not the call.
    let twilio = TwilioSide::dial(&off.relay, Some(stream_token())).await;
    off.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .expect("admitted");
    twilio.hang_up();
}

#[tokio::test]
async fn metrics_are_served_on_their_own_port_only() {
    let r = rig(greeting(300), |_| {}).await;
    let http = reqwest::Client::new();
    let public = http
        .get(format!("{}/metrics", r.relay.http()))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404, "not on the public port");
    let private = http
        .get(format!("{}/metrics", r.relay.metrics_url))
        .send()
        .await
        .unwrap();
    assert_eq!(private.status().as_u16(), 200);
    assert!(
        private
            .text()
            .await
            .unwrap()
            .contains("# TYPE relay_active_calls gauge")
    );
    let health = http
        .get(format!("{}/health", r.relay.http()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "the public port still serves /health"
    );
}

#[tokio::test]
async fn half_a_request_line_or_an_idle_connection_is_closed_within_the_header_limit() {
    let r = rig(greeting(300), |c| {
        c.header_read_limit = Duration::from_secs(1)
    })
    .await;
    let metrics_addr = r.relay.metrics_url.trim_start_matches("http://").to_owned();
    for (addr, opening) in [
        (r.relay.addr(), &b"GET /hea"[..]),
        (r.relay.addr(), b""),
        (metrics_addr, b"GET /met"),
    ] {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(opening).await.unwrap();
        let took = closed_within(&mut tcp, Duration::from_secs(10)).await;
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(5)),
            "{:?} held open: {took:?}",
            String::from_utf8_lossy(opening)
        );
    }
    // A keep-alive connection idle after its request is closed too.
    let mut tcp = TcpStream::connect(r.relay.addr()).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 64];
    let n = tcp.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    let took = closed_within(&mut tcp, Duration::from_secs(10)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(5)),
        "idle keep-alive held open: {took:?}"
    );
}

#[tokio::test]
async fn a_flood_of_idle_and_slow_sockets_never_refuses_a_real_call() {
    let r = rig(greeting(300), |c| {
        c.max_calls = 2;
        c.max_pending_streams = 4;
        c.start_limit = Duration::from_secs(2);
    })
    .await;
    let addr = r.relay.addr();
    let mut flood = Vec::new();
    // Idle: upgraded (a replayed signature is as good as Twilio's), then nothing at all.
    for _ in 0..6 {
        flood.extend(raw_upgrade(&addr).await);
    }
    // Slow: upgraded, then a `start` that never finishes arriving.
    for _ in 0..4 {
        if let Ok(mut tcp) = raw_upgrade(&addr).await {
            tcp.write_all(&frame_header(1, true, 2000)).await.unwrap();
            tcp.write_all(br#"{"event": "start", "#).await.unwrap();
            flood.push(tcp);
        }
    }
    // Unsigned, and half a request line: refused, or held outside the streams altogether.
    for _ in 0..3 {
        let unsigned = format!("{}/twilio/stream", r.relay.url);
        assert!(
            tokio_tungstenite::connect_async(unsigned.as_str())
                .await
                .is_err()
        );
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET /twilio/str").await.unwrap();
        flood.push(tcp);
    }

    // The real call is let in and greeted, flood or not.
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .expect("the real call is admitted and greeted");
    assert_eq!(r.relay.metric("relay_active_calls"), 1.0);
    // The 10 upgraded sockets (more than the 2 calls and the 4 pending) held no call slot:
    // the oldest were pushed out, the 3 unsigned refused, and 4 wait, capped.
    assert!(r.relay.metric("relay_streams_refused_total") >= 9.0);
    assert!(r.relay.metric("relay_pending_streams") <= 4.0);
    // The flood's survivors are dropped at the start limit.
    r.relay
        .wait_metric("relay_pending_streams", Duration::from_secs(10), |v| {
            v == 0.0
        })
        .await;
    twilio.hang_up();
    let summary = r.functions.wait_summary(Duration::from_secs(5)).await;
    assert_eq!(summary.outcome, CallOutcome::CallerHungUp);
    drop(flood);
}

#[tokio::test]
async fn frames_and_messages_beyond_twilios_sizes_close_the_socket() {
    let r = rig(greeting(300), |_| {}).await;
    let addr = r.relay.addr();
    // One frame past the frame limit: refused from its header, before any payload.
    let mut big_frame = raw_upgrade(&addr).await.unwrap();
    big_frame
        .write_all(&frame_header(2, true, MAX_FRAME_BYTES as u64 + 1))
        .await
        .unwrap();
    let took = closed_within(&mut big_frame, Duration::from_secs(10)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(3)),
        "a {}-byte frame was waited for: {took:?}",
        MAX_FRAME_BYTES + 1
    );
    // Frames each within the limit, adding up past the message limit.
    let mut big_message = raw_upgrade(&addr).await.unwrap();
    let chunk = vec![b'x'; MAX_FRAME_BYTES / 2];
    for i in 0..=(MAX_MESSAGE_BYTES / chunk.len() + 1) {
        let opcode = if i == 0 { 2 } else { 0 };
        let mut frame = frame_header(opcode, false, chunk.len() as u64);
        frame.extend(&chunk);
        if big_message.write_all(&frame).await.is_err() {
            break;
        }
    }
    let took = closed_within(&mut big_message, Duration::from_secs(10)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(3)),
        "a message past {MAX_MESSAGE_BYTES} bytes was buffered: {took:?}"
    );
    assert_eq!(r.double.connections(), 0, "nothing upstream was opened");
}

#[tokio::test]
async fn an_oversized_media_payload_is_refused_not_forwarded() {
    let r = rig(greeting(2000), |_| {}).await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    // A second of audio in one message (within the frame limit): not what Twilio sends.
    let long = base64_mulaw(8_000);
    twilio
        .raw(json!({"event": "media", "streamSid": "MZ1", "media": {"payload": long}}).to_string());
    // Then a normal 20 ms frame, which does go up: after it, the long one would have too.
    let short = base64_mulaw(160);
    twilio.raw(
        json!({"event": "media", "streamSid": "MZ1", "media": {"payload": short}}).to_string(),
    );
    r.double
        .wait_for(
            |e| e["type"] == "input_audio_buffer.append",
            Duration::from_secs(5),
        )
        .await
        .expect("the normal frame is forwarded");
    let appended: Vec<usize> = r
        .double
        .received()
        .iter()
        .filter(|e| e["type"] == "input_audio_buffer.append")
        .map(|e| e["audio"].as_str().unwrap().len())
        .collect();
    assert!(
        appended.iter().all(|len| *len <= MAX_MEDIA_PAYLOAD_CHARS),
        "forwarded: {appended:?}"
    );
    assert_eq!(r.relay.metric("relay_malformed_messages_total"), 1.0);
    twilio.hang_up();
}

fn base64_mulaw(bytes: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(silence(bytes / 8))
}

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The `fields` of every JSON line whose message contains `what`.
    fn lines(&self, what: &str) -> Vec<Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|l| l["fields"].clone())
            .filter(|f| f["message"].as_str().is_some_and(|m| m.contains(what)))
            .collect()
    }
}

// A current-thread runtime (the default): the relay's tasks run on this thread, under the
// subscriber set here.
#[tokio::test]
async fn garbage_frames_are_all_counted_and_logged_a_few_times() {
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish(),
    );
    let r = rig(greeting(2000), |_| {}).await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    const N: usize = 3000;
    let long = base64_mulaw(8_000);
    for i in 0..N {
        twilio.raw(match i % 3 {
            0 => "{not json".to_owned(),
            1 => json!({"event": "telepathy"}).to_string(),
            _ => json!({"event": "media", "media": {"payload": long}}).to_string(),
        });
    }
    r.relay
        .wait_metric(
            "relay_malformed_messages_total",
            Duration::from_secs(30),
            |v| v == N as f64,
        )
        .await;
    let lines = logs.lines("malformed Twilio messages");
    assert!(
        (1..=2).contains(&lines.len()),
        "{} log lines for {N} garbage frames",
        lines.len()
    );
    assert_eq!(lines[0]["count"], 1, "the first is logged at once");
    assert!(!twilio.closed(), "garbage is not fatal");

    twilio.hang_up();
    r.functions.wait_summary(Duration::from_secs(5)).await;
    // At the call's end, one line reports what the period held back: the counts add up.
    let lines = logs.lines("malformed Twilio messages");
    assert!(lines.len() <= 3, "{} log lines", lines.len());
    let logged: u64 = lines.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert_eq!(logged, N as u64);
}

#[tokio::test]
async fn a_twilio_peer_that_stops_reading_ends_the_call_and_the_summary_is_posted() {
    // Ten minutes of agent audio, sent as fast as the relay takes it: far more than the
    // socket buffers between the relay and a caller that reads nothing.
    let r = rig(greeting(600_000), |c| {
        c.write_limit = Duration::from_secs(1)
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    let tcp = socket
        .connect(r.relay.addr().parse().unwrap())
        .await
        .unwrap();
    let (ws, _) = tokio_tungstenite::client_async(r.relay.stream_request(), tcp)
        .await
        .unwrap();
    let (mut tx, _never_read) = futures_util::StreamExt::split(ws);
    let start = json!({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {
        "accountSid": "AC1", "streamSid": "MZ1", "callSid": CALL, "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"business": "salon-demo", "token": stream_token()}}});
    futures_util::SinkExt::send(
        &mut tx,
        tungstenite::Message::Text(start.to_string().into()),
    )
    .await
    .unwrap();
    let began = Instant::now();
    let summary = r.functions.wait_summary(Duration::from_secs(30)).await;
    assert_eq!(summary.outcome, CallOutcome::CallerHungUp);
    assert!(began.elapsed() < Duration::from_secs(30));
    r.relay
        .wait_metric("relay_active_calls", Duration::from_secs(5), |v| v == 0.0)
        .await;
    assert!(
        r.relay.metric("relay_frames_out_total") < 30_000.0,
        "the relay stopped writing: not all ten minutes went out"
    );
}

/// A Realtime API that sets the session up and then never reads again, through a socket with
/// a tiny receive buffer.
async fn deaf_upstream() -> String {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(8).unwrap();
    let url = format!("ws://{}/v1/realtime", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _session_update = futures_util::StreamExt::next(&mut ws).await;
        let pcmu = json!({"type": "audio/pcmu"});
        let updated = json!({"type": "session.updated", "session": {"type": "realtime",
            "audio": {"input": {"format": pcmu}, "output": {"format": pcmu}}}});
        futures_util::SinkExt::send(
            &mut ws,
            tungstenite::Message::Text(updated.to_string().into()),
        )
        .await
        .unwrap();
        // Hold the connection open, reading nothing more.
        std::future::pending::<()>().await;
        drop(ws);
    });
    url
}

#[tokio::test]
async fn a_model_that_stops_reading_ends_the_call_and_the_summary_is_posted() {
    let functions = FakeFunctions::start().await;
    let mut config = config(&functions, &deaf_upstream().await, AudioMode::Pcmu);
    config.write_limit = Duration::from_secs(1);
    let relay = Relay::start(config).await;
    let twilio = TwilioSide::dial(&relay, Some(stream_token())).await;
    // The caller's audio, far faster than real time: more than the buffers toward the model hold.
    let frame =
        json!({"event": "media", "streamSid": "MZ1", "media": {"payload": base64_mulaw(160)}})
            .to_string();
    for _ in 0..40_000 {
        twilio.raw(frame.clone());
    }
    let summary = functions.wait_summary(Duration::from_secs(30)).await;
    assert_eq!(summary.outcome, CallOutcome::UpstreamFailed);
    twilio
        .wait(Duration::from_secs(5), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    relay
        .wait_metric("relay_active_calls", Duration::from_secs(5), |v| v == 0.0)
        .await;
    assert!(relay.metric("relay_openai_errors_total") >= 1.0);
}

#[tokio::test]
async fn draining_keeps_listening_refuses_new_streams_and_stops_after_the_last_call() {
    let mut r = rig(greeting(300), |c| c.drain = Duration::from_secs(60)).await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    let _ = r.relay.stop.take().unwrap().send(());

    // /health still answers, with 503 "draining", so the platform stops routing here.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let health = http
            .get(format!("{}/health", r.relay.http()))
            .send()
            .await
            .expect("the relay still listens while draining");
        if health.status().as_u16() == 503 {
            assert_eq!(health.text().await.unwrap(), "draining");
            break;
        }
        assert!(Instant::now() < deadline, "/health never said draining");
        tokio::task::yield_now().await;
    }
    // A new stream gets a clear 503 at the upgrade.
    assert_eq!(
        refusal(tokio_tungstenite::connect_async(r.relay.stream_request()).await),
        503
    );
    // The call in progress goes on, and when it ends the relay stops, well before the limit.
    assert!(!twilio.closed());
    twilio.hang_up();
    tokio::time::timeout(Duration::from_secs(15), &mut r.relay.done)
        .await
        .expect("the relay stops after its last call")
        .unwrap();
    assert_eq!(
        r.functions
            .wait_summary(Duration::from_secs(1))
            .await
            .outcome,
        CallOutcome::CallerHungUp
    );
    assert!(
        TcpStream::connect(r.relay.addr()).await.is_err(),
        "stopped listening"
    );
}

#[tokio::test]
async fn a_key_press_is_logged_by_what_it_did_never_by_its_digit() {
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let r = rig(greeting(2000), |_| {}).await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    for digit in ["0", "7", "2", "#"] {
        twilio.raw(
            json!({"event": "dtmf", "streamSid": "MZ1", "sequenceNumber": "5",
                   "dtmf": {"track": "inbound_track", "digit": digit}})
            .to_string(),
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while logs.lines("a key was pressed").len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key presses were logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    twilio.hang_up();
    r.functions.wait_summary(Duration::from_secs(5)).await;
    let all = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    for line in all
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        assert!(line["fields"].get("digit").is_none(), "{line}");
        assert!(!line.to_string().contains("\"#\""), "{line}");
    }
    assert!(!all.contains("722123456"), "no caller number in the logs");
}
