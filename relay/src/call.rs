//! One call: everything between Twilio's `start` and the end of the stream, in one task that
//! owns all of the call's state.
//!
//! The task admits the stream (format, stream token), fetches the session config, connects to
//! the Realtime API, and then relays: caller audio up, agent audio down in steady 20 ms chunks
//! each followed by a mark, tool calls to the functions, barge-in, silence and length limits,
//! reconnection, and the summary at the end.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use salon_relay_protocol::realtime::{OutputItem, ServerEvent, Usage};
use salon_wire::{
    CallOutcome, CallSummary, SessionConfig, SessionRequest, Speaker, TokenUsage, ToolReply,
    TranscriptLine, params, token, tools,
};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::audio::{AudioMode, InboundAudio, OutboundAudio};
use crate::config::Config;
use crate::functions::Functions;
use crate::metrics::Metrics;
use crate::openai::{self, Upstream};
use crate::pending::PendingSlot;
use crate::throttle::{LOG_PERIOD, LogThrottle};
use crate::twilio::{Inbound, MarkName, Outbound, OutboundMedia, Start};

/// What every call shares.
pub struct Shared {
    pub config: Arc<Config>,
    pub functions: Functions,
    pub metrics: Arc<Metrics>,
    /// Keeps refusals at the door (bad upgrades, streams without a valid `start`) to a few
    /// log lines however many sockets try.
    pub(crate) door_log: LogThrottle,
}

/// What a stream holds until it is admitted, and where its call slot comes from.
pub(crate) struct Admission {
    /// Its place among the pending streams, given up once `start` is admitted or refused.
    pub(crate) pending: PendingSlot,
    /// The call slots: one is taken only after admission.
    pub(crate) slots: Arc<Semaphore>,
}

/// Logs a refusal at the door: the first, then at most one line per period with the count.
pub(crate) fn log_refused(shared: &Shared, why: &'static str) {
    if let Some(refused) = shared.door_log.hit() {
        tracing::warn!(why, refused, "refused streams (this reason is the latest)");
    }
}

/// Asks the agent to check on a silent caller.
const CHECK_IN: &str = "Apelantul nu a mai spus nimic de câteva secunde. Întreabă-l doar, cald și scurt: „Mai sunteți acolo?”";
/// Asks the agent to end a silent call.
const GOODBYE_SILENCE: &str = "Apelantul nu răspunde. Spune doar: „Nu vă mai aud. Vă mulțumim pentru apel și o zi frumoasă! La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to end a call that has gone on too long.
const GOODBYE_MAX: &str = "Convorbirea trebuie încheiată acum. Spune politicos: „Ne pare rău, trebuie să încheiem convorbirea. Vă mulțumim și o zi frumoasă! La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to end the call because the relay is shutting down.
const GOODBYE_SHUTDOWN: &str = "Spune politicos: „Ne pare rău, trebuie să încheiem convorbirea acum. Vă rugăm să sunați din nou. La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to pick up after the connection to the model was restored.
const RESUME: &str = "Conexiunea s-a întrerupt o clipă. Spune foarte scurt „Scuze, am avut o mică problemă de legătură.” și continuă conversația de unde a rămas.";

/// How long the goodbye may take to play before the stream is closed anyway.
const GOODBYE_LIMIT: Duration = Duration::from_secs(15);

type TwilioTx = SplitSink<WebSocket, Message>;
type TwilioRx = SplitStream<WebSocket>;
type UpTx = SplitSink<Upstream, WsMessage>;
type UpRx = SplitStream<Upstream>;

