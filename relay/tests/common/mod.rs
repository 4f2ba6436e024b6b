//! Test peers for the relay: fake functions, a Twilio-side client, and a relay on port 0.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use salon_relay::audio::AudioMode;
use salon_relay::config::{Config, Secret, UpgradeSignature};
use salon_relay::metrics::Metrics;
use salon_wire::{
    CallSummary, SessionConfig, ToolDefinition, ToolReply, auth, token, twilio_signature,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

pub const RELAY_SECRET: &str = "relay-secret-0123456789abcdef0123";
pub const STREAM_SECRET: &str = "stream-secret-0123456789abcdef012";
pub const CALL: &str = "CA0123456789abcdef0123456789abcdef";
/// The Twilio account's auth token: the relay checks the upgrade's signature with it.
pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// The relay's public base, which Twilio signs the upgrade against.
pub const PUBLIC_URL: &str = "wss://relay.example.com";
pub const GREETING: &str =
    "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?";

/// How the fake functions answer tools.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ToolMode {
    /// `{"ok":true,"result":{"tool":name,…}}`.
    Ok,
    /// HTTP 500, as when the functions are failing.
    Fail,
    /// Like `Ok`, after this many milliseconds (a slow booking).
    Slow(u64),
    /// Takes the request and never answers (an answer lost on the way back).
    Hang,
}

/// The functions, faked: they check the relay's signatures and record what they got.
#[derive(Clone)]
pub struct FakeFunctions {
    pub url: String,
    pub tools: Arc<Mutex<Vec<(String, Value)>>>,
    pub summaries: Arc<Mutex<Vec<CallSummary>>>,
    /// What was finished, in order: `tool:NAME` when a tool's answer is sent, `summary`.
    pub finished: Arc<Mutex<Vec<String>>>,
    /// Every session request's body.
    pub sessions: Arc<Mutex<Vec<Value>>>,
    pub mode: Arc<Mutex<ToolMode>>,
    pub unsigned: Arc<Mutex<u32>>,
    /// How long the summary takes to be answered, in milliseconds.
    pub summary_delay_ms: Arc<Mutex<u64>>,
}

fn def(name: &str) -> ToolDefinition {
    ToolDefinition {
        kind: "function".into(),
        name: name.into(),
        description: format!("the {name} tool"),
        parameters: json!({"type": "object", "properties": {}}),
    }
}

