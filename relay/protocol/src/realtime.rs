//! The OpenAI Realtime server events (GA interface) the relay acts on, parsed from one text
//! message; every other event is [`ServerEvent::Other`].
//!
//! Fields the relay reads are optional on the wire: a missing one reads as the relay has
//! always read it (an empty id, no transcript, no usage), so a sparse event is still acted on.
//! Audio deltas and item ids borrow from the text where they can: the delta is the hot path.

use std::borrow::Cow;

use serde::Deserialize;

/// The longest server event the relay reads. The largest legitimate ones are `session.updated`
/// (it echoes the instructions and tool schemas: tens of KiB) and audio deltas (tens of KiB);
/// this leaves room without letting one socket buffer megabytes.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Why a server event was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is longer than [`MAX_EVENT_BYTES`].
    #[error("the event is {len} bytes, more than {MAX_EVENT_BYTES}")]
    TooLong { len: usize },
    /// The text is not a JSON object with a string `type`, or a field the relay reads has the
    /// wrong type.
    #[error("not a Realtime server event")]
    Invalid(#[source] serde_json::Error),
}

/// A server event the relay acts on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent<'a> {
    /// `response.output_audio.delta`: base64 audio of an assistant item.
    AudioDelta {
        item_id: Cow<'a, str>,
        delta: Cow<'a, str>,
    },
    /// `response.output_audio.done`: the item's audio is complete.
    AudioDone { item_id: Option<Cow<'a, str>> },
    /// `response.output_audio_transcript.done`: what the agent said.
    AgentTranscript { transcript: Option<String> },
    /// `conversation.item.input_audio_transcription.completed`: what the caller said.
    CallerTranscript { transcript: Option<String> },
    /// `input_audio_buffer.speech_started`: the caller began speaking.
    SpeechStarted,
    /// `input_audio_buffer.speech_stopped`: the caller stopped speaking.
    SpeechStopped,
    /// `response.created`: a response is active.
    ResponseCreated,
    /// `response.output_item.done`: an output item is complete (a tool call, or anything else).
    OutputItemDone { item: OutputItem },
    /// `response.done`: the response is over; its token usage when reported.
    ResponseDone { usage: Option<Usage> },
    /// `error`: the server refused something.
    Error {
        code: Option<String>,
        message: Option<String>,
    },
    /// `session.updated`: the session as the server now has it.
    SessionUpdated {
        input_format: Option<AudioFormat>,
        output_format: Option<AudioFormat>,
    },
    /// Any other event (the relay ignores it).
    Other,
}

/// A finished output item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputItem {
    /// The model calls a tool; `arguments` is a JSON string (`{}` when absent).
    FunctionCall {
        name: String,
        call_id: String,
        arguments: String,
    },
    /// A message or anything else.
    Other,
}

/// A response's token usage (`response.done`'s `response.usage`); absent counts are zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub input_token_details: InputTokenDetails,
    pub output_token_details: OutputTokenDetails,
}

/// The input side of [`Usage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InputTokenDetails {
    pub audio_tokens: u64,
    pub cached_tokens: u64,
}

/// The output side of [`Usage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OutputTokenDetails {
    pub audio_tokens: u64,
}

/// An audio format as the session reports it: `{"type": "audio/pcm", "rate": 24000}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AudioFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub rate: Option<u32>,
}

/// A string that borrows from the text unless it had escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Every top-level field the relay reads, whatever the event; unknown fields are ignored.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    item_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    delta: Option<Text<'a>>,
    #[serde(default)]
    transcript: Option<String>,
    #[serde(default)]
    item: Option<WireItem>,
    #[serde(default)]
    response: Option<WireResponse>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    session: Option<WireSession>,
}

