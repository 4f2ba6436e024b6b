//! One Realtime session, sans I/O: client events in, server events out.
//!
//! The server loop feeds [`Connection::on_event`] with each client event and calls
//! [`Connection::step`] whenever [`Connection::next_due`] says the response in progress has its
//! next piece ready; both push [`Output`]s for the loop to send. Keeping the protocol here and
//! the socket in `server.rs` lets the protocol be read (and reasoned about) in one place.

use crate::audio::AudioFormat;
use crate::items::normalize_item;
use crate::protocol::{ApiError, Fields};
use crate::script::{Call, DropWhen};
use crate::server::{ScriptCursor, Shared};
use crate::session::{Session, parse_format};
use crate::vad::{InputTimeline, VadEvent};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use salon_wire::clock::{Clock, SystemClock};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Client event types the GA interface defines.
const CLIENT_EVENTS: &[&str] = &[
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
];

/// What the server loop must do next.
#[derive(Debug)]
pub(crate) enum Output {
    /// Send this server event.
    Event(Value),
    /// Close the TCP connection without a close frame (a scripted drop).
    Drop,
}

/// A conversation item and, for assistant audio, how much of it was sent.
#[derive(Debug)]
struct Item {
    /// The item's id.
    id: String,
    /// The item as the server last described it.
    json: Value,
    /// Milliseconds of audio sent for an assistant audio item (lowered by a truncation).
    audio_ms: Option<f64>,
}

/// The response being generated.
#[derive(Debug)]
struct Active {
    /// `resp_…`.
    id: String,
    /// The conversation it writes to, `None` for an out-of-band response.
    conversation_id: Option<String>,
    /// The `response` object as `response.created` showed it.
    base: Value,
    /// The audio format of this response's deltas.
    format: AudioFormat,
    /// What is left to send.
    steps: VecDeque<Step>,
    /// Output items so far, as `response.done` will list them.
    output: Vec<Value>,
    /// The speech item while it is open.
    message: Option<OpenMessage>,
    /// The scripted calls, emitted after the speech.
    calls: Vec<Call>,
    /// When generation began, the origin for pacing.
    started: Instant,
    /// Audio sent by this response so far, in milliseconds.
    audio_ms: f64,
    /// Closes the connection after `response.done`.
    drop_after: bool,
    /// Output text tokens, for the usage numbers.
    text_tokens: u64,
}

/// The assistant message item of the active response.
#[derive(Debug)]
struct OpenMessage {
    /// Its item id.
    item_id: String,
    /// Its index in the response's output.
    output_index: usize,
    /// The transcript sent so far.
    transcript: String,
}

/// One piece of a response, sent in order.
#[derive(Debug)]
enum Step {
    /// Open the speech item and its audio part.
    OpenMessage,
    /// A transcript delta (a word and its trailing space).
    Transcript(String),
    /// An audio delta.
    Audio(Vec<u8>),
    /// Close the speech item.
    CloseMessage,
    /// The i-th scripted call, all its events at once.
    Call(usize),
    /// `response.done`.
    Done,
}

/// Why a response was cancelled, as `status_details.reason` says it.
#[derive(Clone, Copy, Debug)]
enum CancelReason {
    TurnDetected,
    ClientCancelled,
}

/// One connection's session, conversation and response in progress.
pub(crate) struct Connection {
    /// Script, ids, options and audio shared with the other connections.
    shared: Arc<Shared>,
    /// This connection's number (the order upgrades were accepted), for the tap.
    id: u64,
    /// This connection's own copy of the script, when each connection plays it whole.
    own_script: Option<ScriptCursor>,
    /// The session configuration.
    session: Session,
    /// The default conversation's id.
    conversation_id: String,
    /// The conversation, in order.
    items: Vec<Item>,
    /// Input audio clock and voice activity detector.
    input: InputTimeline,
    /// Item id announced by `speech_started` for the turn in progress.
    turn_item: Option<String>,
    /// `audio_start_ms` of the turn in progress.
    turn_start_ms: u64,
    /// The response being generated, if any.
    active: Option<Active>,
    /// The model has spoken: the voice can no longer change.
    spoken: bool,
    /// Input clock time from which the idle timeout counts (the end of the model's last audio).
    idle_from_ms: Option<f64>,
    /// Input audio committed so far, in milliseconds, for the usage numbers.
    user_audio_ms: f64,
    /// Reused buffer for the detector's events.
    vad_events: Vec<VadEvent>,
    /// A scripted drop was issued: nothing more happens on this connection.
    dropped: bool,
    /// Function outputs the client added since the last response started (asides look at them).
    outputs: Vec<String>,
    /// The session has been updated once: [`crate::Scripts`] chooses only on the first.
    scripted: bool,
}

