//! What a soak found, in one line and as JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::Fault;

/// What a soak found. Every check that failed is in `errors`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub calls: usize,
    pub concurrency: usize,
    pub seed: u64,
    pub faults_on: bool,
    /// Faults planned, by kind (one call each).
    pub faults: BTreeMap<Fault, usize>,
    /// Relay requests the fault proxy cut unanswered (planned and during restarts) and
    /// answered 500.
    pub functions_cut: usize,
    pub functions_500: usize,
    pub relay_restarts: usize,
    pub calls_connected: usize,
    pub calls_spoke: usize,
    pub calls_hung_up: usize,
    pub bookings_confirmed: usize,
    pub bookings_found: usize,
    pub bookings_duplicated: usize,
    pub bookings_orphaned: usize,
    pub bookings_missing: usize,
    /// Booked, the model told, and the caller hung up on purpose before hearing it all.
    pub bookings_left: usize,
    /// Requests for a full start that the functions refused.
    pub full_refused: usize,
    /// Romanian apologies the model was given for failed functions.
    pub apologies: usize,
    /// Bookings sent and never answered, told to the model as of unknown outcome.
    pub outcomes_unknown: usize,
    pub longest_silence_ms: f64,
    pub longest_silence_call: String,
    /// The first relay's memory just after it started, in KiB.
    pub rss_cold_kib: u64,
    /// The measured relay at rest before and after the second part.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub fds_before: usize,
    pub fds_after: usize,
    /// Seconds each relay told SIGTERM took to exit.
    pub relay_exit_s: Vec<f64>,
    pub duration_s: f64,
    /// How many checks failed, and the first few, as said.
    pub error_count: usize,
    pub errors: Vec<String>,
}

impl Report {
    pub(crate) fn error(&mut self, why: String) {
        self.error_count += 1;
        if self.errors.len() < 20 {
            self.errors.push(why);
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.error_count == 0
    }

    /// The report in one line.
    pub fn line(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| {
                format!(
                    "{}={n}",
                    serde_json::to_value(k)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("?")
                )
            })
            .collect();
        format!(
            "soak {} calls ×{} seed {} in {:.0}s: faults [{}], {} relay restarts, {} cut, {} 500s; \
             bookings confirmed {} found {} duplicated {} orphaned {} missing {} left {} unknown {}; full refused {}; \
             longest silence {:.0} ms; relay RSS {} → {} KiB, fds {} → {}; {} errors",
            self.calls,
            self.concurrency,
            self.seed,
            self.duration_s,
            faults.join(" "),
            self.relay_restarts,
            self.functions_cut,
            self.functions_500,
            self.bookings_confirmed,
            self.bookings_found,
            self.bookings_duplicated,
            self.bookings_orphaned,
            self.bookings_missing,
            self.bookings_left,
            self.outcomes_unknown,
            self.full_refused,
            self.longest_silence_ms,
            self.rss_before_kib,
            self.rss_after_kib,
            self.fds_before,
            self.fds_after,
            self.error_count,
        )
    }
}
