//! Twilio's side: webhook signatures, TwiML, and the voice, status and stream-ended webhooks.

pub mod routes;
pub mod signature;
pub mod twiml;
