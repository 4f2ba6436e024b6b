//! The session configuration: defaults as `session.created` shows them, `session.update` applied
//! strictly (unknown or beta-era parameters are errors, as on the real API), and the full session
//! object echoed in `session.updated`.

use crate::audio::AudioFormat;
use crate::protocol::{ApiError, Fields, one_of};
use crate::vad::VadSettings;
use serde_json::{Value, json};

/// Instructions a fresh session carries before the client sets its own.
const DEFAULT_INSTRUCTIONS: &str = "You are a helpful, friendly assistant. Speak quickly.";

/// Turn detection (`audio.input.turn_detection`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TurnDetection {
    /// `semantic_vad` instead of `server_vad`; the double detects both by energy.
    pub semantic: bool,
    /// `threshold` (0.0–1.0), echoed; the energy threshold comes from the double's options.
    pub threshold: f64,
    /// `prefix_padding_ms`: audio before the detected start that belongs to the turn.
    pub prefix_padding_ms: u32,
    /// `silence_duration_ms`: quiet audio that ends a turn.
    pub silence_duration_ms: u32,
    /// `idle_timeout_ms`: silence after the model's audio that triggers a response.
    pub idle_timeout_ms: Option<u32>,
    /// `create_response`: a turn's end starts a response.
    pub create_response: bool,
    /// `interrupt_response`: a turn's start cancels the response in progress.
    pub interrupt_response: bool,
    /// `eagerness` of semantic VAD, echoed.
    pub eagerness: String,
}

impl TurnDetection {
    fn server_vad() -> TurnDetection {
        TurnDetection {
            semantic: false,
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            idle_timeout_ms: None,
            create_response: true,
            interrupt_response: true,
            eagerness: "auto".to_string(),
        }
    }

    /// Returns the detector settings, with the energy threshold the double is configured with.
    pub fn vad_settings(&self, rms_threshold: f64) -> VadSettings {
        // Semantic VAD has no silence setting; "auto" eagerness behaves like a 500 ms pause.
        let silence_duration_ms = if self.semantic {
            match self.eagerness.as_str() {
                "high" => 300,
                "low" => 1_000,
                _ => 500,
            }
        } else {
            self.silence_duration_ms
        };
        VadSettings {
            rms_threshold,
            silence_duration_ms,
            prefix_padding_ms: if self.semantic {
                300
            } else {
                self.prefix_padding_ms
            },
        }
    }

    fn to_json(&self) -> Value {
        if self.semantic {
            json!({
                "type": "semantic_vad",
                "eagerness": self.eagerness,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response,
            })
        } else {
            json!({
                "type": "server_vad",
                "threshold": self.threshold,
                "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms,
                "idle_timeout_ms": self.idle_timeout_ms,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response,
            })
        }
    }
}

/// A connection's session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// `sess_…`, fresh per connection.
    pub id: String,
    /// The model from the URL (or a later `session.update`).
    pub model: String,
    /// The system instructions.
    pub instructions: String,
    /// `["audio"]` or `["text"]`; echoed (the double always answers with audio).
    pub output_modalities: Value,
    /// Tools, echoed as given.
    pub tools: Value,
    /// `auto`, `none`, `required` or a forced tool, echoed.
    pub tool_choice: Value,
    /// `inf` or a number, echoed.
    pub max_output_tokens: Value,
    /// Echoed as given.
    pub tracing: Value,
    /// Echoed as given.
    pub truncation: Value,
    /// Echoed as given.
    pub prompt: Value,
    /// Echoed as given.
    pub include: Value,
    /// Echoed only once set.
    pub reasoning: Option<Value>,
    /// Accepted, never echoed: the package's session response model has no such field.
    pub parallel_tool_calls: Option<bool>,
    /// Seconds since the epoch when the session would expire.
    pub expires_at: u64,
    /// `audio.input.format`.
    pub input_format: AudioFormat,
    /// `audio.input.noise_reduction`, echoed.
    pub noise_reduction: Value,
    /// `audio.input.transcription`: transcripts are sent only when set.
    pub transcription: Option<Value>,
    /// `audio.input.turn_detection`: no VAD when `None`.
    pub turn_detection: Option<TurnDetection>,
    /// `audio.output.format`.
    pub output_format: AudioFormat,
    /// `audio.output.voice`.
    pub voice: Value,
    /// `audio.output.speed`, echoed.
    pub speed: f64,
}

