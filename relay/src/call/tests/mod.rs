//! The call's state machine on virtual time: inputs fed with explicit instants, outputs read
//! back; no sockets, no sleeps.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use salon_relay_protocol::realtime::ServerEvent;
use salon_wire::{CallOutcome, SessionConfig, Speaker, ToolReply, TranscriptLine};
use serde_json::json;
use tokio::time::Instant;

use super::machine::*;
use crate::audio::AudioMode;
use crate::metrics::Metrics;
use crate::openai::ClientEvent;
use crate::turn::TurnDetection;
use crate::twilio::{Inbound, MarkName, Media, Outbound, Stop};
use serde_json::Value;

mod ending;

const GREETING: &str = "Bună ziua! Salon Voice Booking, asistentul virtual al salonului.";

/// A call driven by hand: `now` moves only when a test moves it.
struct Harness {
    call: Call,
    now: Instant,
    metrics: Arc<Metrics>,
}

impl Harness {
    /// A call (μ-law unless `tune` says otherwise) whose session is set up and whose greeting
    /// was asked for.
    fn live(tune: impl FnOnce(&mut Setup)) -> (Self, Vec<Seen>) {
        let metrics = Arc::new(Metrics::default());
        let mut setup = setup(&metrics);
        tune(&mut setup);
        let mode = setup.mode;
        let now = Instant::now();
        let mut h = Harness {
            call: Call::new(setup, now),
            now,
            metrics,
        };
        let mut out = Vec::new();
        h.call.start(&mut out);
        assert_eq!(out, [Output::Connect]);
        let update = h.feed(Input::Connected);
        assert!(matches!(
            &update[..],
            [Seen::Realtime(ClientEvent::SessionUpdate(_))]
        ));
        let greeting = h.event(&session_echoing(mode));
        assert!(h.call.live());
        (h, greeting)
    }

