//! Signal tests of the audio path: tones go in, and their level and frequency are measured coming out.
//!
//! Every measurement window is 500 ms and every test tone a multiple of 2 Hz, so each tone fills
//! the window with whole periods and a single-bin Goertzel reads its amplitude exactly. Windows
//! start 40 ms into the output, well past the resamplers' 5 ms delay and filter settling.
//!
//! The resamplers' figures (passband flatness, image and alias rejection, delay) are measured
//! here through the same `Upsampler` and `Downsampler` the relay runs, 16-bit PCM in and out;
//! each test prints what it measured (`--no-capture`) and asserts it with a small margin.

use std::f64::consts::PI;

use salon_relay::audio::mulaw;
use salon_relay::audio::{AudioMode, Downsampler, InboundAudio, OutboundAudio, Upsampler};

const RATE_8K: f64 = 8_000.0;
const RATE_24K: f64 = 24_000.0;

/// A 1 s sine at `freq` Hz and `dbfs` below full scale (a full-scale sine peaks at 32767).
fn tone(freq: f64, rate: f64, dbfs: f64) -> Vec<i16> {
    tone_at_phase(freq, rate, dbfs, 0.0)
}

/// A 1 s sine like [`tone`], starting at `phase` radians (a 12 kHz tone at 24 kHz with phase 0
/// would sample only its zero crossings).
fn tone_at_phase(freq: f64, rate: f64, dbfs: f64, phase: f64) -> Vec<i16> {
    let amplitude = 32767.0 * 10f64.powf(dbfs / 20.0);
    (0..rate as usize)
        .map(|n| (amplitude * (2.0 * PI * freq * n as f64 / rate + phase).sin()).round() as i16)
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

/// The edges of the band the resamplers must keep flat: the voice part of the telephone band.
const PASSBAND_HZ: (u32, u32) = (100, 3_300);

/// The lowest frequency that must be rejected: 8 kHz − 3.3 kHz, the first whose alias at
/// 8 kHz (or, upsampling, the first image of a passband tone) lands back on 3.3 kHz or below.
const STOPBAND_LOW_HZ: u32 = 4_700;

/// Tones from `low` to `high` Hz, 62 Hz apart, plus `high` itself.
///
/// 62 Hz is on the 2 Hz grid, so every tone fills the 500 ms window with whole periods and the
/// Goertzel bin reads it exactly; it does not divide 100 Hz, so the tones take every phase
/// relative to the resamplers' 10 ms blocks instead of repeating identically in each.
fn sweep(low: u32, high: u32) -> impl Iterator<Item = f64> {
    (low..high)
        .step_by(62)
        .chain(std::iter::once(high))
        .map(f64::from)
}

/// The RMS of what is left of `samples` once their `freq` component is taken out: every
/// image, alias, block artefact and rounding error, wherever it landed.
fn rms_without(samples: &[i16], freq: f64, rate: f64) -> f64 {
    // The single DFT bin at `freq`, as a cosine and a sine amplitude; with whole periods in the
    // window it is exactly the tone, and subtracting it leaves everything else.
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, &x) in samples.iter().enumerate() {
        let phase = 2.0 * PI * freq * n as f64 / rate;
        re += f64::from(x) * phase.cos();
        im += f64::from(x) * phase.sin();
    }
    let scale = 2.0 / samples.len() as f64;
    let (a, b) = (re * scale, im * scale);
    let sum: f64 = samples
        .iter()
        .enumerate()
        .map(|(n, &x)| {
            let phase = 2.0 * PI * freq * n as f64 / rate;
            (f64::from(x) - a * phase.cos() - b * phase.sin()).powi(2)
        })
        .sum();
    (sum / samples.len() as f64).sqrt()
}

/// The RMS of a full-scale sine, the reference for the rejection figures.
const FULL_SCALE_RMS: f64 = 32767.0 / std::f64::consts::SQRT_2;

#[test]
fn passband_is_flat_from_100hz_to_3_3khz_both_ways() {
    // (deviation in dB, frequency) of the worst tone, upsampling then downsampling.
    let mut worst = [(0.0f64, 0.0f64); 2];
    for freq in sweep(PASSBAND_HZ.0, PASSBAND_HZ.1) {
        let at_8k = tone(freq, RATE_8K, -6.0);
        let at_24k = tone(freq, RATE_24K, -6.0);
        let up = upsample(&at_8k, 160);
        let down = downsample(&at_24k, 480);
        let gains = [
            db(goertzel_amplitude(window(&up, RATE_24K), freq, RATE_24K)
                / goertzel_amplitude(window(&at_8k, RATE_8K), freq, RATE_8K)),
            db(goertzel_amplitude(window(&down, RATE_8K), freq, RATE_8K)
                / goertzel_amplitude(window(&at_24k, RATE_24K), freq, RATE_24K)),
        ];
        for (worst, gain) in worst.iter_mut().zip(gains) {
            if gain.abs() > worst.0.abs() {
                *worst = (gain, freq);
            }
        }
    }
    let [(up, up_at), (down, down_at)] = worst;
    println!(
        "passband 100–3300 Hz: 8k→24k worst {up:+.3} dB at {up_at} Hz, \
         24k→8k worst {down:+.3} dB at {down_at} Hz"
    );
    // Measured 2026-12-01: −0.012 dB at 3.3 kHz both ways, the band's edge (with rubato's
    // default window, BlackmanHarris2, it was −4.92 dB there). 0.05 dB: what was measured, and
    // a little room.
    for (name, gain, at) in [("8k→24k", up, up_at), ("24k→8k", down, down_at)] {
        assert!(gain.abs() <= 0.05, "{name}: {gain:+.3} dB at {at} Hz");
    }
}

