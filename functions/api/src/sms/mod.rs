//! Texts to clients after the call: what they say, Twilio's Messages API, and the sender.

pub mod reminders;
pub mod sender;
pub(crate) mod text;
pub mod twilio;

pub use sender::{Round, Sender};
pub use twilio::{MessagesApi, SmsFrom, SmsSettings};
