//! What one call's own state holds on the heap once it is running, in each audio mode: the
//! state machine, its audio path (the resamplers in `pcm24`), its outbox and queues. The
//! sockets' buffers (4 KiB read and write each, `call::READ_BUFFER_BYTES`) come on top, and are
//! measured with the whole relay by the load harness (BENCHMARKS.md).
//!
//! A counting `#[global_allocator]` needs its own test binary, so this test lives alone in
//! its file (`common/live_bytes.rs`: it counts only on the thread that asked).

use salon_relay::audio::AudioMode;

#[path = "common/frames.rs"]
mod frames;

#[path = "common/live_bytes.rs"]
mod live_bytes;

#[global_allocator]
static ALLOCATOR: live_bytes::LiveBytes = live_bytes::LiveBytes;

/// The heap a running call in `mode` holds: set up, a reply playing, a few hundred frames
/// each way with their marks.
fn live_bytes_of_a_call(mode: AudioMode) -> usize {
    live_bytes::start();
    let (mut core, mut marks) = frames::playing(mode);
    let caller = frames::twilio_audio();
    let delta = frames::audio_delta("item_greeting", &frames::model_audio(mode));
    let mut echo = String::with_capacity(256);
    for i in 0..300 {
        core.twilio(&frames::twilio_media(i, &caller), |_, _| {});
        core.realtime(&delta, |_, text| marks.note(text));
        while marks.next(&mut echo) {
            core.twilio(&echo, |_, _| {});
        }
    }
    // What the test itself still holds (the mark queue and the echo buffer) is dropped
    // first, so what remains is the call's.
    drop((marks, echo, delta, caller));
    let live = live_bytes::stop();
    drop(core);
    usize::try_from(live).expect("more freed than allocated")
}

/// A running call's own heap, measured 2026-12-01: 7,260 bytes in pcmu (its buffers start
/// small and grow once if a call needs more), 42,094 in pcm24 (of which about 35 KB are the two
/// resamplers' FFT plans and filters, one set per call). The bounds leave a little room; a
/// buffer reserved generously again, or a large variant in the reused output list, fails them.
const PCMU_BOUND: usize = 10 * 1024;
const PCM24_BOUND: usize = 48 * 1024;

#[test]
fn a_running_calls_own_state_is_small() {
    let pcmu = live_bytes_of_a_call(AudioMode::Pcmu);
    let pcm24 = live_bytes_of_a_call(AudioMode::Pcm24);
    println!("a running call holds {pcmu} bytes in pcmu, {pcm24} bytes in pcm24");
    assert!(pcmu <= PCMU_BOUND, "{pcmu} bytes in pcmu");
    assert!(pcm24 <= PCM24_BOUND, "{pcm24} bytes in pcm24");
    // The measurement sees the call: its audio path alone is more than nothing.
    assert!(pcmu > 1024 && pcm24 > pcmu);
}