#[test]
fn upsampler_images_stay_far_below_a_full_scale_tone() {
    // A passband tone at 8 kHz has images at 8 kHz ± f once at 24 kHz; 3.3 kHz puts the lowest
    // at 4.7 kHz. Whatever is not the tone counts, images and rounding alike.
    let mut worst = (f64::INFINITY, 0.0);
    // The images alone, read in their own DFT bins, printed for the record: they sit under
    // the 16-bit rounding noise that the residual includes.
    let mut loudest_image = 0.0f64;
    for freq in sweep(PASSBAND_HZ.0, PASSBAND_HZ.1) {
        let output = upsample(&tone(freq, RATE_8K, 0.0), 160);
        let out = window(&output, RATE_24K);
        let rejection = db(FULL_SCALE_RMS / rms_without(out, freq, RATE_24K));
        if rejection < worst.0 {
            worst = (rejection, freq);
        }
        for image in [8_000.0 - freq, 8_000.0 + freq] {
            loudest_image = loudest_image.max(goertzel_amplitude(out, image, RATE_24K));
        }
    }
    let (rejection, at) = worst;
    println!(
        "8k→24k: everything but the tone at least {rejection:.1} dB below full scale \
         (worst at {at} Hz); loudest image bin {:.1} dB below",
        db(32767.0 / loudest_image)
    );
    // Measured 2026-12-01: 94.9 dB, which is the rounding of 16-bit samples in and out (a
    // full-scale sine's SNR in 16 bits is 98 dB); the images themselves sit below it. The
    // loudest image bin, 102.2 dB down (3.2 kHz's image at 4.8 kHz), is that rounding's own
    // distortion: a 3.2 kHz tone repeats every 15 samples at 24 kHz, so its rounding error has
    // lines at multiples of 1.6 kHz. The product needs 60 dB; 92.9 dB is the measurement less 2 dB.
    assert!(rejection >= 92.9, "only {rejection:.1} dB at {at} Hz");
}

#[test]
fn downsampler_rejects_4_7khz_to_12khz() {
    // A tone above 4 kHz has no place at 8 kHz: all that comes out is alias or leakage.
    // 4.7 kHz would fold to 3.3 kHz, the top of the passband.
    let mut worst = (f64::INFINITY, 0.0);
    let mut loudest_rms = 0.0f64;
    for freq in sweep(STOPBAND_LOW_HZ, 12_000) {
        let output = downsample(&tone_at_phase(freq, RATE_24K, 0.0, 0.3), 480);
        let out_rms = rms(window(&output, RATE_8K));
        loudest_rms = loudest_rms.max(out_rms);
        // An output that rounds to silence counts as half an LSB, the 16-bit output's
        // resolution, so the figure is a lower bound (at most 93.3 dB).
        let rejection = db(FULL_SCALE_RMS / out_rms.max(0.5));
        if rejection < worst.0 {
            worst = (rejection, freq);
        }
    }
    let (rejection, at) = worst;
    println!(
        "24k→8k: 4.7–12 kHz rejected by at least {rejection:.1} dB (worst at {at} Hz); \
         loudest output RMS {loudest_rms:.3} LSB"
    );
    // Measured 2026-12-01: 93.3 dB, the floor: every tone comes out as silence but for a few
    // ±1 samples (0.063 LSB RMS at most). The product needs 60 dB (μ-law's own noise is ~38 dB
    // below the signal); 91.3 dB is the measurement less 2 dB.
    assert!(rejection >= 91.3, "only {rejection:.1} dB at {at} Hz");
}

#[test]
fn each_direction_holds_back_5ms() {
    // Samples still inside after each push, in steady 20 ms frames: the delay a caller hears.
    let mut up = Upsampler::new();
    let mut down = Downsampler::new();
    let (mut up_out, mut down_out) = (0, 0);
    for _ in 0..50 {
        up.process(&[1_000; 160], |pcm| up_out += pcm.len());
        down.process(&[1_000; 480], |pcm| down_out += pcm.len());
    }
    let up_held = 50 * 480 - up_out;
    let down_held = 50 * 160 - down_out;
    println!("held back: 8k→24k {up_held} samples, 24k→8k {down_held} samples");
    // Measured: 120 samples at 24 kHz and 40 at 8 kHz, 5 ms each way, as `delay_ms` says.
    assert_eq!((up_held, down_held), (120, 40));
    assert_eq!(up.delay_ms(), 5.0);
    assert_eq!(down.delay_ms(), 5.0);
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