impl Session {
    /// Returns the defaults a new connection gets (PCM 24 kHz both ways, server VAD on).
    pub fn new(id: String, model: String, now_secs: u64) -> Session {
        Session {
            id,
            model,
            instructions: DEFAULT_INSTRUCTIONS.to_string(),
            output_modalities: json!(["audio"]),
            tools: json!([]),
            tool_choice: json!("auto"),
            max_output_tokens: json!("inf"),
            tracing: Value::Null,
            truncation: json!("auto"),
            prompt: Value::Null,
            include: Value::Null,
            reasoning: None,
            parallel_tool_calls: None,
            // The real API's sessions last at most an hour.
            expires_at: now_secs + 3_600,
            input_format: AudioFormat::Pcm24,
            noise_reduction: Value::Null,
            transcription: None,
            turn_detection: Some(TurnDetection::server_vad()),
            output_format: AudioFormat::Pcm24,
            voice: json!("marin"),
            speed: 1.0,
        }
    }

    /// Returns the session object as `session.created`/`session.updated` carry it.
    pub fn to_json(&self) -> Value {
        let mut session = json!({
            "type": "realtime",
            "object": "realtime.session",
            "id": self.id,
            "model": self.model,
            "output_modalities": self.output_modalities,
            "instructions": self.instructions,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
            "max_output_tokens": self.max_output_tokens,
            "tracing": self.tracing,
            "truncation": self.truncation,
            "prompt": self.prompt,
            "expires_at": self.expires_at,
            "audio": {
                "input": {
                    "format": self.input_format.to_json(),
                    "transcription": self.transcription,
                    "noise_reduction": self.noise_reduction,
                    "turn_detection": self.turn_detection.as_ref().map(TurnDetection::to_json),
                },
                "output": {
                    "format": self.output_format.to_json(),
                    "voice": self.voice,
                    "speed": self.speed,
                }
            },
            "include": self.include,
        });
        if let Some(reasoning) = &self.reasoning {
            session["reasoning"] = reasoning.clone();
        }
        session
    }

