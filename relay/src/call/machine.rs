//! The call as a sans-I/O state machine: inputs in (a Twilio message, a Realtime event, a tool
//! result, a timer), outputs out (what to send, a tool to run, a connection to open, the end).
//!
//! [`Call::handle`] takes one [`Input`] and the time it happened and pushes [`Output`]s for the
//! driver (`driver.rs`) to perform in order; [`Call::next_wake`] says when the driver must feed
//! [`Input::Timer`]. Nothing here awaits, reads a clock or touches a socket, so every behaviour
//! of a call can be tested on virtual time (`tests/`), as the Realtime double's `Connection`
//! is. Time is `tokio::time::Instant` used as a plain value: it is what the driver sleeps on, so
//! a driver on paused tokio time and the machine agree on what "now" is.
//!
//! The model's side (its events, function calls, and the tools' answers going back) is in
//! `machine/model.rs`; Twilio's side, the timers and the ending are here.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use salon_relay_protocol::realtime::ServerEvent;
use salon_wire::{CallOutcome, CallSummary, SessionConfig, TokenUsage, ToolReply, TranscriptLine};
use tokio::time::Instant;

use super::history::{Said, restore};
use super::outbox::{Mark, Outbox, Text};
use crate::audio::chunker::BYTES_PER_MS;
use crate::audio::{AudioMode, InboundAudio, OutboundAudio};
use crate::metrics::Metrics;
use crate::openai::{self, ClientEvent};
use crate::throttle::{LOG_PERIOD, LogThrottle};
use crate::turn::TurnDetection;
use crate::twilio::Inbound;

mod model;

/// Asks the agent to check on a silent caller.
pub(crate) const CHECK_IN: &str = "Apelantul nu a mai spus nimic de câteva secunde. Întreabă-l doar, cald și scurt: „Mai sunteți acolo?”";
/// Asks the agent to end a silent call.
pub(crate) const GOODBYE_SILENCE: &str = "Apelantul nu răspunde. Spune doar: „Nu vă mai aud. Vă mulțumim pentru apel și o zi frumoasă! La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to end a call that has gone on too long.
pub(crate) const GOODBYE_MAX: &str = "Convorbirea trebuie încheiată acum. Spune politicos: „Ne pare rău, trebuie să încheiem convorbirea. Vă mulțumim și o zi frumoasă! La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to end the call because the relay is shutting down.
pub(crate) const GOODBYE_SHUTDOWN: &str = "Spune politicos: „Ne pare rău, trebuie să încheiem convorbirea acum. Vă rugăm să sunați din nou. La revedere!” Nu apela nicio unealtă.";
/// Asks the agent to pick up after the connection to the model was restored.
pub(crate) const RESUME: &str = "Conexiunea s-a întrerupt o clipă. Spune foarte scurt „Scuze, am avut o mică problemă de legătură.” și continuă conversația de unde a rămas.";

/// Asks the agent for a short hold line while a tool takes long: the caller hears the line is
/// alive instead of silence (older callers on bad lines hang up on silence).
pub const HOLD: &str = "Căutarea durează puțin. Spune doar: „Un moment, vă rog, verific.” Nu apela nicio unealtă și nu spune nimic despre rezultat.";
/// The turn asked for when the caller presses 0: a person, as if they had asked for one.
pub(crate) const KEYPAD_PERSON: &str = "Apelantul a apăsat tasta 0: vrea să vorbească cu cineva de la salon. Apelează transfer_to_human și urmează-i răspunsul.";
/// How long a tool may run in silence before the hold line is asked for: the caller has then
/// waited the turn's end (the VAD's silence) and this, about two seconds in all.
pub(crate) const HOLD_AFTER: Duration = Duration::from_millis(1_500);

/// How long the goodbye may take to play before the stream is closed anyway.
pub(crate) const GOODBYE_LIMIT: Duration = Duration::from_secs(15);
/// How long the Realtime API may take to confirm the session (`session.updated`).
pub(crate) const SESSION_LIMIT: Duration = Duration::from_secs(5);

