//! The booking tools the model calls: arguments parsed by the same types that describe them.
//!
//! Each tool's arguments are a Rust type; its JSON Schema for the model is derived from that
//! type ([`definitions`]), so the description and the parser cannot disagree. Answers are
//! compact JSON with Romanian labels and local times, made for the model to read aloud.
//!
//! Here: the definitions, what every tool runs with, and the dispatch. The tools themselves are
//! in `booking` (finding and booking a time), `changes` (the caller's appointments), `handover`
//! (a person, a message) and `waitlist`; what a caller asked for is read in `asked`, and the
//! Romanian answers are made in `replies`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use salon_domain::availability::{DayStatus, day_status};
use salon_domain::call::ToolCallRecord;
use salon_domain::service::{FindServiceError, find_service};
use salon_domain::text::{Match, best_match};
use salon_domain::{
    Appointment, AppointmentId, Business, CallSid, ClientName, ClosedReason, IdempotencyKey,
    PhoneE164, PhoneOrigin, Service, Slot, StaffId, Unavailable,
};
use salon_store::{BookingError, BookingRequest, HoldRequest, Move, Recording, Store, Stylist};
use salon_wire::tool_args::{
    self, CancelAppointment, CheckAvailability, CreateAppointment, EndCall, FindClient, HoldTime,
    JoinWaitlist, ListAppointments, NoArguments, RescheduleAppointment, TakeMessage,
    TransferToHuman,
};
use salon_wire::tools::{self as names, Alternative, TRANSFER_FIELD, ToolError, ToolErrorCode};
use salon_wire::{ToolDefinition, ToolReply};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::speech;

mod asked;
mod booking;
mod changes;
mod handover;
mod replies;
mod waitlist;

use asked::*;
use booking::*;
use changes::*;
use handover::*;
use replies::*;

/// Derives a tool's parameters: a plain JSON Schema object, every subschema inlined.
fn schema<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut v = generator.into_root_schema_for::<T>().to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("title");
        o.remove("$schema");
        o.remove("description");
        o.entry("properties").or_insert_with(|| json!({}));
    }
    v
}

fn tool<T: JsonSchema>(name: &str, description: &str) -> ToolDefinition {
    ToolDefinition {
        kind: "function".into(),
        name: name.into(),
        description: description.into(),
        parameters: schema::<T>(),
    }
}

/// Returns every tool the model may call, `end_call` included.
pub fn definitions() -> Vec<ToolDefinition> {
    vec![
        tool::<NoArguments>(
            names::GET_AVAILABLE_SERVICES,
            "Lists the salon's services with duration and price. Call it when the caller asks what is offered or what something costs.",
        ),
        tool::<CheckAvailability>(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "Checks free times for a service on a day, or whether one wished time is free (with the nearest alternatives if not). Call it before offering any time.",
        ),
        tool::<HoldTime>(
            names::HOLD_APPOINTMENT_TIME,
            "Holds the time the caller picked for this call for a few minutes, so nobody else takes it while you read the details back. Call it as soon as the caller picks one of the offered times; then read back and book.",
        ),
        tool::<FindClient>(
            names::FIND_EXISTING_CLIENT,
            "Looks up the caller by their caller ID: their name and upcoming appointments, if they are a client. When the caller's number is hidden it finds nothing: ask for the name instead.",
        ),
        tool::<CreateAppointment>(
            names::CREATE_VOICE_APPOINTMENT,
            "Books the appointment. Call it only after reading the details back and the caller confirming them.",
        ),
        tool::<ListAppointments>(
            names::LIST_CLIENT_APPOINTMENTS,
            "Lists the caller's upcoming appointments, with their ids, before cancelling or moving one.",
        ),
        tool::<CancelAppointment>(
            names::CANCEL_APPOINTMENT,
            "Cancels one of the caller's appointments, after they confirmed which one.",
        ),
        tool::<RescheduleAppointment>(
            names::RESCHEDULE_APPOINTMENT,
            "Moves one of the caller's appointments to a new time, after checking it is free and the caller confirmed it.",
        ),
        tool::<TransferToHuman>(
            names::TRANSFER_TO_HUMAN,
            "Puts the caller through to a person at the salon. Call it when the caller asks for a person (or pressed 0), or when you cannot help them. If it answers transfer_unavailable, take a message instead.",
        ),
        tool::<TakeMessage>(
            names::TAKE_MESSAGE,
            "Leaves a message for the salon, which calls back: the caller's name and what they want. Call it when nobody at the salon can take the call, after reading the message back.",
        ),
        tool::<JoinWaitlist>(
            names::JOIN_WAITLIST,
            "Puts the caller on the waitlist of a day they wanted but could not get (a service, a stylist or anyone, optionally a window of the day): they get a text if a time frees up, and call to book it. Offer it only after the alternatives did not suit them.",
        ),
        tool::<EndCall>(
            names::END_CALL,
            "Ends the call. Call it right after saying goodbye, when the caller has nothing more to ask.",
        ),
    ]
}

