//! Twilio Media Streams messages (bidirectional streams), as JSON text frames, and the bounded
//! parse of what Twilio sends.
//!
//! The two messages Twilio sends fifty times a second, `media` and `mark`, are read without
//! allocating: their payload and name borrow from the text (unless it escapes them, which
//! Twilio does not). The rest, a few per call, are read as owned values.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The longest message the relay reads from Twilio. Media messages are a few hundred bytes and
/// `start` (with our `<Parameter>`s and the stream token) well under 4 KiB; this leaves room
/// for Twilio adding fields, not for megabytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The longest WebSocket frame the relay reads from Twilio: Twilio sends each message in one
/// frame, and every legitimate message fits in this.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// The most audio one inbound `media` message may carry. Twilio sends 20 ms (160 bytes of
/// μ-law); anything past a few hundred milliseconds is not Twilio.
pub const MAX_MEDIA_MS: usize = 500;
/// [`MAX_MEDIA_MS`] of μ-law at 8 kHz, as base64 characters.
pub const MAX_MEDIA_PAYLOAD_CHARS: usize = (MAX_MEDIA_MS * 8).div_ceil(3) * 4;

/// Why a message from Twilio was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is longer than [`MAX_MESSAGE_BYTES`].
    #[error("the message is {len} bytes, more than {MAX_MESSAGE_BYTES}")]
    TooLong { len: usize },
    /// A `media` payload is longer than [`MAX_MEDIA_PAYLOAD_CHARS`].
    #[error("the media payload is {len} characters, more than {MAX_MEDIA_PAYLOAD_CHARS}")]
    MediaTooLong { len: usize },
    /// The text is not one of the messages below. The source may quote part of the input:
    /// never log it.
    #[error("not a Media Streams message")]
    Invalid(#[source] serde_json::Error),
}

/// What Twilio sends; `media` and `mark` borrow from the text they were parsed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Inbound<'a> {
    /// The WebSocket is up.
    Connected {
        #[serde(default)]
        protocol: String,
    },
    /// The stream starts: who is calling, the format, our `<Parameter>`s.
    Start {
        start: Start,
        #[serde(rename = "streamSid", default)]
        stream_sid: String,
    },
    /// 20 ms of the caller's audio.
    Media {
        #[serde(borrow)]
        media: Media<'a>,
    },
    /// Audio sent before this mark has played.
    Mark {
        #[serde(borrow)]
        mark: MarkName<'a>,
    },
    /// A key pressed.
    Dtmf { dtmf: Dtmf },
    /// The call ended (the caller hung up, or the stream was stopped).
    Stop {
        #[serde(default)]
        stop: Stop,
    },
}

/// What `stop` says. Only the ids are kept: anything else in it is dropped at the parse, so a
/// hostile peer's arbitrary JSON is never held or echoed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stop {
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub call_sid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub stream_sid: String,
    pub call_sid: String,
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub tracks: Vec<String>,
    pub media_format: MediaFormat,
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    pub encoding: String,
    pub sample_rate: u32,
    pub channels: u32,
}

impl MediaFormat {
    /// Returns whether this is the μ-law 8 kHz mono the relay speaks.
    pub fn is_mulaw_8k_mono(&self) -> bool {
        self.encoding == "audio/x-mulaw" && self.sample_rate == 8000 && self.channels == 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media<'a> {
    /// Base64 μ-law.
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
    #[serde(
        default,
        borrow,
        deserialize_with = "borrowed",
        skip_serializing_if = "Option::is_none"
    )]
    pub track: Option<Cow<'a, str>>,
    #[serde(
        default,
        borrow,
        deserialize_with = "borrowed",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<Cow<'a, str>>,
}

/// The name of a mark Twilio echoes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkName<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

/// A string that borrows from the text unless it had escapes. serde borrows a `Cow<str>` only
/// when it is the field's whole type, so an optional one goes through this.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Reads an optional string, borrowed where it can be.
fn borrowed<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

/// The one field every message has. Read first, so the hot messages are read as plain structs:
/// serde reads a tagged enum by buffering the message, which allocates.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    event: Text<'a>,
}

/// A `media` message: what the `Media` variant reads, and nothing else.
#[derive(Deserialize)]
struct MediaMessage<'a> {
    #[serde(borrow)]
    media: Media<'a>,
}

/// A `mark` message: what the `Mark` variant reads, and nothing else.
#[derive(Deserialize)]
struct MarkMessage<'a> {
    #[serde(borrow)]
    mark: MarkName<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dtmf {
    pub digit: String,
    #[serde(default)]
    pub track: String,
}

