//! The texts a call sends, written by the call into one buffer it reuses: the per-frame ones
//! (Twilio's `media` and `mark`, the model's `input_audio_buffer.append`) by hand, with no
//! allocation once the buffer has grown to a batch's size; the rare ones through serde_json.
//!
//! A batch is what the machine outputs for one input. The driver sends the batch's texts, then
//! feeds the next input; only then is the buffer reused, so a [`Text`] is read while its batch
//! is current, and reading one from an earlier batch is a bug caught at once.

use std::fmt::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::openai::ClientEvent;

/// Room for a batch of a few frames with their marks; a larger batch grows it once. Small,
/// because it is per call.
const INITIAL_CAPACITY: usize = 2 * 1024;

/// Where a text of the current batch is in the [`Outbox`]. Neither `Clone` nor `Copy`: it lives
/// in the output that carries it, and goes when that output is performed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Text {
    batch: u64,
    start: usize,
    end: usize,
}

/// A mark the call sends after audio; Twilio echoes its name once that audio has played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// After a frame: named `{epoch}-{seq}`.
    Frame { epoch: u64, seq: u64 },
    /// After a goodbye's last frame: named `{epoch}-end`.
    End { epoch: u64 },
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Frame { epoch, seq } => write!(f, "{epoch}-{seq}"),
            Self::End { epoch } => write!(f, "{epoch}-end"),
        }
    }
}

impl Mark {
    /// Returns whether `name` is this mark's name, as a string comparison would, without
    /// writing the name anywhere.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        /// Compares what is written with what is left of the name.
        struct Rest<'a>(&'a str);
        impl Write for Rest<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Rest(name);
        write!(rest, "{self}").is_ok() && rest.0.is_empty()
    }
}

/// The call's outgoing texts for the current batch, back to back in one reused buffer.
#[derive(Debug)]
pub(crate) struct Outbox {
    buf: String,
    /// Counts batches, so a [`Text`] from an earlier one is refused.
    batch: u64,
}

impl Outbox {
    pub(crate) fn new() -> Self {
        Self {
            buf: String::with_capacity(INITIAL_CAPACITY),
            batch: 0,
        }
    }

    /// Starts a new batch: the last one's texts were sent, their room is reused.
    pub(crate) fn next_batch(&mut self) {
        self.buf.clear();
        self.batch += 1;
    }

    /// The text `text` refers to.
    ///
    /// # Panics
    ///
    /// If `text` belongs to an earlier batch (its room has been reused).
    pub(crate) fn get(&self, text: &Text) -> &str {
        assert_eq!(text.batch, self.batch, "a text read after its batch");
        &self.buf[text.start..text.end]
    }

    /// Writes one text with `write` and returns where it is.
    fn write(&mut self, write: impl FnOnce(&mut String)) -> Text {
        let start = self.buf.len();
        write(&mut self.buf);
        Text {
            batch: self.batch,
            start,
            end: self.buf.len(),
        }
    }

