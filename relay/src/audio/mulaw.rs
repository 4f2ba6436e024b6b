//! G.711 μ-law (ITU-T G.711, the 16-bit "bias 0x84" form) between 8-bit codes and PCM16.
//!
//! Twilio Media Streams carry μ-law at 8 kHz. Decoding is one lookup in a 256-entry table
//! built at compile time; encoding is a few integer operations per sample. Neither
//! allocates: both work over caller-provided slices.
//!
//! Zero has two codes: `0xFF` (+0) and `0x7F` (−0). Both decode to `0`, and `0` encodes to
//! `0xFF`, so a decode-then-encode round trip returns every code unchanged except `0x7F`,
//! which comes back as `0xFF`. Both are silence.

/// The μ-law code for silence (+0), used to pad partial frames.
pub const SILENCE: u8 = 0xFF;

/// Added to the magnitude before the segment search, so that every segment starts on a power of two.
const BIAS: i32 = 0x84;

/// The largest magnitude that still fits the top segment once the bias is added (32635 + 132 = 0x7FFF).
const CLIP: i32 = 32635;

/// Every code's PCM16 value, computed at compile time.
static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0usize;
    while code < 256 {
        // G.711 transmits the code with all bits inverted.
        let bits = !(code as u8);
        let exponent = ((bits >> 4) & 0x07) as i32;
        let mantissa = (bits & 0x0F) as i32;
        let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
        table[code] = if bits & 0x80 != 0 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        code += 1;
    }
    table
}

/// Decodes one μ-law code to PCM16.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE_TABLE[code as usize]
}

/// Encodes one PCM16 sample to μ-law, clipping magnitudes above 32635.
#[inline]
pub fn encode(sample: i16) -> u8 {
    let sample = i32::from(sample);
    let sign: u8 = if sample < 0 { 0x80 } else { 0x00 };
    let biased = sample.abs().min(CLIP) + BIAS;
    // `biased` lies in 0x84..=0x7FFF, so its top set bit is bit 7 (segment 0) to bit 14 (segment 7).
    let top_bit = 31 - biased.leading_zeros();
    let exponent = (top_bit - 7) as u8;
    let mantissa = ((biased >> (exponent + 3)) & 0x0F) as u8;
    !(sign | (exponent << 4) | mantissa)
}

/// Decodes `input` into the first `input.len()` samples of `output`.
///
/// # Panics
///
/// If `output` is shorter than `input`.
pub fn decode_into(input: &[u8], output: &mut [i16]) {
    assert!(
        output.len() >= input.len(),
        "decode_into: output holds {} samples, input has {}",
        output.len(),
        input.len()
    );
    for (sample, &code) in output.iter_mut().zip(input) {
        *sample = decode(code);
    }
}

/// Encodes `input` into the first `input.len()` bytes of `output`.
///
/// # Panics
///
/// If `output` is shorter than `input`.
pub fn encode_into(input: &[i16], output: &mut [u8]) {
    assert!(
        output.len() >= input.len(),
        "encode_into: output holds {} bytes, input has {}",
        output.len(),
        input.len()
    );
    for (code, &sample) in output.iter_mut().zip(input) {
        *code = encode(sample);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_published_g711_values() {
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x80), 32124);
        // First step of segment 0 and the first value of segment 1.
        assert_eq!(decode(0xFE), 8);
        assert_eq!(decode(0xEF), 132);
        assert_eq!(decode(0x6F), -132);
    }

    #[test]
    fn encodes_published_g711_values() {
        assert_eq!(encode(0), 0xFF);
        assert_eq!(encode(-1), 0x7F);
        assert_eq!(encode(32124), 0x80);
        assert_eq!(encode(-32124), 0x00);
        // Beyond the clip level everything lands on the loudest code.
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
    }

    #[test]
    fn every_code_survives_decode_then_encode_except_negative_zero() {
        for code in 0..=255u8 {
            let back = encode(decode(code));
            if code == 0x7F {
                // −0 decodes to 0, which encodes as +0: the same silence.
                assert_eq!(back, SILENCE);
            } else {
                assert_eq!(back, code, "code {code:#04x}");
            }
        }
    }

    #[test]
    fn decoded_values_are_monotonic_within_each_sign() {
        // Codes 0x80..=0xFF run from the loudest positive value down to +0.
        for code in 0x80..0xFFu8 {
            assert!(decode(code) > decode(code + 1), "code {code:#04x}");
        }
        for code in 0x00..0x7Fu8 {
            assert!(decode(code) < decode(code + 1), "code {code:#04x}");
        }
    }

    #[test]
    fn slice_functions_match_the_scalar_ones() {
        let codes: Vec<u8> = (0..=255).collect();
        let mut pcm = vec![0i16; 300];
        decode_into(&codes, &mut pcm);
        assert!(codes.iter().zip(&pcm).all(|(&c, &s)| decode(c) == s));
        assert!(
            pcm[256..].iter().all(|&s| s == 0),
            "nothing past the input is written"
        );

        let mut back = vec![0u8; 256];
        encode_into(&pcm[..256], &mut back);
        assert!(pcm.iter().zip(&back).all(|(&s, &c)| encode(s) == c));
    }

    #[test]
    #[should_panic(expected = "decode_into")]
    fn decode_into_refuses_a_short_output() {
        decode_into(&[0xFF; 4], &mut [0i16; 3]);
    }
}
