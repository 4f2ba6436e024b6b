//! The WebSocket server: accepts upgrades at `/v1/realtime`, checks them as the real API does,
//! and runs one task per connection around a sans-I/O [`Connection`].

use crate::audio::{AudioFormat, Wav, mulaw_to_alaw, synthesize_speech};
use crate::connection::{Connection, Output};
use crate::protocol::Ids;
use crate::script::{FALLBACK_SAY, Say, Script, ScriptedResponse};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How a double behaves beyond its script.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the `agent/*.wav` recordings live; defaults to the crate's own `audio/` directory.
    pub audio_dir: PathBuf,
    /// Pacing of audio deltas as a multiple of real time: `None` sends them as fast as the
    /// socket takes (the default: the relay paces playback by Twilio marks), `Some(1.0)` in real
    /// time, `Some(4.0)` four times faster than real time.
    pub speed: Option<f64>,
    /// RMS level (16-bit scale) above which 20 ms of input audio counts as speech.
    pub vad_rms_threshold: f64,
    /// Keeps every event for [`Double::received`] and [`Double::sent`]; turn off for load tests.
    pub record: bool,
    /// Gives every connection its own copy of the script, played from the start and repeated
    /// when used up (instead of one script shared by all connections, which survives
    /// reconnects): for load tests, where each connection is another call.
    pub script_per_connection: bool,
    /// Sizes of successive audio deltas in milliseconds, used in turn (the real API's vary).
    pub delta_ms: Vec<usize>,
    /// Told what each connection receives and sends, as it happens (see [`Tap`]).
    pub tap: Option<Arc<dyn Tap>>,
    /// Chooses each connection's script from its session (see [`Scripts`]): for a harness
    /// whose calls differ (each its own booking, some dropped) through one double.
    pub scripts: Option<Arc<dyn Scripts>>,
}

/// Gives a connection its own script once its session says which call it serves.
pub trait Scripts: Send + Sync + std::fmt::Debug {
    /// Returns the script for connection `connection`, whose first `session.update` carries
    /// these instructions, or `None` to play the double's own. Called on the connection's
    /// task, before any response of the session: it must be quick.
    fn script(&self, connection: u64, instructions: &str) -> Option<Script>;
}

/// Watches a double's connections as they run, for a load harness measuring time in the same
/// process: each method is called on the connection's task, so it must be quick.
pub trait Tap: Send + Sync + std::fmt::Debug {
    /// Connection `connection` applied a `session.update` whose instructions are these.
    fn session(&self, connection: u64, instructions: &str) {
        let _ = (connection, instructions);
    }
    /// Connection `connection` received appended input audio (decoded, in `format`).
    fn input_audio(&self, connection: u64, format: AudioFormat, audio: &[u8], at: Instant) {
        let _ = (connection, format, audio, at);
    }
    /// Connection `connection` is about to send a response's first audio delta.
    fn reply_started(&self, connection: u64, at: Instant) {
        let _ = (connection, at);
    }
    /// Connection `connection` is about to send an audio delta of this many bytes of `format`.
    fn audio_sent(&self, connection: u64, format: AudioFormat, bytes: usize) {
        let _ = (connection, format, bytes);
    }
    /// Connection `connection` received a `function_call_output` item: what the model is told
    /// a tool answered (`output` as the client sent it).
    fn function_output(&self, connection: u64, call_id: &str, output: &str) {
        let _ = (connection, call_id, output);
    }
    /// Connection `connection` ended.
    fn closed(&self, connection: u64) {
        let _ = connection;
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            audio_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/audio")),
            speed: None,
            vad_rms_threshold: crate::vad::DEFAULT_RMS_THRESHOLD,
            record: true,
            script_per_connection: false,
            delta_ms: vec![50, 130],
            tap: None,
            scripts: None,
        }
    }
}

/// A running Realtime double. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct Double {
    /// The state every connection shares.
    shared: Arc<Shared>,
    /// Where the server listens.
    addr: SocketAddr,
    /// Stops the accept loop and every connection when the double is dropped.
    shutdown: CancellationToken,
}

impl Double {
    /// Starts a double for `script` on `127.0.0.1`, on a free port, with default options.
    pub async fn start(script: Script) -> std::io::Result<Double> {
        Double::start_with(script, Options::default()).await
    }