    /// Applies the `session` object of a `session.update`; on error the session is unchanged.
    ///
    /// `voice_locked` is true once the session has spoken: the voice can no longer change.
    pub fn apply_update(&mut self, update: &Value, voice_locked: bool) -> Result<(), ApiError> {
        let mut next = self.clone();
        let s = Fields::new(
            update,
            "session",
            &[
                "type",
                "model",
                "output_modalities",
                "instructions",
                "audio",
                "tools",
                "tool_choice",
                "max_output_tokens",
                "tracing",
                "truncation",
                "prompt",
                "include",
                "reasoning",
                "parallel_tool_calls",
            ],
        )?;
        match s.str("type")? {
            None => return Err(ApiError::missing("session.type")),
            Some("realtime") => {}
            Some("transcription") => {
                return Err(ApiError::new(
                    "invalid_value",
                    "The double serves realtime sessions only, not transcription sessions.",
                )
                .with_param("session.type"));
            }
            Some(other) => {
                return Err(ApiError::invalid_value(
                    "session.type",
                    other,
                    &["realtime", "transcription"],
                ));
            }
        }
        if let Some(model) = s.str("model")? {
            next.model = model.to_string();
        }
        if let Some(instructions) = s.str("instructions")? {
            next.instructions = instructions.to_string();
        }
        if let Some(modalities) = s.array("output_modalities")? {
            let path = s.at("output_modalities");
            if modalities.len() != 1 {
                return Err(ApiError::new(
                    "invalid_value",
                    "output_modalities must be either ['audio'] or ['text'].",
                )
                .with_param(path));
            }
            for modality in modalities {
                let m = modality
                    .as_str()
                    .ok_or_else(|| ApiError::invalid_type(&path, "a string", modality))?;
                one_of(&path, m, &["audio", "text"])?;
            }
            next.output_modalities = Value::Array(modalities.clone());
        }
        if let Some(tools) = s.array("tools")? {
            for (i, tool) in tools.iter().enumerate() {
                check_tool(tool, &format!("session.tools[{i}]"))?;
            }
            next.tools = Value::Array(tools.clone());
        }
        if let Some(choice) = s.raw("tool_choice") {
            if let Some(mode) = choice.as_str() {
                one_of("session.tool_choice", mode, &["auto", "none", "required"])?;
            }
            next.tool_choice = choice.clone();
        }
        if let Some(max) = s.raw("max_output_tokens") {
            let ok = max == "inf" || max.as_u64().is_some_and(|n| (1..=4096).contains(&n));
            if !ok {
                return Err(ApiError::new(
                    "invalid_value",
                    "max_output_tokens must be an integer between 1 and 4096, or 'inf'.",
                )
                .with_param("session.max_output_tokens"));
            }
            next.max_output_tokens = max.clone();
        }
        for (key, slot) in [
            ("tracing", &mut next.tracing),
            ("truncation", &mut next.truncation),
            ("prompt", &mut next.prompt),
            ("include", &mut next.include),
        ] {
            if let Some(value) = s.raw(key) {
                *slot = value.clone();
            }
        }
        if let Some(reasoning) = s.raw("reasoning") {
            Fields::new(reasoning, "session.reasoning", &["effort"])?;
            next.reasoning = Some(reasoning.clone());
        }
        if let Some(parallel) = s.bool("parallel_tool_calls")? {
            next.parallel_tool_calls = Some(parallel);
        }
        if let Some(audio) = s.raw("audio") {
            next.apply_audio(audio, voice_locked)?;
        }
        *self = next;
        Ok(())
    }

    fn apply_audio(&mut self, audio: &Value, voice_locked: bool) -> Result<(), ApiError> {
        let a = Fields::new(audio, "session.audio", &["input", "output"])?;
        if let Some(input) = a.raw("input") {
            let i = Fields::new(
                input,
                "session.audio.input",
                &[
                    "format",
                    "noise_reduction",
                    "transcription",
                    "turn_detection",
                ],
            )?;
            if let Some(format) = i.raw("format") {
                self.input_format = parse_format(format, "session.audio.input.format")?;
            }
            if let Some(noise) = i.raw("noise_reduction") {
                if !noise.is_null() {
                    let n = Fields::new(
                        noise,
                        "session.audio.input.noise_reduction",
                        &["type", "strength"],
                    )?;
                    if let Some(kind) = n.str("type")? {
                        one_of(&n.at("type"), kind, &["near_field", "far_field"])?;
                    }
                    n.number("strength")?;
                }
                self.noise_reduction = noise.clone();
            }
            if let Some(transcription) = i.raw("transcription") {
                self.transcription = if transcription.is_null() {
                    None
                } else {
                    let t = Fields::new(
                        transcription,
                        "session.audio.input.transcription",
                        &[
                            "model",
                            "language",
                            "languages",
                            "prompt",
                            "delay",
                            "keywords",
                        ],
                    )?;
                    t.str("model")?;
                    t.str("language")?;
                    t.str("prompt")?;
                    Some(transcription.clone())
                };
            }
            if let Some(turn) = i.raw("turn_detection") {
                self.turn_detection = if turn.is_null() {
                    None
                } else {
                    Some(parse_turn_detection(turn)?)
                };
            }
        }
        if let Some(output) = a.raw("output") {
            let o = Fields::new(
                output,
                "session.audio.output",
                &["format", "voice", "speed"],
            )?;
            if let Some(format) = o.raw("format") {
                self.output_format = parse_format(format, "session.audio.output.format")?;
            }
            if let Some(voice) = o.raw("voice") {
                if !voice.is_string() {
                    Fields::new(voice, "session.audio.output.voice", &["id"])?
                        .required_str("id")?;
                }
                if voice_locked && *voice != self.voice {
                    return Err(ApiError::new(
                        "cannot_update_voice",
                        "Cannot update a conversation's voice if assistant audio is present.",
                    )
                    .with_param("session.audio.output.voice"));
                }
                self.voice = voice.clone();
            }
            if let Some(speed) = o.number("speed")? {
                if !(0.25..=1.5).contains(&speed) {
                    return Err(ApiError::new(
                        "decimal_above_max_value",
                        format!("Invalid 'session.audio.output.speed': {speed}. Expected a value between 0.25 and 1.5."),
                    )
                    .with_param("session.audio.output.speed"));
                }
                self.speed = speed;
            }
        }
        Ok(())
    }
}