impl<'a> Inbound<'a> {
    /// Parses one text message from Twilio, refusing oversized text and oversized audio.
    ///
    /// `media` and `mark` are read without allocating (their strings borrow from `text`);
    /// they accept and refuse exactly what the derived reading of the enum does.
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(ParseError::TooLong { len: text.len() });
        }
        let Event { event } = serde_json::from_str(text).map_err(ParseError::Invalid)?;
        let msg = match &*event.0 {
            "media" => {
                serde_json::from_str(text).map(|m: MediaMessage<'a>| Self::Media { media: m.media })
            }
            "mark" => {
                serde_json::from_str(text).map(|m: MarkMessage<'a>| Self::Mark { mark: m.mark })
            }
            _ => serde_json::from_str(text),
        }
        .map_err(ParseError::Invalid)?;
        if let Self::Media { media } = &msg
            && media.payload.len() > MAX_MEDIA_PAYLOAD_CHARS
        {
            return Err(ParseError::MediaTooLong {
                len: media.payload.len(),
            });
        }
        Ok(msg)
    }
}

/// What the relay sends Twilio. The relay writes these texts itself, without allocating (its
/// `call::outbox`); this type is their shape, which its tests read them back with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Outbound {
    /// Audio to play, base64 μ-law.
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        media: OutboundMedia,
    },
    /// Tell us when the audio before this has played.
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        mark: OutboundMark,
    },
    /// Drop the audio still queued (the caller spoke over the agent).
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMedia {
    pub payload: String,
}