    /// Starts a double for `script` on `127.0.0.1`, on a free port.
    pub async fn start_with(script: Script, options: Options) -> std::io::Result<Double> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Double::serve(listener, script, options)
    }

    /// Serves `script` on an already bound listener (the binary uses this for a fixed port).
    ///
    /// Fails when a recording named by the script is missing or unreadable.
    pub fn serve(
        listener: TcpListener,
        script: Script,
        options: Options,
    ) -> std::io::Result<Double> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(script, options));
        shared.check_recordings()?;
        let shutdown = CancellationToken::new();
        tokio::spawn(accept_loop(listener, shared.clone(), shutdown.clone()));
        Ok(Double {
            shared,
            addr,
            shutdown,
        })
    }

    /// Returns the address the double listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the WebSocket URL without the model, e.g. `ws://127.0.0.1:PORT/v1/realtime`.
    pub fn url(&self) -> String {
        format!("ws://{}/v1/realtime", self.addr)
    }

    /// Makes the next `n` upgrade requests fail with HTTP 503.
    pub fn refuse_next(&self, n: usize) {
        self.shared.refuse.store(n, Ordering::SeqCst);
    }

    /// Returns how many WebSocket upgrades were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Returns every client event received, over all connections, in arrival order.
    ///
    /// A text frame that is not JSON is kept as a JSON string.
    pub fn received(&self) -> Vec<Value> {
        lock(&self.shared.journal.received).clone()
    }

    /// Returns every server event sent, over all connections, in order.
    pub fn sent(&self) -> Vec<Value> {
        lock(&self.shared.journal.sent).clone()
    }

    /// Waits until a received client event matches `pred` (searching from the first event ever
    /// received) and returns it, or `None` after `timeout`.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        self.shared
            .journal
            .wait(&self.shared.journal.received, pred, timeout)
            .await
    }

    /// Waits until a sent server event matches `pred` (searching from the first event ever
    /// sent) and returns it, or `None` after `timeout`.
    pub async fn wait_for_sent(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        self.shared
            .journal
            .wait(&self.shared.journal.sent, pred, timeout)
            .await
    }

    /// Returns the instructions each response so far ran under: its own, if `response.create`
    /// gave some (they replace the session's for that response), else the session's.
    pub fn response_instructions(&self) -> Vec<String> {
        lock(&self.shared.ran_under).clone()
    }

    /// Returns how many scripted responses have been started (or dropped) so far.
    pub fn responses_played(&self) -> usize {
        lock(&self.shared.script).next_response
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Recordings by name and format.
type AudioCache = HashMap<(String, AudioFormat), Arc<Vec<u8>>>;

/// What all connections of one double share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The double's settings.
    pub options: Options,
    /// Source of unique ids for every connection.
    pub ids: Ids,
    /// The script and how far it has been played; survives reconnects.
    pub script: Mutex<ScriptCursor>,
    /// Recordings already read, by name and format.
    audio: Mutex<AudioCache>,
    /// Every event in and out, for the test to inspect.
    pub journal: Journal,
    /// Upgrades still to refuse with 503.
    refuse: AtomicUsize,
    /// Upgrades accepted so far.
    connections: AtomicUsize,
    /// The instructions each response ran under, in order: a `response.create` with its own
    /// `instructions` runs under those alone, as the API documents, not the session's.
    pub ran_under: Mutex<Vec<String>>,
}

impl Shared {
    fn new(script: Script, options: Options) -> Shared {
        Shared {
            options,
            ids: Ids::default(),
            script: Mutex::new(ScriptCursor {
                script,
                next_response: 0,
                next_transcript: 0,
                repeat: false,
            }),
            audio: Mutex::new(HashMap::new()),
            journal: Journal::default(),
            refuse: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            ran_under: Mutex::new(Vec::new()),
        }
    }

    /// Reads every recording the script names, in both formats, so a typo fails at start.
    fn check_recordings(&self) -> std::io::Result<()> {
        let names: Vec<String> = lock(&self.script)
            .script
            .responses
            .iter()
            .filter_map(|r| r.say.as_ref()?.audio.clone())
            .collect();
        for name in names {
            for format in [AudioFormat::Pcmu, AudioFormat::Pcm24] {
                self.recording(&name, format)?;
            }
        }
        Ok(())
    }

    /// Returns the audio of `say` in `format`: the named recording or synthetic speech.
    pub fn speech(&self, say: &Say, format: AudioFormat) -> std::io::Result<Arc<Vec<u8>>> {
        match &say.audio {
            Some(name) => self.recording(name, format),
            None => Ok(Arc::new(synthesize_speech(
                say.ms.unwrap_or(crate::script::DEFAULT_SAY_MS),
                format,
            ))),
        }
    }

