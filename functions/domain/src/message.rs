//! Messages for the salon: left with the agent when nobody at the salon could take the call,
//! or recorded after a transfer nobody answered. The salon calls back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, CallSid};
use crate::phone::PhoneE164;

/// A message for the salon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Unique within the salon: the call and what left it (the tool call, or the recording).
    pub id: String,
    pub business: BusinessId,
    pub call_sid: CallSid,
    /// Where to call back: the caller ID, or the number a caller without one said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneE164>,
    /// The caller's name, as they said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What they want, as the agent noted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A recording the caller left after a transfer nobody answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    pub at: Timestamp,
    /// The owner has read it.
    #[serde(default)]
    pub read: bool,
}

/// A recording kept by Twilio (the audio stays in the Twilio account; this is its address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub url: String,
    pub seconds: u32,
}
