//! Tool names and the shape of every tool's answer.

use serde::{Deserialize, Serialize};

pub const GET_AVAILABLE_SERVICES: &str = "get_available_services";
pub const CHECK_APPOINTMENT_AVAILABILITY: &str = "check_appointment_availability";
pub const FIND_EXISTING_CLIENT: &str = "find_existing_client";
pub const CREATE_VOICE_APPOINTMENT: &str = "create_voice_appointment";
pub const LIST_CLIENT_APPOINTMENTS: &str = "list_client_appointments";
pub const CANCEL_APPOINTMENT: &str = "cancel_appointment";
pub const RESCHEDULE_APPOINTMENT: &str = "reschedule_appointment";
/// Holds the time a caller picked for their call while they decide.
pub const HOLD_APPOINTMENT_TIME: &str = "hold_appointment_time";
/// Asks the functions whether a person can take the call now; when they answer yes, the
/// relay ends the stream with a transfer once the agent has said so.
pub const TRANSFER_TO_HUMAN: &str = "transfer_to_human";
pub const TAKE_MESSAGE: &str = "take_message";
/// Puts the caller on the waitlist of a day they could not get.
pub const JOIN_WAITLIST: &str = "join_waitlist";
/// Declared to the model like the others, but acted on by the relay itself.
pub const END_CALL: &str = "end_call";

/// Every tool the model may call.
pub const ALL: [&str; 12] = [
    GET_AVAILABLE_SERVICES,
    CHECK_APPOINTMENT_AVAILABILITY,
    HOLD_APPOINTMENT_TIME,
    FIND_EXISTING_CLIENT,
    CREATE_VOICE_APPOINTMENT,
    LIST_CLIENT_APPOINTMENTS,
    CANCEL_APPOINTMENT,
    RESCHEDULE_APPOINTMENT,
    TRANSFER_TO_HUMAN,
    TAKE_MESSAGE,
    JOIN_WAITLIST,
    END_CALL,
];

/// The answer field of `transfer_to_human` that puts the call through (`"transfer": true`).
pub const TRANSFER_FIELD: &str = "transfer";

/// Whether the tool changes the salon's book (a booking, a move, a cancellation): when its
/// answer is lost, whether it happened is unknown.
pub fn changes_the_book(name: &str) -> bool {
    [
        CREATE_VOICE_APPOINTMENT,
        RESCHEDULE_APPOINTMENT,
        CANCEL_APPOINTMENT,
    ]
    .contains(&name)
}

/// Returns the tool's name as a constant, or `unknown`: a name the model wrote is caller
/// text, and never reaches a log or a record as given.
pub fn known(name: &str) -> &'static str {
    ALL.into_iter().find(|t| *t == name).unwrap_or("unknown")
}

/// What went wrong, for the model to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolErrorCode {
    /// The arguments were not valid JSON or missed a field.
    InvalidArguments,
    /// No such tool.
    UnknownTool,
    /// No service by that name; the message lists what exists.
    UnknownService,
    /// Several services fit the name.
    AmbiguousService,
    /// The phone number is not a valid one.
    InvalidPhone,
    /// The date or time could not be understood.
    InvalidDateTime,
    /// The time cannot be booked; alternatives may follow.
    Unavailable,
    /// A new client must give a name.
    NameRequired,
    /// What was given as a name is not a name.
    InvalidName,
    /// The client already has an appointment at that time.
    ClientBusy,
    /// The caller's number is hidden: nothing about a client can be looked up by a number
    /// they say.
    CallerIdHidden,
    /// No such appointment for this caller.
    NotFound,
    /// The appointment was cancelled already.
    Cancelled,
    /// The same request key was used for a different booking.
    KeyReused,
    /// The salon's booking system failed; the call can go on.
    StoreUnavailable,
    /// The relay could not reach the functions.
    FunctionsUnreachable,
    /// A change to the book was sent but no answer came back: it may or may not have been
    /// made.
    OutcomeUnknown,
    /// Nobody at the salon can take the call now (closed, or no phone for it): take a message.
    TransferUnavailable,
    /// Too close to the appointment for the salon's cut-off: a person can still help.
    TooLate,
    /// The salon keeps no waitlist (it sends no texts), or the caller cannot be texted.
    NoWaitlist,
    /// Anything else.
    Internal,
}

/// A free time offered instead of the one asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// `2026-12-15`.
    pub date: String,
    /// `10:30`, local time.
    pub time: String,
    /// How to say it: `marți, 15 decembrie, la 10:30`.
    pub spoken: String,
}

/// A tool's failure: a code, a Romanian sentence the model can say, and alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolError {
    pub code: ToolErrorCode,
    /// Romanian, with diacritics, sayable as is.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// A tool's answer: HTTP 200 with `{"ok":true,"result":…}` or `{"ok":false,"error":…}`.
/// HTTP errors mean authentication or transport trouble, never a business answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawReply", into = "RawReply")]
pub enum ToolReply {
    Ok(serde_json::Value),
    Err(ToolError),
}

#[derive(Serialize, Deserialize)]
struct RawReply {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ToolError>,
}

impl TryFrom<RawReply> for ToolReply {
    type Error = String;
    fn try_from(r: RawReply) -> Result<Self, Self::Error> {
        match (r.ok, r.result, r.error) {
            (true, Some(v), None) => Ok(Self::Ok(v)),
            (false, None, Some(e)) => Ok(Self::Err(e)),
            _ => Err("a tool reply has ok:true with a result, or ok:false with an error".into()),
        }
    }
}

impl From<ToolReply> for RawReply {
    fn from(r: ToolReply) -> Self {
        match r {
            ToolReply::Ok(v) => Self {
                ok: true,
                result: Some(v),
                error: None,
            },
            ToolReply::Err(e) => Self {
                ok: false,
                result: None,
                error: Some(e),
            },
        }
    }
}

impl ToolReply {
    /// Builds a failure without alternatives.
    pub fn error(code: ToolErrorCode, message: impl Into<String>) -> Self {
        Self::Err(ToolError {
            code,
            message: message.into(),
            alternatives: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_have_the_designed_shape() {
        let ok = serde_json::to_value(ToolReply::Ok(serde_json::json!({"a": 1}))).unwrap();
        assert_eq!(ok, serde_json::json!({"ok": true, "result": {"a": 1}}));
        let err = ToolReply::error(ToolErrorCode::NotFound, "Nu am găsit programarea.");
        let v = serde_json::to_value(&err).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"ok": false, "error": {"code": "not_found", "message": "Nu am găsit programarea."}})
        );
        assert_eq!(serde_json::from_value::<ToolReply>(v).unwrap(), err);
        assert!(serde_json::from_value::<ToolReply>(serde_json::json!({"ok": true})).is_err());
    }
}
