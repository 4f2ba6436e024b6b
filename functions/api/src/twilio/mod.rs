//! Twilio's side: webhook signatures, TwiML, and the voice, status and stream-ended webhooks.

mod handover;
pub mod routes;
/// Twilio's request signature, shared with the relay (which checks the stream's upgrade).
pub use salon_wire::twilio_signature as signature;
pub mod twiml;
