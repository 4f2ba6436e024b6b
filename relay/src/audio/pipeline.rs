//! The per-call audio path between Twilio (μ-law 8 kHz) and OpenAI, in either of two modes.
//!
//! In [`AudioMode::Pcmu`] OpenAI speaks μ-law itself and the relay passes bytes through; in
//! [`AudioMode::Pcm24`] it speaks 24 kHz PCM16 and the relay transcodes: μ-law → PCM16 →
//! 24 kHz on the way in, 24 kHz → 8 kHz → μ-law on the way out.
//!
//! Everything here is sans-I/O: it takes decoded payload bytes (base64 is the caller's) and
//! writes into buffers allocated when the call starts. After that the per-frame path does not
//! allocate (tests/no_alloc.rs counts).

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use crate::audio::chunker::{FRAME_BYTES, OutboundChunker};
use crate::audio::mulaw;
use crate::audio::resample::{Downsampler, Upsampler};

/// Samples of 24 kHz PCM decoded from a delta per resampler call: 20 ms.
const OUT_SCRATCH: usize = 480;

/// The largest run the downsampler hands its sink: 10 ms at 8 kHz.
const OUT_MULAW: usize = 80;

/// Why an audio mode name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioModeError {
    /// The name is neither `pcmu` nor `pcm24`.
    #[error("unknown audio mode {0:?}: use \"pcmu\" (pass-through) or \"pcm24\" (24 kHz PCM)")]
    Unknown(String),
}

/// The audio format spoken with OpenAI; Twilio always gets μ-law at 8 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AudioMode {
    /// OpenAI speaks G.711 μ-law at 8 kHz: the relay passes bytes through untouched.
    #[default]
    Pcmu,
    /// OpenAI speaks PCM16 little-endian at 24 kHz: the relay transcodes both ways.
    Pcm24,
}

impl AudioMode {
    /// Parses a mode name as written in configuration: `pcmu` or `pcm24` (any case, trimmed).
    pub fn parse(name: &str) -> Result<Self, AudioModeError> {
        let trimmed = name.trim();
        if trimmed.eq_ignore_ascii_case("pcmu") {
            Ok(Self::Pcmu)
        } else if trimmed.eq_ignore_ascii_case("pcm24") {
            Ok(Self::Pcm24)
        } else {
            Err(AudioModeError::Unknown(name.to_owned()))
        }
    }

    /// The configuration name of this mode, the one [`AudioMode::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pcmu => "pcmu",
            Self::Pcm24 => "pcm24",
        }
    }

    /// The `format` object for `session.audio.input` and `.output` in OpenAI's `session.update`.
    pub fn openai_format(self) -> Value {
        match self {
            Self::Pcmu => json!({ "type": "audio/pcmu" }),
            Self::Pcm24 => json!({ "type": "audio/pcm", "rate": 24_000 }),
        }
    }
}

impl fmt::Display for AudioMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AudioMode {
    type Err = AudioModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Turns Twilio's μ-law 8 kHz frames into PCM16 little-endian 24 kHz bytes for OpenAI.
#[derive(Debug)]
pub struct InboundPcm24 {
    /// 8 kHz → 24 kHz, holding the filter state across frames.
    up: Upsampler,
    /// One decoded Twilio frame.
    pcm8: [i16; FRAME_BYTES],
    /// The reusable output: PCM16 LE at 24 kHz, 6 bytes per input byte.
    out: Vec<u8>,
}

impl InboundPcm24 {
    /// Builds the inbound path for one call, allocating its buffers.
    pub fn new() -> Self {
        Self {
            up: Upsampler::new(),
            pcm8: [0; FRAME_BYTES],
            // A 20 ms frame gives 480 samples of 2 bytes; larger frames grow it once.
            out: Vec::with_capacity(6 * FRAME_BYTES),
        }
    }

    /// Transcodes one Twilio payload (any length, normally 160 bytes) and returns the PCM bytes for OpenAI.
    ///
    /// The result is overwritten by the next call. The first frame comes out 5 ms
    /// (the resampler's delay) short; after that each frame gives its full length.
    pub fn process(&mut self, mulaw_bytes: &[u8]) -> &[u8] {
        self.out.clear();
        let Self { up, pcm8, out } = self;
        for frame in mulaw_bytes.chunks(FRAME_BYTES) {
            let pcm8 = &mut pcm8[..frame.len()];
            mulaw::decode_into(frame, pcm8);
            up.process(pcm8, |pcm24| {
                for sample in pcm24 {
                    out.extend_from_slice(&sample.to_le_bytes());
                }
            });
        }
        &self.out
    }