    fn recording(&self, name: &str, format: AudioFormat) -> std::io::Result<Arc<Vec<u8>>> {
        if let Some(audio) = lock(&self.audio).get(&(name.to_string(), format)) {
            return Ok(audio.clone());
        }
        let path = self
            .options
            .audio_dir
            .join("agent")
            .join(format!("{name}.{}.wav", format.file_suffix()));
        let bytes = std::fs::read(&path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        let wav = Wav::parse(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        let data = match (format, wav.format) {
            (AudioFormat::Pcma, AudioFormat::Pcmu) => mulaw_to_alaw(&wav.data),
            (wanted, found) if wanted == found => wav.data,
            (wanted, found) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{}: expected {wanted:?} audio, found {found:?}",
                        path.display()
                    ),
                ));
            }
        };
        let audio = Arc::new(data);
        lock(&self.audio).insert((name.to_string(), format), audio.clone());
        Ok(audio)
    }
}

/// The script and the position reached in it.
#[derive(Debug, Clone)]
pub(crate) struct ScriptCursor {
    /// The scenario.
    script: Script,
    /// Index of the next response to play.
    next_response: usize,
    /// Index of the next caller transcript to hand out.
    next_transcript: usize,
    /// Starts again from the top when used up (a connection's own copy, for load).
    repeat: bool,
}

impl ScriptCursor {
    /// A copy of this script from its start, for one connection, repeated when used up.
    pub fn fresh_repeating(&self) -> ScriptCursor {
        ScriptCursor {
            script: self.script.clone(),
            next_response: 0,
            next_transcript: 0,
            repeat: true,
        }
    }

    /// A connection's own script, played once from its start (then the fallback).
    pub fn once(script: Script) -> ScriptCursor {
        ScriptCursor {
            script,
            next_response: 0,
            next_transcript: 0,
            repeat: false,
        }
    }

    /// The response to a `response.create` with these own `instructions`, after these function
    /// `outputs` (those added since the last response): an aside either asks for (the script
    /// stays where it was), or the next scripted response.
    pub fn response_for(
        &mut self,
        instructions: Option<&str>,
        outputs: &[String],
    ) -> ScriptedResponse {
        let asks = |when: &str| {
            instructions.is_some_and(|i| i.contains(when))
                || outputs.iter().any(|o| o.contains(when))
        };
        match self.script.asides.iter().find(|a| asks(&a.when)) {
            Some(aside) => ScriptedResponse {
                say: aside.say.clone(),
                calls: aside.calls.clone(),
                drop: None,
            },
            None => self.next_response(),
        }
    }

    /// Takes the next scripted response, or the fallback question once the script is used up.
    pub fn next_response(&mut self) -> ScriptedResponse {
        if self.repeat && self.next_response >= self.script.responses.len() {
            self.next_response = 0;
        }
        let response = self.script.responses.get(self.next_response).cloned();
        self.next_response += 1;
        response.unwrap_or_else(|| ScriptedResponse {
            say: Some(Say {
                text: FALLBACK_SAY.to_string(),
                audio: None,
                ms: Some(1_500),
            }),
            calls: Vec::new(),
            drop: None,
        })
    }

    /// Takes the next caller transcript, or `""` once they are used up.
    pub fn next_transcript(&mut self) -> String {
        if self.repeat && self.next_transcript >= self.script.caller_transcripts.len() {
            self.next_transcript = 0;
        }
        let transcript = self
            .script
            .caller_transcripts
            .get(self.next_transcript)
            .cloned()
            .unwrap_or_default();
        self.next_transcript += 1;
        transcript
    }
}

/// Every event in and out, and a signal for waiters.
#[derive(Debug)]
pub(crate) struct Journal {
    /// Client events in arrival order.
    received: Mutex<Vec<Value>>,
    /// Server events in sending order.
    sent: Mutex<Vec<Value>>,
    /// Bumped on every record so `wait_for` can sleep until something new arrives.
    changed: watch::Sender<u64>,
}

impl Default for Journal {
    fn default() -> Journal {
        Journal {
            received: Mutex::default(),
            sent: Mutex::default(),
            changed: watch::Sender::new(0),
        }
    }
}

impl Journal {
    fn record_received(&self, event: Value) {
        lock(&self.received).push(event);
        self.changed.send_modify(|n| *n += 1);
    }

