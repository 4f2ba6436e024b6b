//! What the harness learns of each call from both ends, on one clock: the simulated caller
//! says when it sent a turn's first loud frame and what it heard; the Realtime double (through
//! its [`Tap`]) says when that onset reached it and when it began each reply.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use salon_realtime_double::{AudioFormat, Tap};

use crate::stats::micros;

/// Where a call's tag sits in the instructions the functions give it, so the double can tell
/// which caller a Realtime connection serves.
pub(crate) const TAG_PREFIX: &str = "[load-call ";

/// The tag of call `index` as the instructions carry it.
pub(crate) fn tag(call_sid: &str) -> String {
    format!("{TAG_PREFIX}{call_sid}]")
}

/// Samples at or above this (16-bit scale) are the caller's speech, not silence or a filter's
/// ringing: the caller's turns begin at full amplitude.
const ONSET: i32 = 2_000;

/// One call's measurements.
#[derive(Debug, Default)]
pub(crate) struct CallState {
    /// When the caller sent the first frame of a turn whose onset the double has not seen yet.
    pub onset_sent: Option<Instant>,
    /// Caller frame to double, per turn, in microseconds.
    pub inbound_us: Vec<u32>,
    /// When the double began its latest reply, until the caller hears it.
    pub reply_started: Option<Instant>,
    /// Double's first delta of a reply to the caller's first frame of it, in microseconds.
    pub outbound_us: Vec<u32>,
    /// Input audio the double received in the measurement window, in milliseconds.
    pub received_ms: f64,
    /// Reply audio the double sent in the window, in milliseconds.
    pub sent_ms: f64,
    /// Audio deltas the double sent in the window.
    pub deltas: usize,
    /// The caller has hung up: what the double sends now can no longer be heard.
    pub hung_up: bool,
    /// Realtime connections this call had.
    pub connections: usize,
}

/// One call's measurements, shared by its caller task and the double's tap.
#[derive(Debug, Default)]
pub(crate) struct CallProbe(Mutex<CallState>);

impl CallProbe {
    pub(crate) fn lock(&self) -> MutexGuard<'_, CallState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every call's probe, by tag and by Realtime connection.
#[derive(Debug, Default)]
pub(crate) struct Probes {
    by_tag: Mutex<HashMap<String, Arc<CallProbe>>>,
    by_connection: Mutex<HashMap<u64, Arc<CallProbe>>>,
    /// Latencies count only inside the measurement window (not during ramp-up or the end).
    pub measuring: AtomicBool,
}

impl Probes {
    /// Registers the call with this tag and returns its probe.
    pub(crate) fn register(&self, call_sid: &str) -> Arc<CallProbe> {
        let probe = Arc::new(CallProbe::default());
        lock(&self.by_tag).insert(tag(call_sid), probe.clone());
        probe
    }

    fn of(&self, connection: u64) -> Option<Arc<CallProbe>> {
        lock(&self.by_connection).get(&connection).cloned()
    }

    pub(crate) fn measuring(&self) -> bool {
        self.measuring.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Tap for Probes {
    fn session(&self, connection: u64, instructions: &str) {
        let Some(at) = instructions.find(TAG_PREFIX) else {
            return;
        };
        let Some(len) = instructions[at..].find(']') else {
            return;
        };
        let tag = &instructions[at..=at + len];
        let Some(probe) = lock(&self.by_tag).get(tag).cloned() else {
            return;
        };
        probe.lock().connections += 1;
        lock(&self.by_connection).insert(connection, probe);
    }

    fn input_audio(&self, connection: u64, format: AudioFormat, audio: &[u8], at: Instant) {
        let Some(probe) = self.of(connection) else {
            return;
        };
        let mut call = probe.lock();
        if self.measuring() {
            call.received_ms += format.ms_of(audio.len());
        }
        let Some(sent) = call.onset_sent else {
            return;
        };
        if has_onset(format, audio) {
            call.onset_sent = None;
            if self.measuring() {
                call.inbound_us
                    .push(micros(at.saturating_duration_since(sent)));
            }
        }
    }

    fn reply_started(&self, connection: u64, at: Instant) {
        if let Some(probe) = self.of(connection) {
            let mut call = probe.lock();
            if !call.hung_up {
                call.reply_started = Some(at);
            }
        }
    }

    fn audio_sent(&self, connection: u64, format: AudioFormat, bytes: usize) {
        if let Some(probe) = self.of(connection) {
            let mut call = probe.lock();
            if !call.hung_up && self.measuring() {
                call.sent_ms += format.ms_of(bytes);
                call.deltas += 1;
            }
        }
    }

    fn closed(&self, connection: u64) {
        lock(&self.by_connection).remove(&connection);
    }
}

/// Whether `audio` holds a sample as loud as a turn's onset.
fn has_onset(format: AudioFormat, audio: &[u8]) -> bool {
    match format {
        AudioFormat::Pcm24 => audio
            .chunks_exact(2)
            .any(|s| i32::from(i16::from_le_bytes([s[0], s[1]])).abs() >= ONSET),
        AudioFormat::Pcmu => audio
            .iter()
            .any(|&b| i32::from(salon_realtime_double::audio::mulaw_decode(b)).abs() >= ONSET),
        AudioFormat::Pcma => audio
            .iter()
            .any(|&b| i32::from(salon_realtime_double::audio::alaw_decode(b)).abs() >= ONSET),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_double_finds_a_call_by_the_tag_in_its_instructions() {
        let probes = Probes::default();
        let probe = probes.register("CAload000007");
        probes.session(3, &format!("Ești asistentul. {}", tag("CAload000007")));
        probes.measuring.store(true, Ordering::Relaxed);
        let sent = Instant::now();
        probe.lock().onset_sent = Some(sent);
        // Silence does not end the wait; a loud frame does.
        probes.input_audio(3, AudioFormat::Pcmu, &[0xFF; 160], Instant::now());
        assert!(probe.lock().onset_sent.is_some());
        let loud = salon_realtime_double::audio::mulaw_encode(8_000);
        probes.input_audio(3, AudioFormat::Pcmu, &[loud; 160], Instant::now());
        let call = probe.lock();
        assert_eq!(call.inbound_us.len(), 1);
        assert_eq!(call.received_ms, 40.0);
        assert_eq!(call.connections, 1);
    }
}
