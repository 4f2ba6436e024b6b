//! The one source of "now" for the functions, both stores and the relay: production reads the
//! system clock, tests set it, a local rehearsal offsets it.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Tells the current instant.
pub trait Clock: Send + Sync {
    /// Returns the current instant.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system's clock moved to start at a chosen instant, then running on from it: rehearses
/// the local stack or the demo on a given day (a booking on a holiday, the clock change).
/// Never for a deployment: the functions refuse it in Lambda.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: SignedDuration,
}

impl OffsetClock {
    /// Starts the clock at `at`, now.
    pub fn starting_at(at: Timestamp) -> Self {
        Self {
            offset: at.duration_since(Timestamp::now()),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset)
            .unwrap_or(Timestamp::MAX)
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// Starts the clock at an instant.
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the clock to an instant.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t = t
            .checked_add(by)
            .expect("a test clock stays within jiff's range");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_starts_where_it_is_told_and_runs_on() {
        let at: Timestamp = "2027-10-31T08:00:00+02:00".parse().unwrap();
        let clock = OffsetClock::starting_at(at);
        let first = clock.now();
        assert!(first.duration_since(at).as_secs() < 5, "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first, "it runs on, it is not frozen");
    }
}
