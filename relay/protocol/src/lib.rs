//! Parses what the relay reads from its two peers, with no I/O: Twilio Media Streams messages
//! ([`twilio`]) and the OpenAI Realtime server events the relay acts on ([`realtime`]).
//!
//! Both parsers take untrusted text and bound what they accept, so they can be fuzzed on their
//! own (`Inbound::parse`, `ServerEvent::parse`).
#![forbid(unsafe_code)]

pub mod realtime;
pub mod twilio;
