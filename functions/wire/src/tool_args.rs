//! The arguments the model passes to each tool: parsed by the same types that describe them.
//!
//! Each tool's arguments are a type here; its JSON Schema for the model is derived from that
//! type, so the description and the parser cannot disagree. Everything the model writes came
//! from a caller's words and is hostile until checked: the whole text and every string in it
//! are bounded ([`MAX_ARGUMENTS_BYTES`], [`MAX_TEXT_CHARS`]), so a megabyte "service name" is
//! refused rather than echoed back to the model.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The longest arguments text accepted: a booking's arguments are a few hundred bytes.
pub const MAX_ARGUMENTS_BYTES: usize = 4096;

/// The longest string argument accepted, in characters: longer than any service, stylist,
/// name, number, date or time a caller says.
pub const MAX_TEXT_CHARS: usize = 120;

/// Why a tool's arguments were refused. Carries no part of the arguments: errors are logged,
/// and arguments hold names and numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// Longer than [`MAX_ARGUMENTS_BYTES`].
    #[error("the arguments are longer than {MAX_ARGUMENTS_BYTES} bytes")]
    TooLong,
    /// Not JSON, not an object, a missing or mistyped field, or a string over
    /// [`MAX_TEXT_CHARS`]; says where, never what.
    #[error(
        "the arguments do not fit the tool's schema ({category} at line {line}, column {column})"
    )]
    Invalid {
        category: &'static str,
        line: usize,
        column: usize,
    },
}

/// A short piece of text from the model: at most [`MAX_TEXT_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Text(String);

impl Text {
    /// Returns the text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.chars().count() > MAX_TEXT_CHARS {
            // serde puts this in its error; the value itself never appears in it.
            return Err(format!("a text longer than {MAX_TEXT_CHARS} characters"));
        }
        Ok(Self(s))
    }
}

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "maxLength": MAX_TEXT_CHARS})
    }
}

/// Parses a tool's arguments as the model wrote them; empty text means no arguments.
pub fn parse<T: DeserializeOwned>(arguments: &str) -> Result<T, ArgsError> {
    if arguments.len() > MAX_ARGUMENTS_BYTES {
        return Err(ArgsError::TooLong);
    }
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    serde_json::from_str(text).map_err(|e| ArgsError::Invalid {
        category: match e.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        },
        line: e.line(),
        column: e.column(),
    })
}

/// Takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoArguments {}

/// Checks a day's free times, or one wished time.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckAvailability {
    /// The service as the caller named it, e.g. "tuns" or "bărbierit"; several done in one visit joined with " și ", e.g. "vopsit și coafat".
    pub service: Text,
    /// The day, as YYYY-MM-DD in the salon's calendar.
    pub date: Text,
    /// The wished start, as HH:MM (24-hour). Leave out to get the day's free times.
    #[serde(default)]
    pub time: Option<Text>,
    /// A stylist the caller asked for, by name. Leave out for anyone.
    #[serde(default)]
    pub stylist: Option<Text>,
}

/// Holds the time a caller picked while they confirm the details.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct HoldTime {
    /// The service as the caller named it, as checked; several joined with " și ".
    pub service: Text,
    /// The day, as YYYY-MM-DD.
    pub date: Text,
    /// The picked start, as HH:MM (24-hour), one of the times the availability check offered.
    pub time: Text,
    /// A stylist the caller asked for, by name. Leave out for anyone: the answer says who.
    #[serde(default)]
    pub stylist: Option<Text>,
}

/// Looks the caller up by their phone number.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindClient {
    /// Only when the caller's number is hidden: the number they said. Otherwise leave out.
    #[serde(default)]
    pub phone: Option<Text>,
}

/// Books an appointment after the caller confirmed every detail.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateAppointment {
    /// The service as the caller named it; several done in one visit joined with " și ", as checked.
    pub service: Text,
    /// The day, as YYYY-MM-DD.
    pub date: Text,
    /// The start, as HH:MM (24-hour), one of the times the availability check offered.
    pub time: Text,
    /// The name the appointment is under: the caller's (a known client's too) or that of the person they book for. Required for a new client, and whenever the caller's number is hidden.
    #[serde(default)]
    pub client_name: Option<Text>,
    /// A stylist the caller asked for, by name. Leave out for anyone: the answer says who it is.
    #[serde(default)]
    pub stylist: Option<Text>,
    /// Only when the caller's number is hidden: the number they said.
    #[serde(default)]
    pub phone: Option<Text>,
}