/// Who is calling, and when: what every tool runs with.
pub struct CallContext {
    pub business: Business,
    pub call_sid: CallSid,
    /// The caller's number, when Twilio sent a valid one.
    pub caller: Option<PhoneE164>,
    pub now: Timestamp,
    /// When the request began, for the tool call's recorded duration.
    pub started: std::time::Instant,
}

/// What a tool did, for the call record.
pub struct Outcome {
    pub reply: ToolReply,
    /// An appointment booked or moved by it.
    pub appointment: Option<AppointmentId>,
    /// The tool call was already recorded, in the same transaction as what it did.
    pub recorded: bool,
}

impl From<ToolReply> for Outcome {
    fn from(reply: ToolReply) -> Self {
        Self {
            reply,
            appointment: None,
            recorded: false,
        }
    }
}

fn fail(code: ToolErrorCode, message: impl Into<String>) -> ToolReply {
    ToolReply::error(code, message)
}

fn parse<T: DeserializeOwned>(arguments: &str) -> Result<T, ToolReply> {
    tool_args::parse(arguments).map_err(|e| {
        // The error says where, never what: arguments carry names and numbers.
        tracing::info!(error = %e, "tool arguments did not parse");
        fail(
            ToolErrorCode::InvalidArguments,
            "Nu am înțeles toate detaliile cererii. Vă rog să le repetați, pe scurt.",
        )
    })
}

fn text(t: &Option<tool_args::Text>) -> Option<&str> {
    t.as_ref().map(tool_args::Text::as_str)
}

fn parse_date(s: &str) -> Result<Date, ToolReply> {
    s.trim().parse::<Date>().map_err(|_| {
        fail(
            ToolErrorCode::InvalidDateTime,
            "Nu am înțeles data. Ce zi doriți?",
        )
    })
}

fn parse_time(s: &str) -> Result<Time, ToolReply> {
    let s = s.trim();
    // "9:30" is as good as "09:30".
    let padded = if s.find(':') == Some(1) {
        format!("0{s}")
    } else {
        s.to_owned()
    };
    padded.parse::<Time>().map_err(|_| {
        fail(
            ToolErrorCode::InvalidDateTime,
            "Nu am înțeles ora. La ce oră doriți?",
        )
    })
}

fn store_down(e: impl std::fmt::Display) -> ToolReply {
    tracing::error!(error = %e, "the store failed during a tool call");
    fail(
        ToolErrorCode::StoreUnavailable,
        "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.",
    )
}

/// Why the store refused a booking, a move or a cancellation, as the Romanian sentence the
/// agent would say (the console shows the owner the same), with the nearest free times.
pub(crate) fn refusal(business: &Business, at: Option<DateTime>, e: BookingError) -> String {
    match booking_error(business, at, e) {
        ToolReply::Err(e) => e.message,
        ToolReply::Ok(_) => String::new(),
    }
}