    fn record_sent(&self, event: Value) {
        lock(&self.sent).push(event);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Waits for an event of `events` (received or sent) that matches `pred`, searching each
    /// event once: from the first ever recorded, then only the new ones as they come.
    async fn wait(
        &self,
        events: &Mutex<Vec<Value>>,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        let mut changed = self.changed.subscribe();
        let mut searched = 0;
        let search = async {
            loop {
                // Marking the current version seen before searching means a record made
                // during the search wakes the next `changed()`.
                changed.borrow_and_update();
                {
                    let events = lock(events);
                    if let Some(found) = events[searched..].iter().find(|e| pred(e)) {
                        return found.clone();
                    }
                    searched = events.len();
                }
                if changed.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, search).await.ok()
    }
}

/// Locks a mutex, carrying on if a panicking test thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            // The double was dropped: stop accepting.
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let shared = shared.clone();
                let shutdown = shutdown.clone();
                let span = tracing::info_span!("realtime_double", %peer);
                tokio::spawn(
                    async move {
                        tokio::select! {
                            () = shutdown.cancelled() => {}
                            () = serve_connection(stream, shared) => {}
                        }
                    }
                    .instrument(span),
                );
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Checks an upgrade request as the real API does and returns the model it asks for.
fn check_upgrade(request: &Request, shared: &Shared) -> Result<String, Refusal> {
    if request.uri().path() != "/v1/realtime" {
        return Err(refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            "Invalid URL (GET /v1/realtime expected).",
        ));
    }
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if bearer.is_empty() {
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "You didn't provide an API key. Provide it in an Authorization header (Bearer auth).",
        ));
    }
    if request.headers().contains_key("openai-beta") {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "beta_not_supported",
            "The OpenAI-Beta header is not accepted: the beta Realtime interface has been shut down. Use the GA interface.",
        ));
    }
    let model = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "model")
        .map(|(_, value)| value.to_string())
        .filter(|model| !model.is_empty());
    let Some(model) = model else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "missing_required_parameter",
            "Missing required parameter: 'model'.",
        ));
    };
    // Counted last, so a refused request never uses up a 503.
    let refused = shared
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        return Err(refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The server is overloaded or not ready yet.",
        ));
    }
    Ok(model)
}

/// Why an upgrade is refused: the HTTP status and the API error it carries.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

fn refusal(status: StatusCode, code: &'static str, message: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        message,
    }
}

impl Refusal {
    /// Builds the HTTP response, with a JSON error body like the real API's.
    fn into_response(self) -> ErrorResponse {
        let body = serde_json::json!({
            "error": {"message": self.message, "type": "invalid_request_error",
                      "code": self.code, "param": null}
        })
        .to_string();
        let mut response = ErrorResponse::new(Some(body));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        response
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // Nagle would hold small events back for tens of milliseconds.
    let _ = stream.set_nodelay(true);
    let mut model = None;
    // The callback's error type (an HTTP response) is tungstenite's, large or not.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        model = Some(check_upgrade(request, &shared).map_err(Refusal::into_response)?);
        Ok(response)
    };
    let mut ws = match tokio_tungstenite::accept_hdr_async(stream, callback).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(%error, "upgrade refused or failed");
            return;
        }
    };
    let Some(model) = model else { return };
    let id = shared.connections.fetch_add(1, Ordering::SeqCst) as u64;
    tracing::debug!(%model, "session started");

    let mut connection = Connection::new(shared.clone(), model, id);
    let _closed = shared.options.tap.clone().map(|tap| TapClosed { tap, id });
    let mut outputs = Vec::new();
    connection.open(&mut outputs);
    loop {
        if !flush(&mut ws, &shared, &mut outputs).await {
            return;
        }
        let due = connection.next_due();
        tokio::select! {
            // Client events first: a barge-in or a second response.create must be seen
            // before the response in progress sends its next piece.
            biased;
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let event = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|_| Value::String(text.to_string()));
                    if shared.options.record {
                        shared.journal.record_received(event.clone());
                    }
                    connection.on_event(event, &mut outputs);
                }
                Some(Ok(Message::Binary(_))) => connection.on_binary(&mut outputs),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Pings are answered by tungstenite itself.
                Some(Ok(_)) => {}
            },
            // The response in progress has its next piece ready (paced or at once).
            () = sleep_until(due), if due.is_some() => connection.step(&mut outputs),
        }
    }
}

/// Tells the tap a connection ended, however its task ends.
struct TapClosed {
    tap: Arc<dyn Tap>,
    id: u64,
}

impl Drop for TapClosed {
    fn drop(&mut self) {
        self.tap.closed(self.id);
    }
}

async fn sleep_until(due: Option<std::time::Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
    }
}

/// Sends pending outputs; returns false when the connection is to end (dropped or broken).
async fn flush<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    shared: &Shared,
    outputs: &mut Vec<Output>,
) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for output in outputs.drain(..) {
        match output {
            Output::Event(event) => {
                let text = event.to_string();
                if shared.options.record {
                    shared.journal.record_sent(event);
                }
                if ws.feed(Message::Text(Utf8Bytes::from(text))).await.is_err() {
                    return false;
                }
            }
            Output::Drop => {
                // Flush what came before, then drop the TCP stream without a close frame.
                let _ = ws.flush().await;
                tracing::debug!("dropping the connection as scripted");
                return false;
            }
        }
    }
    ws.flush().await.is_ok()
}