impl Connection {
    /// Creates the session for a connection that asked for `model`.
    pub fn new(shared: Arc<Shared>, model: String, id: u64) -> Connection {
        // OpenAI stamps a session with its own (real) time.
        let now = u64::try_from(SystemClock.now().as_second()).unwrap_or(0);
        let session = Session::new(shared.ids.make("sess"), model, now);
        let conversation_id = shared.ids.make("conv");
        let own_script = shared
            .options
            .script_per_connection
            .then(|| crate::server::lock(&shared.script).fresh_repeating());
        Connection {
            shared,
            id,
            own_script,
            session,
            conversation_id,
            items: Vec::new(),
            input: InputTimeline::default(),
            turn_item: None,
            turn_start_ms: 0,
            active: None,
            spoken: false,
            idle_from_ms: None,
            user_audio_ms: 0.0,
            vad_events: Vec::new(),
            dropped: false,
            outputs: Vec::new(),
            scripted: false,
        }
    }

    /// Greets the client with `session.created`.
    pub fn open(&mut self, out: &mut Vec<Output>) {
        let session = self.session.to_json();
        self.emit(out, json!({"type": "session.created", "session": session}));
    }

    /// Returns when the response in progress has its next piece ready, if there is one.
    pub fn next_due(&self) -> Option<Instant> {
        if self.dropped {
            return None;
        }
        let active = self.active.as_ref()?;
        let step = active.steps.front()?;
        match (step, self.shared.options.speed) {
            (Step::Audio(_), Some(speed)) if speed > 0.0 => {
                Some(active.started + Duration::from_secs_f64(active.audio_ms / 1000.0 / speed))
            }
            _ => Some(active.started),
        }
    }

    /// Sends the next piece of the response in progress.
    pub fn step(&mut self, out: &mut Vec<Output>) {
        let Some(step) = self.active.as_mut().and_then(|a| a.steps.pop_front()) else {
            return;
        };
        match step {
            Step::OpenMessage => self.open_message(out),
            Step::Transcript(word) => self.transcript_delta(word, out),
            Step::Audio(chunk) => self.audio_delta(chunk, out),
            Step::CloseMessage => self.close_message("completed", out),
            Step::Call(index) => self.call(index, out),
            Step::Done => self.finish("completed", None, out),
        }
    }

    /// Answers a binary frame: the API speaks JSON text frames only.
    pub fn on_binary(&mut self, out: &mut Vec<Output>) {
        let error = ApiError::new(
            "invalid_json",
            "Binary frames are not supported; send client events as JSON text.",
        );
        self.error(out, error, None);
    }

    /// Handles one client event.
    pub fn on_event(&mut self, event: Value, out: &mut Vec<Output>) {
        if self.dropped {
            return;
        }
        let client_event_id = event
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Err(error) = self.dispatch(&event, out) {
            self.error(out, error, client_event_id.as_deref());
        }
    }

    fn dispatch(&mut self, event: &Value, out: &mut Vec<Output>) -> Result<(), ApiError> {
        if !event.is_object() {
            return Err(ApiError::new(
                "invalid_json",
                "The server could not parse the event as a JSON object.",
            ));
        }
        let kind = match event.get("type") {
            None => return Err(ApiError::missing("type")),
            Some(Value::String(kind)) => kind.as_str(),
            Some(other) => return Err(ApiError::invalid_type("type", "a string", other)),
        };
        let keys: &[&str] = match kind {
            "session.update" => &["type", "event_id", "session"],
            "input_audio_buffer.append" => &["type", "event_id", "audio"],
            "conversation.item.create" => &["type", "event_id", "previous_item_id", "item"],
            "conversation.item.truncate" => &[
                "type",
                "event_id",
                "item_id",
                "content_index",
                "audio_end_ms",
            ],
            "conversation.item.delete" | "conversation.item.retrieve" => {
                &["type", "event_id", "item_id"]
            }
            "response.create" => &["type", "event_id", "response"],
            "response.cancel" => &["type", "event_id", "response_id"],
            _ if CLIENT_EVENTS.contains(&kind) => &["type", "event_id"],
            _ => return Err(ApiError::invalid_value("type", kind, CLIENT_EVENTS)),
        };
        let f = Fields::new(event, "", keys)?;
        f.str("event_id")?;
        match kind {
            "session.update" => self.session_update(&f, out),
            "input_audio_buffer.append" => self.append(&f, out),
            "input_audio_buffer.commit" => self.manual_commit(out),
            "input_audio_buffer.clear" => {
                self.input.reset_buffer();
                self.turn_item = None;
                self.emit(out, json!({"type": "input_audio_buffer.cleared"}));
                Ok(())
            }
            "conversation.item.create" => self.item_create(&f, out),
            "conversation.item.retrieve" => self.item_retrieve(&f, out),
            "conversation.item.truncate" => self.truncate(&f, out),
            "conversation.item.delete" => self.item_delete(&f, out),
            "response.create" => self.response_create(&f, out),
            "response.cancel" => self.response_cancel(&f, out),
            _ => Err(ApiError::new(
                "invalid_value",
                "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
            )
            .with_param("type")),
        }
    }