/// What happened to the call, fed to [`Call::handle`].
#[derive(Debug)]
pub(crate) enum Input<'a> {
    /// A message from Twilio, parsed (audio and mark names borrowed from its text).
    Twilio(Inbound<'a>),
    /// Something from Twilio that is not a message the relay reads (a binary frame, text that
    /// did not parse or was too large): counted, logged rarely, never fatal.
    TwilioMalformed(&'static str),
    /// Twilio's socket closed or failed: the caller is gone.
    TwilioClosed,
    /// The Realtime connection asked for by [`Output::Connect`] is open.
    Connected,
    /// The Realtime API could not be reached within the connect budget.
    ConnectFailed,
    /// An event from the Realtime API, parsed (what does not parse is not fed).
    Realtime(ServerEvent<'a>),
    /// The Realtime connection closed or failed.
    RealtimeClosed,
    /// A tool call started by [`Output::Tool`] came back.
    Tool(ToolDone),
    /// The time [`Call::next_wake`] asked for has come.
    Timer,
    /// The relay reached its drain limit: the call should say goodbye.
    Shutdown,
    /// A write to this peer timed out (it stopped reading): the call ends.
    Stalled(Peer),
}

/// One of the call's two peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    Twilio,
    Realtime,
}

/// What the driver must do, in order.
#[derive(Debug, PartialEq)]
pub(crate) enum Output {
    /// Send Twilio this text, written in the call's outbox ([`Call::text`]).
    Twilio(Text),
    /// Send the Realtime API this text, written in the call's outbox ([`Call::text`]); dropped
    /// by the driver if the connection is gone.
    Realtime(Text),
    /// Run this tool at the functions and feed its result back as [`Input::Tool`].
    Tool(ToolCall),
    /// Drop any Realtime connection and open a new one; feed [`Input::Connected`] or
    /// [`Input::ConnectFailed`].
    Connect,
    /// The call is over: close the Realtime connection, post the summary (waiting for its
    /// answer), then close Twilio's socket if asked. Nothing follows it. Boxed: the summary is
    /// large and comes once, and every output of the call's reused list is as large as the
    /// largest variant.
    Finish(Box<Finish>),
}

/// A tool the model called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCall {
    /// The Realtime connection it was called on: its result is dropped after a reconnect.
    pub(crate) connection: u64,
    pub(crate) name: String,
    pub(crate) call_id: String,
    /// The model's arguments, a JSON string.
    pub(crate) arguments: String,
}

/// A tool call's result, tagged with the Realtime connection it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolDone {
    pub(crate) connection: u64,
    pub(crate) call_id: String,
    pub(crate) reply: ToolReply,
}

/// How the call ended and what to report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finish {
    pub(crate) outcome: CallOutcome,
    pub(crate) summary: CallSummary,
    /// Whether Twilio's socket is still worth closing (not after the caller hung up or it
    /// stopped reading).
    pub(crate) close_twilio: bool,
}

/// What a call needs to begin.
pub(crate) struct Setup {
    pub(crate) stream_sid: String,
    /// The session config from the functions.
    pub(crate) session: SessionConfig,
    /// The model and voice (the relay's own configuration).
    pub(crate) model: String,
    pub(crate) voice: String,
    pub(crate) mode: AudioMode,
    /// How the model decides the caller has finished speaking.
    pub(crate) turn_detection: TurnDetection,
    /// Caller silence before the check-in, then before the goodbye.
    pub(crate) silence: Duration,
    /// The longest call.
    pub(crate) max_call: Duration,
    pub(crate) metrics: Arc<Metrics>,
}

/// Where the call is with its Realtime connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The driver is opening a connection; `restoring` after a drop.
    Connecting { restoring: bool },
    /// `session.update` sent, waiting for `session.updated` until `until`.
    SettingUp { restoring: bool, until: Instant },
    /// The conversation is on.
    Live,
    /// [`Output::Finish`] was emitted: inputs are ignored.
    Finished,
}

/// The assistant audio item being played.
#[derive(Debug)]
struct Playing {
    item_id: String,
    /// Audio the model sent for it, in bytes of its output format.
    model_bytes: u64,
    /// Audio sent to Twilio for it, in μ-law bytes (8 a millisecond): bytes, not milliseconds,
    /// so a frame shorter than 20 ms counts exactly.
    sent_bytes: u64,
    /// Audio Twilio confirmed played (marks echoed), in μ-law bytes.
    played_bytes: u64,
}

