//! Server-side voice activity detection by signal energy, on the input audio's own timeline.
//!
//! The real server runs a model; the double measures the RMS level of each 20 ms window. Speech
//! starts after [`START_MS`] of consecutive loud windows and stops after `silence_duration_ms` of
//! quiet ones. On the synthetic Romanian recordings silence sits near RMS 4 and speech mostly
//! between 300 and 10 000 (16-bit scale), so the default threshold of 200 separates them with a
//! wide margin on either side.

use crate::audio::{AudioFormat, sample_at};

/// Window over which the level is measured.
pub const WINDOW_MS: u32 = 20;

/// Consecutive loud audio needed before speech counts as started.
pub const START_MS: u32 = 60;

/// RMS level (16-bit scale) above which a window counts as loud, unless configured otherwise.
pub const DEFAULT_RMS_THRESHOLD: f64 = 200.0;

/// A turn boundary found in the input audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VadEvent {
    /// Speech started; the time includes the prefix padding, as the real API's does.
    Started { audio_start_ms: u64 },
    /// Speech stopped; the time includes the trailing silence, as the real API's does.
    Stopped { audio_end_ms: u64 },
}

/// Turn detection settings that matter to the detector.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VadSettings {
    /// RMS level above which a window is loud.
    pub rms_threshold: f64,
    /// Quiet audio that ends a turn.
    pub silence_duration_ms: u32,
    /// Audio before the detected start that belongs to the turn.
    pub prefix_padding_ms: u32,
}

/// The input timeline and the detector's state; one per connection.
#[derive(Debug, Default)]
pub(crate) struct InputTimeline {
    /// Milliseconds of input audio received so far (the real API's `audio_*_ms` clock).
    position_ms: f64,
    /// Sum of squares of the current window's samples.
    window_energy: f64,
    /// Samples in the current window so far.
    window_samples: u32,
    /// Where the current window began.
    window_start_ms: f64,
    /// Whether a turn is in progress.
    speaking: bool,
    /// Consecutive loud windows while not speaking, and where the run began.
    loud_windows: u32,
    loud_run_start_ms: f64,
    /// Consecutive quiet audio while speaking.
    quiet_ms: u32,
    /// Start of the uncommitted audio: a turn never starts before it.
    buffer_start_ms: f64,
}

impl InputTimeline {
    /// Returns the current position of the input audio clock in milliseconds.
    pub fn position_ms(&self) -> f64 {
        self.position_ms
    }

    /// Returns the audio buffered since the last commit or clear, in milliseconds.
    pub fn buffered_ms(&self) -> f64 {
        self.position_ms - self.buffer_start_ms
    }

    /// Returns whether a turn is in progress.
    pub fn speaking(&self) -> bool {
        self.speaking
    }

    /// Marks the buffer as committed or cleared by the client: detection starts afresh here.
    pub fn reset_buffer(&mut self) {
        self.buffer_start_ms = self.position_ms;
        self.speaking = false;
        self.loud_windows = 0;
        self.quiet_ms = 0;
    }

    /// Advances the clock over `bytes` of `format` audio and runs the detector when `settings`
    /// is given (server VAD on), pushing any turn boundaries to `events`.
    pub fn push(
        &mut self,
        format: AudioFormat,
        bytes: &[u8],
        settings: Option<VadSettings>,
        events: &mut Vec<VadEvent>,
    ) {
        let rate = format.sample_rate();
        let ms_per_sample = 1000.0 / f64::from(rate);
        let window_samples = rate / (1000 / WINDOW_MS);
        let mut index = 0;
        while let Some(sample) = sample_at(format, bytes, index) {
            index += 1;
            if self.window_samples == 0 {
                self.window_start_ms = self.position_ms;
            }
            self.window_energy += f64::from(sample) * f64::from(sample);
            self.window_samples += 1;
            self.position_ms += ms_per_sample;
            if self.window_samples >= window_samples {
                let rms = (self.window_energy / f64::from(self.window_samples)).sqrt();
                self.window_energy = 0.0;
                self.window_samples = 0;
                if let Some(settings) = settings {
                    self.close_window(rms, settings, events);
                }
            }
        }
    }