/// Lists the caller's upcoming appointments.
pub type ListAppointments = NoArguments;

/// Cancels one of the caller's appointments, after they confirmed which.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CancelAppointment {
    /// The appointment's id, from list_client_appointments.
    pub appointment_id: Text,
}

/// Moves one of the caller's appointments to a new time, after they confirmed it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RescheduleAppointment {
    /// The appointment's id, from list_client_appointments.
    pub appointment_id: Text,
    /// The new day, as YYYY-MM-DD.
    pub date: Text,
    /// The new start, as HH:MM (24-hour).
    pub time: Text,
    /// Leave out to keep the same stylist. A stylist's name if the caller asked for another one, or "oricine" if anyone will do.
    #[serde(default)]
    pub stylist: Option<Text>,
}

/// Ends the call after the goodbye has been said.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EndCall {
    /// Why the call ends, e.g. "booked", "caller said goodbye".
    #[serde(default)]
    pub reason: Option<Text>,
}

/// Puts the caller through to a person at the salon.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TransferToHuman {
    /// Why, e.g. "asked for a person", "a question the agent cannot answer".
    #[serde(default)]
    pub reason: Option<Text>,
}

/// Takes a message for the salon, which calls the caller back.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TakeMessage {
    /// The caller's name, as they said it.
    pub name: Text,
    /// What they want, in one short sentence.
    pub message: Text,
    /// Only when the caller's number is hidden: the number to call back.
    #[serde(default)]
    pub phone: Option<Text>,
}

/// Puts the caller on the waitlist of a day they could not get: texted if a time frees up.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct JoinWaitlist {
    /// The service as the caller named it, as checked; several joined with " și ".
    pub service: Text,
    /// The day, as YYYY-MM-DD.
    pub date: Text,
    /// The earliest start the caller can come, as HH:MM (24-hour). Leave out for any time.
    #[serde(default)]
    pub from: Option<Text>,
    /// The latest start, as HH:MM (24-hour). Leave out for any time.
    #[serde(default)]
    pub until: Option<Text>,
    /// A stylist the caller asked for, by name. Leave out for anyone.
    #[serde(default)]
    pub stylist: Option<Text>,
    /// The caller's name, when they are not a known client.
    #[serde(default)]
    pub client_name: Option<Text>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_and_empty_means_none() {
        let a: CreateAppointment = parse(
            r#"{"service":"tuns","date":"2026-12-15","time":"10:00","client_name":"Ion Popescu"}"#,
        )
        .unwrap();
        assert_eq!(a.service.as_str(), "tuns");
        assert_eq!(a.client_name.unwrap().as_str(), "Ion Popescu");
        assert!(parse::<NoArguments>("").is_ok());
        assert!(parse::<NoArguments>("  ").is_ok());
    }

    #[test]
    fn oversized_arguments_and_strings_are_refused_without_echoing_them() {
        let huge = format!(
            r#"{{"service":"{}","date":"2026-12-15"}}"#,
            "x".repeat(1_500_000)
        );
        assert_eq!(
            parse::<CheckAvailability>(&huge).unwrap_err(),
            ArgsError::TooLong
        );
        let long = format!(
            r#"{{"service":"{}","date":"2026-12-15"}}"#,
            "x".repeat(MAX_TEXT_CHARS + 1)
        );
        let e = parse::<CheckAvailability>(&long).unwrap_err();
        assert!(
            matches!(
                e,
                ArgsError::Invalid {
                    category: "data",
                    ..
                }
            ),
            "{e:?}"
        );
        let ok = format!(
            r#"{{"service":"{}","date":"2026-12-15"}}"#,
            "ș".repeat(MAX_TEXT_CHARS)
        );
        assert!(
            parse::<CheckAvailability>(&ok).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn errors_never_carry_the_rejected_value() {
        for text in [
            r#"{"phone": 722123456}"#,
            r#"{"phone": ["0722123456"]}"#,
            r#"{"phone": "0722123456""#,
            r#"0722123456"#,
        ] {
            let e = parse::<FindClient>(text).unwrap_err().to_string();
            assert!(!e.contains("722123456"), "{e}");
        }
    }
}