/// Serves one Twilio media stream to its end: waits (briefly, as a pending stream) for a
/// valid `start`, then takes a call slot and runs the call.
pub(crate) async fn serve(
    socket: WebSocket,
    shared: Arc<Shared>,
    admission: Admission,
    cancel: CancellationToken,
) {
    let (tx, mut rx) = socket.split();
    let Admission { pending, slots } = admission;
    let start = match wait_for_start(&mut rx, &shared, &pending.evicted).await {
        Ok(s) => s,
        Err(why) => {
            drop(pending);
            refused(&shared, why);
            close(tx, shared.config.write_limit).await;
            return;
        }
    };
    let span = tracing::info_span!("call", call_sid = %start.call_sid);
    async move {
        let admitted = admit(&start, &shared);
        // Admitted or not, this stream is no longer pending.
        drop(pending);
        let claims = match admitted {
            Ok(claims) => claims,
            Err(why) => {
                refused(&shared, why);
                close(tx, shared.config.write_limit).await;
                return;
            }
        };
        // Only an admitted stream takes a call slot, so idle sockets never hold one.
        let Ok(_slot) = slots.try_acquire_owned() else {
            refused(&shared, "at the call limit");
            close(tx, shared.config.write_limit).await;
            return;
        };
        run_admitted(start, claims, tx, rx, &shared, cancel).await;
    }
    .instrument(span)
    .await
}

/// Counts and logs (rarely) a stream refused before its call began.
fn refused(shared: &Shared, why: &'static str) {
    shared
        .metrics
        .streams_refused
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    log_refused(shared, why);
}

/// Runs an admitted call and counts it.
async fn run_admitted(
    start: Start,
    claims: token::Claims,
    tx: TwilioTx,
    rx: TwilioRx,
    shared: &Shared,
    cancel: CancellationToken,
) {
    let active = &shared.metrics.active_calls;
    active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let outcome = run(start, claims, tx, rx, shared, cancel).await;
    active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    shared.metrics.call_ended(outcome);
    tracing::info!(?outcome, "call ended");
}

/// Closes Twilio's socket, giving up after `limit` if Twilio stopped reading.
async fn close(mut tx: TwilioTx, limit: Duration) {
    let _ = tokio::time::timeout(limit, async {
        let _ = tx.send(Message::Close(None)).await;
        let _ = tx.close().await;
    })
    .await;
}

/// Reads until Twilio's `start`: only `connected` may come before it (Twilio sends the two at
/// once), within the start limit, and unless a newer stream pushed this one out.
async fn wait_for_start(
    rx: &mut TwilioRx,
    shared: &Shared,
    evicted: &CancellationToken,
) -> Result<Start, &'static str> {
    let deadline = Instant::now() + shared.config.start_limit;
    loop {
        let msg = tokio::select! {
            // Too many streams without a start: this, the oldest, made room for a newer one.
            () = evicted.cancelled() => return Err("too many streams without a start: dropped the oldest"),
            // Twilio sends `start` at once; a socket that does not is not Twilio.
            _ = tokio::time::sleep_until(deadline) => return Err("no start in time"),
            // The next message, or the socket's end.
            msg = rx.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                count_malformed(shared);
                return Err("a binary frame before start");
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return Err("closed (or oversized) before start");
            }
        };
        match Inbound::parse(&text) {
            Ok(Inbound::Start { start, .. }) => return Ok(start),
            Ok(Inbound::Connected { .. }) => {}
            Ok(_) => return Err("a message other than start"),
            Err(_) => {
                count_malformed(shared);
                return Err("a malformed message before start");
            }
        }
    }
}

fn count_malformed(shared: &Shared) {
    shared
        .metrics
        .malformed_messages
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Checks the stream's format and token before anything upstream is opened; returns what the
/// token signed. The stream's own parameters must agree with it: a stream that names another
/// business or another caller than its token is refused, and only the token's word is used.
fn admit(start: &Start, shared: &Shared) -> Result<token::Claims, &'static str> {
    if !start.media_format.is_mulaw_8k_mono() {
        return Err("the stream is not μ-law 8 kHz mono");
    }
    let token = start
        .custom_parameters
        .get(params::TOKEN)
        .ok_or("no stream token")?;
    let now = shared.config.clock.now().as_second();
    let claims = token::verify(
        shared.config.stream_token_secret.expose().as_bytes(),
        token,
        &start.call_sid,
        now,
    )
    .map_err(|_| "invalid stream token")?;
    let param = |name| start.custom_parameters.get(name).map(String::as_str);
    if param(params::BUSINESS).is_some_and(|b| b != claims.business) {
        return Err("the business parameter does not match the token");
    }
    if param(params::CALLER).is_some_and(|c| c != claims.caller) {
        return Err("the caller parameter does not match the token");
    }
    Ok(claims)
}

