//! Per-20 ms-frame cost of the pcm24 audio path: what one call spends per frame in each direction.
//!
//! Run with `cargo bench -p salon-relay --bench audio` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salon_relay::audio::{AudioMode, InboundAudio, OutboundAudio};

/// A 1 kHz tone at −6 dBFS: 20 ms of μ-law at 8 kHz, as Twilio sends it.
fn twilio_frame() -> Vec<u8> {
    (0..160)
        .map(|n| {
            let x =
                16_384.0 * (2.0 * std::f64::consts::PI * 1_000.0 * f64::from(n) / 8_000.0).sin();
            salon_relay::audio::mulaw::encode(x as i16)
        })
        .collect()
}

/// The same tone as 20 ms of PCM16 LE at 24 kHz, as an OpenAI delta.
fn openai_delta() -> Vec<u8> {
    (0..480)
        .flat_map(|n| {
            let x =
                16_384.0 * (2.0 * std::f64::consts::PI * 1_000.0 * f64::from(n) / 24_000.0).sin();
            (x as i16).to_le_bytes()
        })
        .collect()
}

fn pcm24_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("pcm24_20ms_frame");
    group.throughput(Throughput::Elements(1));

    let frame = twilio_frame();
    let mut inbound = InboundAudio::new(AudioMode::Pcm24);
    group.bench_function("inbound_mulaw8k_to_pcm24k", |b| {
        b.iter(|| black_box(inbound.process(black_box(&frame)).len()));
    });

    let delta = openai_delta();
    let mut outbound = OutboundAudio::new(AudioMode::Pcm24);
    group.bench_function("outbound_pcm24k_to_mulaw8k_chunks", |b| {
        b.iter(|| {
            outbound.push_delta(black_box(&delta));
            let mut bytes = 0;
            while let Some(chunk) = outbound.next_chunk() {
                bytes += black_box(chunk).len();
            }
            bytes
        });
    });

    // The pass-through mode, for scale: no transcoding, only the chunker.
    let frame_mulaw = twilio_frame();
    let mut passthrough = OutboundAudio::new(AudioMode::Pcmu);
    group.bench_function("outbound_pcmu_passthrough_chunks", |b| {
        b.iter(|| {
            passthrough.push_delta(black_box(&frame_mulaw));
            let mut bytes = 0;
            while let Some(chunk) = passthrough.next_chunk() {
                bytes += black_box(chunk).len();
            }
            bytes
        });
    });
    group.finish();
}

criterion_group!(benches, pcm24_frames);
criterion_main!(benches);