    fn session_update(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let update = f
            .raw("session")
            .ok_or_else(|| ApiError::missing("session"))?;
        let vad_was_on = self.session.turn_detection.is_some();
        self.session.apply_update(update, self.spoken)?;
        if vad_was_on != self.session.turn_detection.is_some() {
            self.turn_item = None;
            self.input.reset_buffer();
        }
        if let Some(tap) = &self.shared.options.tap {
            tap.session(self.id, &self.session.instructions);
        }
        if !std::mem::replace(&mut self.scripted, true)
            && let Some(scripts) = &self.shared.options.scripts
            && let Some(script) = scripts.script(self.id, &self.session.instructions)
        {
            self.own_script = Some(ScriptCursor::once(script));
        }
        let session = self.session.to_json();
        self.emit(out, json!({"type": "session.updated", "session": session}));
        Ok(())
    }

    fn append(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let audio = f.required_str("audio")?;
        let bytes = BASE64.decode(audio).map_err(|_| {
            ApiError::new(
                "invalid_value",
                "Invalid 'audio'. Expected base64-encoded audio bytes.",
            )
            .with_param("audio")
        })?;
        if let Some(tap) = &self.shared.options.tap {
            tap.input_audio(self.id, self.session.input_format, &bytes, Instant::now());
        }
        let settings = self
            .session
            .turn_detection
            .as_ref()
            .map(|t| t.vad_settings(self.shared.options.vad_rms_threshold));
        let mut events = std::mem::take(&mut self.vad_events);
        self.input
            .push(self.session.input_format, &bytes, settings, &mut events);
        for event in events.drain(..) {
            if self.dropped {
                continue;
            }
            match event {
                VadEvent::Started { audio_start_ms } => self.speech_started(audio_start_ms, out),
                VadEvent::Stopped { audio_end_ms } => self.speech_stopped(audio_end_ms, out),
            }
        }
        self.vad_events = events;
        if !self.dropped {
            self.check_idle(out);
        }
        Ok(())
    }

    fn speech_started(&mut self, audio_start_ms: u64, out: &mut Vec<Output>) {
        let item_id = self.shared.ids.make("item");
        self.turn_item = Some(item_id.clone());
        self.turn_start_ms = audio_start_ms;
        self.idle_from_ms = None;
        self.emit(
            out,
            json!({"type": "input_audio_buffer.speech_started",
                   "audio_start_ms": audio_start_ms, "item_id": item_id}),
        );
        let interrupt = self
            .session
            .turn_detection
            .as_ref()
            .is_some_and(|t| t.interrupt_response);
        if interrupt && self.active.is_some() {
            self.cancel(CancelReason::TurnDetected, out);
        }
    }

    fn speech_stopped(&mut self, audio_end_ms: u64, out: &mut Vec<Output>) {
        let item_id = self
            .turn_item
            .take()
            .unwrap_or_else(|| self.shared.ids.make("item"));
        self.emit(
            out,
            json!({"type": "input_audio_buffer.speech_stopped",
                   "audio_end_ms": audio_end_ms, "item_id": item_id}),
        );
        let transcript = self.script(ScriptCursor::next_transcript);
        let turn_ms = audio_end_ms.saturating_sub(self.turn_start_ms) as f64;
        self.commit(item_id, Some(transcript), turn_ms, out);
        let create = self
            .session
            .turn_detection
            .as_ref()
            .is_some_and(|t| t.create_response);
        // With interrupt_response off the model may still be talking; then no new response.
        if create && self.active.is_none() {
            self.start_response(None, out);
        }
    }

    fn check_idle(&mut self, out: &mut Vec<Output>) {
        let Some(timeout) = self
            .session
            .turn_detection
            .as_ref()
            .and_then(|t| t.idle_timeout_ms)
        else {
            return;
        };
        let Some(from) = self.idle_from_ms else {
            return;
        };
        let now = self.input.position_ms();
        if self.active.is_some() || self.input.speaking() || now - from < f64::from(timeout) {
            return;
        }
        self.idle_from_ms = None;
        let item_id = self
            .turn_item
            .take()
            .unwrap_or_else(|| self.shared.ids.make("item"));
        self.emit(
            out,
            json!({"type": "input_audio_buffer.timeout_triggered",
                   "audio_start_ms": from.round() as u64, "audio_end_ms": now.round() as u64,
                   "item_id": item_id}),
        );
        // The silent audio becomes a user item with nothing to transcribe; no script turn used.
        let buffered = self.input.buffered_ms();
        self.input.reset_buffer();
        self.commit(item_id, None, buffered, out);
        self.start_response(None, out);
    }