    fn close_window(&mut self, rms: f64, settings: VadSettings, events: &mut Vec<VadEvent>) {
        let loud = rms > settings.rms_threshold;
        if !self.speaking {
            if !loud {
                self.loud_windows = 0;
                return;
            }
            if self.loud_windows == 0 {
                self.loud_run_start_ms = self.window_start_ms;
            }
            self.loud_windows += 1;
            if self.loud_windows * WINDOW_MS >= START_MS {
                self.speaking = true;
                self.quiet_ms = 0;
                let start = (self.loud_run_start_ms - f64::from(settings.prefix_padding_ms))
                    .max(self.buffer_start_ms)
                    .max(0.0);
                events.push(VadEvent::Started {
                    audio_start_ms: start.round() as u64,
                });
            }
        } else if loud {
            self.quiet_ms = 0;
        } else {
            self.quiet_ms += WINDOW_MS;
            if self.quiet_ms >= settings.silence_duration_ms {
                self.speaking = false;
                self.loud_windows = 0;
                // Server VAD commits the turn here: the next turn cannot reach back before it.
                self.buffer_start_ms = self.position_ms;
                events.push(VadEvent::Stopped {
                    audio_end_ms: self.position_ms.round() as u64,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Wav;

    fn settings(silence_duration_ms: u32) -> Option<VadSettings> {
        Some(VadSettings {
            rms_threshold: DEFAULT_RMS_THRESHOLD,
            silence_duration_ms,
            prefix_padding_ms: 300,
        })
    }

    fn caller(name: &str) -> Vec<u8> {
        let path = format!("{}/audio/caller/{name}.wav", env!("CARGO_MANIFEST_DIR"));
        Wav::parse(&std::fs::read(path).unwrap()).unwrap().data
    }

    #[test]
    fn finds_one_turn_in_each_caller_recording() {
        for name in [
            "01-cerere-tuns",
            "02-nume",
            "03-confirmare",
            "04-alternativa",
            "05-anulare",
            "06-mutare",
            "07-barba",
            "08-operator",
            "09-la-revedere",
            "10-intrerupere",
        ] {
            let mut timeline = InputTimeline::default();
            let mut events = Vec::new();
            let audio = caller(name);
            for frame in audio.chunks(160) {
                timeline.push(AudioFormat::Pcmu, frame, settings(500), &mut events);
            }
            // A second of line silence (0xFF) lets the last turn end.
            timeline.push(AudioFormat::Pcmu, &[0xFF; 8000], settings(500), &mut events);
            assert_eq!(events.len(), 2, "{name}: {events:?}");
            assert!(
                matches!(events[0], VadEvent::Started { audio_start_ms } if audio_start_ms < 200)
            );
            let VadEvent::Stopped { audio_end_ms } = events[1] else {
                panic!("{name}: {events:?}")
            };
            let length_ms = audio.len() as u64 / 8;
            assert!(
                audio_end_ms > length_ms - 400 && audio_end_ms <= length_ms + 600,
                "{name}: {audio_end_ms} vs {length_ms}"
            );
        }
    }

    #[test]
    fn a_short_silence_setting_splits_at_the_pause_after_the_greeting() {
        let mut timeline = InputTimeline::default();
        let mut events = Vec::new();
        timeline.push(
            AudioFormat::Pcmu,
            &caller("01-cerere-tuns"),
            settings(300),
            &mut events,
        );
        timeline.push(AudioFormat::Pcmu, &[0xFF; 8000], settings(300), &mut events);
        assert_eq!(events.len(), 4, "{events:?}");
    }

    #[test]
    fn line_silence_is_not_speech_and_still_moves_the_clock() {
        let mut timeline = InputTimeline::default();
        let mut events = Vec::new();
        timeline.push(
            AudioFormat::Pcmu,
            &[0xFF; 16_000],
            settings(500),
            &mut events,
        );
        assert!(events.is_empty());
        assert_eq!(timeline.position_ms().round(), 2000.0);
    }

    #[test]
    fn pcm24_input_runs_on_the_same_clock() {
        let tone = crate::audio::synthesize_speech(1000, AudioFormat::Pcm24);
        let mut timeline = InputTimeline::default();
        let mut events = Vec::new();
        timeline.push(AudioFormat::Pcm24, &tone, settings(500), &mut events);
        timeline.push(AudioFormat::Pcm24, &[0; 48_000], settings(500), &mut events);
        assert_eq!(timeline.position_ms().round(), 2000.0);
        assert_eq!(events.len(), 2, "{events:?}");
    }
}
