//! The scenario a double plays: what the caller is heard to say and how the "model" answers.
//!
//! A script is a small JSON file:
//!
//! ```json
//! {
//!   "caller_transcripts": ["Bună ziua! Aș dori o programare pentru tuns, mâine la zece."],
//!   "responses": [
//!     {"say": {"text": "Bună ziua! Salon Voice Booking, cu ce vă pot ajuta?", "audio": "01-salut"}},
//!     {"calls": [{"name": "check_appointment_availability",
//!                 "arguments": {"service": "tuns", "date": "{tomorrow}", "time": "10:00"}}]},
//!     {"drop": "before"},
//!     {"say": {"text": "La revedere!", "ms": 800}, "calls": [{"name": "end_call", "arguments": {}}]}
//!   ]
//! }
//! ```
//!
//! - `caller_transcripts[i]` is the transcript of the i-th committed user turn (VAD or manual
//!   commit), sent as `conversation.item.input_audio_transcription.completed` when the session
//!   has input transcription on; turns beyond the list get `""`.
//! - Each response (from `response.create` or a VAD commit with `create_response`) plays the next
//!   entry of `responses`: `say` speaks (`audio` names `audio/agent/<name>.pcmu.wav` or
//!   `.pcm24.wav` in the double's audio directory, picked by the session's output format;
//!   without `audio`, `ms` milliseconds of synthetic speech, 1000 by default); `calls` are
//!   function calls in the same response, after the speech (several = parallel calls);
//!   `drop: "before"` closes the TCP connection without a close frame instead of answering,
//!   `drop: "after"` does so right after `response.done`.
//! - Once `responses` is used up, every further response says [`FALLBACK_SAY`] in synthetic audio.
//! - `asides` are responses out of turn: a response whose own instructions (`response.create`'s
//!   `instructions`), or a function output added since the last response, contain an aside's
//!   `when` says its `say` and makes its `calls`, and leaves the script where it was, as a model
//!   does with a one-off line (the relay's hold line while a tool runs long) or a check it was
//!   told to make (an unknown outcome: look the appointments up first).
//!
//! The position in the script is shared by all connections to one double: a reconnecting
//! client carries on where the dropped connection stopped.

use serde::{Deserialize, Serialize};

/// What the double says once the script has no responses left.
pub const FALLBACK_SAY: &str = "Mai pot să vă ajut cu ceva?";

/// How long the synthetic voice speaks when `say.ms` is not given.
pub const DEFAULT_SAY_MS: u32 = 1_000;

/// A scenario: caller transcripts and scripted model responses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Transcripts of the caller's turns, in order.
    #[serde(default)]
    pub caller_transcripts: Vec<String>,
    /// The model's responses, in order.
    #[serde(default)]
    pub responses: Vec<ScriptedResponse>,
    /// Lines said out of turn, when a response's own instructions ask for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asides: Vec<Aside>,
}

/// A response out of turn: not a step of the script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aside {
    /// Text that a response's own instructions, or a function output added since the last
    /// response, contain when they ask for this one.
    pub when: String,
    /// What is said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<Say>,
    /// Function calls, after the speech.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
}

/// One model response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedResponse {
    /// Speech, sent before any call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<Say>,
    /// Function calls, in output order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// Closes the connection abruptly before or after this response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<DropWhen>,
}

/// Speech in a response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Say {
    /// The transcript of the speech.
    pub text: String,
    /// A recording in `audio/agent/` (name without the `.pcmu.wav`/`.pcm24.wav` suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    /// Length of the synthetic speech when `audio` is absent, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u32>,
}

/// A function call in a response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The tool's name.
    pub name: String,
    /// The arguments, sent as a JSON string as the real API does.
    #[serde(default = "empty_object")]
    pub arguments: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// When a scripted response drops the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropWhen {
    /// Instead of answering: nothing of the response is sent.
    Before,
    /// Right after the response's `response.done`.
    After,
}

/// Why a script could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The text is not a script: bad JSON or an unknown field.
    #[error("invalid script JSON")]
    Json(#[source] serde_json::Error),
    /// The script file could not be read.
    #[error("cannot read script file {path}")]
    Io {
        /// The file that was asked for.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

impl Script {
    /// Parses a script from JSON text.
    pub fn from_json(text: &str) -> Result<Script, ScriptError> {
        serde_json::from_str(text).map_err(ScriptError::Json)
    }

    /// Reads and parses a script file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Script, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Script::from_json(&text)
    }

    /// Replaces every `{name}` in the script's strings (transcripts, texts, audio names and
    /// argument values) by its value, e.g. `with_vars(&[("tomorrow", "2026-12-15")])`.
    ///
    /// Substituting in the parsed strings rather than in the raw text keeps values with quotes
    /// or backslashes from breaking the JSON.
    pub fn with_vars(mut self, vars: &[(&str, &str)]) -> Script {
        let fill = |s: &mut String| {
            for (name, value) in vars {
                let placeholder = format!("{{{name}}}");
                if s.contains(&placeholder) {
                    *s = s.replace(&placeholder, value);
                }
            }
        };
        self.caller_transcripts.iter_mut().for_each(fill);
        for response in &mut self.responses {
            if let Some(say) = &mut response.say {
                fill(&mut say.text);
                if let Some(audio) = &mut say.audio {
                    fill(audio);
                }
            }
            for call in &mut response.calls {
                fill(&mut call.name);
                fill_value(&mut call.arguments, &fill);
            }
        }
        self
    }
}

fn fill_value(value: &mut serde_json::Value, fill: &impl Fn(&mut String)) {
    match value {
        serde_json::Value::String(s) => fill(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| fill_value(v, fill)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| fill_value(v, fill)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "caller_transcripts": ["Bună ziua!", "Mă numesc Ion Popescu."],
      "responses": [
        {"say": {"text": "Bună ziua!", "audio": "01-salut"}},
        {"calls": [{"name": "check_appointment_availability",
                    "arguments": {"service": "tuns", "date": "{tomorrow}", "time": "10:00"}}]},
        {"say": {"text": "..."}, "calls": []},
        {"drop": "before"},
        {"say": {"text": "La revedere!", "ms": 700}, "calls": [{"name": "end_call"}]}
      ]
    }"#;

    #[test]
    fn parses_the_documented_example() {
        let script = Script::from_json(EXAMPLE).unwrap();
        assert_eq!(script.caller_transcripts.len(), 2);
        assert_eq!(script.responses.len(), 5);
        assert_eq!(
            script.responses[0].say.as_ref().unwrap().audio.as_deref(),
            Some("01-salut")
        );
        assert_eq!(script.responses[3].drop, Some(DropWhen::Before));
        assert_eq!(
            script.responses[4].calls[0].arguments,
            serde_json::json!({})
        );
        assert_eq!(script.responses[4].say.as_ref().unwrap().ms, Some(700));
    }

    #[test]
    fn fills_placeholders_in_argument_values() {
        let script = Script::from_json(EXAMPLE)
            .unwrap()
            .with_vars(&[("tomorrow", "2026-12-15")]);
        assert_eq!(script.responses[1].calls[0].arguments["date"], "2026-12-15");
        assert_eq!(script.responses[1].calls[0].arguments["time"], "10:00");
    }

    #[test]
    fn rejects_unknown_fields() {
        let err = Script::from_json(r#"{"responses": [{"speak": {"text": "x"}}]}"#).unwrap_err();
        assert!(matches!(err, ScriptError::Json(_)));
    }
}