#[derive(Deserialize)]
struct WireItem {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireSession {
    #[serde(default)]
    audio: Option<WireAudio>,
}

#[derive(Deserialize)]
struct WireAudio {
    #[serde(default)]
    input: Option<WireDirection>,
    #[serde(default)]
    output: Option<WireDirection>,
}

#[derive(Deserialize)]
struct WireDirection {
    #[serde(default)]
    format: Option<AudioFormat>,
}

fn text(t: Option<Text<'_>>) -> Option<Cow<'_, str>> {
    t.map(|t| t.0)
}

impl<'a> ServerEvent<'a> {
    /// Parses one text message from the Realtime API.
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        if text.len() > MAX_EVENT_BYTES {
            return Err(ParseError::TooLong { len: text.len() });
        }
        let wire: Wire<'a> = serde_json::from_str(text).map_err(ParseError::Invalid)?;
        Ok(Self::from_wire(wire))
    }

    fn from_wire(w: Wire<'a>) -> Self {
        match &*w.kind.0 {
            "response.output_audio.delta" => Self::AudioDelta {
                item_id: text(w.item_id).unwrap_or_default(),
                delta: text(w.delta).unwrap_or_default(),
            },
            "response.output_audio.done" => Self::AudioDone {
                item_id: text(w.item_id),
            },
            "response.output_audio_transcript.done" => Self::AgentTranscript {
                transcript: w.transcript,
            },
            "conversation.item.input_audio_transcription.completed" => Self::CallerTranscript {
                transcript: w.transcript,
            },
            "input_audio_buffer.speech_started" => Self::SpeechStarted,
            "input_audio_buffer.speech_stopped" => Self::SpeechStopped,
            "response.created" => Self::ResponseCreated,
            "response.output_item.done" => Self::OutputItemDone {
                item: match w.item {
                    Some(i) if i.kind.as_deref() == Some("function_call") => {
                        OutputItem::FunctionCall {
                            name: i.name.unwrap_or_default(),
                            call_id: i.call_id.unwrap_or_default(),
                            arguments: i.arguments.unwrap_or_else(|| "{}".into()),
                        }
                    }
                    _ => OutputItem::Other,
                },
            },
            "response.done" => Self::ResponseDone {
                usage: w.response.and_then(|r| r.usage),
            },
            "error" => {
                let e = w.error;
                Self::Error {
                    code: e.as_ref().and_then(|e| e.code.clone()),
                    message: e.and_then(|e| e.message),
                }
            }
            "session.updated" => {
                let audio = w.session.and_then(|s| s.audio);
                let (input, output) = match audio {
                    Some(a) => (a.input, a.output),
                    None => (None, None),
                };
                Self::SessionUpdated {
                    input_format: input.and_then(|d| d.format),
                    output_format: output.and_then(|d| d.format),
                }
            }
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shapes of the examples in OpenAI's Realtime API reference (server events, GA).
    const AUDIO_DELTA: &str = r#"{"event_id": "event_4950", "type": "response.output_audio.delta", "response_id": "resp_001", "item_id": "msg_008", "output_index": 0, "content_index": 0, "delta": "Base64EncodedAudioDelta"}"#;
    const AUDIO_DONE: &str = r#"{"event_id": "event_5152", "type": "response.output_audio.done", "response_id": "resp_001", "item_id": "msg_008", "output_index": 0, "content_index": 0}"#;
    const TRANSCRIPT_DONE: &str = r#"{"event_id": "event_4748", "type": "response.output_audio_transcript.done", "response_id": "resp_001", "item_id": "msg_008", "output_index": 0, "content_index": 0, "transcript": "Hello, how can I assist you today?"}"#;
    const CALLER_TRANSCRIPT: &str = r#"{"type": "conversation.item.input_audio_transcription.completed", "event_id": "event_CCXGRvtUVrax5SJAnNOWZ", "item_id": "item_CCXGQ4e1ht4cOraEYcuR2", "content_index": 0, "transcript": "Hey, can you hear me?", "usage": {"type": "tokens", "total_tokens": 22, "input_tokens": 13, "input_token_details": {"text_tokens": 0, "audio_tokens": 13}, "output_tokens": 9}}"#;
    const SPEECH_STARTED: &str = r#"{"event_id": "event_1516", "type": "input_audio_buffer.speech_started", "audio_start_ms": 1000, "item_id": "msg_003"}"#;
    const SPEECH_STOPPED: &str = r#"{"event_id": "event_1718", "type": "input_audio_buffer.speech_stopped", "audio_end_ms": 2000, "item_id": "msg_003"}"#;
    const RESPONSE_CREATED: &str = r#"{"type": "response.created", "event_id": "event_C9G8pqbTEddBSIxbBN6Os", "response": {"object": "realtime.response", "id": "resp_C9G8p7IH2WxLbkgPNouYL", "status": "in_progress", "status_details": null, "output": [], "conversation_id": "conv_C9G8mmBkLhQJwCon3hoJN", "output_modalities": ["audio"], "max_output_tokens": "inf", "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}}, "usage": null, "metadata": null}}"#;
    const FUNCTION_CALL_DONE: &str = r#"{"event_id": "event_3334", "type": "response.output_item.done", "response_id": "resp_001", "output_index": 0, "item": {"id": "item_001", "object": "realtime.item", "type": "function_call", "status": "completed", "name": "get_weather", "call_id": "call_001", "arguments": "{\"location\": \"San Francisco\"}"}}"#;
    const MESSAGE_DONE: &str = r#"{"event_id": "event_3334", "type": "response.output_item.done", "response_id": "resp_001", "output_index": 0, "item": {"id": "msg_007", "object": "realtime.item", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Sure, I can help with that."}]}}"#;
    const RESPONSE_DONE: &str = r#"{"type": "response.done", "event_id": "event_CCXHxcMy86rrKhBLDdqCh", "response": {"object": "realtime.response", "id": "resp_CCXHw0UJld10EzIUXQCNh", "status": "completed", "status_details": null, "output": [], "conversation_id": "conv_CCXHsurMKcaVxIZvaCI5m", "output_modalities": ["audio"], "max_output_tokens": "inf", "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}}, "usage": {"total_tokens": 253, "input_tokens": 132, "output_tokens": 121, "input_token_details": {"text_tokens": 119, "audio_tokens": 13, "image_tokens": 0, "cached_tokens": 64, "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0, "image_tokens": 0}}, "output_token_details": {"text_tokens": 30, "audio_tokens": 91}}, "metadata": null}}"#;
    const ERROR: &str = r#"{"event_id": "event_890", "type": "error", "error": {"type": "invalid_request_error", "code": "invalid_event", "message": "The 'type' field is missing.", "param": null, "event_id": "event_567"}}"#;
    const SESSION_UPDATED: &str = r#"{"type": "session.updated", "event_id": "event_C9G8mqI3IucaojlVKE8Cs", "session": {"type": "realtime", "object": "realtime.session", "id": "sess_C9G8l3zp50uFv4qgxfJ8o", "model": "gpt-realtime", "output_modalities": ["audio"], "instructions": "Speak only Romanian.", "tools": [{"type": "function", "name": "end_call", "description": "Ends the call.", "parameters": {"type": "object", "properties": {}}}], "tool_choice": "auto", "max_output_tokens": "inf", "tracing": null, "prompt": null, "expires_at": 1756324625, "audio": {"input": {"format": {"type": "audio/pcmu"}, "transcription": {"model": "gpt-4o-transcribe", "language": "ro"}, "noise_reduction": null, "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500, "idle_timeout_ms": null, "create_response": true, "interrupt_response": true}}, "output": {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.0}}, "include": null}}"#;
    const SESSION_CREATED: &str = r#"{"type": "session.created", "event_id": "event_C9G5RJeJ2gF77mV7f2B1j", "session": {"type": "realtime", "object": "realtime.session", "id": "sess_C9G5QPteg4UIbotdKLoYQ", "model": "gpt-realtime", "output_modalities": ["audio"], "instructions": "", "tools": [], "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}, "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}}}}"#;

    #[test]
    fn audio_events_parse_and_the_delta_borrows() {
        let ev = ServerEvent::parse(AUDIO_DELTA).unwrap();
        let ServerEvent::AudioDelta { item_id, delta } = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (&**item_id, &**delta),
            ("msg_008", "Base64EncodedAudioDelta")
        );
        assert!(matches!(delta, Cow::Borrowed(_)), "no copy of the audio");
        assert_eq!(
            ServerEvent::parse(AUDIO_DONE).unwrap(),
            ServerEvent::AudioDone {
                item_id: Some("msg_008".into())
            }
        );
        // A delta escaped by an encoder that escapes `/` still reads right.
        let escaped =
            r#"{"type": "response.output_audio.delta", "item_id": "i", "delta": "a\/b+"}"#;
        let ServerEvent::AudioDelta { delta, .. } = ServerEvent::parse(escaped).unwrap() else {
            panic!()
        };
        assert_eq!(delta, "a/b+");
    }

    #[test]
    fn transcripts_and_turns_parse() {
        assert_eq!(
            ServerEvent::parse(TRANSCRIPT_DONE).unwrap(),
            ServerEvent::AgentTranscript {
                transcript: Some("Hello, how can I assist you today?".into())
            }
        );
        assert_eq!(
            ServerEvent::parse(CALLER_TRANSCRIPT).unwrap(),
            ServerEvent::CallerTranscript {
                transcript: Some("Hey, can you hear me?".into())
            }
        );
        assert_eq!(
            ServerEvent::parse(SPEECH_STARTED).unwrap(),
            ServerEvent::SpeechStarted
        );
        assert_eq!(
            ServerEvent::parse(SPEECH_STOPPED).unwrap(),
            ServerEvent::SpeechStopped
        );
        assert_eq!(
            ServerEvent::parse(RESPONSE_CREATED).unwrap(),
            ServerEvent::ResponseCreated
        );
    }

    #[test]
    fn function_calls_are_told_from_other_items() {
        assert_eq!(
            ServerEvent::parse(FUNCTION_CALL_DONE).unwrap(),
            ServerEvent::OutputItemDone {
                item: OutputItem::FunctionCall {
                    name: "get_weather".into(),
                    call_id: "call_001".into(),
                    arguments: r#"{"location": "San Francisco"}"#.into(),
                }
            }
        );
        assert_eq!(
            ServerEvent::parse(MESSAGE_DONE).unwrap(),
            ServerEvent::OutputItemDone {
                item: OutputItem::Other
            }
        );
        let bare = r#"{"type": "response.output_item.done", "item": {"type": "function_call", "name": "end_call"}}"#;
        assert_eq!(
            ServerEvent::parse(bare).unwrap(),
            ServerEvent::OutputItemDone {
                item: OutputItem::FunctionCall {
                    name: "end_call".into(),
                    call_id: String::new(),
                    arguments: "{}".into(),
                }
            }
        );
    }

    #[test]
    fn response_done_carries_its_usage() {
        let ServerEvent::ResponseDone { usage: Some(u) } =
            ServerEvent::parse(RESPONSE_DONE).unwrap()
        else {
            panic!("usage")
        };
        assert_eq!((u.input_tokens, u.output_tokens), (132, 121));
        assert_eq!(
            (
                u.input_token_details.audio_tokens,
                u.input_token_details.cached_tokens,
                u.output_token_details.audio_tokens
            ),
            (13, 64, 91)
        );
        // `response.created` reports `usage: null`; a done without usage is not an error.
        assert_eq!(
            ServerEvent::parse(r#"{"type": "response.done", "response": {"usage": null}}"#)
                .unwrap(),
            ServerEvent::ResponseDone { usage: None }
        );
    }

    #[test]
    fn errors_and_session_updates_parse() {
        assert_eq!(
            ServerEvent::parse(ERROR).unwrap(),
            ServerEvent::Error {
                code: Some("invalid_event".into()),
                message: Some("The 'type' field is missing.".into())
            }
        );
        assert_eq!(
            ServerEvent::parse(SESSION_UPDATED).unwrap(),
            ServerEvent::SessionUpdated {
                input_format: Some(AudioFormat {
                    kind: "audio/pcmu".into(),
                    rate: None
                }),
                output_format: Some(AudioFormat {
                    kind: "audio/pcmu".into(),
                    rate: None
                }),
            }
        );
    }

    #[test]
    fn other_events_are_other_and_garbage_is_refused() {
        assert_eq!(
            ServerEvent::parse(SESSION_CREATED).unwrap(),
            ServerEvent::Other
        );
        assert_eq!(
            ServerEvent::parse(r#"{"type": "rate_limits.updated", "rate_limits": []}"#).unwrap(),
            ServerEvent::Other
        );
        for text in ["", "{not json", "[]", "{}", r#"{"type": 7}"#] {
            assert!(
                matches!(ServerEvent::parse(text), Err(ParseError::Invalid(_))),
                "{text:?} parsed"
            );
        }
        let long = format!(
            r#"{{"type": "response.output_audio.delta", "delta": "{}"}}"#,
            "A".repeat(MAX_EVENT_BYTES)
        );
        assert!(matches!(
            ServerEvent::parse(&long),
            Err(ParseError::TooLong { .. })
        ));
    }
}