    /// The algorithmic delay added on the way in, in milliseconds.
    pub fn delay_ms(&self) -> f64 {
        self.up.delay_ms()
    }
}

impl Default for InboundPcm24 {
    fn default() -> Self {
        Self::new()
    }
}

/// Turns OpenAI's PCM16 LE 24 kHz deltas into μ-law 8 kHz bytes queued in an [`OutboundChunker`].
///
/// A delta may end in the middle of a sample (an odd byte count); that byte waits for the next delta.
#[derive(Debug)]
pub struct OutboundPcm24 {
    /// 24 kHz → 8 kHz, filtering above 4 kHz so nothing folds back.
    down: Downsampler,
    /// The low byte of a sample whose high byte is in the next delta.
    carry: Option<u8>,
    /// Samples decoded from the current delta, fed to the downsampler 20 ms at a time.
    pcm24: [i16; OUT_SCRATCH],
    /// μ-law for one run of the downsampler's output.
    mulaw: [u8; OUT_MULAW],
}

impl OutboundPcm24 {
    /// Builds the outbound path for one call, allocating its buffers.
    pub fn new() -> Self {
        Self {
            down: Downsampler::new(),
            carry: None,
            pcm24: [0; OUT_SCRATCH],
            mulaw: [0; OUT_MULAW],
        }
    }

    /// Transcodes one delta (already base64-decoded) and queues the μ-law in `chunker`.
    pub fn push(&mut self, mut pcm_le: &[u8], chunker: &mut OutboundChunker) {
        let mut n = 0;
        if let Some(low) = self.carry.take() {
            let Some((&high, rest)) = pcm_le.split_first() else {
                self.carry = Some(low);
                return;
            };
            self.pcm24[0] = i16::from_le_bytes([low, high]);
            n = 1;
            pcm_le = rest;
        }
        let mut pairs = pcm_le.chunks_exact(2);
        loop {
            // `zip` asks the slots first, so a pair is never taken without a slot for it.
            for (slot, pair) in self.pcm24[n..].iter_mut().zip(&mut pairs) {
                *slot = i16::from_le_bytes([pair[0], pair[1]]);
                n += 1;
            }
            if n == 0 {
                break;
            }
            let Self {
                down, pcm24, mulaw, ..
            } = self;
            down.process(&pcm24[..n], |pcm8| {
                let codes = &mut mulaw[..pcm8.len()];
                mulaw::encode_into(pcm8, codes);
                chunker.push(codes);
            });
            n = 0;
        }
        if let [odd] = pairs.remainder() {
            self.carry = Some(*odd);
        }
    }

    /// Ends a response: queues the audio still inside the resampler (up to 15 ms) in `chunker`.
    ///
    /// A lone odd byte left over is half a sample and is dropped. The next response starts clean.
    pub fn finish(&mut self, chunker: &mut OutboundChunker) {
        self.carry = None;
        let Self { down, mulaw, .. } = self;
        down.flush(|pcm8| {
            let codes = &mut mulaw[..pcm8.len()];
            mulaw::encode_into(pcm8, codes);
            chunker.push(codes);
        });
    }

    /// Drops the audio inside (the caller barged in), as if newly built.
    pub fn reset(&mut self) {
        self.carry = None;
        self.down.reset();
    }

    /// The algorithmic delay added on the way out, in milliseconds.
    pub fn delay_ms(&self) -> f64 {
        self.down.delay_ms()
    }
}

impl Default for OutboundPcm24 {
    fn default() -> Self {
        Self::new()
    }
}

/// Caller audio from Twilio to OpenAI, in the call's [`AudioMode`].
#[derive(Debug)]
pub enum InboundAudio {
    /// μ-law both sides: bytes pass through.
    Pcmu,
    /// μ-law 8 kHz in, PCM16 24 kHz out.
    Pcm24(Box<InboundPcm24>),
}

impl InboundAudio {
    /// Builds the inbound path for one call.
    pub fn new(mode: AudioMode) -> Self {
        match mode {
            AudioMode::Pcmu => Self::Pcmu,
            AudioMode::Pcm24 => Self::Pcm24(Box::default()),
        }
    }