/// The goodbye is playing: the call ends at its mark, or at `until` regardless.
#[derive(Debug)]
struct Ending {
    outcome: CallOutcome,
    /// The mark after the goodbye's last audio.
    mark: Mark,
    until: Instant,
}

/// What ends the handling of one input.
enum Flow {
    Continue,
    Done(CallOutcome),
}

/// One call's state, from the first connection to the summary.
pub(crate) struct Call {
    stream_sid: String,
    session: SessionConfig,
    model: String,
    voice: String,
    mode: AudioMode,
    turn_detection: TurnDetection,
    silence: Duration,
    metrics: Arc<Metrics>,
    phase: Phase,
    inbound: InboundAudio,
    outbound: OutboundAudio,
    /// Reused for every frame's base64 decoding.
    scratch: Vec<u8>,
    /// The texts of the outputs being performed, reused from one input to the next.
    outbox: Outbox,
    /// Bumped at every `clear`: marks from before it are stale.
    epoch: u64,
    mark_seq: u64,
    /// Marks sent and not yet echoed: the mark, and the played position (μ-law bytes) it
    /// confirms. Empty when Twilio has nothing left to play.
    marks: VecDeque<(Mark, u64)>,
    playing: Option<Playing>,
    /// An interrupted item whose further deltas are dropped.
    interrupted: Option<String>,
    /// A response is in progress at the model: no `response.create` until it is done.
    response_active: bool,
    tools_in_flight: usize,
    /// When to ask for the hold line if the tools in flight are still running then and the
    /// caller hears nothing; once per wait for tools.
    hold_at: Option<Instant>,
    /// Tool outputs were sent and await one `response.create`.
    outputs_pending_response: bool,
    /// The conversation as a new session needs it after a reconnect: lines, tool calls and
    /// their outputs, in order.
    history: Vec<Said>,
    /// The last `response.create` sent (its one-off line, if any), until the model starts it:
    /// if the model refuses it because its own response is active, it is asked again after.
    last_create: Option<Option<String>>,
    /// A refused `response.create` to send again once the active response is done.
    retry_create: Option<Option<String>>,
    /// Bumped at every (re)connection, so results for an old session are dropped.
    connection: u64,
    /// After the current response: end the call with this outcome.
    end_after_response: Option<CallOutcome>,
    /// The call id of a `transfer_to_human` at the functions, whose answer says whether a
    /// person can take the call.
    transfer_call: Option<String>,
    /// A person can take the call: once the agent has said so, the stream ends with a
    /// transfer (`stream-ended` then rings the salon).
    transferring: bool,
    /// A goodbye to ask for once no response is active.
    goodbye_pending: Option<(CallOutcome, &'static str)>,
    ending: Option<Ending>,
    /// The last sign of life (speech, a mark, a response or tool done): silence counts from it.
    last_activity: Instant,
    checked_in: bool,
    started: Instant,
    max_deadline: Instant,
    /// The maximum length was reached and the goodbye asked for.
    max_reached: bool,
    /// The drain limit was reached (the goodbye is asked for once the session is live).
    shutdown_requested: bool,
    usage: TokenUsage,
    transcript: Vec<TranscriptLine>,
    barge_ins: u32,
    reconnects: u32,
    /// Keeps malformed messages from Twilio to a few log lines per call.
    malformed_log: LogThrottle,
}

impl Call {
    /// Sets a call up at `now`; [`Self::start`] then asks for the first connection.
    pub(crate) fn new(setup: Setup, now: Instant) -> Self {
        Self {
            stream_sid: setup.stream_sid,
            session: setup.session,
            model: setup.model,
            voice: setup.voice,
            mode: setup.mode,
            turn_detection: setup.turn_detection,
            silence: setup.silence,
            metrics: setup.metrics,
            phase: Phase::Connecting { restoring: false },
            inbound: InboundAudio::new(setup.mode),
            outbound: OutboundAudio::new(setup.mode),
            // Room for a Twilio frame or a short delta decoded; a larger delta grows it once.
            scratch: Vec::with_capacity(1024),
            outbox: Outbox::new(),
            epoch: 0,
            mark_seq: 0,
            // A reply sent faster than it plays grows it once to the marks it needs.
            marks: VecDeque::with_capacity(16),
            playing: None,
            interrupted: None,
            response_active: false,
            tools_in_flight: 0,
            hold_at: None,
            outputs_pending_response: false,
            last_create: None,
            retry_create: None,
            history: Vec::new(),
            connection: 0,
            end_after_response: None,
            transfer_call: None,
            transferring: false,
            goodbye_pending: None,
            ending: None,
            last_activity: now,
            checked_in: false,
            started: now,
            max_deadline: now + setup.max_call,
            max_reached: false,
            shutdown_requested: false,
            usage: TokenUsage::default(),
            transcript: Vec::new(),
            barge_ins: 0,
            reconnects: 0,
            malformed_log: LogThrottle::new(LOG_PERIOD),
        }
    }

