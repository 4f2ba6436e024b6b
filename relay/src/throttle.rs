//! Keeps a repeated warning to a few log lines: the first occurrence, then at most one line per
//! period carrying the count since the last line. A peer sending thousands of bad messages a
//! second must not be able to flood the logs (the metric counts every one).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a repeated warning may be logged again.
pub(crate) const LOG_PERIOD: Duration = Duration::from_secs(10);

/// Decides when a repeated warning is logged.
pub(crate) struct LogThrottle {
    period: Duration,
    state: Mutex<State>,
}

struct State {
    /// When the last line was let through; `None` before the first.
    last: Option<Instant>,
    /// Occurrences since the last line, not yet reported.
    unreported: u64,
}

impl LogThrottle {
    /// A throttle letting one line through per `period`.
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            state: Mutex::new(State {
                last: None,
                unreported: 0,
            }),
        }
    }

    /// Records one occurrence; returns how many to report when a line is due now (this one
    /// included), `None` while the period since the last line has not passed.
    pub(crate) fn hit(&self) -> Option<u64> {
        self.hit_at(Instant::now())
    }

    fn hit_at(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.unreported += 1;
        let due = s
            .last
            .is_none_or(|last| now.duration_since(last) >= self.period);
        if !due {
            return None;
        }
        s.last = Some(now);
        Some(std::mem::take(&mut s.unreported))
    }

    /// Takes the occurrences not reported yet (for a last line when the call ends).
    pub(crate) fn take_unreported(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut s.unreported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_logged_then_one_line_per_period_with_the_count() {
        let t = LogThrottle::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(t.hit_at(t0), Some(1));
        let quiet = (1..1000)
            .filter_map(|i| t.hit_at(t0 + Duration::from_millis(i)))
            .count();
        assert_eq!(quiet, 0, "nothing more within the period");
        assert_eq!(t.hit_at(t0 + Duration::from_secs(10)), Some(1000));
        assert_eq!(t.hit_at(t0 + Duration::from_secs(11)), None);
        assert_eq!(t.take_unreported(), 1);
        assert_eq!(t.take_unreported(), 0);
    }
}