/// Parses an audio format object (`{type: "audio/pcmu"}`, `{type: "audio/pcm", rate: 24000}`).
pub(crate) fn parse_format(value: &Value, path: &str) -> Result<AudioFormat, ApiError> {
    let f = Fields::new(value, path, &["type", "rate"])?;
    let kind = f.required_str("type")?;
    match one_of(
        &f.at("type"),
        kind,
        &["audio/pcm", "audio/pcmu", "audio/pcma"],
    )? {
        "audio/pcm" => match f.uint("rate")? {
            None | Some(24_000) => Ok(AudioFormat::Pcm24),
            Some(other) => Err(ApiError::invalid_value(
                &f.at("rate"),
                &other.to_string(),
                &["24000"],
            )),
        },
        other => {
            if f.raw("rate").is_some() {
                return Err(ApiError::unknown_parameter(&f.at("rate")));
            }
            Ok(if other == "audio/pcmu" {
                AudioFormat::Pcmu
            } else {
                AudioFormat::Pcma
            })
        }
    }
}

fn parse_turn_detection(value: &Value) -> Result<TurnDetection, ApiError> {
    const PATH: &str = "session.audio.input.turn_detection";
    let kind = Fields::new(
        value,
        PATH,
        &[
            "type",
            "threshold",
            "prefix_padding_ms",
            "silence_duration_ms",
            "idle_timeout_ms",
            "create_response",
            "interrupt_response",
            "eagerness",
        ],
    )?
    .required_str("type")?;
    let mut turn = TurnDetection::server_vad();
    match one_of(
        &format!("{PATH}.type"),
        kind,
        &["server_vad", "semantic_vad"],
    )? {
        "server_vad" => {
            let t = Fields::new(
                value,
                PATH,
                &[
                    "type",
                    "threshold",
                    "prefix_padding_ms",
                    "silence_duration_ms",
                    "idle_timeout_ms",
                    "create_response",
                    "interrupt_response",
                ],
            )?;
            if let Some(threshold) = t.number("threshold")? {
                if !(0.0..=1.0).contains(&threshold) {
                    return Err(ApiError::invalid_value(
                        &t.at("threshold"),
                        &threshold.to_string(),
                        &["a number from 0.0 to 1.0"],
                    ));
                }
                turn.threshold = threshold;
            }
            if let Some(ms) = t.uint("prefix_padding_ms")? {
                turn.prefix_padding_ms = ms.min(u64::from(u32::MAX)) as u32;
            }
            if let Some(ms) = t.uint("silence_duration_ms")? {
                turn.silence_duration_ms = ms.min(u64::from(u32::MAX)) as u32;
            }
            turn.idle_timeout_ms = t
                .uint("idle_timeout_ms")?
                .map(|ms| ms.min(u64::from(u32::MAX)) as u32);
            turn.create_response = t.bool("create_response")?.unwrap_or(true);
            turn.interrupt_response = t.bool("interrupt_response")?.unwrap_or(true);
        }
        _ => {
            let t = Fields::new(
                value,
                PATH,
                &["type", "eagerness", "create_response", "interrupt_response"],
            )?;
            turn.semantic = true;
            if let Some(eagerness) = t.str("eagerness")? {
                one_of(
                    &t.at("eagerness"),
                    eagerness,
                    &["low", "medium", "high", "auto"],
                )?;
                turn.eagerness = eagerness.to_string();
            }
            turn.create_response = t.bool("create_response")?.unwrap_or(true);
            turn.interrupt_response = t.bool("interrupt_response")?.unwrap_or(true);
        }
    }
    Ok(turn)
}

