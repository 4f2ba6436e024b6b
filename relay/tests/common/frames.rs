//! The per-frame messages of a call as both peers write them, and a call brought to the point
//! where they flow: shared by the call-core allocation test (`tests/no_alloc_call.rs`) and the
//! call-core benchmarks (`benches/call.rs`), which include this file by path.

#![allow(dead_code)]

use std::collections::VecDeque;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use salon_relay::audio::AudioMode;
use salon_relay::call::hot_path::{CallCore, To};

/// Twilio's stream SID for the call (what `CallCore` sets up).
pub const STREAM_SID: &str = "MZ00000000000000000000000000000000";

/// A 1 kHz tone at −6 dBFS, `n` samples at `rate`.
fn tone(n: usize, rate: f64) -> impl Iterator<Item = i16> {
    (0..n).map(move |i| {
        (16_384.0 * (2.0 * std::f64::consts::PI * 1_000.0 * i as f64 / rate).sin()) as i16
    })
}

/// 20 ms of the caller's μ-law, as Twilio sends it.
pub fn twilio_audio() -> Vec<u8> {
    tone(160, 8_000.0)
        .map(salon_relay::audio::mulaw::encode)
        .collect()
}

/// 20 ms of the model's audio in `mode`'s format: 160 bytes of μ-law, or 960 of PCM16 at 24 kHz.
pub fn model_audio(mode: AudioMode) -> Vec<u8> {
    match mode {
        AudioMode::Pcmu => twilio_audio(),
        AudioMode::Pcm24 => tone(480, 24_000.0).flat_map(i16::to_le_bytes).collect(),
    }
}

/// A Twilio `media` message, shaped as on Twilio's "Media Streams - WebSocket Messages" page.
pub fn twilio_media(seq: u32, mulaw: &[u8]) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{}","payload":"{}"}},"streamSid":"{STREAM_SID}"}}"#,
        seq * 20,
        B64.encode(mulaw)
    )
}

/// A `response.output_audio.delta`, shaped as the Realtime API sends it.
pub fn audio_delta(item: &str, audio: &[u8]) -> String {
    format!(
        r#"{{"type":"response.output_audio.delta","event_id":"event_CdGq6v9Lx2fJ0m1nW8pQz","response_id":"resp_CdGq6aBcDeFgHiJkLmNoP","item_id":"{item}","output_index":0,"content_index":0,"delta":"{}"}}"#,
        B64.encode(audio)
    )
}

/// `session.updated` echoing `mode`'s format both ways.
pub fn session_updated(mode: AudioMode) -> String {
    let format = match mode {
        AudioMode::Pcmu => r#"{"type":"audio/pcmu"}"#,
        AudioMode::Pcm24 => r#"{"type":"audio/pcm","rate":24000}"#,
    };
    format!(
        r#"{{"type":"session.updated","session":{{"audio":{{"input":{{"format":{format}}},"output":{{"format":{format}}}}}}}}}"#
    )
}

/// The marks the relay sent and Twilio has not echoed yet, as Twilio's echo texts, in reusable
/// strings: noting a mark and taking its echo allocate nothing once the ring has room.
pub struct MarkEchoes {
    /// Echo texts waiting, oldest first.
    waiting: VecDeque<String>,
    /// Spent strings, kept for their capacity.
    spare: Vec<String>,
}

impl MarkEchoes {
    pub fn new() -> Self {
        Self {
            waiting: VecDeque::with_capacity(1024),
            spare: (0..1024).map(|_| String::with_capacity(256)).collect(),
        }
    }

    /// Notes a text the relay sent Twilio: if it is a mark, queues Twilio's echo of it.
    pub fn note(&mut self, text: &str) {
        const NAME: &str = r#""name":""#;
        if !text.contains(r#""event":"mark""#) {
            return;
        }
        let start = text.find(NAME).expect("a mark has a name") + NAME.len();
        let len = text[start..].find('"').expect("the name ends");
        let name = &text[start..start + len];
        let mut echo = self.spare.pop().unwrap_or_default();
        echo.clear();
        echo.push_str(r#"{"event":"mark","sequenceNumber":"4","streamSid":""#);
        echo.push_str(STREAM_SID);
        echo.push_str(r#"","mark":{"name":""#);
        echo.push_str(name);
        echo.push_str(r#""}}"#);
        self.waiting.push_back(echo);
    }

    /// Copies the oldest waiting echo into `into`; `false` if none waits.
    pub fn next(&mut self, into: &mut String) -> bool {
        let Some(echo) = self.waiting.pop_front() else {
            return false;
        };
        into.clear();
        into.push_str(&echo);
        self.spare.push(echo);
        true
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }
}

/// A call in `mode` with its session live and the greeting playing: the model has sent its
/// first deltas and Twilio echoed their marks. Every text the relay sent on the way is checked
/// to be JSON.
pub fn playing(mode: AudioMode) -> (CallCore, MarkEchoes) {
    fn check(to: To, text: &str, marks: &mut MarkEchoes) {
        serde_json::from_str::<serde_json::Value>(text).expect("the relay sends JSON");
        if to == To::Twilio {
            marks.note(text);
        }
    }
    let mut marks = MarkEchoes::new();
    let mut core = CallCore::connected(mode, |to, t| {
        assert_eq!(to, To::Realtime, "session.update");
        serde_json::from_str::<serde_json::Value>(t).expect("the relay sends JSON");
    });
    core.realtime(&session_updated(mode), |to, t| check(to, t, &mut marks));
    core.realtime(r#"{"type":"response.created"}"#, |to, t| {
        check(to, t, &mut marks)
    });
    let delta = audio_delta("item_greeting", &model_audio(mode));
    let mut echo = String::new();
    for _ in 0..5 {
        core.realtime(&delta, |to, t| check(to, t, &mut marks));
        while marks.next(&mut echo) {
            core.twilio(&echo, |to, t| check(to, t, &mut marks));
        }
    }
    (core, marks)
}
