//! The relay: Twilio Media Streams to OpenAI Realtime, one task per call.
#![forbid(unsafe_code)]

pub mod audio;