    /// Asks for the first Realtime connection.
    pub(crate) fn start(&mut self, out: &mut Vec<Output>) {
        self.phase = Phase::Connecting { restoring: false };
        out.push(Output::Connect);
    }

    /// Returns whether the conversation is on. Until it is (while a connection is opened and
    /// its session set up, at the start or after a drop), the driver holds tool results and
    /// the drain signal back; it still reads Twilio, the Realtime connection and the timer.
    pub(crate) fn live(&self) -> bool {
        self.phase == Phase::Live
    }

    /// Returns when the driver must feed [`Input::Timer`]: the session's set-up limit, the
    /// goodbye's limit, the maximum length or the silence limit, whichever is next and can
    /// change something; `None` when no timer is due.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        match self.phase {
            Phase::Connecting { .. } | Phase::Finished => None,
            Phase::SettingUp { until, .. } => Some(until),
            Phase::Live => {
                if let Some(ending) = &self.ending {
                    return Some(ending.until);
                }
                let max = if self.max_reached {
                    // The goodbye was asked for: only the hard stop remains.
                    self.max_deadline + GOODBYE_LIMIT
                } else {
                    self.max_deadline
                };
                let wake = if !self.max_reached && self.idle() && self.end_after_response.is_none()
                {
                    max.min(self.last_activity + self.silence)
                } else {
                    max
                };
                Some(self.hold_at.map_or(wake, |hold| wake.min(hold)))
            }
        }
    }

    /// The text a [`Output::Twilio`] or [`Output::Realtime`] carries.
    ///
    /// # Panics
    ///
    /// If the output was pushed before an earlier `handle` that started with `out` empty: its
    /// text's room has been reused since.
    pub(crate) fn text(&self, text: &Text) -> &str {
        self.outbox.get(text)
    }

    /// Handles one input that happened at `now`, pushing what to do onto `out`.
    ///
    /// The texts of the outputs already in `out` stay readable; when `out` is empty (the driver
    /// performed them all), their room is reused.
    pub(crate) fn handle(&mut self, input: Input<'_>, now: Instant, out: &mut Vec<Output>) {
        if out.is_empty() {
            self.outbox.next_batch();
        }
        let flow = match (self.phase, input) {
            (Phase::Finished, _) => Flow::Continue,
            (_, Input::Stalled(peer)) => {
                // Nothing more can reach a peer that stopped reading.
                let outcome = match peer {
                    // No `CallOutcome` says "stopped reading" (the wire crate's): to the caller
                    // it is a line gone dead, the nearest is a hang-up.
                    Peer::Twilio => CallOutcome::CallerHungUp,
                    Peer::Realtime => CallOutcome::UpstreamFailed,
                };
                tracing::warn!(?outcome, "a peer stopped reading: ending the call");
                Flow::Done(outcome)
            }
            (Phase::Connecting { restoring }, Input::Connected) => {
                self.connection += 1;
                self.phase = Phase::SettingUp {
                    restoring,
                    until: now + SESSION_LIMIT,
                };
                let update = openai::session_update(
                    &self.session,
                    self.mode,
                    self.turn_detection,
                    &self.model,
                    &self.voice,
                );
                self.send_up(out, ClientEvent::SessionUpdate(update));
                Flow::Continue
            }
            (Phase::Connecting { .. }, Input::ConnectFailed) => {
                self.count(&self.metrics.openai_errors);
                Flow::Done(CallOutcome::UpstreamFailed)
            }
            (Phase::SettingUp { restoring, .. }, Input::Realtime(event)) => {
                self.on_setting_up(restoring, event, out)
            }
            (Phase::SettingUp { until, .. }, Input::Timer) if now >= until => {
                self.count(&self.metrics.openai_errors);
                Flow::Done(CallOutcome::UpstreamFailed)
            }
            (Phase::SettingUp { .. }, Input::RealtimeClosed) => {
                self.count(&self.metrics.openai_errors);
                Flow::Done(CallOutcome::UpstreamFailed)
            }
            (Phase::Live, Input::Realtime(event)) => self.on_upstream(event, now, out),
            (Phase::Live, Input::RealtimeClosed) => {
                self.reconnect(out);
                Flow::Continue
            }
            (Phase::Live, Input::Timer) => self.on_timer(now, out),
            (_, Input::Twilio(msg)) => self.on_twilio(msg, now, out),
            (_, Input::TwilioMalformed(why)) => {
                self.malformed(why);
                Flow::Continue
            }
            (_, Input::TwilioClosed) => Flow::Done(CallOutcome::CallerHungUp),
            (_, Input::Tool(done)) => self.on_tool(done, now, out),
            (phase, Input::Shutdown) => {
                if !self.shutdown_requested {
                    self.shutdown_requested = true;
                    if phase == Phase::Live {
                        self.ask_goodbye(out, CallOutcome::Shutdown, GOODBYE_SHUTDOWN);
                    }
                }
                Flow::Continue
            }
            // Anything else does not apply in this phase (a timer before its time, a late
            // connection result).
            _ => Flow::Continue,
        };
        if let Flow::Done(outcome) = flow {
            self.finish(outcome, now, out);
        }
    }

    fn count(&self, c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends the model one event while a connection is open.
    fn send_up(&mut self, out: &mut Vec<Output>, event: ClientEvent) {
        if matches!(self.phase, Phase::SettingUp { .. } | Phase::Live) {
            out.push(Output::Realtime(self.outbox.event(event)));
        }
    }

    /// Asks for a response; with `turn`, a line of what to do now.
    ///
    /// A `response.create` with its own instructions runs under those alone, not the session's
    /// (the API's documented semantics): a bare line would greet, check in or say goodbye
    /// without the persona, the language rule and the tool rules. So the line is added to the
    /// session's instructions, never sent instead of them.
    fn respond(&mut self, out: &mut Vec<Output>, turn: Option<String>) {
        self.last_create = Some(turn.clone());
        let instructions = turn.map(|line| with_session_rules(&self.session.instructions, &line));
        self.send_up(out, ClientEvent::ResponseCreate { instructions });
        self.response_active = true;
    }

    /// Counts a malformed message from Twilio; logs the first, then at most one line per
    /// period with the count since.
    fn malformed(&self, why: &'static str) {
        self.count(&self.metrics.malformed_messages);
        if let Some(count) = self.malformed_log.hit() {
            tracing::warn!(
                why,
                count,
                "malformed Twilio messages (this reason is the latest)"
            );
        }
    }

    /// Waits for the session to be confirmed with the formats asked for; other events of the
    /// new session are ignored until then.
    fn on_setting_up(
        &mut self,
        restoring: bool,
        event: ServerEvent<'_>,
        out: &mut Vec<Output>,
    ) -> Flow {
        match event {
            ServerEvent::SessionUpdated {
                input_format,
                output_format,
            } => {
                if !openai::formats_match(input_format.as_ref(), output_format.as_ref(), self.mode)
                {
                    tracing::error!("session.updated does not echo the audio formats asked for");
                    self.count(&self.metrics.openai_errors);
                    return Flow::Done(CallOutcome::UpstreamFailed);
                }
                self.session_ready(restoring, out);
                Flow::Continue
            }
            ServerEvent::Error { code, message } => {
                tracing::error!(
                    code = code.as_deref().unwrap_or(""),
                    message = message.as_deref().unwrap_or(""),
                    "the Realtime API refused the session"
                );
                self.count(&self.metrics.openai_errors);
                Flow::Done(CallOutcome::UpstreamFailed)
            }
            _ => Flow::Continue,
        }
    }

    /// The session is set up: the agent greets first, or after a reconnect the conversation is
    /// replayed and the agent picks up where it was.
    fn session_ready(&mut self, restoring: bool, out: &mut Vec<Output>) {
        self.phase = Phase::Live;
        if restoring {
            for event in restore(&self.history) {
                self.send_up(out, event);
            }
            self.reconnects += 1;
            self.count(&self.metrics.openai_reconnects);
            if self.ending.is_none() {
                self.respond(out, Some(RESUME.to_owned()));
            }
        } else {
            let greet = format!(
                "Salută apelantul spunând exact: „{}”",
                self.session.greeting
            );
            self.respond(out, Some(greet));
        }
        if self.shutdown_requested {
            self.ask_goodbye(out, CallOutcome::Shutdown, GOODBYE_SHUTDOWN);
        }
    }

    /// Drops what belonged to the lost session and asks for a new connection.
    fn reconnect(&mut self, out: &mut Vec<Output>) {
        tracing::warn!("the Realtime connection dropped; reconnecting");
        // Whatever was in flight belonged to the old session.
        self.response_active = false;
        self.tools_in_flight = 0;
        self.hold_at = None;
        self.outputs_pending_response = false;
        self.interrupted = self.playing.as_ref().map(|p| p.item_id.clone());
        self.phase = Phase::Connecting { restoring: true };
        out.push(Output::Connect);
    }

    /// Nothing is happening: no response, no tool, no audio left to play.
    fn idle(&self) -> bool {
        !self.response_active
            && self.tools_in_flight == 0
            && self
                .playing
                .as_ref()
                .is_none_or(|p| p.played_bytes >= p.sent_bytes)
    }

    fn on_timer(&mut self, now: Instant, out: &mut Vec<Output>) -> Flow {
        if let Some(ending) = &self.ending {
            if now >= ending.until {
                return Flow::Done(ending.outcome);
            }
            return Flow::Continue;
        }
        if now >= self.max_deadline {
            // Past the limit by far (a goodbye that never came): end regardless.
            if now >= self.max_deadline + GOODBYE_LIMIT {
                return Flow::Done(CallOutcome::MaxLength);
            }
            if !self.max_reached {
                self.max_reached = true;
                if self.end_after_response.is_none() && self.goodbye_pending.is_none() {
                    self.ask_goodbye(out, CallOutcome::MaxLength, GOODBYE_MAX);
                }
            }
            return Flow::Continue;
        }
        if let Some(at) = self.hold_at
            && now >= at
        {
            self.hold_at = None;
            let asked_to_end = self.end_after_response.is_some() || self.goodbye_pending.is_some();
            if self.tools_in_flight > 0 && !asked_to_end {
                let quiet = !self.response_active
                    && self
                        .playing
                        .as_ref()
                        .is_none_or(|p| p.played_bytes >= p.sent_bytes);
                if quiet {
                    self.respond(out, Some(HOLD.to_owned()));
                } else {
                    // The caller hears the agent now: look again once that may be over.
                    self.hold_at = Some(now + HOLD_AFTER);
                }
            }
        }
        if self.idle()
            && now >= self.last_activity + self.silence
            && self.end_after_response.is_none()
        {
            self.last_activity = now;
            if !self.checked_in {
                self.checked_in = true;
                self.respond(out, Some(CHECK_IN.to_owned()));
            } else {
                self.ask_goodbye(out, CallOutcome::Silence, GOODBYE_SILENCE);
            }
        }
        Flow::Continue
    }

    /// Asks the agent for a goodbye now, or once the current response is done and every tool
    /// in flight has been answered and its answer spoken: a booking made as the drain or the
    /// maximum length comes is confirmed to the caller before the goodbye, never left unsaid.
    fn ask_goodbye(
        &mut self,
        out: &mut Vec<Output>,
        outcome: CallOutcome,
        instructions: &'static str,
    ) {
        if self.ending.is_some() {
            return;
        }
        self.goodbye_pending = Some((outcome, instructions));
        self.goodbye_if_due(out);
    }

    /// Asks for the pending goodbye if nothing is left to say first.
    fn goodbye_if_due(&mut self, out: &mut Vec<Output>) {
        if self.response_active || self.tools_in_flight > 0 || self.outputs_pending_response {
            return;
        }
        if let Some((outcome, instructions)) = self.goodbye_pending.take() {
            self.respond(out, Some(instructions.to_owned()));
            self.end_after_response = Some(outcome);
        }
    }

    fn on_twilio(&mut self, msg: Inbound<'_>, now: Instant, out: &mut Vec<Output>) -> Flow {
        match msg {
            Inbound::Media { media } => {
                self.count(&self.metrics.frames_in);
                self.scratch.clear();
                if B64
                    .decode_vec(media.payload.as_bytes(), &mut self.scratch)
                    .is_err()
                {
                    self.malformed("media that is not base64");
                    return Flow::Continue;
                }
                // Until the session is live there is no one to hear it.
                if self.live() {
                    let audio = self.inbound.process(&self.scratch);
                    out.push(Output::Realtime(self.outbox.append(audio)));
                }
                Flow::Continue
            }
            Inbound::Mark { mark } => {
                let flow = self.on_mark(&mark.name, now);
                // Twilio has played everything: what is ready of the next frame goes now.
                if matches!(flow, Flow::Continue) {
                    self.pump(false, out);
                }
                flow
            }
            Inbound::Stop { .. } => Flow::Done(CallOutcome::CallerHungUp),
            Inbound::Dtmf { dtmf } => {
                // The digit is the caller's (it may be part of a number): log only what it did.
                if dtmf.digit == "0"
                    && self.live()
                    && self.ending.is_none()
                    && self.end_after_response.is_none()
                {
                    tracing::info!(action = "asks_for_a_person", "a key was pressed");
                    self.respond(out, Some(KEYPAD_PERSON.to_owned()));
                } else {
                    tracing::info!(action = "none", "a key was pressed");
                }
                Flow::Continue
            }
            Inbound::Connected { .. } | Inbound::Start { .. } => Flow::Continue,
        }
    }

    fn on_mark(&mut self, name: &str, now: Instant) -> Flow {
        let epoch = name.split('-').next().and_then(|e| e.parse::<u64>().ok());
        if epoch != Some(self.epoch) {
            // Echoes of audio dropped by a `clear`.
            return Flow::Continue;
        }
        self.last_activity = now;
        while let Some((mark, played)) = self.marks.pop_front() {
            if let Some(p) = self.playing.as_mut() {
                p.played_bytes = p.played_bytes.max(played);
            }
            if mark.is_named(name) {
                break;
            }
        }
        if let Some(ending) = &self.ending
            && ending.mark.is_named(name)
        {
            return Flow::Done(ending.outcome);
        }
        Flow::Continue
    }

    /// Sends Twilio the audio queued for it, each frame followed by its mark: every whole
    /// 20 ms frame; at the end of an item (`flush`) the rest too, padded to a whole frame; and,
    /// when Twilio has played everything sent (a reply's first delta, or audio that came slower
    /// than it plays), the part of a frame that is ready, unpadded, so the caller does not wait
    /// for a whole one. Whole frames follow it as before.
    fn pump(&mut self, flush: bool, out: &mut Vec<Output>) {
        loop {
            let chunk = if flush {
                self.outbound.flush()
            } else {
                self.outbound.next_chunk()
            };
            let Some(chunk) = chunk else { break };
            let len = chunk.len();
            let media = self.outbox.media(&self.stream_sid, chunk);
            self.sent_frame(media, len, out);
        }
        let twilio_idle = self.marks.is_empty()
            && self
                .playing
                .as_ref()
                .is_some_and(|p| self.interrupted.as_ref() != Some(&p.item_id));
        if !flush
            && twilio_idle
            && let Some(part) = self.outbound.take_partial()
        {
            let len = part.len();
            let media = self.outbox.media(&self.stream_sid, part);
            self.sent_frame(media, len, out);
        }
    }

    /// Accounts for a frame of `len` μ-law bytes written as `media`, and sends it with its mark.
    fn sent_frame(&mut self, media: Text, len: usize, out: &mut Vec<Output>) {
        out.push(Output::Twilio(media));
        self.count(&self.metrics.frames_out);
        let sent = match self.playing.as_mut() {
            Some(p) => {
                p.sent_bytes += len as u64;
                p.sent_bytes
            }
            None => 0,
        };
        self.mark_seq += 1;
        let mark = Mark::Frame {
            epoch: self.epoch,
            seq: self.mark_seq,
        };
        self.marks.push_back((mark, sent));
        out.push(Output::Twilio(self.outbox.mark(&self.stream_sid, mark)));
    }

    fn model_ms(&self, p: &Playing) -> u64 {
        match self.mode {
            AudioMode::Pcmu => p.model_bytes / 8,
            AudioMode::Pcm24 => p.model_bytes / 48,
        }
    }

    /// The caller spoke over the agent: stop the audio, tell the model what was heard.
    fn barge_in(&mut self, out: &mut Vec<Output>) {
        let Some(p) = self.playing.take() else { return };
        let playing = p.sent_bytes > p.played_bytes || self.response_active;
        if !playing {
            self.playing = Some(p);
            return;
        }
        // Interrupting the goodbye ("wait, one more thing"): its end mark will never come back
        // (the clear drops it). The caller's question is answered, and the call ends after
        // that answer has played, with the outcome the goodbye had.
        if let Some(ending) = self.ending.take() {
            self.end_after_response = Some(ending.outcome);
        }
        out.push(Output::Twilio(self.outbox.clear(&self.stream_sid)));
        self.epoch += 1;
        self.marks.clear();
        self.outbound.clear();
        // What the caller heard: confirmed by marks, never more than the model sent.
        let heard = (p.played_bytes / BYTES_PER_MS).min(self.model_ms(&p));
        self.send_up(
            out,
            ClientEvent::Truncate {
                item_id: p.item_id.clone(),
                audio_end_ms: heard,
            },
        );
        tracing::info!(
            heard_ms = heard,
            sent_ms = p.sent_bytes / BYTES_PER_MS,
            "barge-in"
        );
        self.interrupted = Some(p.item_id);
        self.barge_ins += 1;
        self.count(&self.metrics.barge_ins);
    }

    /// Lets the goodbye play out, then ends: waits for the mark after the last audio.
    fn begin_ending(&mut self, outcome: CallOutcome, now: Instant, out: &mut Vec<Output>) -> Flow {
        self.pump(true, out);
        let unplayed = self
            .playing
            .as_ref()
            .is_some_and(|p| p.sent_bytes > p.played_bytes);
        if !unplayed {
            return Flow::Done(outcome);
        }
        let mark = Mark::End { epoch: self.epoch };
        self.marks
            .push_back((mark, self.playing.as_ref().map_or(0, |p| p.sent_bytes)));
        out.push(Output::Twilio(self.outbox.mark(&self.stream_sid, mark)));
        self.ending = Some(Ending {
            outcome,
            mark,
            until: now + GOODBYE_LIMIT,
        });
        Flow::Continue
    }

    /// Ends the call: the summary to post, and whether Twilio's socket is to be closed.
    fn finish(&mut self, outcome: CallOutcome, now: Instant, out: &mut Vec<Output>) {
        self.phase = Phase::Finished;
        let unreported = self.malformed_log.take_unreported();
        if unreported > 0 {
            tracing::warn!(
                count = unreported,
                "malformed Twilio messages since the last report"
            );
        }
        let summary = CallSummary {
            outcome,
            stream_seconds: now.saturating_duration_since(self.started).as_secs() as u32,
            usage: self.usage,
            barge_ins: self.barge_ins,
            reconnects: self.reconnects,
            transcript: std::mem::take(&mut self.transcript),
        };
        out.push(Output::Finish(Box::new(Finish {
            outcome,
            summary,
            close_twilio: outcome != CallOutcome::CallerHungUp,
        })));
    }
}

/// The instructions of a one-off turn: the session's rules, then what to do now.
pub(crate) fn with_session_rules(session: &str, line: &str) -> String {
    format!("{session}\n\n# Acum\n- {line}")
}