    fn manual_commit(&mut self, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let buffered = self.input.buffered_ms();
        if buffered < 100.0 {
            return Err(ApiError::new(
                "input_audio_buffer_commit_empty",
                format!(
                    "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {buffered:.2}ms of audio."
                ),
            ));
        }
        let item_id = self
            .turn_item
            .take()
            .unwrap_or_else(|| self.shared.ids.make("item"));
        let transcript = self.script(ScriptCursor::next_transcript);
        self.input.reset_buffer();
        self.commit(item_id, Some(transcript), buffered, out);
        Ok(())
    }

    /// Commits `audio_ms` of input audio as a user audio item; `transcript` is the script's
    /// line for it. The detector has already moved the buffer start for a VAD turn; a client
    /// commit or an idle timeout restarts detection here.
    fn commit(
        &mut self,
        item_id: String,
        transcript: Option<String>,
        audio_ms: f64,
        out: &mut Vec<Output>,
    ) {
        self.user_audio_ms += audio_ms;
        let previous = self.last_item_id();
        self.emit(
            out,
            json!({"type": "input_audio_buffer.committed",
                   "item_id": item_id, "previous_item_id": previous}),
        );
        let item = json!({
            "id": item_id, "type": "message", "object": "realtime.item", "status": "completed",
            "role": "user", "content": [{"type": "input_audio", "transcript": null}],
        });
        self.items.push(Item {
            id: item_id.clone(),
            json: item.clone(),
            audio_ms: None,
        });
        self.emit(
            out,
            json!({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
        );
        self.emit(
            out,
            json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}),
        );
        let Some(transcription) = self.session.transcription.clone() else {
            return;
        };
        let transcript = transcript.unwrap_or_default();
        if let Some(stored) = self.items.iter_mut().find(|i| i.id == item_id) {
            stored.json["content"][0]["transcript"] = json!(transcript);
        }
        let usage = if transcription.get("model").and_then(Value::as_str) == Some("whisper-1") {
            json!({"type": "duration", "seconds": (audio_ms / 100.0).round() / 10.0})
        } else {
            let audio_tokens = (audio_ms / 100.0).ceil() as u64;
            let text_tokens = transcript.split_whitespace().count() as u64 + 1;
            json!({"type": "tokens", "input_tokens": audio_tokens, "output_tokens": text_tokens,
                   "total_tokens": audio_tokens + text_tokens,
                   "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0}})
        };
        self.emit(
            out,
            json!({"type": "conversation.item.input_audio_transcription.completed",
                   "item_id": item_id, "content_index": 0, "transcript": transcript,
                   "usage": usage}),
        );
    }

    fn item_create(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let item = f.raw("item").ok_or_else(|| ApiError::missing("item"))?;
        let item = normalize_item(item, &self.shared.ids)?;
        let id = item["id"].as_str().unwrap_or_default().to_string();
        if self.items.iter().any(|i| i.id == id) {
            return Err(ApiError::new(
                "invalid_value",
                format!("Item with id '{id}' already exists in the conversation."),
            )
            .with_param("item.id"));
        }
        let position = match f.str("previous_item_id")? {
            None => self.items.len(),
            Some("root") => 0,
            Some(previous) => {
                self.items
                    .iter()
                    .position(|i| i.id == previous)
                    .ok_or_else(|| {
                        ApiError::new(
                            "invalid_value",
                            format!("Previous item with id '{previous}' not found."),
                        )
                        .with_param("previous_item_id")
                    })?
                    + 1
            }
        };
        if item["type"] == "function_call_output" {
            let output = item["output"].as_str().unwrap_or_default();
            if let Some(tap) = &self.shared.options.tap {
                tap.function_output(
                    self.id,
                    item["call_id"].as_str().unwrap_or_default(),
                    output,
                );
            }
            self.outputs.push(output.to_owned());
        }
        let previous = position.checked_sub(1).map(|i| self.items[i].id.clone());
        self.items.insert(
            position,
            Item {
                id,
                json: item.clone(),
                audio_ms: None,
            },
        );
        self.emit(
            out,
            json!({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
        );
        self.emit(
            out,
            json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}),
        );
        Ok(())
    }

    fn find_item(&self, f: &Fields<'_>) -> Result<usize, ApiError> {
        let item_id = f.required_str("item_id")?;
        self.items
            .iter()
            .position(|i| i.id == item_id)
            .ok_or_else(|| {
                ApiError::new(
                    "invalid_value",
                    format!("Conversation item with id '{item_id}' not found."),
                )
                .with_param("item_id")
            })
    }

    fn item_retrieve(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let index = self.find_item(f)?;
        let item = self.items[index].json.clone();
        self.emit(
            out,
            json!({"type": "conversation.item.retrieved", "item": item}),
        );
        Ok(())
    }

    fn item_delete(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let index = self.find_item(f)?;
        let item = self.items.remove(index);
        self.emit(
            out,
            json!({"type": "conversation.item.deleted", "item_id": item.id}),
        );
        Ok(())
    }

    fn truncate(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let content_index = f
            .uint("content_index")?
            .ok_or_else(|| ApiError::missing("content_index"))?;
        let audio_end_ms = f
            .uint("audio_end_ms")?
            .ok_or_else(|| ApiError::missing("audio_end_ms"))?;
        let index = self.find_item(f)?;
        let item = &mut self.items[index];
        let Some(sent_ms) = item.audio_ms else {
            return Err(ApiError::new(
                "invalid_value",
                "Only model output audio messages can be truncated.",
            )
            .with_param("item_id"));
        };
        if content_index != 0 {
            return Err(ApiError::new(
                "invalid_value",
                format!("Content index {content_index} is not an audio content part of the item."),
            )
            .with_param("content_index"));
        }
        if audio_end_ms as f64 > sent_ms {
            return Err(ApiError::new(
                "invalid_value",
                format!(
                    "Audio content of {}ms is already shorter than {audio_end_ms}ms (audio_end_ms exceeds the audio sent).",
                    sent_ms.floor()
                ),
            )
            .with_param("audio_end_ms"));
        }
        // As on the real API, the transcript goes: the server cannot know what was heard.
        item.audio_ms = Some(audio_end_ms as f64);
        if let Some(part) = item.json["content"].get_mut(0) {
            part["transcript"] = json!("");
        }
        let item_id = item.id.clone();
        self.emit(
            out,
            json!({"type": "conversation.item.truncated", "item_id": item_id,
                   "content_index": content_index, "audio_end_ms": audio_end_ms}),
        );
        Ok(())
    }

    fn response_create(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        if let Some(active) = &self.active {
            return Err(ApiError::new(
                "conversation_already_has_active_response",
                format!(
                    "Conversation already has an active response in progress: {}. Wait until the response is finished before creating a new one.",
                    active.id
                ),
            ));
        }
        let params = match f.raw("response") {
            None | Some(Value::Null) => None,
            Some(params) => Some(check_response_params(params)?),
        };
        self.start_response(params, out);
        Ok(())
    }

    fn response_cancel(&mut self, f: &Fields<'_>, out: &mut Vec<Output>) -> Result<(), ApiError> {
        let wanted = f.str("response_id")?;
        let matches = match (&self.active, wanted) {
            (Some(active), Some(id)) => active.id == id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !matches {
            return Err(ApiError::new(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
            ));
        }
        self.cancel(CancelReason::ClientCancelled, out);
        Ok(())
    }

    /// Starts the next scripted response (`params`: the checked `response` of `response.create`).
    fn start_response(&mut self, params: Option<Value>, out: &mut Vec<Output>) {
        let own = params
            .as_ref()
            .and_then(|p| p.get("instructions"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let outputs = std::mem::take(&mut self.outputs);
        let scripted = self.script(|cursor| cursor.response_for(own.as_deref(), &outputs));
        if scripted.drop == Some(DropWhen::Before) {
            self.dropped = true;
            out.push(Output::Drop);
            return;
        }
        let params = params.unwrap_or_else(|| json!({}));
        // Per-response instructions replace the session's for this response only (the
        // `openai` package's `ResponseCreateEvent`): record what this one ran under.
        let instructions = params
            .get("instructions")
            .and_then(Value::as_str)
            .unwrap_or(&self.session.instructions)
            .to_owned();
        crate::server::lock(&self.shared.ran_under).push(instructions);
        let format = params
            .pointer("/audio/output/format")
            .and_then(|f| parse_format(f, "response.audio.output.format").ok())
            .unwrap_or(self.session.output_format);
        let voice = params
            .pointer("/audio/output/voice")
            .cloned()
            .unwrap_or_else(|| self.session.voice.clone());
        let out_of_band = params.get("conversation").and_then(Value::as_str) == Some("none");
        let conversation_id = (!out_of_band).then(|| self.conversation_id.clone());
        let id = self.shared.ids.make("resp");
        let base = json!({
            "object": "realtime.response",
            "id": id,
            "status": "in_progress",
            "status_details": null,
            "output": [],
            "conversation_id": conversation_id,
            "output_modalities": params.get("output_modalities").unwrap_or(&self.session.output_modalities),
            "max_output_tokens": params.get("max_output_tokens").unwrap_or(&self.session.max_output_tokens),
            "audio": {"output": {"format": format.to_json(), "voice": voice}},
            "usage": null,
            "metadata": params.get("metadata").cloned().unwrap_or(Value::Null),
        });
        self.emit(out, json!({"type": "response.created", "response": base}));

        let mut steps = VecDeque::new();
        if let Some(say) = &scripted.say {
            match self.shared.speech(say, format) {
                Ok(audio) => plan_speech(
                    &say.text,
                    audio.as_slice(),
                    format,
                    &self.shared.options.delta_ms,
                    &mut steps,
                ),
                Err(error) => {
                    tracing::error!(%error, "scripted audio missing");
                    let error = ApiError {
                        kind: "server_error",
                        code: None,
                        message: format!("The double could not read its audio: {error}"),
                        param: None,
                    };
                    self.error(out, error, None);
                }
            }
        }
        steps.extend((0..scripted.calls.len()).map(Step::Call));
        steps.push_back(Step::Done);
        self.active = Some(Active {
            id,
            conversation_id,
            base,
            format,
            steps,
            output: Vec::new(),
            message: None,
            calls: scripted.calls,
            started: Instant::now(),
            audio_ms: 0.0,
            drop_after: scripted.drop == Some(DropWhen::After),
            text_tokens: 0,
        });
    }

    fn open_message(&mut self, out: &mut Vec<Output>) {
        let item_id = self.shared.ids.make("item");
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let output_index = active.output.len();
        let item = json!({"id": item_id, "type": "message", "object": "realtime.item",
                          "status": "in_progress", "role": "assistant", "content": []});
        active.output.push(item.clone());
        active.message = Some(OpenMessage {
            item_id: item_id.clone(),
            output_index,
            transcript: String::new(),
        });
        let response_id = active.id.clone();
        let in_conversation = active.conversation_id.is_some();
        self.emit(
            out,
            json!({"type": "response.output_item.added", "response_id": response_id,
                   "output_index": output_index, "item": item}),
        );
        if in_conversation {
            self.add_to_conversation(item_id.clone(), item, Some(0.0), out);
        }
        self.emit(
            out,
            json!({"type": "response.content_part.added", "response_id": response_id,
                   "item_id": item_id, "output_index": output_index, "content_index": 0,
                   "part": {"type": "audio", "transcript": ""}}),
        );
    }

    fn transcript_delta(&mut self, word: String, out: &mut Vec<Output>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(message) = active.message.as_mut() else {
            return;
        };
        message.transcript.push_str(&word);
        active.text_tokens += 1;
        let event = json!({"type": "response.output_audio_transcript.delta",
                           "response_id": active.id, "item_id": message.item_id,
                           "output_index": message.output_index, "content_index": 0,
                           "delta": word});
        self.emit(out, event);
    }

    fn audio_delta(&mut self, chunk: Vec<u8>, out: &mut Vec<Output>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(message) = active.message.as_ref() else {
            return;
        };
        if let Some(tap) = &self.shared.options.tap {
            if active.audio_ms == 0.0 {
                tap.reply_started(self.id, Instant::now());
            }
            tap.audio_sent(self.id, active.format, chunk.len());
        }
        let ms = active.format.ms_of(chunk.len());
        active.audio_ms += ms;
        let item_id = message.item_id.clone();
        let event = json!({"type": "response.output_audio.delta", "response_id": active.id,
                           "item_id": item_id, "output_index": message.output_index,
                           "content_index": 0, "delta": BASE64.encode(&chunk)});
        if let Some(item) = self.items.iter_mut().find(|i| i.id == item_id) {
            item.audio_ms = Some(item.audio_ms.unwrap_or(0.0) + ms);
        }
        self.spoken = true;
        self.emit(out, event);
    }

    fn close_message(&mut self, status: &str, out: &mut Vec<Output>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(message) = active.message.take() else {
            return;
        };
        let response_id = active.id.clone();
        let in_conversation = active.conversation_id.is_some();
        let OpenMessage {
            item_id,
            output_index,
            transcript,
        } = message;
        let item = json!({"id": item_id, "type": "message", "object": "realtime.item",
                          "status": status, "role": "assistant",
                          "content": [{"type": "output_audio", "transcript": transcript}]});
        active.output[output_index] = item.clone();
        let part = json!({"response_id": response_id, "item_id": item_id,
                          "output_index": output_index, "content_index": 0});
        let with = |kind: &str, extra: Value| {
            let mut event = part.clone();
            event["type"] = json!(kind);
            if let (Value::Object(event), Value::Object(extra)) = (&mut event, extra) {
                event.extend(extra);
            }
            event
        };
        self.emit(out, with("response.output_audio.done", json!({})));
        self.emit(
            out,
            with(
                "response.output_audio_transcript.done",
                json!({"transcript": transcript}),
            ),
        );
        self.emit(
            out,
            with(
                "response.content_part.done",
                json!({"part": {"type": "audio", "transcript": transcript}}),
            ),
        );
        self.emit(
            out,
            json!({"type": "response.output_item.done", "response_id": response_id,
                   "output_index": output_index, "item": item}),
        );
        if in_conversation {
            let previous = self.previous_of(&item_id);
            if let Some(stored) = self.items.iter_mut().find(|i| i.id == item_id) {
                stored.json = item.clone();
            }
            self.emit(
                out,
                json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}),
            );
        }
    }

    fn call(&mut self, index: usize, out: &mut Vec<Output>) {
        let item_id = self.shared.ids.make("item");
        let call_id = self.shared.ids.make("call");
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(call) = active.calls.get(index) else {
            return;
        };
        let name = call.name.clone();
        let arguments = call.arguments.to_string();
        active.text_tokens += arguments.len() as u64 / 4 + 1;
        let output_index = active.output.len();
        let response_id = active.id.clone();
        let in_conversation = active.conversation_id.is_some();
        let mut item = json!({"id": item_id, "type": "function_call", "object": "realtime.item",
                              "status": "in_progress", "name": name, "call_id": call_id,
                              "arguments": ""});
        active.output.push(item.clone());
        self.emit(
            out,
            json!({"type": "response.output_item.added", "response_id": response_id,
                   "output_index": output_index, "item": item}),
        );
        if in_conversation {
            self.add_to_conversation(item_id.clone(), item.clone(), None, out);
        }
        for piece in split_in_pieces(&arguments) {
            self.emit(
                out,
                json!({"type": "response.function_call_arguments.delta",
                       "response_id": response_id, "item_id": item_id,
                       "output_index": output_index, "call_id": call_id, "delta": piece}),
            );
        }
        self.emit(
            out,
            json!({"type": "response.function_call_arguments.done", "response_id": response_id,
                   "item_id": item_id, "output_index": output_index, "call_id": call_id,
                   "name": name, "arguments": arguments}),
        );
        item["status"] = json!("completed");
        item["arguments"] = json!(arguments);
        if let Some(active) = self.active.as_mut() {
            active.output[output_index] = item.clone();
        }
        self.emit(
            out,
            json!({"type": "response.output_item.done", "response_id": response_id,
                   "output_index": output_index, "item": item}),
        );
        if in_conversation {
            let previous = self.previous_of(&item_id);
            if let Some(stored) = self.items.iter_mut().find(|i| i.id == item_id) {
                stored.json = item.clone();
            }
            self.emit(
                out,
                json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}),
            );
        }
    }

    fn cancel(&mut self, reason: CancelReason, out: &mut Vec<Output>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        active.steps.clear();
        self.close_message("incomplete", out);
        let reason = match reason {
            CancelReason::TurnDetected => "turn_detected",
            CancelReason::ClientCancelled => "client_cancelled",
        };
        self.finish(
            "cancelled",
            Some(json!({"type": "cancelled", "reason": reason})),
            out,
        );
    }

    /// Ends the active response with `response.done`.
    fn finish(&mut self, status: &str, details: Option<Value>, out: &mut Vec<Output>) {
        let Some(active) = self.active.take() else {
            return;
        };
        let usage = self.usage(&active);
        let mut response = active.base;
        response["status"] = json!(status);
        response["status_details"] = details.unwrap_or(Value::Null);
        response["output"] = Value::Array(active.output);
        response["usage"] = usage;
        self.emit(out, json!({"type": "response.done", "response": response}));
        // The idle timeout counts from when the client should have finished playing the audio.
        self.idle_from_ms = Some(self.input.position_ms() + active.audio_ms);
        if active.drop_after {
            self.dropped = true;
            out.push(Output::Drop);
        }
    }

    /// Makes up token counts that add up: 10 audio tokens a second in, 20 out.
    fn usage(&self, active: &Active) -> Value {
        let input_text = (self.session.instructions.len() as u64) / 4 + 8 * self.items.len() as u64;
        let input_audio = (self.user_audio_ms / 100.0).ceil() as u64;
        let input = input_text + input_audio;
        let cached = input / 2;
        let cached_text = cached.min(input_text);
        let output_text = active.text_tokens;
        let output_audio = (active.audio_ms / 50.0).ceil() as u64;
        let output = output_text + output_audio;
        json!({
            "total_tokens": input + output,
            "input_tokens": input,
            "output_tokens": output,
            "input_token_details": {
                "text_tokens": input_text,
                "audio_tokens": input_audio,
                "image_tokens": 0,
                "cached_tokens": cached,
                "cached_tokens_details": {
                    "text_tokens": cached_text,
                    "audio_tokens": cached - cached_text,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": output_text, "audio_tokens": output_audio},
        })
    }

    fn add_to_conversation(
        &mut self,
        id: String,
        item: Value,
        audio_ms: Option<f64>,
        out: &mut Vec<Output>,
    ) {
        let previous = self.last_item_id();
        self.items.push(Item {
            id,
            json: item.clone(),
            audio_ms,
        });
        self.emit(
            out,
            json!({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
        );
    }

    fn last_item_id(&self) -> Option<String> {
        self.items.last().map(|i| i.id.clone())
    }

    fn previous_of(&self, item_id: &str) -> Option<String> {
        let index = self.items.iter().position(|i| i.id == item_id)?;
        index.checked_sub(1).map(|i| self.items[i].id.clone())
    }

    /// Takes the next piece of this connection's script: its own copy, or the shared one.
    fn script<R>(&mut self, take: impl FnOnce(&mut ScriptCursor) -> R) -> R {
        match self.own_script.as_mut() {
            Some(own) => take(own),
            None => take(&mut crate::server::lock(&self.shared.script)),
        }
    }

    fn error(&mut self, out: &mut Vec<Output>, error: ApiError, client_event_id: Option<&str>) {
        tracing::debug!(code = ?error.code, message = %error.message, "error event");
        let event = error.to_event(self.shared.ids.make("event"), client_event_id);
        out.push(Output::Event(event));
    }

    /// Queues a server event, giving it its `event_id`.
    fn emit(&self, out: &mut Vec<Output>, mut event: Value) {
        event["event_id"] = json!(self.shared.ids.make("event"));
        out.push(Output::Event(event));
    }
}

/// Plans a speech item: transcript words slightly ahead of audio deltas of alternating sizes.
fn plan_speech(
    text: &str,
    audio: &[u8],
    format: AudioFormat,
    delta_ms: &[usize],
    steps: &mut VecDeque<Step>,
) {
    steps.push_back(Step::OpenMessage);
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut size_index = 0;
    while at < audio.len() {
        let size = delta_ms[size_index % delta_ms.len()].max(1) * format.bytes_per_ms();
        let end = (at + size).min(audio.len());
        chunks.push(audio[at..end].to_vec());
        at = end;
        size_index += 1;
    }
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    let mut words_sent = 0;
    let total_chunks = chunks.len().max(1);
    for (index, chunk) in chunks.into_iter().enumerate() {
        // Words due by the end of this chunk, rounded up so the text leads the audio.
        let due = ((index + 1) * words.len()).div_ceil(total_chunks);
        while words_sent < due {
            steps.push_back(Step::Transcript(words[words_sent].to_string()));
            words_sent += 1;
        }
        steps.push_back(Step::Audio(chunk));
    }
    steps.extend(
        words[words_sent..]
            .iter()
            .map(|w| Step::Transcript(w.to_string())),
    );
    steps.push_back(Step::CloseMessage);
}

/// Splits function call arguments into two or more deltas (at character boundaries).
fn split_in_pieces(arguments: &str) -> Vec<String> {
    let chars: Vec<char> = arguments.chars().collect();
    if chars.len() < 2 {
        return vec![arguments.to_string(), String::new()];
    }
    let pieces = if chars.len() >= 12 { 3 } else { 2 };
    let size = chars.len().div_ceil(pieces);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Checks the `response` parameters of `response.create`.
fn check_response_params(params: &Value) -> Result<Value, ApiError> {
    let f = Fields::new(
        params,
        "response",
        &[
            "audio",
            "conversation",
            "input",
            "instructions",
            "max_output_tokens",
            "metadata",
            "output_modalities",
            "parallel_tool_calls",
            "prompt",
            "reasoning",
            "tool_choice",
            "tools",
        ],
    )?;
    f.str("instructions")?;
    f.str("conversation")?;
    if let Some(audio) = f.raw("audio") {
        let a = Fields::new(audio, "response.audio", &["output"])?;
        if let Some(output) = a.raw("output") {
            let o = Fields::new(output, "response.audio.output", &["format", "voice"])?;
            if let Some(format) = o.raw("format") {
                parse_format(format, "response.audio.output.format")?;
            }
        }
    }
    if let Some(metadata) = f.raw("metadata")
        && !metadata.is_null()
        && !metadata.is_object()
    {
        return Err(ApiError::invalid_type(
            "response.metadata",
            "an object",
            metadata,
        ));
    }
    Ok(params.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_planned_in_alternating_deltas_with_every_word() {
        let audio = vec![0xFF; 8 * 1_000];
        let mut steps = VecDeque::new();
        plan_speech(
            "Bună ziua, cu ce vă pot ajuta?",
            &audio,
            AudioFormat::Pcmu,
            &[50, 130],
            &mut steps,
        );
        let sizes: Vec<usize> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Audio(chunk) => Some(chunk.len()),
                _ => None,
            })
            .collect();
        assert_eq!(&sizes[..3], &[400, 1040, 400]);
        assert_eq!(sizes.iter().sum::<usize>(), audio.len());
        let text: String = steps
            .iter()
            .filter_map(|s| match s {
                Step::Transcript(word) => Some(word.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Bună ziua, cu ce vă pot ajuta?");
    }

    #[test]
    fn arguments_always_come_in_two_pieces_or_more() {
        assert_eq!(split_in_pieces("{}"), vec!["{", "}"]);
        let long = r#"{"service":"tuns","date":"2026-12-15","time":"10:00"}"#;
        let pieces = split_in_pieces(long);
        assert!(pieces.len() >= 2);
        assert_eq!(pieces.concat(), long);
    }
}
