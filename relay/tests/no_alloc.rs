//! Proves the per-frame path allocates nothing once a call is set up: the pcm24 audio path on
//! its own, and one call's whole core (message text in, message text out) in both modes.
//!
//! A counting `#[global_allocator]` needs its own test binary, so these tests live alone in
//! this file. It counts only on the thread that asked for counting, so the test harness's own
//! threads cannot disturb the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use salon_relay::audio::{AudioMode, InboundAudio, OutboundAudio};
use salon_relay::call::hot_path::To;

#[path = "common/frames.rs"]
mod frames;

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

/// What the call sent during a run, counted without allocating; the last text of each kind is
/// kept (in room reserved beforehand) to be read once counting is over.
struct Sent {
    media: usize,
    marks: usize,
    appends: usize,
    other: usize,
    last_media: String,
    last_mark: String,
    last_append: String,
}

impl Sent {
    fn new() -> Self {
        Self {
            media: 0,
            marks: 0,
            appends: 0,
            other: 0,
            last_media: String::with_capacity(4096),
            last_mark: String::with_capacity(4096),
            last_append: String::with_capacity(4096),
        }
    }

    fn note(&mut self, to: To, text: &str) {
        let (count, last) = match to {
            To::Twilio if text.starts_with(r#"{"event":"media""#) => {
                (&mut self.media, &mut self.last_media)
            }
            To::Twilio if text.starts_with(r#"{"event":"mark""#) => {
                (&mut self.marks, &mut self.last_mark)
            }
            To::Realtime if text.starts_with(r#"{"type":"input_audio_buffer.append""#) => {
                (&mut self.appends, &mut self.last_append)
            }
            _ => {
                self.other += 1;
                return;
            }
        };
        *count += 1;
        last.clear();
        last.push_str(text);
    }
}

/// A call in `mode` with a reply playing: 200 rounds of a caller frame in, a model delta in
/// (its frame and mark out) and Twilio's echo of the mark in, after one round of warm-up.
/// Returns the allocations counted and what was sent while counting.
fn call_rounds(mode: AudioMode) -> (usize, Sent) {
    // Arrange: the call, and every text the peers will send, written beforehand.
    let (mut core, mut marks) = frames::playing(mode);
    let caller = frames::twilio_audio();
    let media: Vec<String> = (0..=200)
        .map(|i| frames::twilio_media(i, &caller))
        .collect();
    let delta = frames::audio_delta("item_greeting", &frames::model_audio(mode));
    let mut echo = String::with_capacity(256);
    let mut sent = Sent::new();
    let mut round = |media: &str, sent: &mut Sent| {
        core.twilio(media, |to, text| sent.note(to, text));
        core.realtime(&delta, |to, text| {
            sent.note(to, text);
            marks.note(text);
        });
        while marks.next(&mut echo) {
            core.twilio(&echo, |to, text| sent.note(to, text));
        }
    };
    round(&media[0], &mut Sent::new());

    // Act
    let allocations = allocations_in(|| {
        for text in &media[1..] {
            round(text, &mut sent);
        }
    });
    (allocations, sent)
}

/// Checks a run's texts: JSON of the expected shape, 200 of each, nothing else.
fn assert_sent(sent: &Sent, mode: AudioMode) {
    use serde_json::Value;
    assert_eq!(
        (sent.media, sent.marks, sent.appends, sent.other),
        (200, 200, 200, 0),
        "a frame and its mark out per delta, an append per caller frame"
    );
    let media: Value = serde_json::from_str(&sent.last_media).unwrap();
    assert_eq!(media["streamSid"], frames::STREAM_SID);
    assert_eq!(
        media["media"]["payload"].as_str().unwrap().len(),
        216,
        "160 bytes"
    );
    let mark: Value = serde_json::from_str(&sent.last_mark).unwrap();
    assert!(mark["mark"]["name"].as_str().unwrap().starts_with("0-"));
    let append: Value = serde_json::from_str(&sent.last_append).unwrap();
    let audio_len = match mode {
        AudioMode::Pcmu => 216,
        AudioMode::Pcm24 => 1280,
    };
    assert_eq!(append["audio"].as_str().unwrap().len(), audio_len);
}

#[test]
fn a_pcmu_calls_frames_allocate_nothing_text_in_to_text_out() {
    let (allocations, sent) = call_rounds(AudioMode::Pcmu);
    assert_eq!(allocations, 0, "the call's per-frame path allocated");
    assert_sent(&sent, AudioMode::Pcmu);
}

#[test]
fn a_pcm24_calls_frames_allocate_nothing_text_in_to_text_out() {
    let (allocations, sent) = call_rounds(AudioMode::Pcm24);
    assert_eq!(allocations, 0, "the call's per-frame path allocated");
    assert_sent(&sent, AudioMode::Pcm24);
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the test above against a counter that never counts.
    let allocations = allocations_in(|| {
        std::hint::black_box(vec![0u8; 64]);
    });
    assert_eq!(allocations, 1);
}
