//! Audio helpers: the two Realtime audio formats, G.711 μ-law, WAV files and a synthetic voice.
//!
//! The double needs only a little audio code, written here rather than borrowed from `salon-relay`
//! so the two crates can change independently.

use std::f64::consts::PI;

/// One of the audio formats the Realtime API speaks over a WebSocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// `{type: "audio/pcmu"}`: G.711 μ-law, 8 kHz, mono, one byte a sample.
    Pcmu,
    /// `{type: "audio/pcma"}`: G.711 A-law, 8 kHz, mono, one byte a sample.
    Pcma,
    /// `{type: "audio/pcm", rate: 24000}`: 16-bit little-endian PCM, 24 kHz, mono.
    Pcm24,
}

impl AudioFormat {
    /// Returns how many bytes carry one millisecond of audio.
    pub fn bytes_per_ms(self) -> usize {
        match self {
            AudioFormat::Pcmu | AudioFormat::Pcma => 8,
            AudioFormat::Pcm24 => 48,
        }
    }

    /// Returns the sample rate in hertz.
    pub fn sample_rate(self) -> u32 {
        match self {
            AudioFormat::Pcmu | AudioFormat::Pcma => 8_000,
            AudioFormat::Pcm24 => 24_000,
        }
    }

    /// Returns the duration in milliseconds of `bytes` bytes of this format.
    pub fn ms_of(self, bytes: usize) -> f64 {
        bytes as f64 / self.bytes_per_ms() as f64
    }

    /// Returns the format object as it appears on the wire.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            AudioFormat::Pcmu => serde_json::json!({"type": "audio/pcmu"}),
            AudioFormat::Pcma => serde_json::json!({"type": "audio/pcma"}),
            AudioFormat::Pcm24 => serde_json::json!({"type": "audio/pcm", "rate": 24000}),
        }
    }

    /// Returns the file suffix of the agent recordings in this format (`01-salut.pcmu.wav`).
    pub(crate) fn file_suffix(self) -> &'static str {
        match self {
            AudioFormat::Pcmu | AudioFormat::Pcma => "pcmu",
            AudioFormat::Pcm24 => "pcm24",
        }
    }
}

/// Decodes one G.711 μ-law byte to a 16-bit linear sample (ITU-T G.711, the classic bias-33 form).
pub fn mulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let magnitude = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    let sample = if u & 0x80 != 0 {
        0x84 - magnitude
    } else {
        magnitude - 0x84
    };
    // The largest magnitude is 32124, so the cast is lossless.
    sample as i16
}

/// Encodes a 16-bit linear sample as one G.711 μ-law byte.
pub fn mulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let value = i32::from(sample);
    let sign: u8 = if value < 0 { 0x80 } else { 0 };
    let magnitude = value.abs().min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 7 (0..=7).
    let segment = (31 - magnitude.leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (magnitude >> (segment + 3)) & 0x0F;
    !(sign | ((segment as u8) << 4) | mantissa as u8)
}

/// Decodes one G.711 A-law byte to a 16-bit linear sample.
pub fn alaw_decode(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let segment = (a & 0x70) >> 4;
    let mut magnitude = i32::from(a & 0x0F) << 4;
    magnitude = match segment {
        0 => magnitude + 8,
        1 => magnitude + 0x108,
        _ => (magnitude + 0x108) << (segment - 1),
    };
    // The largest magnitude is 32256, so the cast is lossless.
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// Encodes a 16-bit linear sample as one G.711 A-law byte.
pub fn alaw_encode(sample: i16) -> u8 {
    let value = i32::from(sample) >> 3;
    let (mask, magnitude) = if value >= 0 {
        (0xD5u8, value)
    } else {
        (0x55u8, -value - 1)
    };
    // Segment ends of the 13-bit magnitude: 0x1F, 0x3F, ... 0xFFF.
    let segment = (0..8).find(|&s| magnitude < (0x20 << s)).unwrap_or(8);
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let mantissa = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    ((segment as u8) << 4 | mantissa as u8) ^ mask
}

/// Decodes the sample at `index` of `bytes` in `format`, or `None` past the end.
pub(crate) fn sample_at(format: AudioFormat, bytes: &[u8], index: usize) -> Option<i16> {
    match format {
        AudioFormat::Pcmu => bytes.get(index).map(|&b| mulaw_decode(b)),
        AudioFormat::Pcma => bytes.get(index).map(|&b| alaw_decode(b)),
        AudioFormat::Pcm24 => {
            let lo = *bytes.get(2 * index)?;
            let hi = *bytes.get(2 * index + 1)?;
            Some(i16::from_le_bytes([lo, hi]))
        }
    }
}

/// Converts μ-law bytes to A-law, for a session whose output format is `audio/pcma`.
pub(crate) fn mulaw_to_alaw(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| alaw_encode(mulaw_decode(b)))
        .collect()
}

/// Why a WAV file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file does not start with a RIFF/WAVE header.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// A chunk header announces more bytes than the file holds.
    #[error("truncated {0} chunk")]
    Truncated(&'static str),
    /// The file has no `fmt ` or no `data` chunk.
    #[error("missing {0} chunk")]
    Missing(&'static str),
    /// The encoding is neither 8 kHz mono μ-law nor 24 kHz mono 16-bit PCM.
    #[error(
        "unsupported WAV encoding: format {format}, {channels} channel(s), {rate} Hz, {bits} bits"
    )]
    Unsupported {
        /// The `wFormatTag` (1 = PCM, 7 = μ-law).
        format: u16,
        /// The channel count.
        channels: u16,
        /// The sample rate in hertz.
        rate: u32,
        /// Bits per sample.
        bits: u16,
    },
}

