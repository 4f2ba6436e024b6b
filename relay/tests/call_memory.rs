//! What one call's own state holds on the heap once it is running, in each audio mode: the
//! state machine, its audio path (the resamplers in `pcm24`), its outbox and queues. The
//! sockets' buffers (4 KiB read and write each, `call::READ_BUFFER_BYTES`) come on top, and are
//! measured with the whole relay by the load harness (BENCHMARKS.md).
//!
//! A counting `#[global_allocator]` needs its own test binary, so it lives alone in this file;
//! it counts only on the thread that asked, so the harness's threads cannot disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use salon_relay::audio::AudioMode;

#[path = "common/frames.rs"]
mod frames;

thread_local! {
    /// `Some(bytes)` while counting on this thread: bytes allocated less bytes freed.
    static LIVE: Cell<Option<isize>> = const { Cell::new(None) };
}

struct LiveBytes;

impl LiveBytes {
    fn note(&self, delta: isize) {
        // `try_with`: during thread teardown the thread-local may already be gone.
        let _ = LIVE.try_with(|live| {
            if let Some(n) = live.get() {
                live.set(Some(n + delta));
            }
        });
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; counting touches only a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size() as isize);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size() as isize);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note(new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.note(-(layout.size() as isize));
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LiveBytes = LiveBytes;

/// The heap a running call in `mode` holds: set up, a reply playing, a few hundred frames
/// each way with their marks.
fn live_bytes_of_a_call(mode: AudioMode) -> usize {
    LIVE.with(|live| live.set(Some(0)));
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
    let live = LIVE.with(|live| live.get()).expect("counting was on");
    drop(core);
    LIVE.with(|live| live.take());
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