    /// Twilio `media`: `mulaw` to play, as base64.
    pub(crate) fn media(&mut self, stream_sid: &str, mulaw: &[u8]) -> Text {
        self.write(|buf| {
            buf.push_str(r#"{"event":"media","streamSid":"#);
            json_string(buf, stream_sid);
            buf.push_str(r#","media":{"payload":""#);
            // Base64's alphabet (A-Z, a-z, 0-9, +, /, =) needs no escaping in JSON.
            B64.encode_string(mulaw, buf);
            buf.push_str(r#""}}"#);
        })
    }

    /// Twilio `mark`: tell the relay when the audio sent before it has played.
    pub(crate) fn mark(&mut self, stream_sid: &str, mark: Mark) -> Text {
        self.write(|buf| {
            buf.push_str(r#"{"event":"mark","streamSid":"#);
            json_string(buf, stream_sid);
            // A mark's name is digits, '-' and "end": nothing to escape.
            write!(buf, r#","mark":{{"name":"{mark}"}}}}"#).expect("a String takes any text");
        })
    }

    /// Twilio `clear`: drop the audio still queued.
    pub(crate) fn clear(&mut self, stream_sid: &str) -> Text {
        self.write(|buf| {
            buf.push_str(r#"{"event":"clear","streamSid":"#);
            json_string(buf, stream_sid);
            buf.push('}');
        })
    }

    /// `input_audio_buffer.append`: caller audio for the model, as base64.
    pub(crate) fn append(&mut self, audio: &[u8]) -> Text {
        self.write(|buf| {
            buf.push_str(r#"{"type":"input_audio_buffer.append","audio":""#);
            B64.encode_string(audio, buf);
            buf.push_str(r#""}"#);
        })
    }

    /// Any other event for the model (a few per turn), as serde_json writes it.
    pub(crate) fn event(&mut self, event: ClientEvent) -> Text {
        let json = event.into_json();
        self.write(|buf| write!(buf, "{json}").expect("a String takes any text"))
    }
}

/// Writes `s` as a JSON string, quotes included, escaped as serde_json escapes it. The stream
/// SID is Twilio's (two letters and 32 hex digits), but it comes off the wire: escaping it costs
/// a scan and means no SID can break the JSON.
fn json_string(buf: &mut String, s: &str) {
    buf.push('"');
    let mut plain = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0x00..=0x1F => "",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `i` is on a character boundary.
        buf.push_str(&s[plain..i]);
        if escape.is_empty() {
            write!(buf, "\\u{byte:04x}").expect("a String takes any text");
        } else {
            buf.push_str(escape);
        }
        plain = i + 1;
    }
    buf.push_str(&s[plain..]);
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twilio::{OutboundMark, OutboundMedia};
    use salon_relay_protocol::twilio::Outbound;

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let all_ascii: String = (0u8..128).map(char::from).collect();
        for s in [
            "MZ0123456789abcdef0123456789abcdef",
            "",
            "\"",
            "\\",
            "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{0}i\u{1f}j\u{7f}",
            "ăâîșț — „ghilimele”",
            &all_ascii,
        ] {
            let mut buf = String::new();
            json_string(&mut buf, s);
            assert_eq!(buf, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn twilio_texts_are_what_serde_json_writes_for_the_messages() {
        let sid = "MZ\"odd\\sid\n";
        let mut outbox = Outbox::new();
        let media = outbox.media(sid, &[0xFF, 0x00, 0x7E, 0x12]);
        let mark = outbox.mark(
            sid,
            Mark::Frame {
                epoch: 3,
                seq: 1234,
            },
        );
        let end = outbox.mark(sid, Mark::End { epoch: 0 });
        let clear = outbox.clear(sid);
        let json = |m: Outbound| serde_json::to_string(&m).unwrap();
        assert_eq!(
            outbox.get(&media),
            json(Outbound::Media {
                stream_sid: sid.into(),
                media: OutboundMedia {
                    payload: B64.encode([0xFF, 0x00, 0x7E, 0x12])
                }
            })
        );
        assert_eq!(
            outbox.get(&mark),
            json(Outbound::Mark {
                stream_sid: sid.into(),
                mark: OutboundMark {
                    name: "3-1234".into()
                }
            })
        );
        assert_eq!(
            outbox.get(&end),
            json(Outbound::Mark {
                stream_sid: sid.into(),
                mark: OutboundMark {
                    name: "0-end".into()
                }
            })
        );
        assert_eq!(
            outbox.get(&clear),
            json(Outbound::Clear {
                stream_sid: sid.into()
            })
        );
    }

    #[test]
    fn an_append_means_what_the_typed_event_meant() {
        let mut outbox = Outbox::new();
        let audio = [1u8, 2, 3, 250, 251];
        let append = outbox.append(&audio);
        let read: serde_json::Value = serde_json::from_str(outbox.get(&append)).unwrap();
        assert_eq!(
            read,
            serde_json::json!({"type": "input_audio_buffer.append", "audio": B64.encode(audio)})
        );
    }

    #[test]
    fn marks_know_their_names() {
        let frame = Mark::Frame { epoch: 2, seq: 17 };
        assert!(frame.is_named("2-17"));
        for other in [
            "2-1", "2-170", "2-017", "02-17", "+2-17", "2-17 ", "", "2-end",
        ] {
            assert!(!frame.is_named(other), "{other:?}");
        }
        assert!(Mark::End { epoch: 0 }.is_named("0-end"));
        assert!(!Mark::End { epoch: 0 }.is_named("0-en"));
    }

    #[test]
    #[should_panic(expected = "a text read after its batch")]
    fn a_text_from_an_earlier_batch_is_refused() {
        let mut outbox = Outbox::new();
        let old = outbox.clear("MZ1");
        outbox.next_batch();
        outbox.clear("MZ2");
        outbox.get(&old);
    }
}