fn check_tool(tool: &Value, path: &str) -> Result<(), ApiError> {
    if tool.get("type").and_then(Value::as_str) == Some("mcp") {
        // MCP tools are echoed unchecked; the double never calls them.
        return Ok(());
    }
    let t = Fields::new(tool, path, &["type", "name", "description", "parameters"])?;
    if let Some(kind) = t.str("type")? {
        one_of(&t.at("type"), kind, &["function", "mcp"])?;
    }
    t.required_str("name")?;
    t.str("description")?;
    if let Some(parameters) = t.raw("parameters")
        && !parameters.is_object()
    {
        return Err(ApiError::invalid_type(
            &t.at("parameters"),
            "an object",
            parameters,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new("sess_1".into(), "gpt-realtime".into(), 0)
    }

    #[test]
    fn applies_the_relays_update() {
        let mut s = session();
        s.apply_update(
            &json!({
                "type": "realtime",
                "model": "gpt-realtime",
                "output_modalities": ["audio"],
                "instructions": "Vorbește doar românește.",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcmu"},
                        "transcription": {"model": "gpt-4o-mini-transcribe", "language": "ro"},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 700,
                                           "create_response": true, "interrupt_response": true,
                                           "idle_timeout_ms": 8000}
                    },
                    "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}
                },
                "tools": [{"type": "function", "name": "end_call", "description": "x",
                           "parameters": {"type": "object", "properties": {}}}],
                "tool_choice": "auto"
            }),
            false,
        )
        .unwrap();
        assert_eq!(s.input_format, AudioFormat::Pcmu);
        assert_eq!(s.output_format, AudioFormat::Pcmu);
        let turn = s.turn_detection.as_ref().unwrap();
        assert_eq!(turn.silence_duration_ms, 700);
        assert_eq!(turn.idle_timeout_ms, Some(8000));
        assert_eq!(
            s.to_json()["audio"]["output"]["format"],
            json!({"type": "audio/pcmu"})
        );
        assert_eq!(s.to_json()["tools"][0]["name"], "end_call");
    }

    #[test]
    fn refuses_beta_parameters_and_leaves_the_session_alone() {
        let mut s = session();
        let err = s
            .apply_update(
                &json!({"type": "realtime", "instructions": "x", "input_audio_format": "g711_ulaw"}),
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, Some("unknown_parameter"));
        assert_eq!(err.param.as_deref(), Some("session.input_audio_format"));
        assert_ne!(s.instructions, "x");
    }

    #[test]
    fn refuses_beta_format_names() {
        let mut s = session();
        let err = s
            .apply_update(
                &json!({"type": "realtime", "audio": {"input": {"format": {"type": "g711_ulaw"}}}}),
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, Some("invalid_value"));
    }

    #[test]
    fn requires_the_session_type() {
        let err = session()
            .apply_update(&json!({"instructions": "x"}), false)
            .unwrap_err();
        assert_eq!(err.code, Some("missing_required_parameter"));
    }

    #[test]
    fn turn_detection_null_turns_vad_off() {
        let mut s = session();
        s.apply_update(
            &json!({"type": "realtime", "audio": {"input": {"turn_detection": null}}}),
            false,
        )
        .unwrap();
        assert!(s.turn_detection.is_none());
        assert!(s.to_json()["audio"]["input"]["turn_detection"].is_null());
    }

    #[test]
    fn the_voice_is_fixed_once_the_model_has_spoken() {
        let mut s = session();
        let update = json!({"type": "realtime", "audio": {"output": {"voice": "cedar"}}});
        assert_eq!(
            s.apply_update(&update, true).unwrap_err().code,
            Some("cannot_update_voice")
        );
        s.apply_update(&update, false).unwrap();
        assert_eq!(s.voice, "cedar");
    }
}
