//! Counters for `/metrics`, in Prometheus' text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use salon_wire::CallOutcome;

/// Upper bounds of the tool-latency histogram, in seconds.
const BUCKETS: [f64; 8] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const OUTCOMES: [(CallOutcome, &str); 7] = [
    (CallOutcome::EndedByAgent, "ended_by_agent"),
    (CallOutcome::Silence, "silence"),
    (CallOutcome::MaxLength, "max_length"),
    (CallOutcome::CallerHungUp, "caller_hung_up"),
    (CallOutcome::UpstreamFailed, "upstream_failed"),
    (CallOutcome::Shutdown, "shutdown"),
    (CallOutcome::Transferred, "transferred"),
];

/// The relay's counters; shared by every call.
#[derive(Default)]
pub struct Metrics {
    /// Calls in progress; moved only by [`ActiveCall`], so no path can forget to count down.
    active_calls: AtomicU64,
    /// Streams upgraded and waiting for an admitted `start`.
    pub pending_streams: AtomicU64,
    calls: [AtomicU64; 7],
    /// Streams refused before a call began (bad token, wrong format, full, draining).
    pub streams_refused: AtomicU64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub barge_ins: AtomicU64,
    pub malformed_messages: AtomicU64,
    pub openai_errors: AtomicU64,
    pub openai_reconnects: AtomicU64,
    tool_buckets: [AtomicU64; 8],
    tool_count: AtomicU64,
    tool_micros: AtomicU64,
}

/// One call counted in `relay_active_calls` for as long as this lives: counted up when made,
/// down when dropped, however the call ends (a panic in it included).
#[must_use = "the call counts as active only while the guard lives"]
pub struct ActiveCall<'a>(&'a AtomicU64);

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Counts a call as active until the returned guard is dropped.
    pub fn call_started(&self) -> ActiveCall<'_> {
        self.active_calls.fetch_add(1, Relaxed);
        ActiveCall(&self.active_calls)
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> u64 {
        self.active_calls.load(Relaxed)
    }

    /// Counts a finished call.
    pub fn call_ended(&self, outcome: CallOutcome) {
        if let Some(i) = OUTCOMES.iter().position(|(o, _)| *o == outcome) {
            self.calls[i].fetch_add(1, Relaxed);
        }
    }

    /// Records how long a tool call took.
    pub fn tool_latency(&self, d: std::time::Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.tool_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.tool_count.fetch_add(1, Relaxed);
        self.tool_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    /// Renders every counter.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let mut one = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        one(
            "relay_active_calls",
            "gauge",
            "Calls in progress.",
            self.active_calls(),
        );
        one(
            "relay_pending_streams",
            "gauge",
            "Streams upgraded and not yet admitted.",
            self.pending_streams.load(Relaxed),
        );
        one(
            "relay_streams_refused_total",
            "counter",
            "Streams refused before a call began.",
            self.streams_refused.load(Relaxed),
        );
        one(
            "relay_frames_in_total",
            "counter",
            "Media frames from Twilio.",
            self.frames_in.load(Relaxed),
        );
        one(
            "relay_frames_out_total",
            "counter",
            "Media frames to Twilio.",
            self.frames_out.load(Relaxed),
        );
        one(
            "relay_barge_ins_total",
            "counter",
            "Times a caller spoke over the agent.",
            self.barge_ins.load(Relaxed),
        );
        one(
            "relay_malformed_messages_total",
            "counter",
            "Twilio messages refused: unparsable, binary or oversized.",
            self.malformed_messages.load(Relaxed),
        );
        one(
            "relay_openai_errors_total",
            "counter",
            "Error events and failures from OpenAI.",
            self.openai_errors.load(Relaxed),
        );
        one(
            "relay_openai_reconnects_total",
            "counter",
            "OpenAI connections re-established mid-call.",
            self.openai_reconnects.load(Relaxed),
        );
        let _ = writeln!(
            s,
            "# HELP relay_calls_total Calls ended, by outcome.\n# TYPE relay_calls_total counter"
        );
        for (i, (_, label)) in OUTCOMES.iter().enumerate() {
            let _ = writeln!(
                s,
                "relay_calls_total{{outcome=\"{label}\"}} {}",
                self.calls[i].load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP relay_tool_call_seconds Tool call latency.\n# TYPE relay_tool_call_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "relay_tool_call_seconds_bucket{{le=\"{b}\"}} {}",
                self.tool_buckets[i].load(Relaxed)
            );
        }
        let count = self.tool_count.load(Relaxed);
        let _ = writeln!(s, "relay_tool_call_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            s,
            "relay_tool_call_seconds_sum {}",
            self.tool_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "relay_tool_call_seconds_count {count}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_call_is_counted_until_its_guard_drops_even_in_a_panic() {
        let metrics = Metrics::default();
        let first = metrics.call_started();
        let second = metrics.call_started();
        assert_eq!(metrics.active_calls(), 2);
        drop(first);
        assert_eq!(metrics.active_calls(), 1);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _active = metrics.call_started();
            assert_eq!(metrics.active_calls(), 2);
            panic!("a call's task panics");
        }));
        assert!(panicked.is_err());
        assert_eq!(
            metrics.active_calls(),
            1,
            "the panicking call was counted down"
        );
        drop(second);
        assert_eq!(metrics.active_calls(), 0);
        assert!(metrics.render().contains("relay_active_calls 0"));
    }
}