async fn fake(
    State(f): State<FakeFunctions>,
    Path(rest): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let now = jiff::Timestamp::now().as_second();
    if auth::verify(
        RELAY_SECRET.as_bytes(),
        h(auth::HEADER_TIMESTAMP).as_deref(),
        h(auth::HEADER_SIGNATURE).as_deref(),
        &auth::Request {
            method: "POST",
            path: &format!("/api/relay/calls/{}/{}", rest.0, rest.1),
            body: &body,
        },
        now,
    )
    .is_err()
    {
        *f.unsigned.lock().unwrap() += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (_call, what) = rest;
    let body: Value = serde_json::from_slice(&body).unwrap();
    if what == "session" {
        f.sessions.lock().unwrap().push(body.clone());
        let tools = [
            "check_appointment_availability",
            "create_voice_appointment",
            "end_call",
        ]
        .map(def)
        .to_vec();
        return Json(SessionConfig {
            instructions: "Ești asistentul virtual al salonului.".into(),
            greeting: GREETING.into(),
            transcription_model: "gpt-4o-transcribe".into(),
            language: "ro".into(),
            tools,
        })
        .into_response();
    }
    if what == "summary" {
        let delay = *f.summary_delay_ms.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        f.summaries
            .lock()
            .unwrap()
            .push(serde_json::from_value(body).unwrap());
        f.finished.lock().unwrap().push("summary".into());
        return StatusCode::NO_CONTENT.into_response();
    }
    let name = what.strip_prefix("tools/").unwrap_or(&what).to_owned();
    f.tools.lock().unwrap().push((name.clone(), body));
    let mode = *f.mode.lock().unwrap();
    match mode {
        ToolMode::Ok | ToolMode::Slow(_) => {
            if let ToolMode::Slow(ms) = mode {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            f.finished.lock().unwrap().push(format!("tool:{name}"));
            Json(ToolReply::Ok(json!({"tool": name, "disponibil": true}))).into_response()
        }
        ToolMode::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        ToolMode::Hang => std::future::pending().await,
    }
}

impl FakeFunctions {
    pub async fn start() -> Self {
        Self::serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// Starts on `addr` (a port a test reserved, to come up after the relay).
    pub async fn start_at(addr: std::net::SocketAddr) -> Self {
        Self::serve(tokio::net::TcpListener::bind(addr).await.unwrap())
    }

    fn serve(listener: tokio::net::TcpListener) -> Self {
        let f = FakeFunctions {
            url: format!("http://{}", listener.local_addr().unwrap()),
            tools: Default::default(),
            summaries: Default::default(),
            finished: Default::default(),
            sessions: Default::default(),
            mode: Arc::new(Mutex::new(ToolMode::Ok)),
            unsigned: Default::default(),
            summary_delay_ms: Default::default(),
        };
        let app = Router::new()
            .route("/api/relay/calls/{call}/{what}", post(fake))
            .route(
                "/api/relay/calls/{call}/tools/{name}",
                post(|s, Path((c, n)): Path<(String, String)>, h, b| {
                    fake(s, Path((c, format!("tools/{n}"))), h, b)
                }),
            )
            .with_state(f.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        f
    }

    pub fn summary(&self) -> Option<CallSummary> {
        self.summaries.lock().unwrap().last().cloned()
    }

    pub async fn wait_summary(&self, within: Duration) -> CallSummary {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(s) = self.summary() {
                return s;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no call summary within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A relay on a free port, its metrics on another.
pub struct Relay {
    pub url: String,
    /// `http://…` of the metrics listener.
    pub metrics_url: String,
    pub metrics: Arc<Metrics>,
    pub stop: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<()>,
}

pub fn config(functions: &FakeFunctions, openai_url: &str, mode: AudioMode) -> Config {
    Config {
        relay_public_url: PUBLIC_URL.into(),
        upgrade_signature: UpgradeSignature::Required(Secret::new(AUTH_TOKEN)),
        relay_secret: Secret::new(RELAY_SECRET),
        stream_token_secret: Secret::new(STREAM_SECRET),
        functions_url: functions.url.clone(),
        openai_api_key: Secret::new("sk-test-key"),
        openai_url: openai_url.trim_end_matches("/v1/realtime").to_owned() + "/v1/realtime",
        model: "gpt-realtime".into(),
        voice: "marin".into(),
        audio_mode: mode,
        // The scripted audio was timed for server VAD with a 500 ms silence.
        turn_detection: salon_relay::turn::TurnDetection::Server { silence_ms: 500 },
        clock: Default::default(),
        max_calls: 10,
        max_pending_streams: 8,
        start_limit: Duration::from_secs(5),
        write_limit: Duration::from_secs(5),
        header_read_limit: Duration::from_secs(10),
        silence: Duration::from_secs(30),
        max_call: Duration::from_secs(600),
        drain: Duration::from_secs(30),
        tool_timeout: Duration::from_secs(2),
        connect_budget: Duration::from_secs(3),
    }
}

impl Relay {
    pub async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_url = format!("http://{}", metrics_listener.local_addr().unwrap());
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = oneshot::channel::<()>();
        let m = metrics.clone();
        let done = tokio::spawn(async move {
            salon_relay::run(listener, metrics_listener, config, m, async {
                let _ = rx.await;
            })
            .await
        });
        Relay {
            url,
            metrics_url,
            metrics,
            stop: Some(tx),
            done,
        }
    }

    pub fn http(&self) -> String {
        self.url.replace("ws://", "http://")
    }

    /// The `host:port` of the public listener.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("ws://").to_owned()
    }

    /// An upgrade request for the stream, signed as Twilio signs it.
    pub fn stream_request(&self) -> Request {
        signed_stream_request(&self.url)
    }

    /// Waits until the metric satisfies `pred`.
    pub async fn wait_metric(&self, name: &str, within: Duration, pred: impl Fn(f64) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let v = self.metric(name);
            if pred(v) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} is {v} after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn metric(&self, name: &str) -> f64 {
        self.metrics
            .render()
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name}"))
    }
}

/// What the relay sent Twilio.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    Media(Vec<u8>),
    Mark(String),
    Clear,
    /// The relay closed the stream with a close handshake (or the stream simply ended).
    Closed,
    /// The stream broke instead (a reset): Twilio would report a stream error.
    Broken(String),
}

/// A Twilio Media Streams peer: sends `start` and audio, records what comes back, and echoes
/// each mark once the audio before it has "played" (20 ms of playback per mark).
pub struct TwilioSide {
    out: mpsc::UnboundedSender<String>,
    pub heard: Arc<Mutex<Vec<Heard>>>,
    /// Marks echoed after playing (not those flushed by a clear).
    pub echoed: Arc<Mutex<Vec<String>>>,
    /// Holds playback: no mark is echoed while set. Taken before `echoed` by whoever takes
    /// both, so holding and counting what was echoed is one step ([`Self::hold_playback`]).
    hold: Arc<Mutex<bool>>,
    /// Media frames sent to the relay so far.
    media_sent: Arc<AtomicUsize>,
}

impl TwilioSide {
    pub async fn dial(relay: &Relay, token: Option<String>) -> Self {
        Self::dial_with(
            relay,
            token,
            json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}),
        )
        .await
    }

    pub async fn dial_with(relay: &Relay, token: Option<String>, format: Value) -> Self {
        Self::dial_url(&relay.url, token, format).await
    }

    /// Dials the relay at `url` (`ws://host:port`) with a signed upgrade.
    pub async fn dial_url(url: &str, token: Option<String>, format: Value) -> Self {
        let mut params = json!({"business": "salon-demo", "caller": CALLER});
        if let Some(t) = token {
            params["token"] = json!(t);
        }
        Self::dial_params_url(url, params, format).await
    }

    /// Dials with these `customParameters`.
    pub async fn dial_params(relay: &Relay, params: Value, format: Value) -> Self {
        Self::dial_params_url(&relay.url, params, format).await
    }

    async fn dial_params_url(url: &str, params: Value, format: Value) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(signed_stream_request(url))
            .await
            .unwrap();
        let (mut tx, mut rx) = ws.split();
        let heard: Arc<Mutex<Vec<Heard>>> = Default::default();
        let echoed: Arc<Mutex<Vec<String>>> = Default::default();
        let hold = Arc::new(Mutex::new(false));
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        // One writer, so frames and mark echoes keep their order.
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if tx.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
        let (mark_tx, mut mark_rx) = mpsc::unbounded_channel::<Option<String>>();
        let h2 = heard.clone();
        tokio::spawn(async move {
            let mut broken = None;
            while let Some(msg) = rx.next().await {
                let t = match msg {
                    Ok(Message::Text(t)) => t,
                    Ok(_) => continue,
                    Err(e) => {
                        broken = Some(e.to_string());
                        break;
                    }
                };
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["event"].as_str().unwrap() {
                    "media" => h2.lock().unwrap().push(Heard::Media(
                        B64.decode(v["media"]["payload"].as_str().unwrap()).unwrap(),
                    )),
                    "mark" => {
                        let name = v["mark"]["name"].as_str().unwrap().to_owned();
                        h2.lock().unwrap().push(Heard::Mark(name.clone()));
                        let _ = mark_tx.send(Some(name));
                    }
                    "clear" => {
                        h2.lock().unwrap().push(Heard::Clear);
                        let _ = mark_tx.send(None);
                    }
                    other => panic!("the relay sent Twilio {other}"),
                }
            }
            h2.lock()
                .unwrap()
                .push(broken.map_or(Heard::Closed, Heard::Broken));
        });
        let (e2, hold2, o2) = (echoed.clone(), hold.clone(), out.clone());
        tokio::spawn(async move {
            let mut pending: std::collections::VecDeque<String> = Default::default();
            let echo = |n: &str| {
                json!({"event": "mark", "streamSid": "MZ1", "mark": {"name": n}}).to_string()
            };
            loop {
                tokio::select! {
                    m = mark_rx.recv() => match m {
                        // Twilio echoes the marks of cleared audio at once.
                        Some(None) => for n in pending.drain(..) { let _ = o2.send(echo(&n)); },
                        Some(Some(name)) => pending.push_back(name),
                        None => break,
                    },
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {
                        // Held across the echo, so a hold never races an echo half done.
                        let hold = hold2.lock().unwrap();
                        if !*hold && let Some(n) = pending.pop_front() {
                            e2.lock().unwrap().push(n.clone());
                            let _ = o2.send(echo(&n));
                        }
                    }
                }
            }
        });
        let side = TwilioSide {
            out,
            heard,
            echoed,
            hold,
            media_sent: Default::default(),
        };
        side.raw(json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string());
        side.raw(
            json!({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {
                "accountSid": "AC1", "streamSid": "MZ1", "callSid": CALL, "tracks": ["inbound"],
                "mediaFormat": format, "customParameters": params}})
            .to_string(),
        );
        side
    }

    pub fn raw(&self, text: String) {
        let _ = self.out.send(text);
    }

    /// Streams μ-law audio in 20 ms frames, in real time, then a second of the line's quiet
    /// (Twilio keeps streaming frames while nobody speaks, which is how a turn ends).
    pub async fn speak(&self, mulaw: &[u8]) {
        let mut audio = mulaw.to_vec();
        audio.extend(silence(1000));
        for frame in audio.chunks(160) {
            self.media(frame);
            // Twilio streams in real time: this pacing is the caller's, not a wait.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends one frame of μ-law audio.
    pub fn media(&self, frame: &[u8]) {
        let payload = B64.encode(frame);
        self.raw(json!({"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": payload}}).to_string());
        self.media_sent.fetch_add(1, Ordering::SeqCst);
    }

    /// How many media frames were sent to the relay.
    pub fn media_sent(&self) -> usize {
        self.media_sent.load(Ordering::SeqCst)
    }

    /// Holds playback where it is: no mark is echoed until [`Self::resume_playback`]. Returns
    /// how many marks were echoed, every one of them already on its way to the relay.
    pub fn hold_playback(&self) -> usize {
        let mut hold = self.hold.lock().unwrap();
        *hold = true;
        self.echoed.lock().unwrap().len()
    }

    /// Lets playback go on.
    pub fn resume_playback(&self) {
        *self.hold.lock().unwrap() = false;
    }

    pub fn hang_up(&self) {
        self.raw(
            json!({"event": "stop", "streamSid": "MZ1", "stop": {"callSid": CALL}}).to_string(),
        );
    }

    pub fn media_frames(&self) -> Vec<Vec<u8>> {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .filter_map(|h| {
                if let Heard::Media(m) = h {
                    Some(m.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn closed(&self) -> bool {
        self.heard.lock().unwrap().contains(&Heard::Closed)
    }

    /// Waits until `n` marks have been echoed (the agent's first `n` frames have played).
    pub async fn wait_played(&self, n: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.echoed.lock().unwrap().len() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the agent's audio does not play"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until `pred` holds over what was heard.
    pub async fn wait(&self, within: Duration, what: &str, pred: impl Fn(&[Heard]) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if pred(&self.heard.lock().unwrap()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The caller ID the test calls come from.
pub const CALLER: &str = "+40722123456";

/// What a valid stream token for `CALL` from `CALLER` signs.
pub fn claims() -> token::Claims {
    token::Claims {
        call_sid: CALL.into(),
        business: "salon-demo".into(),
        caller: CALLER.into(),
        dialled: "+40312345678".into(),
        expires_at: jiff::Timestamp::now().as_second() + 120,
    }
}

/// An upgrade request for `{url}/twilio/stream`, signed over the relay's public URL with
/// [`AUTH_TOKEN`], as Twilio does.
pub fn signed_stream_request(url: &str) -> Request {
    let mut request = format!("{url}/twilio/stream")
        .into_client_request()
        .unwrap();
    let signature =
        twilio_signature::compute(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/stream"), &[]);
    request
        .headers_mut()
        .insert("x-twilio-signature", signature.parse().unwrap());
    request
}

/// A valid stream token for `CALL` from `CALLER`.
pub fn stream_token() -> String {
    token::issue(STREAM_SECRET.as_bytes(), &claims())
}

/// μ-law silence.
pub fn silence(ms: usize) -> Vec<u8> {
    vec![0xFF; ms * 8]
}

/// Upgrades a fresh TCP connection to the stream by hand (signed, as Twilio does), so a test
/// can then write raw WebSocket frames; `Err` carries the refusal's status line.
pub async fn raw_upgrade(addr: &str) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let signature =
        twilio_signature::compute(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/stream"), &[]);
    let request = format!(
        "GET /twilio/stream HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         X-Twilio-Signature: {signature}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await.map_err(|e| e.to_string())? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    if status.starts_with("HTTP/1.1 101") {
        Ok(tcp)
    } else {
        Err(status)
    }
}

/// A client frame's header (masked with a zero key, so the payload goes as written) declaring
/// `len` bytes of payload; `opcode` 0 continues a message, 1 is text, 2 binary.
pub fn frame_header(opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut h = vec![(if fin { 0x80 } else { 0 }) | opcode];
    match len {
        0..=125 => h.push(0x80 | len as u8),
        126..=0xFFFF => {
            h.push(0x80 | 126);
            h.extend((len as u16).to_be_bytes());
        }
        _ => {
            h.push(0x80 | 127);
            h.extend(len.to_be_bytes());
        }
    }
    h.extend([0, 0, 0, 0]);
    h
}