/// The name of a mark the relay sends, echoed once the audio before it has played.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMark {
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shapes of the examples on Twilio's "Media Streams - WebSocket Messages" page.
    const CONNECTED: &str = r#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#;
    const START: &str = r#"{
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"FirstName": "Jane", "LastName": "Doe", "RemoteParty": "Bob"}
        },
        "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    }"#;
    const MEDIA: &str = r#"{
        "event": "media",
        "sequenceNumber": "3",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
                  "payload": "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDRg1qZSLh4aIjJevLBUMBwYHCxUqtpiNiYaHio+WoTQbDwkHBwoQHC6ymo+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7Jg=="},
        "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    }"#;
    const MARK: &str = r#"{"event": "mark", "sequenceNumber": "4", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "mark": {"name": "my label"}}"#;
    const DTMF: &str = r#"{"event": "dtmf", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "1"}}"#;
    const STOP: &str = r#"{"event": "stop", "sequenceNumber": "5", "stop": {"accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}, "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#;

    #[test]
    fn twilios_documented_messages_parse() {
        assert_eq!(
            Inbound::parse(CONNECTED).unwrap(),
            Inbound::Connected {
                protocol: "Call".into()
            }
        );
        let Inbound::Start { start, stream_sid } = Inbound::parse(START).unwrap() else {
            panic!("start")
        };
        assert_eq!(stream_sid, "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(start.call_sid, "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(start.tracks, ["inbound"]);
        assert!(start.media_format.is_mulaw_8k_mono());
        assert_eq!(start.custom_parameters["RemoteParty"], "Bob");
        let Inbound::Media { media } = Inbound::parse(MEDIA).unwrap() else {
            panic!("media")
        };
        assert_eq!(media.track.as_deref(), Some("inbound"));
        assert!(media.payload.starts_with("no+J"));
        assert_eq!(
            Inbound::parse(MARK).unwrap(),
            Inbound::Mark {
                mark: MarkName {
                    name: "my label".into()
                }
            }
        );
        let Inbound::Dtmf { dtmf } = Inbound::parse(DTMF).unwrap() else {
            panic!("dtmf")
        };
        assert_eq!(
            (dtmf.digit.as_str(), dtmf.track.as_str()),
            ("1", "inbound_track")
        );
        assert!(matches!(
            Inbound::parse(STOP).unwrap(),
            Inbound::Stop { .. }
        ));
    }

    #[test]
    fn media_and_marks_borrow_from_the_text() {
        let Inbound::Media { media } = Inbound::parse(MEDIA).unwrap() else {
            panic!("media")
        };
        assert!(matches!(media.payload, Cow::Borrowed(_)));
        assert!(matches!(media.track, Some(Cow::Borrowed("inbound"))));
        let Inbound::Mark { mark } = Inbound::parse(MARK).unwrap() else {
            panic!("mark")
        };
        assert!(matches!(mark.name, Cow::Borrowed("my label")));
        // Escaped text still reads, into an owned string.
        let escaped = r#"{"event":"media","media":{"payload":"\/w=="}}"#;
        let Inbound::Media { media } = Inbound::parse(escaped).unwrap() else {
            panic!("media")
        };
        assert_eq!(media.payload, "/w==");
    }

    #[test]
    fn the_hot_path_reads_as_the_derived_enum_does() {
        for text in [
            MEDIA,
            MARK,
            START,
            STOP,
            // Fields in any order; the tag's value escaped.
            r#"{"media": {"payload": "AA=="}, "event": "media"}"#,
            r#"{"event": "m\u0061rk", "mark": {"name": "0-1"}}"#,
            // Another message's field is ignored, whatever it holds...
            r#"{"event": "mark", "mark": {"name": "0-1"}, "media": 7}"#,
            r#"{"event": "stop", "media": {"payload": 1}}"#,
            // ...but the message's own must be right, and given once.
            r#"{"event": "media", "media": {"payload": 1}}"#,
            r#"{"event": "media", "media": {}}"#,
            r#"{"event": "mark", "mark": {"name": null}}"#,
            r#"{"event": "mark", "mark": null}"#,
            r#"{"event": "mark", "mark": {"name": "a"}, "mark": {"name": "b"}}"#,
            r#"{"event": "mark", "event": "mark", "mark": {"name": "a"}}"#,
            r#"{"event": "media", "media": {"payload": "AA=="}} trailing"#,
            r#"{"event": 5, "media": {"payload": "AA=="}}"#,
        ] {
            let derived = serde_json::from_str::<Inbound>(text).ok();
            assert_eq!(Inbound::parse(text).ok(), derived, "{text}");
        }
    }

    #[test]
    fn a_stop_keeps_its_ids_and_nothing_else() {
        // Found by fuzzing: a float deep inside `stop` did not survive a round trip, because
        // the whole object was kept as arbitrary JSON.
        let text = r#"{"event":"stop","sequencber":"6","streamSid":"MZ1","stop":{"@l":[999999444444044442223e-249],"callSid":"CA0","x":{"y":"+407@21f"}}}"#;
        let parsed = Inbound::parse(text).unwrap();
        assert_eq!(
            parsed,
            Inbound::Stop {
                stop: Stop {
                    account_sid: String::new(),
                    call_sid: "CA0".into()
                }
            }
        );
        let again = serde_json::to_string(&parsed).unwrap();
        assert_eq!(Inbound::parse(&again).unwrap(), parsed);
    }

    #[test]
    fn what_the_relay_sends_has_twilios_shape() {
        let out = |m: Outbound| serde_json::to_value(m).unwrap();
        assert_eq!(
            out(Outbound::Clear {
                stream_sid: "MZ1".into()
            }),
            serde_json::json!({"event": "clear", "streamSid": "MZ1"})
        );
        assert_eq!(
            out(Outbound::Media {
                stream_sid: "MZ1".into(),
                media: OutboundMedia {
                    payload: "/w==".into()
                }
            }),
            serde_json::json!({"event": "media", "streamSid": "MZ1", "media": {"payload": "/w=="}})
        );
        assert_eq!(
            out(Outbound::Mark {
                stream_sid: "MZ1".into(),
                mark: OutboundMark { name: "0-1".into() }
            }),
            serde_json::json!({"event": "mark", "streamSid": "MZ1", "mark": {"name": "0-1"}})
        );
    }

    #[test]
    fn garbage_and_unknown_events_are_refused() {
        for text in [
            "",
            "{not json",
            "[]",
            r#"{"event": "telepathy"}"#,
            r#"{"event": "media"}"#,
            r#"{"event": "start", "start": {"callSid": "CA1"}}"#,
        ] {
            assert!(
                matches!(Inbound::parse(text), Err(ParseError::Invalid(_))),
                "{text:?} parsed"
            );
        }
    }

    #[test]
    fn oversized_text_is_refused_before_parsing() {
        let padding = " ".repeat(MAX_MESSAGE_BYTES);
        let text = format!("{CONNECTED}{padding}");
        assert!(matches!(
            Inbound::parse(&text),
            Err(ParseError::TooLong { len }) if len == text.len()
        ));
    }

    #[test]
    fn media_longer_than_a_few_hundred_ms_is_refused() {
        let media = |chars: usize| {
            format!(
                r#"{{"event": "media", "media": {{"payload": "{}"}}}}"#,
                "A".repeat(chars)
            )
        };
        assert!(Inbound::parse(&media(MAX_MEDIA_PAYLOAD_CHARS)).is_ok());
        assert!(matches!(
            Inbound::parse(&media(MAX_MEDIA_PAYLOAD_CHARS + 4)),
            Err(ParseError::MediaTooLong { .. })
        ));
        // 500 ms of μ-law is 4,000 bytes: 5,336 base64 characters.
        assert_eq!(MAX_MEDIA_PAYLOAD_CHARS, 5336);
    }
}
