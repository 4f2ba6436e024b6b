//! Streams that have upgraded but not yet been admitted (no valid `start` yet), held under
//! their own cap so they never take a call's place.
//!
//! Twilio sends `start` right after the upgrade, so a pending stream is young or not Twilio.
//! When the cap is reached the oldest pending stream is dropped to make room for the new one:
//! a flood of idle sockets costs at most the cap in memory and can only push out its own.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// The pending streams, oldest first.
pub(crate) struct Pending {
    cap: usize,
    state: Mutex<State>,
    /// Where the number pending is shown (`relay_pending_streams`).
    metrics: Arc<Metrics>,
}

struct State {
    next_id: u64,
    /// Each pending stream's id and the token that drops it.
    queue: VecDeque<(u64, CancellationToken)>,
}

/// One stream's place among the pending; dropping it (admitted, refused or gone) frees it.
pub(crate) struct PendingSlot {
    pending: Arc<Pending>,
    id: u64,
    /// Cancelled when a newer stream pushed this one out.
    pub(crate) evicted: CancellationToken,
}

impl Pending {
    /// Holds at most `cap` streams.
    pub(crate) fn new(cap: usize, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            state: Mutex::new(State {
                next_id: 0,
                queue: VecDeque::new(),
            }),
            metrics,
        })
    }

    fn show(&self, s: &State) {
        self.metrics
            .pending_streams
            .store(s.queue.len() as u64, Ordering::Relaxed);
    }

    /// Takes a place for a new stream, pushing out the oldest when full; returns the place and
    /// whether one was pushed out.
    pub(crate) fn enter(self: &Arc<Self>) -> (PendingSlot, bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut evicted_one = false;
        while s.queue.len() >= self.cap {
            if let Some((_, oldest)) = s.queue.pop_front() {
                oldest.cancel();
                evicted_one = true;
            }
        }
        let id = s.next_id;
        s.next_id += 1;
        let evicted = CancellationToken::new();
        s.queue.push_back((id, evicted.clone()));
        self.show(&s);
        (
            PendingSlot {
                pending: self.clone(),
                id,
                evicted,
            },
            evicted_one,
        )
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut s = self.pending.state.lock().unwrap_or_else(|p| p.into_inner());
        s.queue.retain(|(id, _)| *id != self.id);
        self.pending.show(&s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_pushed_out_when_full_and_a_place_frees_on_drop() {
        let metrics = Arc::new(Metrics::default());
        let p = Pending::new(2, metrics.clone());
        let len = || metrics.pending_streams.load(Ordering::Relaxed);
        let (a, _) = p.enter();
        let (b, pushed) = p.enter();
        assert!(!pushed);
        let (c, pushed) = p.enter();
        assert!(pushed);
        assert!(a.evicted.is_cancelled(), "the oldest goes");
        assert!(!b.evicted.is_cancelled() && !c.evicted.is_cancelled());
        assert_eq!(len(), 2);
        drop(b);
        assert_eq!(len(), 1);
        let (_d, pushed) = p.enter();
        assert!(!pushed, "a freed place is reused");
        drop(a);
        assert_eq!(len(), 2, "an evicted slot's drop frees nothing twice");
    }
}
