//! Per-20 ms-frame cost of one call's core, message text in to message text out, each way and in
//! each audio mode: a Twilio `media` text to the `input_audio_buffer.append` text for the model;
//! a model audio delta text to the Twilio `media` and `mark` texts, with Twilio's echo of the mark
//! read back (what keeps a playing reply's accounting steady). Sockets are not included.
//!
//! Run with `cargo bench -p salon-relay --bench call` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salon_relay::audio::AudioMode;

#[path = "../tests/common/frames.rs"]
mod frames;

fn call_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("call_20ms_frame");
    group.throughput(Throughput::Elements(1));
    for mode in [AudioMode::Pcmu, AudioMode::Pcm24] {
        let (mut core, _) = frames::playing(mode);
        let media = frames::twilio_media(7, &frames::twilio_audio());
        group.bench_function(format!("{mode}/twilio_media_to_append"), |b| {
            b.iter(|| {
                let mut bytes = 0;
                core.twilio(black_box(&media), |_, text| bytes += black_box(text).len());
                bytes
            });
        });

        let (mut core, mut marks) = frames::playing(mode);
        let delta = frames::audio_delta("item_greeting", &frames::model_audio(mode));
        let mut echo = String::with_capacity(256);
        group.bench_function(format!("{mode}/delta_to_media_and_mark_echoed"), |b| {
            b.iter(|| {
                let mut bytes = 0;
                core.realtime(black_box(&delta), |_, text| {
                    bytes += black_box(text).len();
                    marks.note(text);
                });
                while marks.next(&mut echo) {
                    core.twilio(&echo, |_, text| bytes += text.len());
                }
                bytes
            });
        });
    }
    group.finish();
}

criterion_group!(benches, call_frames);
criterion_main!(benches);