/// A mono WAV file in one of the Realtime formats, its samples kept as raw bytes.
#[derive(Clone, Debug)]
pub struct Wav {
    /// The encoding of `data`.
    pub format: AudioFormat,
    /// The bytes of the `data` chunk, exactly as they go on the wire.
    pub data: Vec<u8>,
}

impl Wav {
    /// Parses a WAV file holding μ-law 8 kHz (format 7) or PCM16 24 kHz (format 1), mono.
    pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(WavError::NotWave);
        }
        let mut fmt: Option<(u16, u16, u32, u16)> = None;
        let mut data: Option<&[u8]> = None;
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let len =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            let body_start = at + 8;
            let body_end = body_start.saturating_add(len);
            if id == b"fmt " {
                if len < 16 || body_end > bytes.len() {
                    return Err(WavError::Truncated("fmt "));
                }
                let b = &bytes[body_start..body_end];
                let format = u16::from_le_bytes([b[0], b[1]]);
                let channels = u16::from_le_bytes([b[2], b[3]]);
                let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                let bits = u16::from_le_bytes([b[14], b[15]]);
                fmt = Some((format, channels, rate, bits));
            } else if id == b"data" {
                // Some writers leave the data length unset (streaming); take what is there.
                data = Some(&bytes[body_start..body_end.min(bytes.len())]);
                break;
            }
            // Chunks are padded to an even length.
            at = body_end.saturating_add(len & 1);
        }
        let (format, channels, rate, bits) = fmt.ok_or(WavError::Missing("fmt "))?;
        let data = data.ok_or(WavError::Missing("data"))?;
        let audio_format = match (format, channels, rate, bits) {
            (7, 1, 8_000, 8) => AudioFormat::Pcmu,
            (1, 1, 24_000, 16) => AudioFormat::Pcm24,
            _ => {
                return Err(WavError::Unsupported {
                    format,
                    channels,
                    rate,
                    bits,
                });
            }
        };
        let mut data = data.to_vec();
        if audio_format == AudioFormat::Pcm24 && data.len() % 2 == 1 {
            data.pop();
        }
        Ok(Wav {
            format: audio_format,
            data,
        })
    }

    /// Returns the duration of the audio in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.format.ms_of(self.data.len())
    }
}

/// Synthesizes `ms` milliseconds of speech-like audio in `format`: a 200 Hz tone whose loudness
/// rises and falls four times a second, like syllables, with a short pause every 1.2 s.
///
/// Energy-based VAD and playback paths treat it as speech; nobody will mistake it for a voice.
pub fn synthesize_speech(ms: u32, format: AudioFormat) -> Vec<u8> {
    let rate = f64::from(format.sample_rate());
    let samples = (u64::from(ms) * u64::from(format.sample_rate()) / 1000) as usize;
    let mut out =
        Vec::with_capacity(samples * format.bytes_per_ms() * 1000 / format.sample_rate() as usize);
    for n in 0..samples {
        let t = n as f64 / rate;
        // A pause of 150 ms closes each 1.2 s phrase.
        let in_pause = t % 1.2 > 1.05;
        let syllable = 0.5 - 0.5 * (2.0 * PI * 4.0 * t).cos();
        let envelope = if in_pause { 0.0 } else { syllable };
        let tone = (2.0 * PI * 200.0 * t).sin() + 0.3 * (2.0 * PI * 400.0 * t).sin();
        let sample = (envelope * tone * 7_000.0) as i16;
        match format {
            AudioFormat::Pcmu => out.push(mulaw_encode(sample)),
            AudioFormat::Pcma => out.push(alaw_encode(sample)),
            AudioFormat::Pcm24 => out.extend_from_slice(&sample.to_le_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_decodes_the_g711_extremes() {
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_decode(0x80), 32_124);
        assert_eq!(mulaw_decode(0x00), -32_124);
        assert_eq!(mulaw_decode(0xFE), 8);
    }

    #[test]
    fn mulaw_encode_inverts_decode() {
        for byte in 0..=255u8 {
            let expected = if byte == 0x7F { 0xFF } else { byte };
            assert_eq!(
                mulaw_encode(mulaw_decode(byte)),
                expected,
                "byte {byte:#04x}"
            );
        }
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_encode_inverts_decode() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        for byte in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(byte)), byte, "byte {byte:#04x}");
        }
    }

    #[test]
    fn parses_the_shipped_recordings() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/audio");
        let pcmu =
            Wav::parse(&std::fs::read(format!("{dir}/agent/01-salut.pcmu.wav")).unwrap()).unwrap();
        let pcm =
            Wav::parse(&std::fs::read(format!("{dir}/agent/01-salut.pcm24.wav")).unwrap()).unwrap();
        assert_eq!(pcmu.format, AudioFormat::Pcmu);
        assert_eq!(pcm.format, AudioFormat::Pcm24);
        assert!((pcmu.duration_ms() - pcm.duration_ms()).abs() < 1.0);
        assert!(pcmu.duration_ms() > 4_000.0);
    }

    #[test]
    fn rejects_what_is_not_a_wav() {
        assert!(matches!(Wav::parse(b"hello"), Err(WavError::NotWave)));
        let mut header = b"RIFF\0\0\0\0WAVE".to_vec();
        header.extend_from_slice(b"data\x04\0\0\0abcd");
        assert!(matches!(
            Wav::parse(&header),
            Err(WavError::Missing("fmt "))
        ));
    }

    #[test]
    fn synthesized_speech_has_the_asked_length() {
        assert_eq!(synthesize_speech(1_000, AudioFormat::Pcmu).len(), 8_000);
        assert_eq!(synthesize_speech(1_000, AudioFormat::Pcm24).len(), 48_000);
    }
}
