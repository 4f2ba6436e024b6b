//! The call summary the relay sends when its stream ends.

use serde::{Deserialize, Serialize};

/// Tokens spent on the call, summed from the model's `response.done` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub input_audio_tokens: u64,
    pub output_audio_tokens: u64,
    pub cached_input_tokens: u64,
}

impl TokenUsage {
    /// Adds another response's usage.
    pub fn add(&mut self, other: &TokenUsage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.input_audio_tokens += other.input_audio_tokens;
        self.output_audio_tokens += other.output_audio_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
    }
}

/// Who said a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Caller,
    Agent,
}

/// One line of what was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub speaker: Speaker,
    pub text: String,
}

/// How the relay's side of the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The agent said goodbye and ended the call (`end_call`).
    EndedByAgent,
    /// The caller stayed silent after the check-in.
    Silence,
    /// The call reached the maximum length.
    MaxLength,
    /// The caller hung up.
    CallerHungUp,
    /// The model could not be reached or was lost for good.
    UpstreamFailed,
    /// The relay was shutting down.
    Shutdown,
    /// The agent put the caller through to a person at the salon (`transfer_to_human`).
    Transferred,
}

impl CallOutcome {
    /// Returns whether the relay closed the stream on purpose, so no apology is due.
    pub fn is_deliberate(self) -> bool {
        matches!(
            self,
            Self::EndedByAgent | Self::Silence | Self::MaxLength | Self::Transferred
        )
    }
}

/// What only the relay knows, sent once when its stream ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub outcome: CallOutcome,
    /// How long the media stream lasted.
    pub stream_seconds: u32,
    pub usage: TokenUsage,
    /// Times the caller spoke over the agent.
    pub barge_ins: u32,
    /// Times the model's connection was re-established mid-call.
    pub reconnects: u32,
    /// What both sides said (personal data: kept for the retention period only).
    #[serde(default)]
    pub transcript: Vec<TranscriptLine>,
}