    /// Returns the bytes to send to OpenAI for one Twilio payload: the payload itself in
    /// `Pcmu` mode, its 24 kHz PCM in `Pcm24` mode.
    pub fn process<'a>(&'a mut self, mulaw_bytes: &'a [u8]) -> &'a [u8] {
        match self {
            Self::Pcmu => mulaw_bytes,
            Self::Pcm24(inbound) => inbound.process(mulaw_bytes),
        }
    }

    /// The delay this path adds, in milliseconds (0 for pass-through).
    pub fn delay_ms(&self) -> f64 {
        match self {
            Self::Pcmu => 0.0,
            Self::Pcm24(inbound) => inbound.delay_ms(),
        }
    }
}

/// Model audio from OpenAI to Twilio, in the call's [`AudioMode`], cut into 20 ms frames.
///
/// Push each delta, then send every chunk [`next_chunk`](Self::next_chunk) gives; at the end of a
/// response call [`flush`](Self::flush) until `None`; on barge-in call [`clear`](Self::clear).
#[derive(Debug)]
pub struct OutboundAudio {
    /// The transcoder in `Pcm24` mode, `None` for pass-through.
    pcm24: Option<Box<OutboundPcm24>>,
    /// The μ-law queue that both modes end in.
    chunker: OutboundChunker,
}

impl OutboundAudio {
    /// Builds the outbound path for one call.
    pub fn new(mode: AudioMode) -> Self {
        Self {
            pcm24: match mode {
                AudioMode::Pcmu => None,
                AudioMode::Pcm24 => Some(Box::default()),
            },
            chunker: OutboundChunker::new(),
        }
    }

    /// The mode this path was built for.
    pub fn mode(&self) -> AudioMode {
        if self.pcm24.is_some() {
            AudioMode::Pcm24
        } else {
            AudioMode::Pcmu
        }
    }

    /// Queues one base64-decoded `response.output_audio.delta`.
    pub fn push_delta(&mut self, delta: &[u8]) {
        match &mut self.pcm24 {
            None => self.chunker.push(delta),
            Some(pcm24) => pcm24.push(delta, &mut self.chunker),
        }
    }

    /// Takes the next full 160-byte μ-law frame for Twilio, if one is queued.
    pub fn next_chunk(&mut self) -> Option<&[u8]> {
        self.chunker.next_chunk()
    }

    /// Takes the μ-law ready for Twilio, up to a frame, unpadded, without flushing the
    /// resampler (the response goes on): for a caller who has heard everything sent so far.
    pub fn take_partial(&mut self) -> Option<&[u8]> {
        self.chunker.take_partial()
    }

    /// Takes the next frame at the end of a response, including the resampler's tail and a
    /// last partial frame padded with silence; call until `None`.
    pub fn flush(&mut self) -> Option<&[u8]> {
        if let Some(pcm24) = &mut self.pcm24 {
            // Idempotent: after the first call the resampler owes nothing.
            pcm24.finish(&mut self.chunker);
        }
        self.chunker.flush()
    }

    /// Drops all queued and in-flight model audio (the caller barged in); returns the queued bytes dropped.
    pub fn clear(&mut self) -> usize {
        if let Some(pcm24) = &mut self.pcm24 {
            pcm24.reset();
        }
        self.chunker.clear()
    }

    /// μ-law bytes of model audio handed out so far (8 per ms), excluding padding.
    pub fn bytes_emitted(&self) -> u64 {
        self.chunker.bytes_emitted()
    }

    /// Milliseconds of model audio handed out so far.
    pub fn ms_emitted(&self) -> u64 {
        self.chunker.ms_emitted()
    }