/// A tool call's result, tagged with the upstream connection it belongs to.
struct ToolDone {
    connection: u64,
    call_id: String,
    reply: ToolReply,
}

/// The assistant audio item being played.
struct Playing {
    item_id: String,
    /// Audio the model sent for it, in bytes of its output format.
    model_bytes: u64,
    /// Audio sent to Twilio for it.
    sent_ms: u64,
    /// Audio Twilio confirmed played (marks echoed).
    played_ms: u64,
}

struct Call<'a> {
    shared: &'a Shared,
    call_sid: String,
    stream_sid: String,
    session: SessionConfig,
    model: String,
    voice: String,
    mode: AudioMode,
    twilio: TwilioTx,
    up: Option<UpTx>,
    inbound: InboundAudio,
    outbound: OutboundAudio,
    /// Reused for every frame's base64 decoding.
    scratch: Vec<u8>,
    /// Bumped at every `clear`: marks from before it are stale.
    epoch: u64,
    mark_seq: u64,
    /// Marks sent and not yet echoed: name, and the played position they confirm.
    marks: VecDeque<(String, u64)>,
    playing: Option<Playing>,
    /// An interrupted item whose further deltas are dropped.
    interrupted: Option<String>,
    response_active: bool,
    tools_in_flight: usize,
    outputs_pending_response: bool,
    tool_tx: mpsc::UnboundedSender<ToolDone>,
    /// Bumped at every (re)connection, so results for an old session are dropped.
    connection: u64,
    /// After the current response: end the call with this outcome.
    end_after_response: Option<CallOutcome>,
    /// A goodbye to ask for once no response is active.
    goodbye_pending: Option<(CallOutcome, &'static str)>,
    /// Ending: the mark to wait for, and when to give up waiting.
    ending: Option<(CallOutcome, Option<String>, Instant)>,
    last_activity: Instant,
    checked_in: bool,
    started: Instant,
    max_deadline: Instant,
    shutdown_requested: bool,
    usage: TokenUsage,
    transcript: Vec<TranscriptLine>,
    barge_ins: u32,
    reconnects: u32,
    /// A peer stopped reading (a write timed out): the call ends with this outcome.
    stalled: Option<CallOutcome>,
    /// Keeps malformed messages from Twilio to a few log lines per call.
    malformed_log: LogThrottle,
}

/// What ends the loop.
enum Flow {
    Continue,
    Done(CallOutcome),
}

