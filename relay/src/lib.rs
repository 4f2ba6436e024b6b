//! The relay: Twilio Media Streams to OpenAI Realtime, one task per call.
