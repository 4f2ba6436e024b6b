//! A scripted stand-in for the OpenAI Realtime API (GA interface, WebSocket), so the relay can be
//! tested offline.
//!
//! [`Double::start`] serves a [`Script`] on `127.0.0.1` and speaks the GA protocol as the real
//! server does: the upgrade at `/v1/realtime?model=…` with `Authorization: Bearer …` (401 without
//! it, 400 with an `OpenAI-Beta` header), `session.created`, strict `session.update` handling,
//! energy-based server VAD on the input audio, scripted responses with audio in the session's
//! output format and function calls, barge-in cancellation, truncation checks and the real
//! error events. Every event in and out is recorded for the test to inspect.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use salon_realtime_double::{Double, Script};
//! let script = Script::from_json(r#"{
//!     "caller_transcripts": ["Bună ziua!"],
//!     "responses": [{"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "audio": "01-salut"}}]
//! }"#).expect("valid script");
//! let double = Double::start(script).await?;
//! let url = format!("{}?model=gpt-realtime", double.url());
//! // ... point the relay at `url`, run the call, then inspect `double.received()`.
//! # let _ = url;
//! # Ok(())
//! # }
//! ```
//!
//! Not modelled: text-only output (`output_modalities: ["text"]` is echoed, answers are still
//! audio), transcription deltas, rate limits, MCP tools, WebRTC-only events.
#![forbid(unsafe_code)]

pub mod audio;
mod connection;
mod items;
pub mod oracle;
mod protocol;
pub mod script;
mod server;
mod session;
mod vad;

pub use audio::{AudioFormat, Wav, WavError};
pub use script::{Aside, Call, DropWhen, FALLBACK_SAY, Say, Script, ScriptError, ScriptedResponse};
pub use server::{Double, Options, Scripts, Tap};
pub use vad::DEFAULT_RMS_THRESHOLD;