async fn run(
    start: Start,
    claims: token::Claims,
    twilio: TwilioTx,
    mut twilio_rx: TwilioRx,
    shared: &Shared,
    cancel: CancellationToken,
) -> CallOutcome {
    let config = &shared.config;
    let request = SessionRequest {
        business: claims.business,
        caller: claims.caller,
        dialled: claims.dialled,
        stream_sid: start.stream_sid.clone(),
    };
    let session = match shared.functions.session(&start.call_sid, &request).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "no session config: ending the stream so Twilio apologises");
            close(twilio, config.write_limit).await;
            return CallOutcome::UpstreamFailed;
        }
    };
    let (model, voice) = (config.model.clone(), config.voice.clone());
    let (tool_tx, mut tool_rx) = mpsc::unbounded_channel();
    let now = Instant::now();
    let mut call = Call {
        shared,
        call_sid: start.call_sid.clone(),
        stream_sid: start.stream_sid.clone(),
        session,
        model,
        voice,
        mode: config.audio_mode,
        twilio,
        up: None,
        inbound: InboundAudio::new(config.audio_mode),
        outbound: OutboundAudio::new(config.audio_mode),
        scratch: Vec::with_capacity(4096),
        epoch: 0,
        mark_seq: 0,
        marks: VecDeque::with_capacity(64),
        playing: None,
        interrupted: None,
        response_active: false,
        tools_in_flight: 0,
        outputs_pending_response: false,
        tool_tx,
        connection: 0,
        end_after_response: None,
        goodbye_pending: None,
        ending: None,
        last_activity: now,
        checked_in: false,
        started: now,
        max_deadline: now + config.max_call,
        shutdown_requested: false,
        usage: TokenUsage::default(),
        transcript: Vec::new(),
        barge_ins: 0,
        reconnects: 0,
        stalled: None,
        malformed_log: LogThrottle::new(LOG_PERIOD),
    };
    let mut up_rx = match call.open_upstream(false).await {
        Some(rx) if call.stalled.is_none() => rx,
        _ => return call.finish(CallOutcome::UpstreamFailed, true).await,
    };
    // The agent speaks first.
    let greet = format!(
        "Salută apelantul spunând exact: „{}”",
        call.session.greeting
    );
    call.send_up(openai::response_create(Some(&greet))).await;
    call.response_active = true;

    loop {
        // A peer that stopped reading ends the call: nothing more can reach it.
        if let Some(outcome) = call.stalled.take() {
            tracing::warn!(?outcome, "a peer stopped reading: ending the call");
            let twilio_open = outcome != CallOutcome::CallerHungUp;
            return call.finish(outcome, twilio_open).await;
        }
        let deadline = call.next_deadline();
        let flow = tokio::select! {
            // The caller's side: audio, marks, stop.
            msg = twilio_rx.next() => call.on_twilio(msg).await,
            // The model's side: audio, transcripts, tool calls; a drop means reconnecting.
            msg = up_rx.next() => match msg {
                Some(Ok(WsMessage::Text(text))) => call.on_upstream(&text).await,
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => match call.reconnect().await {
                    Some(rx) => { up_rx = rx; Flow::Continue }
                    None => Flow::Done(CallOutcome::UpstreamFailed),
                },
                Some(Ok(_)) => Flow::Continue,
            },
            // A tool call came back from the functions.
            Some(done) = tool_rx.recv() => call.on_tool(done).await,
            // Silence, the maximum length, or the goodbye's deadline.
            _ = tokio::time::sleep_until(deadline) => call.on_timer().await,
            // The drain limit: say goodbye (once).
            _ = cancel.cancelled(), if !call.shutdown_requested => {
                call.shutdown_requested = true;
                call.ask_goodbye(CallOutcome::Shutdown, GOODBYE_SHUTDOWN).await;
                Flow::Continue
            }
        };
        if let Flow::Done(outcome) = flow {
            let twilio_open = outcome != CallOutcome::CallerHungUp;
            return call.finish(outcome, twilio_open).await;
        }
    }
}

