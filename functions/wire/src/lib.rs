//! The wire between the relay and the functions: the types, names and signatures both sides use.
//!
//! No I/O and no dependency on the booking domain: the relay depends on this crate and on
//! nothing else of `functions/`. A type defined here is defined nowhere else.
#![forbid(unsafe_code)]

pub mod auth;
pub mod clock;
pub mod settings;
pub mod summary;
pub mod token;
pub mod tool_args;
pub mod tools;
pub mod twilio_signature;

use serde::{Deserialize, Serialize};

pub use summary::{CallOutcome, CallSummary, Speaker, TokenUsage, TranscriptLine};
pub use tools::{ToolError, ToolErrorCode, ToolReply};

/// The `<Parameter>` names the voice webhook puts in the TwiML; they reach the relay in
/// `start.customParameters`.
pub mod params {
    /// The business (salon) id.
    pub const BUSINESS: &str = "business";
    /// The caller's number as Twilio sent it.
    pub const CALLER: &str = "caller";
    /// The stream token ([`crate::token`]).
    pub const TOKEN: &str = "token";
}

/// The relay's endpoint on the functions, all `POST` with JSON bodies.
pub mod paths {
    /// Fetches the session config; creates or updates the call record.
    pub fn session(call_sid: &str) -> String {
        format!("/api/relay/calls/{call_sid}/session")
    }

    /// Runs a tool.
    pub fn tool(call_sid: &str, name: &str) -> String {
        format!("/api/relay/calls/{call_sid}/tools/{name}")
    }

    /// Posts the call summary.
    pub fn summary(call_sid: &str) -> String {
        format!("/api/relay/calls/{call_sid}/summary")
    }
}

/// The relay asks for a call's session config, and claims the call for its stream.
///
/// Every field comes from the verified stream token ([`token::Claims`]), never from what the
/// stream's parameters say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    /// The business the webhook routed the call to.
    pub business: String,
    /// The caller ID in E.164, or empty when there is none.
    pub caller: String,
    /// The number the caller dialled, in E.164.
    pub dialled: String,
    /// The media stream serving the call: the call's one stream, across relay instances.
    pub stream_sid: String,
}

/// A tool the model may call, as the Realtime API's `session.tools` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub description: String,
    /// A plain JSON Schema object: every subschema inlined, no `$ref`.
    pub parameters: serde_json::Value,
}

/// What the model needs for one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// The system instructions, in Romanian.
    pub instructions: String,
    /// What the agent says first.
    pub greeting: String,
    /// The model that transcribes the caller (`gpt-4o-transcribe`, …).
    pub transcription_model: String,
    /// The language the caller speaks, for transcription (`ro`).
    pub language: String,
    pub tools: Vec<ToolDefinition>,
}

/// The relay runs a tool the model called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRequest {
    /// The model's call id; with the call SID it makes the idempotency key.
    pub call_id: String,
    /// The arguments exactly as the model wrote them (a JSON text, possibly malformed).
    pub arguments: String,
    /// The business the stream token routed the call to, as in [`SessionRequest`]: the
    /// functions need not read the call record to know it. Empty from a relay older than
    /// this field; the functions then read it from the call record.
    #[serde(default)]
    pub business: String,
    /// The caller ID the stream token signed, in E.164, or empty when there is none.
    #[serde(default)]
    pub caller: String,
}

/// The longest model call id the functions take (OpenAI's are about 30 characters).
pub const MAX_CALL_ID_LEN: usize = 128;

/// Returns whether a model call id is one the functions can key a record by: 1 to
/// [`MAX_CALL_ID_LEN`] ASCII letters, digits, `_` or `-` (the model's ids are such).
pub fn valid_call_id(call_id: &str) -> bool {
    (1..=MAX_CALL_ID_LEN).contains(&call_id.len())
        && call_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The idempotency key of a tool call: `callSid:callId`.
pub fn idempotency_key(call_sid: &str, call_id: &str) -> String {
    format!("{call_sid}:{call_id}")
}
