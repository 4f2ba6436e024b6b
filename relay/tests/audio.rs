//! Signal tests of the audio path: tones go in, and their level and frequency are measured coming out.
//!
//! Every measurement window is a whole number of 10 ms blocks, so each test tone (300 Hz, 1, 3
//! and 5 kHz) fills it with whole periods and a single-bin Goertzel reads its amplitude exactly.
//! Windows start 40 ms into the output, well past the resamplers' 5 ms delay and filter settling.

use std::f64::consts::PI;

use salon_relay::audio::mulaw;
use salon_relay::audio::{AudioMode, Downsampler, InboundAudio, OutboundAudio, Upsampler};

const RATE_8K: f64 = 8_000.0;
const RATE_24K: f64 = 24_000.0;

/// A 1 s sine at `freq` Hz and `dbfs` below full scale (a full-scale sine peaks at 32767).
fn tone(freq: f64, rate: f64, dbfs: f64) -> Vec<i16> {
    let amplitude = 32767.0 * 10f64.powf(dbfs / 20.0);
    (0..rate as usize)
        .map(|n| (amplitude * (2.0 * PI * freq * n as f64 / rate).sin()).round() as i16)
        .collect()
}

/// The window of `samples` that is measured: from 40 ms in, 500 ms long.
fn window(samples: &[i16], rate: f64) -> &[i16] {
    let start = (0.040 * rate) as usize;
    let len = (0.500 * rate) as usize;
    assert!(
        samples.len() >= start + len,
        "only {} samples",
        samples.len()
    );
    &samples[start..start + len]
}

/// The amplitude of the `freq` component of `samples` (Goertzel, one DFT bin), in PCM units.
fn goertzel_amplitude(samples: &[i16], freq: f64, rate: f64) -> f64 {
    let coeff = 2.0 * (2.0 * PI * freq / rate).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&x| f64::from(x).powi(2)).sum();
    (sum / samples.len() as f64).sqrt()
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// The frequency from the rising zero crossings, interpolated between samples.
fn zero_crossing_frequency(samples: &[i16], rate: f64) -> f64 {
    let mut first = None;
    let mut last = 0.0;
    let mut crossings = 0usize;
    for (i, pair) in samples.windows(2).enumerate() {
        let (a, b) = (f64::from(pair[0]), f64::from(pair[1]));
        if a < 0.0 && b >= 0.0 {
            let t = i as f64 + a / (a - b);
            first.get_or_insert(t);
            last = t;
            crossings += 1;
        }
    }
    let first = first.expect("the signal crosses zero");
    (crossings - 1) as f64 * rate / (last - first)
}

/// Asserts `freq_hz` is the dominant frequency of `samples`, within ±2 %.
fn assert_dominant(samples: &[i16], rate: f64, freq_hz: f64) {
    let measured = zero_crossing_frequency(samples, rate);
    // ±2 %: the zero-crossing estimate over 0.5 s is far better than this; a wrong rate
    // (a factor of 3) or a folded alias (3 kHz for 5 kHz) would be far outside it.
    assert!(
        (measured - freq_hz).abs() <= 0.02 * freq_hz,
        "dominant frequency {measured:.1} Hz, expected {freq_hz} Hz"
    );
    let at_tone = goertzel_amplitude(samples, freq_hz, rate);
    assert!(
        at_tone * at_tone / 2.0 >= 0.9 * rms(samples).powi(2),
        "the {freq_hz} Hz bin holds under 90 % of the power"
    );
}

fn upsample(input: &[i16], push: usize) -> Vec<i16> {
    let mut up = Upsampler::new();
    let mut out = Vec::new();
    for piece in input.chunks(push) {
        up.process(piece, |pcm| out.extend_from_slice(pcm));
    }
    up.flush(|pcm| out.extend_from_slice(pcm));
    out
}

fn downsample(input: &[i16], push: usize) -> Vec<i16> {
    let mut down = Downsampler::new();
    let mut out = Vec::new();
    for piece in input.chunks(push) {
        down.process(piece, |pcm| out.extend_from_slice(pcm));
    }
    down.flush(|pcm| out.extend_from_slice(pcm));
    out
}

#[test]
fn mulaw_keeps_a_1khz_tone_level_and_snr() {
    let input = tone(1_000.0, RATE_8K, -6.0);
    let mut codes = vec![0u8; input.len()];
    let mut decoded = vec![0i16; input.len()];
    mulaw::encode_into(&input, &mut codes);
    mulaw::decode_into(&codes, &mut decoded);

    let level_change = db(rms(&decoded) / rms(&input));
    let noise: Vec<i16> = input.iter().zip(&decoded).map(|(a, b)| a - b).collect();
    let snr = db(rms(&input) / rms(&noise));
    println!("μ-law: level {level_change:+.3} dB, SNR {snr:.1} dB");
    // 0.5 dB: μ-law quantises, it does not scale; the level moves by a few hundredths of a dB.
    assert!(
        level_change.abs() <= 0.5,
        "level moved {level_change:.3} dB"
    );
    // 30 dB: G.711 μ-law gives ~38 dB for loud signals.
    assert!(snr >= 30.0, "SNR {snr:.1} dB");
    assert_dominant(&decoded, RATE_8K, 1_000.0);
}

#[test]
fn upsampler_keeps_a_1khz_tone() {
    let input = tone(1_000.0, RATE_8K, -6.0);
    let output = upsample(&input, 160);
    assert_eq!(output.len(), 3 * input.len());

    let out = window(&output, RATE_24K);
    assert_dominant(out, RATE_24K, 1_000.0);
    let gain = db(goertzel_amplitude(out, 1_000.0, RATE_24K)
        / goertzel_amplitude(window(&input, RATE_8K), 1_000.0, RATE_8K));
    println!("8k→24k 1 kHz: {gain:+.3} dB");
    // 1 dB: 1 kHz is deep in the passband, where the FFT filter is flat to a few hundredths.
    assert!(gain.abs() <= 1.0, "gain {gain:.3} dB");
}

