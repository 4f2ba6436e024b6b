//! The booking tools the model calls: arguments parsed by the same types that describe them.
//!
//! Each tool's arguments are a Rust type; its JSON Schema for the model is derived from that
//! type ([`definitions`]), so the description and the parser cannot disagree. Answers are
//! compact JSON with Romanian labels and local times, made for the model to read aloud.

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

mod waitlist;

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

fn service_of<'a>(services: &'a [Service], name: &str) -> Result<&'a Service, ToolReply> {
    find_service(services, name).map_err(|e| match e {
        FindServiceError::Unknown { offered } => fail(
            ToolErrorCode::UnknownService,
            format!(
                "Nu avem serviciul „{}”. Oferim: {}.",
                name.trim(),
                speech::list(&offered, "și")
            ),
        ),
        FindServiceError::Ambiguous { candidates } => fail(
            ToolErrorCode::AmbiguousService,
            format!("Vă referiți la {}?", speech::list(&candidates, "sau")),
        ),
        _ => fail(ToolErrorCode::UnknownService, "Nu am găsit acest serviciu."),
    })
}

/// The most services one booking carries one after another.
const MAX_COMBINED: usize = 4;

/// The services a caller asked for, one after another with one stylist: one service, or a
/// combination ("vopsit și coafat", "tuns + barbă" when the salon has no such service).
struct Chosen<'a> {
    first: &'a Service,
    more: Vec<&'a Service>,
}

impl Chosen<'_> {
    fn more_ids(&self) -> Vec<salon_domain::ServiceId> {
        self.more.iter().map(|s| s.id.clone()).collect()
    }

    fn all(&self) -> impl Iterator<Item = &Service> {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    /// Its name as said: "Vopsit + Spălat și coafat".
    fn name(&self) -> String {
        self.all()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn price(&self) -> salon_domain::Price {
        salon_domain::Price {
            bani: self.all().map(|s| s.price.bani).sum(),
        }
    }
}

/// Finds the services a caller named: a service the salon has by that very name first (its
/// own "Tuns + barbă"), else, for names joined by "și" or "+", each of them in turn.
fn services_of<'a>(all: &'a [Service], name: &str) -> Result<Chosen<'a>, ToolReply> {
    let folded = salon_domain::text::fold(name);
    let exact = all.iter().any(|s| {
        s.active && (salon_domain::text::fold(&s.name) == folded || s.id.as_str() == name.trim())
    });
    let parts: Vec<&str> = folded.split(" + ").filter(|p| !p.is_empty()).collect();
    if exact || parts.len() < 2 {
        return Ok(Chosen {
            first: service_of(all, name)?,
            more: Vec::new(),
        });
    }
    if parts.len() > MAX_COMBINED {
        return Err(fail(
            ToolErrorCode::InvalidArguments,
            format!("Putem programa cel mult {MAX_COMBINED} servicii într-o singură vizită."),
        ));
    }
    let found = parts
        .iter()
        .map(|p| service_of(all, p))
        .collect::<Result<Vec<_>, _>>()?;
    let first = found[0];
    let more: Vec<&Service> = found[1..].to_vec();
    if more.iter().any(|s| s.id == first.id) || more.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(fail(
            ToolErrorCode::InvalidArguments,
            "Ați spus același serviciu de două ori. Ce servicii doriți?",
        ));
    }
    Ok(Chosen { first, more })
}

/// What a caller said about the stylist.
enum Asked {
    /// Nothing.
    Unsaid,
    /// Anyone will do ("oricine", "nu contează").
    Anyone,
    /// This stylist.
    Named(StaffId),
}

impl Asked {
    /// The stylist a booking or a check is limited to: none for anyone.
    fn named(&self) -> Option<&StaffId> {
        match self {
            Asked::Named(id) => Some(id),
            Asked::Unsaid | Asked::Anyone => None,
        }
    }
}

/// How callers (and the model for them) say that anyone will do, folded.
const ANYONE: &[&str] = &[
    "oricine",
    "orice stilist",
    "oricare",
    "nu conteaza",
    "indiferent",
    "anyone",
];