    /// A live call whose greeting (no audio) is over, at rest.
    fn quiet(tune: impl FnOnce(&mut Setup)) -> Self {
        let (mut h, _) = Harness::live(tune);
        h.event(r#"{"type": "response.created"}"#);
        h.event(r#"{"type": "response.done"}"#);
        h
    }

    fn feed(&mut self, input: Input<'_>) -> Vec<Seen> {
        let mut out = Vec::new();
        self.call.handle(input, self.now, &mut out);
        seen(&self.call, out)
    }

    /// Feeds a Realtime server event, from its JSON text.
    fn event(&mut self, text: &str) -> Vec<Seen> {
        let event = ServerEvent::parse(text).expect("a server event");
        self.feed(Input::Realtime(event))
    }

    /// Twilio echoes a mark.
    fn echo(&mut self, name: &str) -> Vec<Seen> {
        self.feed(Input::Twilio(Inbound::Mark {
            mark: MarkName { name: name.into() },
        }))
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Moves to the machine's next wake and feeds the timer.
    fn wake(&mut self) -> Vec<Seen> {
        let at = self.call.next_wake().expect("a wake is due");
        assert!(at >= self.now, "a wake in the past would spin the driver");
        self.now = at;
        self.feed(Input::Timer)
    }
}

/// An output as the tests read it: a text decoded back into the message it carries, so every
/// assertion on a message also checks the JSON the call wrote for it.
#[derive(Debug, PartialEq)]
enum Seen {
    Twilio(Outbound),
    Realtime(ClientEvent),
    /// `input_audio_buffer.append`'s audio, decoded.
    Append(Vec<u8>),
    Tool(ToolCall),
    Connect,
    Finish(Finish),
}

/// Reads `out` as the tests do, while `call` still holds its texts.
fn seen(call: &Call, out: Vec<Output>) -> Vec<Seen> {
    out.into_iter()
        .map(|o| match o {
            Output::Twilio(text) => {
                Seen::Twilio(serde_json::from_str(call.text(&text)).expect("a Twilio message"))
            }
            Output::Realtime(text) => client_event(call.text(&text)),
            Output::Tool(t) => Seen::Tool(t),
            Output::Connect => Seen::Connect,
            Output::Finish(f) => Seen::Finish(*f),
        })
        .collect()
}

/// Reads a text sent to the model back into the event it carries, checking that the event
/// writes exactly that JSON.
fn client_event(text: &str) -> Seen {
    let json: Value = serde_json::from_str(text).expect("JSON");
    let string = |v: &Value| v.as_str().expect("a string").to_owned();
    let event = match json["type"].as_str().expect("a type") {
        "input_audio_buffer.append" => {
            assert_eq!(json.as_object().unwrap().len(), 2, "{text}");
            return Seen::Append(B64.decode(json["audio"].as_str().unwrap()).unwrap());
        }
        "session.update" => ClientEvent::SessionUpdate(json.clone()),
        "conversation.item.truncate" => ClientEvent::Truncate {
            item_id: string(&json["item_id"]),
            audio_end_ms: json["audio_end_ms"].as_u64().unwrap(),
        },
        "response.create" => ClientEvent::ResponseCreate {
            instructions: json["response"]["instructions"].as_str().map(str::to_owned),
        },
        "conversation.item.create" => {
            let item = &json["item"];
            match item["type"].as_str().unwrap() {
                "function_call_output" => ClientEvent::FunctionOutput {
                    call_id: string(&item["call_id"]),
                    output: string(&item["output"]),
                },
                "function_call" => ClientEvent::RestoreCall {
                    call_id: string(&item["call_id"]),
                    name: string(&item["name"]),
                    arguments: string(&item["arguments"]),
                },
                _ => ClientEvent::Restore(TranscriptLine {
                    speaker: match item["role"].as_str().unwrap() {
                        "user" => Speaker::Caller,
                        _ => Speaker::Agent,
                    },
                    text: string(&item["content"][0]["text"]),
                }),
            }
        }
        other => panic!("an unexpected event {other}: {text}"),
    };
    assert_eq!(
        event.clone().into_json(),
        json,
        "written as the event writes"
    );
    Seen::Realtime(event)
}

/// A μ-law call's setup with the defaults' limits.
fn setup(metrics: &Arc<Metrics>) -> Setup {
    Setup {
        stream_sid: "MZ1".into(),
        session: SessionConfig {
            instructions: "Ești asistentul virtual al salonului.".into(),
            greeting: GREETING.into(),
            transcription_model: "gpt-4o-transcribe".into(),
            language: "ro".into(),
            tools: [
                "check_appointment_availability",
                "create_voice_appointment",
                "transfer_to_human",
                "end_call",
            ]
            .map(|name| salon_wire::ToolDefinition {
                kind: "function".into(),
                name: name.into(),
                description: String::new(),
                parameters: json!({"type": "object", "properties": {}}),
            })
            .to_vec(),
        },
        model: "gpt-realtime".into(),
        voice: "marin".into(),
        mode: AudioMode::Pcmu,
        turn_detection: TurnDetection::default(),
        silence: Duration::from_secs(10),
        max_call: Duration::from_secs(600),
        metrics: metrics.clone(),
    }
}

fn session_updated(format: &str) -> String {
    json!({"type": "session.updated", "session": {"audio": {
        "input": {"format": {"type": format}}, "output": {"format": {"type": format}}}}})
    .to_string()
}

/// `session.updated` echoing the format of `mode` both ways.
fn session_echoing(mode: AudioMode) -> String {
    let format = mode.openai_format();
    json!({"type": "session.updated", "session": {"audio": {
        "input": {"format": format}, "output": {"format": format}}}})
    .to_string()
}

/// `ms` of μ-law silence for `item`, as an audio delta.
fn delta(item: &str, ms: usize) -> String {
    delta_bytes(item, ms * 8)
}

/// `len` bytes of near silence for `item` (μ-law, or PCM16 at 24 kHz: 48 bytes a millisecond),
/// as an audio delta.
fn delta_bytes(item: &str, len: usize) -> String {
    let audio = B64.encode(vec![0xFF; len]);
    json!({"type": "response.output_audio.delta", "item_id": item, "delta": audio}).to_string()
}

fn function_call(name: &str, call_id: &str) -> String {
    json!({"type": "response.output_item.done", "item": {
        "type": "function_call", "name": name, "call_id": call_id, "arguments": "{}"}})
    .to_string()
}

/// A one-off turn's instructions: the test session's rules, then `line`.
fn ruled(line: &str) -> String {
    with_session_rules("Ești asistentul virtual al salonului.", line)
}

/// The instructions of every `response.create` in `out` (`None` for a bare one).
fn creates(out: &[Seen]) -> Vec<Option<String>> {
    out.iter()
        .filter_map(|o| match o {
            Seen::Realtime(ClientEvent::ResponseCreate { instructions }) => {
                Some(instructions.clone())
            }
            _ => None,
        })
        .collect()
}

/// The names of the marks sent to Twilio in `out`.
fn marks(out: &[Seen]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Seen::Twilio(Outbound::Mark { mark, .. }) => Some(mark.name.clone()),
            _ => None,
        })
        .collect()
}

fn finish(out: &[Seen]) -> Option<&Finish> {
    out.iter().find_map(|o| match o {
        Seen::Finish(f) => Some(f),
        _ => None,
    })
}

#[test]
fn the_agent_greets_first_in_steady_frames_each_followed_by_a_mark() {
    let (mut h, greeting) = Harness::live(|_| {});
    let asked = creates(&greeting);
    assert_eq!(asked.len(), 1, "{greeting:?}");
    assert!(asked[0].as_deref().unwrap().contains(GREETING));

    h.event(r#"{"type": "response.created"}"#);
    // Uneven deltas (50 + 130 + 35 ms) come out as 20 ms frames; the tail is padded at the end.
    let mut out = Vec::new();
    for ms in [50, 130, 35] {
        out.extend(h.event(&delta("item_1", ms)));
    }
    out.extend(h.event(r#"{"type": "response.output_audio.done", "item_id": "item_1"}"#));
    assert_eq!(
        out.len(),
        2 * 11,
        "11 frames (the last padded), each with its mark"
    );
    let mut names = std::collections::HashSet::new();
    for pair in out.chunks(2) {
        match pair {
            [
                Seen::Twilio(Outbound::Media { media, .. }),
                Seen::Twilio(Outbound::Mark { mark, .. }),
            ] => {
                assert_eq!(B64.decode(&media.payload).unwrap().len(), 160);
                assert!(names.insert(mark.name.clone()), "mark names are unique");
            }
            other => panic!("expected a frame then its mark, got {other:?}"),
        }
    }
    assert_eq!(h.metrics.frames_out.load(Relaxed), 11);
}

#[test]
fn nothing_reaches_the_model_before_its_session_is_confirmed() {
    let metrics = Arc::new(Metrics::default());
    let now = Instant::now();
    let mut call = Call::new(setup(&metrics), now);
    let mut out = Vec::new();
    call.start(&mut out);
    call.handle(Input::Connected, now, &mut out);
    out.clear();
    // Caller audio before the session is live goes nowhere.
    let media = Inbound::Media {
        media: Media {
            payload: B64.encode([0xFF; 160]).into(),
            track: None,
            timestamp: None,
        },
    };
    call.handle(Input::Twilio(media), now, &mut out);
    assert!(out.is_empty(), "{out:?}");
    // Nor does key 0: the greeting comes first.
    let zero = Inbound::Dtmf {
        dtmf: crate::twilio::Dtmf {
            digit: "0".into(),
            track: "inbound_track".into(),
        },
    };
    call.handle(Input::Twilio(zero), now, &mut out);
    assert!(out.is_empty(), "{out:?}");
    // A session that comes back in another format ends the call: Twilio apologises.
    let wrong = session_updated("audio/pcm");
    call.handle(
        Input::Realtime(ServerEvent::parse(&wrong).unwrap()),
        now,
        &mut out,
    );
    let ended = seen(&call, std::mem::take(&mut out));
    let f = finish(&ended).expect("the call ends");
    assert_eq!(
        (f.outcome, f.close_twilio),
        (CallOutcome::UpstreamFailed, true)
    );

    // A session never confirmed ends the call at the set-up limit.
    let mut call = Call::new(setup(&metrics), now);
    call.start(&mut out);
    call.handle(Input::Connected, now, &mut out);
    out.clear();
    assert_eq!(call.next_wake(), Some(now + SESSION_LIMIT));
    call.handle(Input::Timer, now + SESSION_LIMIT, &mut out);
    let ended = seen(&call, out);
    assert_eq!(finish(&ended).unwrap().outcome, CallOutcome::UpstreamFailed);
    assert_eq!(metrics.openai_errors.load(Relaxed), 2);
}

#[test]
fn barge_in_clears_twilio_and_truncates_at_what_the_marks_confirmed() {
    let (mut h, _) = Harness::live(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let sent = h.event(&delta("item_1", 1000));
    let names = marks(&sent);
    assert_eq!(names.len(), 50);
    // Twilio played 15 frames (300 ms) when the caller spoke.
    for name in &names[..15] {
        h.advance(Duration::from_millis(20));
        assert!(h.echo(name).is_empty());
    }
    let out = h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    assert_eq!(
        out,
        [
            Seen::Twilio(Outbound::Clear {
                stream_sid: "MZ1".into()
            }),
            Seen::Realtime(ClientEvent::Truncate {
                item_id: "item_1".into(),
                audio_end_ms: 300
            }),
        ]
    );
    // The rest of the interrupted item never reaches Twilio, and the cleared marks' echoes
    // change nothing.
    assert!(h.event(&delta("item_1", 500)).is_empty());
    assert!(
        h.event(r#"{"type": "response.output_audio.done", "item_id": "item_1"}"#)
            .is_empty()
    );
    assert!(h.echo(&names[15]).is_empty());
    // The next item plays under a new epoch.
    let next = h.event(&delta("item_2", 40));
    assert!(marks(&next).iter().all(|n| n.starts_with("1-")), "{next:?}");
    assert_eq!(h.metrics.barge_ins.load(Relaxed), 1);
}

#[test]
fn a_truncate_never_goes_past_the_audio_the_model_sent() {
    let (mut h, _) = Harness::live(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    // 30 ms of audio: a frame goes at once; the last 10 ms wait for more (Twilio has audio to
    // play), then go out at the item's end as a 20 ms frame, padded with silence.
    let mut names = marks(&h.event(&delta("item_1", 30)));
    assert_eq!(names.len(), 1);
    let flushed = h.event(r#"{"type": "response.output_audio.done", "item_id": "item_1"}"#);
    names.extend(marks(&flushed));
    assert_eq!(names.len(), 2);
    for name in &names {
        h.echo(name);
    }
    // 40 ms played, 30 of them the model's.
    let out = h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    assert!(out.contains(&Seen::Realtime(ClientEvent::Truncate {
        item_id: "item_1".into(),
        audio_end_ms: 30
    })));
}

#[test]
fn speech_when_nothing_is_playing_truncates_nothing() {
    let mut h = Harness::quiet(|_| {});
    assert!(
        h.event(r#"{"type": "input_audio_buffer.speech_started"}"#)
            .is_empty()
    );
    assert_eq!(h.metrics.barge_ins.load(Relaxed), 0);
}

#[test]
fn parallel_tool_calls_get_one_response_create_after_every_output() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let first = h.event(&function_call("check_appointment_availability", "call_1"));
    let second = h.event(&function_call("check_appointment_availability", "call_2"));
    let started: Vec<_> = first.iter().chain(&second).collect();
    assert!(
        matches!(
            &started[..],
            [
                Seen::Tool(ToolCall { connection: 1, call_id: a, .. }),
                Seen::Tool(ToolCall { connection: 1, call_id: b, .. }),
            ] if a == "call_1" && b == "call_2"
        ),
        "{started:?}"
    );
    // The response ends before the tools answer: nothing to ask for yet.
    assert!(creates(&h.event(r#"{"type": "response.done"}"#)).is_empty());
    let done = |call_id: &str| ToolDone {
        connection: 1,
        call_id: call_id.into(),
        reply: ToolReply::Ok(json!({"disponibil": true})),
    };
    let one = h.feed(Input::Tool(done("call_2")));
    assert!(
        matches!(&one[..], [Seen::Realtime(ClientEvent::FunctionOutput { call_id, .. })] if call_id == "call_2"),
        "{one:?}"
    );
    let two = h.feed(Input::Tool(done("call_1")));
    assert_eq!(two.len(), 2, "{two:?}");
    assert!(matches!(
        &two[0],
        Seen::Realtime(ClientEvent::FunctionOutput { call_id, .. }) if call_id == "call_1"
    ));
    assert_eq!(creates(&two), [None], "one bare response.create");

    // Outputs that come back while a response is still active wait for its `response.done`.
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("create_voice_appointment", "call_3"));
    assert!(creates(&h.feed(Input::Tool(done("call_3")))).is_empty());
    assert_eq!(creates(&h.event(r#"{"type": "response.done"}"#)), [None]);
}

#[test]
fn a_response_create_refused_for_the_models_own_response_is_sent_again_after_it() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("check_appointment_availability", "call_1"));
    h.event(r#"{"type": "response.done"}"#);
    let out = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"disponibil": true})),
    }));
    assert_eq!(creates(&out), [None]);
    // The caller spoke as the result came in: the server started its own response first.
    let refused = h.event(
        r#"{"type": "error", "error": {"type": "invalid_request_error", "code": "conversation_already_has_active_response", "message": "Conversation already has an active response"}}"#,
    );
    assert!(
        creates(&refused).is_empty(),
        "not while the model's response is active"
    );
    assert_eq!(
        creates(&h.event(r#"{"type": "response.done"}"#)),
        [None],
        "the answer to the tool result is asked for again, once"
    );
    h.event(r#"{"type": "response.created"}"#);
    assert!(creates(&h.event(r#"{"type": "response.done"}"#)).is_empty());
}

#[test]
fn a_tool_the_session_never_declared_is_answered_here_not_sent_to_the_functions() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let out = h.event(&function_call("../summary", "call_1"));
    assert!(
        !out.iter().any(|o| matches!(o, Seen::Tool(_))),
        "nothing goes to the functions: {out:?}"
    );
    assert!(
        matches!(&out[..], [Seen::Realtime(ClientEvent::FunctionOutput { call_id, output })]
            if call_id == "call_1" && output.contains("unknown_tool")),
        "{out:?}"
    );
    assert_eq!(creates(&h.event(r#"{"type": "response.done"}"#)), [None]);
}

/// A tool the functions take long to answer (a slow booking, the relay's retries through an
/// outage) would leave the caller in silence: after a moment the agent says the hold line,
/// once, and the answer is spoken when it comes.
#[test]
fn a_tool_that_runs_long_gets_one_hold_line_then_its_answer() {
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(600));
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("create_voice_appointment", "call_1"));
    let dispatched = h.now;
    h.event(r#"{"type": "response.done"}"#);
    assert_eq!(h.call.next_wake(), Some(dispatched + HOLD_AFTER));
    let held = h.wake();
    assert_eq!(creates(&held), [Some(ruled(HOLD))]);
    h.event(r#"{"type": "response.created"}"#);
    assert!(creates(&h.event(r#"{"type": "response.done"}"#)).is_empty());
    let later = h.call.next_wake().expect("the length limit at least");
    assert!(
        later > h.now + Duration::from_secs(60),
        "one hold line per wait"
    );
    let answered = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"confirmat": true})),
    }));
    assert_eq!(creates(&answered), [None]);
}

#[test]
fn a_tool_answered_in_time_gets_no_hold_line() {
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(600));
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("check_appointment_availability", "call_1"));
    h.event(r#"{"type": "response.done"}"#);
    h.advance(HOLD_AFTER / 2);
    let answered = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"disponibil": true})),
    }));
    assert_eq!(creates(&answered), [None]);
    h.event(r#"{"type": "response.created"}"#);
    h.event(r#"{"type": "response.done"}"#);
    let next = h.call.next_wake().expect("the length limit at least");
    assert!(
        next > h.now + Duration::from_secs(60),
        "no hold line is due"
    );
}

/// While the agent is still heard (it said "let me check" before the call), the caller is not
/// in silence: the hold line waits until that has played and the tool is still running.
#[test]
fn the_hold_line_waits_while_the_agent_is_still_heard() {
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(600));
    h.event(r#"{"type": "response.created"}"#);
    // Two seconds of "let me check", sent to Twilio at once and played in real time.
    let names = marks(&h.event(&delta("item_1", 2_000)));
    h.event(&function_call("create_voice_appointment", "call_1"));
    h.event(r#"{"type": "response.output_audio.done", "item_id": "item_1"}"#);
    h.event(r#"{"type": "response.done"}"#);
    assert!(creates(&h.wake()).is_empty(), "the agent is still heard");
    for name in &names {
        h.advance(Duration::from_millis(20));
        assert!(creates(&h.echo(name)).is_empty());
    }
    // Played out, the tool still running: the hold line comes at the next look, which is due
    // (the driver's timer fires at once for a wake already passed, and the look consumes it).
    assert!(h.call.next_wake().is_some_and(|at| at <= h.now));
    let held = h.feed(Input::Timer);
    assert_eq!(creates(&held), [Some(ruled(HOLD))]);
}

#[test]
fn a_dropped_connection_is_restored_with_the_conversation() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.output_audio_transcript.done", "transcript": "Bună ziua!"}"#);
    h.event(r#"{"type": "conversation.item.input_audio_transcription.completed", "transcript": "Aș dori un tuns."}"#);
    h.event(r#"{"type": "response.created"}"#);
    let tool = h.event(&function_call("check_appointment_availability", "call_1"));
    assert_eq!(tool.len(), 1);

    assert_eq!(h.feed(Input::RealtimeClosed), [Seen::Connect]);
    assert!(!h.call.live());
    assert!(matches!(
        &h.feed(Input::Connected)[..],
        [Seen::Realtime(ClientEvent::SessionUpdate(_))]
    ));
    let restored = h.event(&session_updated("audio/pcmu"));
    assert_eq!(
        restored,
        [
            Seen::Realtime(ClientEvent::Restore(TranscriptLine {
                speaker: Speaker::Agent,
                text: "Bună ziua!".into()
            })),
            Seen::Realtime(ClientEvent::Restore(TranscriptLine {
                speaker: Speaker::Caller,
                text: "Aș dori un tuns.".into()
            })),
            Seen::Realtime(ClientEvent::ResponseCreate {
                instructions: Some(ruled(RESUME))
            }),
        ]
    );
    // The old session's tool result is dropped: the new session never saw that call.
    let late = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({})),
    }));
    assert!(late.is_empty(), "{late:?}");

    let end = h.feed(Input::Twilio(Inbound::Stop {
        stop: Stop::default(),
    }));
    let f = finish(&end).unwrap();
    assert_eq!(
        (f.outcome, f.close_twilio, f.summary.reconnects),
        (CallOutcome::CallerHungUp, false, 1)
    );
    assert_eq!(f.summary.transcript.len(), 2);
    assert_eq!(h.metrics.openai_reconnects.load(Relaxed), 1);
    assert!(
        h.feed(Input::Timer).is_empty(),
        "nothing happens after the end"
    );
}

#[test]
fn a_restored_session_gets_the_answered_tool_calls_and_their_outputs() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "conversation.item.input_audio_transcription.completed", "transcript": "Un tuns mâine la zece."}"#);
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("create_voice_appointment", "call_1"));
    h.event(r#"{"type": "response.done"}"#);
    h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"confirmat": true})),
    }));
    h.event(r#"{"type": "response.created"}"#);
    // A second call is still in flight when the connection drops.
    h.event(&function_call("check_appointment_availability", "call_2"));
    h.feed(Input::RealtimeClosed);
    h.feed(Input::Connected);
    let restored = h.event(&session_updated("audio/pcmu"));
    let replayed: Vec<String> = restored
        .iter()
        .filter_map(|o| match o {
            Seen::Realtime(ClientEvent::Restore(line)) => Some(format!("line {}", line.text)),
            Seen::Realtime(ClientEvent::RestoreCall { call_id, name, .. }) => {
                Some(format!("call {call_id} {name}"))
            }
            Seen::Realtime(ClientEvent::FunctionOutput { call_id, output }) => {
                Some(format!("output {call_id} {output}"))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        replayed,
        [
            "line Un tuns mâine la zece.",
            "call call_1 create_voice_appointment",
            r#"output call_1 {"ok":true,"result":{"confirmat":true}}"#,
        ],
        "the booking and its result come back; the unanswered call does not"
    );
}

#[test]
fn a_lost_connection_that_cannot_be_restored_ends_the_call() {
    let mut h = Harness::quiet(|_| {});
    assert_eq!(h.feed(Input::RealtimeClosed), [Seen::Connect]);
    let out = h.feed(Input::ConnectFailed);
    let f = finish(&out).unwrap();
    assert_eq!(
        (f.outcome, f.close_twilio),
        (CallOutcome::UpstreamFailed, true)
    );
}

#[test]
fn a_restored_session_not_confirmed_in_time_ends_the_call_so_twilio_apologises() {
    let mut h = Harness::quiet(|_| {});
    assert_eq!(h.feed(Input::RealtimeClosed), [Seen::Connect]);
    // No timer while the driver opens the connection: its own budget bounds that.
    assert_eq!(h.call.next_wake(), None);
    h.advance(Duration::from_secs(2));
    h.feed(Input::Connected);
    assert_eq!(h.call.next_wake(), Some(h.now + SESSION_LIMIT));
    // The caller's audio meanwhile reaches nobody: there is no session to send it to.
    let audio = h.feed(Input::Twilio(Inbound::Media {
        media: Media {
            payload: B64.encode([0xFF; 160]).into(),
            track: None,
            timestamp: None,
        },
    }));
    assert!(audio.is_empty(), "{audio:?}");
    let end = h.wake();
    let f = finish(&end).expect("the call ends at the set-up limit");
    assert_eq!(
        (f.outcome, f.close_twilio, f.summary.reconnects),
        (CallOutcome::UpstreamFailed, true, 0)
    );
}

#[test]
fn malformed_twilio_messages_are_counted_and_not_fatal() {
    let mut h = Harness::quiet(|_| {});
    assert!(h.feed(Input::TwilioMalformed("a binary frame")).is_empty());
    let bad = Inbound::Media {
        media: Media {
            payload: "***".into(),
            track: None,
            timestamp: None,
        },
    };
    assert!(h.feed(Input::Twilio(bad)).is_empty());
    assert_eq!(h.metrics.malformed_messages.load(Relaxed), 2);
    assert!(h.call.live());
    // Good audio still goes up.
    let good = Inbound::Media {
        media: Media {
            payload: B64.encode([0xFF; 160]).into(),
            track: None,
            timestamp: None,
        },
    };
    assert!(matches!(
        &h.feed(Input::Twilio(good))[..],
        [Seen::Append(_)]
    ));
}

#[test]
fn a_peer_that_stops_reading_ends_the_call() {
    let mut h = Harness::quiet(|_| {});
    let f = h.feed(Input::Stalled(Peer::Twilio));
    assert_eq!(
        finish(&f).map(|f| (f.outcome, f.close_twilio)),
        Some((CallOutcome::CallerHungUp, false))
    );
    let mut h = Harness::quiet(|_| {});
    let f = h.feed(Input::Stalled(Peer::Realtime));
    assert_eq!(
        finish(&f).map(|f| (f.outcome, f.close_twilio)),
        Some((CallOutcome::UpstreamFailed, true))
    );
}

/// The lengths of the frames sent to Twilio in `out`, and the names of their marks.
fn frames(out: &[Seen]) -> (Vec<usize>, Vec<String>) {
    let lens = out
        .iter()
        .filter_map(|o| match o {
            Seen::Twilio(Outbound::Media { media, .. }) => {
                Some(B64.decode(&media.payload).unwrap().len())
            }
            _ => None,
        })
        .collect();
    (lens, marks(out))
}

#[test]
fn in_pcm24_a_replys_first_delta_reaches_twilio_at_once_even_short_of_a_frame() {
    let mut h = Harness::quiet(|s| s.mode = AudioMode::Pcm24);
    h.event(r#"{"type": "response.created"}"#);
    // 20 ms from the model, of which the resampler has 15 ready (it holds 5 back). Twilio has
    // nothing to play: they go now, not a whole frame later.
    let first = h.event(&delta_bytes("item_1", 20 * 48));
    assert!(
        matches!(
            &first[..],
            [
                Seen::Twilio(Outbound::Media { .. }),
                Seen::Twilio(Outbound::Mark { .. })
            ]
        ),
        "a frame and its mark: {first:?}"
    );
    let (lens, first_marks) = frames(&first);
    assert_eq!(lens, [15 * 8]);
    // Whole frames follow, while Twilio has audio to play.
    let (lens, next_marks) = frames(&h.event(&delta_bytes("item_1", 40 * 48)));
    assert_eq!(lens, [160, 160]);
    // The caller heard the short frame and one whole frame, then spoke.
    h.echo(&first_marks[0]);
    h.echo(&next_marks[0]);
    let out = h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    assert!(
        out.contains(&Seen::Realtime(ClientEvent::Truncate {
            item_id: "item_1".into(),
            audio_end_ms: 15 + 20
        })),
        "{out:?}"
    );
}

#[test]
fn audio_that_comes_slower_than_it_plays_goes_out_as_it_comes_counted_to_the_byte() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    // 12.5 ms of μ-law, played out before the next 12.5 ms come: each goes at once, unpadded.
    let (lens, first) = frames(&h.event(&delta_bytes("item_1", 100)));
    assert_eq!(lens, [100]);
    h.echo(&first[0]);
    let (lens, second) = frames(&h.event(&delta_bytes("item_1", 100)));
    assert_eq!(lens, [100]);
    h.echo(&second[0]);
    // 25 ms heard, not the 24 that whole milliseconds per frame would add up to.
    let out = h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    assert!(
        out.contains(&Seen::Realtime(ClientEvent::Truncate {
            item_id: "item_1".into(),
            audio_end_ms: 25
        })),
        "{out:?}"
    );
}

#[test]
fn a_mark_that_empties_twilios_queue_lets_the_part_of_a_frame_ready_go() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    // 30 ms: a whole frame goes; the 10 ms left wait while Twilio plays it.
    let (lens, names) = frames(&h.event(&delta("item_1", 30)));
    assert_eq!(lens, [160]);
    // Played: Twilio would idle until the next delta, so the 10 ms go now.
    let (lens, _) = frames(&h.echo(&names[0]));
    assert_eq!(lens, [80]);
}
