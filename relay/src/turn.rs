//! How the model decides the caller has finished speaking: configuration, not a constant.
//!
//! Many callers are older and pause mid-sentence ("aș vrea... o programare... pentru mâine").
//! Server VAD ends the turn after a fixed silence (the API's default is 500 ms), which cuts them
//! off; semantic VAD with low eagerness judges from the words whether the caller is done and
//! waits longer when they are not, so it is the default. Server VAD stays available with a
//! longer silence for lines where semantic VAD misjudges.

use serde_json::{Value, json};

use crate::config::ConfigError;

/// The default silence for server VAD: long enough for a mid-sentence pause.
pub const DEFAULT_SILENCE_MS: u32 = 800;

/// The turn detection the session asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnDetection {
    /// `semantic_vad`: the model judges the end of the turn; `eagerness` low, medium, high or auto.
    Semantic { eagerness: Eagerness },
    /// `server_vad`: the turn ends after `silence_ms` of silence.
    Server { silence_ms: u32 },
}

/// How soon semantic VAD ends a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eagerness {
    Low,
    Medium,
    High,
    Auto,
}

impl Eagerness {
    fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Auto => "auto",
        }
    }
}

impl Default for TurnDetection {
    fn default() -> Self {
        Self::Semantic {
            eagerness: Eagerness::Low,
        }
    }
}

impl TurnDetection {
    /// Reads `TURN_DETECTION` (`semantic_vad`, the default, or `server_vad`), `VAD_EAGERNESS`
    /// (semantic: `low`, the default, `medium`, `high`, `auto`) and `VAD_SILENCE_MS` (server:
    /// default 800).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let invalid = |name: &'static str, why: String| ConfigError::Invalid { name, why };
        match get("TURN_DETECTION").as_deref().map(str::trim) {
            None | Some("semantic_vad") => {
                let eagerness = match get("VAD_EAGERNESS").as_deref().map(str::trim) {
                    None | Some("low") => Eagerness::Low,
                    Some("medium") => Eagerness::Medium,
                    Some("high") => Eagerness::High,
                    Some("auto") => Eagerness::Auto,
                    Some(other) => {
                        return Err(invalid(
                            "VAD_EAGERNESS",
                            format!("expected low, medium, high or auto, got {other:?}"),
                        ));
                    }
                };
                Ok(Self::Semantic { eagerness })
            }
            Some("server_vad") => {
                let silence_ms = match get("VAD_SILENCE_MS") {
                    None => DEFAULT_SILENCE_MS,
                    Some(v) => v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|ms| (200..=5_000).contains(ms))
                        .ok_or_else(|| {
                            invalid("VAD_SILENCE_MS", format!("expected 200 to 5000, got {v:?}"))
                        })?,
                };
                Ok(Self::Server { silence_ms })
            }
            Some(other) => Err(invalid(
                "TURN_DETECTION",
                format!("expected semantic_vad or server_vad, got {other:?}"),
            )),
        }
    }

    /// Returns `session.audio.input.turn_detection` for `session.update`.
    pub fn to_json(self) -> Value {
        match self {
            Self::Semantic { eagerness } => json!({
                "type": "semantic_vad",
                "eagerness": eagerness.as_str(),
                "create_response": true,
                "interrupt_response": true
            }),
            Self::Server { silence_ms } => json!({
                "type": "server_vad",
                "silence_duration_ms": silence_ms,
                "create_response": true,
                "interrupt_response": true
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &'static [(&'static str, &'static str)]) -> Result<TurnDetection, ConfigError> {
        TurnDetection::from_lookup(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_default_waits_for_callers_who_pause() {
        let t = from(&[]).unwrap();
        assert_eq!(t.to_json()["type"], "semantic_vad");
        assert_eq!(t.to_json()["eagerness"], "low");
        let s = from(&[("TURN_DETECTION", "server_vad")]).unwrap();
        assert_eq!(s.to_json()["silence_duration_ms"], 800);
        assert_eq!(
            from(&[("TURN_DETECTION", "server_vad"), ("VAD_SILENCE_MS", "1200")]).unwrap(),
            TurnDetection::Server { silence_ms: 1200 }
        );
    }

    #[test]
    fn bad_settings_name_their_variable() {
        for (pairs, name) in [
            (&[("TURN_DETECTION", "push_to_talk")][..], "TURN_DETECTION"),
            (&[("VAD_EAGERNESS", "lazy")][..], "VAD_EAGERNESS"),
            (
                &[("TURN_DETECTION", "server_vad"), ("VAD_SILENCE_MS", "50")][..],
                "VAD_SILENCE_MS",
            ),
        ] {
            let e = TurnDetection::from_lookup(&|n| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap_err();
            assert!(e.to_string().starts_with(name), "{e}");
        }
    }
}