#[test]
fn downsampler_keeps_a_1khz_tone() {
    let input = tone(1_000.0, RATE_24K, -6.0);
    // 333 samples per push: deltas that never line up with the 240-sample blocks.
    let output = downsample(&input, 333);
    assert_eq!(output.len(), input.len() / 3);

    let out = window(&output, RATE_8K);
    assert_dominant(out, RATE_8K, 1_000.0);
    let gain = db(goertzel_amplitude(out, 1_000.0, RATE_8K)
        / goertzel_amplitude(window(&input, RATE_24K), 1_000.0, RATE_24K));
    println!("24k→8k 1 kHz: {gain:+.3} dB");
    // 1 dB, as for the upsampler.
    assert!(gain.abs() <= 1.0, "gain {gain:.3} dB");
}

#[test]
fn resampled_output_lines_up_with_the_input_in_time() {
    // The resamplers trim their start-up delay, so sample n out is the input's instant n / rate.
    // A 1 kHz tone made directly at the other rate is then the expected output, sample for sample.
    let up = upsample(&tone(1_000.0, RATE_8K, -6.0), 160);
    let down = downsample(&tone(1_000.0, RATE_24K, -6.0), 480);
    for (output, rate) in [(&up, RATE_24K), (&down, RATE_8K)] {
        let expected = tone(1_000.0, rate, -6.0);
        let out = window(output, rate);
        let error: Vec<i16> = out
            .iter()
            .zip(window(&expected, rate))
            .map(|(a, b)| a - b)
            .collect();
        let snr = db(rms(window(&expected, rate)) / rms(&error).max(0.5));
        println!("aligned at {rate} Hz: error {snr:.1} dB below the tone");
        // 40 dB: a one-sample misalignment at 24 kHz (15°) leaves the error only ~12 dB down.
        assert!(
            snr >= 40.0,
            "at {rate} Hz the error is only {snr:.1} dB down"
        );
    }
}

#[test]
fn upsampler_passband_holds_300hz_and_3khz() {
    for freq in [300.0, 3_000.0] {
        let input = tone(freq, RATE_8K, -6.0);
        let output = upsample(&input, 160);
        let out = window(&output, RATE_24K);
        assert_dominant(out, RATE_24K, freq);
        let gain = db(goertzel_amplitude(out, freq, RATE_24K)
            / goertzel_amplitude(window(&input, RATE_8K), freq, RATE_8K));
        println!("8k→24k {freq} Hz: {gain:+.3} dB");
        // 1.5 dB: the telephone band is 300–3400 Hz; the filter's cutoff sits at ~3.3 kHz, so
        // 3 kHz is near the edge of the flat part.
        assert!(gain.abs() <= 1.5, "{freq} Hz: gain {gain:.3} dB");
    }
}

#[test]
fn downsampler_removes_5khz_instead_of_folding_it_to_3khz() {
    let input = tone(5_000.0, RATE_24K, -6.0);
    let output = downsample(&input, 480);
    let out = window(&output, RATE_8K);
    // Everything left, wherever it landed (a 5 kHz alias would appear at 3 kHz). An output
    // that rounds to silence is counted as half an LSB, so the figure is a lower bound.
    let rejection = db(rms(window(&input, RATE_24K)) / rms(out).max(0.5));
    let alias = goertzel_amplitude(out, 3_000.0, RATE_8K);
    println!(
        "24k→8k 5 kHz: rejected by at least {rejection:.1} dB (3 kHz alias amplitude {alias:.2} LSB)"
    );
    // 30 dB: enough that an alias sits under μ-law's own noise (~38 dB below the signal).
    assert!(rejection >= 30.0, "5 kHz only {rejection:.1} dB down");
}

#[test]
fn round_trip_mulaw_to_24k_and_back_keeps_a_1khz_tone() {
    // Twilio side: a 1 kHz tone in μ-law frames.
    let input = tone(1_000.0, RATE_8K, -6.0);
    let mut codes = vec![0u8; input.len()];
    mulaw::encode_into(&input, &mut codes);

    // In: 20 ms frames to 24 kHz PCM bytes. Out: those bytes back as deltas of odd sizes.
    let mut inbound = InboundAudio::new(AudioMode::Pcm24);
    let mut outbound = OutboundAudio::new(AudioMode::Pcm24);
    let mut pcm_bytes = Vec::new();
    for frame in codes.chunks(160) {
        pcm_bytes.extend_from_slice(inbound.process(frame));
    }
    let mut frames = Vec::new();
    for delta in pcm_bytes.chunks(1_001) {
        outbound.push_delta(delta);
        while let Some(chunk) = outbound.next_chunk() {
            frames.extend_from_slice(chunk);
        }
    }
    while let Some(chunk) = outbound.flush() {
        frames.extend_from_slice(chunk);
    }

    let mut output = vec![0i16; frames.len()];
    mulaw::decode_into(&frames, &mut output);
    let out = window(&output, RATE_8K);
    assert_dominant(out, RATE_8K, 1_000.0);
    let gain = db(goertzel_amplitude(out, 1_000.0, RATE_8K)
        / goertzel_amplitude(window(&input, RATE_8K), 1_000.0, RATE_8K));
    println!(
        "μ-law→24k→μ-law 1 kHz: {gain:+.3} dB, delay {} ms",
        inbound.delay_ms() + outbound.delay_ms()
    );
    // 1 dB, as for each resampler alone; the two μ-law passes add only quantisation noise.
    assert!(gain.abs() <= 1.0, "gain {gain:.3} dB");
}