    /// The delay this path adds, in milliseconds (0 for pass-through).
    pub fn delay_ms(&self) -> f64 {
        self.pcm24.as_ref().map_or(0.0, |p| p.delay_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_print_and_describe_their_openai_format() {
        assert_eq!(AudioMode::parse("pcmu"), Ok(AudioMode::Pcmu));
        assert_eq!(AudioMode::parse(" PCM24 "), Ok(AudioMode::Pcm24));
        assert_eq!("pcm24".parse::<AudioMode>(), Ok(AudioMode::Pcm24));
        assert_eq!(
            AudioMode::parse("pcm16"),
            Err(AudioModeError::Unknown("pcm16".into()))
        );
        assert_eq!(AudioMode::Pcmu.to_string(), "pcmu");
        assert_eq!(AudioMode::Pcm24.to_string(), "pcm24");
        assert_eq!(
            AudioMode::Pcmu.openai_format(),
            json!({ "type": "audio/pcmu" })
        );
        assert_eq!(
            AudioMode::Pcm24.openai_format().to_string(),
            r#"{"rate":24000,"type":"audio/pcm"}"#
        );
    }

    #[test]
    fn pcmu_passes_through_both_ways() {
        let mut inbound = InboundAudio::new(AudioMode::Pcmu);
        let frame = [0x12u8; 160];
        assert_eq!(inbound.process(&frame), &frame[..]);

        let mut outbound = OutboundAudio::new(AudioMode::Pcmu);
        outbound.push_delta(&[0x34; 200]);
        assert_eq!(outbound.next_chunk(), Some(&[0x34; 160][..]));
        assert_eq!(outbound.next_chunk(), None);
        let mut last = [0x34; 160];
        last[40..].fill(mulaw::SILENCE);
        assert_eq!(outbound.flush(), Some(&last[..]));
        assert_eq!(outbound.flush(), None);
        assert_eq!(outbound.bytes_emitted(), 200);
        assert_eq!(outbound.ms_emitted(), 25);
    }

    #[test]
    fn inbound_pcm24_gives_six_bytes_per_mulaw_byte_after_the_first_frame() {
        let mut inbound = InboundPcm24::new();
        assert_eq!(inbound.process(&[0xFF; 160]).len(), 2 * (480 - 120));
        assert_eq!(inbound.process(&[0xFF; 160]).len(), 960);
        assert!(inbound.process(&[0xFF; 160]).iter().all(|&b| b == 0));
    }

    /// Encodes `samples` as PCM16 LE.
    fn le_bytes(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// Runs `bytes` through a fresh outbound path, cut at `cuts`, and returns all frames.
    fn outbound_frames(bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut outbound = OutboundAudio::new(AudioMode::Pcm24);
        let mut frames = Vec::new();
        let mut start = 0;
        for &end in cuts.iter().chain([&bytes.len()]) {
            outbound.push_delta(&bytes[start..end]);
            start = end;
            while let Some(chunk) = outbound.next_chunk() {
                assert_eq!(chunk.len(), 160);
                frames.extend_from_slice(chunk);
            }
        }
        while let Some(chunk) = outbound.flush() {
            assert_eq!(chunk.len(), 160);
            frames.extend_from_slice(chunk);
        }
        // 0.1 s at 24 kHz is 0.1 s at 8 kHz: 800 bytes of model audio.
        assert_eq!(outbound.bytes_emitted(), (bytes.len() / 6) as u64);
        frames
    }

    #[test]
    fn outbound_pcm24_reassembles_samples_split_across_deltas() {
        // A ramp, so a byte taken out of order or a swapped pair would change the output.
        let samples: Vec<i16> = (0..2400)
            .map(|i| ((i * 37) % 20_000 - 10_000) as i16)
            .collect();
        let bytes = le_bytes(&samples);
        let whole = outbound_frames(&bytes, &[]);
        // Odd cuts: every one splits a sample, some deltas are a single byte or empty.
        let split = outbound_frames(&bytes, &[1, 2, 3, 3, 777, 778, 2001, 4799]);
        assert_eq!(whole.len(), 800);
        assert_eq!(split, whole);
    }

    #[test]
    fn clear_drops_queued_audio_and_the_half_sample() {
        let mut outbound = OutboundAudio::new(AudioMode::Pcm24);
        outbound.push_delta(&[0x10; 2001]);
        assert!(outbound.clear() > 0);
        assert_eq!(outbound.next_chunk(), None);
        assert_eq!(outbound.flush(), None, "the resampler holds nothing either");
        // The dropped odd byte does not shift the next response's samples.
        outbound.push_delta(&le_bytes(&[0; 480]));
        assert!(
            outbound
                .flush()
                .is_some_and(|c| c.iter().all(|&b| b == mulaw::SILENCE))
        );
    }
}