impl Call<'_> {
    fn count(&self, c: &std::sync::atomic::AtomicU64) {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sends Twilio one message; a write that takes longer than the write limit (Twilio
    /// stopped reading) marks the call stalled, and nothing more is written to it.
    async fn send_twilio(&mut self, msg: &Outbound) {
        if self.stalled.is_some() {
            return;
        }
        let text = serde_json::to_string(msg).expect("Twilio messages serialise");
        let write = self.twilio.send(Message::Text(text.into()));
        match tokio::time::timeout(self.shared.config.write_limit, write).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::debug!("Twilio's socket is closed"),
            // No `CallOutcome` says "stopped reading" (the wire crate's, not ours to extend):
            // to the caller it is a line gone dead, the nearest is a hang-up.
            Err(_) => self.stalled = Some(CallOutcome::CallerHungUp),
        }
    }

    /// Sends the model one event, bounded like [`Self::send_twilio`]; a stalled upstream ends
    /// the call as `UpstreamFailed`.
    async fn send_up(&mut self, event: Value) {
        let Some(up) = self.up.as_mut() else { return };
        let write = up.send(WsMessage::Text(event.to_string().into()));
        match tokio::time::timeout(self.shared.config.write_limit, write).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::warn!("the Realtime socket refused a write"),
            Err(_) => {
                self.up = None;
                self.count(&self.shared.metrics.openai_errors);
                self.stalled.get_or_insert(CallOutcome::UpstreamFailed);
            }
        }
    }

    /// Counts a malformed message from Twilio; logs the first, then at most one line per
    /// period with the count since.
    fn malformed(&self, why: &'static str) {
        self.count(&self.shared.metrics.malformed_messages);
        if let Some(count) = self.malformed_log.hit() {
            tracing::warn!(
                why,
                count,
                "malformed Twilio messages (this reason is the latest)"
            );
        }
    }

    /// Connects to the Realtime API and sets the session up; `None` if that fails in budget.
    async fn open_upstream(&mut self, restoring: bool) -> Option<UpRx> {
        let config = &self.shared.config;
        let socket = match openai::connect_with_retry(
            &config.openai_url,
            &self.model,
            &config.openai_api_key,
            config.connect_budget,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "the Realtime API cannot be reached");
                self.count(&self.shared.metrics.openai_errors);
                return None;
            }
        };
        let (tx, mut rx) = socket.split();
        self.up = Some(tx);
        self.connection += 1;
        self.send_up(openai::session_update(
            &self.session,
            self.mode,
            self.shared.config.turn_detection,
            &self.model,
            &self.voice,
        ))
        .await;
        let updated = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(msg)) = rx.next().await {
                if let WsMessage::Text(text) = msg {
                    match ServerEvent::parse(&text) {
                        Ok(ServerEvent::SessionUpdated {
                            input_format,
                            output_format,
                        }) => return Some((input_format, output_format)),
                        Ok(ServerEvent::Error { code, message }) => {
                            tracing::error!(
                                code = code.as_deref().unwrap_or(""),
                                message = message.as_deref().unwrap_or(""),
                                "the Realtime API refused the session"
                            );
                            return None;
                        }
                        _ => {}
                    }
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        match updated {
            Some((input, output))
                if openai::formats_match(input.as_ref(), output.as_ref(), self.mode) => {}
            Some(_) => {
                tracing::error!("session.updated does not echo the audio formats asked for");
                self.count(&self.shared.metrics.openai_errors);
                return None;
            }
            None => {
                self.count(&self.shared.metrics.openai_errors);
                return None;
            }
        }
        if restoring {
            for line in self.transcript.clone() {
                self.send_up(openai::restore_item(&line)).await;
            }
        }
        Some(rx)
    }

    /// Re-establishes a dropped Realtime connection and restores the conversation.
    async fn reconnect(&mut self) -> Option<UpRx> {
        tracing::warn!("the Realtime connection dropped; reconnecting");
        self.up = None;
        // Whatever was in flight belonged to the old session.
        self.response_active = false;
        self.tools_in_flight = 0;
        self.outputs_pending_response = false;
        self.interrupted = self.playing.as_ref().map(|p| p.item_id.clone());
        let rx = self.open_upstream(true).await?;
        self.reconnects += 1;
        self.count(&self.shared.metrics.openai_reconnects);
        if self.ending.is_none() {
            self.send_up(openai::response_create(Some(RESUME))).await;
            self.response_active = true;
        }
        Some(rx)
    }

    fn next_deadline(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let mut d = far.min(self.max_deadline);
        if let Some((_, _, until)) = &self.ending {
            d = d.min(*until);
        } else if self.idle() {
            d = d.min(self.last_activity + self.shared.config.silence);
        }
        d
    }

    /// Nothing is happening: no response, no tool, no audio left to play.
    fn idle(&self) -> bool {
        !self.response_active
            && self.tools_in_flight == 0
            && self
                .playing
                .as_ref()
                .is_none_or(|p| p.played_ms >= p.sent_ms)
    }

    async fn on_timer(&mut self) -> Flow {
        let now = Instant::now();
        if let Some((outcome, _, until)) = &self.ending {
            if now >= *until {
                return Flow::Done(*outcome);
            }
            return Flow::Continue;
        }
        if now >= self.max_deadline {
            // Past the limit by far (a goodbye that never came): end regardless.
            if now >= self.max_deadline + GOODBYE_LIMIT {
                return Flow::Done(CallOutcome::MaxLength);
            }
            if self.end_after_response.is_none() && self.goodbye_pending.is_none() {
                self.ask_goodbye(CallOutcome::MaxLength, GOODBYE_MAX).await;
            }
            return Flow::Continue;
        }
        if self.idle()
            && now >= self.last_activity + self.shared.config.silence
            && self.end_after_response.is_none()
        {
            self.last_activity = now;
            if !self.checked_in {
                self.checked_in = true;
                self.send_up(openai::response_create(Some(CHECK_IN))).await;
                self.response_active = true;
            } else {
                self.ask_goodbye(CallOutcome::Silence, GOODBYE_SILENCE)
                    .await;
            }
        }
        Flow::Continue
    }

    /// Asks the agent for a goodbye now, or as soon as the current response is done.
    async fn ask_goodbye(&mut self, outcome: CallOutcome, instructions: &'static str) {
        if self.ending.is_some() {
            return;
        }
        if self.response_active {
            self.goodbye_pending = Some((outcome, instructions));
        } else {
            self.send_up(openai::response_create(Some(instructions)))
                .await;
            self.response_active = true;
            self.end_after_response = Some(outcome);
        }
    }

    async fn on_twilio(&mut self, msg: Option<Result<Message, axum::Error>>) -> Flow {
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return Flow::Done(CallOutcome::CallerHungUp);
            }
            Some(Ok(Message::Binary(_))) => {
                self.malformed("a binary frame");
                return Flow::Continue;
            }
            Some(Ok(_)) => return Flow::Continue,
        };
        // Oversized audio is refused here too: it never reaches the model.
        let msg = match Inbound::parse(&text) {
            Ok(m) => m,
            Err(_) => {
                self.malformed("a message that did not parse or was too large");
                return Flow::Continue;
            }
        };
        match msg {
            Inbound::Media { media } => {
                self.count(&self.shared.metrics.frames_in);
                self.scratch.clear();
                if B64
                    .decode_vec(media.payload.as_bytes(), &mut self.scratch)
                    .is_err()
                {
                    self.malformed("media that is not base64");
                    return Flow::Continue;
                }
                if self.up.is_some() {
                    let audio = self.inbound.process(&self.scratch);
                    let event = openai::append(&B64.encode(audio));
                    self.send_up(event).await;
                }
                Flow::Continue
            }
            Inbound::Mark { mark } => self.on_mark(&mark.name),
            Inbound::Stop { .. } => Flow::Done(CallOutcome::CallerHungUp),
            Inbound::Dtmf { .. } => {
                // The digit is the caller's (it may be part of a number): log only what it did.
                tracing::info!(action = "none", "a key was pressed");
                Flow::Continue
            }
            Inbound::Connected { .. } | Inbound::Start { .. } => Flow::Continue,
        }
    }

    fn on_mark(&mut self, name: &str) -> Flow {
        let epoch = name.split('-').next().and_then(|e| e.parse::<u64>().ok());
        if epoch != Some(self.epoch) {
            // Echoes of audio dropped by a `clear`.
            return Flow::Continue;
        }
        self.last_activity = Instant::now();
        while let Some((n, ms)) = self.marks.pop_front() {
            if let Some(p) = self.playing.as_mut() {
                p.played_ms = p.played_ms.max(ms);
            }
            if n == name {
                break;
            }
        }
        if let Some((outcome, Some(end_mark), _)) = &self.ending
            && end_mark == name
        {
            return Flow::Done(*outcome);
        }
        Flow::Continue
    }

    /// Sends every full chunk queued for Twilio, each followed by a mark.
    async fn pump(&mut self, flush: bool) {
        loop {
            let chunk = if flush {
                self.outbound.flush()
            } else {
                self.outbound.next_chunk()
            };
            let Some(chunk) = chunk else { break };
            let payload = B64.encode(chunk);
            let ms = chunk.len() as u64 / crate::audio::chunker::BYTES_PER_MS;
            self.send_twilio(&Outbound::Media {
                stream_sid: self.stream_sid.clone(),
                media: OutboundMedia { payload },
            })
            .await;
            self.count(&self.shared.metrics.frames_out);
            let sent = match self.playing.as_mut() {
                Some(p) => {
                    p.sent_ms += ms;
                    p.sent_ms
                }
                None => 0,
            };
            self.mark_seq += 1;
            let name = format!("{}-{}", self.epoch, self.mark_seq);
            self.marks.push_back((name.clone(), sent));
            self.send_twilio(&Outbound::Mark {
                stream_sid: self.stream_sid.clone(),
                mark: MarkName { name },
            })
            .await;
        }
    }

    fn model_ms(&self, p: &Playing) -> u64 {
        match self.mode {
            AudioMode::Pcmu => p.model_bytes / 8,
            AudioMode::Pcm24 => p.model_bytes / 48,
        }
    }

    /// The caller spoke over the agent: stop the audio, tell the model what was heard.
    async fn barge_in(&mut self) {
        let Some(p) = self.playing.take() else { return };
        let playing = p.sent_ms > p.played_ms || self.response_active;
        if !playing {
            self.playing = Some(p);
            return;
        }
        self.send_twilio(&Outbound::Clear {
            stream_sid: self.stream_sid.clone(),
        })
        .await;
        self.epoch += 1;
        self.marks.clear();
        self.outbound.clear();
        // What the caller heard: confirmed by marks, never more than the model sent.
        let heard = p.played_ms.min(self.model_ms(&p));
        self.send_up(openai::truncate(&p.item_id, heard)).await;
        tracing::info!(heard_ms = heard, sent_ms = p.sent_ms, "barge-in");
        self.interrupted = Some(p.item_id);
        self.barge_ins += 1;
        self.count(&self.shared.metrics.barge_ins);
    }

    async fn on_upstream(&mut self, text: &str) -> Flow {
        // What does not parse is ignored, as any event the relay does not act on.
        let Ok(event) = ServerEvent::parse(text) else {
            return Flow::Continue;
        };
        match event {
            ServerEvent::AudioDelta { item_id, delta } => {
                if self.interrupted.as_deref() == Some(&*item_id) {
                    return Flow::Continue;
                }
                if self.playing.as_ref().is_none_or(|p| p.item_id != item_id) {
                    self.pump(true).await;
                    self.playing = Some(Playing {
                        item_id: item_id.into_owned(),
                        model_bytes: 0,
                        sent_ms: 0,
                        played_ms: 0,
                    });
                }
                self.scratch.clear();
                if B64.decode_vec(delta.as_bytes(), &mut self.scratch).is_ok() {
                    if let Some(p) = self.playing.as_mut() {
                        p.model_bytes += self.scratch.len() as u64;
                    }
                    self.outbound.push_delta(&self.scratch);
                    self.pump(false).await;
                }
            }
            // The item's last partial frame goes out padded, so the next item starts on a frame.
            ServerEvent::AudioDone { item_id }
                if self.interrupted.as_deref() != item_id.as_deref() =>
            {
                self.pump(true).await;
            }
            ServerEvent::AgentTranscript { transcript } => {
                self.transcribe(Speaker::Agent, transcript);
            }
            ServerEvent::CallerTranscript { transcript } => {
                self.transcribe(Speaker::Caller, transcript);
            }
            ServerEvent::SpeechStarted => {
                self.last_activity = Instant::now();
                self.checked_in = false;
                self.barge_in().await;
            }
            ServerEvent::SpeechStopped => self.last_activity = Instant::now(),
            ServerEvent::ResponseCreated => self.response_active = true,
            ServerEvent::OutputItemDone {
                item:
                    OutputItem::FunctionCall {
                        name,
                        call_id,
                        arguments,
                    },
            } => {
                if name == tools::END_CALL {
                    self.end_after_response = Some(CallOutcome::EndedByAgent);
                } else if self.end_after_response.is_none() {
                    self.start_tool(name, call_id, arguments);
                }
            }
            ServerEvent::ResponseDone { usage: reported } => {
                self.response_active = false;
                self.last_activity = Instant::now();
                if let Some(u) = reported {
                    self.usage.add(&usage(&u));
                }
                if let Some(outcome) = self.end_after_response.take() {
                    return self.begin_ending(outcome).await;
                }
                if let Some((outcome, instructions)) = self.goodbye_pending.take() {
                    self.send_up(openai::response_create(Some(instructions)))
                        .await;
                    self.response_active = true;
                    self.end_after_response = Some(outcome);
                    return Flow::Continue;
                }
                self.maybe_respond().await;
            }
            ServerEvent::Error { code, message } => {
                tracing::warn!(
                    code = code.as_deref().unwrap_or(""),
                    message = message.as_deref().unwrap_or(""),
                    "the Realtime API reported an error"
                );
                self.count(&self.shared.metrics.openai_errors);
            }
            _ => {}
        }
        Flow::Continue
    }

    /// Keeps a non-empty transcript line for the summary.
    fn transcribe(&mut self, speaker: Speaker, transcript: Option<String>) {
        if let Some(text) = transcript.filter(|t| !t.trim().is_empty()) {
            self.transcript.push(TranscriptLine { speaker, text });
        }
    }

    fn start_tool(&mut self, name: String, call_id: String, arguments: String) {
        self.tools_in_flight += 1;
        let functions = self.shared.functions.clone();
        let metrics = self.shared.metrics.clone();
        let call_sid = self.call_sid.clone();
        let tx = self.tool_tx.clone();
        let connection = self.connection;
        let span = tracing::info_span!("tool", tool = %name);
        tokio::spawn(
            async move {
                let began = std::time::Instant::now();
                let reply = functions.tool(&call_sid, &name, &call_id, &arguments).await;
                metrics.tool_latency(began.elapsed());
                let _ = tx.send(ToolDone {
                    connection,
                    call_id,
                    reply,
                });
            }
            .instrument(span),
        );
    }

    async fn on_tool(&mut self, done: ToolDone) -> Flow {
        if done.connection != self.connection {
            return Flow::Continue;
        }
        self.tools_in_flight = self.tools_in_flight.saturating_sub(1);
        self.last_activity = Instant::now();
        let output = serde_json::to_string(&done.reply).expect("tool replies serialise");
        self.send_up(openai::function_output(&done.call_id, &output))
            .await;
        self.outputs_pending_response = true;
        self.maybe_respond().await;
        Flow::Continue
    }

    /// One `response.create` once every tool output of a finished response is in.
    async fn maybe_respond(&mut self) {
        if !self.response_active
            && self.tools_in_flight == 0
            && self.outputs_pending_response
            && self.end_after_response.is_none()
            && self.ending.is_none()
        {
            self.outputs_pending_response = false;
            self.send_up(openai::response_create(None)).await;
            self.response_active = true;
        }
    }

    /// Lets the goodbye play out, then ends: waits for the mark after the last audio.
    async fn begin_ending(&mut self, outcome: CallOutcome) -> Flow {
        self.pump(true).await;
        let unplayed = self
            .playing
            .as_ref()
            .is_some_and(|p| p.sent_ms > p.played_ms);
        if !unplayed {
            return Flow::Done(outcome);
        }
        let name = format!("{}-end", self.epoch);
        self.marks
            .push_back((name.clone(), self.playing.as_ref().map_or(0, |p| p.sent_ms)));
        self.send_twilio(&Outbound::Mark {
            stream_sid: self.stream_sid.clone(),
            mark: MarkName { name: name.clone() },
        })
        .await;
        self.ending = Some((outcome, Some(name), Instant::now() + GOODBYE_LIMIT));
        Flow::Continue
    }

    /// Reports the call and closes both sockets. A deliberate end waits for the summary's
    /// 2xx before closing the stream, so the stream-ended webhook knows not to apologise.
    async fn finish(mut self, outcome: CallOutcome, twilio_open: bool) -> CallOutcome {
        if let Some(mut up) = self.up.take() {
            let _ = tokio::time::timeout(self.shared.config.write_limit, async {
                let _ = up.send(WsMessage::Close(None)).await;
                let _ = up.close().await;
            })
            .await;
        }
        let unreported = self.malformed_log.take_unreported();
        if unreported > 0 {
            tracing::warn!(
                count = unreported,
                "malformed Twilio messages since the last report"
            );
        }
        let summary = CallSummary {
            outcome,
            stream_seconds: self.started.elapsed().as_secs() as u32,
            usage: self.usage,
            barge_ins: self.barge_ins,
            reconnects: self.reconnects,
            transcript: std::mem::take(&mut self.transcript),
        };
        if let Err(e) = self
            .shared
            .functions
            .summary(&self.call_sid, &summary)
            .await
        {
            tracing::error!(error = %e, "could not post the call summary");
        }
        if twilio_open {
            close(self.twilio, self.shared.config.write_limit).await;
        }
        outcome
    }
}

/// Converts `response.done`'s usage into the summary's.
fn usage(u: &Usage) -> TokenUsage {
    TokenUsage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        input_audio_tokens: u.input_token_details.audio_tokens,
        output_audio_tokens: u.output_token_details.audio_tokens,
        cached_input_tokens: u.input_token_details.cached_tokens,
    }
}
