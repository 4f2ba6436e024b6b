//! A global allocator that counts the bytes live on the thread that asked: for the tests that
//! measure what a call holds (each test binary declares it its `#[global_allocator]`). It counts
//! only on the counting thread, so the harness's other threads cannot disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// `Some(bytes)` while counting on this thread: bytes allocated less bytes freed.
    pub static LIVE: Cell<Option<isize>> = const { Cell::new(None) };
}

pub struct LiveBytes;

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

/// Starts counting on this thread, from zero.
pub fn start() {
    LIVE.with(|live| live.set(Some(0)));
}

/// Stops counting on this thread; returns the bytes allocated and not freed since [`start`].
pub fn stop() -> isize {
    LIVE.with(|live| live.take()).expect("counting was on")
}