fn stylist_of(business: &Business, name: Option<&str>) -> Result<Asked, ToolReply> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(Asked::Unsaid);
    };
    if ANYONE.contains(&salon_domain::text::fold(name).as_str()) {
        return Ok(Asked::Anyone);
    }
    let staff: Vec<_> = business.active_staff().collect();
    match best_match(name, &staff, |s| [s.name.as_str(), s.id.as_str()]) {
        Match::Exact(s) | Match::Unique(s) => Ok(Asked::Named(s.id.clone())),
        _ => {
            let names: Vec<String> = staff.iter().map(|s| s.name.clone()).collect();
            Err(fail(
                ToolErrorCode::InvalidArguments,
                format!(
                    "Nu avem un stilist cu numele {name}. La noi lucrează {}.",
                    speech::list(&names, "și")
                ),
            ))
        }
    }
}

fn staff_name(business: &Business, id: &StaffId) -> String {
    business
        .staff_member(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// The phone the caller's appointments are under: the caller ID. Without one, nothing
/// about a client is found, listed, cancelled or moved on the strength of a number said.
fn caller(ctx: &CallContext) -> Result<PhoneE164, ToolReply> {
    ctx.caller.clone().ok_or_else(|| {
        fail(
            ToolErrorCode::CallerIdHidden,
            "Numărul dumneavoastră nu este afișat, așa că nu vă pot căuta programările. Vă pot face o programare nouă pe un număr pe care mi-l spuneți.",
        )
    })
}

/// The number a booking goes under: the caller ID, or the number a caller with a hidden
/// caller ID says (marked as spoken).
fn booking_phone(
    ctx: &CallContext,
    said: Option<&str>,
) -> Result<(PhoneE164, PhoneOrigin), ToolReply> {
    if let Some(p) = &ctx.caller {
        return Ok((p.clone(), PhoneOrigin::CallerId));
    }
    match said {
        Some(s) => PhoneE164::parse(s)
            .map(|p| (p, PhoneOrigin::Spoken))
            .map_err(|_| {
                fail(
                    ToolErrorCode::InvalidPhone,
                    "Numărul de telefon nu pare corect. Mi-l puteți spune din nou, cifră cu cifră?",
                )
            }),
        None => Err(fail(
            ToolErrorCode::InvalidPhone,
            "Numărul dumneavoastră nu este afișat. Pe ce număr de telefon să fac programarea?",
        )),
    }
}

fn alternative(s: &Slot) -> Alternative {
    Alternative {
        date: s.start.date().to_string(),
        time: s.label(),
        spoken: speech::slot(&s.start),
    }
}

/// Says why a time (if one was asked for) cannot be had, with what can be had instead.
fn unavailable(
    business: &Business,
    at: Option<DateTime>,
    reason: &Unavailable,
    alternatives: &[Slot],
) -> ToolReply {
    let why = match reason {
        Unavailable::InPast => "Ora aceasta a trecut deja.".to_owned(),
        Unavailable::TooSoon { earliest } => format!(
            "Avem nevoie de puțin timp să ne pregătim: cel mai devreme putem începe la ora {}.",
            speech::time(
                earliest
                    .to_zoned_datetime(business.time_zone.tz().clone())
                    .time()
            )
        ),
        Unavailable::TooFarAhead { last_day } => {
            format!("Facem programări doar până {}.", speech::date(*last_day))
        }
        Unavailable::Closed { date, reason } => match reason {
            ClosedReason::Weekday => {
                format!("{} salonul este închis.", capitalise(&speech::date(*date)))
            }
            ClosedReason::Holiday(name) => format!(
                "{} este sărbătoare, {name}, și salonul este închis.",
                capitalise(&speech::date(*date))
            ),
            ClosedReason::Closure(why) if why.trim().is_empty() => {
                format!("{} salonul este închis.", capitalise(&speech::date(*date)))
            }
            ClosedReason::Closure(why) => format!(
                "{} salonul este închis ({why}).",
                capitalise(&speech::date(*date))
            ),
        },
        Unavailable::OutsideHours { open, close } => format!(
            "În ziua aceea lucrăm între ora {} și ora {}, iar serviciul trebuie să se termine până la închidere.",
            speech::time(*open),
            speech::time(*close)
        ),
        Unavailable::DuringBreak { pause } => format!(
            "Între ora {} și ora {} este pauza de prânz.",
            speech::time(pause.start),
            speech::time(pause.end)
        ),
        Unavailable::OffGrid { grid } => {
            format!("Programările încep din {grid} în {grid} de minute.")
        }
        Unavailable::NoSuchTime => "Ora aceasta nu există în ziua schimbării orei.".to_owned(),
        // Without a time asked for (a day's check), there is no hour to name.
        Unavailable::Taken => match at {
            Some(at) => format!("Ora {} este deja ocupată.", speech::time(at.time())),
            None => "Ora aceasta este deja ocupată.".to_owned(),
        },
        Unavailable::UnknownStaff(_) => "Stilistul acesta nu mai primește programări.".to_owned(),
        Unavailable::NotQualified { staff, qualified } if qualified.is_empty() => format!(
            "{} nu face acest serviciu, și momentan nu îl face nimeni la noi.",
            staff_name(business, staff)
        ),
        Unavailable::NotQualified { staff, qualified } => {
            let names: Vec<String> = qualified.iter().map(|s| staff_name(business, s)).collect();
            format!(
                "{} nu face acest serviciu. Îl face {}.",
                staff_name(business, staff),
                speech::list(&names, "sau")
            )
        }
        Unavailable::NobodyQualified => {
            "Momentan nu avem pe nimeni care să facă acest serviciu.".to_owned()
        }
        Unavailable::StaffAway { staff, back } => format!(
            "{} nu este la salon în ziua aceea; revine {}.",
            staff_name(business, staff),
            speech::date(*back)
        ),
        Unavailable::StaffOff { staff } => {
            format!("{} nu lucrează în ziua aceea.", staff_name(business, staff))
        }
        Unavailable::StaffHours { staff, open, close } => format!(
            "În ziua aceea {} lucrează între ora {} și ora {}, iar serviciul trebuie să se termine până atunci.",
            staff_name(business, staff),
            speech::time(*open),
            speech::time(*close)
        ),
        Unavailable::NobodyWorks => {
            "În ziua aceea nu lucrează nimeni care face acest serviciu.".to_owned()
        }
        Unavailable::StaffFull { staff } => format!(
            "{} are deja toate programările pe care le poate primi în ziua aceea.",
            staff_name(business, staff)
        ),
        Unavailable::DayFull => {
            "În ziua aceea stiliștii au deja toate programările pe care le pot primi.".to_owned()
        }
        _ => "Ora aceasta nu este disponibilă.".to_owned(),
    };
    let offers: Vec<String> = alternatives
        .iter()
        .map(|s| {
            if at.is_some_and(|at| s.start.date() == at.date()) {
                format!("ora {}", speech::time(s.start.time()))
            } else {
                speech::slot(&s.start)
            }
        })
        .collect();
    let message = if offers.is_empty() {
        why
    } else {
        format!("{why} Vă pot oferi {}.", speech::list(&offers, "sau"))
    };
    ToolReply::Err(ToolError {
        code: ToolErrorCode::Unavailable,
        message,
        alternatives: alternatives.iter().map(alternative).collect(),
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn booking_error(business: &Business, at: Option<DateTime>, e: BookingError) -> ToolReply {
    match e {
        BookingError::Unavailable {
            reason,
            alternatives,
        } => unavailable(business, at, &reason, &alternatives),
        BookingError::NameRequired => {
            fail(ToolErrorCode::NameRequired, "Pe ce nume fac programarea?")
        }
        BookingError::NotFound => fail(
            ToolErrorCode::NotFound,
            "Nu am găsit această programare pe numărul dumneavoastră.",
        ),
        BookingError::Cancelled => fail(
            ToolErrorCode::Cancelled,
            "Programarea aceasta a fost deja anulată.",
        ),
        BookingError::UnknownService(_) | BookingError::ServiceInactive(_) => fail(
            ToolErrorCode::UnknownService,
            "Serviciul acesta nu mai este oferit.",
        ),
        BookingError::KeyReused(_) => {
            tracing::warn!("an idempotency key came back with a different booking");
            fail(
                ToolErrorCode::KeyReused,
                "Nu am putut înregistra cererea. Vă rog să confirmați din nou detaliile.",
            )
        }
        BookingError::ClientBusy(clash) => {
            let when = clash
                .start
                .to_zoned_datetime(business.time_zone.tz().clone());
            fail(
                ToolErrorCode::ClientBusy,
                format!(
                    "Pe acest nume aveți deja o programare {}, care se suprapune cu ora cerută. Alegeți, vă rog, altă oră.",
                    speech::slot(&when)
                ),
            )
        }
        BookingError::TooLong { max_minutes } => fail(
            ToolErrorCode::Unavailable,
            format!(
                "Serviciile acestea durează împreună mai mult de {}; le putem programa în vizite separate.",
                speech::duration(max_minutes)
            ),
        ),
        BookingError::TooLate { cutoff_minutes } => fail(
            ToolErrorCode::TooLate,
            format!(
                "Programările se pot anula sau muta prin telefon cu cel puțin {} înainte, așa că nu o pot schimba eu. Vă pot face legătura cu cineva de la salon, dacă doriți.",
                speech::duration(u16::try_from(cutoff_minutes).unwrap_or(u16::MAX))
            ),
        ),
        BookingError::UnknownBusiness(_) => fail(
            ToolErrorCode::Internal,
            "Ne pare rău, a apărut o problemă la salon.",
        ),
        other => store_down(other),
    }
}

fn appointment_json(business: &Business, a: &Appointment) -> Value {
    let start = a.start.to_zoned_datetime(business.time_zone.tz().clone());
    json!({
        "id_programare": a.id.as_str(),
        "serviciu": a.service_name,
        "data": start.date().to_string(),
        "ora": start.strftime("%H:%M").to_string(),
        "spus": speech::slot(&start),
        "stilist": staff_name(business, &a.staff),
    })
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

async fn services(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let _: NoArguments = parse(arguments)?;
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let list: Vec<Value> = all
        .iter()
        .filter(|s| s.active)
        .map(|s| json!({"nume": s.name, "durata": speech::duration(s.duration.get()), "pret": s.price.to_string()}))
        .collect();
    Ok(ToolReply::Ok(json!({ "servicii": list })))
}

async fn check(store: &Store, ctx: &CallContext, arguments: &str) -> Result<ToolReply, ToolReply> {
    let args: CheckAvailability = parse(arguments)?;
    let date = parse_date(args.date.as_str())?;
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let (service, more) = (chosen.first, chosen.more_ids());
    let asked = stylist_of(&ctx.business, text(&args.stylist))?;
    let stylist = asked.named().cloned();
    let b = &ctx.business;
    if let Some(time) = text(&args.time) {
        let at = date.to_datetime(parse_time(time)?);
        return match store
            .check_of(
                &b.id,
                &service.id,
                &more,
                at,
                stylist.as_ref(),
                Some(&ctx.call_sid),
                ctx.now,
            )
            .await
        {
            Ok(slot) => Ok(ToolReply::Ok(json!({
                "disponibil": true,
                "serviciu": chosen.name(),
                "data": date.to_string(),
                "ora": slot.label(),
                "spus": speech::slot(&slot.start),
                "stilisti_liberi": slot.staff.iter().map(|s| staff_name(b, s)).collect::<Vec<_>>(),
            }))),
            Err(e) => Err(booking_error(b, Some(at), e)),
        };
    }
    let slots = store
        .availability_of(
            &b.id,
            &service.id,
            &more,
            date,
            date,
            stylist.as_ref(),
            Some(&ctx.call_sid),
            ctx.now,
        )
        .await
        .map_err(|e| booking_error(b, None, e))?;
    if slots.is_empty() {
        // Nothing that day: say why (closed, past, full) and offer the next free times.
        let noon = date.to_datetime(Time::constant(12, 0, 0, 0));
        let (reason, alternatives) = match store
            .check_of(
                &b.id,
                &service.id,
                &more,
                noon,
                stylist.as_ref(),
                Some(&ctx.call_sid),
                ctx.now,
            )
            .await
        {
            Err(BookingError::Unavailable {
                reason,
                alternatives,
            }) => (reason, alternatives),
            Err(e) => return Err(booking_error(b, None, e)),
            Ok(_) => (Unavailable::Taken, Vec::new()),
        };
        let reply = match (&reason, day_status(b, date)) {
            (
                Unavailable::Closed { .. }
                | Unavailable::InPast
                | Unavailable::TooFarAhead { .. }
                | Unavailable::StaffAway { .. }
                | Unavailable::StaffOff { .. }
                | Unavailable::NobodyWorks
                | Unavailable::StaffFull { .. }
                | Unavailable::DayFull,
                _,
            ) => unavailable(b, None, &reason, &alternatives),
            (_, DayStatus::Open(_)) => {
                let offers: Vec<String> = alternatives
                    .iter()
                    .map(|s| speech::slot(&s.start))
                    .collect();
                let mut message = format!(
                    "{} nu mai avem locuri libere.",
                    capitalise(&speech::date(date))
                );
                if !offers.is_empty() {
                    message.push_str(&format!(" Vă pot oferi {}.", speech::list(&offers, "sau")));
                }
                ToolReply::Err(ToolError {
                    code: ToolErrorCode::Unavailable,
                    message,
                    alternatives: alternatives.iter().map(alternative).collect(),
                })
            }
            _ => unavailable(b, None, &reason, &alternatives),
        };
        return Err(reply);
    }
    let (intervals, spoken) = ranges(&slots, b.rules.slot_minutes);
    Ok(ToolReply::Ok(json!({
        "serviciu": chosen.name(),
        "data": date.to_string(),
        "spus": speech::date(date),
        "ore_libere": slots.iter().map(Slot::label).collect::<Vec<_>>(),
        "intervale": intervals,
        "intervale_spuse": spoken,
    })))
}

/// Holds the picked time for this call: the answer names the stylist and how long it is kept.
async fn hold(store: &Store, ctx: &CallContext, arguments: &str) -> Result<ToolReply, ToolReply> {
    let args: HoldTime = parse(arguments)?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let stylist = stylist_of(&ctx.business, text(&args.stylist))?
        .named()
        .cloned();
    let b = &ctx.business;
    let req = HoldRequest {
        business: b.id.clone(),
        service: chosen.first.id.clone(),
        more: chosen.more_ids(),
        start: at,
        staff: stylist,
        call: ctx.call_sid.clone(),
        client: ctx.caller.clone(),
    };
    let minutes = b.rules.hold_minutes;
    let held = store
        .hold(&req, minutes, ctx.now)
        .await
        .map_err(|e| booking_error(b, Some(at), e))?;
    Ok(ToolReply::Ok(json!({
        "tinut": true,
        "serviciu": chosen.name(),
        "data": held.start.date().to_string(),
        "ora": held.start.strftime("%H:%M").to_string(),
        "spus": speech::slot(&held.start),
        "stilist": staff_name(b, &held.staff),
        "minute": minutes,
    })))
}

/// Summarises free starts as ranges a person can say: consecutive starts on the salon's
/// grid join into one range. Returns each range as `09:00–12:30` (for the tools' arguments)
/// and as said aloud ("de la nouă până la douăsprezece și jumătate").
fn ranges(slots: &[Slot], grid_minutes: u16) -> (Vec<String>, Vec<String>) {
    let mut runs: Vec<(&Slot, &Slot)> = Vec::new();
    for s in slots {
        match runs.last_mut() {
            Some((_, last))
                if s.start.date() == last.start.date()
                    && s.start
                        .timestamp()
                        .duration_since(last.start.timestamp())
                        .as_mins()
                        <= i64::from(grid_minutes) =>
            {
                *last = s;
            }
            _ => runs.push((s, s)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            let digits = if a.start == b.start {
                a.label()
            } else {
                format!("{}–{}", a.label(), b.label())
            };
            (digits, speech::range(a.start.time(), b.start.time()))
        })
        .unzip()
}

async fn find_client(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    // A number said by a caller with a hidden caller ID is ignored: anyone could say it.
    let _: FindClient = parse(arguments)?;
    let phone = caller(ctx)?;
    let b = &ctx.business;
    let Some(client) = store.client(&b.id, &phone).await.map_err(store_down)? else {
        return Ok(ToolReply::Ok(json!({ "gasit": false })));
    };
    let upcoming = upcoming(store, ctx, &phone).await?;
    Ok(ToolReply::Ok(
        json!({ "gasit": true, "nume": client.name, "programari": upcoming }),
    ))
}

async fn upcoming(
    store: &Store,
    ctx: &CallContext,
    phone: &PhoneE164,
) -> Result<Vec<Value>, ToolReply> {
    let all = store
        .client_appointments(&ctx.business.id, phone)
        .await
        .map_err(store_down)?;
    Ok(all
        .iter()
        .filter(|a| a.is_booked() && a.start > ctx.now)
        .map(|a| appointment_json(&ctx.business, a))
        .collect())
}

async fn create(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: CreateAppointment = parse(arguments)?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let stylist = stylist_of(&ctx.business, text(&args.stylist))?
        .named()
        .cloned();
    let (phone, phone_origin) = booking_phone(ctx, text(&args.phone))?;
    let client_name = text(&args.client_name)
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            ClientName::parse(n).map_err(|e| {
                tracing::info!(error = %e, "a client name was refused");
                fail(
                    ToolErrorCode::InvalidName,
                    "Nu am înțeles bine numele. Mi-l puteți spune din nou, doar prenumele și numele?",
                )
            })
        })
        .transpose()?;
    let key = IdempotencyKey::parse(salon_wire::idempotency_key(ctx.call_sid.as_str(), call_id))
        .map_err(|_| {
            fail(
                ToolErrorCode::InvalidArguments,
                "Nu am putut înregistra cererea.",
            )
        })?;
    let req = BookingRequest {
        business: ctx.business.id.clone(),
        service: chosen.first.id.clone(),
        more: chosen.more_ids(),
        client: phone,
        phone_origin,
        client_name,
        start: at,
        staff: stylist,
        call_sid: Some(ctx.call_sid.clone()),
        key,
        // Recorded as it succeeds; its duration is the time up to the booking's write.
        tool_call: Some(succeeded(ctx, names::CREATE_VOICE_APPOINTMENT, call_id)),
    };
    let booking = store.book(&req, ctx.now).await.map_err(|e| match e {
        // Which appointment clashes is not for a caller whose number is not verified.
        BookingError::ClientBusy(_) if phone_origin == PhoneOrigin::Spoken => fail(
            ToolErrorCode::ClientBusy,
            "Pe acest nume există deja o programare care se suprapune cu ora cerută. Alegeți, vă rog, altă oră.",
        ),
        e => booking_error(&ctx.business, Some(at), e),
    })?;
    let a = &booking.appointment;
    let mut result = appointment_json(&ctx.business, a);
    if let Some(o) = result.as_object_mut() {
        o.insert("confirmat".into(), json!(true));
        o.insert("pe_numele".into(), json!(a.client_name));
        o.insert(
            "durata".into(),
            json!(speech::duration(
                u16::try_from(a.end.duration_since(a.start).as_mins()).unwrap_or(u16::MAX)
            )),
        );
        o.insert("pret".into(), json!(chosen.price().to_string()));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: Some(a.id.clone()),
        recorded: booking.recorded,
    })
}

async fn list(store: &Store, ctx: &CallContext, arguments: &str) -> Result<ToolReply, ToolReply> {
    let _: ListAppointments = parse(arguments)?;
    let phone = caller(ctx)?;
    Ok(ToolReply::Ok(
        json!({ "programari": upcoming(store, ctx, &phone).await? }),
    ))
}

fn appointment_id(s: &str) -> Result<AppointmentId, ToolReply> {
    AppointmentId::parse(s.trim()).map_err(|_| {
        fail(
            ToolErrorCode::NotFound,
            "Nu am găsit această programare pe numărul dumneavoastră.",
        )
    })
}

/// The record of a tool call that succeeds as its change is written, timed up to that write.
fn succeeded(ctx: &CallContext, name: &str, call_id: &str) -> ToolCallRecord {
    ToolCallRecord {
        name: name.to_owned(),
        call_id: call_id.to_owned(),
        error: None,
        at: ctx.now,
        millis: u32::try_from(ctx.started.elapsed().as_millis()).unwrap_or(u32::MAX),
    }
}

async fn cancel(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: CancelAppointment = parse(arguments)?;
    let id = appointment_id(args.appointment_id.as_str())?;
    let phone = caller(ctx)?;
    let record = succeeded(ctx, names::CANCEL_APPOINTMENT, call_id);
    let recording = Recording {
        call_sid: &ctx.call_sid,
        call: &record,
    };
    let (a, recorded) = store
        .cancel_recorded(
            &ctx.business.id,
            &id,
            Some(&phone),
            ctx.now,
            Some(recording),
        )
        .await
        .map_err(|e| booking_error(&ctx.business, None, e))?;
    let mut result = appointment_json(&ctx.business, &a);
    if let Some(o) = result.as_object_mut() {
        o.insert("anulat".into(), json!(true));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: None,
        recorded,
    })
}

async fn reschedule(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: RescheduleAppointment = parse(arguments)?;
    let id = appointment_id(args.appointment_id.as_str())?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let asked = stylist_of(&ctx.business, text(&args.stylist))?;
    let phone = caller(ctx)?;
    let record = succeeded(ctx, names::RESCHEDULE_APPOINTMENT, call_id);
    let recording = Recording {
        call_sid: &ctx.call_sid,
        call: &record,
    };
    let to = Move {
        start: at,
        stylist: match &asked {
            Asked::Unsaid => Stylist::Same,
            Asked::Anyone => Stylist::Anyone,
            Asked::Named(id) => Stylist::Named(id),
        },
    };
    let (a, recorded) = store
        .reschedule_recorded(
            &ctx.business.id,
            &id,
            Some(&phone),
            to,
            ctx.now,
            Some(recording),
        )
        .await
        .map_err(|e| booking_error(&ctx.business, Some(at), e))?;
    let mut result = appointment_json(&ctx.business, &a);
    if let Some(o) = result.as_object_mut() {
        o.insert("mutat".into(), json!(true));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: Some(a.id),
        recorded,
    })
}

/// Whether a person can take the call now: the salon has a phone for it and is open.
fn transfer(ctx: &CallContext, arguments: &str) -> Result<ToolReply, ToolReply> {
    let _: TransferToHuman = parse(arguments)?;
    let b = &ctx.business;
    if b.person_phone.is_some() && salon_domain::availability::open_at(b, ctx.now) {
        return Ok(ToolReply::Ok(json!({
            TRANSFER_FIELD: true,
            "spune": "Vă fac legătura cu salonul, vă rog să rămâneți la telefon.",
        })));
    }
    let why = match b.person_phone {
        Some(_) => "Salonul este închis acum și nu are cine să răspundă.",
        None => "La salon nu poate prelua nimeni apelul acum.",
    };
    Err(fail(
        ToolErrorCode::TransferUnavailable,
        format!(
            "{why} Spune-i apelantului că nu îi poți face legătura și oferă-te să notezi un mesaj: numele și ce dorește; salonul îl sună înapoi. Citește-i mesajul înapoi, apoi apelează take_message."
        ),
    ))
}

/// Keeps a message for the salon, once per tool call.
async fn take_message(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let args: TakeMessage = parse(arguments)?;
    let name = ClientName::parse(args.name.as_str()).map_err(|e| {
        tracing::info!(error = %e, "a name in a message was refused");
        fail(
            ToolErrorCode::InvalidName,
            "Nu am înțeles bine numele. Mi-l puteți spune din nou?",
        )
    })?;
    let (phone, _) = booking_phone(ctx, text(&args.phone)).map_err(|_| {
        fail(
            ToolErrorCode::InvalidPhone,
            "Numărul dumneavoastră nu este afișat. La ce număr să vă sune salonul?",
        )
    })?;
    let key = IdempotencyKey::parse(salon_wire::idempotency_key(ctx.call_sid.as_str(), call_id))
        .map_err(|_| {
            fail(
                ToolErrorCode::InvalidArguments,
                "Nu am putut înregistra mesajul.",
            )
        })?;
    let message = salon_domain::message::Message {
        id: key.to_string(),
        business: ctx.business.id.clone(),
        call_sid: ctx.call_sid.clone(),
        phone: Some(phone),
        name: Some(name.as_str().to_owned()),
        text: Some(args.message.as_str().to_owned()),
        recording: None,
        at: ctx.now,
        read: false,
    };
    store.leave_message(&message).await.map_err(store_down)?;
    Ok(ToolReply::Ok(json!({
        "notat": true,
        "spune": "Am notat mesajul. Salonul vă sună înapoi cât de curând.",
    })))
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
