//! Proves the pcm24 per-frame path allocates nothing once a call is set up.
//!
//! A counting `#[global_allocator]` needs its own test binary, so it lives alone in this file.
//! It counts only on the thread that asked for counting, so the test harness's own threads
//! cannot disturb the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use salon_relay::audio::{AudioMode, InboundAudio, OutboundAudio};

thread_local! {
    /// `Some(n)` while counting on this thread: allocations seen so far.
    static COUNT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The system allocator, plus a per-thread count of allocations.
struct CountingAllocator;

impl CountingAllocator {
    fn note(&self) {
        // `try_with`: during thread teardown the thread-local may already be gone.
        let _ = COUNT.try_with(|count| {
            if let Some(n) = count.get() {
                count.set(Some(n + 1));
            }
        });
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; counting touches only a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note();
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `work` and returns how many allocations it made on this thread.
fn allocations_in(work: impl FnOnce()) -> usize {
    COUNT.with(|count| count.set(Some(0)));
    work();
    COUNT.with(|count| count.take()).expect("counting was on")
}

#[test]
fn pcm24_frames_allocate_nothing_after_warm_up() {
    // Arrange: a call's audio path, its input prepared, and one warm-up frame each way.
    let mut inbound = InboundAudio::new(AudioMode::Pcm24);
    let mut outbound = OutboundAudio::new(AudioMode::Pcm24);
    let twilio_frame: Vec<u8> = (0..160u8).map(|i| i.wrapping_mul(37)).collect();
    // 20 ms at 24 kHz (960 bytes), cut unevenly so samples straddle deltas.
    let pcm: Vec<u8> = (0..960u32).map(|i| (i * 7 % 251) as u8).collect();
    let (left, right) = pcm.split_at(481);
    let mut sent = 0usize;
    sent += inbound.process(&twilio_frame).len();
    outbound.push_delta(&pcm);
    while let Some(chunk) = outbound.next_chunk() {
        sent += chunk.len();
    }

    // Act: 100 frames each way, then a response end and a barge-in.
    let allocations = allocations_in(|| {
        for _ in 0..100 {
            sent += inbound.process(&twilio_frame).len();
            outbound.push_delta(left);
            outbound.push_delta(right);
            while let Some(chunk) = outbound.next_chunk() {
                sent += chunk.len();
            }
        }
        while let Some(chunk) = outbound.flush() {
            sent += chunk.len();
        }
        outbound.push_delta(&pcm);
        outbound.clear();
    });

    // Assert
    assert_eq!(allocations, 0, "the per-frame path allocated");
    assert!(sent > 100 * (960 + 160), "the frames were really processed");
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the test above against a counter that never counts.
    let allocations = allocations_in(|| {
        std::hint::black_box(vec![0u8; 64]);
    });
    assert_eq!(allocations, 1);
}