/// Runs a tool. `call_id` comes from the model; with the call SID it makes the booking's key.
pub async fn run(
    store: &Store,
    ctx: &CallContext,
    name: &str,
    call_id: &str,
    arguments: &str,
) -> Outcome {
    let result = match name {
        names::GET_AVAILABLE_SERVICES => services(store, ctx, arguments).await.map(Outcome::from),
        names::CHECK_APPOINTMENT_AVAILABILITY => {
            check(store, ctx, arguments).await.map(Outcome::from)
        }
        names::HOLD_APPOINTMENT_TIME => hold(store, ctx, arguments).await.map(Outcome::from),
        names::FIND_EXISTING_CLIENT => find_client(store, ctx, arguments).await.map(Outcome::from),
        names::CREATE_VOICE_APPOINTMENT => create(store, ctx, call_id, arguments).await,
        names::LIST_CLIENT_APPOINTMENTS => list(store, ctx, arguments).await.map(Outcome::from),
        names::CANCEL_APPOINTMENT => cancel(store, ctx, call_id, arguments).await,
        names::RESCHEDULE_APPOINTMENT => reschedule(store, ctx, call_id, arguments).await,
        names::TRANSFER_TO_HUMAN => transfer(ctx, arguments).map(Outcome::from),
        names::TAKE_MESSAGE => take_message(store, ctx, call_id, arguments)
            .await
            .map(Outcome::from),
        names::JOIN_WAITLIST => waitlist::join(store, ctx, call_id, arguments)
            .await
            .map(Outcome::from),
        _ => Err(fail(ToolErrorCode::UnknownTool, "Nu pot face asta.")),
    };
    result.unwrap_or_else(Outcome::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_schemas_are_plain_inlined_objects() {
        let defs = definitions();
        assert_eq!(defs.len(), 12);
        for d in &defs {
            let text = d.parameters.to_string();
            assert_eq!(d.parameters["type"], "object", "{}", d.name);
            for banned in ["$ref", "$schema", "definitions", "$defs"] {
                assert!(!text.contains(banned), "{}: {text}", d.name);
            }
        }
        let create = defs
            .iter()
            .find(|d| d.name == names::CREATE_VOICE_APPOINTMENT)
            .unwrap();
        let required: Vec<&str> = create.parameters["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(required, ["service", "date", "time"]);
        assert!(
            create.parameters["properties"]["client_name"]["description"]
                .as_str()
                .unwrap()
                .contains("name")
        );
    }

    #[test]
    fn a_refusal_without_a_time_names_no_hour() {
        let b = salon_domain::demo::business(
            PhoneE164::parse(salon_domain::demo::DEMO_NUMBER).unwrap(),
        );
        let ToolReply::Err(e) = unavailable(&b, None, &Unavailable::Taken, &[]) else {
            panic!("a refusal")
        };
        assert_eq!(e.message, "Ora aceasta este deja ocupată.");
        let at = "2026-12-15T10:30".parse().unwrap();
        let ToolReply::Err(e) = unavailable(&b, Some(at), &Unavailable::Taken, &[]) else {
            panic!("a refusal")
        };
        assert_eq!(e.message, "Ora zece și jumătate este deja ocupată.");
    }

    #[test]
    fn free_times_join_into_ranges_on_the_salons_grid() {
        let slot = |t: &str| {
            let start: jiff::ZonedDateTime =
                format!("2026-12-15T{t}[Europe/Bucharest]").parse().unwrap();
            Slot {
                end: start.clone(),
                start,
                staff: vec![StaffId::parse("ana").unwrap()],
            }
        };
        let half_hourly: Vec<Slot> = ["09:00", "09:30", "10:00", "11:00"].map(slot).to_vec();
        let (digits, spoken) = ranges(&half_hourly, 30);
        assert_eq!(digits, ["09:00–10:00", "11:00"]);
        assert_eq!(spoken, ["de la nouă până la zece", "la unsprezece"]);
        let quarterly: Vec<Slot> = ["09:00", "09:15", "09:45"].map(slot).to_vec();
        assert_eq!(ranges(&quarterly, 15).0, ["09:00–09:15", "09:45"]);
    }

    #[test]
    fn times_parse_with_or_without_a_leading_zero() {
        assert_eq!(parse_time("9:30").unwrap(), Time::constant(9, 30, 0, 0));
        assert_eq!(parse_time("10:00").unwrap(), Time::constant(10, 0, 0, 0));
        assert!(parse_time("zece").is_err());
        assert!(parse_date("2026-13-01").is_err());
    }
}
